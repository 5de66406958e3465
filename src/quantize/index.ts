/**
 * Post-training int8 quantization: float Graph + calibration samples -> fully-integer TFLite
 * model, with a report of what was done and what it cost in accuracy. See
 * docs/quantization.md.
 */
import { KestrelError } from '../errors.js';
import type { Graph } from '../graph/types.js';
import { numElements } from '../graph/types.js';
import { createModel } from '../runtime/model.js';
import { writeTflite } from '../tflite/writer.js';
import { calibrate, type CalibrationMethod, type Range, type Sample } from './calibrate.js';
import { runFloat } from './interpreter.js';
import { unrollLstms } from './lstm.js';
import { cleanupGraph, type CleanupStats } from './passes.js';
import { checkFiniteWeights, checkSupportedOps, quantizeGraph, type Precision, type QuantizeGraphOptions } from './quantize.js';
import { cloneGraph, constFloat } from './tensor-data.js';

export { runFloat, FLOAT_OPS, type RunOptions } from './interpreter.js';
export { cleanupGraph, type CleanupStats } from './passes.js';
export { unrollLstms } from './lstm.js';
export { calibrate, CALIBRATION_METHODS, type CalibrationMethod, type CalibrateOptions, type Range, type Sample } from './calibrate.js';
export { quantizeGraph, quantizeWeights, int8Params, int16Params, QUANTIZABLE_OPS, type QuantizeGraphOptions, type QuantizeGraphResult, type Precision } from './quantize.js';

/** Samples laid out as one array with a leading sample dimension (e.g. a loaded Dataset). */
export interface SampleSet {
  x: Float32Array;
  xShape: number[];
  y?: Int32Array | Float32Array | null;
  source?: string;
}

/**
 * Calibration or evaluation data: a SampleSet, or a (sync or async) iterable whose items are
 * one Float32Array (single-input models: one sample, or several samples back to back) or one
 * Float32Array per model input.
 */
export type CalibrationData = SampleSet | Iterable<Float32Array | Float32Array[]> | AsyncIterable<Float32Array | Float32Array[]>;

export interface QuantizeOptions extends QuantizeGraphOptions {
  /** Range method (default 'minmax'). */
  calibration?: CalibrationMethod;
  /** Percentile for 'percentile' (default 99.99). */
  percentile?: number;
  /** Use at most this many calibration samples (default 500). */
  calibCount?: number;
  /** Held-out data for the report (labels make it an accuracy); default: the calibration samples. */
  evalData?: CalibrationData;
  /** Use at most this many evaluation samples (default 500). */
  evalCount?: number;
  /** Size of the float model file, for the report (default: the float graph written as .tflite). */
  floatBytes?: number;
  /**
   * Accept sample sets whose samples have the model input's element count but another shape
   * (e.g. [28,28,1] images for a model reading 784 values); the report notes it. Default false.
   */
  reshapeSamples?: boolean;
  /**
   * How an LSTM is exported (default 'unroll'): 'unroll' writes per-step ops that every int8
   * runtime (LiteRT.js included) runs; 'fused' writes one integer UNIDIRECTIONAL_SEQUENCE_LSTM
   * (TFLite's 8x8->16 kernel, stateful variable tensors), about 4x smaller, run by TFLite and
   * Kestrel but refused by LiteRT.js.
   */
  lstm?: 'unroll' | 'fused';
  /** Progress: fraction in [0, 1] and what is being done. */
  onProgress?: (fraction: number, label: string) => void;
}

export interface LayerReport { name: string; op: string; precision: Precision; sqnr_db: number }

export interface QuantizeReport {
  source: string;
  calibration: { method: CalibrationMethod; samples: number; percentile?: number };
  io: 'int8' | 'float';
  per_channel: boolean;
  float_bytes: number;
  int8_bytes: number;
  ops: Record<string, number>;
  layers: LayerReport[];
  quality: { float_accuracy: number; int8_accuracy: number } | { float_mse: number; int8_mse: number } | { output_mse: number; output_max_abs_error: number };
  /** int8 output vs float output over the evaluation set. */
  output_vs_float: { mse: number; max_abs_error: number };
  eval: { source: string; samples: number; held_out: boolean };
  /** How the int8 model was evaluated: Kestrel's runtime, or simulation when float ops remain. */
  evaluated_with: 'kestrel' | 'simulation';
  int16_layers: string[];
  float_layers: string[];
  cleanup: CleanupStats & { unrolledLstms: number; droppedClips: number };
  /** How LSTMs were exported: unrolled over time, or one fused integer op each. */
  lstm: 'unroll' | 'fused';
  notes: string[];
}

