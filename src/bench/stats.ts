/**
 * Timing statistics for the benchmark: nearest-rank percentiles, mean, sample standard
 * deviation and a fixed-width histogram.
 */

export interface LatencyStats {
  runs: number;
  min_ms: number;
  mean_ms: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for one sample. */
  stddev_ms: number;
}

export interface Histogram {
  /** Lower edge of the first bin and upper edge of the last, in ms. */
  lo_ms: number;
  hi_ms: number;
  /** Width of every bin in ms. */
  bin_ms: number;
  /** Samples per bin; bin i holds [lo + i·bin, lo + (i+1)·bin), the last bin includes hi. */
  counts: number[];
}

/**
 * Nearest-rank percentile of ascending `sorted`: the smallest sample such that at least
 * p % of the samples are ≤ it, i.e. sorted[ceil(p/100 · n) − 1]. Always an observed value.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (!n) return NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]!;
}

export function latencyStats(samples: ArrayLike<number>): LatencyStats {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i]!;
  const mean = n ? sum / n : NaN;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (s[i]! - mean) ** 2;
  return {
    runs: n,
    min_ms: n ? s[0]! : NaN,
    mean_ms: mean,
    p50_ms: percentile(s, 50),
    p90_ms: percentile(s, 90),
    p99_ms: percentile(s, 99),
    max_ms: n ? s[n - 1]! : NaN,
    stddev_ms: n > 1 ? Math.sqrt(sq / (n - 1)) : 0,
  };
}

/** Histogram of `samples` over [min, max] in `bins` equal bins (default: √n, 5 to 40). */
export function histogram(samples: ArrayLike<number>, bins?: number): Histogram {
  const n = samples.length;
  if (!n) return { lo_ms: 0, hi_ms: 0, bin_ms: 0, counts: [] };
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) { const v = samples[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
  const k = bins ?? Math.min(40, Math.max(5, Math.ceil(Math.sqrt(n))));
  const width = hi > lo ? (hi - lo) / k : 1e-6;
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) counts[Math.min(k - 1, Math.floor((samples[i]! - lo) / width))]!++;
  return { lo_ms: lo, hi_ms: lo + width * k, bin_ms: width, counts };
}
