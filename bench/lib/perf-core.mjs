// The measuring core of bench/perf.mjs, with no Node imports: the same code runs in Node
// and in the Chromium page of `perf.mjs --browser`, so both tables are made the same way.
//
// An engine is { init(bytes) -> model, run(model, inputs) -> outputs (may be async),
// dispose(model) }. For one model, measureModel:
//   1. init: loads the model initReps times per engine, alternating engines, and keeps the
//      median (and the first) load time;
//   2. warm-up runs (at least `warmup` and 3 s), then `rounds` rounds; in each round every engine runs for
//      minSecs/rounds seconds (and at least minRunsPerRound runs), the engine order
//      alternating from round to round, so that load on the machine hits both engines alike;
//      A sample is the mean time of a batch of runs, the batch sized after the warm-up so
//      that a sample lasts about minSampleMs (0.1 ms in Node, 0.25 ms in the browser, whose
//      timer has 5 µs steps): one run per sample for all but tiny models. Samples are kept
//      short on purpose: on a busy machine a long sample absorbs the other jobs' time slices,
//      while the p50 of short samples picks the uninterrupted ones;
//   3. p50 over all samples of an engine, and the range (lowest..highest) of its per-round
//      p50s, which shows how steady the machine was;
//   4. outputs of the first run of each engine, compared element-wise (max |a - b|).


import { mulberry32 } from '../../dist/data/random.js';

const CTOR = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };

/** Seeded input over the dtype's full range (floats in [-1, 1)). */
export function randomInput(dtype, count, rand) {
  const C = CTOR[dtype];
  if (!C) throw new Error(`input dtype ${dtype} is not supported by the bench`);
  const a = new C(count);
  const range = { int8: [-128, 256], uint8: [0, 256], int16: [-32768, 65536], int32: [-1000, 2001] }[dtype];
  for (let i = 0; i < count; i++) a[i] = range ? range[0] + Math.floor(rand() * range[1]) : rand() * 2 - 1;
  return a;
}

export const numel = (shape) => shape.reduce((a, b) => a * b, 1);

/** Inputs for a model's input tensors [{dtype, shape}], seeded per model. */
export function seededInputs(tensors, seed) {
  const rand = mulberry32(seed);
  return tensors.map((t) => randomInput(t.dtype, numel(t.shape), rand));
}

