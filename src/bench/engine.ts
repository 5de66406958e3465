/**
 * The benchmark engine behind `kestrel bench` and targets/browser/bench.html. It has no
 * Node dependency: the CLI and the browser page hand in the model bytes, inputs, rivals
 * and environment, and get back a report shaped as the versioned JSON schema
 * (docs/bench-schema.md).
 *
 * A *target* is something that can run the model: a Kestrel backend (simd, scalar; an
 * ahead-of-time compiled module later) or a rival engine. Every target is measured by the
 * same loop: first inference, warm-up, then timed runs until both `runs` and `minSecs`
 * are reached or `maxSecs` has passed.
 */
import { KestrelError } from '../errors.js';
import { loadModel, type LoadOptions, type Model, type TensorInfo, type TypedArray } from '../runtime/model.js';
import { loadCompiled } from '../runtime/compiled.js';
import { VERSION } from '../version.js';
import { crc32Hex } from './crc32.js';
import { histogram, latencyStats, type Histogram, type LatencyStats } from './stats.js';

/** Version of the report's JSON schema; bumped on any incompatible change. */
export const BENCH_SCHEMA_VERSION = 1;

/** Kestrel backends the benchmark knows: the kernel builds and ahead-of-time compiled modules. */
export type BenchBackend = 'simd' | 'scalar' | 'relaxed' | 'compiled';
export const BENCH_BACKENDS: BenchBackend[] = ['simd', 'scalar', 'relaxed', 'compiled'];

export interface BenchSettings {
  warmup: number;
  runs: number;
  min_secs: number;
  max_secs: number;
  seed: number;
  profile: boolean;
}

export const DEFAULT_SETTINGS: BenchSettings = { warmup: 10, runs: 50, min_secs: 1, max_secs: 60, seed: 1, profile: false };

export interface Progress {
  /** 'kestrel/simd', 'litert', … */
  target: string;
  phase: 'warmup' | 'timed' | 'profile';
  /** 0…1 of this phase (timed: the lesser of the runs and min-secs fractions, or of max-secs if more). */
  fraction: number;
  runs: number;
}

/** Called about every 100 ms while measuring; a returned promise is awaited outside any timed run. */
export type ProgressFn = (p: Progress) => void | Promise<void>;

/** Something that runs the model: a Kestrel backend or a rival engine. */
export interface BenchTarget {
  /** Shown in reports: 'kestrel/simd', 'litert', … */
  label: string;
  /** Load + prepare time in ms. */
  initMs: number;
  /** Runs one inference; may be async (then the await is part of the timed run). */
  run(inputs: TypedArray[]): TypedArray[] | Promise<TypedArray[]>;
  dispose(): void;
}

export interface OpProfileEntry {
  index: number;
  opcode: string;
  kernel: number;
  macs: number;
  ms: number;
  share: number;
}

export interface OpTypeProfileEntry {
  opcode: string;
  count: number;
  macs: number;
  ms: number;
  share: number;
}

export interface ProfileReport {
  /** Interleaved passes: each one whole `run` and one op-by-op pass. */
  passes: number;
  /** Sum of the per-op times, ms (each op's mean over the faster half of the passes by op-by-op total). */
  total_ms: number;
  /** Mean of the faster half of the whole runs timed in the same passes, ms. */
  run_ms: number;
  /** Outputs of an op-by-op pass from fresh state equal those of the first inference. */
  outputs_unchanged: boolean;
  ops: OpProfileEntry[];
  /** Per op type, slowest first. */
  by_type: OpTypeProfileEntry[];
}

export interface Measurement extends LatencyStats {
  init_ms: number;
  first_ms: number;
  warmup_runs: number;
  /** Mean of the warm-up runs (after the first inference); null when there were none. */
  warmup_mean_ms: number | null;
  /** Seconds spent in timed runs. */
  timed_secs: number;
  /** Why timing stopped: 'runs+min_secs' reached, or 'max_secs'. */
  stop: 'runs+min_secs' | 'max_secs';
  throughput_per_s: number;
  histogram: Histogram;
  /** CRC-32 of the first inference's output bytes, outputs in order, 8 hex digits. */
  output_crc32: string;
}

