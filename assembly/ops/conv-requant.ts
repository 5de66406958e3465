// Vectorized output stage of the conv family: MultiplyByQuantizedMultiplier (32-bit,
// double rounding) on four i32 lanes, each with its own multiplier and shift, giving
// the same integers as the scalar mbqm for every input.
//
// Table (written by requantTable in src/runtime/ops/conv.ts), np = outC rounded up to
// a multiple of 8, entries past outC harmless (multiplier 0):
//   i32 mult[np] | i32 2^left[np] | i32 half[np] | u32 2^(31-right)[np]
//   | u32 cap[np] | i32 2^(S-right)[np] | i32 S | i32 fast | i32 anyLeft
// with left = max(shift, 0), right = max(-shift, 0) <= 31, half = 2^(right-1) (0 when
// right == 0), S = 22 for int8 outputs and 16 for int16 outputs (the kernels pass the same
// constant), cap = 2^(32-S+right) - 1, fast = 0 when every right <= S, else -1, and
// anyLeft = 1 when some channel has left > 0, else 0.
//
// Exactness. With a = x * 2^left (wrapping, as the reference's int32 product):
//  - the doubling high multiply (nudge, then truncating division by 2^31) equals
//    floor((a*m + 2^30) / 2^31) for either sign of a*m (m >= 0, so no saturation case):
//    for a*m < 0, trunc((a*m + 1 - 2^30) / 2^31) = floor((a*m + 1 - 2^30 + 2^31 - 1) / 2^31).
//    It is the high 32 bits of 2*(a*m + 2^30), an exact i64 (|a*m| < 2^62); call it y;
//  - the rounding divide by 2^right (ties away from zero) of y is
//    sign(y) * floor((|y| + half) / 2^right), with z = |y| + half < 2^32;
//  - floor(z / 2^right) for z < 2^32 is (z * 2^(31-right)) >> 31 in unsigned 64-bit
//    arithmetic; or, when fast (right <= S), with z first capped at cap = 2^(c+right) - 1
//    (c = 32 - S: 10 for int8, 16 for int16), (min(z, cap) * 2^(S-right)) >> S in
//    unsigned 32-bit arithmetic: the product is below 2^32, so it is exact, and
//    floor(z / 2^right) = floor(z * 2^(S-right) / 2^S). The cap changes no result: below
//    it the quotient is exact, at or above it both the exact and the capped quotient are
//    >= 2^c - 1 (1023 for int8, 65535 for int16), beyond every clamp bound and zero point,
//    and no quotient comes near 2^31, where adding the zero point would wrap. The shift
//    by S is a constant, so the engine emits one immediate shift.

// acc already includes the bias. t: the table entry of the first of the four channels;
// stride: np * 4 (bytes between the table's arrays); left: whether any channel of the
// table has a left shift (else the multiply by 2^left is skipped); fast: the table's
// last word (< 0: the 64-bit division); S: 22 (int8 outputs) or 16 (int16 outputs), the
// table's S. Returns the clamped results.
@inline export function requantV(acc: v128, t: usize, stride: usize, outOff: v128, lo: v128, hi: v128, left: bool, fast: i32, S: i32): v128 {
  const q = requantQ(acc, t, stride, left, fast >= 0, S);
  return i32x4.min_s(i32x4.max_s(i32x4.add(q, outOff), lo), hi);
}

// The same before the zero point and clamp: MBQM of the four lanes (fast: the table's
// fast word is >= 0, a constant at each call site so only one division is emitted). In
// the fast division |result| <= 2^(32-S) - 1; in the 64-bit one any int32.
@inline export function requantQ(acc: v128, t: usize, stride: usize, left: bool, fast: bool, S: i32): v128 {
  const a = left ? i32x4.mul(acc, v128.load(t + stride)) : acc;
  const m = v128.load(t);
  const nudge = i64x2.splat(1 << 30);
  const plo = i64x2.shl(i64x2.add(i64x2.extmul_low_i32x4_s(a, m), nudge), 1);
  const phi = i64x2.shl(i64x2.add(i64x2.extmul_high_i32x4_s(a, m), nudge), 1);
  const y = i32x4.shuffle(plo, phi, 1, 3, 5, 7);
  const sign = i32x4.shr_s(y, 31);
  const z = i32x4.add(i32x4.abs(y), v128.load(t + 2 * stride));
  let r: v128;
  if (fast) {
    const zc = i32x4.min_u(z, v128.load(t + 4 * stride));
    r = i32x4.shr_u(i32x4.mul(zc, v128.load(t + 5 * stride)), S);
  } else {
    const p = v128.load(t + 3 * stride);
    const rlo = i64x2.shr_u(i64x2.extmul_low_i32x4_u(z, p), 31);
    const rhi = i64x2.shr_u(i64x2.extmul_high_i32x4_u(z, p), 31);
    r = i32x4.shuffle(rlo, rhi, 0, 2, 4, 6);
  }
  return i32x4.sub(v128.xor(r, sign), sign);
}