/** Max |a - b| over all outputs; null when either side is missing, Infinity on a shape mismatch. */
export function maxAbsDiff(xs, ys) {
  if (!xs || !ys) return null;
  if (xs.length !== ys.length) return Infinity;
  let m = 0;
  for (let k = 0; k < xs.length; k++) {
    const a = xs[k], b = ys[k];
    if (a.length !== b.length) return Infinity;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(Number(a[i]) - Number(b[i]));
      if (d > m || Number.isNaN(d)) m = d;
    }
  }
  return m;
}

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const median = (xs) => percentile([...xs].sort((a, b) => a - b), 50);
const errMsg = (e) => String(e?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');

/**
 * Measures one model on every engine. `engines` maps a key ('kestrel', 'litert') to an
 * engine, or to null when the engine is absent. Returns { [key]: result }.
 */
export async function measureModel(engines, bytes, inputs, opts, log = () => {}) {
  const { rounds = 5, minSecs = 2, warmup = 10, warmupMs = 3000, initReps = 3, minRunsPerRound = 5, minSampleMs = 0.1 } = opts;
  const keys = Object.keys(engines).filter((k) => engines[k]);
  const res = {};
  for (const k of Object.keys(engines)) res[k] = engines[k] ? { status: 'ok', initMs: [] } : { status: 'absent' };

  // Init, alternating engines; the last model of each engine is kept for timing.
  const models = {};
  for (let r = 0; r < initReps; r++) {
    for (const k of r % 2 ? [...keys].reverse() : keys) {
      if (res[k].status !== 'ok') continue;
      const e = engines[k];
      if (models[k]) { e.dispose(models[k]); models[k] = null; }
      const t0 = performance.now();
      try {
        models[k] = await e.init(bytes);
      } catch (err) {
        res[k] = { status: err?.code === 'E_UNSUPPORTED_OP' ? 'unsupported' : 'refused', error: errMsg(err) };
        continue;
      }
      res[k].initMs.push(performance.now() - t0);
    }
  }
  const live = keys.filter((k) => res[k].status === 'ok');
  for (const k of live) {
    const e = engines[k];
    try {
      res[k].outputs = await e.run(models[k], inputs);
      // Warm-up: at least `warmup` runs and warmupMs, so that V8 has optimized the JS side
      // of both engines (tiny models need thousands of runs for that) and its optimizing
      // compiler has caught up with their wasm, which it compiles in the background:
      // LiteRT.js's 9 MB module took seconds on a busy 2-core host, and with 0.3 s of
      // warm-up it was sometimes timed on baseline code (MobileNet v2 18.4 ms instead of 12.4).
      const w0 = performance.now();
      for (let i = 1; i < warmup || performance.now() - w0 < warmupMs; i++) {
        const out = e.run(models[k], inputs);
        if (out && typeof out.then === 'function') await out;
      }
      // Runs per sample: enough for one sample to last about minSampleMs, so that the
      // timer's resolution (5-100 µs in browsers) and cost do not swamp fast models. Found by
      // doubling a timed batch until it lasts half of that. A pause (GC, tier-up) during a
      // pass stops it early and sizes the batch too small, never too large, so the largest
      // of three passes is kept.
      res[k].batch = 1;
      for (let pass = 0; pass < 3; pass++) {
      let batch = 1;
      for (;;) {
        const t0 = performance.now();
        for (let i = 0; i < batch; i++) {
          const out = e.run(models[k], inputs);
          if (out && typeof out.then === 'function') await out;
        }
        const ms = performance.now() - t0;
        if (ms >= minSampleMs / 2 || batch >= 100000) {
          res[k].batch = Math.max(res[k].batch, Math.min(100000, Math.ceil((batch * minSampleMs) / Math.max(ms, 1e-3))));
          break;
        }
        batch *= 2;
      }
      }
    } catch (err) {
      res[k] = { status: 'error', error: errMsg(err), initMs: res[k].initMs };
      e.dispose(models[k]);
    }
  }
  const timed = live.filter((k) => res[k].status === 'ok');
  const samples = Object.fromEntries(timed.map((k) => [k, []]));
  const roundP50 = Object.fromEntries(timed.map((k) => [k, []]));
  const perRoundMs = (minSecs * 1000) / rounds;
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 ? [...timed].reverse() : timed) {
      const e = engines[k], m = models[k];
      const mine = [];
      const start = performance.now();
      let now = start;
      const batch = res[k].batch;
      while (mine.length < minRunsPerRound || now - start < perRoundMs) {
        const t0 = performance.now();
        for (let b = 0; b < batch; b++) {
          const out = e.run(m, inputs);
          if (out && typeof out.then === 'function') await out;
        }
        now = performance.now();
        mine.push((now - t0) / batch);
      }
      for (const x of mine) samples[k].push(x);
      roundP50[k].push(median(mine));
    }
    log(`  round ${r + 1}/${rounds}: ${timed.map((k) => `${k} ${fmtMs(roundP50[k][r])} ms`).join(', ')}`);
  }
  for (const k of timed) {
    const s = samples[k].sort((a, b) => a - b);
    Object.assign(res[k], {
      p50Ms: percentile(s, 50), p90Ms: percentile(s, 90), minMs: s[0], samples: s.length, runs: s.length * res[k].batch,
      roundP50Ms: roundP50[k], rangeMs: [Math.min(...roundP50[k]), Math.max(...roundP50[k])],
    });
    engines[k].dispose(models[k]);
  }
  for (const k of Object.keys(res)) {
    if (res[k].initMs?.length) {
      res[k].initFirstMs = res[k].initMs[0];
      // The first load of a model pays one-time costs (JIT warm-up of the loader, caches);
      // the median of the later loads is the steady figure.
      res[k].initMedianMs = median(res[k].initMs.length > 1 ? res[k].initMs.slice(1) : res[k].initMs);
    }
  }
  return res;
}

