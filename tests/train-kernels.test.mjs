// Kestrel's training kernels for the tfjs wasm backend against the tfjs cpu backend.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setupTrainingBackend } from '../dist/train/kernels/index.js';
import { loopTuning, loops } from '../dist/train/kernels/loops.js';
import { convTuning } from '../dist/train/kernels/conv.js';
import { mulberry32 } from '../dist/data/random.js';

// Each kernel is checked with Kestrel's wasm loops and with its JavaScript fallback loops;
// stride-1 input gradients also once through matmul + col2im instead of XNNPACK Conv2D.
const MODES = [
  { name: 'wasm loops', useWasm: true, viaConv: true },
  { name: 'wasm loops, col2im', useWasm: true, viaConv: false },
  { name: 'js loops', useWasm: false, viaConv: false },
];
function setMode(m) {
  loopTuning.useWasm = m.useWasm;
  convTuning.inputGradViaConv = m.viaConv;
}

let info;
test.before(async () => {
  info = await setupTrainingBackend({ backend: 'kestrel' });
});

// Deterministic data (the project's mulberry32), values in [-1, 1).
function rand(n, seed) {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}
const size = (s) => s.reduce((a, b) => a * b, 1);

// Runs kernel `name` on one backend with fresh tensors built from plain arrays.
async function runOn(backend, name, inputs, attrs) {
  await tf.setBackend(backend);
  const ts = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape, 'float32');
  const out = tf.engine().runKernel(name, ts, attrs);
  const r = { shape: out.shape, data: out.dataSync().slice() };
  tf.dispose([out, ...Object.values(ts)]);
  return r;
}

