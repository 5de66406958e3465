// TFLite's integer rounding, bit for bit (gemmlowp fixedpoint.h and
// tensorflow/lite/kernels/internal/common.{h,cc}, double-rounding variant, which is
// what TFLite and TFLite Micro build by default).

// SaturatingRoundingDoublingHighMul: (a * b * 2) >> 32 rounded to nearest (ties away
// from zero through the nudge), saturating the single overflow case.
@inline export function srdhm(a: i32, b: i32): i32 {
  if (a == b && a == i32.MIN_VALUE) return i32.MAX_VALUE;
  const ab: i64 = <i64>a * <i64>b;
  const nudge: i64 = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  // C++ division truncates toward zero; so does i64.div_s.
  return <i32>((ab + nudge) / (<i64>1 << 31));
}

// RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.
@inline export function rdbpot(x: i32, exponent: i32): i32 {
  const mask: i32 = <i32>((<i64>1 << exponent) - 1);
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// MultiplyByQuantizedMultiplier(int32 x, int32 qm, int shift): shift > 0 is a left shift.
@inline export function mbqm(x: i32, qm: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm(x * (1 << left), qm), right);
}

// MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0).
@inline export function mbqmSmallerThanOne(x: i32, qm: i32, leftShift: i32): i32 {
  return rdbpot(srdhm(x, qm), -leftShift);
}

// MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0).
@inline export function mbqmGreaterThanOne(x: i32, qm: i32, leftShift: i32): i32 {
  return srdhm(x * (1 << leftShift), qm);
}

// MultiplyByQuantizedMultiplier(int64 x, int32 qm, int shift): the 16x8 kernels' form,
// which first reduces the multiplier to 16 bits.
@inline export function mbqm64(x: i64, qm: i32, shift: i32): i32 {
  const reduced: i64 = qm < 0x7fff0000 ? <i64>((qm + (1 << 15)) >> 16) : 0x7fff;
  const totalShift: i64 = 15 - <i64>shift;
  const r = x * reduced + (<i64>1 << (totalShift - 1));
  return <i32>(r >> totalShift);
}

@inline export function clampI32(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : v > hi ? hi : v;
}

// Record word access: word i of the record at p.
@inline export function w(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}
@inline export function wf(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
@inline export function wp(p: usize, i: i32): usize {
  return <usize>load<u32>(p + (<usize>i << 2));
}
