#!/usr/bin/env node
// Kestrel vs LiteRT.js (@litertjs/core, CPU/wasm, one thread), in one Node process.
//
// For each .tflite model: load+compile time of each engine, then warm-up runs and timed
// runs (until both --runs runs and --min-secs seconds are reached); prints p50/p90
// latency, the ratio Kestrel/LiteRT.js of the p50s, and compares the outputs
// (Kestrel vs LiteRT.js, and both vs the reference output_<k>.bin beside the model).
//
// Usage: node bench/vs-litert.mjs [options] [MODEL.tflite | CASE_DIR ...]
// See bench/README.md.
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from '../dist/bench/inputs.js';
import { readArgs } from './lib/args.mjs';
import { loadLiteRtNode } from './lib/litert-node.mjs';
import { describeModel, describeRepairs, repairForLiteRt } from './lib/tflite-min.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const DEFAULT_CASES = ['hello_world_int8_random_0', 'person_detect_random_0', 'micro_speech_quantized_random_0'];

const HELP = `Usage: node bench/vs-litert.mjs [options] [MODEL.tflite | CASE_DIR ...]

Runs Kestrel and LiteRT.js (CPU/wasm, one thread) on each model in one Node process
and reports init time, p50/p90 latency, the Kestrel/LiteRT.js p50 ratio and output
differences. A CASE_DIR holds model.tflite and optionally input_<i>.bin (inputs;
otherwise seeded random inputs are used) and output_<k>.bin (reference outputs).

With no model arguments it runs ${DEFAULT_CASES.join(', ')}
from $KESTREL_CONFORMANCE/real (default tests/fixtures/conformance/real).

Options:
  --runs N         minimum timed runs per engine and model (default 200)
  --min-secs S     minimum timed seconds per engine and model (default 2)
  --warmup N       untimed warm-up runs before timing (default 20)
  --backend B      Kestrel backend: simd or scalar (default simd)
  --repair MODE    auto: run BOTH engines on an in-memory copy repaired for LiteRT.js
                   (rank-1 quantized_dimension, dynamic batch) when the model needs it;
                   never: give both engines the original bytes (default auto)
  --seed N         seed for random inputs when no input_<i>.bin exists (default 1)
  --json           print one JSON document on stdout instead of the table
  -v, --verbose    also log LiteRT.js console output to stderr
  -h, --help       this text
`;

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = { runs: 200, minSecs: 2, warmup: 20, backend: 'simd', repair: 'auto', seed: 1, json: false, verbose: false, models: [] };
  readArgs(argv, 'vs-litert', HELP, (flag, r) => {
    switch (flag) {
      case '--runs': o.runs = r.int(1); break;
      case '--min-secs': o.minSecs = r.num(0); break;
      case '--warmup': o.warmup = r.int(0); break;
      case '--seed': o.seed = r.int(0); break;
      case '--backend': o.backend = r.val(); if (!['simd', 'scalar'].includes(o.backend)) r.usage('--backend is simd or scalar'); break;
      case '--repair': o.repair = r.val(); if (!['auto', 'never'].includes(o.repair)) r.usage('--repair is auto or never'); break;
      case '--json': o.json = true; break;
      case '-v': case '--verbose': o.verbose = true; break;
      default:
        if (r.arg.startsWith('-')) r.usage(`unknown option ${r.arg}`);
        o.models.push(r.arg);
    }
  });
  if (!o.models.length) {
    const base = join(process.env.KESTREL_CONFORMANCE ?? fileURLToPath(new URL('../tests/fixtures/conformance', import.meta.url)), 'real');
    o.models = DEFAULT_CASES.map((c) => join(base, c));
  }
  return o;
}


// ---------------------------------------------------------------- helpers

const log = (s) => process.stderr.write(`${s}\n`);

const CTOR = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };

