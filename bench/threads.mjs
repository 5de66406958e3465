// Speed-up of multi-threaded inference (docs/threads.md): p50 latency of the same model
// on 1 thread and on N threads, in one Node process, measured in alternating blocks so
// both see the same machine load. Checks that both give the reference output first.
//
//   npm run build && node bench/threads.mjs [--threads 2] [--repeats 7] [--secs 1] [--backend simd|scalar|relaxed] [--json] [case dirs...]
//
// Default models: person_detect (the largest model of the conformance set) and MobileNet
// v2 224 int8 (the largest reference model). For each repeat it times a block of runs on
// 1 thread and a block on N threads (about --secs each) and takes each block's p50; the
// speed-up of a repeat is its 1-thread p50 / N-thread p50. Reports the range and median
// over repeats, the load average before and after, and the parallel CPU the machine gave
// a plain loop on N workers (on a machine shared with other work the helpers get less
// than a core each, and the speed-up is bounded by that figure).
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { basename, join } from 'node:path';
import { loadModel } from '../dist/runtime/index.js';
import { readArgs } from './lib/args.mjs';
import { buildRoof } from './roof/run.mjs';
import { readFileSync } from 'node:fs';
import { CONFORMANCE, REFERENCE_EXTRA, firstDifference, readCase } from '../tests/helpers.mjs';

const HELP = `Usage: node bench/threads.mjs [--threads N] [--repeats N] [--secs S] [--backend simd|scalar|relaxed] [--json] [CASE_DIR ...]

p50 latency of each model (conformance case folders; default person_detect and MobileNet v2
224) on 1 thread and on N threads (default 2), in alternating blocks of about --secs seconds
(default 1), --repeats times (default 7); prints the speed-up per repeat, its median and range,
and the parallel CPU the machine gave a plain loop on N workers.
`;
let json = false, THREADS = 2, REPEATS = 7, SECS = 1, BACKEND = 'simd';
const dirs = [];
readArgs(process.argv.slice(2), 'threads', HELP, (flag, r) => {
  switch (flag) {
    case '--json': json = true; break;
    case '--threads': THREADS = r.int(2); break;
    case '--repeats': REPEATS = r.int(1); break;
    case '--secs': SECS = r.num(0.05); break;
    case '--backend': {
      BACKEND = r.val();
      if (!['simd', 'scalar', 'relaxed'].includes(BACKEND)) r.usage('--backend is simd, scalar or relaxed');
      break;
    }
    default:
      if (flag.startsWith('-')) r.usage(`unknown option ${r.arg}`);
      dirs.push(r.arg);
  }
});
const defaults = [
  join(CONFORMANCE, 'real', 'person_detect_person_image_minus128'),
  join(REFERENCE_EXTRA, 'real', 'mobilenet_v2_quantized_1x3x224x224_range0'),
];

function block(model, inputs) {
  const t = [];
  const start = performance.now();
  while (t.length < 10 || performance.now() - start < SECS * 1000) {
    const a = performance.now();
    model.run(inputs);
    t.push(performance.now() - a);
  }
  t.sort((x, y) => x - y);
  return t[Math.ceil(t.length / 2) - 1];
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.ceil(s.length / 2) - 1]; };
const f = (x, d = 3) => x.toFixed(d);

// How much parallel work the machine gives right now: the same fixed job on 1 worker,
// then on N workers at once; N × t1 / tN is about N on idle cores and about 1 when other
// work takes the rest. The speed-up cannot exceed it. `code` is a worker script that
// posts [milliseconds, checksum]; workerData goes to it.
async function capacity(n, code, workerData) {
  const run = (k) => Promise.all(Array.from({ length: k }, () => new Promise((resolve, reject) => { const w = new Worker(code, { eval: true, workerData }); w.once('message', (m) => { resolve(m[0]); void w.terminate(); }); w.once('error', reject); })));
  await run(1);
  const ratios = [];
  for (let i = 0; i < 3; i++) {
    const [t1] = await run(1);
    const tn = Math.max(...(await run(n)));
    ratios.push((n * t1) / tn);
  }
  return median(ratios);
}

// A plain scalar loop.
const parallelCapacity = (n) => capacity(n, `const t0 = performance.now(); let s = 0; for (let i = 0; i < 2e8; i++) s = (s + i) | 0; require('node:worker_threads').parentPort.postMessage([performance.now() - t0, s]);`);

