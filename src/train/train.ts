/**
 * The training loop: seeded and reproducible (seeded initializers, a seeded shuffle every
 * epoch, deterministic Adam), with a validation split, early stopping, the best weights
 * restored at the end, evaluation on the test split and saving of the results.
 *
 * Everything that can be wrong with the input (unknown recipe, bad options, missing or
 * malformed data, samples of the wrong size, a non-empty output directory) is checked
 * before the first batch is trained.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { KestrelError } from '../errors.js';
import { writeFileAtomic } from '../cli/io.js';
import {
  hasTestSplit, loadDataset, sampleCount, sampleSize, shuffledIndices, splitDataset, subsetDataset, type Dataset,
} from '../data/index.js';
import { curvesSvg } from './curves.js';
import { RECIPES, recipeEntry, splitAutoencoder, type RecipeMeta, type RecipeName } from './recipes.js';
import { prepareOutDir, saveFloatTflite, saveLayersModel } from './save.js';

export type TrainingBackend = 'kestrel' | 'wasm' | 'cpu';

export interface TrainProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Running mean over the epoch so far. */
  loss: number;
  metric: number;
  metricName: string;
  /** Overall fraction done, 0..1. */
  fraction: number;
}

export interface TrainOptions {
  recipe: RecipeName | string;
  /** A dataset spec (see loadDataset) or a loaded Dataset; default: the recipe's default data. */
  data?: string | Dataset;
  /** A test set; by default the spec's test split when it has one. null: no test evaluation. */
  testData?: Dataset | null;
  epochs?: number;
  batchSize?: number;
  seed?: number;
  /** Train on a seeded random subset of this many samples (the test split is cut the same way). */
  subset?: number;
  /** Fraction of the training samples held out for validation (default 0.1; 0: none). */
  validationSplit?: number;
  /** Stop after this many epochs without a better monitored loss (validation loss, else training loss). */
  patience?: number;
  learningRate?: number;
  /** Training backend (default: kestrel, the wasm backend with Kestrel's training kernels). */
  backend?: TrainingBackend;
  onProgress?: (p: TrainProgress) => void;
  /** Output directory for the model files, kestrel.json and curves.svg. */
  out?: string;
  /** Allow writing into a non-empty output directory. */
  force?: boolean;
}

export interface EvalResult {
  loss: number;
  /** accuracy (classification, binary) or mean squared error (reconstruction). */
  metric: number;
  samples: number;
}

export interface TrainHistory {
  loss: number[];
  metric: number[];
  valLoss: number[];
  valMetric: number[];
  /** Seconds per epoch (training and validation). */
  seconds: number[];
}

export interface TrainResult {
  model: tfl.LayersModel;
  meta: RecipeMeta;
  history: TrainHistory;
  /** The epoch (1-based) whose weights the model holds, and its monitored loss. */
  best: { epoch: number; monitor: 'val_loss' | 'loss'; value: number };
  metrics: { train: EvalResult; validation: EvalResult | null; test: EvalResult | null };
  metricName: 'accuracy' | 'mse';
  epochsRun: number;
  stoppedEarly: boolean;
  /** Training samples per second (forward + backward + update; evaluation excluded). */
  samplesPerSec: number;
  seconds: number;
  backend: string;
  seed: number;
  dataset: { source: string; train: number; validation: number; test: number; classes: string[] | null; normalization: { scale: number; offset: number } };
  /** Files written under `out`. */
  files: string[];
  /** Why something that was asked for was not written (e.g. no .tflite converter). */
  notes: string[];
}

function checkInt(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new KestrelError('E_TRAIN', `${name} must be a whole number ≥ ${min} (got ${v})`);
}

