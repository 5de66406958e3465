// TensorFlow.js LayersModel -> float Graph -> .tflite. Models are built here with
// @tensorflow/tfjs-layers on the cpu backend with seeded random weights, saved in the
// model.json + weights format, converted, written with writeTflite and run in LiteRT.js;
// the outputs must match tfjs's own model.predict on the same inputs.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { layersModelToGraph, readLayersModelDir } from '../dist/convert/tfjs-layers.js';
import { writeTflite } from '../dist/tflite/writer.js';
import { readTflite } from '../dist/tflite/reader.js';
import { loadLiteRtNode } from '../dist/bench/litert.js';
import { serializeLayersModel } from '../dist/train/save.js';
import { mulberry32 } from '../dist/data/random.js';

await tf.setBackend('cpu');

/** Replaces every weight with seeded random values (positive where BN needs it). */
function randomizeWeights(model, seed) {
  const rnd = mulberry32(seed);
  const ws = model.weights.map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const positive = /moving_variance|gamma/.test(w.originalName ?? w.name);
    for (let i = 0; i < n; i++) v[i] = positive ? 0.5 + rnd() : (rnd() - 0.5) * 1.2;
    return tf.tensor(v, w.shape);
  });
  model.setWeights(ws);
}

/** Saves a model in memory exactly as the model.json + weight file format (Kestrel's own save handler). */
const saveToMemory = (model) => serializeLayersModel(model, {}, 'group1-shard1of1.bin');

function randomInput(shape, seed) {
  const rnd = mulberry32(seed);
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = rnd() * 2 - 1;
  return v;
}

function assertClose(t, got, want, label) {
  t.is(got.length, want.length, `${label}: length`);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (1e-4 + 1e-4 * Math.abs(want[i]));
    if (excess > worst) { worst = excess; at = i; }
  }
  t.true(at < 0, `${label}: element ${at} is ${got[at]}, tfjs gives ${want[at]}`);
}

async function checkWithLiteRt(t, model, { seed, batch = 1, runs = 3 }) {
  randomizeWeights(model, seed);
  const { modelJson, weights } = await saveToMemory(model);
  const graph = layersModelToGraph(modelJson, weights, { source: 'memory', batch });
  const bytes = writeTflite(graph);
  const { lib } = await loadLiteRtNode();
  const compiled = await lib.loadAndCompile(bytes, { accelerator: 'wasm' });
  const inShape = graph.tensors[graph.inputs[0]].shape;
  for (let r = 0; r < runs; r++) {
    const x = randomInput(inShape, seed * 100 + r);
    const want = await model.predict(tf.tensor(x, inShape)).data();
    const outs = await compiled.run([new lib.Tensor(x, inShape)]);
    const got = outs[0].toTypedArray();
    assertClose(t, got, want, `run ${r}`);
  }
  return graph;
}

