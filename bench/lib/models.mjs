// Benchmark model builders: int8 .tflite models made by Kestrel's own pipeline
// (tfjs-layers model with seeded weights -> src/convert/tfjs-layers.ts float graph ->
// src/quantize quantizeModel -> int8 TFLite bytes), cached under bench/.models/.
//
// These are benchmark fixtures, not product API: they live in bench/lib (plain ESM over the
// built dist/) so that the package and its type surface do not grow, and so that changing a
// network here never touches src/. Untrained seeded weights give realistic op shapes and
// value ranges for timing; accuracy is meaningless.
//
// Models:
//   mobilenet_v1_0.25_96   MobileNet v1, width 0.25, 96x96x1 NHWC (the visual-wake-words /
//                          person_detect configuration), 2 classes
//   mobilenet_v2_1.0_224   MobileNet v2, width 1.0, 224x224x3 NHWC, 1000 classes (ImageNet head)
//   recipe_lenet, recipe_autoencoder, recipe_lstm-classifier, recipe_driving-cnn
//                          each training recipe of src/train/recipes.ts, untrained (seed 1)
//
// Calibration: 8 seeded uniform [0, 1) samples per model (2 for MobileNet v2, whose float
// reference interpreter is slow), per-channel int8 weights, int8 input and output.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const MODELS_DIR = resolve(HERE, '..', '.models');

/**
 * Bumped whenever a builder, the calibration data or anything else that changes the bytes
 * changes. The quantizer's own version is not part of the key: delete bench/.models/ (or pass
 * { rebuild: true }) after changing src/quantize or src/convert.
 */
export const BUILDER_VERSION = 1;

const SEED = 1;

// MobileNet v2 (t, c, n, s): expansion, output channels, repeats, first stride.
export const MOBILENET_V2_BLOCKS = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];
// MobileNet v1 depthwise-separable blocks (pointwise output channels at width 1.0, dw stride).
export const MOBILENET_V1_BLOCKS = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

async function tfjs() {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const tfl = await import('@tensorflow/tfjs-layers');
  // Production mode: no debug checks, and no "use tfjs-node" banner on stderr.
  tf.enableProdMode();
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  return { tf, tfl };
}

async function dist(path) {
  try {
    return await import(new URL(`../../dist/${path}`, import.meta.url).href);
  } catch (e) {
    throw new Error(`Kestrel is not built (${String(e?.message ?? e).split('\n')[0]}); run: npm run build:wasm && npm run build:ts`);
  }
}

/** Seeded initializer factory: every layer gets its own seed. */
function seeds(tfl, seed) {
  let k = 0;
  const next = () => ((seed >>> 0) * 1000003 + 7919 * (++k)) % 2147483647;
  return {
    he: () => tfl.initializers.heUniform({ seed: next() }),
    glorot: () => tfl.initializers.glorotUniform({ seed: next() }),
    // Batch-norm statistics that are not the identity, so folding does real work.
    bn: () => ({
      gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: next() }),
      betaInitializer: tfl.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: next() }),
      movingMeanInitializer: tfl.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: next() }),
      movingVarianceInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: next() }),
    }),
  };
}

/** Channel count rounded as the reference MobileNets do (multiple of 8, never below 90 %). */
function makeDivisible(v, d = 8) {
  const n = Math.max(d, Math.floor(v + d / 2) - (Math.floor(v + d / 2) % d));
  return n < 0.9 * v ? n + d : n;
}

function convBnRelu6(tfl, init, x, filters, kernel, stride, name) {
  x = tfl.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, kernelInitializer: init.he(), name }).apply(x);
  x = tfl.layers.batchNormalization({ epsilon: 1e-3, ...init.bn(), name: `${name}_bn` }).apply(x);
  return tfl.layers.reLU({ maxValue: 6, name: `${name}_relu6` }).apply(x);
}

function dwBnRelu6(tfl, init, x, stride, name) {
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: init.he(), name }).apply(x);
  x = tfl.layers.batchNormalization({ epsilon: 1e-3, ...init.bn(), name: `${name}_bn` }).apply(x);
  return tfl.layers.reLU({ maxValue: 6, name: `${name}_relu6` }).apply(x);
}

/** MobileNet v1 (Howard et al. 2017): 3x3/2 stem, 13 depthwise-separable blocks, pool, classifier. */
export function mobilenetV1(tfl, { alpha = 0.25, size = 96, channels = 1, classes = 2, seed = SEED } = {}) {
  const init = seeds(tfl, seed);
  const input = tfl.input({ shape: [size, size, channels], name: 'image' });
  let x = convBnRelu6(tfl, init, input, Math.round(32 * alpha), 3, 2, 'conv_stem');
  MOBILENET_V1_BLOCKS.forEach(([c, s], i) => {
    x = dwBnRelu6(tfl, init, x, s, `block${i + 1}_dw`);
    x = convBnRelu6(tfl, init, x, Math.round(c * alpha), 1, 1, `block${i + 1}_pw`);
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x);
  x = tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorot(), name: 'logits' }).apply(x);
  return tfl.model({ inputs: input, outputs: x, name: `mobilenet_v1_${alpha}_${size}` });
}

