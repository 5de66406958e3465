// The performance bench's own parts, for correctness only (no timing is asserted): the roof
// microbenchmark computes the dot products it claims (checked against a JS oracle), the
// MobileNet builders produce the reference structure, every built model runs on LiteRT.js
// within 1 LSB of Kestrel, and bench/perf.mjs --json produces a complete document.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildRoof } from '../bench/roof/run.mjs';
import { buildModel, mobilenetV1, mobilenetV2 } from '../bench/lib/models.mjs';
import { describeModel } from '../dist/bench/tflite-patch.js';
import { loadModel } from '../dist/runtime/index.js';
import { loadLiteRtNode } from '../dist/bench/litert.js';
import { maxAbsDiff, seededInputs } from '../bench/lib/perf-core.mjs';
import { ROOT } from './helpers.mjs';

const exec = promisify(execFile);

/** The roof module's fill(): an LCG giving 256 int8 activations, then 8 x 256 int8 weights stored as i16. */
function fillOracle(seed) {
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return ((s >>> 16) << 24) >> 24; };
  const act = Int32Array.from({ length: 256 }, next);
  const wgt = Int32Array.from({ length: 8 * 256 }, next);
  return { act, wgt };
}

test('roof: every variant computes the dot products it counts', async (t) => {
  const { instance } = await WebAssembly.instantiate(readFileSync(buildRoof()), {});
  const x = instance.exports;
  x.fill(777);
  const { act, wgt } = fillOracle(777);
  // l1_R(passes): passes x sum over channels r < R and k < 256 of act[k] * w[r][k].
  for (const R of [2, 4, 8]) {
    let one = 0;
    for (let r = 0; r < R; r++) for (let k = 0; k < 256; k++) one += act[k] * wgt[r * 256 + k];
    t.is(x[`l1_${R}`](3), (3 * one) | 0, `l1_${R}`);
  }
  // regsK(iters, seed): weights w_j = lanes 8j..8j+7 of the weight block; iteration i dots
  // both halves of splat(seed + i) and splat(seed + 1 - i) (int8, wrapping) with every w_j.
  const i8 = (v) => (v << 24) >> 24;
  for (const K of [2, 4, 6]) {
    for (const seed of [5, -3, 127]) {
      let lanes = 0;
      for (let j = 0; j < K; j++) for (let l = 0; l < 8; l++) lanes += wgt[8 * j + l];
      let inputs = 0;
      for (let i = 0; i < 200; i++) inputs += i8(seed + i) + i8(seed + 1 - i);
      const want = (2 * inputs * lanes) | 0;
      t.is(x[`regs${K}`](200, seed), want, `regs${K} seed ${seed}`);
    }
  }
});

test('MobileNet builders follow the reference architectures', async (t) => {
  const tfl = await import('@tensorflow/tfjs-layers');
  await import('@tensorflow/tfjs-backend-cpu');
  const count = (m, cls) => m.layers.filter((l) => l.getClassName() === cls).length;
  const v2 = mobilenetV2(tfl, {});
  t.is(v2.countParams(), 3538984, 'MobileNetV2 1.0 224 has 3,538,984 parameters');
  t.is(count(v2, 'DepthwiseConv2D'), 17);
  t.is(count(v2, 'Conv2D'), 35);
  t.is(count(v2, 'Add'), 10);
  t.deepEqual(v2.outputs[0].shape, [null, 1000]);
  t.deepEqual(v2.getLayer('conv_head').outputShape, [null, 7, 7, 1280]);
  v2.dispose();
  const v1 = mobilenetV1(tfl, { alpha: 0.25, size: 96, channels: 1, classes: 2 });
  t.is(count(v1, 'DepthwiseConv2D'), 13);
  t.is(count(v1, 'Conv2D'), 14);
  t.deepEqual(v1.getLayer('block13_pw').outputShape, [null, 3, 3, 256]);
  t.deepEqual(v1.layers.filter((l) => l.getClassName() === 'DepthwiseConv2D').map((l) => l.getConfig().strides[0]), [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]);
  v1.dispose();
});

