/**
 * `kestrel demo` — the whole path on the built-in default data: train LeNet on a Fashion-MNIST
 * subset with TensorFlow.js, convert it to a float .tflite, quantize it to int8 with
 * calibration, run the int8 model on Kestrel's wasm runtime, and time it against the float
 * model on TensorFlow.js's wasm backend on the same inputs. One summary table (or --json).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KestrelError } from '../errors.js';
import { layersModelToGraph } from '../convert/tfjs-layers.js';
import { loadDataset, type Dataset } from '../data/index.js';
import { numElements } from '../graph/types.js';
import { quantizeModel } from '../quantize/index.js';
import { loadModel, quantizeValues, type Model } from '../runtime/model.js';
import { hasSimd } from '../runtime/wasm.js';
import { percentile } from '../bench/stats.js';
import { writeTflite } from '../tflite/writer.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';
import { writeFileAtomic } from './io.js';
import { progressBar } from './progress.js';

const ASSETS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets');
/** The committed subset (5,000 training / 1,000 test images; see its README). */
export const DEMO_DATA = `fashion-mnist:${join(ASSETS, 'fashion-mnist-subset')}`;

const SPEC: Record<string, FlagSpec> = {
  data: { type: 'string', help: 'dataset spec (default: the bundled Fashion-MNIST subset; `fashion-mnist` = the full set)' },
  epochs: { type: 'string', help: 'training epochs', default: '6' },
  subset: { type: 'string', help: 'train on a seeded subset of this many images' },
  seed: { type: 'string', help: 'seed of initial weights and shuffling', default: '1' },
  calib: { type: 'string', help: 'calibration images (from the training split)', default: '500' },
  runs: { type: 'string', help: 'timed runs per engine for the latency figures', default: '300' },
  out: { type: 'string', help: 'also write the models, curves and reports into this directory' },
  force: { type: 'bool', help: 'write into a non-empty --out directory' },
  json: { type: 'bool', help: 'print the summary as one JSON object' },
  help: { type: 'bool', help: 'show this help' },
};

function positiveInt(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new KestrelError('E_USAGE', `--${name} must be a whole number >= 1, got '${v}'`);
  return n;
}

/** Median of timed calls of `fn` after `warmup` untimed ones (ms). */
function p50(fn: () => void, runs: number, warmup = 20): number {
  for (let i = 0; i < warmup; i++) fn();
  const ts = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ts[i] = performance.now() - t0;
  }
  ts.sort();
  return percentile(ts, 50);
}

