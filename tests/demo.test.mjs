// `kestrel demo`, the product's main job, run whole as a user runs it: train → quantize → run →
// benchmark on the bundled data. The figures are checked against what each stage promises.
import test from 'ava';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kestrel, oneLineError } from './helpers.mjs';
import { loadModel } from '../dist/runtime/index.js';
import { readTflite } from '../dist/tflite/reader.js';

test('kestrel demo --json trains, quantizes, runs and benchmarks on the bundled data', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'kestrel-demo-')), 'run');
  const r = await kestrel('demo', '--json', '--out', out, '--runs', '100');
  t.is(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  for (const k of ['float_accuracy', 'int8_accuracy', 'float_bytes', 'int8_bytes', 'kestrel_p50_ms', 'tfjs_p50_ms']) {
    t.is(typeof d[k], 'number', k);
    t.true(Number.isFinite(d[k]) && d[k] > 0, `${k} = ${d[k]}`);
  }
  t.is(d.dataset.test, 1000);
  // LeNet learns Fashion-MNIST: well above chance (10 %) even on the 4,500-image subset.
  t.true(d.float_accuracy > 0.75, `float accuracy ${d.float_accuracy}`);
  // Quantization keeps the quality: within 1.5 points of float, and the same top class nearly always.
  t.true(Math.abs(d.int8_accuracy - d.float_accuracy) <= 0.015, `int8 ${d.int8_accuracy} vs float ${d.float_accuracy}`);
  t.true(d.top1_agreement >= 0.97, `agreement ${d.top1_agreement}`);
  t.true(d.int8_bytes <= 0.31 * d.float_bytes, `sizes ${d.int8_bytes} / ${d.float_bytes}`);
  t.is(d.train_backend, 'kestrel');
  t.is(d.tfjs_backend, 'wasm');

  // The files it wrote are what it says: a float .tflite and an int8 .tflite of the sizes
  // reported, and the int8 one runs on Kestrel with int8 input and output.
  const int8 = readFileSync(join(out, 'model_int8.tflite'));
  const flt = readFileSync(join(out, 'model.tflite'));
  t.is(int8.length, d.int8_bytes);
  t.is(flt.length, d.float_bytes);
  t.true(readTflite(flt).tensors.some((x) => x.dtype === 'float32' && x.data));
  const m = await loadModel(int8);
  t.is(m.inputs[0].dtype, 'int8');
  t.deepEqual(m.inputs[0].shape, [1, 28, 28, 1]);
  t.is(m.outputs[0].shape.at(-1), 10);
  t.true(existsSync(join(out, 'curves.svg')));
  t.regex(readFileSync(join(out, "curves.svg"), "utf8"), /<svg[\s\S]*<(path|polyline)[^>]*>[\s\S]*validation/);
  const rep = JSON.parse(readFileSync(join(out, 'quantize-report.json'), 'utf8'));
  t.is(rep.int8_bytes, d.int8_bytes);
});

test('kestrel demo refuses bad input before training', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-demo-bad-'));
  let r = await kestrel('demo', '--data', `fashion-mnist:${join(dir, 'nowhere')}`);
  oneLineError(t, r, /nowhere/);
  writeFileSync(join(dir, 'keep.txt'), 'user file');
  r = await kestrel('demo', '--out', dir);
  oneLineError(t, r, /not empty/);
  t.is(readFileSync(join(dir, 'keep.txt'), 'utf8'), 'user file');
  r = await kestrel('demo', '--epochs', '0');
  oneLineError(t, r, /--epochs/);
});