export interface BackendResult extends Measurement {
  backend: BenchBackend;
  /** Backend 'relaxed': how its convolutions use the relaxed dot product (Model.relaxedDot); null otherwise. */
  relaxed_dot: 'split' | 'unsigned' | 'signed' | null;
  threads: number;
  arena_bytes: number;
  wasm_memory_bytes: number;
  macs: number;
  gmacs_per_s: number;
  profile: ProfileReport | null;
}

export interface RivalResult extends Partial<Measurement> {
  engine: string;
  name: string;
  status: 'ok' | 'unavailable' | 'error';
  version?: string | null;
  /** Why a rival is unavailable or failed, or notes on how it ran. */
  reason?: string;
  notes?: string[];
  /** Largest |rival − Kestrel| over all output elements (same inputs). */
  max_abs_diff?: number | null;
  /** Kestrel p50 / rival p50 (below 1: Kestrel is faster). */
  ratio_p50?: number | null;
}

/** A rival engine offered by the host (the CLI in Node; none in the browser yet). */
export interface Rival {
  engine: string;
  name: string;
  /** Loads the rival and the model; throws RivalUnavailable when it is not installed or cannot run this model. */
  load(bytes: Uint8Array, inputs: TensorInfo[]): Promise<BenchTarget & { version?: string; notes?: string[] }>;
}

export class RivalUnavailable extends Error {}

export interface InputSource {
  data: TypedArray;
  /** 'random(seed 1)' or the file name. */
  source: string;
}

export interface BenchRequest {
  bytes: Uint8Array;
  /** Path or name shown in reports. */
  model: string;
  backends: BenchBackend[];
  threads?: number;
  settings?: Partial<BenchSettings>;
  /** Makes the inputs (in model order) once the model's inputs are known: files or seeded random data. */
  makeInputs: (inputs: TensorInfo[]) => InputSource[];
  rivals?: Rival[];
  /** Names of rivals asked for that the host cannot offer, with the reason. */
  unavailable?: { engine: string; name: string; reason: string }[];
  environment: Record<string, unknown>;
  loadOptions?: LoadOptions;
  onProgress?: ProgressFn;
  now?: () => number;
  warnings?: string[];
  /**
   * Compiles .tflite bytes into a standalone module for the 'compiled' backend (the CLI
   * passes kestrel compile here; hosts without the compiler leave it out).
   */
  compile?: (bytes: Uint8Array) => Promise<Uint8Array>;
}

export interface BenchReport extends Omit<BackendResult, 'backend'> {
  schema_version: number;
  generator: string;
  kestrel_version: string;
  created: string;
  model: string;
  model_format: 'tflite' | 'wasm';
  model_size_bytes: number;
  ops: number;
  inputs: { name: string; dtype: string; shape: number[]; source: string }[];
  outputs: { name: string; dtype: string; shape: number[] }[];
  backend: BenchBackend;
  settings: BenchSettings;
  results: BackendResult[];
  /** With several backends: whether their output CRCs are equal. */
  backends_agree: boolean | null;
  compare: RivalResult[];
  environment: Record<string, unknown>;
  warnings: string[];
}

/** True when the bytes look like a WebAssembly module rather than a TFLite flatbuffer. */
export function isWasmModule(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}

export function compiledNotAvailable(what: string): KestrelError {
  return new KestrelError('E_USAGE', `${what}: measuring a compiled module of a .tflite model needs the compiler (kestrel compile and the assemblyscript package); compile it with kestrel compile and benchmark the .wasm`);
}

export function threadsNotSupported(n: number): KestrelError {
  return new KestrelError('E_USAGE', `--threads ${n}: a compiled module runs on one thread; use --threads 1 or --backend simd|scalar`);
}