function sample(ds: Dataset, i: number): Float32Array {
  const per = numElements(ds.xShape.slice(1));
  return ds.x.subarray(i * per, (i + 1) * per);
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export async function demoCommand(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, SPEC, 0, 'demo');
  if (flags.help) {
    console.log(helpText('kestrel demo [--data SPEC] [--epochs N] [--subset N] [--seed N] [--runs N] [--out DIR] [--json]',
      'Trains LeNet on the bundled Fashion-MNIST subset (TensorFlow.js), quantizes it to an int8 .tflite, runs it on Kestrel\'s wasm runtime and compares it with the float model on TensorFlow.js (@tensorflow/tfjs-backend-wasm): accuracy, file sizes and latency on the same inputs. `kestrel examples` runs the bundled pretrained int8 models instead.', SPEC));
    return 0;
  }
  const epochs = positiveInt('epochs', flags.epochs);
  const seed = positiveInt('seed', flags.seed);
  const runs = positiveInt('runs', flags.runs);
  const calibCount = positiveInt('calib', flags.calib);
  const subset = flags.subset !== undefined ? positiveInt('subset', flags.subset) : undefined;
  const dataSpec = (flags.data as string | undefined) ?? DEMO_DATA;
  const out = flags.out as string | undefined;
  const json = flags.json === true;

  let train: typeof import('../train/index.js');
  let tf: typeof import('@tensorflow/tfjs-core');
  try {
    train = await import('../train/index.js');
    tf = await import('@tensorflow/tfjs-core');
  } catch (e) {
    throw new KestrelError('E_TRAIN', `the demo trains a model and needs the optional peer dependencies @tensorflow/tfjs-core, -layers, -backend-cpu and -backend-wasm 4.22.0 (${(e as Error).message.split('\n')[0]})`);
  }
  // Everything that can be wrong with the input is checked before training starts.
  if (out) train.prepareOutDir(out, flags.force === true);
  const testSet = loadDataset(dataSpec, { split: 'test' });
  const trainSet = loadDataset(dataSpec, { split: 'train' });
  for (const [ds, what] of [[trainSet, 'training'], [testSet, 'test']] as const) {
    if (!(ds.y instanceof Int32Array)) throw new KestrelError('E_DATA', `${ds.source}: the demo trains a classifier and needs class labels in the ${what} split`);
  }

  const bar = json ? null : progressBar();
  const log = (s: string) => { if (!json) { bar?.done(); console.log(s); } };
  log(`Kestrel demo — LeNet on Fashion-MNIST (${dataSpec === DEMO_DATA ? 'bundled subset' : dataSpec}): train → quantize → run → benchmark\n`);

  // 1. Train (float32, TensorFlow.js).
  let result;
  try {
    result = await train.trainRecipe({
      recipe: 'lenet', data: trainSet, testData: testSet, epochs, seed, ...(subset ? { subset } : {}),
      onProgress: (p) => bar?.update(p.fraction, `train epoch ${p.epoch}/${p.epochs}`, `loss ${p.loss.toFixed(3)} ${p.metricName} ${p.metric.toFixed(3)}`),
    });
  } finally {
    bar?.done();
  }
  log(`train     ${result.epochsRun} epochs on ${result.dataset.train.toLocaleString('en-US')} images in ${result.seconds.toFixed(1)} s, ${Math.round(result.samplesPerSec).toLocaleString('en-US')} samples/s (backend ${result.backend}); best epoch ${result.best.epoch}`);

  // 2. Convert to a float .tflite and quantize it to int8.
  const saved = await train.serializeLayersModel(result.model, { kestrel: train.modelMetadata(result) });
  const floatGraph = layersModelToGraph(saved.modelJson, saved.weights, { source: 'lenet (demo)' });
  const floatBytes = writeTflite(floatGraph);
  const calibSet = { x: trainSet.x.subarray(0, Math.min(calibCount, trainSet.xShape[0]!) * numElements(trainSet.xShape.slice(1))), xShape: [Math.min(calibCount, trainSet.xShape[0]!), ...trainSet.xShape.slice(1)], source: trainSet.source };
  let q;
  try {
    q = await quantizeModel(floatGraph, calibSet, {
      evalData: testSet, evalCount: testSet.xShape[0]!, calibCount, floatBytes: floatBytes.length,
      onProgress: (f, label) => bar?.update(f, label),
    });
  } finally {
    bar?.done();
  }
  log(`quantize  int8 weights per channel, int8 activations, ${q.report.calibration.samples} calibration images (${q.report.calibration.method})`);

  // 3. Run the int8 model on Kestrel over the whole test set.
  const model: Model = await loadModel(q.bytes, { name: 'lenet_int8.tflite' });
  const nTest = testSet.xShape[0]!;
  const labels = testSet.y as Int32Array;
  let int8Right = 0, floatRight = 0, agree = 0;
  const inputs: ReturnType<typeof quantizeValues>[] = [];
  const xs = tf.tensor(testSet.x, testSet.xShape as [number, number, number, number]);
  const floatOut = (result.model.predict(xs) as import('@tensorflow/tfjs-core').Tensor);
  const floatScores = floatOut.dataSync() as Float32Array;
  xs.dispose(); floatOut.dispose();
  const classes = floatScores.length / nTest;
  for (let i = 0; i < nTest; i++) {
    const input = quantizeValues(model.inputs[0]!, sample(testSet, i));
    if (i < 64) inputs.push(input);
    const o = model.run([input])[0]!;
    const k = argmax(o);
    const f = argmax(floatScores.subarray(i * classes, (i + 1) * classes));
    if (k === labels[i]) int8Right++;
    if (f === labels[i]) floatRight++;
    if (k === f) agree++;
  }
  const int8Accuracy = int8Right / nTest, floatAccuracy = floatRight / nTest;

  // 4. Latency of one image: Kestrel int8 vs TensorFlow.js float32 (wasm backend), same inputs.
  let next = 0;
  const kestrelP50 = p50(() => { model.run([inputs[next++ % inputs.length]!]); }, runs);
  const tfInputs = inputs.map((_, i) => tf.tensor(sample(testSet, i), [1, ...testSet.xShape.slice(1)]));
  next = 0;
  const tfjsP50 = p50(() => {
    const y = result.model.predict(tfInputs[next++ % tfInputs.length]!) as import('@tensorflow/tfjs-core').Tensor;
    y.dataSync();
    y.dispose();
  }, runs);
  tfInputs.forEach((t) => t.dispose());
  const tfjsBackend = tf.getBackend();

  if (out) {
    await train.saveResult(result, out);
    writeFileAtomic(join(out, 'model_int8.tflite'), q.bytes, { force: true, what: 'int8 model' });
    writeFileAtomic(join(out, 'quantize-report.json'), JSON.stringify(q.report, null, 2) + '\n', { force: true, what: 'quantization report' });
  }

  const summary = {
    model: 'lenet',
    dataset: { source: result.dataset.source, train: result.dataset.train, validation: result.dataset.validation, test: nTest },
    epochs: result.epochsRun,
    train_seconds: result.seconds,
    train_samples_per_sec: result.samplesPerSec,
    train_backend: result.backend,
    float_accuracy: floatAccuracy,
    int8_accuracy: int8Accuracy,
    top1_agreement: agree / nTest,
    float_bytes: floatBytes.length,
    int8_bytes: q.bytes.length,
    kestrel_p50_ms: kestrelP50,
    tfjs_p50_ms: tfjsP50,
    kestrel_backend: hasSimd() ? 'simd' : 'scalar',
    tfjs_backend: tfjsBackend,
    runs,
    calibration: q.report.calibration,
    quantizer_report: { float_accuracy: (q.report.quality as { float_accuracy?: number }).float_accuracy, int8_accuracy: (q.report.quality as { int8_accuracy?: number }).int8_accuracy, evaluated_with: q.report.evaluated_with },
    files: out ? [...result.files, join(out, 'model_int8.tflite'), join(out, 'quantize-report.json')] : [],
  };
  if (json) {
    console.log(JSON.stringify(summary, null, 1));
    return 0;
  }
  const rows: [string, string, string][] = [
    ['', 'float32 · TensorFlow.js', 'int8 · Kestrel'],
    [`test accuracy (${nTest.toLocaleString('en-US')})`, pct(floatAccuracy), pct(int8Accuracy)],
    ['.tflite size', kib(floatBytes.length), `${kib(q.bytes.length)} (${Math.round(100 * q.bytes.length / floatBytes.length)} %)`],
    ['latency p50, 1 image', `${tfjsP50.toFixed(3)} ms (${tfjsBackend})`, `${kestrelP50.toFixed(3)} ms (${summary.kestrel_backend})`],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length)), w1 = Math.max(...rows.map((r) => r[1].length));
  console.log('');
  for (const r of rows) console.log(`  ${r[0].padEnd(w0)}   ${r[1].padEnd(w1)}   ${r[2]}`);
  console.log('');
  console.log(`int8 and float agree on the top class for ${pct(agree / nTest)} of the test images; Kestrel is ${(tfjsP50 / kestrelP50).toFixed(1)}× faster per image.`);
  if (out) console.log(`Wrote ${summary.files.length} files to ${out} (model.json, weights.bin, model.tflite, model_int8.tflite, curves.svg, reports).`);
  else console.log('Pass --out DIR to keep the models, the training curves and the reports.');
  return 0;
}