// MBQM as one rounding to the nearest integer (used by the float32 stage below). Let
// acc be the accumulator (bias included), u = |acc|, P = u * m * 2^left, D = 2^(31+right),
// H = 2^(30+right) when right > 0 (0 otherwise). Unfolding the two roundings of MBQM (the
// doubling high multiply floor((a*m + 2^30) / 2^31) with a = acc * 2^left, then the
// divide by 2^right with ties away from zero; nested floor divisions by powers of two
// merge into one) gives
//   acc >= 0:  q = floor(N / D),          N = P + 2^30 + H
//   acc <  0:  q = -floor((N - 1) / D).
// N/D is a multiple of 1/D, so floor(N/D) is N/D - 1/2 + 1/(2D) rounded to the nearest
// integer (never a tie), and floor((N-1)/D) is N/D - 1/2 - 1/(2D) rounded so. With
// M = m * 2^left / D, E = 1 / (2D) and C = (2^30 + H) / D - 1/2 (= 2^30 / D when right > 0,
// 0 otherwise), both are t = v + copysign(C, v) rounded to nearest, v = acc * M + E: for
// acc < 0, -t = N/D - 1/2 - 1/(2D) and rounding to nearest is odd-symmetric; acc = 0 gives
// t = E + C < 1/2, so 0; v has the sign of acc since |acc * M| >= M > E for acc != 0.
// This needs acc * 2^left not to wrap (the reference shifts in int32).

// Eight results of requantQ (channels in a then b) -> zero point added and clamped, as
// int16 lanes: narrowing first is exact, since a result beyond int16 saturates to one that
// still lies beyond every clamp bound once the zero point (|zp| <= 2^15 - 1 for int16
// outputs, where it is 0, and <= 128 for int8) is added with saturation.
@inline export function finish8(a: v128, b: v128, zp: v128, lo: v128, hi: v128): v128 {
  return i16x8.min_s(i16x8.max_s(i16x8.add_sat_s(i16x8.narrow_i32x4_s(a, b), zp), lo), hi);
}

// finish8's lanes -> eight int8 at dst.
@inline export function storeH8(dst: usize, v: v128): void {
  v128.store64_lane(dst, i8x16.narrow_i16x8_s(v, v), 0);
}

// The table's fast word.
@inline export function rqFast(t: usize, np: i32): i32 {
  return load<i32>(t + (<usize>np * 24) + 4);
}

// Whether any of the np channels of the table at t has a left shift (the table's anyLeft
// word, set at load).
@inline export function anyLeft(t: usize, np: i32): bool {
  return load<i32>(t + (<usize>np * 24) + 8) != 0;
}

// Eight i32 results (two vectors) -> eight int8 at dst.
@inline export function storeI8x8(dst: usize, a: v128, b: v128): void {
  const h = i16x8.narrow_i32x4_s(a, b);
  v128.store64_lane(dst, i8x16.narrow_i16x8_s(h, h), 0);
}