test('LeNet-like CNN with BatchNormalization, dropout and activation layers matches tfjs in LiteRT.js', async (t) => {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [14, 14, 1], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv1' }));
  m.add(tfl.layers.batchNormalization({ name: 'bn1' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  m.add(tfl.layers.dropout({ rate: 0.3, name: 'drop1' }));
  m.add(tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'tanh', name: 'conv2' }));
  m.add(tfl.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid', name: 'pool2' }));
  m.add(tfl.layers.conv2d({ filters: 5, kernelSize: 2, strides: 2, useBias: false, name: 'conv3' }));
  m.add(tfl.layers.reLU({ maxValue: 6, name: 'relu6' }));
  m.add(tfl.layers.gaussianNoise({ stddev: 0.1, name: 'noise' }));
  m.add(tfl.layers.flatten({ name: 'flat' }));
  m.add(tfl.layers.dense({ units: 12, activation: 'relu6', name: 'fc1' }));
  m.add(tfl.layers.reLU({ name: 'relu' }));
  m.add(tfl.layers.dense({ units: 7, name: 'fc2' }));
  m.add(tfl.layers.activation({ activation: 'softmax', name: 'probs' }));
  const g = await checkWithLiteRt(t, m, { seed: 11 });
  t.deepEqual(g.ops.map((o) => o.opcode), ['CONV_2D', 'MUL', 'ADD', 'MAX_POOL_2D', 'CONV_2D', 'TANH', 'AVERAGE_POOL_2D', 'CONV_2D', 'RELU6', 'RESHAPE', 'FULLY_CONNECTED', 'RELU', 'FULLY_CONNECTED', 'SOFTMAX']);
  t.is(g.ops[0].options.activation, 'RELU');
  t.is(g.ops[10].options.activation, 'RELU6');
  t.is(g.tensors[g.outputs[0]].name, 'probs');
  t.deepEqual(g.tensors[g.ops[0].inputs[1]].shape, [4, 3, 3, 1]);
});

test('a functional depthwise net with same padding, stride 2, Add and Concatenate matches tfjs in LiteRT.js', async (t) => {
  const input = tfl.input({ shape: [15, 15, 3], name: 'image' });
  const stem = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6', name: 'stem' }).apply(input);
  const dw = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, activation: 'relu', name: 'dw' }).apply(stem);
  const pw = tfl.layers.conv2d({ filters: 16, kernelSize: 1, strides: 2, padding: 'same', name: 'proj' }).apply(stem);
  const sum = tfl.layers.add({ name: 'sum' }).apply([dw, pw]);
  const dw2 = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid', useBias: false, name: 'dw2' }).apply(stem);
  const pooled = tfl.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'valid', name: 'mp' }).apply(dw2);
  const bn = tfl.layers.batchNormalization({ center: false, epsilon: 0.01, name: 'bn' }).apply(sum);
  const cat = tfl.layers.concatenate({ axis: -1, name: 'cat' }).apply([bn, pooled]);
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(cat);
  const out = tfl.layers.dense({ units: 4, activation: 'sigmoid', name: 'score' }).apply(gap);
  const m = tfl.model({ inputs: input, outputs: out });
  const g = await checkWithLiteRt(t, m, { seed: 23, batch: 2 });
  t.true(g.ops.some((o) => o.opcode === 'DEPTHWISE_CONV_2D' && o.options.depthMultiplier === 2 && o.options.padding === 'SAME' && o.options.strideW === 2));
  t.true(g.ops.some((o) => o.opcode === 'CONCATENATION' && o.options.axis === 3));
  t.true(g.ops.some((o) => o.opcode === 'MEAN'));
  t.is(g.ops.at(-1).opcode, 'LOGISTIC');
  t.deepEqual(g.tensors[g.inputs[0]].shape, [2, 15, 15, 3]);
  t.is(g.tensors[g.inputs[0]].name, 'image');
});

test('a dense autoencoder with Reshape matches tfjs in LiteRT.js', async (t) => {
  const m = tfl.sequential();
  m.add(tfl.layers.inputLayer({ inputShape: [20], name: 'x' }));
  m.add(tfl.layers.dense({ units: 16, activation: 'relu', name: 'enc1' }));
  m.add(tfl.layers.dense({ units: 6, activation: 'tanh', name: 'code' }));
  m.add(tfl.layers.dense({ units: 16, activation: 'relu', name: 'dec1' }));
  m.add(tfl.layers.reshape({ targetShape: [4, 4], name: 'r' }));
  m.add(tfl.layers.flatten({ name: 'f' }));
  m.add(tfl.layers.dense({ units: 20, activation: 'sigmoid', name: 'recon' }));
  const g = await checkWithLiteRt(t, m, { seed: 5, batch: 3 });
  t.deepEqual(g.ops.map((o) => o.opcode), ['FULLY_CONNECTED', 'FULLY_CONNECTED', 'TANH', 'FULLY_CONNECTED', 'RESHAPE', 'RESHAPE', 'FULLY_CONNECTED', 'LOGISTIC']);
  t.is(g.tensors[g.inputs[0]].name, 'x');
});