export function fmtMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toPrecision(3);
}

/** One table row's derived figures from a model's results. */
export function rowFigures(row, roofGmacs, litertRuntimeLoadMs) {
  const K = row.kestrel, L = row.litert;
  const ok = (x) => x?.status === 'ok' && Number.isFinite(x.p50Ms);
  const f = {};
  f.ratio = ok(K) && ok(L) ? K.p50Ms / L.p50Ms : null;
  f.gmacs = ok(K) && row.macs ? row.macs / (K.p50Ms / 1000) / 1e9 : null;
  f.roofFraction = f.gmacs != null && roofGmacs ? f.gmacs / roofGmacs : null;
  f.litertGmacs = ok(L) && row.macs ? row.macs / (L.p50Ms / 1000) / 1e9 : null;
  f.initRatio = K?.initMedianMs != null && L?.initMedianMs != null && litertRuntimeLoadMs != null
    ? K.initMedianMs / (litertRuntimeLoadMs + L.initMedianMs) : null;
  return f;
}

/** The text table (an array of lines) for rows measured by measureModel. */
export function tableLines(rows, { roofGmacs, litertRuntimeLoadMs }) {
  const head = ['model', 'MMAC', 'K p50', 'K range', 'L p50', 'L range', 'K/L', 'K GMAC/s', 'roof %', 'K init', 'L init', 'K/(L load+init)', 'max|K−L|'];
  const rng = (x) => (x?.rangeMs ? `${fmtMs(x.rangeMs[0])}–${fmtMs(x.rangeMs[1])}` : '');
  const st = (x) => (x?.status === 'ok' ? null : x?.status ?? 'absent');
  const body = rows.map((r) => {
    const K = r.kestrel, L = r.litert, f = rowFigures(r, roofGmacs, litertRuntimeLoadMs);
    return [
      r.model + (r.repaired ? ' *' : ''),
      r.macs ? (r.macs / 1e6).toFixed(r.macs >= 1e7 ? 0 : 2) : '—',
      st(K) ?? fmtMs(K.p50Ms), st(K) ? '' : rng(K),
      st(L) ?? fmtMs(L.p50Ms), st(L) ? '' : rng(L),
      f.ratio != null ? f.ratio.toFixed(2) : '—',
      f.gmacs != null ? f.gmacs.toFixed(1) : '—',
      f.roofFraction != null ? (100 * f.roofFraction).toFixed(0) : '—',
      K?.initMedianMs != null ? fmtMs(K.initMedianMs) : '—',
      L?.initMedianMs != null ? fmtMs(L.initMedianMs) : '—',
      f.initRatio != null ? f.initRatio.toFixed(2) : '—',
      r.maxAbsDiff != null ? String(r.maxAbsDiff) : '—',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

/**
 * The LiteRT.js side of measureModel, given its loadAndCompile and Tensor (from the Node
 * loader or the page's module): as Kestrel's run(), JS typed arrays in, fresh typed arrays
 * out, tensors freed.
 */
export function litertEngine(loadAndCompile, Tensor) {
  return {
    async init(bytes) {
      const model = await loadAndCompile(bytes, { accelerator: 'wasm' });
      return { model, shapes: model.getInputDetails().map((d) => Array.from(d.shape)) };
    },
    async run({ model, shapes }, xs) {
      const ts = xs.map((a, i) => new Tensor(a, shapes[i]));
      const outs = await model.run(ts);
      const arrays = outs.map((o) => o.toTypedArray());
      for (const o of outs) o.delete();
      for (const t of ts) t.delete();
      return arrays;
    },
    dispose(m) { m?.model?.delete?.(); },
  };
}