// Output stage in float32 for the GEMM kernel (conv-gemm.ts) and the depthwise 3x3 blocks
// (conv-fast.ts), where their prepare admits it (gemmFloatStage, dwBlockData in
// src/runtime/ops/conv.ts): four lanes per operation instead of
// requantQ's 64-bit products, and a check that sends the rare lanes it cannot decide to
// requantQ. Per channel: f32 M = m * 2^left / D rounded to float32, and C as in requantF
// (2^30 / D when right > 0, else 0: a power of two, exact), D = 2^(31+right).
//
// Exactness. MBQM(acc) is t = acc * M_e + E + copysign(C, acc) rounded to the nearest
// integer, never a tie (above), with M_e the exact M and E = 1/(2D) < 2^-32. Here v = fl(fl(fl(acc) * M) + copysign(C, acc)): four
// roundings of relative size 2^-24 at most (the conversion of acc, M, the product, the
// sum) and E dropped give |v - t| <= 4.001 * 2^-24 * |acc * M_e| + 2^-26 + 2^-32, below
// 2^-12 while |t| <= 520 (|v| < 2^21 always: the prepare's bound, with U the largest |acc|,
// is U * M_e < 2^21). The int8 result is floor(t + zp + 1/2) (t is never a tie), clamped.
//
// The stage computes v / 256 rather than v (M and C come divided by 256: scaling by a power
// of two changes no rounding), and one addition both rounds it and checks it:
// c = fl(v / 256 + G), G = 1 + (128 + zp + 1/2 + 2^-12) / 256 (exact in float32). Let
// u = v + zp + 1/2. While u lies in [-128 - 2^-12, 128 - 2^-12), c lies in [1, 2), where
// float32's step is 2^-23, i.e. 2^-15 in units of u: c is exact up to 2^-16 in those units,
// its bits are bits(1) + (c - 1) * 2^23, so floor(256 (c - 1)) - 128 is
// (bits(c) >> 15) - 32640 (bits(1) = 0x3F800000), and the low 15 bits f are the fraction
// of 256 (c - 1). If f >= 17, 256 (c - 1) lies in [K + 17 * 2^-15, K + 1 - 2^-15] for an
// integer K; the exact u + 128 + 2^-12 is within 2^-16 of it, so with k = K - 128, u lies in
// [k + 8.5 * 2^-15, k + 1 - 8.5 * 2^-15], and t + zp + 1/2, within 2^-12 = 8 * 2^-15 of u,
// has the same floor k, which is (bits(c) >> 15) - 32640: the result is exact. If f <= 16 (17 chances in 32768 per lane)
// the caller redoes the block with requantQ. Outside that range of u the result only has
// to clamp the right way, and does: for c >= 2, bits(c) >> 15 >= 32768 saturates to 32767
// in the narrowing, 127 after the saturating subtraction, at or above every upper bound;
// for 0 <= c < 1 it is below 32512, under -128; for c < 0 it is negative and the
// saturating subtraction gives -32768. There f is arbitrary (at worst a needless redo).
// The prepare also keeps U * 2^left below 2^31, so the reference's left shift of acc does
// not wrap (a sum that wraps is the same wrapped int32 here).
//
// Folded form (relaxed build, where the engine's relaxed lane select picks by the mask's
// top bit: selTopBit): c = fl(fl(fl(acc) * M) + K), or with the product and sum fused,
// where K = fl(G + C) for acc >= 0 and fl(G - C) for acc < 0, selected by the sign of acc.
// G +- C lies in [1, 2), so |K - (G +- C)| <= 2^-24, i.e. 2^-16 in units of u. Writing the
// value before the last rounding as v' / 256 + G, v' stands for v above: three roundings of
// relative size 2^-24 (the conversion, M, the product; none for the fused product) and K's
// give |v' - t| <= 3.001 * 2^-24 * |acc * M_e| + 2^-16 + 2^-32, below 2^-12 while
// |t| <= 520, and c = fl(v' / 256 + G): the argument above holds word for word.

// The float32 value v of four accumulators (acc includes the bias), per channel M and C;
// sg = the float32 sign bits, cn = C with the sign bit set (stageCn). The relaxed build
// fuses the product and the sum where the engine does (one rounding fewer: within the same
// bound), and takes copysign(C, x) in one relaxed lane select of -C and C by x: the two
// differ in the top bit of each lane only, so the bitwise select and the select by the
// mask's top bit (the two results an engine may give) are the same value.
@inline export function stageV(acc: v128, m: v128, c: v128, cn: v128, sg: v128): v128 {
  const x = f32x4.convert_i32x4_s(acc);
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, m, i32x4.relaxed_laneselect(cn, c, x));
  return f32x4.add(f32x4.mul(x, m), v128.or(v128.and(x, sg), c));
}
// stageV's cn for the constants c (only the relaxed build reads it).
@inline function stageCn(c: v128, sg: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? v128.or(c, sg) : c;
}