/** Checks a request before anything is loaded; throws one clear KestrelError. */
export function validateRequest(req: Pick<BenchRequest, 'bytes' | 'model' | 'backends' | 'threads' | 'compile'>): void {
  if (isWasmModule(req.bytes) && req.backends.some((b) => b !== 'compiled')) {
    throw new KestrelError('E_USAGE', `${req.model}: a compiled module runs its own built-in kernels; measure it with --backend compiled (or auto)`);
  }
  if (!isWasmModule(req.bytes) && req.backends.includes('compiled') && !req.compile) throw compiledNotAvailable('--backend compiled');
  const threads = req.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new KestrelError('E_USAGE', `--threads must be a whole number ≥ 1 (got ${threads})`);
  if (threads > 1 && (req.backends.includes('compiled') || isWasmModule(req.bytes))) throw threadsNotSupported(threads);
}

const nowDefault = () => performance.now();

/** First inference, warm-up and timed runs of one target. */
export async function measure(target: BenchTarget, inputs: TypedArray[], s: BenchSettings, onProgress?: ProgressFn, now: () => number = nowDefault): Promise<Measurement & { firstOutputs: TypedArray[] }> {
  let t0 = now();
  const firstOutputs = await target.run(inputs);
  const first = now() - t0;
  let lastReport = now();
  const report = async (phase: Progress['phase'], fraction: number, runs: number, force = false) => {
    if (!onProgress) return;
    const t = now();
    if (!force && t - lastReport < 100) return;
    lastReport = t;
    await onProgress({ target: target.label, phase, fraction: Math.min(1, fraction), runs });
  };
  let wsum = 0;
  const warmStart = now();
  let warmupDone = 0;
  for (; warmupDone < s.warmup; warmupDone++) {
    if (now() - warmStart > s.max_secs * 1000) break;
    t0 = now();
    await target.run(inputs);
    wsum += now() - t0;
    await report('warmup', (warmupDone + 1) / s.warmup, warmupDone + 1);
  }
  let samples = new Float64Array(Math.max(16, s.runs));
  let n = 0;
  const minMs = s.min_secs * 1000, maxMs = s.max_secs * 1000;
  const start = now();
  let timed = 0;
  let stop: Measurement['stop'] = 'runs+min_secs';
  await report('timed', 0, 0, true);
  const startTimed = now();
  for (;;) {
    if (n >= s.runs && timed >= minMs) break;
    if (n >= 1 && now() - start >= maxMs) { stop = 'max_secs'; break; }
    t0 = now();
    await target.run(inputs);
    const dt = now() - t0;
    if (n === samples.length) { const g = new Float64Array(n * 2); g.set(samples); samples = g; }
    samples[n++] = dt;
    timed += dt;
    // Done when both minimums are reached, or at max_secs, whichever comes first.
    const both = Math.min(n / Math.max(1, s.runs), minMs > 0 ? timed / minMs : 1);
    await report('timed', Math.max(both, maxMs > 0 ? (now() - start) / maxMs : 0), n);
  }
  await report('timed', 1, n, true);
  const used = samples.subarray(0, n);
  const st = latencyStats(used);
  return {
    init_ms: target.initMs,
    first_ms: first,
    warmup_runs: warmupDone,
    warmup_mean_ms: warmupDone ? wsum / warmupDone : null,
    ...st,
    timed_secs: (now() - startTimed) / 1000,
    stop,
    throughput_per_s: 1000 / st.mean_ms,
    histogram: histogram(used),
    output_crc32: crc32Hex(firstOutputs),
    firstOutputs,
  };
}

/** Per-op profile: interleaved whole runs and op-by-op passes; see ProfileReport. */
/** Share of the profile passes kept (the fastest by op-by-op total); see profileModel. */
const KEEP = 0.5;