/** Loads the data and checks it against the recipe; no tfjs work is done yet. */
export function prepareTraining(opts: TrainOptions) {
  const entry = recipeEntry(opts.recipe);
  checkInt('epochs', opts.epochs, 1);
  checkInt('batch size', opts.batchSize, 1);
  checkInt('subset', opts.subset, 2);
  checkInt('patience', opts.patience, 1);
  if (opts.seed !== undefined && !(Number.isInteger(opts.seed) && opts.seed >= 0 && opts.seed < 2 ** 32)) {
    throw new KestrelError('E_TRAIN', `seed must be a whole number in 0..4294967295 (got ${opts.seed})`);
  }
  const vs = opts.validationSplit ?? 0.1;
  if (!(vs >= 0 && vs < 1)) throw new KestrelError('E_TRAIN', `validation fraction must be in [0, 1) (got ${vs})`);
  if (opts.learningRate !== undefined && !(opts.learningRate > 0)) throw new KestrelError('E_TRAIN', `learning rate must be > 0 (got ${opts.learningRate})`);
  if (opts.out) prepareOutDir(opts.out, opts.force === true);
  const seed = opts.seed ?? 1;
  const spec = opts.data ?? entry.defaultData;
  let ds = typeof spec === 'string' ? loadDataset(spec, { seed }) : spec;
  let test: Dataset | null = null;
  if (opts.testData !== undefined) test = opts.testData;
  else if (typeof spec === 'string' && hasTestSplit(spec)) test = loadDataset(spec, { split: 'test', seed });
  if (opts.subset !== undefined) {
    ds = subsetDataset(ds, opts.subset, seed);
    if (test) test = subsetDataset(test, opts.subset, seed + 1);
  }
  const inputShape = entry.inputShapeFor(ds);
  if (test) {
    const testShape = entry.inputShapeFor(test);
    if (testShape.join(',') !== inputShape.join(',')) {
      throw new KestrelError('E_DATA', `${test.source}: wrong image size: test samples give input [${testShape}], the training samples [${inputShape}]`);
    }
  }
  const classes = ds.classes ? ds.classes.length : undefined;
  if (test && test.y instanceof Int32Array && classes !== undefined && test.y.some((v) => v >= classes)) {
    throw new KestrelError('E_DATA', `${test.source}: test labels go beyond the ${classes} training classes`);
  }
  const parts = vs > 0 ? splitDataset(ds, vs, seed) : { train: ds, validation: null };
  return { entry, seed, dataset: ds, train: parts.train, validation: parts.validation, test, inputShape, classes };
}

/** Gathers samples `idx[from..to)` into a batch of inputs and targets. */
function batchTensors(ds: Dataset, idx: ArrayLike<number>, from: number, to: number, meta: RecipeMeta): { x: tf.Tensor; y: tf.Tensor } {
  const b = to - from;
  const per = sampleSize(ds);
  const xb = new Float32Array(b * per);
  for (let i = 0; i < b; i++) {
    const j = idx[from + i]!;
    xb.set(ds.x.subarray(j * per, (j + 1) * per), i * per);
  }
  const x = tf.tensor(xb, [b, ...meta.inputShape]);
  let y: tf.Tensor;
  if (meta.task === 'reconstruction') y = tf.tensor2d(xb, [b, per]);
  else if (meta.task === 'binary') {
    const yb = new Float32Array(b);
    for (let i = 0; i < b; i++) yb[i] = ds.y![idx[from + i]!]!;
    y = tf.tensor2d(yb, [b, 1]);
  } else {
    const k = meta.outputs;
    const yb = new Float32Array(b * k);
    for (let i = 0; i < b; i++) yb[i * k + ds.y![idx[from + i]!]!] = 1;
    y = tf.tensor2d(yb, [b, k]);
  }
  return { x, y };
}

const EPS = 1e-7;

/**
 * Loss and metric of `model` on `ds`, computed here from the predictions (the same
 * formulas as the tfjs losses, probabilities clipped to [1e-7, 1 - 1e-7]).
 */
export async function evaluateModel(model: tfl.LayersModel, ds: Dataset, meta: RecipeMeta, batchSize = 256): Promise<EvalResult> {
  const n = sampleCount(ds);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const per = sampleSize(ds);
  let loss = 0, metric = 0;
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(n, from + batchSize);
    const { x, y } = batchTensors(ds, idx, from, to, meta);
    const p = model.predict(x) as tf.Tensor;
    const pv = await p.data();
    x.dispose(); y.dispose(); p.dispose();
    for (let i = 0; i < to - from; i++) {
      const j = from + i;
      if (meta.task === 'reconstruction') {
        let se = 0;
        for (let k = 0; k < per; k++) { const d = pv[i * per + k]! - ds.x[j * per + k]!; se += d * d; }
        loss += se / per;
      } else if (meta.task === 'binary') {
        const q = Math.min(1 - EPS, Math.max(EPS, pv[i]!));
        const t = ds.y![j]!;
        loss += -(t * Math.log(q) + (1 - t) * Math.log(1 - q));
        metric += (pv[i]! > 0.5 ? 1 : 0) === t ? 1 : 0;
      } else {
        const k = meta.outputs;
        const t = ds.y![j]!;
        let arg = 0;
        for (let c = 1; c < k; c++) if (pv[i * k + c]! > pv[i * k + arg]!) arg = c;
        loss += -Math.log(Math.min(1 - EPS, Math.max(EPS, pv[i * k + t]!)));
        metric += arg === t ? 1 : 0;
      }
    }
  }
  loss /= n;
  return { loss, metric: meta.task === 'reconstruction' ? loss : metric / n, samples: n };
}

