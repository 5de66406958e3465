/**
 * `kestrel bench MODEL [options]` — what `benchmark_model` is for TFLite: init, first
 * inference, warm-up and steady-state latency, memory, MACs, an output CRC, the
 * environment, optionally a per-op profile, rival engines and an HTML report. The
 * measuring is done by src/bench/engine.ts (shared with the browser page).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KestrelError } from '../errors.js';
import { hasSimd, relaxedSupport } from '../runtime/wasm.js';
import type { RelaxedDotOption } from '../runtime/relaxed-dot.js';
import {
  isWasmModule, runBenchmark,
  type BenchBackend, type InputSource, type Progress, type Rival,
} from '../bench/engine.js';
import { formatReport } from '../bench/format.js';
import { reportHtml } from '../bench/html.js';
import { randomInputs } from '../bench/inputs.js';
import { nodeEnvironment } from '../bench/node-env.js';
import { applyPinning, parseCpuList } from '../bench/pin.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';
import { readTensorFile } from './io.js';
import { progressBar } from './progress.js';

const SPEC: Record<string, FlagSpec> = {
  backend: { type: 'string', help: 'kernels to measure (all = every available backend; relaxed = the relaxed-SIMD build, where the engine runs it)', default: 'auto', choices: ['auto', 'simd', 'scalar', 'relaxed', 'compiled', 'all'] },
  'relaxed-dot': { type: 'string', help: 'with --backend relaxed: how convolutions use the relaxed dot product (auto = measured on this engine; see relaxedDot in README.md)', default: 'auto', choices: ['auto', 'split', 'unsigned', 'signed'] },
  threads: { type: 'string', help: 'inference threads (docs/threads.md; the per-op profile runs split ops on all of them)', default: '1' },
  warmup: { type: 'string', help: 'untimed warm-up runs after the first inference', default: '10' },
  runs: { type: 'string', help: 'minimum timed runs', default: '50' },
  'min-secs': { type: 'string', help: 'minimum seconds of timed runs', default: '1' },
  'max-secs': { type: 'string', help: 'stop timing after this many seconds', default: '60' },
  input: { type: 'list', help: 'raw tensor file for the next model input (default: seeded random inputs)' },
  seed: { type: 'string', help: 'seed of the random inputs', default: '1' },
  json: { type: 'bool', help: 'print the report as JSON (schema: docs/bench-schema.md)' },
  report: { type: 'string', help: 'write a self-contained HTML report (implies --profile)' },
  force: { type: 'bool', help: 'overwrite an existing --report file' },
  profile: { type: 'bool', help: 'time every op (per op and per op type)' },
  compare: { type: 'string', help: 'also measure rivals, comma-separated: litert, tfjs' },
  pin: { type: 'string', help: 'Linux: pin the process to these CPUs (e.g. 0 or 2-3)' },
  priority: { type: 'string', help: 'Linux: nice value for the benchmark (-20…19; negative needs privileges)' },
  help: { type: 'bool', help: 'show this help' },
};

const RIVALS = ['litert', 'tfjs'];

function number(flags: Record<string, unknown>, name: string, min: number, integer: boolean): number {
  const raw = String(flags[name]);
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new KestrelError('E_USAGE', `kestrel bench: --${name} needs ${integer ? 'a whole number' : 'a number'} ≥ ${min} (got '${raw}')`);
  }
  return n;
}

function tfjsUnavailableReason(): string {
  let installed = true;
  try { createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'); } catch { installed = false; }
  const why = 'TensorFlow.js runs float32 LayersModels, not int8 .tflite files, so it has no counterpart of this model here (`kestrel demo` times a model trained by Kestrel on both)';
  return installed ? why : `@tensorflow/tfjs-backend-wasm is not installed, and ${why}`;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, SPEC, 1, 'bench');
  if (flags.help) {
    console.log(helpText('kestrel bench MODEL.tflite [--backend simd|scalar|relaxed|all] [--runs N] [--min-secs S] [--input FILE …] [--json] [--report FILE.html] [--profile] [--compare litert,tfjs] [--pin CPUS] [--priority N]',
      'Measures a model the way TFLite\'s benchmark_model does: init (load + prepare), first inference, warm-up, steady-state min/mean/p50/p90/p99/max/stddev, throughput, arena and wasm memory, MACs and GMAC/s, a CRC32 of the outputs, and the environment. Percentiles are nearest-rank. Timing stops when both --runs and --min-secs are reached, or at --max-secs.', SPEC));
    return 0;
  }
  const threads = number(flags, 'threads', 1, true);
  const backendFlag = flags.backend as string;
  const settings = {
    warmup: number(flags, 'warmup', 0, true),
    runs: number(flags, 'runs', 1, true),
    min_secs: number(flags, 'min-secs', 0, false),
    max_secs: number(flags, 'max-secs', 0, false),
    seed: number(flags, 'seed', 0, true),
    profile: !!flags.profile || flags.report !== undefined,
  };
  const compare = flags.compare === undefined ? [] : String(flags.compare).split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of compare) if (!RIVALS.includes(c)) throw new KestrelError('E_USAGE', `kestrel bench: --compare: unknown engine '${c}' (known: ${RIVALS.join(', ')})`);
  const pin = flags.pin !== undefined ? parseCpuList(String(flags.pin)) : null;
  const priority = flags.priority !== undefined ? Number(flags.priority) : null;
  if (priority != null && (!Number.isInteger(priority) || priority < -20 || priority > 19)) {
    throw new KestrelError('E_USAGE', `kestrel bench: --priority needs a whole number from -20 to 19 (got '${flags.priority}')`);
  }

  const modelPath = positional[0];
  if (!modelPath) throw new KestrelError('E_USAGE', 'kestrel bench: missing MODEL (a .tflite file or a module from kestrel compile)');
  if (!existsSync(modelPath)) throw new KestrelError('E_IO', `${modelPath}: no such file`);
  if (statSync(modelPath).isDirectory()) throw new KestrelError('E_IO', `${modelPath}: is a folder, not a model file`);
  const bytes = new Uint8Array(readFileSync(modelPath));
  if (flags.report !== undefined && existsSync(String(flags.report)) && !flags.force) {
    throw new KestrelError('E_IO', `${flags.report}: already exists (use --force to overwrite)`);
  }
  const isCompiled = isWasmModule(bytes);

  const warnings: string[] = [];
  const pinned = await applyPinning(pin, priority);
  warnings.push(...pinned.warnings);
  for (const w of pinned.warnings) console.error(`kestrel bench: warning: ${w}`);

  // The compiler (for --backend compiled on a .tflite) loads only when it is needed.
  const compile = async (b: Uint8Array): Promise<Uint8Array> => {
    const { compileModel } = await import('../compile/index.js');
    return (await compileModel(b, { name: modelPath, scalar: !hasSimd() })).wasm;
  };
  let backends: BenchBackend[];
  if (isCompiled) {
    if (backendFlag === 'simd' || backendFlag === 'scalar' || backendFlag === 'relaxed') {
      throw new KestrelError('E_USAGE', `${modelPath}: a compiled module runs its own built-in kernels; measure it with --backend compiled (or auto)`);
    }
    backends = ['compiled'];
  } else if (backendFlag === 'all') {
    backends = hasSimd() ? ['simd', 'scalar', ...(relaxedSupport().ok ? ['relaxed' as const] : []), 'compiled'] : ['scalar', 'compiled'];
    if (!hasSimd()) warnings.push('--backend all: this engine has no wasm SIMD; measured scalar and compiled');
  } else if (backendFlag === 'auto') {
    backends = [hasSimd() ? 'simd' : 'scalar'];
  } else {
    backends = [backendFlag as BenchBackend];
  }
  if (flags['relaxed-dot'] !== 'auto' && !backends.includes('relaxed')) warnings.push(`--relaxed-dot ${flags['relaxed-dot']} applies to --backend relaxed only; ignored`);
  if (settings.profile && backends.includes('compiled')) warnings.push('the compiled module runs the whole graph in one call, so it has no per-op profile');

  const files = flags.input as string[];
  const makeInputs = (infos: Parameters<typeof randomInputs>[0]): InputSource[] => {
    if (!files.length) return randomInputs(infos, settings.seed).map((data) => ({ data, source: `random(seed ${settings.seed})` }));
    if (files.length !== infos.length) {
      throw new KestrelError('E_INPUT_COUNT', `${modelPath}: model has ${infos.length} input(s) (${infos.map((t) => `'${t.name}' ${t.dtype}[${t.shape}]`).join(', ')}), got ${files.length} --input file(s)`);
    }
    return infos.map((t, k) => ({ data: readTensorFile(files[k]!, t, k), source: files[k]! }));
  };

  const rivals: Rival[] = [];
  const unavailable: { engine: string; name: string; reason: string }[] = [];
  if (compare.includes('litert')) {
    const { liteRtRival } = await import('../bench/litert.js');
    rivals.push(liteRtRival());
  }
  if (compare.includes('tfjs')) unavailable.push({ engine: 'tfjs', name: 'TensorFlow.js', reason: tfjsUnavailableReason() });

  const bar = !flags.json && process.stderr.isTTY ? progressBar() : null;
  let report;
  try {
    report = await runBenchmark({
      bytes, model: modelPath, backends, threads, settings, makeInputs, rivals, unavailable, warnings, compile,
      loadOptions: { relaxedDot: flags['relaxed-dot'] as RelaxedDotOption },
      environment: { ...nodeEnvironment(), pinned_cpus: pinned.pinned_cpus, priority: pinned.priority, cpus_allowed: pinned.cpus_allowed },
      onProgress: bar ? (p: Progress) => bar.update(p.fraction, `${p.target} ${p.phase}`, `${p.runs} runs`) : undefined,
    });
  } finally {
    bar?.done();
  }
  if (flags.report !== undefined) {
    const file = String(flags.report);
    try {
      writeFileSync(file, reportHtml(report));
    } catch (e) {
      throw new KestrelError('E_IO', `${file}: cannot write the report: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(formatReport(report));
    if (flags.report !== undefined) console.log(`HTML report: ${flags.report}`);
  }
  const bad = report.backends_agree === false || report.results.some((r) => r.profile && !r.profile.outputs_unchanged);
  return bad ? 1 : 0;
}
