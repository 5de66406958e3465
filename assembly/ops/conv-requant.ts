// Vectorized output stage of the conv family: MultiplyByQuantizedMultiplier (32-bit,
// double rounding) on four i32 lanes, each with its own multiplier and shift, giving
// the same integers as the scalar mbqm for every input.
//
// Table (written by requantTable in src/runtime/ops/conv.ts), np = outC rounded up to
// a multiple of 8, entries past outC harmless (multiplier 0):
//   u32 2*mult[np] | i32 2^left[np] | i32 half[np] | u32 2^(31-right)[np]
// with left = max(shift, 0), right = max(-shift, 0) <= 31 and half = 2^(right-1)
// (0 when right == 0).
//
// Exactness. With a = x * 2^left (wrapping, as the reference's int32 product), s = the
// sign of a and u = |a| read as unsigned (|INT32_MIN| = 2^31):
//  - the doubling high multiply with its nudge and truncating division by 2^31 is
//    s * floor((u*m + 2^30 - [a < 0]) / 2^31)   (m >= 0, so no saturation case),
//    computed as the high 32 bits of u*(2m) + 2^31 - 2[a < 0] (< 2^63 + 2^31);
//    call its magnitude v (< 2^31);
//  - the rounding divide by 2^right (ties away from zero) of s*v is
//    s * floor((v + half) / 2^right), and floor(y / 2^right) for y = v + half < 2^32 is
//    (y * 2^(31-right)) >> 31 in unsigned 64-bit arithmetic (y * 2^(31-right) < 2^63).
// All 64-bit steps are unsigned widening multiplies and logical shifts, which wasm SIMD
// maps to native instructions.

// acc already includes the bias. t: the table entry of the first of the four channels;
// stride: np * 4 (bytes between the table's arrays); left: whether any channel of the
// table has a left shift (else the multiply by 2^left is skipped). Returns the clamped
// results.
@inline export function requantV(acc: v128, t: usize, stride: usize, outOff: v128, lo: v128, hi: v128, left: bool): v128 {
  const a = left ? i32x4.mul(acc, v128.load(t + stride)) : acc;
  const sign = i32x4.shr_s(a, 31);
  const u = i32x4.abs(a);
  const m2 = v128.load(t);
  const nudge = i32x4.add(i32x4.splat(i32.MIN_VALUE), i32x4.add(sign, sign));
  const plo = i64x2.add(i64x2.extmul_low_i32x4_u(u, m2), i64x2.extend_low_i32x4_u(nudge));
  const phi = i64x2.add(i64x2.extmul_high_i32x4_u(u, m2), i64x2.extend_high_i32x4_u(nudge));
  const y = i32x4.add(i32x4.shuffle(plo, phi, 1, 3, 5, 7), v128.load(t + 2 * stride));
  const p = v128.load(t + 3 * stride);
  const rlo = i64x2.shr_u(i64x2.extmul_low_i32x4_u(y, p), 31);
  const rhi = i64x2.shr_u(i64x2.extmul_high_i32x4_u(y, p), 31);
  const r = i32x4.shuffle(rlo, rhi, 0, 2, 4, 6);
  const q = i32x4.sub(v128.xor(r, sign), sign);
  return i32x4.min_s(i32x4.max_s(i32x4.add(q, outOff), lo), hi);
}

// Whether any of the np channels of the table at t has a left shift.
@inline export function anyLeft(t: usize, np: i32): bool {
  const l = t + (<usize>np << 2);
  for (let c = 0; c < np; c++) if (load<i32>(l + (<usize>c << 2)) != 1) return true;
  return false;
}

// Eight i32 results (two vectors) -> eight int8 at dst.
@inline export function storeI8x8(dst: usize, a: v128, b: v128): void {
  const h = i16x8.narrow_i32x4_s(a, b);
  v128.store64_lane(dst, i8x16.narrow_i16x8_s(h, h), 0);
}