export async function profileModel(model: Model, inputs: TypedArray[], s: BenchSettings, firstCrc: string, onProgress?: ProgressFn, label = 'kestrel', now: () => number = nowDefault): Promise<ProfileReport> {
  model.resetState();
  const check = model.profile(inputs, now);
  const outputsUnchanged = crc32Hex(check.outputs) === firstCrc;
  const ops = model.plan.ops;
  // At least 10 passes, at most 1000, for max(1 s, min_secs) (capped by max_secs).
  const maxPasses = 1000;
  const limitMs = Math.min(Math.max(1000, s.min_secs * 1000), s.max_secs * 1000);
  const perOp = ops.map(() => new Float64Array(maxPasses));
  const whole = new Float64Array(maxPasses);
  const start = now();
  let last = start;
  let passes = 0;
  while (passes < maxPasses) {
    if (passes >= 10 && now() - start > limitMs) break;
    const t0 = now();
    model.run(inputs);
    whole[passes] = now() - t0;
    const { opMs } = model.profile(inputs, now);
    for (let i = 0; i < ops.length; i++) perOp[i]![passes] = opMs[i]!;
    passes++;
    if (onProgress && now() - last >= 100) {
      last = now();
      await onProgress({ target: label, phase: 'profile', fraction: passes / maxPasses, runs: passes });
    }
  }
  model.resetState();
  // Passes another process interrupted would skew the figures: keep the faster half of
  // the passes by op-by-op total (and likewise the faster half of the whole runs), and
  // average over those. Means keep the per-op times additive.
  const keep = Math.max(1, Math.ceil(passes * KEEP));
  const passTotal = Array.from({ length: passes }, (_, j) => perOp.reduce((a, op) => a + op[j]!, 0));
  const kept = passTotal.map((t, j) => [t, j] as const).sort((a, b) => a[0] - b[0]).slice(0, keep).map(([, j]) => j);
  const mean = perOp.map((a) => kept.reduce((acc, j) => acc + a[j]!, 0) / keep);
  const runMs = whole.subarray(0, passes).sort().subarray(0, keep).reduce((a, b) => a + b, 0) / keep;
  const total = mean.reduce((a, b) => a + b, 0);
  const entries: OpProfileEntry[] = ops.map((p, i) => ({
    index: p.op.index, opcode: p.op.opcode, kernel: p.kernel, macs: p.macs, ms: mean[i]!, share: total > 0 ? mean[i]! / total : 0,
  }));
  const types = new Map<string, OpTypeProfileEntry>();
  for (const e of entries) {
    const t = types.get(e.opcode) ?? { opcode: e.opcode, count: 0, macs: 0, ms: 0, share: 0 };
    t.count++; t.macs += e.macs; t.ms += e.ms; t.share += e.share;
    types.set(e.opcode, t);
  }
  return {
    passes, total_ms: total, run_ms: runMs, outputs_unchanged: outputsUnchanged,
    ops: entries, by_type: [...types.values()].sort((a, b) => b.ms - a.ms),
  };
}

function maxAbsDiff(a: TypedArray[], b: TypedArray[]): number | null {
  if (a.length !== b.length) return null;
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!, y = b[k]!;
    if (x.length !== y.length) return null;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]) - Number(y[i])));
  }
  return m;
}

