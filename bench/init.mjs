#!/usr/bin/env node
// Where Kestrel's init (loadModel) goes: the same steps loadModel takes, timed one by one —
// kernel module compile (cached per process), reading the .tflite (src/tflite/reader.ts),
// building the plan (checks, every op's prepare step by op type, memory layout), wasm
// instantiation, memory.grow, and copying the plan image (records, constants, packed
// weights) into wasm memory — then the whole loadModel for comparison.
//
// The first load in a process also pays JIT warm-up of the loader's JS; it is shown as
// "first", and the median of the following --reps loads as "steady".
//
// Usage: node bench/init.mjs [--reps N] [--json] [MODEL ...]   (names of bench/perf.mjs or .tflite paths)
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

const args = process.argv.slice(2);
let reps = 9, json = false;
const names = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--reps') reps = Math.max(1, Number(args[++i]) | 0);
  else if (args[i] === '--json') json = true;
  else if (args[i] === '-h' || args[i] === '--help') {
    process.stdout.write('Usage: node bench/init.mjs [--reps N] [--json] [MODEL ...]\n');
    process.exit(0);
  } else names.push(args[i]);
}

const t00 = performance.now();
const { readTflite } = await dist('tflite/reader.js');
const { buildPlan, writeImage } = await dist('runtime/plan.js');
const { compileKernels, instantiateKernels } = await dist('runtime/wasm.js');
const { loadModel } = await dist('runtime/index.js');
const { OPS } = await dist('runtime/ops/index.js');
const importMs = performance.now() - t00;

// Time every op type's prepare step.
const prepMs = new Map();
let timing = false;
for (const [name, def] of OPS) {
  const orig = def.prepare;
  def.prepare = (ctx) => {
    if (!timing) return orig(ctx);
    const t = performance.now();
    try { return orig(ctx); } finally { prepMs.set(name, (prepMs.get(name) ?? 0) + performance.now() - t); }
  };
}

const { SET, selectModels, prepareModels } = await import('./perf.mjs');
const entries = selectModels(names.length ? names : SET.map((s) => s.name));
const models = await prepareModels(entries);

const t0c = performance.now();
await compileKernels('simd');
const kernelCompileMs = performance.now() - t0c;

function phases(bytes, name) {
  const T = {};
  let t = performance.now();
  const mark = (k) => { const n = performance.now(); T[k] = n - t; t = n; };
  const g = readTflite(bytes, { source: name }); mark('read');
  return compileKernels('simd').then((mod) => {
    t = performance.now();
    const k = instantiateKernels(mod); mark('instantiate');
    prepMs.clear();
    timing = true;
    const plan = buildPlan(g, k.heapBase(), true);
    timing = false;
    mark('plan');
    const prepare = Object.fromEntries(prepMs);
    T.prepare = Object.values(prepare).reduce((a, b) => a + b, 0);
    T.layout = T.plan - T.prepare;
    const pages = Math.ceil(plan.memoryBytes / 65536);
    const have = k.memory.buffer.byteLength / 65536;
    if (pages > have) k.memory.grow(pages - have);
    mark('grow');
    const mem = new Uint8Array(k.memory.buffer);
    let imageBytes = 0;
    writeImage(mem, plan.image);
    for (const e of plan.image) imageBytes += 'bytes' in e ? e.bytes.length : e.deferred.size;
    mark('copy');
    return { T, prepare, imageBytes, memoryBytes: plan.memoryBytes };
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const rows = [];
for (const m of models) {
  const runs = [];
  for (let r = 0; r <= reps; r++) {
    const p = await phases(m.bytes, m.name);
    const t = performance.now();
    const model = await loadModel(m.bytes, { backend: 'simd', name: m.name });
    p.T.loadModel = performance.now() - t;
    model.dispose();
    runs.push(p);
  }
  const [first, ...rest] = runs;
  const keys = ['read', 'prepare', 'layout', 'instantiate', 'grow', 'copy', 'loadModel'];
  const steady = Object.fromEntries(keys.map((k) => [k, median(rest.map((x) => x.T[k]))]));
  const opTypes = Object.keys(first.prepare);
  const prepareByOp = Object.fromEntries(opTypes.map((k) => [k, median(rest.map((x) => x.prepare[k] ?? 0))]));
  rows.push({ model: m.name, imageBytes: first.imageBytes, memoryBytes: first.memoryBytes, first: Object.fromEntries(keys.map((k) => [k, first.T[k]])), steady, prepareByOp });
  process.stderr.write(`${m.name} done\n`);
}

if (json) {
  process.stdout.write(JSON.stringify({ importMs, kernelCompileMs, reps, rows }, null, 2) + '\n');
} else {
  const f = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const out = [];
  out.push(`Kestrel init breakdown (ms), Node ${process.version}; runtime import ${f(importMs)} ms, kernel module compile ${f(kernelCompileMs)} ms (once per process)`);
  out.push(`steady = median of ${reps} loads after the first; "first" = the first load of that model in this process`);
  const head = ['model', 'image MB', 'read', 'prepare', 'layout', 'inst', 'grow', 'copy', 'loadModel', 'first', 'prepare by op type (steady)'];
  const body = rows.map((r) => [
    r.model, (r.imageBytes / 1e6).toFixed(2), f(r.steady.read), f(r.steady.prepare), f(r.steady.layout), f(r.steady.instantiate), f(r.steady.grow), f(r.steady.copy), f(r.steady.loadModel), f(r.first.loadModel),
    Object.entries(r.prepareByOp).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${f(v)}`).join(', '),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c) => c.map((x, i) => (i === 0 || i === c.length - 1 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
  out.push(line(head), w.map((x) => '-'.repeat(x)).join('  '), ...body.map(line));
  process.stdout.write(out.join('\n') + '\n');
}
