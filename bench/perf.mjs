#!/usr/bin/env node
// The performance table: Kestrel vs LiteRT.js (XNNPACK, one thread) on the benchmark set
// (public real models, every recipe's int8 model, MobileNet v1 0.25 96 and v2 1.0 224 built
// by bench/lib/models.mjs), with latency, the ratio, GMAC/s against the wasm SIMD roof
// (bench/roof) and init time. In Node by default; --browser runs the same measurement in
// headless Chromium against LiteRT.js's relaxed-SIMD build. See bench/README.md.
//
// Usage: node bench/perf.mjs [--models a,b] [--min-secs S] [--rounds N] [--json] [--browser]
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readArgs, usageError } from './lib/args.mjs';
import { fmtMs, litertEngine, maxAbsDiff, measureModel, rowFigures, seededInputs, tableLines } from './lib/perf-core.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const REAL = join(ROOT, 'tests', 'fixtures', 'conformance', 'real');
const EXTRA = join(ROOT, 'tests', 'fixtures', 'reference-extra', 'real');

/** The benchmark set, in table order: name -> where its bytes come from. */
export const SET = [
  { name: 'hello_world', file: join(REAL, 'hello_world_int8_random_0', 'model.tflite') },
  { name: 'micro_speech', file: join(REAL, 'micro_speech_quantized_random_0', 'model.tflite') },
  { name: 'person_detect', file: join(REAL, 'person_detect_random_0', 'model.tflite') },
  { name: 'mobilenet_v2_224_real', file: join(EXTRA, 'mobilenet_v2_quantized_1x3x224x224_range0', 'model.tflite') },
  { name: 'recipe_lenet', built: 'recipe_lenet' },
  { name: 'recipe_autoencoder', built: 'recipe_autoencoder' },
  { name: 'recipe_lstm-classifier', built: 'recipe_lstm-classifier' },
  { name: 'recipe_driving-cnn', built: 'recipe_driving-cnn' },
  { name: 'mobilenet_v1_0.25_96', built: 'mobilenet_v1_0.25_96' },
  { name: 'mobilenet_v2_1.0_224', built: 'mobilenet_v2_1.0_224' },
];

const HELP = `Usage: node bench/perf.mjs [options]

Kestrel vs LiteRT.js (CPU/wasm = XNNPACK, one thread) on the benchmark set:
${SET.map((s) => `  ${s.name}`).join('\n')}
Prints per model: Kestrel and LiteRT.js p50 latency (and the range of per-round p50s),
the ratio, Kestrel's GMAC/s and its fraction of the wasm SIMD int8 roof, init times and
the largest output difference. Progress on stderr, the table (or JSON) on stdout.

Options:
  --models a,b     only these models (names above; a .tflite path also works)
  --min-secs S     timed seconds per engine and model, split over the rounds (default 4)
  --rounds N       interleaved rounds per model (default 5)
  --warmup N       untimed runs per engine first (default 10, and at least --warmup-secs)
  --warmup-secs S  least warm-up time per engine and model (default 3: time for V8 to
                   optimize both engines' wasm; see Tier-up in bench/README.md)
  --init-reps N    loads per engine and model for the init figures (default 5)
  --roof-secs S    seconds for the roof microbenchmark (default 2; 0 skips it)
  --seed N         input seed (default 1; the i-th model of the set gets seed + 7919 i)
  --cold-reps N    fresh Node processes per engine and model for the cold init columns
                   (default 1; 0 skips them; Node only)
  --rebuild        rebuild the generated models instead of using bench/.models/
  --browser        run in headless Chromium (/usr/bin/chromium or $KESTREL_CHROMIUM)
  --kestrel-backend B  Kestrel's kernel build: simd (default) or relaxed (relaxed SIMD's
                   dot product in the GEMM convolution; Chromium, or Node 22+)
  --no-liftoff     (with --browser) start Chromium with --js-flags=--no-liftoff: both engines'
                   wasm is compiled optimized up front (no baseline code, but no run-time
                   feedback either; init figures then include that compile). See Tier-up
                   in bench/README.md
  --json           one JSON document on stdout instead of the table
  -h, --help       this text
`;

