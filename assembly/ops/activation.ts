// Kernels of the activation family (ids 401..). See src/runtime/ops/activation.ts for
// the prepare step that writes each kernel's record.
import { clampI32, mbqm, rdbpot, srdhm, w, wf, wp } from '../fixedpoint';
import { rescale16, sigmoidQ15, tanhQ15 } from './sigmoid16';

// dtype codes used in records: 0 int8, 1 uint8, 2 int16, 3 int32.

// ---------------------------------------------------------------------------
// 401 LUT8: [src, dst, count, table]
// dst[i] = table[src[i] as byte]; 8-bit in, 8-bit out, table of 256 bytes.
function lut8(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const n = <usize>w(p, 2);
  const t = wp(p, 3);
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    // Sixteen 16-byte slices of the table; swizzle yields 0 for lanes whose index is
    // outside 0..15, so subtracting 16 per slice selects exactly one slice per lane.
    const t0 = v128.load(t, 0), t1 = v128.load(t, 16), t2 = v128.load(t, 32), t3 = v128.load(t, 48);
    const t4 = v128.load(t, 64), t5 = v128.load(t, 80), t6 = v128.load(t, 96), t7 = v128.load(t, 112);
    const t8 = v128.load(t, 128), t9 = v128.load(t, 144), t10 = v128.load(t, 160), t11 = v128.load(t, 176);
    const t12 = v128.load(t, 192), t13 = v128.load(t, 208), t14 = v128.load(t, 224), t15 = v128.load(t, 240);
    const sixteen = i8x16.splat(16);
    for (; i + 16 <= n; i += 16) {
      let idx = v128.load(src + i);
      let r = i8x16.swizzle(t0, idx);
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t1, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t2, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t3, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t4, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t5, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t6, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t7, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t8, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t9, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t10, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t11, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t12, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t13, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t14, idx));
      idx = i8x16.sub(idx, sixteen); r = v128.or(r, i8x16.swizzle(t15, idx));
      v128.store(dst + i, r);
    }
  }
  for (; i < n; i++) store<u8>(dst + i, load<u8>(t + <usize>load<u8>(src + i)));
}

// 402 LUT8_TO_16: [src, dst, count, table]
// dst[i] (int16) = table[src[i] as byte]; table of 256 int16.
function lut8to16(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const n = <usize>w(p, 2);
  const t = wp(p, 3);
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      // Gather: no 16-bit table instruction in baseline SIMD; build the vector lane by lane.
      let r = i16x8.splat(load<i16>(t + (<usize>load<u8>(src + i) << 1)));
      r = i16x8.replace_lane(r, 1, load<i16>(t + (<usize>load<u8>(src + i + 1) << 1)));
      r = i16x8.replace_lane(r, 2, load<i16>(t + (<usize>load<u8>(src + i + 2) << 1)));
      r = i16x8.replace_lane(r, 3, load<i16>(t + (<usize>load<u8>(src + i + 3) << 1)));
      r = i16x8.replace_lane(r, 4, load<i16>(t + (<usize>load<u8>(src + i + 4) << 1)));
      r = i16x8.replace_lane(r, 5, load<i16>(t + (<usize>load<u8>(src + i + 5) << 1)));
      r = i16x8.replace_lane(r, 6, load<i16>(t + (<usize>load<u8>(src + i + 6) << 1)));
      r = i16x8.replace_lane(r, 7, load<i16>(t + (<usize>load<u8>(src + i + 7) << 1)));
      v128.store(dst + (i << 1), r);
    }
  }
  for (; i < n; i++) store<i16>(dst + (i << 1), load<i16>(t + (<usize>load<u8>(src + i) << 1)));
}

// 403 CLAMP8: [src, dst, count, lo, hi]   int8 clamp to [lo, hi] (lo <= hi)
function clamp8(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const n = <usize>w(p, 2);
  const lo = w(p, 3);
  const hi = w(p, 4);
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vlo = i8x16.splat(<i8>lo);
    const vhi = i8x16.splat(<i8>hi);
    for (; i + 16 <= n; i += 16) {
      v128.store(dst + i, i8x16.min_s(i8x16.max_s(v128.load(src + i), vlo), vhi));
    }
  }
  for (; i < n; i++) store<i8>(dst + i, <i8>clampI32(<i32>load<i8>(src + i), lo, hi));
}