const message = (e: unknown) => String((e as Error)?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');

/** A loaded Kestrel model of either kind, with what the report needs to describe it. */
interface KestrelLoaded {
  target: BenchTarget;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  ops: number;
  arenaBytes: number;
  wasmMemoryBytes: number;
  macs: number;
  /** The interpreter's Model, which can be profiled op by op; null for compiled modules. */
  model: Model | null;
  relaxedDot: 'split' | 'unsigned' | 'signed' | null;
}

async function kestrelTarget(req: BenchRequest, backend: BenchBackend, now: () => number): Promise<KestrelLoaded> {
  const { bytes, model: name, loadOptions } = req;
  const t0 = now();
  if (backend === 'compiled') {
    const wasm = isWasmModule(bytes) ? bytes : await req.compile!(bytes);
    const m = await loadCompiled(wasm, { name });
    const initMs = now() - t0;
    return {
      target: { label: 'kestrel/compiled', initMs, run: (x) => m.run(x), dispose: () => m.dispose() },
      inputs: m.inputs, outputs: m.outputs, ops: m.opCount, arenaBytes: m.arenaBytes, wasmMemoryBytes: m.wasmMemoryBytes, macs: m.macs, model: null, relaxedDot: null,
    };
  }
  const model = await loadModel(bytes, { ...loadOptions, backend, name, ...(req.threads && req.threads > 1 ? { threads: req.threads } : {}) });
  const initMs = now() - t0;
  return {
    target: { label: `kestrel/${backend}`, initMs, run: (x) => model.run(x), dispose: () => model.dispose() },
    inputs: model.inputs, outputs: model.outputs, ops: model.plan.ops.length, arenaBytes: model.arenaBytes,
    wasmMemoryBytes: model.wasmMemoryBytes, macs: model.macs, model, relaxedDot: model.relaxedDot,
  };
}

/** Runs the whole benchmark described by `req`. */
export async function runBenchmark(req: BenchRequest): Promise<BenchReport> {
  validateRequest(req);
  const now = req.now ?? nowDefault;
  const s: BenchSettings = { ...DEFAULT_SETTINGS, ...req.settings };
  const threads = req.threads ?? 1;
  const results: BackendResult[] = [];
  let inputs: InputSource[] | null = null;
  let inputInfos: TensorInfo[] = [];
  let firstOutputs: TypedArray[] | null = null;
  let meta: Pick<BenchReport, 'ops' | 'inputs' | 'outputs'> | null = null;
  for (const backend of req.backends) {
    const loaded = await kestrelTarget(req, backend, now);
    const { target, model } = loaded;
    try {
      if (!inputs) {
        inputInfos = loaded.inputs;
        inputs = req.makeInputs(loaded.inputs);
        meta = {
          ops: loaded.ops,
          inputs: loaded.inputs.map((t, i) => ({ name: t.name, dtype: t.dtype, shape: t.shape, source: inputs![i]!.source })),
          outputs: loaded.outputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
        };
      }
      const data = inputs.map((x) => x.data);
      const m = await measure(target, data, s, req.onProgress, now);
      firstOutputs ??= m.firstOutputs;
      const { firstOutputs: _, ...rest } = m;
      // A compiled module runs the graph in one exported call, so it has no per-op profile.
      const profile = s.profile && model ? await profileModel(model, data, s, m.output_crc32, req.onProgress, target.label, now) : null;
      results.push({
        backend, relaxed_dot: loaded.relaxedDot, threads, ...rest,
        arena_bytes: loaded.arenaBytes, wasm_memory_bytes: loaded.wasmMemoryBytes, macs: loaded.macs,
        gmacs_per_s: loaded.macs / (rest.mean_ms * 1e6),
        profile,
      });
    } finally {
      target.dispose();
    }
  }
  const primary = results[0]!;
  const compare: RivalResult[] = [];
  for (const u of req.unavailable ?? []) compare.push({ engine: u.engine, name: u.name, status: 'unavailable', reason: u.reason });
  for (const rival of req.rivals ?? []) {
    let target: (BenchTarget & { version?: string; notes?: string[] }) | null = null;
    try {
      target = await rival.load(req.bytes, inputInfos);
    } catch (e) {
      compare.push({ engine: rival.engine, name: rival.name, status: e instanceof RivalUnavailable ? 'unavailable' : 'error', reason: message(e) });
      continue;
    }
    try {
      const m = await measure(target, inputs!.map((x) => x.data), s, req.onProgress, now);
      const { firstOutputs: outs, ...rest } = m;
      compare.push({
        engine: rival.engine, name: rival.name, status: 'ok', version: target.version ?? null, notes: target.notes ?? [], ...rest,
        max_abs_diff: firstOutputs ? maxAbsDiff(firstOutputs, outs) : null,
        ratio_p50: primary.p50_ms / rest.p50_ms,
      });
    } catch (e) {
      compare.push({ engine: rival.engine, name: rival.name, status: 'error', version: target.version ?? null, reason: message(e) });
    } finally {
      try { target.dispose(); } catch { /* a rival failing to free is not a result */ }
    }
  }
  const crcs = new Set(results.map((r) => r.output_crc32));
  return {
    schema_version: BENCH_SCHEMA_VERSION,
    generator: 'kestrel bench',
    kestrel_version: VERSION,
    created: new Date().toISOString(),
    model: req.model,
    model_format: isWasmModule(req.bytes) ? 'wasm' : 'tflite',
    model_size_bytes: req.bytes.byteLength,
    ...meta!,
    settings: s,
    ...primary,
    results,
    backends_agree: results.length > 1 ? crcs.size === 1 : null,
    compare,
    environment: { ...req.environment, threads_used: threads },
    warnings: req.warnings ?? [],
  };
}
