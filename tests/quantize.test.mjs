// Post-training int8 quantization. Oracles: LiteRT.js (float and int8 runs of the same
// files), tfjs (training and predict), a direct float LSTM evaluation written here, and
// hand-computed values. The int8 files must load in Kestrel and LiteRT.js.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readTflite } from '../dist/tflite/reader.js';
import { writeTflite } from '../dist/tflite/writer.js';
import { layersModelToGraph } from '../dist/convert/tfjs-layers.js';
import { loadDataset } from '../dist/data/index.js';
import { loadModel } from '../dist/runtime/model.js';
import { loadLiteRtNode } from '../dist/bench/litert.js';
import { repairForLiteRt } from '../dist/bench/tflite-patch.js';
import { runFloat } from '../dist/quantize/interpreter.js';
import { unrollLstms } from '../dist/quantize/lstm.js';
import { cleanupGraph } from '../dist/quantize/passes.js';
import { calibrate } from '../dist/quantize/calibrate.js';
import { quantizeModel } from '../dist/quantize/index.js';
import { addTensor, constFloat, constTensor, makeOp } from '../dist/quantize/tensor-data.js';
import { FIXTURES, ROOT } from './helpers.mjs';
import { serializeLayersModel } from '../dist/train/save.js';
import { mulberry32 } from '../dist/data/random.js';

import { setupTrainingBackend } from '../dist/train/kernels/index.js';

