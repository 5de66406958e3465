// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED int8 kernels against the plain scalar
// reference of tests/conv-cases.mjs (written from TFLite's reference integer kernels), on
// shapes the conformance models lack: odd channel counts and channel tails, tiny and odd
// input depths, strides, SAME/VALID padding, dilation, per-tensor and per-channel scales,
// left shifts, batches, fused clamps. Every kernel build must match it byte for byte.
import test from 'ava';
import { createModel, relaxedSupport } from '../dist/runtime/index.js';
import { allCases, firstDifference, mbqm, quantizeMultiplier, rng } from './conv-cases.mjs';
import { dwBlockData } from '../dist/runtime/ops/conv.js';

// The relaxed-SIMD build too where this engine runs it (tests/relaxed.test.mjs runs it in a
// Node started with relaxed SIMD switched on).
const BACKENDS = ['simd', 'scalar', ...(relaxedSupport().ok ? ['relaxed'] : [])];

for (const spec of allCases()) {
  test(spec.name, async (t) => {
    for (const backend of BACKENDS) t.is(await firstDifference(createModel, spec, backend), -1, `${backend}: outputs differ from the reference`);
  });
}

test('the reference rounds as TFLite\'s fixed-point helpers do', (t) => {
  // QuantizeMultiplier(0.5) = 2^30 with shift 0; (1.5) = 0.75 * 2^31, shift 1.
  t.deepEqual(quantizeMultiplier(0.5), [2 ** 30, 0]);
  t.deepEqual(quantizeMultiplier(1.5), [0.75 * 2 ** 31, 1]);
  // The doubling high multiply rounds halves upward: -101 * 0.5 = -50.5 -> -50.
  t.is(mbqm(100, 2 ** 30, 0), 50);
  t.is(mbqm(-101, 2 ** 30, 0), -50);
  t.is(mbqm(101, 2 ** 30, 0), 51);
  // The divide by a power of two rounds halves away from zero:
  // 0.25 = 2^30 * 2^-1: 10 * 0.25 = 2.5 -> 3; -10 * 0.25 = -2.5 -> -3.
  t.is(mbqm(10, 2 ** 30, -1), 3);
  t.is(mbqm(-10, 2 ** 30, -1), -3);
});

// ---------------------------------------------------------------- float32 output stage

// The float32 output stage of the GEMM and depthwise kernels (stageV and pixF in
// assembly/ops/conv-requant.ts) as scalar float32 arithmetic (Math.fround after every
// operation, as the wasm float32 lanes round; `fused`: the relaxed build's multiply-add
// where the engine fuses it, one rounding): the clamped result where it does not flag the
// lane, and the flag. Every unflagged result must be the reference's; flagged lanes go to
// the integer stage. `folded`: the relaxed build's folded form, c = x * M + fl(G +- C) with
// one or two roundings.
const F = Math.fround;
const bitsOf = (() => { const f = new Float32Array(1), i = new Int32Array(f.buffer); return (x) => { f[0] = x; return i[0]; }; })();
function stage32(acc, M, C, zp, fused = false, folded = false) {
  const x = F(acc);
  const s = x < 0 ? -C : C;
  const G = F(1 + (128 + zp + 0.5 + 1 / 4096) / 256);
  let c;
  if (folded) {
    const K = F(G + s);
    c = fused ? F(x * M + K) : F(F(x * M) + K);
  } else {
    const v = fused ? F(x * M + s) : F(F(x * M) + s);
    c = F(v + G);
  }
  const bits = bitsOf(c);
  const q = Math.max(-32768, Math.min(32767, Math.max(-32768, Math.min(32767, bits >> 15)) - 32640));
  return { flagged: (bits & 0x7fff) <= 16, out: Math.min(127, Math.max(-128, q)) };
}