/** MobileNet v2 (Sandler et al. 2018): inverted residual blocks, linear bottlenecks, 1280 head. */
export function mobilenetV2(tfl, { alpha = 1.0, size = 224, channels = 3, classes = 1000, seed = SEED } = {}) {
  const init = seeds(tfl, seed);
  const input = tfl.input({ shape: [size, size, channels], name: 'image' });
  let x = convBnRelu6(tfl, init, input, makeDivisible(32 * alpha), 3, 2, 'conv_stem');
  let inC = makeDivisible(32 * alpha);
  let b = 0;
  for (const [t, c, n, s] of MOBILENET_V2_BLOCKS) {
    const outC = makeDivisible(c * alpha);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const name = `block${++b}`;
      let h = x;
      if (t !== 1) h = convBnRelu6(tfl, init, h, inC * t, 1, 1, `${name}_expand`);
      h = dwBnRelu6(tfl, init, h, stride, `${name}_dw`);
      h = tfl.layers.conv2d({ filters: outC, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init.he(), name: `${name}_project` }).apply(h);
      h = tfl.layers.batchNormalization({ epsilon: 1e-3, ...init.bn(), name: `${name}_project_bn` }).apply(h);
      if (stride === 1 && inC === outC) h = tfl.layers.add({ name: `${name}_add` }).apply([x, h]);
      x = h;
      inC = outC;
    }
  }
  const last = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = convBnRelu6(tfl, init, x, last, 1, 1, 'conv_head');
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x);
  x = tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorot(), name: 'logits' }).apply(x);
  return tfl.model({ inputs: input, outputs: x, name: `mobilenet_v2_${alpha}_${size}` });
}

/** Every model the bench builds: name -> how to build the tfjs-layers model and calibrate it. */
export const BUILDERS = {
  'mobilenet_v1_0.25_96': {
    description: 'MobileNet v1 x0.25, 96x96x1, 2 classes (13 depthwise-separable blocks)',
    calib: 8,
    layers: async (tfl) => mobilenetV1(tfl, { alpha: 0.25, size: 96, channels: 1, classes: 2 }),
  },
  'mobilenet_v2_1.0_224': {
    description: 'MobileNet v2 x1.0, 224x224x3, 1000 classes (17 inverted residual blocks, 1280 head)',
    calib: 2,
    layers: async (tfl) => mobilenetV2(tfl, { alpha: 1.0, size: 224, channels: 3, classes: 1000 }),
  },
  ...Object.fromEntries([
    ['lenet', [28, 28, 1]],
    ['autoencoder', [784]],
    ['lstm-classifier', [28, 28]],
    ['driving-cnn', [10, 10, 1]],
  ].map(([recipe, inputShape]) => [`recipe_${recipe}`, {
    description: `recipe ${recipe} (src/train/recipes.ts), untrained, input [${inputShape}]`,
    calib: 8,
    layers: async () => {
      const { RECIPES } = await dist('train/recipes.js');
      return RECIPES[recipe].build({ inputShape, classes: 10, seed: SEED }).model;
    },
  }])),
};

export const MODEL_NAMES = Object.keys(BUILDERS);

/** Seeded calibration samples, uniform in [0, 1), shaped [n, ...inputShape]. */
async function calibrationSet(inputShape, n, seed) {
  const { mulberry32 } = await dist('data/random.js');
  const rand = mulberry32(seed);
  const size = inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = rand();
  return { x, xShape: [n, ...inputShape], source: `uniform[0,1) seed ${seed}` };
}

/** Builds one model from scratch: returns { bytes, meta }. */
export async function buildModel(name, { log = () => {} } = {}) {
  const b = BUILDERS[name];
  if (!b) throw new Error(`unknown benchmark model '${name}' (models: ${MODEL_NAMES.join(', ')})`);
  const { tf, tfl } = await tfjs();
  const { serializeLayersModel } = await dist('train/save.js');
  const { layersModelToGraph } = await dist('convert/tfjs-layers.js');
  const { quantizeModel } = await dist('quantize/index.js');
  const t0 = performance.now();
  const model = await b.layers(tfl);
  const params = model.countParams();
  const { modelJson, weights } = await serializeLayersModel(model, {}, 'w.bin');
  model.dispose();
  const graph = layersModelToGraph(modelJson, weights, { source: name });
  const inputShape = graph.tensors[graph.inputs[0]].shape.slice(1);
  const calib = await calibrationSet(inputShape, b.calib, SEED);
  log(`  ${name}: ${params} parameters, quantizing (${b.calib} calibration samples)…`);
  const r = await quantizeModel(graph, calib, { calibCount: b.calib, evalCount: Math.min(2, b.calib) });
  tf.disposeVariables();
  const meta = {
    name, builderVersion: BUILDER_VERSION, description: b.description, params,
    bytes: r.bytes.length, ops: r.report.ops, inputShape,
    outputVsFloat: r.report.output_vs_float, buildSecs: +((performance.now() - t0) / 1000).toFixed(1),
  };
  return { bytes: r.bytes, meta };
}

/** The model's .tflite bytes and metadata, from bench/.models/ when cached there. */
export async function getModel(name, { rebuild = false, log = () => {} } = {}) {
  const file = join(MODELS_DIR, `${name}.v${BUILDER_VERSION}.tflite`);
  const metaFile = file.replace(/\.tflite$/, '.json');
  if (!rebuild && existsSync(file) && existsSync(metaFile)) {
    return { bytes: new Uint8Array(readFileSync(file)), meta: JSON.parse(readFileSync(metaFile, 'utf8')), path: file, cached: true };
  }
  log(`building ${name} (cached in ${MODELS_DIR})…`);
  const { bytes, meta } = await buildModel(name, { log });
  mkdirSync(MODELS_DIR, { recursive: true });
  writeFileSync(`${file}.tmp`, bytes);
  renameSync(`${file}.tmp`, file);
  writeFileSync(metaFile, JSON.stringify(meta, null, 2) + '\n');
  return { bytes, meta, path: file, cached: false };
}