// ---------------------------------------------------------------------------
// LSTM: LiteRT.js refuses models with variable tensors (the LSTM state), so the
// converted graph runs in a small float evaluator of TFLite's op semantics written
// here (float UNIDIRECTIONAL_SEQUENCE_LSTM, STRIDED_SLICE, RESHAPE, FULLY_CONNECTED,
// SOFTMAX) and is compared with tfjs.
function evaluate(g, input) {
  const vals = new Map();
  const get = (i) => {
    if (vals.has(i)) return vals.get(i);
    const t = g.tensors[i];
    if (!t.data) return t.isVariable ? new Float32Array(t.shape.reduce((a, b) => a * b, 1)) : null;
    const b = t.data.slice().buffer;
    return t.dtype === 'int32' ? new Int32Array(b) : new Float32Array(b);
  };
  vals.set(g.inputs[0], input);
  const sigmoid = (x) => 1 / (1 + Math.exp(-x));
  const actFn = { TANH: Math.tanh, RELU: (x) => Math.max(0, x), NONE: (x) => x };
  for (const op of g.ops) {
    const outT = g.tensors[op.outputs[0]];
    let out;
    switch (op.opcode) {
      case 'UNIDIRECTIONAL_SEQUENCE_LSTM': {
        const [B, T, F] = g.tensors[op.inputs[0]].shape;
        const x = get(op.inputs[0]);
        const U = g.tensors[op.inputs[1]].shape[0];
        const W = [1, 2, 3, 4].map((k) => get(op.inputs[k]));
        const R = [5, 6, 7, 8].map((k) => get(op.inputs[k]));
        const bias = [12, 13, 14, 15].map((k) => get(op.inputs[k]));
        t_assert([9, 10, 11, 16, 17, 20, 21, 22, 23].every((k) => op.inputs[k] === -1), 'optional LSTM inputs are omitted');
        t_assert(g.tensors[op.inputs[18]].isVariable && g.tensors[op.inputs[19]].isVariable, 'LSTM state tensors are variable');
        const act = actFn[op.options.activation];
        out = new Float32Array(B * T * U);
        for (let b = 0; b < B; b++) {
          let h = new Float32Array(U), c = new Float32Array(U);
          for (let s = 0; s < T; s++) {
            const xs = x.subarray((b * T + s) * F, (b * T + s + 1) * F);
            const gate = (k) => Float32Array.from({ length: U }, (_, u) => {
              let acc = bias[k][u];
              for (let f = 0; f < F; f++) acc += W[k][u * F + f] * xs[f];
              for (let v = 0; v < U; v++) acc += R[k][u * U + v] * h[v];
              return acc;
            });
            const [gi, gf, gc, go] = [0, 1, 2, 3].map(gate);
            const nc = new Float32Array(U), nh = new Float32Array(U);
            for (let u = 0; u < U; u++) {
              nc[u] = sigmoid(gf[u]) * c[u] + sigmoid(gi[u]) * act(gc[u]);
              nh[u] = sigmoid(go[u]) * act(nc[u]);
            }
            c = nc; h = nh;
            out.set(h, (b * T + s) * U);
          }
        }
        break;
      }
      case 'STRIDED_SLICE': {
        const x = get(op.inputs[0]);
        const shape = g.tensors[op.inputs[0]].shape;
        const begin = get(op.inputs[1]), end = get(op.inputs[2]), strides = get(op.inputs[3]);
        t_assert(op.options.beginMask === 0 && op.options.endMask === 0 && op.options.shrinkAxisMask === 0 && [...strides].every((s) => s === 1), 'plain slice');
        const [B, T, U] = shape;
        out = new Float32Array(outT.shape.reduce((a, b) => a * b, 1));
        let k = 0;
        for (let b = begin[0]; b < Math.min(end[0], B); b++) for (let s = begin[1]; s < Math.min(end[1], T); s++) for (let u = begin[2]; u < Math.min(end[2], U); u++) out[k++] = x[(b * T + s) * U + u];
        break;
      }
      case 'RESHAPE':
        out = get(op.inputs[0]);
        break;
      case 'FULLY_CONNECTED': {
        const x = get(op.inputs[0]), w = get(op.inputs[1]), b = get(op.inputs[2]);
        const [O, I] = g.tensors[op.inputs[1]].shape;
        const N = x.length / I;
        out = new Float32Array(N * O);
        for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
          let acc = b ? b[o] : 0;
          for (let i = 0; i < I; i++) acc += w[o * I + i] * x[n * I + i];
          out[n * O + o] = op.options.activation === 'RELU' ? Math.max(0, acc) : acc;
        }
        break;
      }
      case 'SOFTMAX': {
        const x = get(op.inputs[0]);
        const C = outT.shape.at(-1);
        out = new Float32Array(x.length);
        for (let r = 0; r < x.length / C; r++) {
          let mx = -Infinity, sum = 0;
          for (let c = 0; c < C; c++) mx = Math.max(mx, x[r * C + c]);
          for (let c = 0; c < C; c++) sum += (out[r * C + c] = Math.exp(op.options.beta * (x[r * C + c] - mx)));
          for (let c = 0; c < C; c++) out[r * C + c] /= sum;
        }
        break;
      }
      default:
        throw new Error(`evaluator: op ${op.opcode} not handled`);
    }
    vals.set(op.outputs[0], out);
  }
  return vals.get(g.outputs[0]);
}
function t_assert(cond, msg) { if (!cond) throw new Error(`graph check failed: ${msg}`); }

