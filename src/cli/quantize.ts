/**
 * kestrel quantize: a float model (a TensorFlow.js LayersModel directory or a float .tflite)
 * and calibration data -> a fully-integer int8 .tflite and a report.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KestrelError } from '../errors.js';
import type { Graph } from '../graph/types.js';
import { readTflite } from '../tflite/reader.js';
import { layersModelToGraph, readLayersModelDir } from '../convert/tfjs-layers.js';
import { hasTestSplit, loadDataset, type Dataset } from '../data/index.js';
import { quantizeModel, type QuantizeReport } from '../quantize/index.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../quantize/calibrate.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';
import { writeFileAtomic } from './io.js';
import { progressBar } from './progress.js';

const SPEC: Record<string, FlagSpec> = {
  model: { type: 'string', help: 'float model: a TensorFlow.js LayersModel directory (model.json) or a float .tflite' },
  calib: { type: 'string', help: 'calibration data: FILE.npy (float32 [N, ...input shape]), fashion-mnist[:DIR], or any dataset spec kestrel train reads' },
  out: { type: 'string', help: 'the int8 .tflite to write' },
  io: { type: 'string', help: 'type of the model inputs and outputs', default: 'int8', choices: ['int8', 'float'] },
  calibration: { type: 'string', help: 'activation range method', default: 'minmax', choices: [...CALIBRATION_METHODS] },
  percentile: { type: 'string', help: 'percentile kept by --calibration percentile', default: '99.99' },
  lstm: { type: 'string', help: 'LSTM export: unroll (per-step ops, runs in LiteRT.js) or fused (one integer UNIDIRECTIONAL_SEQUENCE_LSTM, ~4x smaller; TFLite and Kestrel only)', default: 'unroll', choices: ['unroll', 'fused'] },
  'per-tensor': { type: 'bool', help: 'one weight scale per tensor instead of per output channel' },
  report: { type: 'string', help: 'also write the report as JSON here' },
  eval: { type: 'string', help: 'held-out data for the report (default: the test split of --calib when it has one)' },
  'int16-layers': { type: 'string', help: 'comma-separated layers to run 16x8 (int16 activations; CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED)' },
  'float-layers': { type: 'string', help: 'comma-separated layers to keep float32 (Kestrel\'s runtime will not run the result)' },
  'calib-count': { type: 'string', help: 'calibration samples to use', default: '500' },
  'eval-count': { type: 'string', help: 'evaluation samples to use', default: '500' },
  force: { type: 'bool', help: 'overwrite existing output files' },
  json: { type: 'bool', help: 'print the report as JSON' },
  help: { type: 'bool', help: 'show this help' },
};

const count = (s: string, flag: string): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new KestrelError('E_USAGE', `kestrel quantize: --${flag} needs a whole number ≥ 1 (got '${s}')`);
  return n;
};

interface Normalization { scale: number; offset: number }

/** Reads the float model; returns its graph, file size and the normalization it was trained with (if recorded). */
function readModel(path: string): { graph: Graph; bytes: number; normalization: Normalization | null } {
  if (!existsSync(path)) throw new KestrelError('E_IO', `${path}: no such file or directory`);
  if (statSync(path).isFile() && !path.endsWith('.json')) {
    const bytes = new Uint8Array(readFileSync(path));
    return { graph: readTflite(bytes, { source: path }), bytes: bytes.length, normalization: null };
  }
  const { modelJson, weights } = readLayersModelDir(path);
  const graph = layersModelToGraph(modelJson, weights, { source: path });
  let normalization: Normalization | null = modelJson?.userDefinedMetadata?.kestrel?.normalization ?? null;
  const dir = statSync(path).isDirectory() ? path : join(path, '..');
  if (!normalization && existsSync(join(dir, 'kestrel.json'))) {
    try { normalization = JSON.parse(readFileSync(join(dir, 'kestrel.json'), 'utf8'))?.normalization ?? null; } catch { /* no recorded normalization */ }
  }
  if (normalization && !(Number.isFinite(normalization.scale) && Number.isFinite(normalization.offset))) normalization = null;
  return { graph, bytes: -1, normalization };
}

/** Re-normalizes a dataset to the model's recorded normalization (x = raw × scale + offset). */
function renormalize(ds: Dataset, to: Normalization | null): Dataset {
  if (!to) return ds;
  const from = ds.normalization;
  if (from.scale === to.scale && from.offset === to.offset) return ds;
  const x = Float32Array.from(ds.x, (v) => ((v - from.offset) / from.scale) * to.scale + to.offset);
  return { ...ds, x, normalization: to };
}