async function setBackend(name: TrainingBackend): Promise<string> {
  // Production mode: no debug checks, and no tfjs-node suggestion printed on stderr by the
  // cpu backend (which would break clean --json output).
  tf.enableProdMode();
  const k = await import('./kernels/index.js');
  const info = await k.setupTrainingBackend({ backend: name });
  return info.backend;
}

/** Trains a recipe; see TrainOptions. */
export async function trainRecipe(opts: TrainOptions): Promise<TrainResult> {
  const prep = prepareTraining(opts);
  const { entry, seed, train, validation, test, inputShape } = prep;
  const epochs = opts.epochs ?? entry.defaultEpochs;
  const batchSize = opts.batchSize ?? entry.defaultBatch;
  const patience = opts.patience ?? Infinity;
  const backend = await setBackend(opts.backend ?? 'kestrel');
  // The stock wasm backend has no gradient kernels for convolutions and pooling: say so
  // now rather than failing in the first batch.
  if (tf.getBackend() === 'wasm' && (entry.build === RECIPES.lenet.build || entry.build === RECIPES['driving-cnn'].build)) {
    for (const k of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad']) {
      if (!tf.getKernel(k, 'wasm')) {
        throw new KestrelError('E_TRAIN', `${opts.recipe}: the ${backend} backend has no ${k} kernel, which training this recipe needs; use --backend kestrel or cpu`);
      }
    }
  }
  const started = Date.now();
  const built = entry.build({ inputShape, classes: prep.classes, seed, ...(opts.learningRate !== undefined ? { learningRate: opts.learningRate } : {}) });
  const { model, meta } = built;
  const history: TrainHistory = { loss: [], metric: [], valLoss: [], valMetric: [], seconds: [] };
  const n = sampleCount(train);
  const batches = Math.ceil(n / batchSize);
  const monitor: 'val_loss' | 'loss' = validation ? 'val_loss' : 'loss';
  let best = { epoch: 0, monitor, value: Infinity };
  let bestWeights: { data: Float32Array; shape: number[] }[] | null = null;
  let sinceBest = 0, stoppedEarly = false, trainSeconds = 0, trained = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = Date.now();
    // A different, seeded order every epoch.
    const order = shuffledIndices(n, (seed * 7919 + epoch * 104729) >>> 0);
    let lossSum = 0, metricSum = 0, seen = 0;
    for (let b = 0; b < batches; b++) {
      const from = b * batchSize, to = Math.min(n, from + batchSize);
      const { x, y } = batchTensors(train, order, from, to, meta);
      const tb = performance.now();
      const r = await model.trainOnBatch(x, y);
      trainSeconds += (performance.now() - tb) / 1000;
      x.dispose(); y.dispose();
      const [l, m] = Array.isArray(r) ? r : [r, r];
      if (!Number.isFinite(l)) throw new KestrelError('E_TRAIN', `${meta.recipe}: the loss became ${l} in epoch ${epoch}, batch ${b + 1}; try a smaller learning rate`);
      lossSum += l! * (to - from);
      metricSum += (meta.task === 'reconstruction' ? l! : m!) * (to - from);
      seen += to - from;
      trained += to - from;
      opts.onProgress?.({
        epoch, epochs, batch: b + 1, batches, loss: lossSum / seen, metric: metricSum / seen, metricName: meta.metric,
        fraction: (epoch - 1 + (b + 1) / batches) / epochs,
      });
    }
    history.loss.push(lossSum / seen);
    history.metric.push(metricSum / seen);
    let value = lossSum / seen;
    if (validation) {
      const v = await evaluateModel(model, validation, meta);
      history.valLoss.push(v.loss);
      history.valMetric.push(v.metric);
      value = v.loss;
    }
    history.seconds.push((Date.now() - t0) / 1000);
    if (meta.lrDecay !== 1) {
      // Step decay per epoch: Adam reads its learningRate field on every update.
      const opt = model.optimizer as unknown as { learningRate: number };
      opt.learningRate = meta.learningRate * meta.lrDecay ** epoch;
    }
    if (value < best.value) {
      best = { epoch, monitor, value };
      bestWeights = model.getWeights().map((w) => ({ data: w.dataSync().slice() as Float32Array, shape: w.shape }));
      sinceBest = 0;
    } else if (++sinceBest >= patience) {
      stoppedEarly = epoch < epochs;
      break;
    }
  }
  if (bestWeights && best.epoch !== history.loss.length) {
    const ts = bestWeights.map((w) => tf.tensor(w.data, w.shape));
    model.setWeights(ts);
    ts.forEach((t) => t.dispose());
  }
  const trainEval = await evaluateModel(model, train, meta);
  const valEval = validation ? await evaluateModel(model, validation, meta) : null;
  const testEval = test ? await evaluateModel(model, test, meta) : null;
  const seconds = (Date.now() - started) / 1000;
  const result: TrainResult = {
    model, meta, history, best, metricName: meta.metric,
    metrics: { train: trainEval, validation: valEval, test: testEval },
    epochsRun: history.loss.length, stoppedEarly,
    samplesPerSec: trainSeconds > 0 ? trained / trainSeconds : 0,
    seconds, backend, seed,
    dataset: {
      source: prep.dataset.source, train: n, validation: validation ? sampleCount(validation) : 0, test: test ? sampleCount(test) : 0,
      classes: prep.dataset.classes, normalization: prep.dataset.normalization,
    },
    files: [], notes: [],
  };
  if (opts.out) await saveResult(result, opts.out);
  return result;
}

