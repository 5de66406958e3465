// Latency of compiled modules (kestrel compile) against the interpreter (loadModel) on the
// same models and inputs, one Node process, one thread. Checks that both give the same
// bytes before timing.
//
//   npm run build && node bench/compiled-vs-interpreted.mjs [--json] [--runs N] [--min-secs S] [case dirs...]
//
// Default models: the real public models in the conformance copy (hello_world,
// person_detect, micro_speech) and the extra reference models (MobileNet v2, LSTMs, SVDF).
// Reports p50 / p90 in ms for each and the ratio compiled p50 / interpreted p50
// (below 1 means the compiled module is faster), per kernel build.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel } from '../dist/compile/index.js';
import { loadCompiled, loadModel } from '../dist/runtime/index.js';
import { CONFORMANCE, REFERENCE_EXTRA, readCase } from '../tests/helpers.mjs';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const opt = (name, d) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : d; };
const RUNS = opt('--runs', 200);
const MIN_SECS = opt('--min-secs', 1);
const flagsWithValue = new Set(['--runs', '--min-secs']);
const dirs = argv.filter((a, i) => !a.startsWith('--') && !flagsWithValue.has(argv[i - 1]));
const defaults = [
  join(CONFORMANCE, 'real', 'hello_world_int8_random_0'),
  join(CONFORMANCE, 'real', 'person_detect_person_image_raw'),
  join(CONFORMANCE, 'real', 'micro_speech_quantized_yes_features'),
  join(REFERENCE_EXTRA, 'real', 'mobilenet_v2_quantized_1x3x224x224_range0'),
  join(REFERENCE_EXTRA, 'real', 'dtln_noise_suppression_range0'),
  join(REFERENCE_EXTRA, 'real', 'keyword_scrambled_range0'),
  join(REFERENCE_EXTRA, 'real', 'micro_speech_lstm_range0'),
];

function time(fn) {
  for (let i = 0; i < 10; i++) fn();
  const t = [];
  const start = performance.now();
  while (t.length < RUNS || performance.now() - start < MIN_SECS * 1000) {
    const a = performance.now();
    fn();
    t.push(performance.now() - a);
    if (t.length > 100000) break;
  }
  t.sort((x, y) => x - y);
  return { p50: t[Math.floor(t.length * 0.5)], p90: t[Math.floor(t.length * 0.9)], runs: t.length };
}

const rows = [];
for (const dir of dirs.length ? dirs : defaults) {
  const { model, inputs } = readCase(dir);
  const name = dir.split('/').pop();
  for (const backend of ['simd', 'scalar']) {
    const interp = await loadModel(model, { backend });
    const compiled = await loadCompiled((await compileModel(model, { scalar: backend === 'scalar' })).wasm);
    const a = interp.run(inputs), b = compiled.run(inputs);
    const same = a.every((x, k) => Buffer.compare(Buffer.from(x.buffer), Buffer.from(b[k].buffer)) === 0);
    if (!same) throw new Error(`${name} [${backend}]: compiled and interpreted outputs differ`);
    // Stateful models: start each timing from the same state.
    interp.resetState(); compiled.resetState();
    const ti = time(() => interp.run(inputs));
    const tc = time(() => compiled.run(inputs));
    rows.push({ model: name, backend, interpreted: ti, compiled: tc, ratio: tc.p50 / ti.p50 });
    interp.dispose(); compiled.dispose();
  }
}

if (json) {
  console.log(JSON.stringify({ node: process.version, rows }, null, 2));
} else {
  console.log(`Node ${process.version}, one thread; p50 / p90 ms; ratio = compiled p50 / interpreted p50`);
  console.log(`${'model'.padEnd(44)} build   interpreted         compiled            ratio`);
  const f = (t) => `${t.p50.toFixed(4)} / ${t.p90.toFixed(4)}`.padEnd(20);
  for (const r of rows) console.log(`${r.model.padEnd(44)} ${r.backend.padEnd(7)} ${f(r.interpreted)}${f(r.compiled)}${r.ratio.toFixed(3)}`);
}