export async function quantizeCommand(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, SPEC, 0, 'quantize');
  if (flags.help) {
    console.log(helpText('kestrel quantize --model DIR|FILE.tflite --calib SPEC --out model_int8.tflite [--io int8|float] [--calibration minmax|ema|percentile|mse] [--per-tensor] [--lstm unroll|fused] [--report report.json] [--eval SPEC] [--int16-layers a,b] [--float-layers a,b] [--calib-count N] [--force]',
      'Post-training quantization: writes a fully-integer int8 TFLite model (int8 weights per channel,\n' +
      'int32 bias, int8 activations) that Kestrel, TFLite and LiteRT run, and reports per-layer SQNR and\n' +
      'the accuracy (or error) of the float and int8 models on held-out data. See docs/quantization.md.', SPEC));
    return 0;
  }
  const modelPath = flags.model as string | undefined;
  const calibSpec = flags.calib as string | undefined;
  const out = flags.out as string | undefined;
  if (!modelPath) throw new KestrelError('E_USAGE', 'kestrel quantize: missing --model DIR|FILE.tflite');
  if (!calibSpec) throw new KestrelError('E_USAGE', 'kestrel quantize: missing --calib SPEC');
  if (!out) throw new KestrelError('E_USAGE', 'kestrel quantize: missing --out FILE.tflite');
  const reportPath = flags.report as string | undefined;
  const force = !!flags.force;
  const protect = [modelPath, join(modelPath, 'model.json'), calibSpec];
  // Refuse bad output paths before any work.
  for (const [p, what] of [[out, 'model'], [reportPath, 'report']] as const) {
    if (!p) continue;
    if (existsSync(p) && !force) throw new KestrelError('E_USAGE', `${p}: exists; pass --force to overwrite it`);
    if (existsSync(p) && statSync(p).isDirectory()) throw new KestrelError('E_IO', `${p}: is a directory, expected a file for the ${what}`);
  }
  if (reportPath && reportPath === out) throw new KestrelError('E_USAGE', `${out}: --report and --out name the same file`);
  const percentile = Number(flags.percentile);
  if (!(percentile > 50 && percentile <= 100)) throw new KestrelError('E_USAGE', `kestrel quantize: --percentile must be in (50, 100] (got '${flags.percentile}')`);
  const calibCount = count(flags['calib-count'] as string, 'calib-count');
  const evalCount = count(flags['eval-count'] as string, 'eval-count');
  const list = (s: unknown) => (typeof s === 'string' ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);

  const model = readModel(modelPath);
  const calib = renormalize(loadDataset(calibSpec, { split: 'train', limit: calibCount }), model.normalization);
  const evalSpec = flags.eval as string | undefined;
  // A held-out spec with a test split (fashion-mnist) is read from it; a file is read whole.
  const evalSet = evalSpec ? loadDataset(evalSpec, { split: hasTestSplit(evalSpec) ? 'test' : 'train', limit: evalCount })
    : hasTestSplit(calibSpec) ? loadDataset(calibSpec, { split: 'test', limit: evalCount }) : null;
  const bar = progressBar();
  let result;
  try {
    result = await quantizeModel(model.graph, calib, {
      io: flags.io as 'int8' | 'float',
      calibration: flags.calibration as CalibrationMethod,
      percentile,
      perTensor: !!flags['per-tensor'],
      lstm: flags.lstm as 'unroll' | 'fused',
      int16Layers: list(flags['int16-layers']),
      floatLayers: list(flags['float-layers']),
      calibCount, evalCount, reshapeSamples: true,
      ...(evalSet ? { evalData: renormalize(evalSet, model.normalization) } : {}),
      ...(model.bytes > 0 ? { floatBytes: model.bytes } : {}),
      onProgress: (f, label) => bar.update(f, label),
    });
  } finally {
    bar.done();
  }
  const { bytes, report } = result;
  writeFileAtomic(out, bytes, { protect, force, what: 'quantized model' });
  if (reportPath) writeFileAtomic(reportPath, JSON.stringify(report, null, 2) + '\n', { protect: [...protect, out], force, what: 'report' });
  if (flags.json) console.log(JSON.stringify(report));
  else console.log(summary(out, report));
  return 0;
}

function summary(out: string, r: QuantizeReport): string {
  const q = r.quality as Record<string, number>;
  const quality = 'int8_accuracy' in q ? `accuracy float ${(100 * q.float_accuracy!).toFixed(2)}% -> int8 ${(100 * q.int8_accuracy!).toFixed(2)}%`
    : 'int8_mse' in q ? `MSE float ${q.float_mse!.toExponential(3)} -> int8 ${q.int8_mse!.toExponential(3)}`
      : `output vs float: MSE ${q.output_mse!.toExponential(3)}, max error ${q.output_max_abs_error!.toPrecision(3)}`;
  const worst = [...r.layers].sort((a, b) => a.sqnr_db - b.sqnr_db).slice(0, 3).map((l) => `${l.name} (${l.op}) ${l.sqnr_db.toFixed(1)} dB`).join(', ');
  const lines = [
    `${out}: ${r.int8_bytes} bytes (float ${r.float_bytes}, ${(100 * r.int8_bytes / r.float_bytes).toFixed(1)}%), io ${r.io}, weights per-${r.per_channel ? 'channel' : 'tensor'}, calibration ${r.calibration.method} on ${r.calibration.samples} samples`,
    `${quality} (${r.eval.samples} samples of ${r.eval.source}; int8 run on ${r.evaluated_with})`,
    `lowest SQNR: ${worst}`,
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}