/** The metadata stored in model.json (userDefinedMetadata.kestrel) and kestrel.json. */
export function modelMetadata(r: TrainResult, part?: 'encoder' | 'decoder'): Record<string, unknown> {
  return {
    recipe: r.meta.recipe,
    ...(part ? { part } : {}),
    task: r.meta.task,
    inputShape: part === 'decoder' ? [32] : r.meta.inputShape,
    classes: r.dataset.classes,
    normalization: r.dataset.normalization,
    dataset: r.dataset.source,
    seed: r.seed,
  };
}

/** Writes the model files, kestrel.json and curves.svg into `dir`. */
export async function saveResult(r: TrainResult, dir: string): Promise<void> {
  const notes: string[] = [];
  const files: string[] = [];
  const save = async (model: tfl.LayersModel, sub: string, part?: 'encoder' | 'decoder') => {
    const d = sub ? join(dir, sub) : dir;
    const { files: f, saved } = await saveLayersModel(model, d, { kestrel: modelMetadata(r, part) });
    files.push(...f);
    try {
      files.push(saveFloatTflite(saved, join(d, 'model.tflite')));
    } catch (e) {
      notes.push(`${join(d, 'model.tflite')} not written: ${(e as Error).message}`);
    }
  };
  await save(r.model, '');
  if (r.meta.recipe === 'autoencoder') {
    const { encoder, decoder } = splitAutoencoder(r.model);
    await save(encoder, 'encoder', 'encoder');
    await save(decoder, 'decoder', 'decoder');
  }
  const svgPath = join(dir, 'curves.svg');
  writeFileAtomic(svgPath, curvesSvg(`${r.meta.recipe} on ${r.dataset.source}`, { ...r.history, metricName: r.metricName }), { force: true, what: 'training curves' });
  files.push(svgPath);
  const summaryPath = join(dir, 'kestrel.json');
  files.push(summaryPath);
  r.files = files;
  r.notes = notes;
  writeFileAtomic(summaryPath, JSON.stringify(summaryJson(r), null, 2) + '\n', { force: true, what: 'kestrel.json' });
}

/** A JSON-friendly summary of a training run (what kestrel.json and `--json` hold). */
export function summaryJson(r: TrainResult): Record<string, unknown> {
  return {
    ...modelMetadata(r),
    metric: r.metricName,
    backend: r.backend,
    epochsRun: r.epochsRun,
    stoppedEarly: r.stoppedEarly,
    best: r.best,
    metrics: r.metrics,
    samplesPerSec: r.samplesPerSec,
    seconds: r.seconds,
    data: { train: r.dataset.train, validation: r.dataset.validation, test: r.dataset.test },
    history: r.history,
    files: r.files,
    notes: r.notes,
  };
}