test('an LSTM classifier converts to TFLite LSTM ops that compute what tfjs computes', async (t) => {
  const m = tfl.sequential();
  m.add(tfl.layers.lstm({ inputShape: [7, 5], units: 6, returnSequences: true, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform', name: 'lstm1' }));
  m.add(tfl.layers.spatialDropout1d({ rate: 0.2, name: 'sdrop' }));
  m.add(tfl.layers.lstm({ units: 4, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform', name: 'lstm2' }));
  m.add(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'cls' }));
  randomizeWeights(m, 77);
  const { modelJson, weights } = await saveToMemory(m);
  const batch = 2;
  const g0 = layersModelToGraph(modelJson, weights, { batch });
  const g = readTflite(writeTflite(g0)); // through the file format
  t.deepEqual(g.ops.map((o) => o.opcode), ['UNIDIRECTIONAL_SEQUENCE_LSTM', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'RESHAPE', 'FULLY_CONNECTED', 'SOFTMAX']);
  const lstmOp = g.ops[0];
  t.is(lstmOp.inputs.length, 24);
  t.deepEqual(lstmOp.options, { activation: 'TANH', cellClip: 0, projClip: 0, timeMajor: false, asymmetricQuantizeInputs: false, diagonalRecurrentTensors: false });
  t.deepEqual(g.tensors[lstmOp.inputs[1]].shape, [6, 5]);
  t.deepEqual(g.tensors[lstmOp.inputs[5]].shape, [6, 6]);
  t.deepEqual(g.tensors[g.ops[1].outputs[0]].shape, [batch, 7, 4]);
  t.deepEqual(g.tensors[g.ops[3].outputs[0]].shape, [batch, 4]);
  for (let r = 0; r < 3; r++) {
    const x = randomInput([batch, 7, 5], 900 + r);
    const want = await m.predict(tf.tensor(x, [batch, 7, 5])).data();
    assertClose(t, evaluate(g, x), want, `run ${r}`);
  }
});

// ---------------------------------------------------------------------------
// Files and bad input.

test('readLayersModelDir reads model.json and its weight files; the graph names the directory', async (t) => {
  const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: 'd' })] });
  randomizeWeights(m, 3);
  const { modelJson, weights } = await saveToMemory(m);
  const dir = mkdtempSync(join(os.tmpdir(), 'kestrel-convert-'));
  try {
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), weights);
    const r = readLayersModelDir(dir);
    t.deepEqual([...r.weights], [...weights]);
    const g = layersModelToGraph(r.modelJson, r.weights, { source: dir });
    t.is(g.source, dir);
    t.deepEqual(readLayersModelDir(join(dir, 'model.json')).weights.length, weights.length);
    rmSync(join(dir, 'group1-shard1of1.bin'));
    const e = t.throws(() => readLayersModelDir(dir));
    t.is(e.code, 'E_IO');
    t.true(e.message.includes(join(dir, 'group1-shard1of1.bin')), e.message);
    t.false(e.message.includes('\n'));
    const e2 = t.throws(() => readLayersModelDir(join(dir, 'nothing-here')));
    t.is(e2.code, 'E_IO');
    t.true(e2.message.startsWith(join(dir, 'nothing-here')), e2.message);
    writeFileSync(join(dir, 'model.json'), '{"modelTopology": ');
    const e3 = t.throws(() => readLayersModelDir(dir));
    t.is(e3.code, 'E_CONVERT');
    t.true(e3.message.startsWith(join(dir, 'model.json')), e3.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function badModel(layers, seed = 1) {
  const m = tfl.sequential({ layers });
  randomizeWeights(m, seed);
  return saveToMemory(m);
}

test('an unsupported layer is refused in one line naming the layer', async (t) => {
  const { modelJson, weights } = await badModel([
    tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, name: 'c' }),
    tfl.layers.upSampling2d({ size: [2, 2], name: 'up' }),
  ]);
  const e = t.throws(() => layersModelToGraph(modelJson, weights, { source: 'bad-model' }));
  t.is(e.code, 'E_CONVERT');
  t.regex(e.message, /^bad-model: layer 'up' \(UpSampling2D\) is not supported/);
  t.false(e.message.includes('\n'));
});