// 404 CLAMP16: [src, dst, count, lo, hi]   int16 clamp to [lo, hi] (lo <= hi)
function clamp16(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const n = <usize>w(p, 2);
  const lo = w(p, 3);
  const hi = w(p, 4);
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vlo = i16x8.splat(<i16>lo);
    const vhi = i16x8.splat(<i16>hi);
    for (; i + 8 <= n; i += 8) {
      const o = i << 1;
      v128.store(dst + o, i16x8.min_s(i16x8.max_s(v128.load(src + o), vlo), vhi));
    }
  }
  for (; i < n; i++) store<i16>(dst + (i << 1), <i16>clampI32(<i32>load<i16>(src + (i << 1)), lo, hi));
}

// Four lanes of MultiplyByQuantizedMultiplier (int32, double rounding) for a
// multiplier in [0, 2^31): the rounding doubling high multiply reduces to
// (x * m + 2^30) >> 31 on 64 bits when MIN * MIN cannot occur.
@inline function mbqmV(x: v128, m: v128, left: i32, right: i32): v128 {
  const xs = i32x4.shl(x, left);
  const lo = i64x2.shr_s(i64x2.add(i64x2.extmul_low_i32x4_s(xs, m), i64x2.splat(1 << 30)), 31);
  const hi = i64x2.shr_s(i64x2.add(i64x2.extmul_high_i32x4_s(xs, m), i64x2.splat(1 << 30)), 31);
  const h = i32x4.shuffle(lo, hi, 0, 2, 4, 6);
  if (right == 0) return h;
  // Rounding right shift, ties away from zero.
  const mask = i32x4.splat(<i32>((<i64>1 << right) - 1));
  const rem = v128.and(h, mask);
  const thr = i32x4.sub(i32x4.shr_s(mask, 1), i32x4.lt_s(h, i32x4.splat(0)));
  return i32x4.sub(i32x4.shr_s(h, right), i32x4.gt_s(rem, thr));
}

@inline function loadAs(code: i32, src: usize, i: usize): i32 {
  if (code == 0) return <i32>load<i8>(src + i);
  if (code == 1) return <i32>load<u8>(src + i);
  if (code == 2) return <i32>load<i16>(src + (i << 1));
  return load<i32>(src + (i << 2));
}

@inline function storeAs(code: i32, dst: usize, i: usize, v: i32): void {
  if (code == 0) store<i8>(dst + i, <i8>v);
  else if (code == 1) store<u8>(dst + i, <u8>v);
  else if (code == 2) store<i16>(dst + (i << 1), <i16>v);
  else store<i32>(dst + (i << 2), v);
}

// 405 REQUANTIZE: [src, dst, count, inCode, outCode, inZp, outZp, multiplier, shift, lo, hi]
// dst[i] = clamp(outZp + MultiplyByQuantizedMultiplier(src[i] - inZp, multiplier, shift), lo, hi)
// (QUANTIZE between integer types, int16 RELU).
function requantize(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const n = <usize>w(p, 2);
  const ic = w(p, 3);
  const oc = w(p, 4);
  const izp = w(p, 5);
  const ozp = w(p, 6);
  const m = w(p, 7);
  const shift = w(p, 8);
  const lo = w(p, 9);
  const hi = w(p, 10);
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    // int16 / int32 input to int16 / int8 output, the int16-activation cases.
    if ((oc == 2 || oc == 0) && (ic == 2 || ic == 3) && m >= 0 && shift <= 31) {
      const left = shift > 0 ? shift : 0;
      const right = shift > 0 ? 0 : -shift;
      const vm = i32x4.splat(m);
      const vizp = i32x4.splat(izp);
      const vozp = i32x4.splat(ozp);
      const vlo = i32x4.splat(lo);
      const vhi = i32x4.splat(hi);
      for (; i + 8 <= n; i += 8) {
        let a: v128, b: v128;
        if (ic == 2) {
          const x = v128.load(src + (i << 1));
          a = i32x4.extend_low_i16x8_s(x);
          b = i32x4.extend_high_i16x8_s(x);
        } else {
          a = v128.load(src + (i << 2));
          b = v128.load(src + (i << 2), 16);
        }
        a = i32x4.add(mbqmV(i32x4.sub(a, vizp), vm, left, right), vozp);
        b = i32x4.add(mbqmV(i32x4.sub(b, vizp), vm, left, right), vozp);
        a = i32x4.min_s(i32x4.max_s(a, vlo), vhi);
        b = i32x4.min_s(i32x4.max_s(b, vlo), vhi);
        const h = i16x8.narrow_i32x4_s(a, b);
        if (oc == 2) v128.store(dst + (i << 1), h);
        else store<i64>(dst + i, i64x2.extract_lane(i8x16.narrow_i16x8_s(h, h), 0));
      }
    }
  }
  for (; i < n; i++) {
    const v = mbqm(loadAs(ic, src, i) - izp, m, shift) + ozp;
    storeAs(oc, dst, i, clampI32(v, lo, hi));
  }
}