function typedFromFile(file, dtype, count) {
  const C = CTOR[dtype];
  if (!C) throw new Error(`${file}: dtype ${dtype} is not supported by the harness`);
  const b = readFileSync(file);
  if (b.byteLength !== count * C.BYTES_PER_ELEMENT) {
    throw new Error(`${file}: ${b.byteLength} bytes, expected ${count * C.BYTES_PER_ELEMENT} (${count} × ${dtype})`);
  }
  return new C(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}


function randomInput(dtype, count, rand) {
  const C = CTOR[dtype];
  if (!C) throw new Error(`dtype ${dtype} is not supported by the harness`);
  const a = new C(count);
  const range = { int8: [-128, 255], uint8: [0, 255], int16: [-32768, 65535], int32: [-1000, 2000] }[dtype];
  for (let i = 0; i < count; i++) a[i] = range ? range[0] + Math.floor(rand() * (range[1] + 1)) : rand() * 2 - 1;
  return a;
}

const numel = (shape) => shape.reduce((a, b) => a * b, 1);

/** Max |a - b| over elements; Infinity when the lengths differ. */
function maxAbsDiff(a, b) {
  if (!a || !b || a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(Number(a[i]) - Number(b[i]));
    if (d > m || Number.isNaN(d)) m = d;
  }
  return m;
}
const maxOver = (xs, ys) => (xs && ys && xs.length === ys.length ? Math.max(0, ...xs.map((x, k) => maxAbsDiff(x, ys[k]))) : null);

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

/** Warm-up, then timed runs until both minimum runs and minimum seconds are reached. */
async function measure(fn, isAsync, { warmup, runs, minSecs }) {
  for (let i = 0; i < warmup; i++) isAsync ? await fn() : fn();
  globalThis.gc?.();
  const cap = 2_000_000;
  let times = new Float64Array(Math.max(runs, 1024));
  let n = 0;
  const minMs = minSecs * 1000;
  const start = performance.now();
  let now = start;
  while ((n < runs || now - start < minMs) && n < cap) {
    const t0 = performance.now();
    if (isAsync) await fn(); else fn();
    now = performance.now();
    if (n === times.length) { const g = new Float64Array(times.length * 2); g.set(times); times = g; }
    times[n++] = now - t0;
  }
  const s = times.slice(0, n).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  return {
    p50Ms: percentile(s, 50), p90Ms: percentile(s, 90), meanMs: sum / n, minMs: s[0], maxMs: s[n - 1],
    runs: n, secs: (now - start) / 1000,
  };
}

function fmtMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toPrecision(3);
}