// Whether this engine's relaxed lane select of 32-bit lanes picks by the top bit of the
// mask (x86) rather than bit by bit (arm64), here and now: the folded stage (stageFold)
// needs it. one = 1 from a value the optimizer cannot fold. False on the other builds.
@inline export function selTopBit(one: i32): bool {
  if (!ASC_FEATURE_RELAXED_SIMD) return false;
  const r = i32x4.relaxed_laneselect(i32x4.splat(0), i32x4.splat(-one), i32x4.splat((one << 31) | one));
  return one == 1 && !v128.any_true(r);
}

// c of the folded form (above) for four accumulators: kp = G + C, kn = G - C (as float32).
@inline function stageFold(acc: v128, m: v128, kp: v128, kn: v128): v128 {
  return f32x4.relaxed_madd(f32x4.convert_i32x4_s(acc), m, i32x4.relaxed_laneselect(kn, kp, acc));
}

// c for four accumulators: the folded form where fold (relaxed build only), else stageV + G.
@inline function stageC(acc: v128, m: v128, c: v128, cn: v128, kp: v128, kn: v128, sg: v128, g: v128, fold: bool): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && fold) return stageFold(acc, m, kp, kn);
  return f32x4.add(stageV(acc, m, c, cn, sg), g);
}

// G of the float32 stage for output zero point zp (k = 1, from a value the optimizer
// cannot fold: as literals V8 rebuilt these constants in every block).
@inline export function stageG(zp: i32, k: i32): v128 {
  const zi: i32 = zp + 128;
  const z = <f32>zi;
  return f32x4.splat(<f32>k + (z + <f32>0.5 + <f32>(1.0 / 4096.0)) * <f32>(1.0 / 256.0));
}
// 32640 in every int16 lane (same k).
@inline export function stageK(k: i32): v128 {
  return i16x8.splat(<i16>(k * 32640));
}
// The initial check value of pixF (no lane flagged yet).
@inline export function fNone(): v128 {
  return i16x8.splat(-1);
}
// Whether pixF's accumulated check flags a lane: some fraction f <= 16 (f << 1 < 34 in
// the low half of a 32-bit lane).
@inline export function fHit(flag: v128): bool {
  return v128.any_true(i32x4.lt_u(v128.and(flag, i32x4.splat(0xffff)), i32x4.splat(34)));
}

// Eight lanes of c (two vectors) -> their results, before the clamp, as int16 lanes.
@inline function stageQ(ca: v128, cb: v128, kz: v128): v128 {
  return i16x8.sub_sat_s(i16x8.narrow_i32x4_s(i32x4.shr_s(ca, 15), i32x4.shr_s(cb, 15)), kz);
}
// The check values of two vectors of c, lowered into flag.
@inline function stageF(ca: v128, cb: v128, flag: v128): v128 {
  return i16x8.min_u(flag, i16x8.min_u(i16x8.shl(ca, 1), i16x8.shl(cb, 1)));
}

// Eight results of one pixel (finish8's int16 lanes): all of them, or the first n (< 8).
@inline export function store8(dst: usize, v: v128, n: i32): void {
  if (n >= 8) {
    storeH8(dst, v);
  } else {
    const bits = i64x2.extract_lane(i8x16.narrow_i16x8_s(v, v), 0);
    for (let i = 0; i < n; i++) store<i8>(dst + <usize>i, <i8>(bits >> (<i64>i << 3)));
  }
}

// One pixel's eight accumulators (channels 0-3 in a, 4-7 in b; bias included) through
// the integer output stage -> dst (the first n of them).
@inline export function pixQ(a: v128, b: v128, ta: usize, stride: usize, left: bool, fast: bool,
  zp: v128, lo: v128, hi: v128, dst: usize, n: i32): void {
  store8(dst, finish8(requantQ(a, ta, stride, left, fast, 22), requantQ(b, ta + 16, stride, left, fast, 22), zp, lo, hi), n);
}

