/**
 * `kestrel train --recipe NAME --data SPEC [options]` — trains one of the built-in recipes
 * on TensorFlow.js and writes the model (tfjs LayersModel + float .tflite), kestrel.json
 * and the training curves. Every input problem is reported before training starts.
 */
import { KestrelError } from '../errors.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';
import { progressBar } from './progress.js';

const RECIPE_NAMES = ['lenet', 'autoencoder', 'lstm-classifier', 'driving-cnn'];

const SPEC: Record<string, FlagSpec> = {
  recipe: { type: 'string', help: `model to train: ${RECIPE_NAMES.join(', ')}` },
  data: { type: 'string', help: 'dataset: fashion-mnist[:DIR], mnist:DIR, DIR of class folders, X.npy[,Y.npy], FILE.csv[:label=COL], driving-grid[:N] (default: the recipe\'s)' },
  epochs: { type: 'string', help: 'training epochs (default: the recipe\'s)' },
  subset: { type: 'string', help: 'train on a seeded random subset of N samples' },
  batch: { type: 'string', help: 'batch size (default: the recipe\'s)' },
  seed: { type: 'string', help: 'seed of initial weights, shuffling and splits', default: '1' },
  validation: { type: 'string', help: 'fraction held out for validation', default: '0.1' },
  patience: { type: 'string', help: 'stop after N epochs without a better validation loss' },
  lr: { type: 'string', help: 'learning rate (default: the recipe\'s)' },
  backend: { type: 'string', help: 'training backend', default: 'kestrel', choices: ['kestrel', 'wasm', 'cpu'] },
  out: { type: 'string', help: 'output directory for model.json, weights.bin, model.tflite, kestrel.json, curves.svg' },
  force: { type: 'bool', help: 'write into a non-empty --out directory' },
  json: { type: 'bool', help: 'print the summary as JSON' },
  help: { type: 'bool', help: 'show this help' },
};

function num(flags: Record<string, unknown>, name: string, integer: boolean, min: number, max = Infinity): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const s = String(raw);
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new KestrelError('E_USAGE', `kestrel train: --${name} needs ${integer ? 'a whole number' : 'a number'} ≥ ${min}${max < Infinity ? ` and < ${max}` : ''} (got '${s}')`);
  }
  return n;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, SPEC, 0, 'train');
  if (flags['help']) {
    console.log(helpText('kestrel train --recipe NAME [--data SPEC] [options]', 'Train a built-in model recipe on TensorFlow.js and save it (tfjs LayersModel, float .tflite, curves).', SPEC));
    return 0;
  }
  const recipe = flags['recipe'] as string | undefined;
  if (!recipe) throw new KestrelError('E_USAGE', `kestrel train: --recipe is required (${RECIPE_NAMES.join(', ')})`);
  if (!RECIPE_NAMES.includes(recipe)) throw new KestrelError('E_TRAIN', `unknown recipe '${recipe}' (recipes: ${RECIPE_NAMES.join(', ')})`);
  const validation = num(flags, 'validation', false, 0, 1)!;
  const opts = {
    recipe,
    ...(flags['data'] !== undefined ? { data: flags['data'] as string } : {}),
    epochs: num(flags, 'epochs', true, 1),
    subset: num(flags, 'subset', true, 2),
    batchSize: num(flags, 'batch', true, 1),
    seed: num(flags, 'seed', true, 0, 2 ** 32),
    validationSplit: validation,
    patience: num(flags, 'patience', true, 1),
    learningRate: num(flags, 'lr', false, 1e-9),
    backend: flags['backend'] as 'kestrel' | 'wasm' | 'cpu',
    ...(flags['out'] !== undefined ? { out: flags['out'] as string } : {}),
    force: flags['force'] === true,
  };
  // Training needs TensorFlow.js, an optional dependency: load it only for this command.
  let train: typeof import('../train/index.js');
  try {
    train = await import('../train/index.js');
  } catch (e) {
    throw new KestrelError('E_TRAIN', `training needs @tensorflow/tfjs-core, -layers, -backend-cpu and -backend-wasm 4.22.0 (${(e as Error).message.split('\n')[0]})`);
  }
  const clean = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as unknown as Parameters<typeof train.trainRecipe>[0];
  const bar = progressBar();
  const result = await train.trainRecipe({
    ...clean,
    onProgress: (p) => bar.update(p.fraction, `epoch ${p.epoch}/${p.epochs}`, `loss ${p.loss.toFixed(4)} ${p.metricName} ${p.metric.toFixed(4)}`),
  }).finally(() => bar.done());
  if (flags['json']) {
    console.log(JSON.stringify(train.summaryJson(result), null, 2));
    return 0;
  }
  const r = result;
  const m = r.metricName;
  const fmt = (v: number): string => (m === 'accuracy' ? `${(v * 100).toFixed(2)}%` : v.toFixed(5));
  const lines = [
    `${r.meta.recipe} on ${r.dataset.source}: ${r.dataset.train} training, ${r.dataset.validation} validation, ${r.dataset.test} test samples`,
    `backend ${r.backend}, seed ${r.seed}, ${r.epochsRun} epoch${r.epochsRun === 1 ? '' : 's'}${r.stoppedEarly ? ' (stopped early)' : ''}, best epoch ${r.best.epoch} (${r.best.monitor} ${r.best.value.toFixed(5)})`,
    `train ${m} ${fmt(r.metrics.train.metric)} (loss ${r.metrics.train.loss.toFixed(5)})`,
  ];
  if (r.metrics.validation) lines.push(`validation ${m} ${fmt(r.metrics.validation.metric)} (loss ${r.metrics.validation.loss.toFixed(5)})`);
  if (r.metrics.test) lines.push(`test ${m} ${fmt(r.metrics.test.metric)} (loss ${r.metrics.test.loss.toFixed(5)})`);
  lines.push(`${r.samplesPerSec.toFixed(0)} samples/s, ${r.seconds.toFixed(1)} s`);
  if (r.files.length) lines.push('wrote:', ...r.files.map((f) => `  ${f}`));
  for (const n of r.notes) lines.push(`note: ${n}`);
  console.log(lines.join('\n'));
  return 0;
}