const errMsg = (e) => String(e?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
const stripSource = (msg, name) => (msg.startsWith(`${name}: `) ? msg.slice(name.length + 2) : msg);

function modelLabel(file) {
  return basename(file) === 'model.tflite' ? basename(dirname(file)) : basename(file).replace(/\.tflite$/, '');
}

// ---------------------------------------------------------------- engines

async function loadKestrel() {
  const url = pathToFileURL(join(ROOT, 'dist', 'runtime', 'index.js')).href;
  try {
    const k = await import(url);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    return { k, version: pkg.version, error: null };
  } catch (e) {
    return { k: null, version: null, error: `Kestrel is not built (${errMsg(e)}); run: npm run build:wasm && npm run build:ts` };
  }
}

async function benchKestrel(kes, bytes, name, inputs, opts) {
  if (!kes.k) return { status: 'error', error: kes.error };
  let model;
  const t0 = performance.now();
  try {
    model = await kes.k.loadModel(bytes, { backend: opts.backend, name });
  } catch (e) {
    const unsupported = e?.code === 'E_UNSUPPORTED_OP';
    return { status: unsupported ? 'unsupported' : 'error', code: e?.code ?? null, error: stripSource(errMsg(e), name) };
  }
  const initMs = performance.now() - t0;
  let outputs;
  try {
    outputs = model.run(inputs);
  } catch (e) {
    // E_KERNEL: the op is planned but its kernel is not in this wasm build.
    return { status: e?.code === 'E_KERNEL' ? 'unsupported' : 'error', code: e?.code ?? null, error: stripSource(errMsg(e), name), initMs };
  }
  const m = await measure(() => model.run(inputs), false, opts);
  const res = { status: 'ok', backend: model.backend, initMs, ...m, arenaBytes: model.arenaBytes, outputs };
  model.dispose();
  return res;
}

async function benchLiteRt(lrt, bytes, inputs, opts) {
  const { Tensor, loadAndCompile } = lrt.lib;
  let model;
  const t0 = performance.now();
  try {
    model = await loadAndCompile(bytes, { accelerator: 'wasm' });
  } catch (e) {
    return { status: 'refused', error: errMsg(e) };
  }
  const initMs = performance.now() - t0;
  try {
    const details = model.getInputDetails();
    if (details.length !== inputs.length) throw new Error(`LiteRT.js sees ${details.length} inputs, the model file lists ${inputs.length}`);
    const shapes = details.map((d) => Array.from(d.shape));
    // End to end, like Kestrel's run(): JS typed arrays in, fresh JS typed arrays out.
    const runE2E = async () => {
      const ts = inputs.map((a, i) => new Tensor(a, shapes[i]));
      const outs = await model.run(ts);
      const arrays = outs.map((o) => o.toTypedArray());
      for (const o of outs) o.delete();
      for (const t of ts) t.delete();
      return arrays;
    };
    const outputs = await runE2E();
    const e2e = await measure(runE2E, true, opts);
    // Invoke only: input tensors made once, outputs not read back.
    const fixed = inputs.map((a, i) => new Tensor(a, shapes[i]));
    const invokeOnly = await measure(async () => { for (const o of await model.run(fixed)) o.delete(); }, true, opts);
    for (const t of fixed) t.delete();
    return { status: 'ok', initMs, ...e2e, invokeOnly: { p50Ms: invokeOnly.p50Ms, p90Ms: invokeOnly.p90Ms, runs: invokeOnly.runs }, outputs };
  } catch (e) {
    return { status: 'error', initMs, error: errMsg(e) };
  } finally {
    model.delete?.();
  }
}

// ---------------------------------------------------------------- main

async function benchModel(arg, idx, total, ctx) {
  const { opts, kes, lrt } = ctx;
  let file = resolve(arg);
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'model.tflite');
  const label = modelLabel(file);
  const row = { model: label, path: file };
  const bytes0 = new Uint8Array(readFileSync(file));
  row.sizeBytes = bytes0.byteLength;
  const io = describeModel(bytes0);

  // Repaired copy (in memory) for LiteRT.js; both engines get the same bytes.
  let bytes = bytes0;
  row.repaired = false;
  if (opts.repair === 'auto') {
    const r = repairForLiteRt(bytes0);
    if (r.repaired) {
      bytes = r.bytes;
      row.repaired = true;
      row.repairs = describeRepairs(r.repairs);
      row.repairDetails = r.repairs;
    }
  }

  const dir = dirname(file);
  const rand = mulberry32(opts.seed + idx * 7919);
  row.inputs = [];
  const inputs = io.inputs.map((t, i) => {
    const f = join(dir, `input_${i}.bin`);
    const fromFile = existsSync(f);
    row.inputs.push({ name: t.name, dtype: t.dtype, shape: t.shape, source: fromFile ? basename(f) : `random(seed ${opts.seed + idx * 7919})` });
    return fromFile ? typedFromFile(f, t.dtype, numel(t.shape)) : randomInput(t.dtype, numel(t.shape), rand);
  });
  const refs = io.outputs.map((t, k) => {
    const f = join(dir, `output_${k}.bin`);
    return existsSync(f) ? typedFromFile(f, t.dtype, numel(t.shape)) : null;
  });
  const haveRefs = refs.length > 0 && refs.every(Boolean);

  log(`[${idx + 1}/${total}] ${label}: ${io.inputs.map((t) => `${t.dtype}[${t.shape}]`).join(', ')}${row.repaired ? ` (repaired copy: ${row.repairs})` : ''}`);

  globalThis.gc?.();
  const K = await benchKestrel(kes, bytes, label, inputs, opts);
  log(`  kestrel: ${K.status === 'ok' ? `p50 ${fmtMs(K.p50Ms)} ms, p90 ${fmtMs(K.p90Ms)} ms, min ${fmtMs(K.minMs)} ms (${K.runs} runs), init ${fmtMs(K.initMs)} ms` : `${K.status}: ${K.error}`}`);
  globalThis.gc?.();
  const L = lrt.lib ? await benchLiteRt(lrt, bytes, inputs, opts) : { status: 'error', error: lrt.error };
  if (L.status !== 'ok' && lrt.lib && opts.repair === 'never') {
    const r = repairForLiteRt(bytes0);
    if (r.repaired) L.hint = `model needs the LiteRT.js repair (${describeRepairs(r.repairs)}); run with --repair auto`;
  }
  log(`  litert : ${L.status === 'ok' ? `p50 ${fmtMs(L.p50Ms)} ms, p90 ${fmtMs(L.p90Ms)} ms, min ${fmtMs(L.minMs)} ms (${L.runs} runs), init ${fmtMs(L.initMs)} ms; invoke-only p50 ${fmtMs(L.invokeOnly.p50Ms)} ms` : `${L.status}: ${L.error}`}`);

  if (K.status === 'ok' && haveRefs) {
    K.maxAbsDiffReference = maxOver(K.outputs, refs);
    K.matchesReference = K.maxAbsDiffReference === 0;
  }
  if (L.status === 'ok' && haveRefs) L.maxAbsDiffReference = maxOver(L.outputs, refs);
  row.maxAbsDiffKestrelLitert = K.status === 'ok' && L.status === 'ok' ? maxOver(K.outputs, L.outputs) : null;
  row.ratioP50 = K.status === 'ok' && L.status === 'ok' ? K.p50Ms / L.p50Ms : null;
  row.referenceOutputs = haveRefs;
  delete K.outputs;
  delete L.outputs;
  row.kestrel = K;
  row.litert = L;
  return row;
}