// |a - b| <= tol * (|b| + mean|b|): relative, with the mean magnitude as a floor near zero.
function close(t, got, want, tol, label) {
  t.deepEqual(got.shape, want.shape, `${label}: shape`);
  let mean = 0;
  for (const v of want.data) mean += Math.abs(v);
  mean /= Math.max(1, want.data.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.data.length; i++) {
    const e = Math.abs(got.data[i] - want.data[i]) / (Math.abs(want.data[i]) + mean + 1e-30);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  t.true(worst <= tol, `${label}: worst relative error ${worst} at ${at} (got ${got.data[at]}, want ${want.data[at]})`);
}

// [N, H, W, CI, KH, KW, CO, strides, pad]
const CONV_CASES = [
  [1, 7, 7, 1, 3, 3, 4, 1, 'valid'],
  [3, 9, 9, 3, 3, 3, 16, 2, 'same'],
  [3, 8, 11, 16, 5, 5, 6, 1, 'same'],
  [1, 10, 10, 3, 5, 5, 16, 2, 'valid'],
  [3, 5, 8, 1, 2, 3, 3, [2, 1], 'same'],
  [1, 12, 12, 16, 1, 1, 3, 2, 'same'],
  [3, 6, 7, 3, 3, 2, 5, [1, 2], [[0, 0], [1, 2], [0, 1], [0, 0]]],
  [1, 9, 6, 3, 4, 4, 1, 3, 1],
  [3, 28, 28, 1, 5, 5, 6, 1, 'valid'],
  [3, 4, 4, 16, 5, 5, 2, 1, 'same'],
];

function convShapes([N, H, W, CI, KH, KW, CO, strides, pad]) {
  const info = tf.backend_util.computeConv2DInfo([N, H, W, CI], [KH, KW, CI, CO], strides, 1, pad);
  return { x: [N, H, W, CI], f: [KH, KW, CI, CO], dy: [N, info.outHeight, info.outWidth, CO] };
}

test.afterEach.always(() => setMode(MODES[0]));

test.serial('the wasm loops run on the backend heap', async (t) => {
  await tf.setBackend('wasm');
  t.truthy(loops(tf.backend()), 'dist/wasm/kestrel-train.wasm did not load on the wasm backend memory');
});

test.serial('Conv2DBackpropFilter matches the cpu backend', async (t) => {
  t.true(info.kernels.includes('Conv2DBackpropFilter'));
  let seed = 1;
  for (const c of CONV_CASES) {
    const s = convShapes(c);
    const inputs = { x: { data: rand(size(s.x), seed++), shape: s.x }, dy: { data: rand(size(s.dy), seed++), shape: s.dy } };
    const attrs = { strides: c[7], pad: c[8], dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: s.f };
    const want = await runOn('cpu', 'Conv2DBackpropFilter', inputs, attrs);
    for (const m of MODES) {
      setMode(m);
      const got = await runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
      close(t, got, want, 1e-4, `Conv2DBackpropFilter ${JSON.stringify(c)} (${m.name})`);
    }
  }
});

test.serial('channels-first (NCHW) convolution gradients match the cpu backend', async (t) => {
  let seed = 200;
  for (const c of [CONV_CASES[1], CONV_CASES[6]]) {
    const s = convShapes(c);
    const nchw = (sh) => [sh[0], sh[3], sh[1], sh[2]];
    // Explicit padding is listed in the data's axis order.
    const pad = Array.isArray(c[8]) ? [c[8][0], c[8][3], c[8][1], c[8][2]] : c[8];
    const base = { strides: c[7], pad, dataFormat: 'NCHW', dimRoundingMode: undefined };
    const fIn = { x: { data: rand(size(s.x), seed++), shape: nchw(s.x) }, dy: { data: rand(size(s.dy), seed++), shape: nchw(s.dy) } };
    const want = await runOn('cpu', 'Conv2DBackpropFilter', fIn, { ...base, filterShape: s.f });
    close(t, await runOn('wasm', 'Conv2DBackpropFilter', fIn, { ...base, filterShape: s.f }), want, 1e-4, `NCHW Conv2DBackpropFilter ${JSON.stringify(c)}`);
    const iIn = { dy: fIn.dy, filter: { data: rand(size(s.f), seed++), shape: s.f } };
    const want2 = await runOn('cpu', 'Conv2DBackpropInput', iIn, { ...base, inputShape: nchw(s.x) });
    close(t, await runOn('wasm', 'Conv2DBackpropInput', iIn, { ...base, inputShape: nchw(s.x) }), want2, 1e-4, `NCHW Conv2DBackpropInput ${JSON.stringify(c)}`);
  }
});

test.serial('Conv2DBackpropInput matches the cpu backend', async (t) => {
  t.true(info.kernels.includes('Conv2DBackpropInput'));
  let seed = 100;
  for (const c of CONV_CASES) {
    const s = convShapes(c);
    const inputs = { dy: { data: rand(size(s.dy), seed++), shape: s.dy }, filter: { data: rand(size(s.f), seed++), shape: s.f } };
    const attrs = { strides: c[7], pad: c[8], dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: s.x };
    const want = await runOn('cpu', 'Conv2DBackpropInput', inputs, attrs);
    for (const m of MODES) {
      setMode(m);
      const got = await runOn('wasm', 'Conv2DBackpropInput', inputs, attrs);
      close(t, got, want, 1e-4, `Conv2DBackpropInput ${JSON.stringify(c)} (${m.name})`);
    }
  }
});

// [N, H, W, C, filterSize, strides, pad]
const POOL_CASES = [
  [1, 6, 6, 1, 2, 2, 'valid'],
  [3, 7, 9, 3, 3, 2, 'same'],
  [3, 24, 24, 16, 2, 2, 'valid'],
  [1, 5, 5, 3, 3, 1, 'same'],
  [3, 8, 7, 16, [2, 3], [1, 2], 'valid'],
  [3, 9, 9, 1, 3, 3, 1],
];

test.serial('MaxPoolGrad matches the cpu backend, ties included', async (t) => {
  t.true(info.kernels.includes('MaxPoolGrad'));
  let seed = 300;
  for (const [N, H, W, C, filterSize, strides, pad] of POOL_CASES) {
    const p = tf.backend_util.computePool2DInfo([N, H, W, C], filterSize, strides, 1, pad);
    // Rounded values after a relu: many equal maxima (zeros and repeats), as in training.
    const x = rand(N * H * W * C, seed++).map((v) => Math.max(0, Math.round(v * 4) / 4));
    await tf.setBackend('cpu');
    const out = tf.tidy(() => tf.maxPool(tf.tensor(x, [N, H, W, C]), filterSize, strides, pad).dataSync().slice());
    const inputs = { dy: { data: rand(size(p.outShape), seed++), shape: p.outShape }, input: { data: x, shape: [N, H, W, C] }, output: { data: out, shape: p.outShape } };
    const attrs = { filterSize, strides, pad, dimRoundingMode: undefined };
    const want = await runOn('cpu', 'MaxPoolGrad', inputs, attrs);
    for (const m of MODES) {
      setMode(m);
      const got = await runOn('wasm', 'MaxPoolGrad', inputs, attrs);
      close(t, got, want, 1e-6, `MaxPoolGrad ${JSON.stringify([N, H, W, C, filterSize, strides, pad])} (${m.name})`);
    }
  }
});

test.serial('Sum matches the cpu backend (leading axes, and the cases handed back)', async (t) => {
  t.true(info.kernels.includes('Sum'));
  const cases = [
    [[3, 5, 7, 16], [0, 1, 2], false],
    [[64, 24, 24, 6], [0, 1, 2], false],
    [[5, 9], [0], false],
    [[3, 5, 7], [1, 0], true],
    [[3, 5, 7], [1, 2], false],
    [[3, 5, 7], [0, 1, 2], false],
    [[4, 6], 1, true],
  ];
  let seed = 400;
  for (const [shape, axis, keepDims] of cases) {
    const inputs = { x: { data: rand(size(shape), seed++), shape } };
    const want = await runOn('cpu', 'Sum', inputs, { axis, keepDims });
    const got = await runOn('wasm', 'Sum', inputs, { axis, keepDims });
    close(t, got, want, 1e-5, `Sum ${JSON.stringify([shape, axis, keepDims])}`);
  }
});

test.serial('BatchMatMul with transposed operands matches the cpu backend', async (t) => {
  t.true(info.kernels.includes('BatchMatMul'));
  const cases = [
    [[5, 7], [5, 9], true, false],
    [[7, 5], [9, 5], false, true],
    [[2, 300], [400, 300], false, true],
    [[64, 120], [256, 120], false, true],
    [[64, 256], [64, 120], true, false],
    [[5, 7], [9, 5], true, true],
    [[3, 4, 5], [3, 6, 5], false, true],
    [[1, 5, 4], [3, 5, 6], true, false],
    [[3, 4, 5], [5, 6], false, false],
  ];
  let seed = 500;
  for (const [as, bs, transposeA, transposeB] of cases) {
    const inputs = { a: { data: rand(size(as), seed++), shape: as }, b: { data: rand(size(bs), seed++), shape: bs } };
    const want = await runOn('cpu', 'BatchMatMul', inputs, { transposeA, transposeB });
    for (const m of MODES) {
      setMode(m);
      const got = await runOn('wasm', 'BatchMatMul', inputs, { transposeA, transposeB });
      close(t, got, want, 1e-4, `BatchMatMul ${JSON.stringify([as, bs, transposeA, transposeB])} (${m.name})`);
    }
  }
});

test.serial('Identity shares the buffer and keeps it alive while either tensor lives', async (t) => {
  t.true(info.kernels.includes('Identity'));
  await tf.setBackend('wasm');
  const data = rand(37, 800);
  const a = tf.tensor(data, [37]);
  const b = tf.clone(a);
  const v = tf.variable(b);
  a.dispose();
  t.deepEqual(Array.from(b.dataSync()), Array.from(data));
  b.dispose();
  v.assign(tf.tensor(rand(37, 801), [37]));
  t.deepEqual(Array.from(v.dataSync()), Array.from(rand(37, 801)));
  const c = tf.clone(v);
  v.dispose();
  t.deepEqual(Array.from(c.dataSync()), Array.from(rand(37, 801)));
  const ints = tf.clone(tf.tensor([1, 2, 3], [3], 'int32'));
  t.deepEqual(Array.from(ints.dataSync()), [1, 2, 3]);
  t.is(ints.dtype, 'int32');
  tf.dispose([c, ints]);
});

test.serial('Tanh matches the cpu backend element by element (within 1e-6 relative)', async (t) => {
  t.true(info.kernels.includes('Tanh'));
  // Wide, near-zero, tiny, special and an odd count (the scalar tail).
  const vals = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-7, 0.6249, 0.625, -0.6251, 8.99, 9, 9.01, 20, -88];
  const wide = rand(4001, 901).map((v) => v * 12);
  const near = rand(3001, 902).map((v) => v * 0.8);
  const tiny = rand(1001, 903).map((v) => v * 1e-4);
  const data = Float32Array.from([...vals, ...wide, ...near, ...tiny]);
  const inputs = { x: { data, shape: [data.length] } };
  const want = await runOn('cpu', 'Tanh', inputs, {});
  const got = await runOn('wasm', 'Tanh', inputs, {});
  let worst = 0;
  let at = -1;
  for (let i = 0; i < data.length; i++) {
    const w = want.data[i];
    const g = got.data[i];
    if (Number.isNaN(w)) {
      t.true(Number.isNaN(g), `tanh(${data[i]}) gave ${g}, want NaN`);
      continue;
    }
    const e = w === 0 ? Math.abs(g) : Math.abs(g - w) / Math.abs(w);
    if (e > worst) {
      worst = e;
      at = i;
    }
  }
  t.true(worst <= 1e-6, `worst relative error ${worst} at tanh(${data[at]}): ${got.data[at]} vs ${want.data[at]}`);
  t.is(Object.is(got.data[1], -0) || got.data[1] === 0, true);
});

