/**
 * Training recipes: small, proven architectures for edge models. Each builder returns a
 * compiled tfjs-layers model (seeded initializers, Adam) and its metadata; `RECIPES` maps
 * the CLI names to them together with the data each expects.
 *
 * Every layer takes its own seed derived from the run's seed, so the same seed gives the
 * same initial weights bit for bit on the same backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KestrelError } from '../errors.js';
import { dataError } from '../data/errors.js';
import { mulberry32, sampleShape, type Dataset } from '../data/index.js';

export type RecipeName = 'lenet' | 'autoencoder' | 'lstm-classifier' | 'driving-cnn';
export type Task = 'classification' | 'binary' | 'reconstruction';

export interface RecipeMeta {
  recipe: RecipeName;
  task: Task;
  /** The model's input shape, without the batch dimension. */
  inputShape: number[];
  /** Number of classes (classification), 1 (binary) or the reconstructed size. */
  outputs: number;
  /** Name of the reported metric: accuracy (classification, binary) or mse (reconstruction). */
  metric: 'accuracy' | 'mse';
  loss: string;
  learningRate: number;
  /** The learning rate is multiplied by this after every epoch (1: constant). */
  lrDecay: number;
}

export interface BuiltRecipe {
  model: tfl.LayersModel;
  meta: RecipeMeta;
}

export interface RecipeOptions {
  inputShape: number[];
  /** Classes for classifiers (ignored by the binary and reconstruction recipes). */
  classes?: number;
  seed: number;
  learningRate?: number;
}

/** Seed for layer `k` of a run with `seed` (distinct, deterministic, positive). */
function layerSeed(seed: number, k: number): number {
  return ((seed >>> 0) * 1000003 + 7919 * (k + 1)) % 2147483647;
}

function seeded(seed: number) {
  let k = 0;
  return {
    glorot: () => tfl.initializers.glorotUniform({ seed: layerSeed(seed, k++) }),
    he: () => tfl.initializers.heUniform({ seed: layerSeed(seed, k++) }),
    next: () => layerSeed(seed, k++),
  };
}

function compile(model: tfl.LayersModel, loss: string, lr: number, metric: 'accuracy' | 'mse'): void {
  model.compile({ optimizer: tf.train.adam(lr), loss, metrics: metric === 'accuracy' ? ['accuracy'] : [] });
}

function needClasses(name: string, classes: number | undefined): number {
  if (!classes || classes < 2) throw new KestrelError('E_TRAIN', `${name} needs at least 2 classes (got ${classes ?? 'none'})`);
  return classes;
}

/** LeNet-5 (ReLU, max pooling) for 28x28x1 or 32x32x3 images. */
export function lenet(opts: RecipeOptions): BuiltRecipe {
  const classes = needClasses('lenet', opts.classes);
  const lr = opts.learningRate ?? 2e-3;
  const init = seeded(opts.seed);
  const m = tfl.sequential({ name: 'lenet' });
  m.add(tfl.layers.conv2d({ inputShape: opts.inputShape, filters: 6, kernelSize: 5, activation: 'relu', kernelInitializer: init.he(), name: 'conv1' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }));
  m.add(tfl.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: init.he(), name: 'conv2' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }));
  m.add(tfl.layers.flatten({ name: 'flatten' }));
  m.add(tfl.layers.dense({ units: 120, activation: 'relu', kernelInitializer: init.he(), name: 'fc1' }));
  m.add(tfl.layers.dense({ units: 84, activation: 'relu', kernelInitializer: init.he(), name: 'fc2' }));
  m.add(tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorot(), name: 'probs' }));
  compile(m, 'categoricalCrossentropy', lr, 'accuracy');
  return { model: m, meta: { recipe: 'lenet', task: 'classification', inputShape: opts.inputShape, outputs: classes, metric: 'accuracy', loss: 'categoricalCrossentropy', learningRate: lr, lrDecay: 0.6 } };
}

export const AUTOENCODER_ENCODER = [256, 128, 64, 32];

/**
 * Dense autoencoder: encoder 784-256-128-64-32 (ReLU), mirrored decoder back to the input
 * size with a sigmoid output, mean squared error. The layers are named enc_* and dec_* so
 * that `splitAutoencoder` can cut the encoder and decoder apart.
 */