function environment(kes, lrt, opts) {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${process.arch}`,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kestrel: { version: kes.version, backend: opts.backend, simdSupported: kes.k ? kes.k.hasSimd() : null },
    litert: lrt.lib
      ? { version: lrt.version, accelerator: 'wasm', threads: 1, glue: basename(lrt.glue ?? ''), relaxedSimd: !!lrt.relaxedSimd, runtimeLoadMs: lrt.loadMs }
      : { error: lrt.error },
  };
}

function printTable(env, settings, rows) {
  const out = [];
  const p = (s = '') => out.push(s);
  p(`Kestrel vs LiteRT.js — one Node process, one thread each`);
  p(`node ${env.node} (V8 ${env.v8}), ${env.platform}`);
  p(`CPU: ${env.cpu} × ${env.cpuCount}, ${env.memGiB} GiB`);
  p(`Kestrel ${env.kestrel.version ?? '(not built)'}, backend ${env.kestrel.backend}`);
  p(env.litert.error
    ? `LiteRT.js: failed to load: ${env.litert.error}`
    : `LiteRT.js ${env.litert.version}, accelerator wasm (XNNPACK), 1 thread, ${env.litert.glue} (relaxed SIMD ${env.litert.relaxedSimd ? 'on' : 'off'}), runtime load ${fmtMs(env.litert.runtimeLoadMs)} ms`);
  p(`timing: ${settings.warmup} warm-up runs, then ≥ ${settings.runs} runs and ≥ ${settings.minSecs} s per engine; latency = one run() from JS typed arrays in to JS typed arrays out`);
  p();
  const head = ['model', 'K init', 'L init', 'K p50', 'K p90', 'L p50', 'L p90', 'K/L p50', 'max|K−L|', 'K = ref', 'max|L−ref|'];
  const cell = (r) => {
    const K = r.kestrel, L = r.litert;
    const kst = K.status === 'ok' ? null : K.status;
    const lst = L.status === 'ok' ? null : L.status;
    return [
      r.model + (r.repaired ? ' *' : ''),
      K.initMs != null ? fmtMs(K.initMs) : '—',
      L.initMs != null ? fmtMs(L.initMs) : '—',
      kst ?? fmtMs(K.p50Ms), kst ? '' : fmtMs(K.p90Ms),
      lst ?? fmtMs(L.p50Ms), lst ? '' : fmtMs(L.p90Ms),
      r.ratioP50 != null ? r.ratioP50.toFixed(2) : '—',
      r.maxAbsDiffKestrelLitert != null ? String(r.maxAbsDiffKestrelLitert) : '—',
      K.status !== 'ok' ? '—' : !r.referenceOutputs ? 'n/a' : K.matchesReference ? 'yes' : `NO (±${K.maxAbsDiffReference})`,
      L.maxAbsDiffReference != null ? String(L.maxAbsDiffReference) : '—',
    ];
  };
  const body = rows.map(cell);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  p(line(head));
  p(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) p(line(b));
  p();
  p('times in ms; K = Kestrel, L = LiteRT.js; K/L < 1 means Kestrel is faster; K = ref: Kestrel bit-exact vs output_<k>.bin');
  for (const r of rows) {
    if (r.repaired) p(`* ${r.model}: BOTH engines ran the same repaired in-memory copy (LiteRT.js refuses the original): ${r.repairs}`);
  }
  for (const r of rows) {
    if (r.kestrel.status !== 'ok') p(`${r.model}: Kestrel ${r.kestrel.status}: ${r.kestrel.error}`);
    if (r.litert.status !== 'ok') p(`${r.model}: LiteRT.js ${r.litert.status}: ${r.litert.error}${r.litert.hint ? ` — ${r.litert.hint}` : ''}`);
    else p(`${r.model}: LiteRT.js invoke-only p50 ${fmtMs(r.litert.invokeOnly.p50Ms)} ms (input tensors prebuilt, outputs not read)`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const kes = await loadKestrel();
  if (kes.error) log(`kestrel: ${kes.error}`);
  log('loading LiteRT.js runtime…');
  let lrt;
  try {
    lrt = await loadLiteRtNode({ log: opts.verbose ? (s) => log(`  ${s}`) : undefined });
    log(`  LiteRT.js ${lrt.version} loaded in ${fmtMs(lrt.loadMs)} ms (${basename(lrt.glue ?? '?')})`);
  } catch (e) {
    lrt = { lib: null, error: errMsg(e) };
    log(`  LiteRT.js failed to load: ${lrt.error}`);
  }
  const settings = { runs: opts.runs, minSecs: opts.minSecs, warmup: opts.warmup, repair: opts.repair, seed: opts.seed };
  const rows = [];
  let failed = !lrt.lib;
  for (let i = 0; i < opts.models.length; i++) {
    try {
      rows.push(await benchModel(opts.models[i], i, opts.models.length, { opts, kes, lrt }));
    } catch (e) {
      failed = true;
      log(`[${i + 1}/${opts.models.length}] ${opts.models[i]}: ${errMsg(e)}`);
      rows.push({ model: modelLabel(resolve(opts.models[i])), path: resolve(opts.models[i]), error: errMsg(e), kestrel: { status: 'error', error: errMsg(e) }, litert: { status: 'error', error: errMsg(e) } });
    }
  }
  const env = environment(kes, lrt, opts);
  if (opts.json) process.stdout.write(JSON.stringify({ env, settings, models: rows }, null, 2) + '\n');
  else printTable(env, settings, rows);
  process.exitCode = failed ? 1 : 0;
}

await main();