// tfjs on its wasm backend with Kestrel's training kernels: the CNN below trains in seconds.
await setupTrainingBackend({ backend: 'kestrel' });
const MODELS = join(FIXTURES, 'models', 'float');
const HELLO = join(MODELS, 'hello_world_float.tflite');
const LSTM = join(MODELS, 'trained_lstm.tflite');
const KESTREL = join(ROOT, 'bin', 'kestrel.js');
const tmp = mkdtempSync(join(os.tmpdir(), 'kestrel-quantize-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const readGraph = (p) => readTflite(new Uint8Array(readFileSync(p)), { source: p });
// The bundled Fashion-MNIST subset (5,000 train / 1,000 test images), so the suite runs on any clone.
const FMNIST = `fashion-mnist:${join(ROOT, 'assets', 'fashion-mnist-subset')}`;
const fashion = (split, limit) => loadDataset(FMNIST, { split, limit });

/** Writes a float32 .npy file (C order). */
function writeNpy(path, data, shape) {
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  const pad = (64 - (total % 64)) % 64;
  const h = header + ' '.repeat(pad) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1'); pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(h.length, 8);
  writeFileSync(path, Buffer.concat([pre, Buffer.from(h, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

let litert;
async function liteRt() { litert ??= await loadLiteRtNode(); return litert; }

async function liteRtRunner(bytes) {
  const { lib } = await liteRt();
  const m = await lib.loadAndCompile(repairForLiteRt(bytes).bytes, { accelerator: 'wasm' });
  return async (xs, shapes) => {
    const ts = xs.map((x, i) => new lib.Tensor(x, shapes[i]));
    const outs = await m.run(ts);
    const r = outs.map((o) => o.toTypedArray());
    outs.forEach((o) => o.delete()); ts.forEach((x) => x.delete());
    return r;
  };
}

function quantizeInput(t, x) {
  const { scale: [s], zeroPoint: [z] } = t.quant;
  return Int8Array.from(x, (v) => Math.max(-128, Math.min(127, Math.round(v / s) + z)));
}
const dequant = (t, a) => Float32Array.from(a, (v) => (v - t.quant.zeroPoint[0]) * t.quant.scale[0]);
const maxAbsDiff = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

/**
 * Runs an int8 file in Kestrel and LiteRT.js on samples. Returns the largest output difference
 * between the two (in LSB) and the largest dequantized error against the float outputs.
 */
async function interop(bytes, samples, floatGraph) {
  const g = readTflite(bytes);
  const inT = g.tensors[g.inputs[0]], outT = g.tensors[g.outputs[0]];
  const kestrel = await loadModel(bytes);
  const lr = await liteRtRunner(bytes);
  let lsb = 0, err = 0, n = 0, agreeArgmax = 0;
  const argmax = (a) => a.indexOf(Math.max(...a));
  for (const x of samples) {
    const xq = quantizeInput(inT, x);
    const k = kestrel.run([xq])[0];
    const l = (await lr([xq], [inT.shape]))[0];
    lsb = Math.max(lsb, maxAbsDiff(k, l));
    if (argmax(Array.from(k)) === argmax(Array.from(l))) agreeArgmax++;
    const f = runFloat(floatGraph, [x])[0];
    err = Math.max(err, maxAbsDiff(dequant(outT, k), f));
    n++;
  }
  kestrel.dispose();
  return { lsb, err, argmaxAgreement: agreeArgmax / n };
}

/**
 * Every op of an int8 file, fed the same int8 inputs in both runtimes (Kestrel's values of all
 * intermediate tensors), must give outputs within 1 LSB in LiteRT.js. Returns the worst
 * difference and the number of ops checked.
 */
async function perOpInterop(bytes, samples, maxOps = Infinity) {
  const g = readTflite(bytes);
  const all = { ...g, outputs: [...new Set([...g.inputs, ...g.ops.flatMap((o) => o.outputs)])] };
  const kestrel = await loadModel(writeTflite(all));
  const values = samples.map((x) => {
    const outs = kestrel.run([quantizeInput(g.tensors[g.inputs[0]], x)]);
    return new Map(all.outputs.map((t, i) => [t, outs[i]]));
  });
  kestrel.dispose();
  const seen = new Set();
  let worst = 0, checked = 0;
  for (const op of g.ops) {
    const key = `${op.opcode}:${op.inputs.map((i) => (i < 0 ? '-' : g.tensors[i].shape.join('x') + (g.tensors[i].data ? 'c' : ''))).join('/')}`;
    if (seen.has(key) && checked >= maxOps) continue;
    seen.add(key);
    const live = op.inputs.filter((i) => i >= 0 && !g.tensors[i].data);
    const one = { ...g, ops: [op], inputs: [...new Set(live)], outputs: op.outputs };
    const lr = await liteRtRunner(writeTflite(one));
    for (const v of values) {
      const got = (await lr(one.inputs.map((i) => v.get(i)), one.inputs.map((i) => g.tensors[i].shape)))[0];
      worst = Math.max(worst, maxAbsDiff(got, v.get(op.outputs[0])));
    }
    checked++;
  }
  return { worst, checked };
}

const fileSamples = (ds, n, from = 0) => Array.from({ length: n }, (_, i) => ds.x.slice((from + i) * 784, (from + i + 1) * 784));

// ---------------------------------------------------------------------------------------
// Float interpreter

test('float interpreter matches LiteRT.js on hello_world_float.tflite', async (t) => {
  const bytes = new Uint8Array(readFileSync(HELLO));
  const g = readGraph(HELLO);
  const lr = await liteRtRunner(bytes);
  for (let i = 0; i < 20; i++) {
    const x = new Float32Array([i * 0.33]);
    const want = (await lr([x], [[1, 1]]))[0];
    const got = runFloat(g, [x])[0];
    t.true(Math.abs(got[0] - want[0]) < 1e-5, `x=${x[0]}: ${got[0]} vs LiteRT ${want[0]}`);
  }
});

/** A float CNN with batch norm, relu, relu6, depthwise, max/avg pooling, tanh, concat, mean, logistic. */
async function zooModel() {
  const input = tfl.input({ shape: [12, 12, 3] });
  let a = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same' }).apply(input);
  a = tfl.layers.batchNormalization().apply(a);
  a = tfl.layers.reLU().apply(a);
  let b = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid', depthMultiplier: 2, activation: 'relu6' }).apply(a);
  b = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(b);
  let c = tfl.layers.averagePooling2d({ poolSize: 2, padding: 'same' }).apply(a);
  c = tfl.layers.conv2d({ filters: 12, kernelSize: 2, activation: 'tanh' }).apply(c);
  const m = tfl.layers.concatenate().apply([b, c]);
  const d = tfl.layers.globalAveragePooling2d({}).apply(m);
  const out = tfl.layers.dense({ units: 5, activation: 'sigmoid' }).apply(d);
  return tfl.model({ inputs: input, outputs: out });
}

const saveToMemory = (model) => serializeLayersModel(model, {}, 'w.bin');

/**
 * A float graph built op by op: PAD, CONV_2D, MUL/ADD by per-channel constants (to fold),
 * standalone RELU6 (to fuse), MAX_POOL_2D, STRIDED_SLICE, SUB by a scalar, MEAN, LOGISTIC,
 * CONCATENATION (of a fixed-parameter and a free tensor), EXPAND_DIMS, RESHAPE, FULLY_CONNECTED,
 * SOFTMAX with beta 0.5.
 */
function builtGraph(seed) {
  const rnd = mulberry32(seed);
  const r = (n, a = 1) => Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * a);
  const g = { source: 'built', description: '', version: 3, tensors: [], ops: [], inputs: [], outputs: [], metadata: {} };
  const act = (name, shape) => addTensor(g, { name, shape, dtype: 'float32' });
  const op = (code, ins, name, shape, options = {}) => { const o = act(name, shape); g.ops.push(makeOp(code, ins, [o], options)); return o; };
  const x = act('x', [1, 6, 6, 2]);
  g.inputs = [x];
  const p = op('PAD', [x, constTensor(g, 'pads', [4, 2], 'int32', [0, 0, 1, 1, 1, 1, 0, 0])], 'pad', [1, 8, 8, 2]);
  const c = op('CONV_2D', [p, constTensor(g, 'w', [4, 3, 3, 2], 'float32', r(72, 0.5)), constTensor(g, 'b', [4], 'float32', r(4, 0.2))], 'conv', [1, 6, 6, 4],
    { padding: 'VALID', strideW: 1, strideH: 1, activation: 'NONE', dilationW: 1, dilationH: 1 });
  const m = op('MUL', [c, constTensor(g, 'bn_scale', [4], 'float32', [1.5, 0.7, 2, 0.9])], 'bn_mul', [1, 6, 6, 4], { activation: 'NONE' });
  const a = op('ADD', [m, constTensor(g, 'bn_shift', [4], 'float32', [0.1, -0.2, 0.3, 0])], 'bn_add', [1, 6, 6, 4], { activation: 'NONE' });
  const r6 = op('RELU6', [a], 'relu6', [1, 6, 6, 4]);
  const mp = op('MAX_POOL_2D', [r6], 'pool', [1, 3, 3, 4], { padding: 'VALID', strideW: 2, strideH: 2, filterW: 2, filterH: 2, activation: 'NONE' });
  const sl = op('STRIDED_SLICE', [mp, constTensor(g, 'begin', [4], 'int32', [0, 0, 0, 0]), constTensor(g, 'end', [4], 'int32', [1, 3, 3, 2]), constTensor(g, 'strides', [4], 'int32', [1, 1, 1, 1])],
    'slice', [1, 3, 3, 2], { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false });
  const sb = op('SUB', [sl, constTensor(g, 'half', [1], 'float32', [0.5])], 'sub', [1, 3, 3, 2], { activation: 'NONE', potScaleInt16: true });
  const mean = op('MEAN', [sb, constTensor(g, 'axes', [2], 'int32', [1, 2])], 'mean', [1, 2], { keepDims: false });
  const lg = op('LOGISTIC', [mean], 'logistic', [1, 2]);
  const cat = op('CONCATENATION', [mean, lg], 'concat', [1, 4], { axis: 1, activation: 'NONE' });
  const ex = op('EXPAND_DIMS', [cat, constTensor(g, 'axis', [1], 'int32', [1])], 'expand', [1, 1, 4]);
  const rs = op('RESHAPE', [ex, constTensor(g, 'shape', [2], 'int32', [1, 4])], 'flat', [1, 4], { newShape: [1, 4] });
  const fc = op('FULLY_CONNECTED', [rs, constTensor(g, 'fc_w', [3, 4], 'float32', r(12)), constTensor(g, 'fc_b', [3], 'float32', r(3, 0.1))], 'fc', [1, 3],
    { activation: 'NONE', weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false, quantizedBiasType: 0 });
  g.outputs = [op('SOFTMAX', [fc], 'probs', [1, 3], { beta: 0.5 })];
  g.ops.forEach((o, k) => { o.index = k; });
  return g;
}

test('built float graph: interpreter and clean-up match LiteRT.js float; int8 runs in both runtimes', async (t) => {
  const g = builtGraph(21);
  const lrFloat = await liteRtRunner(writeTflite(g));
  const { graph: clean, stats } = cleanupGraph(g);
  t.is(stats.foldedBatchNorm, 2);
  t.is(stats.fusedActivations, 1);
  const rnd = mulberry32(22);
  const data = (n) => Array.from({ length: n }, () => Float32Array.from({ length: 72 }, () => rnd() * 4 - 2));
  const held = data(30);
  for (const x of held) {
    const want = (await lrFloat([x], [[1, 6, 6, 2]]))[0];
    t.true(maxAbsDiff(runFloat(g, [x])[0], want) < 1e-5);
    t.true(maxAbsDiff(runFloat(clean, [x])[0], want) < 1e-5);
  }
  const r = await quantizeModel(g, data(200), { evalData: held });
  t.true((r.report.ops.QUANTIZE ?? 0) >= 1, 'the LOGISTIC output is requantized into the concatenation');
  const q = readTflite(r.bytes);
  for (const o of q.ops.filter((o) => ['PAD', 'MAX_POOL_2D', 'STRIDED_SLICE', 'EXPAND_DIMS', 'RESHAPE', 'CONCATENATION'].includes(o.opcode))) {
    for (const i of o.inputs.filter((i) => q.tensors[i].dtype === 'int8')) {
      t.deepEqual(q.tensors[i].quant.scale, q.tensors[o.outputs[0]].quant.scale, `${o.opcode} input and output scales`);
      t.deepEqual(q.tensors[i].quant.zeroPoint, q.tensors[o.outputs[0]].quant.zeroPoint);
    }
  }
  const sm = q.ops.find((o) => o.opcode === 'SOFTMAX');
  t.deepEqual([q.tensors[sm.outputs[0]].quant.scale[0], q.tensors[sm.outputs[0]].quant.zeroPoint[0]], [1 / 256, -128]);
  const io = await interop(r.bytes, held, r.floatGraph);
  t.log(`built graph: Kestrel vs LiteRT ${io.lsb} LSB; |int8 - float| ≤ ${io.err.toFixed(4)}`);
  t.true(io.lsb <= 2);
  t.true(io.err < 0.05, `int8 vs float ${io.err}`);
  const ops = await perOpInterop(r.bytes, held.slice(0, 5));
  t.true(ops.worst <= 1, `an op differs by ${ops.worst} LSB`);
});

// ---------------------------------------------------------------------------------------
// LSTM unrolling

/** The LSTM model evaluated directly from its weights (TFLite's LSTM equations, state from zero). */
function directLstm(g, x) {
  const op = g.ops.find((o) => o.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM');
  const W = (k) => constFloat(g.tensors[op.inputs[k]]);
  const [, T, I] = g.tensors[op.inputs[0]].shape;
  const H = g.tensors[op.inputs[2]].shape[0];
  const clip = op.options.cellClip;
  const sig = (v) => 1 / (1 + Math.exp(-v));
  let h = new Float64Array(H);
  const c = new Float64Array(H);
  const seq = [];
  for (let t = 0; t < T; t++) {
    const gate = (k) => {
      const Wx = W(1 + k), R = W(5 + k), b = W(12 + k);
      return Array.from({ length: H }, (_, j) => {
        let s = b[j];
        for (let i = 0; i < I; i++) s += Wx[j * I + i] * x[t * I + i];
        for (let i = 0; i < H; i++) s += R[j * H + i] * h[i];
        return s;
      });
    };
    const [zi, zf, zc, zo] = [0, 1, 2, 3].map(gate);
    const nh = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      c[j] = sig(zf[j]) * c[j] + sig(zi[j]) * Math.tanh(zc[j]);
      if (clip > 0) c[j] = Math.max(-clip, Math.min(clip, c[j]));
      nh[j] = sig(zo[j]) * Math.tanh(c[j]);
    }
    h = nh;
    seq.push(...h);
  }
  return Float32Array.from(seq);
}

test('unrolled LSTM (float) matches a direct LSTM evaluation on trained_lstm.tflite', (t) => {
  const g = readGraph(LSTM);
  const u = readGraph(LSTM);
  t.is(unrollLstms(u), 1);
  const { graph } = cleanupGraph(u);
  t.false(graph.ops.some((o) => o.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM'));
  t.false(graph.tensors.some((x) => x.isVariable));
  const ds = fashion('test', 5);
  // The rest of the model (RESHAPE, FULLY_CONNECTED, SOFTMAX) applied to the direct sequence.
  const fcOp = g.ops.find((o) => o.opcode === 'FULLY_CONNECTED');
  const Wf = constFloat(g.tensors[fcOp.inputs[1]]), bf = constFloat(g.tensors[fcOp.inputs[2]]);
  for (const x of fileSamples(ds, 5)) {
    const seq = directLstm(g, x);
    const logits = Array.from(bf, (b, u) => { let s = b; for (let i = 0; i < seq.length; i++) s += Wf[u * seq.length + i] * seq[i]; return s; });
    const m = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - m));
    const want = e.map((v) => v / e.reduce((p, q) => p + q));
    const got = runFloat(graph, [x])[0];
    t.true(maxAbsDiff(got, want) < 1e-5, `unrolled ${Array.from(got)} vs direct ${want}`);
  }
});

test('unrolled LSTM (float) with a batch of 2: each row matches the direct evaluation', (t) => {
  // The LSTM op of trained_lstm alone, batch 2, its whole sequence as the graph output: the
  // unrolled graph takes step t's rows of the input-side product with stride T.
  const g = readGraph(LSTM);
  const op = g.ops.find((o) => o.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM');
  const [, T, I] = g.tensors[op.inputs[0]].shape;
  const H = g.tensors[op.inputs[2]].shape[0];
  g.tensors[op.inputs[0]].shape = [2, T, I];
  g.tensors[op.outputs[0]].shape = [2, T, H];
  for (const k of [18, 19]) g.tensors[op.inputs[k]].shape = [2, H];
  g.ops = [op];
  g.inputs = [op.inputs[0]];
  g.outputs = [op.outputs[0]];
  const direct = readGraph(LSTM);
  t.is(unrollLstms(g), 1);
  const { graph } = cleanupGraph(g);
  const [a, b] = fileSamples(fashion('test', 2), 2);
  const x = new Float32Array(2 * T * I);
  x.set(a); x.set(b, T * I);
  const got = runFloat(graph, [x])[0];
  t.is(got.length, 2 * T * H);
  t.true(maxAbsDiff(got.subarray(0, T * H), directLstm(direct, a)) < 1e-5);
  t.true(maxAbsDiff(got.subarray(T * H), directLstm(direct, b)) < 1e-5);
});

test('LSTM variants that cannot be unrolled are refused naming the op', (t) => {
  for (const [what, edit] of [
    ['peephole', (op) => { op.inputs[9] = op.inputs[13]; }],
    ['time_major', (op) => { op.options.timeMajor = true; }],
    ['CIFG', (op) => { op.inputs[1] = -1; }],
    ['projection', (op) => { op.inputs[16] = op.inputs[5]; }],
  ]) {
    const g = readGraph(LSTM);
    edit(g.ops[0]);
    const e = t.throws(() => unrollLstms(g), undefined, what);
    t.is(e.code, 'E_QUANTIZE');
    t.regex(e.message, /UNIDIRECTIONAL_SEQUENCE_LSTM/);
    t.false(e.message.includes('\n'));
  }
});

// ---------------------------------------------------------------------------------------
// Calibration

test('calibration methods: minmax, ema, percentile and mse ranges (hand-computed)', (t) => {
  // One-op graph y = RELU(x) over 100000 values: x ramps 0.5..1.5; the second sample has one outlier of 10.
  const g = readGraph(HELLO);
  g.ops = [{ index: 0, opcode: 'RELU', customCode: '', version: 1, inputs: [0], outputs: [9], intermediates: [], options: {} }];
  g.tensors[0].shape = [1, 100000]; g.tensors[9].shape = [1, 100000];
  g.outputs = [9];
  const x = Float32Array.from({ length: 100000 }, (_, i) => i / 99999 + 0.5);
  const x2 = Float32Array.from(x); x2[3] = 10;
  const s = [[x], [x2]];
  const mm = calibrate(g, s, { method: 'minmax' }).get(0);
  t.is(mm.min, 0); // widened to include 0
  t.is(mm.max, 10);
  const ema = calibrate(g, s, { method: 'ema', batchSize: 1, emaDecay: 0.5 }).get(0);
  t.true(Math.abs(ema.max - (0.5 * 1.5 + 0.5 * 10)) < 1e-4, `ema max ${ema.max}`);
  // 99.9%: the outlier is among the 200 highest values cut off; the range ends near 1.5.
  const p = calibrate(g, s, { method: 'percentile', percentile: 99.9 }).get(0);
  t.true(p.max >= 1.49 && p.max < 1.52, `percentile max ${p.max}`);
  // MSE: clipping the range [0, 10] to [0, m] costs (10 - m)² for the outlier and saves
  // 200000 × ((10 - m)/255)²/12 ... overall minimal near m = 8 (hand-computed: f(m) =
  // (10 - m)² + 200000 m² / (12 × 255²), f'(m) = 0 at m = 10 / (1 + 200000 / (12 × 255²)) ≈ 7.96).
  const mse = calibrate(g, s, { method: 'mse' }).get(0);
  t.true(mse.max > 7.5 && mse.max < 8.5, `mse max ${mse.max}`);
  t.throws(() => calibrate(g, [], {}), { message: /calibration set is empty/ });
});

// ---------------------------------------------------------------------------------------
// Quantization: interop and accuracy

test('hello_world_float: int8 file runs in Kestrel and LiteRT.js, tracks float', async (t) => {
  const g = readGraph(HELLO);
  const rnd = mulberry32(7);
  const calib = Array.from({ length: 300 }, () => new Float32Array([rnd() * 2 * Math.PI]));
  const held = Array.from({ length: 200 }, () => new Float32Array([rnd() * 2 * Math.PI]));
  const r = await quantizeModel(g, calib, { evalData: held });
  t.is(r.report.evaluated_with, 'kestrel');
  t.deepEqual(r.report.ops, { FULLY_CONNECTED: 3 });
  const q = readTflite(r.bytes);
  t.is(q.tensors[q.inputs[0]].dtype, 'int8');
  t.deepEqual(q.tensors[q.ops[0].inputs[1]].quant.zeroPoint, new Array(16).fill(0));
  t.is(q.tensors[q.ops[0].inputs[2]].dtype, 'int32');
  const io = await interop(r.bytes, held, g);
  t.log(`hello_world: Kestrel vs LiteRT ${io.lsb} LSB max; |int8 - float| ≤ ${io.err.toFixed(4)} (output range ≈ ±1.2)`);
  t.true(io.lsb <= 2, `Kestrel vs LiteRT.js ${io.lsb} LSB`);
  t.true(io.err < 0.08, `int8 vs float ${io.err}`);
  const ops = await perOpInterop(r.bytes, held.slice(0, 50));
  t.true(ops.worst <= 1, `an op differs by ${ops.worst} LSB between Kestrel and LiteRT.js with equal inputs`);
  t.true(r.report.layers.every((l) => l.sqnr_db > 20), JSON.stringify(r.report.layers));
  // float I/O: QUANTIZE in, DEQUANTIZE out.
  const f = await quantizeModel(g, calib, { io: 'float', evalData: held });
  const fq = readTflite(f.bytes);
  t.is(fq.ops[0].opcode, 'QUANTIZE');
  t.is(fq.ops.at(-1).opcode, 'DEQUANTIZE');
  t.is(fq.tensors[fq.outputs[0]].dtype, 'float32');
  const km = await loadModel(f.bytes);
  const lr = await liteRtRunner(f.bytes);
  for (const x of held.slice(0, 20)) {
    const a = km.run([x])[0], b = (await lr([x], [[1, 1]]))[0];
    t.true(Math.abs(a[0] - b[0]) <= 2 * fq.tensors[fq.ops.at(-1).inputs[0]].quant.scale[0] + 1e-6);
    t.true(Math.abs(a[0] - runFloat(g, [x])[0][0]) < 0.08);
  }
});

test('trained_lstm: unrolled int8 file runs in Kestrel and LiteRT.js, tracks float', async (t) => {
  const g = readGraph(LSTM);
  // Trained on MNIST rows; there is no MNIST here, so Fashion-MNIST rows calibrate it and the
  // error is measured against the float model's outputs.
  const calib = fashion('train', 200);
  const held = fashion('test', 100);
  const r = await quantizeModel(g, calib, { evalData: { x: held.x, xShape: held.xShape, source: held.source }, calibCount: 200 });
  t.false(r.report.ops.UNIDIRECTIONAL_SEQUENCE_LSTM !== undefined);
  t.true('output_mse' in r.report.quality);
  const fg = r.floatGraph;
  const samples = fileSamples(held, 30);
  const io = await interop(r.bytes, samples, fg);
  t.log(`trained_lstm: ${r.report.int8_bytes} bytes (float ${r.report.float_bytes}); Kestrel vs LiteRT ${io.lsb} LSB max, argmax agreement ${io.argmaxAgreement}; |int8 - float| ≤ ${io.err.toFixed(3)}; output MSE vs float ${r.report.output_vs_float.mse.toExponential(2)}`);
  // 28 recurrent steps amplify each runtime's 1-LSB rounding differences; the top class agrees.
  t.true(io.lsb <= 48, `Kestrel vs LiteRT.js ${io.lsb} LSB`);
  t.true(io.argmaxAgreement >= 0.95, `argmax agreement ${io.argmaxAgreement}`);
  t.true(io.err < 0.35, `int8 vs float softmax ${io.err}`);
  t.true(r.report.output_vs_float.mse < 2e-3);
  // One copy of each weight matrix (two gate sets, input and recurrent side; the dense layer),
  // no constant stored twice; the file stays within 1.7x the float one (was 2.8x with per-step
  // copies of every tensor's parameters and per-gate products).
  const q = readTflite(r.bytes);
  t.is(new Set(q.ops.filter((o) => o.opcode === 'FULLY_CONNECTED').map((o) => o.inputs[1])).size, 5);
  t.deepEqual(duplicateConstants(q), []);
  t.true(r.report.int8_bytes < 1.7 * statSync(LSTM).size, `${r.report.int8_bytes} bytes`);
  const ops = await perOpInterop(r.bytes, samples.slice(0, 3), 40);
  t.log(`per-op check: ${ops.checked} ops, worst ${ops.worst} LSB`);
  t.true(ops.worst <= 1, `an op differs by ${ops.worst} LSB between Kestrel and LiteRT.js with equal inputs`);
});

/** Constant tensors of a graph that are exact copies of another one (type, shape, bytes, parameters). */
function duplicateConstants(g) {
  const seen = new Map(), dups = [];
  for (const x of g.tensors) {
    if (!x.data) continue;
    const key = `${x.dtype}|${x.shape}|${Buffer.from(x.data).toString('base64')}|${x.quant ? `${x.quant.scale}|${x.quant.zeroPoint}` : ''}`;
    if (seen.has(key)) dups.push(`${x.name} = ${seen.get(key)}`); else seen.set(key, x.name);
  }
  return dups;
}

let lstmClassifierModel;
/** The lstm-classifier recipe trained for 150 steps on Fashion-MNIST rows, and its float graph (trained once per run). */
function trainLstmClassifier() {
  lstmClassifierModel ??= (async () => {
    const { lstmClassifier } = await import('../dist/train/recipes.js');
    const { model } = lstmClassifier({ inputShape: [28, 28], classes: 10, seed: 3 });
    const train = fashion('train', 4800);
    const x = tf.tensor3d(train.x, [4800, 28, 28]);
    const y = tf.oneHot(tf.tensor1d(train.y, 'int32'), 10);
    await model.fit(x, y, { batchSize: 64, epochs: 2, shuffle: false, verbose: 0 }); // 150 steps
    x.dispose(); y.dispose();
    const { modelJson, weights } = await saveToMemory(model);
    return { model, g: layersModelToGraph(modelJson, weights, { source: 'lstm-classifier' }) };
  })();
  return lstmClassifierModel;
}

test('LSTM(64) classifier (the lstm-classifier recipe, 150 training steps): one copy of each weight matrix, accuracy kept, both runtimes', async (t) => {
  const { model, g } = await trainLstmClassifier();
  const held = fashion('test', 500);
  const r = await quantizeModel(g, fashion('train', 300), { evalData: held, evalCount: 500 });
  // tfjs's predictions are the oracle for the unrolled float graph.
  const pred = model.predict(tf.tensor3d(held.x.slice(0, 5 * 784), [5, 28, 28])).dataSync();
  fileSamples(held, 5).forEach((s, i) => t.true(maxAbsDiff(runFloat(r.floatGraph, [s])[0], pred.slice(i * 10, i * 10 + 10)) < 1e-4));
  const q = readTflite(r.bytes);
  const fcs = q.ops.filter((o) => o.opcode === 'FULLY_CONNECTED');
  // Per gate set (sigmoid gates, cell gate): one input-side FC for all 28 steps and one
  // recurrent FC per step after the first; plus the dense layer.
  t.is(fcs.length, 2 + 2 * 27 + 1);
  const weightTensors = new Set(fcs.map((o) => o.inputs[1]));
  t.is(weightTensors.size, 2 * 2 + 1, 'every step reads the same two recurrent weight matrices');
  t.deepEqual(duplicateConstants(q), []);
  // The recurrent products carry no bias (the gate biases are in the input-side product).
  t.true(fcs.filter((o) => q.tensors[o.inputs[0]].shape.at(-1) === 64 && q.tensors[o.outputs[0]].shape.at(-1) !== 10).every((o) => !(o.inputs[2] >= 0)));
  const { float_accuracy: fa, int8_accuracy: qa } = r.report.quality;
  t.log(`LSTM(64): ${r.report.int8_bytes} / ${r.report.float_bytes} bytes (${(100 * r.report.int8_bytes / r.report.float_bytes).toFixed(1)}%), ${q.ops.length} ops; accuracy float ${fa}, int8 ${qa} (500 test images)`);
  t.true(fa > 0.5, `float accuracy ${fa}`);
  t.true(qa >= fa - 0.02, `int8 accuracy ${qa} vs float ${fa}`);
  // 24,458 weights: the int8 file stays below the float one (not near 30%: see docs/quantization.md).
  t.true(r.report.int8_bytes < 0.9 * r.report.float_bytes, `${r.report.int8_bytes} vs float ${r.report.float_bytes}`);
  const io = await interop(r.bytes, fileSamples(held, 60), r.floatGraph);
  t.log(`LSTM(64): Kestrel vs LiteRT ${io.lsb} LSB max, argmax agreement ${io.argmaxAgreement}; |int8 - float| ≤ ${io.err.toFixed(3)}`);
  t.true(io.argmaxAgreement >= 0.95, `argmax agreement ${io.argmaxAgreement}`);
  t.true(io.lsb <= 64, `Kestrel vs LiteRT.js ${io.lsb} LSB`);
});

/** The single fused LSTM op of an int8 file, checked against the layout of TFLite's converter. */
function checkFusedLstm(t, q) {
  const lstms = q.ops.filter((o) => o.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM');
  t.is(lstms.length, 1);
  const op = lstms[0];
  const T = (i) => q.tensors[i];
  const x = T(op.inputs[0]), out = T(op.outputs[0]);
  t.is(x.dtype, 'int8');
  t.is(out.dtype, 'int8');
  for (let k = 1; k <= 8; k++) {
    const w = T(op.inputs[k]);
    t.is(w.dtype, 'int8');
    t.is(w.quant.scale.length, 1, `weights ${k} per tensor`);
    t.is(w.quant.zeroPoint[0], 0);
    const v = new Int8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
    t.true(v.every((b) => b >= -127), 'symmetric weights never use -128');
  }
  for (let g = 0; g < 4; g++) {
    const b = T(op.inputs[12 + g]);
    t.is(b.dtype, 'int32');
    t.is(b.quant.zeroPoint[0], 0);
    t.is(b.quant.scale[0], Math.fround(x.quant.scale[0] * T(op.inputs[1 + g]).quant.scale[0]));
  }
  for (const k of [9, 10, 11, 16, 17, 20, 21, 22, 23]) t.is(op.inputs[k], -1);
  const h = T(op.inputs[18]), c = T(op.inputs[19]);
  t.true(h.isVariable && c.isVariable);
  t.is(h.dtype, 'int8');
  t.deepEqual([h.quant.scale, h.quant.zeroPoint], [out.quant.scale, out.quant.zeroPoint]);
  t.is(c.dtype, 'int16');
  t.is(c.quant.zeroPoint[0], 0);
  t.true(Number.isInteger(Math.log2(c.quant.scale[0])), `cell scale ${c.quant.scale[0]} is a power of two`);
  if (op.options.cellClip > 0) t.true(32768 * c.quant.scale[0] >= op.options.cellClip);
  t.is(op.intermediates.length, 5);
  op.intermediates.slice(0, 4).forEach((i) => { t.is(T(i).dtype, 'float32'); t.deepEqual(T(i).shape, [0]); t.falsy(T(i).quant?.scale?.length); });
  const e = T(op.intermediates[4]);
  t.is(e.dtype, 'int8');
  t.deepEqual(e.shape, [0]);
  t.deepEqual([e.quant.scale, e.quant.zeroPoint], [out.quant.scale, out.quant.zeroPoint]);
  t.is(op.options.activation, 'TANH');
  t.false(!!op.options.timeMajor);
  return { op, cellScale: c.quant.scale[0] };
}

test('trained_lstm with lstm: fused: one integer LSTM op, runs in Kestrel, tracks float like TFLite\'s own int8 conversion', async (t) => {
  const g = readGraph(LSTM);
  const calib = fashion('train', 200);
  const held = fashion('test', 100);
  const r = await quantizeModel(g, calib, { evalData: held, calibCount: 200, lstm: 'fused' });
  t.is(r.report.lstm, 'fused');
  t.is(r.report.evaluated_with, 'kestrel');
  t.true(r.report.notes.some((n) => /LiteRT\.js refuses/.test(n)));
  const q = readTflite(r.bytes);
  checkFusedLstm(t, q);
  // The float LSTM of the interpreter (what was calibrated) against the direct evaluation.
  const samples = fileSamples(held, 30);
  const op = r.floatGraph.ops.find((o) => o.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM');
  t.truthy(op);
  const lstmOnly = { ...r.floatGraph, ops: [op], outputs: [op.outputs[0]] };
  t.true(maxAbsDiff(runFloat(lstmOnly, [samples[0]])[0], directLstm(r.floatGraph, samples[0])) < 1e-5);
  // Oracle: the same float model converted by TFLite's converter (int8, its own calibration),
  // run in Kestrel, which matches TFLite bit for bit.
  const refBytes = new Uint8Array(readFileSync(join(FIXTURES, 'reference-extra', 'real', 'trained_lstm_int8_range1', 'model.tflite')));
  const mine = await loadModel(r.bytes), ref = await loadModel(refBytes);
  const rq = readTflite(refBytes);
  const argmax = (a) => a.indexOf(Math.max(...a));
  let errMine = 0, errRef = 0, seMine = 0, seRef = 0, agreeFloat = 0, agreeRef = 0, n = 0;
  for (const x of samples) {
    const f = runFloat(g, [x])[0];
    // Both files keep the LSTM state across runs (TFLite semantics); every sample starts at zero.
    mine.resetState(); ref.resetState();
    const a = dequant(q.tensors[q.outputs[0]], mine.run([quantizeInput(q.tensors[q.inputs[0]], x)])[0]);
    const b = dequant(rq.tensors[rq.outputs[0]], ref.run([quantizeInput(rq.tensors[rq.inputs[0]], x)])[0]);
    errMine = Math.max(errMine, maxAbsDiff(a, f)); errRef = Math.max(errRef, maxAbsDiff(b, f));
    for (let i = 0; i < f.length; i++) { seMine += (a[i] - f[i]) ** 2; seRef += (b[i] - f[i]) ** 2; n++; }
    if (argmax(Array.from(a)) === argmax(Array.from(f))) agreeFloat++;
    if (argmax(Array.from(a)) === argmax(Array.from(b))) agreeRef++;
  }
  mine.dispose(); ref.dispose();
  const floatBytes = statSync(LSTM).size;
  t.log(`trained_lstm fused: ${r.bytes.length} bytes (${(100 * r.bytes.length / floatBytes).toFixed(1)}% of ${floatBytes}; TFLite's converter ${refBytes.length}); |int8 - float| ≤ ${errMine.toFixed(3)} (TFLite's file ${errRef.toFixed(3)}), MSE ${(seMine / n).toExponential(2)} (${(seRef / n).toExponential(2)}); argmax = float ${agreeFloat}/30, = TFLite's file ${agreeRef}/30`);
  // The bounds of the unrolled file (test above), and no worse than TFLite's own conversion.
  t.true(errMine < 0.35, `int8 vs float softmax ${errMine}`);
  t.true(seMine / n < 2e-3, `MSE ${seMine / n}`);
  t.true(r.report.output_vs_float.mse < 2e-3);
  t.true(errMine <= 1.15 * errRef + 0.02, `max error ${errMine} vs TFLite's ${errRef}`);
  t.true(agreeFloat >= 27, `top class agrees with float on ${agreeFloat}/30`);
  t.true(agreeRef >= 24, `top class agrees with TFLite's int8 file on ${agreeRef}/30`);
  // Its data is 24% of the float file; with the flatbuffer tables it is no larger than TFLite's file.
  t.true(r.bytes.length <= refBytes.length, `${r.bytes.length} vs TFLite's ${refBytes.length} bytes`);
  t.true(r.bytes.length <= 0.35 * floatBytes, `${r.bytes.length} vs float ${floatBytes}`);
});

test('LSTM(64) classifier quantized with lstm: fused: ≤ 30% of the float file, accuracy within 2 points', async (t) => {
  const { model, g } = await trainLstmClassifier();
  const held = fashion('test', 500);
  const r = await quantizeModel(g, fashion('train', 300), { evalData: held, evalCount: 500, lstm: 'fused' });
  const q = readTflite(r.bytes);
  checkFusedLstm(t, q);
  t.is(r.report.evaluated_with, 'kestrel');
  // tfjs's predictions are the oracle for the float graph with the LSTM op.
  const pred = model.predict(tf.tensor3d(held.x.slice(0, 5 * 784), [5, 28, 28])).dataSync();
  fileSamples(held, 5).forEach((s, i) => t.true(maxAbsDiff(runFloat(r.floatGraph, [s])[0], pred.slice(i * 10, i * 10 + 10)) < 1e-4));
  // Accuracy of the int8 file in Kestrel, counted here against the labels.
  const m = await loadModel(r.bytes);
  const inT = q.tensors[q.inputs[0]];
  let right = 0;
  fileSamples(held, 500).forEach((x, i) => { m.resetState(); const o = Array.from(m.run([quantizeInput(inT, x)])[0]); if (o.indexOf(Math.max(...o)) === held.y[i]) right++; });
  m.dispose();
  const { float_accuracy: fa, int8_accuracy: qa } = r.report.quality;
  t.is(qa, right / 500);
  t.log(`LSTM(64) fused: ${r.report.int8_bytes} / ${r.report.float_bytes} bytes (${(100 * r.report.int8_bytes / r.report.float_bytes).toFixed(1)}%), ${q.ops.length} ops; accuracy float ${fa}, int8 ${qa} (500 test images)`);
  t.true(fa > 0.5, `float accuracy ${fa}`);
  t.true(qa >= fa - 0.02, `int8 accuracy ${qa} vs float ${fa}`);
  t.true(r.report.int8_bytes <= 0.3 * r.report.float_bytes, `${r.report.int8_bytes} vs float ${r.report.float_bytes}`);
});

let trainedCnn;
/** A small CNN (conv, batch norm, relu, pooling, dense, softmax) trained briefly on Fashion-MNIST with tfjs. */
async function trainCnn() {
  if (trainedCnn) return trainedCnn;
  const train = fashion('train', 1000);
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, strides: 2, useBias: false, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.batchNormalization(),
      tfl.layers.reLU(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
      tfl.layers.dropout({ rate: 0.2, seed: 5 }), // seeded: an unseeded mask made each run train a different model
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.003), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor4d(train.x, [1000, 28, 28, 1]);
  const y = tf.tensor1d(train.y, 'float32');
  await model.fit(x, y, { batchSize: 32, epochs: 8, shuffle: false, verbose: 0 }); // 256 steps
  x.dispose(); y.dispose();
  trainedCnn = { model, ...(await saveToMemory(model)) };
  return trainedCnn;
}

test('trained Fashion-MNIST CNN: batch norm folded, int8 in Kestrel and LiteRT.js, accuracy kept, size ≤ 30%', async (t) => {
  const { model, modelJson, weights } = await trainCnn();
  const g = layersModelToGraph(modelJson, weights, { source: 'cnn' });
  const held = fashion('test', 300);
  const r = await quantizeModel(g, fashion('train', 300), { evalData: held, calibration: 'percentile' });
  t.is(r.report.calibration.method, 'percentile');
  t.true(r.report.cleanup.foldedBatchNorm >= 1, JSON.stringify(r.report.cleanup));
  t.false('MUL' in r.report.ops || 'ADD' in r.report.ops, JSON.stringify(r.report.ops));
  // tfjs's own predictions are the oracle for the float graph.
  const xs = fileSamples(held, 10);
  const pred = model.predict(tf.tensor4d(held.x.slice(0, 7840), [10, 28, 28, 1])).dataSync();
  xs.forEach((x, i) => t.true(maxAbsDiff(runFloat(r.floatGraph, [x])[0], pred.slice(i * 10, i * 10 + 10)) < 1e-4));
  const { float_accuracy: fa, int8_accuracy: qa } = r.report.quality;
  t.log(`CNN: float ${fa}, int8 ${qa}, ${r.report.int8_bytes} / ${r.report.float_bytes} bytes`);
  t.true(fa > 0.6, `float accuracy ${fa}`);
  t.true(qa >= fa - 0.02, `int8 accuracy ${qa} vs float ${fa}`);
  t.true(r.report.int8_bytes <= 0.3 * r.report.float_bytes, `${r.report.int8_bytes} > 30% of ${r.report.float_bytes}`);
  const io = await interop(r.bytes, fileSamples(held, 100), r.floatGraph);
  t.log(`CNN: Kestrel vs LiteRT ${io.lsb} LSB max, argmax agreement ${io.argmaxAgreement}; |int8 - float| ≤ ${io.err.toFixed(3)}`);
  // Each op agrees within 1 LSB (below); through four quantized layers the differences compound.
  t.true(io.lsb <= 4, `Kestrel vs LiteRT.js ${io.lsb} LSB`);
  t.true(io.argmaxAgreement >= 0.97, `argmax agreement ${io.argmaxAgreement}`);
  t.true(io.err < 0.15, `softmax int8 vs float ${io.err}`);
  const ops = await perOpInterop(r.bytes, fileSamples(held, 10));
  t.true(ops.worst <= 1, `an op differs by ${ops.worst} LSB`);
  for (const l of r.report.layers) t.true(l.sqnr_db > 15, `${l.name} ${l.sqnr_db} dB`);
});

test('model zoo (depthwise, concat, avg pool, tanh, mean, sigmoid; seeded weights): int8 runs in both runtimes', async (t) => {
  const model = await zooModel();
  const rnd = mulberry32(11);
  model.setWeights(model.weights.map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const pos = /moving_variance|gamma/.test(w.originalName ?? w.name);
    return tf.tensor(Float32Array.from({ length: n }, () => (pos ? 0.5 + rnd() : (rnd() - 0.5) * 1.2)), w.shape);
  }));
  const { modelJson, weights } = await saveToMemory(model);
  let g;
  try { g = layersModelToGraph(modelJson, weights, { source: 'zoo' }); } catch (e) { t.log(`converter: ${e.message}`); g = null; }
  if (!g) { t.fail('the converter refused the zoo model'); return; }
  const data = (n) => Array.from({ length: n }, () => Float32Array.from({ length: 432 }, () => rnd() * 2 - 1));
  const held = data(40);
  const pred = model.predict(tf.tensor4d(Float32Array.from(held.flatMap((x) => Array.from(x))), [40, 12, 12, 3])).dataSync();
  for (const method of ['minmax', 'ema', 'mse']) {
    const r = await quantizeModel(g, data(100), { evalData: held, calibration: method });
    held.forEach((x, i) => t.true(maxAbsDiff(runFloat(r.floatGraph, [x])[0], pred.slice(i * 5, i * 5 + 5)) < 1e-4));
    const q = readTflite(r.bytes);
    const dw = q.ops.find((o) => o.opcode === 'DEPTHWISE_CONV_2D');
    t.is(q.tensors[dw.inputs[1]].quant.quantizedDimension, 3);
    const cat = q.ops.find((o) => o.opcode === 'CONCATENATION');
    for (const i of cat.inputs) t.deepEqual(q.tensors[i].quant.scale, q.tensors[cat.outputs[0]].quant.scale);
    const io = await interop(r.bytes, held, r.floatGraph);
    t.log(`zoo ${method}: Kestrel vs LiteRT ${io.lsb} LSB; |int8 - float| ≤ ${io.err.toFixed(4)}`);
    t.true(io.lsb <= 2);
    t.true(io.err < 0.05, `${method}: sigmoid int8 vs float ${io.err}`);
  }
  const r = await quantizeModel(g, data(50), { perTensor: true, evalData: held });
  const q = readTflite(r.bytes);
  t.true(q.ops.filter((o) => o.opcode === 'CONV_2D').every((o) => q.tensors[o.inputs[1]].quant.scale.length === 1));
  const ops = await perOpInterop(r.bytes, held.slice(0, 5));
  t.true(ops.worst <= 1, `an op differs by ${ops.worst} LSB`);
});

test('int16Layers (16x8) and floatLayers', async (t) => {
  const g = readGraph(HELLO);
  const rnd = mulberry32(3);
  const calib = Array.from({ length: 200 }, () => new Float32Array([rnd() * 2 * Math.PI]));
  const name = g.tensors[g.ops[1].outputs[0]].name;
  const r16 = await quantizeModel(g, calib, { int16Layers: [name] });
  const q = readTflite(r16.bytes);
  const fc = q.ops.find((o) => q.tensors[o.inputs[0]].dtype === 'int16');
  t.is(fc.opcode, 'FULLY_CONNECTED');
  t.is(q.tensors[fc.inputs[2]].dtype, 'int64');
  t.is(r16.report.evaluated_with, 'kestrel');
  t.deepEqual(r16.report.int16_layers, [name]);
  t.true(r16.report.output_vs_float.max_abs_error < 0.08);
  // LiteRT.js runs the 16x8 layer too; fed the same input, the two agree within 1 LSB.
  const km = await loadModel(r16.bytes);
  const lr16 = await liteRtRunner(r16.bytes);
  for (let v = -128; v < 128; v += 15) {
    const a = km.run([new Int8Array([v])])[0], b = (await lr16([new Int8Array([v])], [[1, 1]]))[0];
    t.true(Math.abs(a[0] - b[0]) <= 1, `x=${v}: Kestrel ${a[0]}, LiteRT.js ${b[0]}`);
  }
  const rf = await quantizeModel(g, calib, { floatLayers: [name] });
  t.is(rf.report.evaluated_with, 'simulation');
  t.regex(rf.report.notes.join(' '), /Kestrel's runtime runs integer ops only/);
  const qf = readTflite(rf.bytes);
  t.true(qf.ops.some((o) => o.opcode === 'DEQUANTIZE') && qf.ops.some((o) => o.opcode === 'QUANTIZE'));
  const lr = await liteRtRunner(rf.bytes);
  const x = quantizeInput(qf.tensors[qf.inputs[0]], new Float32Array([1]));
  const y = dequant(qf.tensors[qf.outputs[0]], (await lr([x], [[1, 1]]))[0]);
  t.true(Math.abs(y[0] - runFloat(g, [new Float32Array([1])])[0][0]) < 0.08);
  await t.throwsAsync(quantizeModel(g, calib, { int16Layers: ['nope'] }), { message: /no layer named 'nope'/ });
});

test('autoencoder: quality is the reconstruction MSE against the input', async (t) => {
  const input = tfl.input({ shape: [16] });
  const h = tfl.layers.dense({ units: 6, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }).apply(input);
  const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 16, kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }).apply(h) });
  const { modelJson, weights } = await saveToMemory(model);
  const g = layersModelToGraph(modelJson, weights, { source: 'ae' });
  const rnd = mulberry32(9);
  const data = (n) => ({ x: Float32Array.from({ length: n * 16 }, () => rnd()), xShape: [n, 16] });
  const held = data(100);
  const r = await quantizeModel(g, data(200), { evalData: held });
  const { float_mse: fm, int8_mse: qm } = r.report.quality;
  // The oracle: tfjs's reconstruction error on the same samples.
  const pred = model.predict(tf.tensor2d(held.x, [100, 16])).dataSync();
  let want = 0;
  for (let i = 0; i < pred.length; i++) want += (pred[i] - held.x[i]) ** 2;
  t.true(Math.abs(fm - want / pred.length) < 1e-5, `float_mse ${fm} vs tfjs ${want / pred.length}`);
  t.true(Math.abs(qm - fm) < 0.05 * fm + 1e-3, `int8_mse ${qm} vs float ${fm}`);

  // Image-shaped samples with class labels (as a dataset loader gives them): refused unless
  // reshaping is asked for; then read row-major, noted, and still scored as reconstruction.
  const img = (n) => ({ ...data(n), xShape: [n, 4, 4, 1], y: Int32Array.from({ length: n }, (_, i) => i % 3) });
  await t.throwsAsync(quantizeModel(g, img(50)), { message: /shape \[50,4,4,1\].*\[1,16\]/ });
  const heldImg = { ...img(100), x: held.x };
  const r2 = await quantizeModel(g, img(200), { evalData: heldImg, reshapeSamples: true });
  t.true(Math.abs(r2.report.quality.float_mse - want / pred.length) < 1e-5, JSON.stringify(r2.report.quality));
  t.true(r2.report.notes.some((n) => /\[4,4,1\] read as \[16\]/.test(n)), r2.report.notes.join('; '));
});

// ---------------------------------------------------------------------------------------
// Bad input

test('refusals: NaN weights, empty or mis-shaped calibration, unsupported ops', async (t) => {
  const g = readGraph(HELLO);
  const nan = readGraph(HELLO);
  const w = nan.tensors[5];
  const v = new Float32Array(w.data.slice().buffer); v[7] = NaN;
  w.data = new Uint8Array(v.buffer);
  const e1 = await t.throwsAsync(quantizeModel(nan, [new Float32Array([1])]));
  t.is(e1.code, 'E_CONVERT');
  t.regex(e1.message, /sequential\/dense_1\/MatMul.*NaN/);
  const e2 = await t.throwsAsync(quantizeModel(g, []));
  t.is(e2.code, 'E_QUANTIZE');
  t.regex(e2.message, /empty/);
  const e3 = await t.throwsAsync(quantizeModel(readGraph(LSTM), { x: new Float32Array(10 * 32 * 32), xShape: [10, 32, 32] }));
  t.regex(e3.message, /\[10,32,32\].*\[1,28,28\]/);
  const odd = readGraph(HELLO);
  odd.ops[1].opcode = 'SQUARED_DIFFERENCE';
  odd.ops[2].opcode = 'GELU';
  const e4 = await t.throwsAsync(quantizeModel(odd, [new Float32Array([1])]));
  t.regex(e4.message, /cannot quantize op\(s\) SQUARED_DIFFERENCE, GELU/);
  for (const e of [e1, e2, e3, e4]) t.false(e.message.includes('\n'));
});

// ---------------------------------------------------------------------------------------
// CLI

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
const run = async (args) => {
  try {
    const r = await promisify(execFile)(process.execPath, [KESTREL, 'quantize', ...args], { cwd: tmp });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

test('kestrel quantize: .npy calibration, report, and one-line refusals that write nothing', async (t) => {
  const rnd = mulberry32(5);
  const calib = join(tmp, 'calib.npy');
  writeNpy(calib, Float32Array.from({ length: 200 }, () => rnd() * 6.28), [200, 1]);
  const out = join(tmp, 'hw_int8.tflite');
  const report = join(tmp, 'hw.json');
  const held = join(tmp, 'held.npy');
  writeNpy(held, Float32Array.from({ length: 100 }, () => rnd() * 6.28), [100, 1]);
  const ok = await run(['--model', HELLO, '--calib', calib, '--eval', held, '--out', out, '--report', report, '--calibration', 'mse']);
  t.is(ok.code, 0, ok.stderr);
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  t.is(rep.calibration.method, 'mse');
  t.is(rep.io, 'int8');
  t.true(rep.per_channel);
  t.deepEqual(Object.keys(rep).filter((k) => ['calibration', 'io', 'per_channel', 'float_bytes', 'int8_bytes', 'ops', 'layers', 'quality'].includes(k)).length, 8);
  t.is(rep.int8_bytes, statSync(out).size);
  t.true(rep.eval.held_out);
  t.is(rep.eval.samples, 100);
  t.true(rep.output_vs_float.max_abs_error < 0.1);
  const km = await loadModel(new Uint8Array(readFileSync(out)));
  t.is(km.inputs[0].dtype, 'int8');
  // Refusals: each one line, exit non-zero, nothing written.
  const badNpy = join(tmp, 'bad.npy');
  writeNpy(badNpy, new Float32Array(12), [4, 3]);
  const emptyNpy = join(tmp, 'empty.npy');
  writeNpy(emptyNpy, new Float32Array(0), [0, 1]);
  const nanDir = join(tmp, 'nan.tflite');
  const gn = readGraph(HELLO);
  const wv = new Float32Array(gn.tensors[4].data.slice().buffer); wv[0] = Infinity;
  gn.tensors[4].data = new Uint8Array(wv.buffer);
  writeFileSync(nanDir, writeTflite(gn));
  const before = readFileSync(HELLO);
  const cases = [
    [['--model', HELLO, '--calib', badNpy, '--out', join(tmp, 'x1.tflite')], /\[4,3\].*\[1,1\]/],
    [['--model', HELLO, '--calib', emptyNpy, '--out', join(tmp, 'x2.tflite')], /empty|no samples|0 samples/i],
    [['--model', nanDir, '--calib', calib, '--out', join(tmp, 'x3.tflite')], /infinite/],
    [['--model', HELLO, '--calib', calib, '--out', HELLO, '--force'], /overwrite the input/],
    [['--model', HELLO, '--calib', calib, '--out', out], /exists/],
    [['--model', HELLO, '--calib', calib, '--out', join(tmp, 'x4.tflite'), '--int16-layers', 'nope'], /no layer named 'nope'/],
    [['--model', join(tmp, 'missing.tflite'), '--calib', calib, '--out', join(tmp, 'x5.tflite')], /no such file/],
  ];
  for (const [args, re] of cases) {
    const r = await run(args);
    t.not(r.code, 0, args.join(' '));
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  for (const f of ['x1', 'x2', 'x3', 'x4', 'x5']) t.false(existsSync(join(tmp, `${f}.tflite`)));
  t.deepEqual(readFileSync(HELLO), before);
});

test('kestrel quantize: a LayersModel directory with Fashion-MNIST calibration, float I/O', async (t) => {
  const { modelJson, weights } = await trainCnn();
  const dir = join(tmp, 'cnn');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const mj = structuredClone(modelJson);
  mj.weightsManifest[0].paths = ['group1-shard1of1.bin'];
  writeFileSync(join(dir, 'model.json'), JSON.stringify(mj));
  writeFileSync(join(dir, 'group1-shard1of1.bin'), weights);
  writeFileSync(join(dir, 'kestrel.json'), JSON.stringify({ normalization: { scale: 1 / 255, offset: 0 } }));
  const out = join(tmp, 'cnn_int8.tflite');
  const r = await run(['--model', dir, '--calib', FMNIST, '--calib-count', '200', '--eval-count', '200', '--io', 'float', '--out', out, '--json']);
  t.is(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  t.is(rep.io, 'float');
  t.true(rep.eval.held_out);
  t.regex(rep.eval.source, /test/);
  t.true(rep.quality.int8_accuracy >= rep.quality.float_accuracy - 0.03, JSON.stringify(rep.quality));
  const km = await loadModel(new Uint8Array(readFileSync(out)));
  t.is(km.inputs[0].dtype, 'float32');
  t.is(km.outputs[0].dtype, 'float32');
  t.false(existsSync(join(dir, 'cnn_int8.tflite')));
});

test('kestrel quantize --lstm fused writes one integer LSTM op; an unknown --lstm value is refused before writing', async (t) => {
  const out = join(tmp, 'lstm_fused.tflite');
  const r = await run(['--model', LSTM, '--calib', FMNIST, '--calib-count', '50', '--eval-count', '20', '--lstm', 'fused', '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /LiteRT\.js refuses/);
  const q = readGraph(out);
  t.is(q.ops.filter((o) => o.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM').length, 1);
  const bad = join(tmp, 'lstm_bad.tflite');
  const b = await run(['--model', LSTM, '--calib', FMNIST, '--lstm', 'fold', '--out', bad]);
  t.not(b.code, 0);
  t.regex(b.stderr, /--lstm/);
  t.false(existsSync(bad));
});
