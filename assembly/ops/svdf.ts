// SVDF integer kernels (ids 701 int16 state, 702 int8 state).
// Prepare step and record layout: src/runtime/ops/svdf.ts.
import { mbqm, w, wp } from '../fixedpoint';

// sum_c wgt[c] * x[c] over n int8 pairs.
@inline function dotI8(wgt: usize, x: usize, n: i32): i32 {
  let acc: i32 = 0;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    let v = i32x4.splat(0);
    for (; c + 16 <= n; c += 16) {
      const a = v128.load(wgt + <usize>c);
      const b = v128.load(x + <usize>c);
      v = i32x4.add(v, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a), i16x8.extend_low_i8x16_s(b)));
      v = i32x4.add(v, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a), i16x8.extend_high_i8x16_s(b)));
    }
    for (; c + 8 <= n; c += 8) {
      v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load8x8_s(wgt + <usize>c), v128.load8x8_s(x + <usize>c)));
    }
    acc = i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
  }
  for (; c < n; c++) acc += <i32>load<i8>(wgt + <usize>c) * <i32>load<i8>(x + <usize>c);
  return acc;
}

// sum_j a[j] * b[j] over n int16 pairs (wrapping int32, as the reference's int32 sum).
@inline function dotI16(a: usize, b: usize, n: i32): i32 {
  let acc: i32 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    let v = i32x4.splat(0);
    for (; j + 8 <= n; j += 8) {
      v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(a + (<usize>j << 1)), v128.load(b + (<usize>j << 1))));
    }
    acc = i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
  }
  for (; j < n; j++) acc += <i32>load<i16>(a + (<usize>j << 1)) * <i32>load<i16>(b + (<usize>j << 1));
  return acc;
}

function svdf(p: usize, s16: bool): void {
  const input = wp(p, 0), wf = wp(p, 1), wt = wp(p, 2), bias = wp(p, 3), state = wp(p, 4), output = wp(p, 5);
  const scratch = wp(p, 6);
  const nBatch = w(p, 7), nInput = w(p, 8), nFilter = w(p, 9), nUnit = w(p, 10), nMemory = w(p, 11), rank = w(p, 12);
  const stZp = w(p, 13), outZp = w(p, 14), m1 = w(p, 15), s1 = w(p, 16), m2 = w(p, 17), s2 = w(p, 18);
  const featZp = wp(p, 19), timeZp = wp(p, 20);
  const sz: usize = s16 ? 2 : 1;
  const lo: i32 = s16 ? -32768 : -128;
  const hi: i32 = s16 ? 32767 : 127;

  // Shift the whole state left by one element; the last column of each filter row is
  // then overwritten with the new feature activations.
  const total = <usize>(nBatch * nFilter * nMemory);
  if (total > 1) memory.copy(state, state + sz, (total - 1) * sz);

  for (let b = 0; b < nBatch; b++) {
    const x = input + <usize>(b * nInput);
    for (let r = 0; r < nFilter; r++) {
      let d = dotI8(wf + <usize>(r * nInput), x, nInput) - load<i32>(featZp + (<usize>r << 2));
      d = mbqm(d, m1, s1);
      d = d < lo ? lo : d > hi ? hi : d;
      const at = state + (<usize>((b * nFilter + r) * nMemory + nMemory - 1)) * sz;
      if (s16) store<i16>(at, <i16>(stZp + d)); else store<i8>(at, <i8>(stZp + d));
    }
  }

  for (let b = 0; b < nBatch; b++) {
    for (let f = 0; f < nFilter; f++) {
      const row = <usize>(f * nMemory);
      const srow = <usize>((b * nFilter + f) * nMemory);
      let acc: i32;
      if (s16) {
        acc = dotI16(wt + (row << 1), state + (srow << 1), nMemory);
      } else {
        acc = dotI8(wt + row, state + srow, nMemory);
      }
      store<i32>(scratch + (<usize>(b * nFilter + f) << 2), acc - load<i32>(timeZp + (<usize>f << 2)));
    }
  }

  for (let b = 0; b < nBatch; b++) {
    for (let u = 0; u < nUnit; u++) {
      let acc: i32 = bias ? load<i32>(bias + (<usize>u << 2)) : 0;
      for (let k = 0; k < rank; k++) acc += load<i32>(scratch + (<usize>(b * nFilter + u * rank + k) << 2));
      let v = mbqm(acc, m2, s2) + outZp;
      v = v < -128 ? -128 : v > 127 ? 127 : v;
      store<i8>(output + <usize>(b * nUnit + u), <i8>v);
    }
  }
}

export function runSvdf(id: i32, p: usize): bool {
  switch (id) {
    case 701: svdf(p, true); break;
    case 702: svdf(p, false); break;
    default: return false;
  }
  return true;
}
