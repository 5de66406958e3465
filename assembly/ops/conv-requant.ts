// Vectorized output stage of the conv family: MultiplyByQuantizedMultiplier (32-bit,
// double rounding) on four i32 lanes, each with its own multiplier and shift, giving
// the same integers as the scalar mbqm for every input.
//
// Table (written by requantTable in src/runtime/ops/conv.ts), np = outC rounded up to
// a multiple of 8, entries past outC harmless (multiplier 0):
//   i32 mult[np] | i32 2^left[np] | i32 half[np] | u32 2^(31-right)[np]
// with left = max(shift, 0), right = max(-shift, 0) <= 31 and half = 2^(right-1)
// (0 when right == 0).
//
// Exactness. With a = x * 2^left (wrapping, as the reference's int32 product), s = the
// sign of a and u = |a| read as unsigned (|INT32_MIN| = 2^31):
//  - the doubling high multiply with its nudge and truncating division by 2^31 is
//    s * floor((u*m + 2^30 - [a < 0]) / 2^31)   (m >= 0, so no saturation case);
//    call its magnitude v (< 2^31);
//  - the rounding divide by 2^right (ties away from zero) of s*v is
//    s * floor((v + half) / 2^right), and floor(y / 2^right) for y = v + half < 2^32 is
//    (y * 2^(31-right)) >> 31 in unsigned 64-bit arithmetic (y * 2^(31-right) < 2^63).
// All 64-bit steps are unsigned widening multiplies and logical shifts, which wasm SIMD
// maps to native instructions.

@inline function mulShr31(a: v128, b: v128, addLo: v128, addHi: v128): v128 {
  const lo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_u(a, b), addLo), 31);
  const hi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_u(a, b), addHi), 31);
  return i32x4.shuffle(lo, hi, 0, 2, 4, 6);
}

// acc already includes the bias. t: the table entry of the first of the four channels;
// stride: np * 4 (bytes between the table's arrays). Returns the clamped results.
@inline export function requantV(acc: v128, t: usize, stride: usize, outOff: v128, lo: v128, hi: v128): v128 {
  const a = i32x4.mul(acc, v128.load(t + stride));
  const sign = i32x4.shr_s(a, 31);
  const u = i32x4.abs(a);
  const nudge = i32x4.add(i32x4.splat(1 << 30), sign);
  const v = mulShr31(u, v128.load(t), i64x2.extend_low_i32x4_u(nudge), i64x2.extend_high_i32x4_u(nudge));
  const y = i32x4.add(v, v128.load(t + 2 * stride));
  const zero = i64x2.splat(0);
  const r = mulShr31(y, v128.load(t + 3 * stride), zero, zero);
  const q = i32x4.sub(v128.xor(r, sign), sign);
  return i32x4.min_s(i32x4.max_s(i32x4.add(q, outOff), lo), hi);
}

// Eight i32 results (two vectors) -> eight int8 at dst.
@inline export function storeI8x8(dst: usize, a: v128, b: v128): void {
  const h = i16x8.narrow_i32x4_s(a, b);
  v128.store64_lane(dst, i8x16.narrow_i16x8_s(h, h), 0);
}
