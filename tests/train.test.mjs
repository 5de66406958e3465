// Training: every recipe learns on a small subset, runs are reproducible, saved models
// reload in TensorFlow.js and predict the same, curves are drawn, bad input trains nothing.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { trainRecipe, evaluateModel, splitAutoencoder, lenet } from '../dist/train/index.js';
import { loadDataset } from '../dist/data/index.js';
import { readTflite } from '../dist/tflite/reader.js';
import { loadLiteRtNode } from '../dist/bench/litert.js';
import { kestrel, oneLineError, ROOT } from './helpers.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-train-'));
// The bundled Fashion-MNIST subset (5,000 train / 1,000 test images; assets/fashion-mnist-subset),
// so the suite runs on any clone; the full Debian set is read in tests/data.test.mjs.
const FMNIST = `fashion-mnist:${join(ROOT, 'assets', 'fashion-mnist-subset')}`;

/** Loads a saved model with tfjs' own loader from the files on disk. */
async function reload(dir) {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const [group] = json.weightsManifest;
  const bin = readFileSync(join(dir, group.paths[0]));
  const model = await tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: group.weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }));
  return { model, json };
}

const predict = (model, x, shape) => tf.tidy(() => model.predict(tf.tensor(x, shape)).dataSync());

/** Runs the saved float .tflite in LiteRT.js one sample at a time and compares with tfjs. */
async function checkTfliteInLiteRt(t, dir, tfModel, x, inShape, count) {
  const { lib } = await loadLiteRtNode();
  const compiled = await lib.loadAndCompile(new Uint8Array(readFileSync(join(dir, 'model.tflite'))), { accelerator: 'wasm' });
  const per = inShape.reduce((a, b) => a * b, 1);
  let maxd = 0;
  for (let i = 0; i < count; i++) {
    const xi = x.slice(i * per, (i + 1) * per);
    const want = predict(tfModel, xi, [1, ...inShape]);
    const got = (await compiled.run([new lib.Tensor(xi, [1, ...inShape])]))[0].toTypedArray();
    t.is(got.length, want.length);
    for (let k = 0; k < want.length; k++) maxd = Math.max(maxd, Math.abs(got[k] - want[k]));
  }
  t.true(maxd < 1e-4, `LiteRT.js vs tfjs: max difference ${maxd}`);
}

function weightsOf(model) {
  return model.getWeights().map((w) => Buffer.from(w.dataSync().buffer.slice(0)));
}

test.serial('lenet learns Fashion-MNIST from 600 samples; saved model reloads and predicts the same', async (t) => {
  const out = join(tmp, 'lenet');
  const r = await trainRecipe({ recipe: 'lenet', data: FMNIST, subset: 600, epochs: 3, batchSize: 32, seed: 3, out });
  t.log(`lenet: loss ${r.history.loss.map((v) => v.toFixed(3)).join(' → ')}, test accuracy ${r.metrics.test.metric.toFixed(3)}, ${r.samplesPerSec.toFixed(0)} samples/s on ${r.backend}`);
  // Learning: the last epoch's loss is well under the first's, and test accuracy is far above
  // chance (10%) on unseen test images.
  t.true(r.history.loss.at(-1) < 0.75 * r.history.loss[0]);
  t.true(r.metrics.test.metric > 0.55, `test accuracy ${r.metrics.test.metric}`);
  t.is(r.dataset.train, 540);
  t.is(r.dataset.validation, 60);
  t.is(r.dataset.test, 600);
  // evaluateModel agrees with tfjs' own evaluate on the same data.
  const test_ = loadDataset(FMNIST, { split: 'test', limit: 200 });
  const mine = await evaluateModel(r.model, test_, r.meta);
  const oneHot = new Float32Array(200 * 10);
  test_.y.forEach((c, i) => { oneHot[i * 10 + c] = 1; });
  const [l, a] = r.model.evaluate(tf.tensor(test_.x, [200, 28, 28, 1]), tf.tensor(oneHot, [200, 10]), { batchSize: 200 });
  t.true(Math.abs(mine.loss - l.dataSync()[0]) < 1e-4, `${mine.loss} vs ${l.dataSync()[0]}`);
  t.true(Math.abs(mine.metric - a.dataSync()[0]) < 1e-6);
  // The saved files reload in tfjs and give the same predictions.
  for (const f of ['model.json', 'weights.bin', 'model.tflite', 'curves.svg', 'kestrel.json']) t.true(existsSync(join(out, f)), f);
  const { model, json } = await reload(out);
  const x = test_.x.subarray(0, 16 * 784);
  t.deepEqual(predict(model, x, [16, 28, 28, 1]), predict(r.model, x, [16, 28, 28, 1]));
  // The float .tflite computes the same function in LiteRT.js.
  await checkTfliteInLiteRt(t, out, r.model, x, [28, 28, 1], 4);
  const meta = json.userDefinedMetadata.kestrel;
  t.is(meta.recipe, 'lenet');
  t.deepEqual(meta.inputShape, [28, 28, 1]);
  t.is(meta.classes.length, 10);
  t.is(meta.normalization.scale, 1 / 255);
  const summary = JSON.parse(readFileSync(join(out, 'kestrel.json'), 'utf8'));
  t.is(summary.history.loss.length, 3);
  t.true(summary.files.includes(join(out, 'model.json')));
});

