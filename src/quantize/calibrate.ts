/**
 * Calibration: runs the float graph on sample inputs and records a [min, max] range for every
 * activation tensor. Methods:
 *
 * - `minmax`: the smallest and largest value seen.
 * - `ema`: min and max of each batch, averaged with an exponential moving average
 *   (running = decay × running + (1 − decay) × batch; the first batch starts it).
 * - `percentile`: from a histogram over the min/max range, the values below which
 *   (100 − p)% and p% of the samples lie (p = 99.99 by default).
 * - `mse`: from the same histogram, the clipping range (the min/max range shrunk by one factor)
 *   that minimizes the expected squared error of 8-bit quantization: clipped values cost their
 *   squared distance to the bound, values inside cost scale²/12.
 *
 * Every range is widened to include 0 (so real zero is exact, as padding and ReLU need).
 */
import { KestrelError } from '../errors.js';
import type { Graph } from '../graph/types.js';
import { runFloat } from './interpreter.js';

export type CalibrationMethod = 'minmax' | 'ema' | 'percentile' | 'mse';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'ema', 'percentile', 'mse'];

export interface Range { min: number; max: number }

export interface CalibrateOptions {
  method?: CalibrationMethod;
  /** Percentile kept by `percentile` (default 99.99). */
  percentile?: number;
  /** Samples per batch for `ema` (default 16). */
  batchSize?: number;
  /** Moving-average decay for `ema` (default 0.9). */
  emaDecay?: number;
  /** Histogram bins for `percentile` and `mse` (default 2048). */
  bins?: number;
  /** Called after each sample run: (runs done, runs in total, pass label). */
  onProgress?: (done: number, total: number, label: string) => void;
}

/** One calibration sample: one Float32Array per graph input. */
export type Sample = Float32Array[];

/**
 * Measures the activation ranges of `graph` (float) over `samples`. Returns ranges by
 * tensor index for the graph inputs and every op output.
 */
export function calibrate(graph: Graph, samples: Sample[], opts: CalibrateOptions = {}): Map<number, Range> {
  const method = opts.method ?? 'minmax';
  if (!CALIBRATION_METHODS.includes(method)) throw new KestrelError('E_USAGE', `unknown calibration method '${method}' (expected ${CALIBRATION_METHODS.join(', ')})`);
  if (samples.length === 0) throw new KestrelError('E_QUANTIZE', `${graph.source}: the calibration set is empty`);
  const passes = method === 'percentile' || method === 'mse' ? 2 : 1;
  const total = samples.length * passes;
  let done = 0;
  const progress = (label: string) => opts.onProgress?.(++done, total, label);

  // Pass 1: min/max (per batch for ema).
  const mm = new Map<number, Range>();
  const ema = new Map<number, Range>();
  const batch = new Map<number, Range>();
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const decay = opts.emaDecay ?? 0.9;
  const flushBatch = () => {
    for (const [t, r] of batch) {
      const e = ema.get(t);
      if (!e) ema.set(t, { ...r });
      else { e.min = decay * e.min + (1 - decay) * r.min; e.max = decay * e.max + (1 - decay) * r.max; }
    }
    batch.clear();
  };
  samples.forEach((s, k) => {
    runFloat(graph, s, {
      onTensor(t, v) {
        let lo = Infinity, hi = -Infinity;
        for (let i = 0; i < v.length; i++) { const x = v[i]!; if (x < lo) lo = x; if (x > hi) hi = x; }
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
          if (v.length === 0) return;
          throw new KestrelError('E_QUANTIZE', `${graph.source}: tensor #${t} '${graph.tensors[t]!.name}' has NaN or infinite values on calibration sample ${k}`);
        }
        for (const m of method === 'ema' ? [mm, batch] : [mm]) {
          const r = m.get(t);
          if (!r) m.set(t, { min: lo, max: hi });
          else { r.min = Math.min(r.min, lo); r.max = Math.max(r.max, hi); }
        }
      },
    });
    if (method === 'ema' && ((k + 1) % batchSize === 0 || k === samples.length - 1)) flushBatch();
    progress('calibrating');
  });
  let ranges: Map<number, Range>;
  if (method === 'minmax') ranges = mm;
  else if (method === 'ema') ranges = ema;
  else ranges = histogramRanges(graph, samples, mm, method, opts, () => progress('calibrating (histograms)'));
  for (const r of ranges.values()) {
    r.min = Math.min(r.min, 0);
    r.max = Math.max(r.max, 0);
  }
  return ranges;
}

function histogramRanges(graph: Graph, samples: Sample[], mm: Map<number, Range>, method: 'percentile' | 'mse', opts: CalibrateOptions, tick: () => void): Map<number, Range> {
  const bins = Math.max(16, opts.bins ?? 2048);
  const hist = new Map<number, Float64Array>();
  for (const s of samples) {
    runFloat(graph, s, {
      onTensor(t, v) {
        const r = mm.get(t)!;
        const lo = Math.min(r.min, 0), hi = Math.max(r.max, 0);
        if (hi <= lo) return;
        let h = hist.get(t);
        if (!h) hist.set(t, h = new Float64Array(bins));
        const k = bins / (hi - lo);
        for (let i = 0; i < v.length; i++) h[Math.min(bins - 1, Math.max(0, Math.floor((v[i]! - lo) * k)))]! += 1;
      },
    });
    tick();
  }
  const out = new Map<number, Range>();
  for (const [t, r] of mm) {
    const h = hist.get(t);
    const lo = Math.min(r.min, 0), hi = Math.max(r.max, 0);
    if (!h) { out.set(t, { min: lo, max: hi }); continue; }
    out.set(t, method === 'percentile' ? percentileRange(h, lo, hi, opts.percentile ?? 99.99) : mseRange(h, lo, hi));
  }
  return out;
}

function percentileRange(h: Float64Array, lo: number, hi: number, p: number): Range {
  if (!(p > 50 && p <= 100)) throw new KestrelError('E_USAGE', `percentile must be in (50, 100], got ${p}`);
  const n = h.reduce((a, b) => a + b, 0);
  const w = (hi - lo) / h.length;
  const tail = n * (1 - p / 100);
  let acc = 0, a = 0;
  while (a < h.length - 1 && acc + h[a]! <= tail) acc += h[a++]!;
  acc = 0;
  let b = h.length - 1;
  while (b > 0 && acc + h[b]! <= tail) acc += h[b--]!;
  return { min: lo + a * w, max: lo + (b + 1) * w };
}

function mseRange(h: Float64Array, lo: number, hi: number): Range {
  const w = (hi - lo) / h.length;
  let best = { min: lo, max: hi }, bestErr = Infinity;
  for (let step = 0; step < 100; step++) {
    const f = 1 - step * 0.008; // 1 .. 0.208
    const a = lo * f, b = hi * f;
    const s = (b - a) / 255;
    let err = 0;
    for (let i = 0; i < h.length; i++) {
      const c = h[i]!;
      if (!c) continue;
      const v = lo + (i + 0.5) * w;
      if (v < a) err += c * (a - v) ** 2;
      else if (v > b) err += c * (v - b) ** 2;
      else err += c * s * s / 12;
    }
    if (err < bestErr) { bestErr = err; best = { min: a, max: b }; }
  }
  return best;
}