test('a NaN weight is refused naming the layer and the weight', async (t) => {
  const { modelJson, weights } = await badModel([
    tfl.layers.dense({ inputShape: [4], units: 3, name: 'first' }),
    tfl.layers.dense({ units: 2, name: 'second' }),
  ]);
  const specs = modelJson.weightsManifest[0].weights;
  let off = 0;
  for (const s of specs) {
    if (s.name === 'second/kernel') break;
    off += s.shape.reduce((a, b) => a * b, 1) * 4;
  }
  new DataView(weights.buffer, weights.byteOffset).setFloat32(off + 8, NaN, true);
  const e = t.throws(() => layersModelToGraph(modelJson, weights));
  t.is(e.code, 'E_CONVERT');
  t.regex(e.message, /layer 'second' \(Dense\): weight 'second\/kernel' holds NaN at element 2/);
  t.false(e.message.includes('\n'));
});

test('hard_sigmoid LSTM gates, a weight size mismatch and float16 weights are refused', async (t) => {
  const lstm = await badModel([tfl.layers.lstm({ inputShape: [3, 2], units: 2, recurrentInitializer: 'glorotUniform', name: 'rnn' })]);
  const e1 = t.throws(() => layersModelToGraph(lstm.modelJson, lstm.weights));
  t.is(e1.code, 'E_CONVERT');
  t.regex(e1.message, /layer 'rnn' \(LSTM\): recurrent_activation 'hard_sigmoid' is not supported/);

  const d = await badModel([tfl.layers.dense({ inputShape: [4], units: 3, name: 'd' })]);
  const e2 = t.throws(() => layersModelToGraph(d.modelJson, d.weights.subarray(0, d.weights.length - 4)));
  t.is(e2.code, 'E_CONVERT');
  t.regex(e2.message, /manifest describes 60 bytes of weights but the weight data holds 56 bytes/);

  const half = JSON.parse(JSON.stringify(d.modelJson));
  half.weightsManifest[0].weights[0].dtype = 'float16';
  const e3 = t.throws(() => layersModelToGraph(half, d.weights));
  t.is(e3.code, 'E_CONVERT');
  t.regex(e3.message, /weight 'd\/kernel' has dtype float16/);
});