test.serial('lenet takes 32x32x3 images', async (t) => {
  const n = 40;
  const x = new Float32Array(n * 32 * 32 * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    // Class 1 is bright in the red channel, class 0 in the blue one.
    for (let p = 0; p < 32 * 32; p++) x[(i * 1024 + p) * 3 + (y[i] ? 0 : 2)] = 0.8;
  }
  const ds = { x, xShape: [n, 32, 32, 3], y, yShape: [n], classes: ['blue', 'red'], source: 'colours', normalization: { scale: 1, offset: 0 } };
  const r = await trainRecipe({ recipe: 'lenet', data: ds, epochs: 4, batchSize: 8, seed: 1, validationSplit: 0 });
  t.deepEqual(r.meta.inputShape, [32, 32, 3]);
  t.is(r.model.outputs[0].shape[1], 2);
  t.is(r.metrics.train.metric, 1);
});

test.serial('autoencoder reduces reconstruction MSE; encoder and decoder export compose to the model', async (t) => {
  const out = join(tmp, 'ae');
  const r = await trainRecipe({ recipe: 'autoencoder', data: FMNIST, subset: 600, epochs: 4, batchSize: 32, seed: 2, out });
  t.log(`autoencoder: MSE ${r.history.loss.map((v) => v.toFixed(4)).join(' → ')}, test MSE ${r.metrics.test.metric.toFixed(4)}, ${r.samplesPerSec.toFixed(0)} samples/s`);
  t.is(r.metricName, 'mse');
  t.true(r.history.loss.at(-1) < 0.6 * r.history.loss[0]);
  // Predicting the mean image gives about 0.09 MSE on Fashion-MNIST; the model must beat it.
  t.true(r.metrics.test.metric < 0.06, `test MSE ${r.metrics.test.metric}`);
  const { model: enc, json: encJson } = await reload(join(out, 'encoder'));
  const { model: dec } = await reload(join(out, 'decoder'));
  t.deepEqual(enc.outputs[0].shape, [null, 32]);
  t.deepEqual(dec.inputs[0].shape, [null, 32]);
  t.is(encJson.userDefinedMetadata.kestrel.part, 'encoder');
  const ds = loadDataset(FMNIST, { split: 'test', limit: 8 });
  const code = predict(enc, ds.x, [8, 784]);
  const viaParts = predict(dec, code, [8, 32]);
  const whole = predict(r.model, ds.x, [8, 784]);
  let maxd = 0;
  for (let i = 0; i < whole.length; i++) maxd = Math.max(maxd, Math.abs(whole[i] - viaParts[i]));
  t.true(maxd < 1e-5, `max difference ${maxd}`);
  for (const sub of ['', 'encoder', 'decoder']) t.true(existsSync(join(out, sub, 'model.tflite')), `${sub}/model.tflite`);
  await checkTfliteInLiteRt(t, join(out, 'encoder'), enc, ds.x, [784], 2);
  const parts = splitAutoencoder(r.model);
  t.is(parts.encoder.layers.length, 5);
});