// 406 LEAKY_RELU16:
// [src, dst, count, inZp, outZp, multIdentity, shiftIdentity, multAlpha, shiftAlpha, alphaNegative]
// x = src - inZp; y = outZp + (x >= 0 ? mbqm(x, identity) : ±mbqm(x, |alpha|)), clamped to int16.
function leakyRelu16(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const n = <usize>w(p, 2);
  const izp = w(p, 3);
  const ozp = w(p, 4);
  const mi = w(p, 5);
  const si = w(p, 6);
  const ma = w(p, 7);
  const sa = w(p, 8);
  const neg = w(p, 9) != 0;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    if (mi >= 0 && ma >= 0 && si <= 31 && sa <= 31) {
      const li = si > 0 ? si : 0, ri = si > 0 ? 0 : -si;
      const la = sa > 0 ? sa : 0, ra = sa > 0 ? 0 : -sa;
      const vmi = i32x4.splat(mi);
      const vma = i32x4.splat(ma);
      const vizp = i32x4.splat(izp);
      const vozp = i32x4.splat(ozp);
      const zero = i32x4.splat(0);
      for (; i + 8 <= n; i += 8) {
        const x = v128.load(src + (i << 1));
        const xa = i32x4.sub(i32x4.extend_low_i16x8_s(x), vizp);
        const xb = i32x4.sub(i32x4.extend_high_i16x8_s(x), vizp);
        let pa = mbqmV(xa, vmi, li, ri);
        let pb = mbqmV(xb, vmi, li, ri);
        let na = mbqmV(xa, vma, la, ra);
        let nb = mbqmV(xb, vma, la, ra);
        if (neg) { na = i32x4.neg(na); nb = i32x4.neg(nb); }
        const ya = i32x4.add(vozp, v128.bitselect(pa, na, i32x4.ge_s(xa, zero)));
        const yb = i32x4.add(vozp, v128.bitselect(pb, nb, i32x4.ge_s(xb, zero)));
        // narrow saturates to the int16 range, the reference's clamp.
        v128.store(dst + (i << 1), i16x8.narrow_i32x4_s(ya, yb));
      }
    }
  }
  for (; i < n; i++) {
    const x = <i32>load<i16>(src + (i << 1)) - izp;
    let y = ozp;
    if (x >= 0) y += mbqm(x, mi, si);
    else {
      const s = mbqm(x, ma, sa);
      y += neg ? -s : s;
    }
    store<i16>(dst + (i << 1), <i16>clampI32(y, -32768, 32767));
  }
}

// 407 LOGISTIC16: [src, dst, count, multiplier, leftShift, table (256 x u16 sigmoid(i/24))]
// Input rescaled by (x * multiplier + round) >> leftShift, then the table is
// interpolated on 9 fractional bits; output Q0.15.
function logistic16(p: usize): void {
  const src = wp(p, 0), dst = wp(p, 1), n = <usize>w(p, 2), m = w(p, 3), ls = w(p, 4), t = wp(p, 5);
  // Table lookups do not vectorise in baseline SIMD; both builds use this loop.
  for (let i: usize = 0; i < n; i++) {
    store<i16>(dst + (i << 1), <i16>sigmoidQ15(rescale16(<i32>load<i16>(src + (i << 1)), m, ls), t));
  }
}