test('the float32 output stage equals MBQM on every lane it does not flag', async (t) => {
  const { gemmFloatStage } = await import('../dist/runtime/ops/conv.js');
  const r = rng(7);
  let checked = 0, flagged = 0, admitted = 0, rejected = 0;
  for (let trial = 0; trial < 400; trial++) {
    const n = 8;
    const mult = new Int32Array(n), shift = new Int32Array(n), bias = new Int32Array(n);
    const k = 1 + (r() % 1200);
    const inZp = (r() % 256) - 128, zp = (r() % 256) - 128;
    for (let c = 0; c < n; c++) {
      const kind = r() % 4;
      mult[c] = kind === 0 ? 2 ** 30 : kind === 1 ? (2 ** 30 + (r() % 2 ** 16) * 2 ** 14) : 2 ** 30 + (r() % 2 ** 30);
      shift[c] = trial % 9 === 0 ? r() % 3 : -(r() % 24);
      const bm = trial % 10 === 0 ? 1 << 29 : [100, 20000, 1 << 18][r() % 3];
      bias[c] = (r() % (2 * bm + 1)) - bm;
    }
    const stage = gemmFloatStage(mult, shift, new Uint8Array(bias.buffer), k, inZp);
    if (!stage) { rejected++; continue; }
    admitted++;
    for (let c = 0; c < n; c++) {
      const M = stage[c], C = stage[8 + c];
      const U = Math.abs(bias[c]) + 128 * k * (128 + Math.abs(inZp));
      const accs = [0, 1, -1, U, -U];
      for (let i = 0; i < 30; i++) accs.push((r() % (2 * U + 1)) - U);
      // Next to the thresholds where MBQM steps, in the range that is not clamped.
      const left = Math.max(shift[c], 0), right = Math.max(-shift[c], 0);
      const D = 2 ** (31 + right), H = right > 0 ? 2 ** (30 + right) : 0, mm = mult[c] * 2 ** left;
      for (let i = 0; i < 30; i++) {
        const q = (r() % 700) - 350;
        const acc0 = Math.floor((q * D - 2 ** 30 - H) / mm);
        for (const d of [-2, -1, 0, 1, 2]) for (const sg of [1, -1]) accs.push(sg * (acc0 + d));
      }
      for (const acc of accs) {
        if (Math.abs(acc) > U) continue;
        const want = Math.min(127, Math.max(-128, mbqm(acc, mult[c], shift[c]) + zp));
        for (const fused of [false, true]) for (const folded of [false, true]) {
          const s = stage32(acc, M, C, zp, fused, folded);
          checked++;
          if (s.flagged) { flagged++; continue; }
          if (s.out !== want) t.fail(`m ${mult[c]} shift ${shift[c]} acc ${acc}${fused ? ' (fused)' : ''}${folded ? ' (folded)' : ''}: got ${s.out}, want ${want}`);
        }
      }
    }
  }
  t.true(admitted > 100 && rejected > 0, `admitted ${admitted}, rejected ${rejected}`);
  // Half the accumulators sit next to a threshold on purpose, so many are flagged.
  t.true(checked > 50000 && flagged > 100 && flagged < checked / 2, `checked ${checked}, flagged ${flagged}`);
});

test('the float32 output stage is refused when the accumulator bound is too wide', async (t) => {
  const { gemmFloatStage } = await import('../dist/runtime/ops/conv.js');
  const one = (m, s, b, k, zp) => gemmFloatStage(Int32Array.of(m, m), Int32Array.of(s, s), new Uint8Array(Int32Array.of(b, b).buffer), k, zp);
  t.truthy(one(2 ** 30, -8, 20000, 960, 5));
  // U * M >= 2^21: a large bias with a small right shift.
  t.is(one(2 ** 30, -1, 2 ** 23, 16, 0), null);
  // U * 2^left reaches 2^31 (the reference's left shift would wrap).
  t.is(one(2 ** 30, 8, 2 ** 23, 16, 0), null);
  // A right shift past 31 (MBQM's range).
  t.is(one(2 ** 30, -32, 0, 16, 0), null);
  const s = one(2 ** 30, -3, 0, 16, 0);
  // Both divided by 256 (the stage works on v / 256).
  t.deepEqual([...s.slice(0, 2)], [2 ** -12, 2 ** -12]); // m / 2^(31+3) = 2^30 / 2^34
  t.deepEqual([...s.slice(8, 10)], [2 ** -12, 2 ** -12]); // 2^30 / D
});