test.serial('lstm-classifier learns image rows as sequences', async (t) => {
  const out = join(tmp, 'lstm');
  const r = await trainRecipe({ recipe: 'lstm-classifier', data: FMNIST, subset: 600, epochs: 3, batchSize: 32, seed: 4, out });
  // The float .tflite holds one LSTM op with sigmoid gates (LiteRT.js refuses the variable state tensors, so it is read back here).
  const g = readTflite(new Uint8Array(readFileSync(join(out, 'model.tflite'))));
  t.deepEqual(g.ops.map((o) => o.opcode).filter((n) => n === 'UNIDIRECTIONAL_SEQUENCE_LSTM').length, 1);
  t.log(`lstm-classifier: loss ${r.history.loss.map((v) => v.toFixed(3)).join(' → ')}, test accuracy ${r.metrics.test.metric.toFixed(3)}, ${r.samplesPerSec.toFixed(0)} samples/s`);
  t.deepEqual(r.meta.inputShape, [28, 28]);
  t.true(r.history.loss.at(-1) < 0.8 * r.history.loss[0]);
  t.true(r.metrics.test.metric > 0.4, `test accuracy ${r.metrics.test.metric}`);
  // The recurrent kernel starts with orthonormal rows (checked on a fresh model).
  const { model } = (await import('../dist/train/recipes.js')).lstmClassifier({ inputShape: [28, 28], classes: 10, seed: 4 });
  const rec = model.getLayer('lstm').getWeights()[1];
  const gram = tf.tidy(() => tf.matMul(rec, rec, false, true).dataSync());
  for (let i = 0; i < 64; i++) for (let j = 0; j < 64; j++) t.true(Math.abs(gram[i * 64 + j] - (i === j ? 1 : 0)) < 1e-5);
});

test.serial('driving-cnn learns the synthetic occupancy grid; early stopping restores the best weights', async (t) => {
  const out = join(tmp, 'driving');
  const r = await trainRecipe({ recipe: 'driving-cnn', data: 'driving-grid:1500', epochs: 6, batchSize: 32, seed: 1, patience: 2, out });
  t.log(`driving-cnn: loss ${r.history.loss.map((v) => v.toFixed(3)).join(' → ')}, val accuracy ${r.history.valMetric.map((v) => v.toFixed(3)).join(' ')}, ${r.samplesPerSec.toFixed(0)} samples/s`);
  t.true(r.history.loss.at(-1) < 0.5 * r.history.loss[0]);
  t.true(r.metrics.validation.metric > 0.85, `validation accuracy ${r.metrics.validation.metric}`);
  t.is(r.metrics.test.samples, 1000);
  // The model holds the best epoch's weights: its validation loss is the best one recorded.
  t.is(r.best.value, Math.min(...r.history.valLoss));
  t.true(Math.abs(r.metrics.validation.loss - r.best.value) < 1e-6);
  if (r.stoppedEarly) t.true(r.epochsRun - r.best.epoch >= 2);
  const grids = loadDataset('driving-grid:20', { seed: 77 });
  await checkTfliteInLiteRt(t, out, r.model, grids.x, [10, 10, 1], 5);
  // The curves: one polyline per series with a point per epoch.
  const svg = readFileSync(join(out, 'curves.svg'), 'utf8');
  t.true(svg.startsWith('<svg'));
  const lines = [...svg.matchAll(/<polyline class="curve" data-series="([^"]+)"[^>]*points="([^"]+)"/g)];
  t.deepEqual(lines.map((m) => m[1]), ['train loss', 'validation loss', 'train accuracy', 'validation accuracy']);
  for (const m of lines) t.is(m[2].split(' ').length, r.epochsRun);
  // The first loss point lies above the last one (SVG y grows downward).
  const pts = lines[0][2].split(' ').map((p) => Number(p.split(',')[1]));
  t.true(pts[0] < pts.at(-1));
});

test.serial('the same seed gives the same weights bit for bit; another seed does not', async (t) => {
  const run = async (seed) => weightsOf((await trainRecipe({ recipe: 'driving-cnn', data: 'driving-grid:300', epochs: 2, batchSize: 16, seed })).model);
  const a = await run(9), b = await run(9), c = await run(10);
  t.is(a.length, b.length);
  a.forEach((w, i) => t.true(w.equals(b[i]), `weight ${i} differs between two runs with seed 9`));
  t.false(a.every((w, i) => w.equals(c[i])));
  // Initial weights follow the seed as well.
  const w1 = weightsOf(lenet({ inputShape: [28, 28, 1], classes: 10, seed: 5 }).model);
  const w2 = weightsOf(lenet({ inputShape: [28, 28, 1], classes: 10, seed: 5 }).model);
  w1.forEach((w, i) => t.true(w.equals(w2[i])));
});