export function autoencoder(opts: RecipeOptions): BuiltRecipe {
  const size = opts.inputShape.reduce((a, b) => a * b, 1);
  const lr = opts.learningRate ?? 1e-3;
  const init = seeded(opts.seed);
  const m = tfl.sequential({ name: 'autoencoder' });
  AUTOENCODER_ENCODER.forEach((units, i) => {
    m.add(tfl.layers.dense({
      ...(i === 0 ? { inputShape: [size] } : {}), units, activation: 'relu', kernelInitializer: init.he(), name: `enc_${units}`,
    }));
  });
  const decoder = [...AUTOENCODER_ENCODER.slice(0, -1)].reverse();
  for (const units of decoder) m.add(tfl.layers.dense({ units, activation: 'relu', kernelInitializer: init.he(), name: `dec_${units}` }));
  m.add(tfl.layers.dense({ units: size, activation: 'sigmoid', kernelInitializer: init.glorot(), name: 'dec_out' }));
  compile(m, 'meanSquaredError', lr, 'mse');
  return { model: m, meta: { recipe: 'autoencoder', task: 'reconstruction', inputShape: [size], outputs: size, metric: 'mse', loss: 'meanSquaredError', learningRate: lr, lrDecay: 1 } };
}

/** The encoder (input -> 32-d code) and decoder (code -> reconstruction) of a trained autoencoder, sharing its weights. */
export function splitAutoencoder(model: tfl.LayersModel): { encoder: tfl.LayersModel; decoder: tfl.LayersModel } {
  const code = model.getLayer(`enc_${AUTOENCODER_ENCODER[AUTOENCODER_ENCODER.length - 1]}`);
  const encoder = tfl.model({ inputs: model.inputs, outputs: code.output as tfl.SymbolicTensor, name: 'encoder' });
  const start = model.layers.findIndex((l) => l.name.startsWith('dec_'));
  const input = tfl.input({ shape: [AUTOENCODER_ENCODER[AUTOENCODER_ENCODER.length - 1]!], name: 'code' });
  let h: tfl.SymbolicTensor = input;
  for (const layer of model.layers.slice(start)) h = layer.apply(h) as tfl.SymbolicTensor;
  const decoder = tfl.model({ inputs: input, outputs: h, name: 'decoder' });
  return { encoder, decoder };
}

/** LSTM(64) over a sequence [T, F] (image rows are the time steps) and a softmax classifier. */
export function lstmClassifier(opts: RecipeOptions): BuiltRecipe {
  const classes = needClasses('lstm-classifier', opts.classes);
  const lr = opts.learningRate ?? 2e-3;
  const init = seeded(opts.seed);
  const m = tfl.sequential({ name: 'lstm_classifier' });
  const lstm = tfl.layers.lstm({ inputShape: opts.inputShape, units: 64, recurrentActivation: 'sigmoid', kernelInitializer: init.glorot(), recurrentInitializer: init.glorot(), name: 'lstm' });
  m.add(lstm);
  m.add(tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorot(), name: 'probs' }));
  // Orthogonal recurrent weights (as Keras does), computed here: the tfjs orthogonal
  // initializer fails on the wasm backend.
  const [kernel, , bias] = lstm.getWeights();
  const q = tf.tensor2d(orthogonalRows(64, 256, init.next()), [64, 256]);
  lstm.setWeights([kernel!, q, bias!]);
  q.dispose();
  compile(m, 'categoricalCrossentropy', lr, 'accuracy');
  return { model: m, meta: { recipe: 'lstm-classifier', task: 'classification', inputShape: opts.inputShape, outputs: classes, metric: 'accuracy', loss: 'categoricalCrossentropy', learningRate: lr, lrDecay: 1 } };
}

/**
 * A rows x cols matrix (rows <= cols) with orthonormal rows: seeded Gaussian rows made
 * orthonormal by modified Gram-Schmidt, in float64.
 */
export function orthogonalRows(rows: number, cols: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const gauss = (): number => {
    const u = 1 - rand(), v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const m = Array.from({ length: rows }, () => Float64Array.from({ length: cols }, gauss));
  for (let i = 0; i < rows; i++) {
    const r = m[i]!;
    for (let j = 0; j < i; j++) {
      const q = m[j]!;
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += r[c]! * q[c]!;
      for (let c = 0; c < cols; c++) r[c] = r[c]! - dot * q[c]!;
    }
    let norm = 0;
    for (let c = 0; c < cols; c++) norm += r[c]! * r[c]!;
    norm = Math.sqrt(norm);
    for (let c = 0; c < cols; c++) r[c] = r[c]! / norm;
  }
  const out = new Float32Array(rows * cols);
  m.forEach((r, i) => out.set(r, i * cols));
  return out;
}

/** Small CNN for a 10x10x1 occupancy grid: is there an obstacle ahead in the ego lane? */
export function drivingCnn(opts: RecipeOptions): BuiltRecipe {
  const lr = opts.learningRate ?? 1e-3;
  const init = seeded(opts.seed);
  const m = tfl.sequential({ name: 'driving_cnn' });
  m.add(tfl.layers.conv2d({ inputShape: opts.inputShape, filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init.he(), name: 'conv1' }));
  m.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init.he(), name: 'conv2' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }));
  m.add(tfl.layers.conv2d({ filters: 128, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init.he(), name: 'conv3' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }));
  m.add(tfl.layers.flatten({ name: 'flatten' }));
  m.add(tfl.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init.he(), name: 'fc1' }));
  m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init.glorot(), name: 'obstacle' }));
  compile(m, 'binaryCrossentropy', lr, 'accuracy');
  return { model: m, meta: { recipe: 'driving-cnn', task: 'binary', inputShape: opts.inputShape, outputs: 1, metric: 'accuracy', loss: 'binaryCrossentropy', learningRate: lr, lrDecay: 1 } };
}

