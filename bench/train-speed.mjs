#!/usr/bin/env node
// Training throughput of the small reference models on the TensorFlow.js backends.
//
// Usage: node bench/train-speed.mjs [--models a,b] [--backends cpu,wasm,kestrel]
//                                   [--batches N] [--cpu-batches N] [--batch 64] [--repeat R]
//                                   [--json FILE]
//
// Every (model, backend) pair runs in its own child process, so the stock `wasm` backend
// is never mixed with the kernels Kestrel registers into it. A child builds the model with
// @tensorflow/tfjs-layers, trains one warm-up batch (not timed), then N batches of random
// data with model.trainOnBatch and prints samples/s (N defaults to 20; on the cpu backend,
// about 50 times slower, --cpu-batches, default 5). With --repeat R each pair is measured
// R times and the table shows the best and the spread (min..max), because the machine may
// be busy with other work. A model the backend cannot train is reported as "unsupported"
// together with the missing kernel.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const SELF = fileURLToPath(import.meta.url);

// name -> { recipe (src/train/recipes.ts, the models `kestrel train` trains), input shape, labels }
const MODELS = {
  'lenet-28x28x1': { recipe: 'lenet', input: [28, 28, 1], classes: 10 },
  'lenet-32x32x3': { recipe: 'lenet', input: [32, 32, 3], classes: 10 },
  autoencoder: { recipe: 'autoencoder', input: [784], target: 'input' },
  'lstm-classifier': { recipe: 'lstm-classifier', input: [28, 28], classes: 10 },
  'driving-cnn': { recipe: 'driving-cnn', input: [10, 10, 1], classes: 1 },
};

function parse(argv) {
  const o = { models: Object.keys(MODELS), backends: ['cpu', 'wasm', 'kestrel'], batches: 20, cpuBatches: 5, batch: 64, repeat: 1, json: null, child: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--models') o.models = v().split(',');
    else if (a === '--backends') o.backends = v().split(',');
    else if (a === '--batches') o.batches = Number(v());
    else if (a === '--cpu-batches') o.cpuBatches = Number(v());
    else if (a === '--batch') o.batch = Number(v());
    else if (a === '--repeat') o.repeat = Number(v());
    else if (a === '--json') o.json = v();
    else if (a === '--child') o.child = v();
    else throw new Error(`unknown argument ${a}`);
  }
  for (const k of ['batches', 'cpuBatches', 'batch', 'repeat']) if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`--${k.replace('cpuBatches', 'cpu-batches')} must be a whole number >= 1`);
  for (const m of o.models) if (!MODELS[m]) throw new Error(`unknown model ${m} (known: ${Object.keys(MODELS).join(', ')})`);
  for (const b of o.backends) if (!['cpu', 'wasm', 'kestrel'].includes(b)) throw new Error(`unknown backend ${b}`);
  return o;
}

// Child: one model on one backend; prints one JSON line.
async function child(o, modelName, backend) {
  const { setupTrainingBackend } = await import('../dist/train/kernels/index.js');
  const tf = await import('@tensorflow/tfjs-core');
  const { RECIPES } = await import('../dist/train/recipes.js');
  const info = await setupTrainingBackend({ backend });
  const spec = MODELS[modelName];
  const { model } = RECIPES[spec.recipe].build({ inputShape: spec.input, classes: spec.classes ?? 1, seed: 1 });
  const x = tf.randomUniform([o.batch, ...spec.input], 0, 1, 'float32', 1);
  let y;
  if (spec.target === 'input') y = x;
  else if (spec.classes === 1) y = tf.cast(tf.greater(tf.randomUniform([o.batch, 1], 0, 1, 'float32', 2), 0.5), 'float32');
  else y = tf.cast(tf.oneHot(tf.randomUniform([o.batch], 0, spec.classes, 'int32', 3), spec.classes), 'float32');
  try {
    await model.trainOnBatch(x, y);
  } catch (e) {
    const msg = String(e && e.message ? e.message : e);
    const m = /Kernel '([^']+)' not registered/.exec(msg);
    console.log(JSON.stringify({ model: modelName, backend: info.backend, unsupported: m ? `no ${m[1]} kernel` : msg.split('\n')[0] }));
    return;
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let loss = 0;
  for (let i = 0; i < o.batches; i++) loss = await model.trainOnBatch(x, y);
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpuS = (c.user + c.system) / 1e6;
  const n = o.batches * o.batch;
  console.log(JSON.stringify({ model: modelName, backend: info.backend, threads: info.threads, samplesPerSec: n / s, samplesPerCpuSec: n / cpuS, loss }));
}

async function main() {
  const o = parse(process.argv.slice(2));
  if (o.child) {
    const [m, b] = o.child.split('@');
    await child(o, m, b);
    return;
  }
  const results = {};
  for (const m of o.models) {
    for (const b of o.backends) {
      const runs = [];
      const cpuRuns = [];
      let note = null;
      for (let r = 0; r < o.repeat; r++) {
        const p = spawnSync(process.execPath, [SELF, '--child', `${m}@${b}`, '--batches', String(b === 'cpu' ? o.cpuBatches : o.batches), '--batch', String(o.batch)], { encoding: 'utf8' });
        const line = p.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
        if (p.status !== 0 || !line) {
          note = `failed: ${(p.stderr || '').trim().split('\n').pop()}`;
          break;
        }
        const res = JSON.parse(line);
        if (res.unsupported) {
          note = `unsupported (${res.unsupported})`;
          break;
        }
        runs.push(res.samplesPerSec);
        cpuRuns.push(res.samplesPerCpuSec);
      }
      results[`${m}@${b}`] = { model: m, backend: b, runs, cpuRuns, note };
      const cell = note ?? `best ${Math.max(...runs).toFixed(1)} (${Math.min(...runs).toFixed(1)}..${Math.max(...runs).toFixed(1)})`;
      process.stderr.write(`${m} on ${b}: ${cell}\n`);
    }
  }
  const num = (v) => v.toFixed(v < 10 ? 1 : 0);
  const fmt = (r) => (r.note ? r.note.split(' (')[0] : r.runs.length > 1 ? `${num(Math.max(...r.runs))} (${num(Math.min(...r.runs))}-${num(Math.max(...r.runs))})` : num(Math.max(...r.runs)));
  const header = ['model (batch ' + o.batch + ', samples/s)', ...o.backends];
  const rows = o.models.map((m) => [m, ...o.backends.map((b) => fmt(results[`${m}@${b}`]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
  for (const r of Object.values(results)) if (r.note) console.log(`${r.model} on ${r.backend}: ${r.note}`);
  // Samples per second of the process's own CPU time: on a machine busy with other work this
  // moves far less than wall-clock throughput (the backends compute on one thread).
  console.log('\nsamples per CPU-second of the training process (best):');
  const cpuRows = o.models.map((m) => [m, ...o.backends.map((b) => {
    const r = results[`${m}@${b}`];
    return r.note ? r.note.split(' (')[0] : num(Math.max(...r.cpuRuns));
  })]);
  const cw = header.map((h, i) => Math.max(h.length, ...cpuRows.map((r) => r[i].length)));
  const cline = (cells) => '| ' + cells.map((x, i) => x.padEnd(cw[i])).join(' | ') + ' |';
  console.log(cline(header));
  console.log('|' + cw.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of cpuRows) console.log(cline(r));
  if (o.json) writeFileSync(o.json, JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(`train-speed: ${e.message}`);
  process.exit(1);
});