function lenet() {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 120, activation: 'relu' }));
  m.add(tfl.layers.dense({ units: 84, activation: 'relu' }));
  m.add(tfl.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}

// The whole LeNet loss gradient, same weights and data on both backends.
async function lenetGrads(backend, weights, xData, labels) {
  await tf.setBackend(backend);
  const m = lenet();
  m.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
  const x = tf.tensor(xData, [5, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  const vars = m.trainableWeights.map((w) => w.val);
  const { value, grads } = tf.variableGrads(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, m.apply(x))), vars);
  const out = m.trainableWeights.map((w) => ({ name: w.originalName, shape: grads[w.val.name].shape, data: grads[w.val.name].dataSync().slice() }));
  const loss = value.dataSync()[0];
  tf.dispose([x, y, value, ...Object.values(grads)]);
  m.dispose?.();
  return { loss, grads: out };
}

test.serial('LeNet loss gradient on kestrel matches the cpu backend', async (t) => {
  await tf.setBackend('cpu');
  const init = lenet();
  const weights = init.getWeights().map((w, i) => ({ shape: w.shape, data: rand(size(w.shape), 500 + i).map((v) => v * (w.shape.length > 1 ? 0.3 : 0.05)) }));
  const xData = rand(5 * 28 * 28, 7).map((v) => (v + 1) / 2);
  const labels = [3, 1, 4, 1, 5];
  const want = await lenetGrads('cpu', weights, xData, labels);
  const got = await lenetGrads('wasm', weights, xData, labels);
  t.true(Math.abs(got.loss - want.loss) <= 1e-3 * Math.abs(want.loss), `loss ${got.loss} vs ${want.loss}`);
  t.is(got.grads.length, 10);
  for (let i = 0; i < want.grads.length; i++) close(t, got.grads[i], want.grads[i], 1e-3, `gradient of ${want.grads[i].name}`);
});