// 408 TANH16: [src, dst, count, multiplier, leftShift, table (256 x u16 sigmoid(i/24))]
// tanh(x) = 2 sigmoid(2x) - 1 with 8 fractional bits of interpolation; output Q0.15.
function tanh16(p: usize): void {
  const src = wp(p, 0), dst = wp(p, 1), n = <usize>w(p, 2), m = w(p, 3), ls = w(p, 4), t = wp(p, 5);
  for (let i: usize = 0; i < n; i++) {
    store<i16>(dst + (i << 1), <i16>tanhQ15(rescale16(<i32>load<i16>(src + (i << 1)), m, ls), t));
  }
}

// gemmlowp one_over_one_plus_x_for_x_in_0_1 on Q0.31 (Newton-Raphson, 3 steps).
function oneOverOnePlusX(a: i32): i32 {
  const sum: i64 = <i64>a + <i64>i32.MAX_VALUE;
  const hd = <i32>((sum + (sum >= 0 ? 1 : -1)) / 2);
  let x = 1515870810 + srdhm(hd, -1010580540);
  for (let k = 0; k < 3; k++) {
    const om = (1 << 29) - srdhm(hd, x);
    x = x + satShl(srdhm(x, om), 2);
  }
  return satShl(x, 1);
}

// Saturating left shift of an int32 by 1..30.
@inline function satShl(x: i32, e: i32): i32 {
  const threshold = (1 << (31 - e)) - 1;
  if (x > threshold) return i32.MAX_VALUE;
  if (x < -threshold) return i32.MIN_VALUE;
  return x << e;
}