test('the depthwise block data holds the float32 stage where its bound admits it, and the integer stage for the lanes it hands back', (t) => {
  const r = rng(99);
  let checked = 0, admitted = 0, rejected = 0;
  for (let trial = 0; trial < 400; trial++) {
    const mult = new Int32Array(8), shift = new Int32Array(8), bias = new Int32Array(8), folded = new Int32Array(8);
    const absSum = new Float64Array(8);
    const zp = (r() % 256) - 128, outZp = (r() % 256) - 128;
    for (let c = 0; c < 8; c++) {
      const kind = r() % 4;
      mult[c] = kind === 0 ? 2 ** 30 : kind === 1 ? (2 ** 30 + (r() % 2 ** 16) * 2 ** 14) : 2 ** 30 + (r() % 2 ** 30);
      shift[c] = trial % 7 === 0 ? r() % 4 : -(r() % 14);
      absSum[c] = 9 + (r() % (9 * 127 - 8));
      const sumW = (r() % (2 * absSum[c] + 1)) - absSum[c];
      const bm = trial % 10 === 0 ? 1 << 28 : [100, 20000, 1 << 18][r() % 3];
      bias[c] = (r() % (2 * bm + 1)) - bm;
      folded[c] = bias[c] - zp * sumW;
    }
    const packed = Int16Array.from({ length: 80 }, (_, i) => i - 40);
    const blob = dwBlockData(packed, mult, shift, bias, folded, absSum, zp);
    if (!blob) { rejected++; continue; }
    admitted++;
    t.is(blob.length, 384);
    t.deepEqual([...new Int16Array(blob.buffer, blob.byteOffset, 80)], [...packed]);
    const f = new Float32Array(blob.buffer, blob.byteOffset, 96), w = new Int32Array(blob.buffer, blob.byteOffset, 96);
    for (let c = 0; c < 8; c++) {
      const left = Math.max(shift[c], 0), right = Math.max(-shift[c], 0);
      t.is(w[56 + c], folded[c]);
      t.deepEqual([w[64 + c], w[72 + c], w[80 + c], w[88 + c] >>> 0], [mult[c], 2 ** left, right ? 2 ** (right - 1) : 0, 2 ** (31 - right)]);
      const M = f[40 + c], C = f[48 + c];
      const U = Math.abs(bias[c]) + absSum[c] * (128 + Math.abs(zp));
      const accs = [0, 1, -1, Math.floor(U), -Math.floor(U)];
      for (let i = 0; i < 40; i++) accs.push(Math.round((r() / 2 ** 32) * 2 * U - U));
      const D = 2 ** (31 + right), H = right > 0 ? 2 ** (30 + right) : 0, mm = mult[c] * 2 ** left;
      for (let i = 0; i < 20; i++) {
        const q = (r() % 600) - 300;
        const acc0 = Math.floor((q * D - 2 ** 30 - H) / mm);
        for (const d of [-1, 0, 1, 2]) for (const sg of [1, -1]) accs.push(sg * (acc0 + d));
      }
      for (const acc of accs) {
        if (Math.abs(acc) > U) continue;
        const want = Math.min(127, Math.max(-128, mbqm(acc, mult[c], shift[c]) + outZp));
        for (const fused of [false, true]) for (const folded of [false, true]) {
          const s = stage32(acc, M, C, outZp, fused, folded);
          if (s.flagged) continue;
          if (s.out !== want) t.fail(`m ${mult[c]} shift ${shift[c]} acc ${acc}${fused ? ' (fused)' : ''}${folded ? ' (folded)' : ''}: got ${s.out}, want ${want}`);
          checked++;
        }
      }
    }
  }
  t.true(admitted > 100 && rejected > 0, `admitted ${admitted}, rejected ${rejected}`);
  t.true(checked > 10000);
});

test('the depthwise block data is refused when the accumulator bound is too wide', (t) => {
  const one = (m, s, b, abs) => dwBlockData(new Int16Array(80), Int32Array.of(m, m, m, m, m, m, m, m), Int32Array.of(s, s, s, s, s, s, s, s),
    Int32Array.of(b, b, b, b, b, b, b, b), Int32Array.of(b, b, b, b, b, b, b, b), Float64Array.of(abs, abs, abs, abs, abs, abs, abs, abs), 0);
  t.truthy(one(2 ** 30, -8, 20000, 1143));
  // U * M >= 2^21.
  t.is(one(2 ** 31 - 1, -1, 2 ** 23, 0), null);
  // acc * 2^left reaches 2^31 (the reference's left shift would wrap).
  t.is(one(2 ** 30, 12, 2 ** 20, 0), null);
});