function idx(type, shape, values) {
  const b = Buffer.alloc(4 + 4 * shape.length + values.length);
  b[2] = type; b[3] = shape.length;
  shape.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  values.forEach((v, i) => { b[4 + 4 * shape.length + i] = v; });
  return b;
}

test.serial('kestrel train: bad input gives one line before training and writes nothing', async (t) => {
  const mismatch = join(tmp, 'mismatch');
  mkdirSync(mismatch);
  writeFileSync(join(mismatch, 'train-images-idx3-ubyte.gz'), gzipSync(idx(8, [4, 28, 28], new Array(4 * 784).fill(3))));
  writeFileSync(join(mismatch, 'train-labels-idx1-ubyte.gz'), gzipSync(idx(8, [3], [1, 2, 3])));
  const corrupt = join(tmp, 'corrupt');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'train-images-idx3-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 28]));
  writeFileSync(join(corrupt, 'train-labels-idx1-ubyte'), idx(8, [4], [1, 2, 3, 4]));
  const small = join(tmp, 'small');
  mkdirSync(small);
  writeFileSync(join(small, 'train-images-idx3-ubyte'), idx(8, [4, 10, 10], new Array(400).fill(3)));
  writeFileSync(join(small, 'train-labels-idx1-ubyte'), idx(8, [4], [0, 1, 2, 1]));
  const full = join(tmp, 'full');
  mkdirSync(full);
  writeFileSync(join(full, 'keep.txt'), 'x');
  const cases = [
    [['--recipe', 'lenet', '--data', join(tmp, 'nope')], /nope: no such file or directory \[E_DATA\]/],
    [['--recipe', 'lenet', '--data', `mnist:${corrupt}`], /train-images-idx3-ubyte: corrupt IDX/],
    [['--recipe', 'lenet', '--data', `mnist:${mismatch}`], /train-labels-idx1-ubyte.gz: image\/label count mismatch: 3 labels for 4 images/],
    [['--recipe', 'lenet', '--data', `mnist:${small}`], /wrong image size for lenet: samples are \[10, 10, 1\]/],
    [['--recipe', 'driving-cnn', '--data', `mnist:${small}`, '--validation', '0'], /driving-cnn needs one 0\/1 label per sample \[E_DATA\]/],
    [['--recipe', 'resnet', '--data', 'driving-grid'], /unknown recipe 'resnet' \(recipes: lenet, autoencoder, lstm-classifier, driving-cnn\) \[E_TRAIN\]/],
    [['--recipe', 'driving-cnn', '--out', full], /is not empty; pass --force/],
    [['--recipe', 'driving-cnn', '--epochs', '0'], /--epochs needs a whole number/],
    [['--data', 'driving-grid'], /--recipe is required/],
  ];
  for (const [args, pattern] of cases) {
    const out = join(tmp, `never-${cases.indexOf(cases.find((c) => c[0] === args))}`);
    const withOut = args.includes('--out') ? args : [...args, '--out', out];
    const r = await kestrel('train', ...withOut);
    oneLineError(t, r, pattern);
    t.is(r.stdout, '', r.stdout);
    if (!args.includes('--out')) t.false(existsSync(out), `${out} was created`);
  }
  t.deepEqual(readFileSync(join(full, 'keep.txt'), 'utf8'), 'x');
});

test.serial('kestrel train: summary, --json and --force', async (t) => {
  const out = join(tmp, 'cli');
  const r = await kestrel('train', '--recipe', 'driving-cnn', '--data', 'driving-grid:200', '--epochs', '2', '--batch', '32', '--out', out);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /driving-cnn on driving-grid:200/);
  t.regex(r.stdout, /validation accuracy [\d.]+%/);
  t.regex(r.stdout, /\d+ samples\/s/);
  t.regex(r.stdout, /model\.json/);
  const j = await kestrel('train', '--recipe', 'driving-cnn', '--data', 'driving-grid:200', '--epochs', '1', '--out', out, '--force', '--json');
  t.is(j.code, 0, j.stderr);
  const s = JSON.parse(j.stdout);
  t.is(s.recipe, 'driving-cnn');
  t.is(s.epochsRun, 1);
  t.true(s.samplesPerSec > 0);
  t.true(s.files.includes(join(out, 'curves.svg')));
});