// The int8 SIMD loop of the roof benchmark (bench/roof/): two virtual CPUs that are
// hyperthreads of one host core share its vector units, which a scalar loop barely
// notices; this figure bounds the speed-up of the SIMD kernels.
const ROOF = readFileSync(buildRoof());
const simdCapacity = (n) => capacity(n, `const { parentPort, workerData } = require('node:worker_threads');
  const x = new WebAssembly.Instance(new WebAssembly.Module(workerData), {}).exports;
  x.fill(1); x.l1_8(2000);
  const t0 = performance.now(); const s = x.l1_8(60000);
  parentPort.postMessage([performance.now() - t0, s]);`, ROOF);

const rows = [];
const load0 = loadavg()[0];
const cap0 = await parallelCapacity(THREADS);
const simd0 = await simdCapacity(THREADS);
for (const dir of dirs.length ? dirs : defaults) {
  const { meta, model: bytes, inputs, outputs } = readCase(dir);
  const one = await loadModel(bytes, { backend: BACKEND, name: basename(dir) });
  const many = await loadModel(bytes, { backend: BACKEND, threads: THREADS, name: basename(dir) });
  for (const m of [one, many]) {
    m.run(inputs).forEach((o, k) => {
      const d = firstDifference(meta.outputs[k].dtype, outputs[k], o);
      if (d) throw new Error(`${basename(dir)} on ${m.threads} thread(s): output ${k} differs from the reference: ${d}`);
    });
  }
  const split = many.plan.threads.split;
  const splitMacs = many.plan.ops.reduce((s, p, i) => s + (split[i] ? p.macs : 0), 0);
  for (let i = 0; i < 5; i++) { block(one, inputs); block(many, inputs); if (SECS * 5 > 2) break; }
  const p1 = [], pn = [], speedup = [];
  for (let r = 0; r < REPEATS; r++) {
    // Alternate which goes first, so a slow spell does not always land on the same side.
    let a, b;
    if (r % 2 === 0) { a = block(one, inputs); b = block(many, inputs); } else { b = block(many, inputs); a = block(one, inputs); }
    p1.push(a); pn.push(b); speedup.push(a / b);
  }
  many.dispose();
  one.dispose();
  rows.push({
    model: basename(dir), backend: BACKEND, threads: THREADS, macs: one.macs,
    split_ops: split.filter(Boolean).length, ops: split.length, split_macs_fraction: splitMacs / one.macs,
    p50_1_ms: p1, p50_n_ms: pn, speedup,
    speedup_median: median(speedup), speedup_min: Math.min(...speedup), speedup_max: Math.max(...speedup),
  });
}
const load1 = loadavg()[0];
const cap1 = await parallelCapacity(THREADS);
const simd1 = await simdCapacity(THREADS);
const env = { node: process.version, cores: availableParallelism(), loadavg_1min_before: load0, loadavg_1min_after: load1, parallel_capacity_before: cap0, parallel_capacity_after: cap1, simd_capacity_before: simd0, simd_capacity_after: simd1, repeats: REPEATS, secs_per_block: SECS };

if (json) {
  console.log(JSON.stringify({ environment: env, results: rows }, null, 2));
} else {
  console.log(`threads bench: ${THREADS} threads vs 1, ${BACKEND} build; node ${env.node}, ${env.cores} cores; load average (1 min) ${f(load0, 2)} before, ${f(load1, 2)} after`);
  console.log(`parallel CPU available to ${THREADS} threads (${THREADS}.00 = idle cores): ${f(cap0, 2)} before, ${f(cap1, 2)} after`);
  console.log(`parallel int8 SIMD throughput of ${THREADS} threads (the roof loop): ${f(simd0, 2)} before, ${f(simd1, 2)} after`);
  console.log(`${REPEATS} repeats of ~${SECS} s blocks per side; p50 per block\n`);
  for (const r of rows) {
    console.log(`${r.model}: ${(r.macs / 1e6).toFixed(1)} M MACs, ${r.split_ops}/${r.ops} ops split (${f(100 * r.split_macs_fraction, 1)} % of MACs)`);
    console.log(`  1 thread   p50 ${f(Math.min(...r.p50_1_ms))} … ${f(Math.max(...r.p50_1_ms))} ms`);
    console.log(`  ${r.threads} threads  p50 ${f(Math.min(...r.p50_n_ms))} … ${f(Math.max(...r.p50_n_ms))} ms`);
    console.log(`  speed-up   median ${f(r.speedup_median, 2)}×, range ${f(r.speedup_min, 2)}× … ${f(r.speedup_max, 2)}×  (per repeat: ${r.speedup.map((x) => f(x, 2)).join(' ')})\n`);
  }
}