export interface RecipeEntry {
  build: (opts: RecipeOptions) => BuiltRecipe;
  summary: string;
  /** Dataset used when none is given. */
  defaultData: string;
  defaultEpochs: number;
  defaultBatch: number;
  /**
   * The model input shape for a dataset, or an E_DATA error (one line, naming the dataset)
   * when the samples or labels do not fit the recipe.
   */
  inputShapeFor: (ds: Dataset) => number[];
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

function requireClassLabels(ds: Dataset, recipe: string): void {
  if (!ds.y || !(ds.y instanceof Int32Array) || ds.yShape.length !== 1) {
    throw dataError(ds.source, `${recipe} needs one class label per sample (integer labels 0..K-1)`);
  }
}

export const RECIPES: Record<RecipeName, RecipeEntry> = {
  lenet: {
    build: lenet,
    summary: 'LeNet-5 image classifier (28x28x1 or 32x32x3 images)',
    defaultData: 'fashion-mnist', defaultEpochs: 5, defaultBatch: 32,
    inputShapeFor(ds) {
      requireClassLabels(ds, 'lenet');
      const s = sampleShape(ds);
      for (const want of [[28, 28, 1], [32, 32, 3]]) {
        if (size(s) === size(want) && (s.length !== 3 || s.every((d, i) => d === want[i]) || s.length < 3)) return want;
      }
      throw dataError(ds.source, `wrong image size for lenet: samples are [${s.join(', ')}], lenet takes 28x28x1 or 32x32x3 images`);
    },
  },
  autoencoder: {
    build: autoencoder,
    summary: 'dense autoencoder 784-256-128-64-32 and mirrored decoder (reconstruction MSE)',
    defaultData: 'fashion-mnist', defaultEpochs: 10, defaultBatch: 128,
    inputShapeFor(ds) {
      const n = size(sampleShape(ds));
      if (n < 32) throw dataError(ds.source, `wrong sample size for autoencoder: ${n} values per sample, at least 32 are needed for the 32-value code`);
      return [n];
    },
  },
  'lstm-classifier': {
    build: lstmClassifier,
    summary: 'LSTM(64) sequence classifier (image rows are the time steps)',
    defaultData: 'fashion-mnist', defaultEpochs: 5, defaultBatch: 64,
    inputShapeFor(ds) {
      requireClassLabels(ds, 'lstm-classifier');
      const s = sampleShape(ds);
      if (s.length === 2) return s;
      if (s.length === 3) return [s[0]!, s[1]! * s[2]!];
      const side = Math.round(Math.sqrt(size(s)));
      if (s.length === 1 && side * side === s[0]) return [side, side];
      throw dataError(ds.source, `wrong sample shape for lstm-classifier: [${s.join(', ')}], expected sequences [T, F] or images [H, W, C]`);
    },
  },
  'driving-cnn': {
    build: drivingCnn,
    summary: 'CNN on a 10x10 occupancy grid: obstacle ahead in the ego lane (binary)',
    defaultData: 'driving-grid', defaultEpochs: 10, defaultBatch: 64,
    inputShapeFor(ds) {
      const s = sampleShape(ds);
      if (size(s) !== 100 || (s.length === 3 && s[2] !== 1)) {
        throw dataError(ds.source, `wrong image size for driving-cnn: samples are [${s.join(', ')}], driving-cnn takes 10x10x1 occupancy grids`);
      }
      if (!ds.y || ds.yShape.length !== 1 || ds.y.some((v) => v !== 0 && v !== 1)) {
        throw dataError(ds.source, 'driving-cnn needs one 0/1 label per sample');
      }
      return [10, 10, 1];
    },
  },
};

export function recipeEntry(name: string): RecipeEntry {
  const r = (RECIPES as Record<string, RecipeEntry>)[name];
  if (!r) throw new KestrelError('E_TRAIN', `unknown recipe '${name}' (recipes: ${Object.keys(RECIPES).join(', ')})`);
  return r;
}