// The same through the float32 stage (stageV; t: M of the eight channels, their C at
// t + stride; sg the float32 sign bits, g = stageG, kz = stageK; fold: the folded form,
// for callers that have checked selTopBit). Returns flag lowered to the eight lanes'
// fractions (as f << 1 in the low half of each 32-bit lane; the high halves are not
// looked at): where fHit finds one the results may be wrong, and the caller redoes the
// pixel with pixQ.
@inline export function pixF(a: v128, b: v128, t: usize, stride: usize, sg: v128, g: v128, kz: v128,
  lo: v128, hi: v128, dst: usize, n: i32, flag: v128, fold: bool): v128 {
  const ka = v128.load(t + stride), kb = v128.load(t + stride, 16);
  const pa = fold ? f32x4.add(g, ka) : ka, pb = fold ? f32x4.add(g, kb) : kb;
  const na = fold ? f32x4.sub(g, ka) : stageCn(ka, sg), nb = fold ? f32x4.sub(g, kb) : stageCn(kb, sg);
  const ca = stageC(a, v128.load(t), ka, na, pa, na, sg, g, fold);
  const cb = stageC(b, v128.load(t, 16), kb, nb, pb, nb, sg, g, fold);
  store8(dst, i16x8.min_s(i16x8.max_s(stageQ(ca, cb, kz), lo), hi), n);
  return stageF(ca, cb, flag);
}

// pixF for two pixels of the same eight channels (a0, b0 and a1, b1; outputs at d0 and
// d1): the constants are loaded once, and the clamp runs on both pixels' int8 lanes at
// once (lo8, hi8: the bounds as int8 lanes).
@inline export function pixF2(a0: v128, b0: v128, a1: v128, b1: v128, t: usize, stride: usize, sg: v128, g: v128, kz: v128,
  lo8: v128, hi8: v128, d0: usize, d1: usize, n: i32, flag: v128, fold: bool): v128 {
  const m0 = v128.load(t), m1 = v128.load(t, 16), k0 = v128.load(t + stride), k1 = v128.load(t + stride, 16);
  // Unfolded: n0, n1 are -C; folded: p0, p1 = G + C and n0, n1 = G - C.
  const p0 = fold ? f32x4.add(g, k0) : k0, p1 = fold ? f32x4.add(g, k1) : k1;
  const n0 = fold ? f32x4.sub(g, k0) : stageCn(k0, sg), n1 = fold ? f32x4.sub(g, k1) : stageCn(k1, sg);
  const c0a = stageC(a0, m0, k0, n0, p0, n0, sg, g, fold), c0b = stageC(b0, m1, k1, n1, p1, n1, sg, g, fold);
  const c1a = stageC(a1, m0, k0, n0, p0, n0, sg, g, fold), c1b = stageC(b1, m1, k1, n1, p1, n1, sg, g, fold);
  const r = i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(stageQ(c0a, c0b, kz), stageQ(c1a, c1b, kz)), lo8), hi8);
  if (n >= 8) {
    v128.store64_lane(d0, r, 0);
    v128.store64_lane(d1, r, 1);
  } else {
    const x0 = i64x2.extract_lane(r, 0), x1 = i64x2.extract_lane(r, 1);
    for (let i = 0; i < n; i++) {
      store<i8>(d0 + <usize>i, <i8>(x0 >> (<i64>i << 3)));
      store<i8>(d1 + <usize>i, <i8>(x1 >> (<i64>i << 3)));
    }
  }
  return stageF(c0a, c0b, stageF(c1a, c1b, flag));
}

// One pixel through the float32 stage (constants at tf), redone by the integer stage
// (constants at tq, any left or right shift) when the check flags a lane.
@inline export function pixFQ(a: v128, b: v128, tf: usize, tq: usize, stride: usize, sg: v128, g: v128, kz: v128,
  zp: v128, lo: v128, hi: v128, dst: usize, n: i32, fold: bool): void {
  if (fHit(pixF(a, b, tf, stride, sg, g, kz, lo, hi, dst, n, fNone(), fold))) pixQ(a, b, tq, stride, true, false, zp, lo, hi, dst, n);
}