test.serial('setupTrainingBackend: kestrel by default, idempotent, switches to cpu and back', async (t) => {
  t.is(info.backend, 'kestrel');
  t.is(info.threads, 1);
  t.deepEqual([...info.kernels].sort(), ['BatchMatMul', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Identity', 'MaxPoolGrad', 'Sum', 'Tanh']);
  const again = await setupTrainingBackend();
  t.deepEqual(again, info);
  t.is(tf.getBackend(), 'wasm');
  const cpu = await setupTrainingBackend({ backend: 'cpu' });
  t.deepEqual(cpu, { backend: 'cpu', kernels: [], threads: 1 });
  t.is(tf.getBackend(), 'cpu');
  // Kestrel's kernels stay registered, so plain 'wasm' is reported as what it is.
  const wasm = await setupTrainingBackend({ backend: 'wasm' });
  t.is(wasm.backend, 'kestrel');
  t.is(tf.getBackend(), 'wasm');
  await t.throwsAsync(() => setupTrainingBackend({ backend: 'gpu' }), { message: /unknown training backend 'gpu'/ });
  await t.throwsAsync(() => setupTrainingBackend({ threads: 0 }), { message: /threads/ });
});

// Five Adam steps from the same weights: the optimizer's updates run through Identity,
// Sum and the element-wise kernels too.
async function lenetLosses(backend, weights, xData, labels) {
  await tf.setBackend(backend);
  const m = lenet();
  m.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const x = tf.tensor(xData, [8, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  const losses = [];
  for (let i = 0; i < 5; i++) losses.push(await m.trainOnBatch(x, y));
  tf.dispose([x, y]);
  return losses;
}

test.serial('LeNet trained five Adam steps on kestrel follows the cpu backend', async (t) => {
  await tf.setBackend('cpu');
  const init = lenet();
  const weights = init.getWeights().map((w, i) => ({ shape: w.shape, data: rand(size(w.shape), 600 + i).map((v) => v * (w.shape.length > 1 ? 0.3 : 0.05)) }));
  const xData = rand(8 * 28 * 28, 8).map((v) => (v + 1) / 2);
  const labels = [0, 1, 2, 3, 4, 5, 6, 7];
  const want = await lenetLosses('cpu', weights, xData, labels);
  const got = await lenetLosses('wasm', weights, xData, labels);
  t.true(want[4] < want[0], `cpu loss should fall: ${want}`);
  for (let i = 0; i < 5; i++) t.true(Math.abs(got[i] - want[i]) <= 2e-3 * Math.abs(want[i]), `step ${i}: loss ${got[i]} vs ${want[i]}`);
});

function lstmModel() {
  const m = tfl.sequential();
  m.add(tfl.layers.lstm({ inputShape: [6, 5], units: 8 }));
  m.add(tfl.layers.dense({ units: 3, activation: 'softmax' }));
  return m;
}

async function lstmGrads(backend, weights, xData, labels) {
  await tf.setBackend(backend);
  const m = lstmModel();
  m.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
  const x = tf.tensor(xData, [4, 6, 5]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
  const vars = m.trainableWeights.map((w) => w.val);
  const { value, grads } = tf.variableGrads(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, m.apply(x))), vars);
  const out = m.trainableWeights.map((w) => ({ name: w.originalName, shape: grads[w.val.name].shape, data: grads[w.val.name].dataSync().slice() }));
  tf.dispose([x, y, value, ...Object.values(grads)]);
  return out;
}

test.serial('an LSTM model (orthogonal recurrent initializer) builds, trains, and its gradient matches the cpu backend', async (t) => {
  await setupTrainingBackend();
  const m = lstmModel();
  m.compile({ optimizer: tf.train.adam(), loss: 'categoricalCrossentropy' });
  const xData = rand(4 * 6 * 5, 900).map((v) => v * 2);
  const labels = [0, 1, 2, 1];
  const x = tf.tensor(xData, [4, 6, 5]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
  const loss = await m.trainOnBatch(x, y);
  t.true(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
  tf.dispose([x, y]);
  const weights = m.getWeights().map((w, i) => ({ shape: w.shape, data: rand(size(w.shape), 950 + i).map((v) => v * 0.6) }));
  const want = await lstmGrads('cpu', weights, xData, labels);
  const got = await lstmGrads('wasm', weights, xData, labels);
  for (let i = 0; i < want.length; i++) close(t, got[i], want[i], 1e-3, `LSTM gradient of ${want[i].name}`);
});

test.serial('a fresh process asking for the stock wasm backend gets it without Kestrel kernels', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const url = new URL('../dist/train/kernels/index.js', import.meta.url).href;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import { setupTrainingBackend } from '${url}'; console.log(JSON.stringify(await setupTrainingBackend({ backend: 'wasm' })));`], { encoding: 'utf8' });
  t.deepEqual(JSON.parse(out.trim().split('\n').pop()), { backend: 'wasm', kernels: [], threads: 1 });
});

test.serial('without a wasm backend it warns once and trains on cpu', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const url = new URL('../dist/train/kernels/index.js', import.meta.url).href;
  const code = `import * as tf from '@tensorflow/tfjs-core'; import { setupTrainingBackend } from '${url}'; tf.removeBackend('wasm'); const a = await setupTrainingBackend(); const b = await setupTrainingBackend(); console.log(JSON.stringify([a, b, tf.getBackend()]));`;
  const p = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: new URL('..', import.meta.url) });
  t.is(p.status, 0, p.stderr);
  const [a, b, active] = JSON.parse(p.stdout.trim().split('\n').pop());
  t.deepEqual(a, { backend: 'cpu', kernels: [], threads: 1 });
  t.deepEqual(b, a);
  t.is(active, 'cpu');
  const warnings = p.stderr.split('\n').filter((l) => l.startsWith('warning:'));
  t.is(warnings.length, 1, p.stderr);
  t.regex(warnings[0], /wasm training backend could not start.*cpu backend/);
});