export interface QuantizeResult {
  graph: Graph;
  bytes: Uint8Array;
  report: QuantizeReport;
  /** The float graph after LSTM unrolling and clean-up (what was calibrated; the float reference). */
  floatGraph: Graph;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const sqz = (s: readonly number[]) => s.filter((d) => d !== 1);
const sameDims = (a: readonly number[], b: readonly number[]) => { const x = sqz(a), y = sqz(b); return x.length === y.length && x.every((d, i) => d === y[i]); };

/** Turns calibration or evaluation data into per-run input lists matching the graph's inputs. */
export async function toSamples(g: Graph, data: CalibrationData, limit: number, what: string, reshape = false, notes: string[] = []): Promise<{ samples: Sample[]; labels: Int32Array | Float32Array | null; source: string }> {
  const ins = g.inputs.map((i) => g.tensors[i]!);
  const per = ins.map((t) => numElements(t.shape));
  const mismatch = (got: string): never => {
    throw new KestrelError('E_QUANTIZE', `${what} has shape ${got} but the model input '${ins[0]!.name}' is [${ins[0]!.shape.join(',')}]`);
  };
  if (data && typeof data === 'object' && 'x' in data && 'xShape' in data) {
    const ds = data as SampleSet;
    if (ins.length !== 1) throw new KestrelError('E_QUANTIZE', `${what}: the model has ${ins.length} inputs; pass one Float32Array per input instead of one sample set`);
    const N = ds.xShape[0] ?? 0;
    if (N === 0) throw new KestrelError('E_QUANTIZE', `${what} (${ds.source ?? 'samples'}) is empty`);
    const sample = ds.xShape.slice(1);
    const B = ins[0]!.shape[0] ?? 1;
    const modelSample = ins[0]!.shape.slice(1);
    if (!sameDims(sample, modelSample)) {
      // Same values in another shape (e.g. [28,28,1] images for a model that reads 784 values
      // or 28 rows of 28): accepted only when asked for, and said in the report.
      if (!reshape || numElements(sample) !== numElements(modelSample)) mismatch(`[${ds.xShape.join(',')}] (samples [${sample.join(',')}])`);
      notes.push(`${what}: samples of shape [${sample.join(',')}] read as [${modelSample.join(',')}] (same values, row-major)`);
    }
    const n = Math.min(N - (N % B), limit - (limit % B) || B);
    if (n < B) throw new KestrelError('E_QUANTIZE', `${what} has ${N} samples, fewer than the model's batch of ${B}`);
    const samples: Sample[] = [];
    for (let s = 0; s + B <= n; s += B) samples.push([ds.x.subarray(s * per[0]! / B, (s + B) * per[0]! / B)]);
    const labels = ds.y ? ds.y.subarray(0, (ds.y.length / N) * n) as Int32Array | Float32Array : null;
    return { samples, labels, source: ds.source ?? 'samples' };
  }
  const samples: Sample[] = [];
  const push = (item: Float32Array | Float32Array[]) => {
    if (item instanceof Float32Array) {
      if (ins.length !== 1) throw new KestrelError('E_QUANTIZE', `${what}: the model has ${ins.length} inputs; each item must be one Float32Array per input`);
      if (item.length === 0 || item.length % per[0]! !== 0) mismatch(`${item.length} values per item`);
      for (let o = 0; o < item.length && samples.length < limit; o += per[0]!) samples.push([item.subarray(o, o + per[0]!)]);
      return;
    }
    if (!Array.isArray(item) || item.length !== ins.length) throw new KestrelError('E_QUANTIZE', `${what}: each item must be ${ins.length} Float32Array(s), one per model input`);
    item.forEach((a, k) => {
      if (!(a instanceof Float32Array)) throw new KestrelError('E_QUANTIZE', `${what}: input ${k} of an item is not a Float32Array`);
      if (a.length !== per[k]) throw new KestrelError('E_QUANTIZE', `${what} has ${a.length} values for input '${ins[k]!.name}' of shape [${ins[k]!.shape.join(',')}] (${per[k]} values)`);
    });
    samples.push(item);
  };
  if (Symbol.asyncIterator in (data as object)) {
    for await (const item of data as AsyncIterable<Float32Array | Float32Array[]>) { push(item); if (samples.length >= limit) break; }
  } else if (Symbol.iterator in (data as object)) {
    for (const item of data as Iterable<Float32Array | Float32Array[]>) { push(item); if (samples.length >= limit) break; }
  } else {
    throw new KestrelError('E_USAGE', `${what} must be a sample set {x, xShape}, an array or an (async) iterable of Float32Arrays`);
  }
  if (!samples.length) throw new KestrelError('E_QUANTIZE', `${what} is empty`);
  return { samples, labels: null, source: 'samples' };
}

/** Quantizes a float graph with calibration data; see QuantizeOptions and docs/quantization.md. */
export async function quantizeModel(floatGraph: Graph, calib: CalibrationData, opts: QuantizeOptions = {}): Promise<QuantizeResult> {
  const progress = opts.onProgress ?? (() => {});
  const src = floatGraph.source;
  const bad = floatGraph.inputs.map((i) => floatGraph.tensors[i]!).find((t) => t.dtype !== 'float32');
  if (bad) throw new KestrelError('E_QUANTIZE', `${src}: input '${bad.name}' is ${bad.dtype}; quantization needs a float32 model`);
  checkFiniteWeights(floatGraph);
  // 1. Unroll LSTMs, clean up.
  const lstmMode = opts.lstm ?? 'unroll';
  if (lstmMode !== 'unroll' && lstmMode !== 'fused') throw new KestrelError('E_USAGE', `lstm must be 'unroll' or 'fused', got '${String(lstmMode)}'`);
  const g0 = cloneGraph(floatGraph);
  const unrolled = lstmMode === 'unroll' ? unrollLstms(g0) : 0;
  const { graph: fg, stats } = cleanupGraph(g0);
  checkSupportedOps(fg);
  // 2. Calibrate.
  const shapeNotes: string[] = [];
  const cal = await toSamples(fg, calib, opts.calibCount ?? 500, 'the calibration data', opts.reshapeSamples === true, shapeNotes);
  const method = opts.calibration ?? 'minmax';
  const ranges = calibrate(fg, cal.samples, {
    method, ...(opts.percentile !== undefined ? { percentile: opts.percentile } : {}),
    onProgress: (d, n, label) => progress(0.7 * d / n, label),
  });
  // A MINIMUM/MAXIMUM by a constant bound (an LSTM's cell clip) that the calibrated range never
  // reaches does nothing in the int8 model: its input saturates inside the bound. Dropped.
  const fgFull = cloneGraph(fg);
  const clipsDropped = dropUnreachedClips(fg, ranges);
  // 3. Quantize and write.
  const q = quantizeGraph(fg, ranges, opts);
  const bytes = writeTflite(q.graph);
  // 4. Evaluate on held-out data (or the calibration data).
  const held = opts.evalData !== undefined;
  const ev = held ? await toSamples(fg, opts.evalData!, opts.evalCount ?? 500, 'the evaluation data', opts.reshapeSamples === true, shapeNotes) : { ...cal, samples: cal.samples.slice(0, opts.evalCount ?? 500) };
  const ev2 = await evaluate(fg, fgFull, q.graph, q.tensorMap, ev.samples, ev.labels, (d, n) => progress(0.7 + 0.3 * d / n, 'evaluating'));
  progress(1, 'done');
  const ops: Record<string, number> = {};
  for (const op of q.graph.ops) ops[op.opcode] = (ops[op.opcode] ?? 0) + 1;
  const nameOf = (k: number) => fg.tensors[fg.ops[k]!.outputs[0]!]!.name;
  const notes: string[] = [...shapeNotes, ...q.warnings];
  const floatOps = q.graph.ops.filter((o) => o.opcode !== 'QUANTIZE' && o.opcode !== 'DEQUANTIZE' && o.outputs.some((t) => q.graph.tensors[t]!.dtype === 'float32'));
  if (floatOps.length) notes.push(`${floatOps.length} op(s) kept float32 (${[...new Set(floatOps.map((o) => o.opcode))].join(', ')}): a valid TFLite file for TFLite/LiteRT, but Kestrel's runtime runs integer ops only and will refuse it`);
  if (unrolled) notes.push(`${unrolled} UNIDIRECTIONAL_SEQUENCE_LSTM op(s) unrolled over time; the state starts at zero on every run`);
  const fused = q.graph.ops.filter((o) => o.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM').length;
  if (fused) notes.push(`${fused} UNIDIRECTIONAL_SEQUENCE_LSTM op(s) kept as one fused integer LSTM each (int8 activations, int16 cell state, weights per tensor, variable state tensors): TFLite and Kestrel run it, LiteRT.js refuses models with variable tensors (use lstm 'unroll' for LiteRT.js)`);
  const report: QuantizeReport = {
    source: src,
    calibration: { method, samples: cal.samples.length, ...(method === 'percentile' ? { percentile: opts.percentile ?? 99.99 } : {}) },
    io: opts.io ?? 'int8',
    per_channel: !opts.perTensor,
    float_bytes: opts.floatBytes ?? writeTflite(floatGraph).length,
    int8_bytes: bytes.length,
    ops,
    layers: fg.ops.map((op, k) => ({ name: nameOf(k), op: op.opcode, precision: q.precision[k]!, sqnr_db: ev2.sqnr[k]! })),
    quality: ev2.quality,
    output_vs_float: ev2.outputVsFloat,
    eval: { source: held ? ev.source : `${cal.source} (calibration data: no held-out set given)`, samples: ev.samples.length, held_out: held },
    evaluated_with: ev2.engine,
    int16_layers: fg.ops.map((_, k) => k).filter((k) => q.precision[k] === 'int16').map(nameOf),
    float_layers: fg.ops.map((_, k) => k).filter((k) => q.precision[k] === 'float').map(nameOf),
    cleanup: { ...stats, unrolledLstms: unrolled, droppedClips: clipsDropped },
    lstm: lstmMode,
    notes,
  };
  return { graph: q.graph, bytes, report, floatGraph: fgFull };
}

function dropUnreachedClips(g: Graph, ranges: Map<number, Range>): number {
  let n = 0;
  for (const op of [...g.ops]) {
    if (op.opcode !== 'MINIMUM' && op.opcode !== 'MAXIMUM') continue;
    const [a, k] = op.inputs as [number, number];
    const kt = g.tensors[k]!, out = op.outputs[0]!;
    if (!kt.data || kt.dtype !== 'float32' || numElements(kt.shape) !== 1 || g.tensors[a]!.data || g.outputs.includes(out)) continue;
    const bound = constFloat(kt)[0]!, r = ranges.get(a);
    if (!r || (op.opcode === 'MINIMUM' ? r.max > bound : r.min < bound)) continue;
    for (const o of g.ops) o.inputs = o.inputs.map((i) => (i === out ? a : i));
    g.ops = g.ops.filter((o) => o !== op);
    n++;
  }
  g.ops.forEach((o, i) => { o.index = i; });
  return n;
}

function quantizeTo(t: { dtype: string; quant: { scale: number[]; zeroPoint: number[] } | null }, x: Float32Array): Int8Array | Int16Array | Float32Array {
  if (t.dtype === 'float32' || !t.quant) return x;
  const s = t.quant.scale[0]!, z = t.quant.zeroPoint[0]!;
  const [lo, hi, C] = t.dtype === 'int16' ? [-32768, 32767, Int16Array] as const : [-128, 127, Int8Array] as const;
  const out = new C(x.length);
  for (let i = 0; i < x.length; i++) { const v = x[i]! / s; out[i] = Math.max(lo, Math.min(hi, (v < 0 ? -Math.round(-v) : Math.round(v)) + z)); }
  return out;
}

function dequant(t: { dtype: string; quant: { scale: number[]; zeroPoint: number[] } | null }, a: ArrayLike<number>): Float32Array {
  if (t.dtype === 'float32' || !t.quant) return Float32Array.from(a);
  const s = t.quant.scale[0]!, z = t.quant.zeroPoint[0]!;
  return Float32Array.from(a, (v) => (v - z) * s);
}

const INTEGER_RUNTIME_OPS = new Set(['QUANTIZE', 'DEQUANTIZE']);

/** `fg`: the graph that was quantized (its ops are the report's layers); `ref`: the float reference run. */
async function evaluate(fg: Graph, ref: Graph, qg: Graph, tensorMap: Map<number, number>, samples: Sample[], labels: Int32Array | Float32Array | null, tick: (d: number, n: number) => void) {
  const layerT = fg.ops.map((op) => op.outputs[0]!);
  const qT = layerT.map((t) => tensorMap.get(t)!);
  const hasFloat = qg.ops.some((o) => !INTEGER_RUNTIME_OPS.has(o.opcode) && o.outputs.some((t) => qg.tensors[t]!.dtype === 'float32'));
  let engine: 'kestrel' | 'simulation' = hasFloat ? 'simulation' : 'kestrel';
  let model: Awaited<ReturnType<typeof createModel>> | null = null;
  const probe: Graph = { ...qg, outputs: [...qg.outputs, ...qT.filter((t) => !qg.outputs.includes(t))] };
  const extra = probe.outputs;
  if (engine === 'kestrel') {
    try { model = await createModel(probe); } catch { engine = 'simulation'; }
  }
  const sig = new Float64Array(layerT.length), noise = new Float64Array(layerT.length);
  const outF: Float32Array[][] = [], outQ: Float32Array[][] = [];
  samples.forEach((s, k) => {
    const fvals = new Map<number, Float32Array>();
    const fo = runFloat(ref, s, { onTensor: (t, v) => fvals.set(t, v) });
    const qvals = new Map<number, Float32Array>();
    let qo: Float32Array[];
    if (model) {
      // A fused LSTM keeps its state in variable tensors across runs (TFLite semantics); the
      // float model starts every sample from zero, so the int8 one does too.
      model.resetState();
      const outs = model.run(qg.inputs.map((i, j) => quantizeTo(qg.tensors[i]!, s[j]!)));
      extra.forEach((t, j) => qvals.set(t, dequant(qg.tensors[t]!, outs[j]!)));
      qo = qg.outputs.map((t) => qvals.get(t)!);
    } else {
      qo = runFloat(qg, s, { simulate: true, onTensor: (t, v) => qvals.set(t, v) });
    }
    layerT.forEach((t, j) => {
      const a = fvals.get(t), b = qvals.get(qT[j]!);
      if (!a || !b) return;
      for (let i = 0; i < a.length; i++) { sig[j] = sig[j]! + a[i]! * a[i]!; noise[j] = noise[j]! + (a[i]! - b[i]!) ** 2; }
    });
    outF.push(fo);
    outQ.push(qo);
    tick(k + 1, samples.length);
  });
  model?.dispose();
  const sqnr = Array.from(sig, (s, j) => Math.round(100 * 10 * Math.log10((s + 1e-20) / (noise[j]! + 1e-20))) / 100);
  // Output comparisons (first output).
  let se = 0, n = 0, maxAbs = 0;
  outF.forEach((f, k) => { const a = f[0]!, b = outQ[k]![0]!; for (let i = 0; i < a.length; i++) { const d = a[i]! - b[i]!; se += d * d; n++; maxAbs = Math.max(maxAbs, Math.abs(d)); } });
  const outputVsFloat = { mse: n ? se / n : 0, max_abs_error: maxAbs };
  let quality: QuantizeReport['quality'];
  const outLen = outF[0]?.[0]?.length ?? 0;
  if (samples[0]!.length === 1 && outLen > 1 && sameShape(fg.tensors[fg.outputs[0]!]!.shape, fg.tensors[fg.inputs[0]!]!.shape)) {
    // Output shaped like the input: an autoencoder; its error is measured against its input
    // (even when the data has class labels).
    let ef = 0, eq = 0;
    outF.forEach((f, k) => { const x = samples[k]![0]!; for (let i = 0; i < outLen; i++) { ef += (f[0]![i]! - x[i]!) ** 2; eq += (outQ[k]![0]![i]! - x[i]!) ** 2; } });
    quality = { float_mse: ef / (outLen * outF.length), int8_mse: eq / (outLen * outF.length) };
  } else if (labels instanceof Int32Array && outLen > 1 && labels.length >= samples.length) {
    const argmax = (a: Float32Array, o: number, len: number) => { let b = o; for (let i = o; i < o + len; i++) if (a[i]! > a[b]!) b = i; return b - o; };
    const classesPer = outLen;
    let cf = 0, cq = 0, total = 0;
    const perSample = labels.length / samples.length;
    outF.forEach((f, k) => {
      const rows = perSample;
      const len = classesPer / rows;
      for (let r = 0; r < rows; r++) {
        const y = labels[k * rows + r]!;
        if (argmax(f[0]!, r * len, len) === y) cf++;
        if (argmax(outQ[k]![0]!, r * len, len) === y) cq++;
        total++;
      }
    });
    quality = { float_accuracy: cf / total, int8_accuracy: cq / total };
  } else if (labels instanceof Float32Array && labels.length === outF.length * outLen) {
    let ef = 0, eq = 0;
    outF.forEach((f, k) => { for (let i = 0; i < outLen; i++) { const y = labels[k * outLen + i]!; ef += (f[0]![i]! - y) ** 2; eq += (outQ[k]![0]![i]! - y) ** 2; } });
    quality = { float_mse: ef / labels.length, int8_mse: eq / labels.length };
  } else {
    quality = { output_mse: outputVsFloat.mse, output_max_abs_error: outputVsFloat.max_abs_error };
  }
  return { sqnr, quality, outputVsFloat, engine };
}
