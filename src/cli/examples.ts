import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, type Model } from '../runtime/model.js';
import { hasSimd } from '../runtime/wasm.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';

const SPEC: Record<string, FlagSpec> = {
  runs: { type: 'string', help: 'timed runs per model and backend', default: '50' },
  json: { type: 'bool', help: 'print the results as JSON' },
  help: { type: 'bool', help: 'show this help' },
};

const ASSETS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets');

interface Task {
  model: string;
  what: string;
  labels: string[];
  inputs: { file: string; label: string }[];
}

const TASKS: Task[] = [
  {
    model: 'person_detect.tflite', what: 'person detection (96×96 grayscale camera frame)', labels: ['no person', 'person'],
    inputs: [{ file: 'person.gray', label: 'person' }, { file: 'no_person.gray', label: 'no person' }],
  },
  {
    model: 'micro_speech.tflite', what: 'keyword spotting (1 s of audio features)', labels: ['silence', 'unknown', 'yes', 'no'],
    inputs: [{ file: 'speech_yes.features', label: 'yes' }, { file: 'speech_no.features', label: 'no' }, { file: 'speech_silence.features', label: 'silence' }],
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(model: Model, input: Int8Array, runs: number): number {
  for (let i = 0; i < 5; i++) model.run([input]);
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    model.run([input]);
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

export async function examplesCommand(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, SPEC, 0, 'examples');
  if (flags.help) {
    console.log(helpText('kestrel examples [--runs N] [--json]',
      'Runs the built-in int8 models (person detection, keyword spotting) on their example inputs with the SIMD and the scalar kernels, and shows predictions, agreement and latency.', SPEC));
    return 0;
  }
  const runs = Math.max(1, Number.parseInt(flags.runs as string, 10) || 50);
  const backends = hasSimd() ? (['simd', 'scalar'] as const) : (['scalar'] as const);
  const results: any[] = [];
  let allAgree = true;
  let allRight = true;
  if (!flags.json) console.log(`Kestrel demo — WebAssembly SIMD ${hasSimd() ? 'available' : 'not available'}; ${runs} timed runs each\n`);
  for (const task of TASKS) {
    const bytes = readFileSync(join(ASSETS, task.model));
    const models = await Promise.all(backends.map((b) => loadModel(bytes, { backend: b, name: task.model })));
    const m0 = models[0]!;
    if (!flags.json) {
      console.log(`${task.model}: ${task.what}; ${(bytes.length / 1024).toFixed(1)} KiB, ${m0.plan.ops.length} ops, ${(m0.macs / 1e6).toFixed(2)} M MACs, arena ${m0.arenaBytes.toLocaleString('en-US')} bytes`);
    }
    for (const inp of task.inputs) {
      const raw = readFileSync(join(ASSETS, inp.file));
      const input = new Int8Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      const outs = models.map((m) => m.run([input])[0] as Int8Array);
      const agree = outs.every((o) => o.every((v, i) => v === outs[0]![i]));
      const scores = Array.from(outs[0]!);
      const best = scores.indexOf(Math.max(...scores));
      const probs = Array.from(m0.dequantizeOutput(0, outs[0]!));
      const ms = Object.fromEntries(backends.map((b, i) => [b, time(models[i]!, input, runs)]));
      const right = task.labels[best] === inp.label;
      allAgree &&= agree;
      allRight &&= right;
      results.push({ model: task.model, input: inp.file, expected: inp.label, predicted: task.labels[best], scores, probabilities: probs, backendsAgree: agree, p50_ms: ms });
      if (!flags.json) {
        const shown = task.labels.map((l, i) => `${l} ${(probs[i]! * 100).toFixed(0)}%`).join(', ');
        const timing = backends.map((b) => `${b} ${ms[b]!.toFixed(3)} ms`).join(', ');
        console.log(`  ${inp.file.padEnd(24)} → ${task.labels[best]!.padEnd(9)} ${right ? '✓' : '✗ (expected ' + inp.label + ')'}  [${shown}]  ${agree ? 'simd = scalar' : 'SIMD AND SCALAR DIFFER'}  p50 ${timing}`);
      }
    }
    models.forEach((m) => m.dispose());
    if (!flags.json) console.log('');
  }
  if (flags.json) console.log(JSON.stringify({ simd: hasSimd(), results }, null, 1));
  else console.log(allRight && allAgree ? 'All predictions as expected; SIMD and scalar kernels agree bit for bit.' : 'Some results were unexpected (see above).');
  return allRight && allAgree ? 0 : 1;
}