test('built models: int8 throughout, accepted by LiteRT.js, within 1 LSB of Kestrel', async (t) => {
  const lrt = await loadLiteRtNode();
  for (const name of ['mobilenet_v1_0.25_96', 'recipe_lenet', 'recipe_autoencoder', 'recipe_lstm-classifier', 'recipe_driving-cnn']) {
    const { bytes, meta } = await buildModel(name);
    const io = describeModel(bytes);
    t.true(io.inputs.every((x) => x.dtype === 'int8') && io.outputs.every((x) => x.dtype === 'int8'), `${name}: int8 input and output`);
    const inputs = seededInputs(io.inputs, 11);
    const k = await loadModel(bytes, { backend: 'simd', name });
    const kOut = k.run(inputs);
    k.dispose();
    const model = await lrt.lib.loadAndCompile(bytes, { accelerator: 'wasm' });
    const shapes = model.getInputDetails().map((d) => Array.from(d.shape));
    const ts = inputs.map((a, i) => new lrt.lib.Tensor(a, shapes[i]));
    const outs = await model.run(ts);
    const lOut = outs.map((o) => o.toTypedArray());
    for (const o of outs) o.delete();
    for (const x of ts) x.delete();
    model.delete();
    const d = maxAbsDiff(kOut, lOut);
    t.true(d <= 1, `${name}: max |Kestrel - LiteRT.js| = ${d}`);
    t.true(meta.params > 0 && Object.keys(meta.ops).length > 0);
  }
});

test('bench/perf.mjs --json: one row per model with both engines, figures and the roof', async (t) => {
  const { stdout } = await exec(process.execPath, [join(ROOT, 'bench', 'perf.mjs'), '--models', 'hello_world,micro_speech,recipe_lenet', '--min-secs', '0.2', '--rounds', '2', '--warmup', '4', '--warmup-secs', '0.3', '--init-reps', '2', '--roof-secs', '0.3', '--cold-reps', '0', '--json'], { cwd: ROOT, maxBuffer: 16 << 20 });
  const r = JSON.parse(stdout);
  t.deepEqual(r.rows.map((x) => x.model), ['hello_world', 'micro_speech', 'recipe_lenet']);
  t.true(r.roof.roofGmacs > 0 && r.roof.l1RoofGmacs > 0);
  for (const row of r.rows) {
    t.is(row.kestrel.status, 'ok', row.model);
    t.is(row.litert.status, 'ok', row.model);
    t.true(row.kestrel.p50Ms > 0 && row.litert.p50Ms > 0 && row.ratio > 0, row.model);
    t.is(row.kestrel.roundP50Ms.length, 2);
    t.true(row.kestrel.initMedianMs > 0 && row.litert.initMedianMs > 0);
    t.true(row.macs > 0 && row.gmacs > 0);
    t.true(row.maxAbsDiff <= 1, `${row.model}: ${row.maxAbsDiff}`);
  }
  t.true(r.rows[0].repaired, 'hello_world runs the repaired copy');
});

test('bench/perf.mjs --kestrel-backend: relaxed is refused clearly where Node cannot run it; a bad value is a usage error', async (t) => {
  const bad = await exec(process.execPath, [join(ROOT, 'bench', 'perf.mjs'), '--kestrel-backend', 'fast'], { cwd: ROOT }).catch((e) => e);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--kestrel-backend is simd or relaxed/);
  // Plain Node 20 has no relaxed SIMD: the run stops before measuring, naming the reason.
  const { relaxedSupport } = await import('../dist/runtime/index.js');
  if (relaxedSupport().ok) return t.log('this Node runs relaxed SIMD; refusal not checked');
  const r = await exec(process.execPath, [join(ROOT, 'bench', 'perf.mjs'), '--kestrel-backend', 'relaxed', '--models', 'hello_world', '--min-secs', '0.1', '--warmup-secs', '0', '--rounds', '1', '--roof-secs', '0', '--cold-reps', '0', '--init-reps', '1'], { cwd: ROOT }).catch((e) => e);
  t.not(r.code ?? 0, 0);
  t.regex(String(r.stderr), /relaxed SIMD/);
});

test('bench/perf.mjs --no-liftoff is a Chromium setting: a usage error without --browser', async (t) => {
  const bad = await exec(process.execPath, [join(ROOT, 'bench', 'perf.mjs'), '--no-liftoff'], { cwd: ROOT }).catch((e) => e);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--no-liftoff applies to --browser runs/);
});