function parseArgs(argv) {
  const o = { minSecs: 4, rounds: 5, warmup: 10, warmupMs: 3000, initReps: 5, coldReps: 1, roofSecs: 2, seed: 1, json: false, browser: false, noLiftoff: false, rebuild: false, models: null, kestrelBackend: 'simd' };
  readArgs(argv, 'perf', HELP, (flag, r) => {
    switch (flag) {
      case '--models': o.models = String(r.val() ?? '').split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--min-secs': o.minSecs = r.num(0); break;
      case '--rounds': o.rounds = r.int(1); break;
      case '--warmup': o.warmup = r.int(1); break;
      case '--warmup-secs': o.warmupMs = r.num(0) * 1000; break;
      case '--init-reps': o.initReps = r.int(1); break;
      case '--roof-secs': o.roofSecs = r.num(0); break;
      case '--cold-reps': o.coldReps = r.int(0); break;
      case '--seed': o.seed = r.int(0); break;
      case '--rebuild': o.rebuild = true; break;
      case '--browser': o.browser = true; break;
      case '--no-liftoff': o.noLiftoff = true; break;
      case '--kestrel-backend': {
        const b = r.val();
        if (b !== 'simd' && b !== 'relaxed') r.usage('--kestrel-backend is simd or relaxed');
        o.kestrelBackend = b;
        break;
      }
      case '--json': o.json = true; break;
      default: r.usage(`unknown argument ${r.arg}`);
    }
  });
  return o;
}

const usage = (msg) => usageError('perf', HELP, msg);