// 409 SOFTMAX8: [src, dst, outer, depth, outBits (8 or 16), table]
// table: exp(diff) in Q0.31 for diff = 0..-255 at [0..255], the same rescaled to
// Q12.19 at [256..511] (zero where diff < diff_min). Input int8, output int8 or int16.
function softmax8(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const outer = w(p, 2);
  const depth = <usize>w(p, 3);
  const bits = w(p, 4);
  const t = wp(p, 5);
  const outMin: i32 = bits == 8 ? -128 : -32768;
  const outMax: i32 = bits == 8 ? 127 : 32767;
  for (let r = 0; r < outer; r++) {
    const row = src + <usize>r * depth;
    let mx: i32 = -128;
    let c: usize = 0;
    if (ASC_FEATURE_SIMD) {
      let vm = i8x16.splat(-128);
      for (; c + 16 <= depth; c += 16) vm = i8x16.max_s(vm, v128.load(row + c));
      vm = i8x16.max_s(vm, i8x16.shuffle(vm, vm, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
      vm = i8x16.max_s(vm, i8x16.shuffle(vm, vm, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3));
      vm = i8x16.max_s(vm, i8x16.shuffle(vm, vm, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1));
      vm = i8x16.max_s(vm, i8x16.shuffle(vm, vm, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0));
      mx = <i32>i8x16.extract_lane_s(vm, 0);
    }
    for (; c < depth; c++) {
      const v = <i32>load<i8>(row + c);
      if (v > mx) mx = v;
    }
    let sum: i32 = 0;
    for (c = 0; c < depth; c++) {
      const k = <usize>(mx - <i32>load<i8>(row + c));
      sum += load<i32>(t + ((256 + k) << 2));
    }
    // Reciprocal of the sum (Q12.19) as a Q0.31 scale and a bit count above one.
    const headroomPlusOne = <i32>clz<u32>(<u32>sum);
    const bitsOverUnit = 12 - headroomPlusOne;
    const shiftedSumMinusOne = <i32>((<u32>sum << headroomPlusOne) - (<u32>1 << 31));
    const scale = oneOverOnePlusX(shiftedSumMinusOne);
    const exponent = bitsOverUnit + 31 - bits;
    if (bits == 8) {
      const out = dst + <usize>r * depth;
      for (c = 0; c < depth; c++) {
        const k = <usize>(mx - <i32>load<i8>(row + c));
        const v = rdbpot(srdhm(scale, load<i32>(t + (k << 2))), exponent) + outMin;
        store<i8>(out + c, <i8>clampI32(v, outMin, outMax));
      }
    } else {
      const out = dst + ((<usize>r * depth) << 1);
      for (c = 0; c < depth; c++) {
        const k = <usize>(mx - <i32>load<i8>(row + c));
        const v = rdbpot(srdhm(scale, load<i32>(t + (k << 2))), exponent) + outMin;
        store<i16>(out + (c << 1), <i16>clampI32(v, outMin, outMax));
      }
    }
  }
}

// int16 LUT lookup with 7-bit linear interpolation (513-entry table).
@inline function lut16(v: i32, t: usize): i32 {
  const index = <usize>(256 + (v >> 7));
  const offset = v & 0x7f;
  const base = <i32>load<i16>(t + (index << 1));
  const slope = <i32>load<i16>(t + ((index + 1) << 1)) - base;
  return <i32><i16>(base + ((slope * offset + 64) >> 7));
}

// 410 SOFTMAX16: [src, dst, outer, depth, multiplier, shift, luts]
// luts: exp table (513 x i16) at element 0, 1/(1+x) table (513 x i16) at element 514.
// The row's exp values are kept in the output row until the final scaling.
function softmax16(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const outer = w(p, 2);
  const depth = <usize>w(p, 3);
  const m = w(p, 4);
  const shift = w(p, 5);
  const expLut = wp(p, 6);
  const recipLut = expLut + 514 * 2;
  for (let r = 0; r < outer; r++) {
    const row = src + ((<usize>r * depth) << 1);
    const out = dst + ((<usize>r * depth) << 1);
    let mx: i32 = -32768;
    let c: usize = 0;
    if (ASC_FEATURE_SIMD) {
      let vm = i16x8.splat(-32768);
      for (; c + 8 <= depth; c += 8) vm = i16x8.max_s(vm, v128.load(row + (c << 1)));
      vm = i16x8.max_s(vm, i16x8.shuffle(vm, vm, 4, 5, 6, 7, 0, 1, 2, 3));
      vm = i16x8.max_s(vm, i16x8.shuffle(vm, vm, 2, 3, 0, 1, 2, 3, 0, 1));
      vm = i16x8.max_s(vm, i16x8.shuffle(vm, vm, 1, 0, 1, 0, 1, 0, 1, 0));
      mx = <i32>i16x8.extract_lane_s(vm, 0);
    }
    for (; c < depth; c++) {
      const v = <i32>load<i16>(row + (c << 1));
      if (v > mx) mx = v;
    }
    let sum: i32 = 0;
    for (c = 0; c < depth; c++) {
      const diff = <i32>load<i16>(row + (c << 1)) - mx;
      const scaled = mbqm(diff, m, shift) + 32767;
      const e = lut16(clampI32(scaled, -32768, 32767), expLut);
      store<i16>(out + (c << 1), <i16>e);
      sum += e;
    }
    const headroomPlusOne = <i32>clz<u32>(<u32>sum);
    const shiftedSum = <i32>(((<i64>sum << (headroomPlusOne - 1)) + (1 << 13)) >> 14);
    const sym = clampI32(shiftedSum - ((1 << 15) + (1 << 16)), -32768, 32767);
    const recip = <i64>lut16(sym, recipLut);
    const rightShift = 31 - headroomPlusOne;
    const round: i64 = <i64>(1 << (rightShift - 1));
    for (c = 0; c < depth; c++) {
      const e = <i64>load<i16>(out + (c << 1));
      const v = <i32>((e * recip + round) >> rightShift);
      store<i16>(out + (c << 1), <i16>clampI32(v, 0, 32767));
    }
  }
}

// x86 float -> int32 conversion: out-of-range and NaN give INT32_MIN.
@inline function f32ToI32(x: f32): i32 {
  return x < 2147483648.0 && x >= -2147483648.0 ? <i32>x : i32.MIN_VALUE;
}

// round half away from zero on f32.
@inline function roundAway(x: f32): f32 {
  const t = Mathf.trunc(x);
  const d = x - t;
  return d >= 0.5 ? t + 1 : d <= -0.5 ? t - 1 : t;
}

// 411 QUANTIZE_F32: [src, dst, count, outCode (0 int8, 2 int16), scale (f32), zeroPoint]
// dst[i] = clamp(int32(round(src[i] / scale)) + zeroPoint), float32 division.
function quantizeF32(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const n = <usize>w(p, 2);
  const oc = w(p, 3);
  const scale = wf(p, 4);
  const zp = w(p, 5);
  const lo: i32 = oc == 0 ? -128 : -32768;
  const hi: i32 = oc == 0 ? 127 : 32767;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(scale);
    const vzp = i32x4.splat(zp);
    const vlo = i32x4.splat(lo);
    const vhi = i32x4.splat(hi);
    const half = f32x4.splat(0.5);
    const one = f32x4.splat(1.0);
    const big = f32x4.splat(2147483648.0);
    const nbig = f32x4.splat(-2147483648.0);
    const imin = i32x4.splat(i32.MIN_VALUE);
    for (; i + 4 <= n; i += 4) {
      const q = f32x4.div(v128.load(src + (i << 2)), vs);
      const t = f32x4.trunc(q);
      const d = f32x4.sub(q, t);
      let r = v128.bitselect(f32x4.add(t, one), t, f32x4.ge(d, half));
      r = v128.bitselect(f32x4.sub(t, one), r, f32x4.le(d, f32x4.neg(half)));
      const inRange = v128.and(f32x4.lt(r, big), f32x4.ge(r, nbig));
      let v = v128.bitselect(i32x4.trunc_sat_f32x4_s(r), imin, inRange);
      v = i32x4.min_s(i32x4.max_s(i32x4.add(v, vzp), vlo), vhi);
      if (oc == 0) {
        const h = i16x8.narrow_i32x4_s(v, v);
        store<i32>(dst + i, i32x4.extract_lane(i8x16.narrow_i16x8_s(h, h), 0));
      } else {
        store<i64>(dst + (i << 1), i64x2.extract_lane(i16x8.narrow_i32x4_s(v, v), 0));
      }
    }
  }
  for (; i < n; i++) {
    const q = roundAway(load<f32>(src + (i << 2)) / scale);
    const v = clampI32(f32ToI32(q) + zp, lo, hi);
    if (oc == 0) store<i8>(dst + i, <i8>v);
    else store<i16>(dst + (i << 1), <i16>v);
  }
}

// 412 DEQUANTIZE: [src, dst, count, inCode (0 int8, 1 uint8, 2 int16), scale (f32), zeroPoint]
// dst[i] = f32(f64(scale) * (src[i] - zeroPoint)).
function dequantize(p: usize): void {
  const src = wp(p, 0);
  const dst = wp(p, 1);
  const n = <usize>w(p, 2);
  const ic = w(p, 3);
  const scale = <f64>wf(p, 4);
  const zp = w(p, 5);
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f64x2.splat(scale);
    const vzp = i32x4.splat(zp);
    for (; i + 4 <= n; i += 4) {
      let x: v128;
      if (ic == 0) x = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(src + i)));
      else if (ic == 1) x = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(src + i)));
      else x = i32x4.extend_low_i16x8_s(v128.load64_zero(src + (i << 1)));
      x = i32x4.sub(x, vzp);
      const lo = f32x4.demote_f64x2_zero(f64x2.mul(vs, f64x2.convert_low_i32x4_s(x)));
      const hi = f32x4.demote_f64x2_zero(f64x2.mul(vs, f64x2.convert_low_i32x4_s(i32x4.shuffle(x, x, 2, 3, 0, 1))));
      v128.store(dst + (i << 2), i64x2.shuffle(lo, hi, 0, 2));
    }
  }
  for (; i < n; i++) {
    const v = loadAs(ic, src, i) - zp;
    store<f32>(dst + (i << 2), <f32>(scale * <f64>v));
  }
}

// Returns false for an id this family does not know.
export function runActivation(id: i32, p: usize): bool {
  switch (id) {
    case 401: lut8(p); break;
    case 402: lut8to16(p); break;
    case 403: clamp8(p); break;
    case 404: clamp16(p); break;
    case 405: requantize(p); break;
    case 406: leakyRelu16(p); break;
    case 407: logistic16(p); break;
    case 408: tanh16(p); break;
    case 409: softmax8(p); break;
    case 410: softmax16(p); break;
    case 411: quantizeF32(p); break;
    case 412: dequantize(p); break;
    default: return false;
  }
  return true;
}