const log = (s) => process.stderr.write(`${s}\n`);
const errMsg = (e) => String(e?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');

/** The selected entries of the set (a .tflite path becomes its own entry). */
export function selectModels(names) {
  if (!names) return SET;
  return names.map((n) => {
    const e = SET.find((s) => s.name === n);
    if (e) return e;
    if (n.endsWith('.tflite') && existsSync(n)) return { name: n.split('/').pop().replace(/\.tflite$/, ''), file: resolve(n) };
    usage(`unknown model '${n}' (models: ${SET.map((s) => s.name).join(', ')}, or a .tflite path)`);
    return null;
  });
}

/**
 * Each selected model's bytes (repaired for LiteRT.js where it needs it: both engines then
 * run the same repaired bytes), its inputs' dtypes and shapes, and where it came from.
 */
export async function prepareModels(entries, { rebuild = false } = {}) {
  const { describeModel, describeRepairs, repairForLiteRt } = await import('./lib/tflite-min.mjs');
  const { getModel } = await import('./lib/models.mjs');
  const out = [];
  for (const e of entries) {
    let bytes, source;
    if (e.built) {
      const m = await getModel(e.built, { rebuild, log });
      bytes = m.bytes;
      source = `built by bench/lib/models.mjs (${m.cached ? 'cached' : 'new'}: ${m.path.slice(ROOT.length + 1)})`;
    } else {
      bytes = new Uint8Array(readFileSync(e.file));
      source = e.file.startsWith(ROOT) ? e.file.slice(ROOT.length + 1) : e.file;
    }
    const r = repairForLiteRt(bytes);
    const io = describeModel(r.bytes);
    out.push({
      name: e.name, source, bytes: r.bytes, sizeBytes: bytes.length,
      repaired: r.repaired, repairs: r.repaired ? describeRepairs(r.repairs) : null,
      inputs: io.inputs.map((t) => ({ dtype: t.dtype, shape: t.shape })),
    });
  }
  return out;
}

async function nodeEngines(opts) {
  const t0 = performance.now();
  const k = await import(pathToFileURL(join(ROOT, 'dist', 'runtime', 'index.js')).href);
  const importMs = performance.now() - t0;
  const { compileKernels } = await import(pathToFileURL(join(ROOT, 'dist', 'runtime', 'wasm.js')).href);
  const t1 = performance.now();
  await compileKernels(opts.kestrelBackend);
  const compileMs = performance.now() - t1;
  let macs = 0;
  const kestrelInfo = { runtimeLoadMs: 0, importMs, kernelCompileMs: compileMs, simd: k.hasSimd(), backend: opts.kestrelBackend, relaxedDot: null };
  const kestrel = {
    async init(bytes) { const m = await k.loadModel(bytes, { backend: opts.kestrelBackend }); macs = m.macs; kestrelInfo.relaxedDot = m.relaxedDot; return m; },
    run(m, xs) { return m.run(xs); },
    dispose(m) { m?.dispose(); },
  };
  kestrelInfo.runtimeLoadMs = importMs + compileMs;

  let litert = null, litertInfo;
  log('loading LiteRT.js runtime…');
  try {
    const { loadLiteRtNode } = await import('./lib/litert-node.mjs');
    const lrt = await loadLiteRtNode();
    const { Tensor, loadAndCompile } = lrt.lib;
    litertInfo = { version: lrt.version, runtimeLoadMs: lrt.loadMs, glue: (lrt.glue ?? '').split('/').pop(), relaxedSimd: !!lrt.relaxedSimd };
    litert = litertEngine(loadAndCompile, Tensor);
    log(`  LiteRT.js ${lrt.version} loaded in ${fmtMs(lrt.loadMs)} ms (${litertInfo.glue})`);
  } catch (e) {
    litertInfo = { error: errMsg(e) };
    log(`  LiteRT.js failed to load: ${litertInfo.error}`);
  }
  return { engines: { kestrel, litert }, kestrelInfo, litertInfo, macsOfLast: () => macs };
}

/**
 * Cold init: a fresh Node process per engine and model that loads the engine and then the
 * model once, as an application's first load does. Kestrel: import of the runtime + kernel
 * module compile + loadModel; LiteRT.js: loadLiteRt + loadAndCompile. The median over reps
 * of each engine's total (and its parts) is returned.
 */
async function coldInit(modelFile, reps) {
  const { execFileSync } = await import('node:child_process');
  const out = {};
  for (const engine of ['kestrel', 'litert']) {
    const runs = [];
    for (let r = 0; r < reps; r++) {
      try {
        const text = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--cold-child', engine, modelFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
        runs.push(JSON.parse(text));
      } catch (e) {
        out[engine] = { error: errMsg(e.stderr || e) };
        break;
      }
    }
    if (!out[engine]) {
      const med = (k) => { const v = runs.map((x) => x[k]).sort((a, b) => a - b); return v[Math.floor((v.length - 1) / 2)]; };
      out[engine] = Object.fromEntries(Object.keys(runs[0]).map((k) => [k, med(k)]));
    }
  }
  return out;
}

async function coldChild(engine, file) {
  const bytes = new Uint8Array(readFileSync(file));
  const t0 = performance.now();
  if (engine === 'kestrel') {
    // What an application gets: the package's Node entry (package.json exports, the ES
    // module bundle dist/esm/runtime.js).
    const k = await import('kestrel/runtime');
    const t1 = performance.now();
    const m = await k.loadModel(bytes, { backend: 'simd' });
    const t2 = performance.now();
    m.run(seededInputs(m.inputs, 1));
    const t3 = performance.now();
    m.dispose();
    process.stdout.write(JSON.stringify({ runtimeMs: t1 - t0, modelMs: t2 - t1, totalMs: t2 - t0, firstRunMs: t3 - t2, firstResultMs: t3 - t0 }));
  } else {
    const { loadLiteRtNode } = await import('./lib/litert-node.mjs');
    const lrt = await loadLiteRtNode();
    const t1 = performance.now();
    const m = await lrt.lib.loadAndCompile(bytes, { accelerator: 'wasm' });
    const t2 = performance.now();
    const { describeModel } = await import('./lib/tflite-min.mjs');
    const shapes = m.getInputDetails().map((d) => Array.from(d.shape));
    const ts = seededInputs(describeModel(bytes).inputs, 1).map((a, i) => new lrt.lib.Tensor(a, shapes[i]));
    for (const o of await m.run(ts)) { o.toTypedArray(); o.delete(); }
    const t3 = performance.now();
    for (const x of ts) x.delete();
    m.delete?.();
    process.stdout.write(JSON.stringify({ runtimeMs: t1 - t0, modelMs: t2 - t1, totalMs: t2 - t0, firstRunMs: t3 - t2, firstResultMs: t3 - t0 }));
  }
}

async function runNode(opts) {
  const entries = selectModels(opts.models);
  const { engines, kestrelInfo, litertInfo, macsOfLast } = await nodeEngines(opts);
  let roof = null;
  if (opts.roofSecs > 0) {
    log('measuring the int8 wasm SIMD roof…');
    const { measureRoof } = await import('./roof/run.mjs');
    roof = await measureRoof({ secs: opts.roofSecs });
    log(`  roof ${roof.roofGmacs} GMAC/s (${roof.roofVariant}), with L1 loads ${roof.l1RoofGmacs} GMAC/s (${roof.l1RoofVariant})`);
  }
  log('preparing models…');
  const models = await prepareModels(entries, opts);
  const rows = [];
  for (let i = 0; i < models.length; i++) {
    const m = models[i];
    log(`[${i + 1}/${models.length}] ${m.name}: ${m.inputs.map((t) => `${t.dtype}[${t.shape}]`).join(', ')}${m.repaired ? ` (repaired copy: ${m.repairs})` : ''}`);
    const inputs = seededInputs(m.inputs, inputSeed(opts.seed, m.name));
    globalThis.gc?.();
    const res = await measureModel(engines, m.bytes, inputs, opts, log);
    const row = finishRow(m, res, macsOfLast());
    if (opts.coldReps > 0) {
      const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
      const dir = mkdtempSync(join(os.tmpdir(), 'kestrel-perf-'));
      const f = join(dir, 'model.tflite');
      writeFileSync(f, m.bytes);
      try { row.coldInit = await coldInit(f, opts.coldReps); } finally { rmSync(dir, { recursive: true, force: true }); }
      const c = row.coldInit;
      log(`  cold init: kestrel ${c.kestrel.error ?? `${fmtMs(c.kestrel.totalMs)} ms (runtime ${fmtMs(c.kestrel.runtimeMs)} + model ${fmtMs(c.kestrel.modelMs)})`}, litert ${c.litert.error ?? `${fmtMs(c.litert.totalMs)} ms (runtime ${fmtMs(c.litert.runtimeMs)} + model ${fmtMs(c.litert.modelMs)})`}`);
    }
    rows.push(row);
  }
  const cpus = os.cpus();
  const env = {
    runtime: 'node', node: process.version, v8: process.versions.v8, platform: `${os.platform()} ${process.arch}`,
    cpu: cpus[0]?.model?.trim() ?? 'unknown', cpuCount: cpus.length, loadAvg: os.loadavg().map((x) => +x.toFixed(2)),
    kestrel: kestrelInfo, litert: litertInfo,
  };
  return { env, roof, rows };
}

/** The input seed of a model: the same for a model whatever else is selected. */
export function inputSeed(seed, name) {
  const k = SET.findIndex((e) => e.name === name);
  let h = k;
  if (k < 0) { h = 0; for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 100003; }
  return seed + 7919 * h;
}

export function finishRow(m, res, macs) {
  const row = { model: m.name, source: m.source, sizeBytes: m.sizeBytes, repaired: m.repaired, repairs: m.repairs, macs, kestrel: res.kestrel, litert: res.litert };
  row.maxAbsDiff = maxAbsDiff(res.kestrel?.outputs, res.litert?.outputs);
  delete res.kestrel?.outputs;
  delete res.litert?.outputs;
  return row;
}

export function printTable({ env, roof, rows }, settings) {
  const out = [];
  const p = (s = '') => out.push(s);
  const L = env.litert;
  p(`Kestrel vs LiteRT.js — ${env.runtime === 'node' ? `Node ${env.node} (V8 ${env.v8})` : env.browser}, one thread each, ${env.platform}`);
  if (env.runtime === 'browser') p(`page cross-origin isolated: ${env.crossOriginIsolated ? 'yes (5 µs timer)' : 'no (100 µs timer)'}`);
  if (env.cpu) p(`CPU: ${env.cpu} × ${env.cpuCount}${env.loadAvg ? `, load average ${env.loadAvg.join(' ')}` : ''}`);
  p(`Kestrel: ${env.kestrel.backend ?? 'simd'} build${env.kestrel.relaxedDot ? ` (relaxed dot layout: ${env.kestrel.relaxedDot})` : ''}; runtime load ${fmtMs(env.kestrel.runtimeLoadMs)} ms (kernel module compile ${fmtMs(env.kestrel.kernelCompileMs)} ms, once per process)`);
  p(L.error ? `LiteRT.js: failed to load: ${L.error}` : `LiteRT.js ${L.version}: wasm (XNNPACK), 1 thread, ${L.glue} (relaxed SIMD ${L.relaxedSimd ? 'on' : 'off'}); runtime load ${fmtMs(L.runtimeLoadMs)} ms`);
  if (roof) p(`roof: ${roof.roofGmacs.toFixed(1)} GMAC/s int8 wasm SIMD, best sequence (${roof.roofVariant}); ${roof.l1RoofGmacs.toFixed(1)} GMAC/s with loads from L1 (${roof.l1RoofVariant})`);
  p(`timing: ${settings.warmupMs / 1000} s of warm-up, then ${settings.rounds} interleaved rounds, ${settings.minSecs} s per engine and model; run = JS typed arrays in to fresh typed arrays out; same seeded inputs for both;`);
  p(`        a sample = mean of a batch of runs lasting ≥ ${env.runtime === 'browser' ? 0.25 : 0.1} ms (one run for all but tiny models)`);
  p();
  for (const l of tableLines(rows, { roofGmacs: roof?.roofGmacs, litertRuntimeLoadMs: L.runtimeLoadMs })) p(l);
  p();
  p('ms; K = Kestrel, L = LiteRT.js; range = lowest–highest per-round p50; K/L < 1: Kestrel faster; roof % = K GMAC/s / roof;');
  p('K init = loadModel (read + plan + prepare + instantiate), median of the loads after the first in this process;');
  p('L init = loadAndCompile; K/(L load+init) = K init / (L runtime load + L init), the init goal is ≤ 0.2.');
  if (rows.some((r) => r.coldInit)) {
    p();
    p('cold init: first load in a fresh Node process (ms). K runtime = import("kestrel/runtime"), K model = first loadModel (includes the kernel');
    p('module compile); L runtime = loadLiteRt, L model = loadAndCompile. Goal: K total ≤ 0.2 × L total. 1st run = the first');
    p('inference after it (an engine that defers setup to the first run shows it there); to 1st result = total + 1st run.');
    const head = ['model', 'K runtime', 'K model', 'K total', 'L runtime', 'L model', 'L total', 'K/L total', 'K 1st run', 'L 1st run', 'K/L to 1st result'];
    const c = (x, k) => (x?.error ? 'error' : fmtMs(x?.[k]));
    const body = rows.filter((r) => r.coldInit).map((r) => {
      const K = r.coldInit.kestrel, L = r.coldInit.litert;
      return [r.model, c(K, 'runtimeMs'), c(K, 'modelMs'), c(K, 'totalMs'), c(L, 'runtimeMs'), c(L, 'modelMs'), c(L, 'totalMs'),
        K?.totalMs && L?.totalMs ? (K.totalMs / L.totalMs).toFixed(2) : '—',
        c(K, 'firstRunMs'), c(L, 'firstRunMs'), K?.firstResultMs && L?.firstResultMs ? (K.firstResultMs / L.firstResultMs).toFixed(2) : '—'];
    });
    const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const line = (cols) => cols.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
    p(line(head));
    p(w.map((x) => '-'.repeat(x)).join('  '));
    for (const b of body) p(line(b));
    for (const r of rows) for (const [who, x] of [['Kestrel', r.coldInit?.kestrel], ['LiteRT.js', r.coldInit?.litert]]) if (x?.error) p(`${r.model}: cold init, ${who}: ${x.error}`);
  }
  for (const r of rows) {
    if (r.repaired) p(`* ${r.model}: both engines ran an in-memory copy repaired for LiteRT.js (${r.repairs})`);
  }
  for (const r of rows) {
    for (const [who, x] of [['Kestrel', r.kestrel], ['LiteRT.js', r.litert]]) {
      if (x && x.status !== 'ok' && x.status !== 'absent') p(`${r.model}: ${who} ${x.status}: ${x.error}`);
    }
    if (r.maxAbsDiff != null && r.maxAbsDiff > 2) p(`${r.model}: outputs differ by up to ${r.maxAbsDiff} (more than 2 LSB)`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

async function main() {
  if (process.argv[2] === '--cold-child') return coldChild(process.argv[3], process.argv[4]);
  const opts = parseArgs(process.argv.slice(2));
  if (opts.noLiftoff && !opts.browser) usage('--no-liftoff applies to --browser runs');
  if (opts.browser) opts.coldReps = 0;
  const settings = { rounds: opts.rounds, minSecs: opts.minSecs, warmup: opts.warmup, warmupMs: opts.warmupMs, initReps: opts.initReps, coldReps: opts.coldReps, seed: opts.seed };
  let result;
  if (opts.browser) {
    const { runBrowser } = await import('./lib/perf-browser.mjs');
    result = await runBrowser(opts, { log, prepareModels, selectModels, inputSeed });
  } else {
    result = await runNode(opts);
  }
  for (const r of result.rows) Object.assign(r, rowFigures(r, result.roof?.roofGmacs, result.env.litert.runtimeLoadMs));
  if (opts.json) process.stdout.write(JSON.stringify({ ...result, settings }, null, 2) + '\n');
  else printTable(result, settings);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main();
  } catch (e) {
    log(`perf: ${errMsg(e)}`);
    process.exitCode = 1;
  }
}
