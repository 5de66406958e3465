// Kernels of the conv family: CONV_2D and DEPTHWISE_CONV_2D on quantized tensors.
// Prepare steps and the meaning of every record word: src/runtime/ops/conv.ts.
//
// All tensors are NHWC. Accumulation is exact: int8 kernels sum in i32 (wrapping, as
// the reference's int32 accumulator does), 16x8 kernels in i64 (the SIMD paths sum in
// i32 lanes only over spans short enough that no lane can overflow).
import { w, wp, mbqm64 } from '../fixedpoint';
import { requantV, rqFast } from './conv-requant';
import { dwFast } from './conv-fast';
import { convGemmRows } from './conv-gemm';
import { threadScratch } from '../thread';

// MultiplyByQuantizedMultiplier (32-bit, double rounding), the same integers as
// fixedpoint.ts mbqm, written with shifts only: the truncating i64 division by 2^31 is
// done as a biased arithmetic shift, which engines compile far better than i64.div_s.
// Multipliers from QuantizeMultiplier are >= 0, so the saturating case of the doubling
// high multiply (both operands INT32_MIN) cannot occur; it is kept for completeness.
@inline function mbqm(x: i32, qm: i32, shift: i32): i32 {
  const a = shift > 0 ? x << shift : x;
  const right = shift > 0 ? 0 : -shift;
  if (a == qm && a == i32.MIN_VALUE) return i32.MAX_VALUE;
  const ab: i64 = <i64>a * <i64>qm;
  const v: i64 = ab + (ab >= 0 ? <i64>(1 << 30) : <i64>(1 - (1 << 30)));
  const hi = <i32>((v + ((v >> 63) & 0x7fffffff)) >> 31);
  const mask = (1 << right) - 1;
  const threshold = (mask >> 1) + (hi < 0 ? 1 : 0);
  return (hi >> right) + ((hi & mask) > threshold ? 1 : 0);
}

// ---------------------------------------------------------------------------------
// Output stage, one channel.

// int8 output: MBQM(acc + bias) + zero point, clamped.
@inline function outI8(dst: usize, acc: i32, bias: usize, mult: usize, shift: usize, oc: i32, outOff: i32, lo: i32, hi: i32): void {
  const o = <usize>oc << 2;
  let v = mbqm(acc + load<i32>(bias + o), load<i32>(mult + o), load<i32>(shift + o)) + outOff;
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  store<i8>(dst, <i8>v);
}

// int16 output from an i64 accumulator (MBQM64), no zero point.
@inline function outI16w(dst: usize, acc: i64, bias: usize, mult: usize, shift: usize, oc: i32, lo: i32, hi: i32): void {
  const o = <usize>oc << 2;
  let v = mbqm64(acc + load<i64>(bias + (<usize>oc << 3)), load<i32>(mult + o), load<i32>(shift + o));
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  store<i16>(dst, <i16>v);
}

// int16 output from an i32 accumulator (32-bit MBQM), no zero point.
@inline function outI16n(dst: usize, acc: i32, bias: usize, mult: usize, shift: usize, oc: i32, lo: i32, hi: i32): void {
  const o = <usize>oc << 2;
  let v = mbqm(acc + load<i32>(bias + o), load<i32>(mult + o), load<i32>(shift + o));
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  store<i16>(dst, <i16>v);
}

@inline function hsum32(a: v128): i32 {
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}

@inline function hsum64(a: v128): i64 {
  return <i64>i32x4.extract_lane(a, 0) + <i64>i32x4.extract_lane(a, 1) + <i64>i32x4.extract_lane(a, 2) + <i64>i32x4.extract_lane(a, 3);
}

// Vectorized output stage for four channels [oc, oc + 4), bit-identical to the scalar
// one (assembly/ops/conv-requant.ts). rq is the table written by requantTable
// (src/runtime/ops/conv.ts) for n = outC channels. Returns the clamped i32 results.
// wide: int16 outputs (the table's S is 16), else int8 (22).
@inline function requant4(acc: v128, oc: i32, bias: usize, rq: usize, n: i32, outOff: i32, lo: i32, hi: i32, wide: bool): v128 {
  const o4 = <usize>oc << 2;
  const np = (n + 7) & ~7;
  const stride = <usize>np << 2;
  const a = i32x4.add(acc, v128.load(bias + o4));
  const fast = rqFast(rq, np);
  if (wide) return requantV(a, rq + o4, stride, i32x4.splat(outOff), i32x4.splat(lo), i32x4.splat(hi), true, fast, 16);
  return requantV(a, rq + o4, stride, i32x4.splat(outOff), i32x4.splat(lo), i32x4.splat(hi), true, fast, 22);
}

// Four i32x4 partial sums -> one i32x4 of their totals.
@inline function reduce4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const u0 = i32x4.add(i32x4.shuffle(a0, a1, 0, 4, 2, 6), i32x4.shuffle(a0, a1, 1, 5, 3, 7));
  const u1 = i32x4.add(i32x4.shuffle(a2, a3, 0, 4, 2, 6), i32x4.shuffle(a2, a3, 1, 5, 3, 7));
  return i32x4.add(i32x4.shuffle(u0, u1, 0, 1, 4, 5), i32x4.shuffle(u0, u1, 2, 3, 6, 7));
}

@inline function storeI8x4(dst: usize, r: v128): void {
  const h = i16x8.narrow_i32x4_s(r, r);
  v128.store32_lane(dst, i8x16.narrow_i16x8_s(h, h), 0);
}

@inline function storeI16x4(dst: usize, r: v128): void {
  v128.store64_lane(dst, i16x8.narrow_i32x4_s(r, r), 0);
}

// ---------------------------------------------------------------------------------
// CONV_2D
//
// 101 CONV_I8, 102 CONV_I16_ACC64, 103 CONV_I16_ACC32. Record:
//   0 input  1 weights: int8 [outC][kpad], row = the filter's [fH][fW][fic] (k values)
//            then zeros (0 on the SIMD build for int8 1x1 without groups: word 31 has them)
//   2 bias: i32[outC] (101, 103) or i64[outC] (102), zeros when the op has none
//   3 output  4 multipliers i32[outC]  5 shifts i32[outC] (> 0: left)
//   6 scratch: kpad int16 (the im2col row of one output pixel and group)
//   7 batches  8 inH  9 inW  10 inC  11 outH  12 outW  13 outC  14 fH  15 fW
//   16 fic (filter depth = inC / groups)  17 groups  18 strideH  19 strideW
//   20 dilH  21 dilW  22 padH  23 padW  24 input offset (-zp; 0 for int16)
//   25 output zero point (0 for int16)  26 clamp min  27 clamp max  28 kpad
//   29 requant table (conv-requant.ts; 0 for 102)
//   30 (101 only) bias + input offset × Σ weights per channel, for windows inside the image
//      (outC rounded up to a multiple of 8 entries)
//   31 (101 with one group, SIMD build) the weights with channels in lanes (conv-gemm.ts),
//      else 0; word 1 is then 0 and the scratch (word 6) holds 4 to 16 int16 rows of
//      k rounded up to even (groupOf in conv-gemm.ts), plus slack
//   32 (same records only) the layout of word 31: 0 int16 pairs, 1 the relaxed build's quads
//
// Rows: convRows(p, mode, r0, r1) computes output rows [r0, r1) of batches * outH
// (row = b * outH + oy); the only scratch is word 6 (one per thread).
//
// int8 without groups on the SIMD build runs convGemmRows (conv-gemm.ts). Otherwise,
// for every output pixel and group the window is gathered into the scratch row as
// int16 (x + input offset; taps outside the image are 0, which adds nothing), then each
// output channel is one dot product of that row with its weight row; 1x1 filters
// without groups with int16 data and the i32 accumulator dot the input pixel directly.

// Gathers the window of output pixel (b, oy, ox), group g into col.
function im2col(p: usize, col: usize, b: i32, oy: i32, ox: i32, g: i32, wide: bool): void {
  const input = wp(p, 0);
  const inH = w(p, 8), inW = w(p, 9), inC = w(p, 10);
  const fH = w(p, 14), fW = w(p, 15), fic = w(p, 16);
  const dH = w(p, 20), dW = w(p, 21);
  const iy0 = oy * w(p, 18) - w(p, 22);
  const ix0 = ox * w(p, 19) - w(p, 23);
  const off = w(p, 24);
  const rowBytes = <usize>fic << 1;
  let c = col;
  for (let fy = 0; fy < fH; fy++) {
    const iy = iy0 + dH * fy;
    if (iy < 0 || iy >= inH) {
      memory.fill(c, 0, rowBytes * <usize>fW);
      c += rowBytes * <usize>fW;
      continue;
    }
    const rowBase = (b * inH + iy) * inW;
    for (let fx = 0; fx < fW; fx++) {
      const ix = ix0 + dW * fx;
      if (ix < 0 || ix >= inW) {
        memory.fill(c, 0, rowBytes);
      } else {
        const e = <usize>((rowBase + ix) * inC + g * fic);
        if (wide) {
          memory.copy(c, input + (e << 1), rowBytes);
        } else {
          const src = input + e;
          let i = 0;
          if (ASC_FEATURE_SIMD) {
            const vo = i16x8.splat(<i16>off);
            for (; i + 8 <= fic; i += 8) {
              v128.store(c + (<usize>i << 1), i16x8.add(v128.load8x8_s(src + <usize>i), vo));
            }
          }
          for (; i < fic; i++) store<i16>(c + (<usize>i << 1), <i16>(<i32>load<i8>(src + <usize>i) + off));
        }
      }
      c += rowBytes;
    }
  }
}

// Dot product of the int16 row with one int8 weight row, wrapping i32.
@inline function dot32(col: usize, wr: usize, kpad: i32): i32 {
  if (ASC_FEATURE_SIMD) {
    let a = i32x4.splat(0);
    for (let k = 0; k < kpad; k += 8) {
      a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load(col + (<usize>k << 1)), v128.load8x8_s(wr + <usize>k)));
    }
    return hsum32(a);
  } else {
    let acc = 0;
    for (let k = 0; k < kpad; k++) acc += <i32>load<i16>(col + (<usize>k << 1)) * <i32>load<i8>(wr + <usize>k);
    return acc;
  }
}

// Exact i64 dot product (int16 data). SIMD lanes take at most 1024 products
// (each |w·x| <= 2^22, two per lane per step) before they are widened.
@inline function dot64(col: usize, wr: usize, kpad: i32): i64 {
  if (ASC_FEATURE_SIMD) {
    let s: i64 = 0;
    for (let k0 = 0; k0 < kpad; k0 += 1024) {
      const k1 = min(k0 + 1024, kpad);
      let a = i32x4.splat(0);
      for (let k = k0; k < k1; k += 8) {
        a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load(col + (<usize>k << 1)), v128.load8x8_s(wr + <usize>k)));
      }
      s += hsum64(a);
    }
    return s;
  } else {
    let acc: i64 = 0;
    for (let k = 0; k < kpad; k++) acc += <i64>(<i32>load<i16>(col + (<usize>k << 1)) * <i32>load<i8>(wr + <usize>k));
    return acc;
  }
}

// 1x1 filter, one group, SIMD: two output pixels and four channels at a time (each
// weight load serves two pixels, each input load four channels), then the leftovers.
// Used for mode 2 (int16 input, i32 accumulator); mode 0 (int8 input, folded bias) runs
// convGemmRows (conv-gemm.ts) instead.

// The input row of flattened output pixel q.
@inline function src1x1(p: usize, q: i32, esz: usize): usize {
  const outW = w(p, 12), outH = w(p, 11);
  const ox = q % outW, t = q / outW;
  const oy = t % outH, b = t / outH;
  return wp(p, 0) + <usize>(((b * w(p, 8) + oy * w(p, 18)) * w(p, 9) + ox * w(p, 19)) * w(p, 10)) * esz;
}

// Input value k of the row at src.
@inline function x1x1(src: usize, k: i32, mode: i32): i32 {
  return mode == 0 ? <i32>load<i8>(src + <usize>k) : <i32>load<i16>(src + (<usize>k << 1));
}

// Eight input values k..k+7 of the row at src as i16x8.
@inline function xv1x1(src: usize, k: i32, mode: i32): v128 {
  return mode == 0 ? v128.load8x8_s(src + <usize>k) : v128.load(src + (<usize>k << 1));
}

// The four tail sums (inputs k8..inC) of one pixel as an i32x4.
@inline function tail4(src: usize, w0: usize, rowStride: usize, k8: i32, inC: i32, mode: i32): v128 {
  let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (let kk = k8; kk < inC; kk++) {
    const u = <usize>kk;
    const x = x1x1(src, kk, mode);
    t0 += x * <i32>load<i8>(w0 + u);
    t1 += x * <i32>load<i8>(w0 + rowStride + u);
    t2 += x * <i32>load<i8>(w0 + 2 * rowStride + u);
    t3 += x * <i32>load<i8>(w0 + 3 * rowStride + u);
  }
  return i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(t0), 1, t1), 2, t2), 3, t3);
}

@inline function store4(dst: usize, oc: i32, r: v128, mode: i32): void {
  if (mode == 0) storeI8x4(dst + <usize>oc, r);
  else storeI16x4(dst + (<usize>oc << 1), r);
}

// Output channel oc of one pixel, scalar.
@inline function one1x1(src: usize, dst: usize, oc: i32, wts: usize, rowStride: usize, inC: i32, bias: usize, mult: usize, shift: usize, outOff: i32, lo: i32, hi: i32, mode: i32): void {
  const wr = wts + <usize>oc * rowStride;
  let acc = 0;
  for (let kk = 0; kk < inC; kk++) acc += x1x1(src, kk, mode) * <i32>load<i8>(wr + <usize>kk);
  if (mode == 0) outI8(dst + <usize>oc, acc, bias, mult, shift, oc, outOff, lo, hi);
  else outI16n(dst + (<usize>oc << 1), acc, bias, mult, shift, oc, lo, hi);
}

function conv1x1(p: usize, mode: i32, q0: i32, q1: i32): void {
  const wts = wp(p, 1), output = wp(p, 3), mult = wp(p, 4), shift = wp(p, 5);
  const inC = w(p, 10), outC = w(p, 13);
  const outOff = w(p, 25), lo = w(p, 26), hi = w(p, 27), kpad = w(p, 28), rq = wp(p, 29);
  const bias = mode == 0 ? wp(p, 30) : wp(p, 2);
  const rowStride = <usize>kpad;
  const k8 = inC & ~7;
  const esz: usize = mode == 0 ? 1 : 2;
  const dstStride = <usize>outC * esz;
  const nPix = q1;
  let q = q0;
  for (; q + 2 <= nPix; q += 2) {
    const sa = src1x1(p, q, esz), sb = src1x1(p, q + 1, esz);
    const da = output + <usize>q * dstStride, db = da + dstStride;
    let oc = 0;
    for (; oc + 4 <= outC; oc += 4) {
      const w0 = wts + <usize>oc * rowStride, w1 = w0 + rowStride, w2 = w1 + rowStride, w3 = w2 + rowStride;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
      for (let kk = 0; kk < k8; kk += 8) {
        const u = <usize>kk;
        const xa = xv1x1(sa, kk, mode), xb = xv1x1(sb, kk, mode);
        const v0 = v128.load8x8_s(w0 + u), v1 = v128.load8x8_s(w1 + u);
        const v2 = v128.load8x8_s(w2 + u), v3 = v128.load8x8_s(w3 + u);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xa, v0));
        b0 = i32x4.add(b0, i32x4.dot_i16x8_s(xb, v0));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xa, v1));
        b1 = i32x4.add(b1, i32x4.dot_i16x8_s(xb, v1));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(xa, v2));
        b2 = i32x4.add(b2, i32x4.dot_i16x8_s(xb, v2));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(xa, v3));
        b3 = i32x4.add(b3, i32x4.dot_i16x8_s(xb, v3));
      }
      let accA = reduce4(a0, a1, a2, a3), accB = reduce4(b0, b1, b2, b3);
      if (k8 < inC) {
        accA = i32x4.add(accA, tail4(sa, w0, rowStride, k8, inC, mode));
        accB = i32x4.add(accB, tail4(sb, w0, rowStride, k8, inC, mode));
      }
      store4(da, oc, requant4(accA, oc, bias, rq, outC, outOff, lo, hi, mode != 0), mode);
      store4(db, oc, requant4(accB, oc, bias, rq, outC, outOff, lo, hi, mode != 0), mode);
    }
    for (; oc < outC; oc++) {
      one1x1(sa, da, oc, wts, rowStride, inC, bias, mult, shift, outOff, lo, hi, mode);
      one1x1(sb, db, oc, wts, rowStride, inC, bias, mult, shift, outOff, lo, hi, mode);
    }
  }
  if (q < nPix) {
    const sa = src1x1(p, q, esz);
    const da = output + <usize>q * dstStride;
    let oc = 0;
    for (; oc + 4 <= outC; oc += 4) {
      const w0 = wts + <usize>oc * rowStride, w1 = w0 + rowStride, w2 = w1 + rowStride, w3 = w2 + rowStride;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let kk = 0; kk < k8; kk += 8) {
        const u = <usize>kk;
        const xa = xv1x1(sa, kk, mode);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xa, v128.load8x8_s(w0 + u)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xa, v128.load8x8_s(w1 + u)));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(xa, v128.load8x8_s(w2 + u)));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(xa, v128.load8x8_s(w3 + u)));
      }
      let accA = reduce4(a0, a1, a2, a3);
      if (k8 < inC) accA = i32x4.add(accA, tail4(sa, w0, rowStride, k8, inC, mode));
      store4(da, oc, requant4(accA, oc, bias, rq, outC, outOff, lo, hi, mode != 0), mode);
    }
    for (; oc < outC; oc++) one1x1(sa, da, oc, wts, rowStride, inC, bias, mult, shift, outOff, lo, hi, mode);
  }
}

// mode 0: int8 (101); 1: int16 with i64 accumulator (102); 2: int16 with i32 accumulator (103).
function convRows(p: usize, mode: i32, r0: i32, r1: i32): void {
  if (r0 >= r1) return;
  if (ASC_FEATURE_SIMD) {
    if (mode == 0 && w(p, 17) == 1) {
      convGemmRows(p, r0, r1);
      return;
    }
    if (mode == 2 && w(p, 14) == 1 && w(p, 15) == 1 && w(p, 17) == 1) {
      conv1x1(p, mode, r0 * w(p, 12), r1 * w(p, 12));
      return;
    }
  }
  const wts = wp(p, 1), bias = wp(p, 2), output = wp(p, 3), mult = wp(p, 4), shift = wp(p, 5), col = threadScratch(wp(p, 6));
  const outH = w(p, 11), outW = w(p, 12), outC = w(p, 13);
  const fH = w(p, 14), fW = w(p, 15), fic = w(p, 16), groups = w(p, 17);
  const outOff = w(p, 25), lo = w(p, 26), hi = w(p, 27), kpad = w(p, 28), rq = wp(p, 29);
  const k = fH * fW * fic;
  const fpg = outC / groups;
  const wide = mode != 0;
  const osz: usize = wide ? 2 : 1;
  const rowStride = <usize>kpad;
  // The padding tail of the row stays zero for the whole call.
  for (let i = k; i < kpad; i++) store<i16>(col + (<usize>i << 1), 0);
  let dstPix = output + <usize>(r0 * outW) * <usize>outC * osz;
  for (let row = r0; row < r1; row++) {
    const b = row / outH, oy = row % outH;
    {
      for (let ox = 0; ox < outW; ox++) {
        for (let g = 0; g < groups; g++) {
          im2col(p, col, b, oy, ox, g, wide);
          let oc = g * fpg;
          const ocEnd = oc + fpg;
          if (ASC_FEATURE_SIMD) {
            if (mode == 1) {
              // Four channels at a time, i64 sums widened every 1024 products.
              for (; oc + 4 <= ocEnd; oc += 4) {
                const w0 = wts + <usize>oc * rowStride, w1 = w0 + rowStride, w2 = w1 + rowStride, w3 = w2 + rowStride;
                let s0: i64 = 0, s1: i64 = 0, s2: i64 = 0, s3: i64 = 0;
                for (let k0 = 0; k0 < kpad; k0 += 1024) {
                  const k1 = min(k0 + 1024, kpad);
                  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
                  for (let kk = k0; kk < k1; kk += 8) {
                    const cv = v128.load(col + (<usize>kk << 1));
                    const u = <usize>kk;
                    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(cv, v128.load8x8_s(w0 + u)));
                    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(cv, v128.load8x8_s(w1 + u)));
                    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(cv, v128.load8x8_s(w2 + u)));
                    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(cv, v128.load8x8_s(w3 + u)));
                  }
                  s0 += hsum64(a0); s1 += hsum64(a1); s2 += hsum64(a2); s3 += hsum64(a3);
                }
                const d = dstPix + (<usize>oc << 1);
                outI16w(d, s0, bias, mult, shift, oc, lo, hi);
                outI16w(d + 2, s1, bias, mult, shift, oc + 1, lo, hi);
                outI16w(d + 4, s2, bias, mult, shift, oc + 2, lo, hi);
                outI16w(d + 6, s3, bias, mult, shift, oc + 3, lo, hi);
              }
            } else {
              // Four channels at a time sharing each load of the row.
              for (; oc + 4 <= ocEnd; oc += 4) {
                const w0 = wts + <usize>oc * rowStride, w1 = w0 + rowStride, w2 = w1 + rowStride, w3 = w2 + rowStride;
                let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
                for (let kk = 0; kk < kpad; kk += 8) {
                  const cv = v128.load(col + (<usize>kk << 1));
                  const u = <usize>kk;
                  a0 = i32x4.add(a0, i32x4.dot_i16x8_s(cv, v128.load8x8_s(w0 + u)));
                  a1 = i32x4.add(a1, i32x4.dot_i16x8_s(cv, v128.load8x8_s(w1 + u)));
                  a2 = i32x4.add(a2, i32x4.dot_i16x8_s(cv, v128.load8x8_s(w2 + u)));
                  a3 = i32x4.add(a3, i32x4.dot_i16x8_s(cv, v128.load8x8_s(w3 + u)));
                }
                const r = requant4(reduce4(a0, a1, a2, a3), oc, bias, rq, outC, outOff, lo, hi, mode != 0);
                if (mode == 0) storeI8x4(dstPix + <usize>oc, r);
                else storeI16x4(dstPix + (<usize>oc << 1), r);
              }
            }
          }
          for (; oc < ocEnd; oc++) {
            const wr = wts + <usize>oc * rowStride;
            const d = dstPix + <usize>oc * osz;
            if (mode == 0) outI8(d, dot32(col, wr, kpad), bias, mult, shift, oc, outOff, lo, hi);
            else if (mode == 1) outI16w(d, dot64(col, wr, kpad), bias, mult, shift, oc, lo, hi);
            else outI16n(d, dot32(col, wr, kpad), bias, mult, shift, oc, lo, hi);
          }
        }
        dstPix += <usize>outC * osz;
      }
    }
  }
}

// ---------------------------------------------------------------------------------
// DEPTHWISE_CONV_2D
//
// 111 DWCONV_I8, 112 DWCONV_I16. Record:
//   0 input  1 filter: int8 [1][fH][fW][outC] (the tensor itself)
//   2 bias: i32[outC] (111) or i64[outC] (112), zeros when the op has none
//   3 output  4 multipliers i32[outC]  5 shifts i32[outC]
//   6 batches  7 inH  8 inW  9 inC  10 outH  11 outW  12 outC  13 fH  14 fW
//   15 depth multiplier (outC = inC * dm; channel oc reads input channel oc / dm)
//   16 strideH  17 strideW  18 dilH  19 dilW  20 padH  21 padW
//   22 input offset (-zp; 0 for int16)  23 output zero point (0 for int16)
//   24 clamp min  25 clamp max  26 requant table (conv-requant.ts; 0 for 112)
//   27-31 (111 only; 0 for 112) for dwFast (conv-fast.ts): 27 weights (int16) with
//   channels in lanes and taps in pairs (0 when word 31 holds them), 28 bias + input offset × Σ weights, 29 a pixel of
//   input zero points, 30 scratch (tap offsets and addresses of one output pixel, then 64
//   bytes for dwRunF / dwEdgeF), 31 the 3x3 block data with the float64 output stage
//   (dwRunF / dwEdgeF in conv-fast.ts; 3x3 with depth multiplier 1 only) or 0
//
// Rows: dwRows(p, wide, r0, r1) computes output rows [r0, r1) of batches * outH; a
// thread-aware caller gives each thread its own copy of the scratch (word 30).
//
// Only the taps inside the image contribute. int8 with depth multiplier 1, or with eight
// outputs per input channel, runs dwFast (conv-fast.ts) for the full blocks of 8 output
// channels; the rest is below. The other SIMD path runs eight output channels
// [c, c + 8) at a time (c a multiple of 8), building the eight matching input values by
// input layout (xm): 0 dm == 1 (a plain load); 1 inC == 1 or dm a multiple of 8 (all
// eight read input channel c / dm: a splat); 2 dm == 2 and 3 dm == 4 (a byte shuffle of
// 4 or 2 input values). Other depth multipliers and channel tails are scalar.

// Eight output channels [c, c + 8) of one output pixel, taps [fy0, fy1) x [fx0, fx1),
// written to dst (the pixel's first output element).
@inline function dwChunk(input: usize, filter: usize, c: i32, pixBase: i32, inW: i32, inC: i32, outC: i32,
  fW: i32, dW: i32, dH: i32, iy0: i32, ix0: i32, fy0: i32, fy1: i32, fx0: i32, fx1: i32, off: i32,
  dst: usize, bias: usize, mult: usize, shift: usize, rq: usize, outOff: i32, qlo: i32, qhi: i32,
  wide: bool, xm: i32, dm: i32): void {
  let lo = i32x4.splat(0), hi = i32x4.splat(0);
  const vo = i16x8.splat(<i16>off);
  const ci = <usize>(c / dm);
  for (let fy = fy0; fy < fy1; fy++) {
    const rowE = (pixBase + iy0 + dH * fy) * inW;
    for (let fx = fx0; fx < fx1; fx++) {
      const e = <usize>((rowE + ix0 + dW * fx) * inC);
      let x: v128;
      if (wide) {
        const src = input + ((e + ci) << 1);
        if (xm == 0) x = v128.load(src);
        else if (xm == 1) x = i16x8.splat(load<i16>(src));
        else if (xm == 2) x = i8x16.swizzle(v128.load64_zero(src), i8x16(0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7));
        else x = i8x16.swizzle(v128.load32_zero(src), i8x16(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3));
      } else {
        const src = input + e + ci;
        if (xm == 0) x = i16x8.add(v128.load8x8_s(src), vo);
        else if (xm == 1) x = i16x8.splat(<i16>(<i32>load<i8>(src) + off));
        else if (xm == 2) x = i16x8.add(i16x8.extend_low_i8x16_s(i8x16.swizzle(v128.load32_zero(src), i8x16(0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0))), vo);
        else x = i16x8.add(i16x8.extend_low_i8x16_s(i8x16.swizzle(v128.load16_splat(src), i8x16(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0))), vo);
      }
      const wv = v128.load8x8_s(filter + <usize>((fy * fW + fx) * outC + c));
      lo = i32x4.add(lo, i32x4.extmul_low_i16x8_s(x, wv));
      hi = i32x4.add(hi, i32x4.extmul_high_i16x8_s(x, wv));
    }
  }
  if (wide) {
    const d = dst + (<usize>c << 1);
    outI16w(d, <i64>i32x4.extract_lane(lo, 0), bias, mult, shift, c, qlo, qhi);
    outI16w(d + 2, <i64>i32x4.extract_lane(lo, 1), bias, mult, shift, c + 1, qlo, qhi);
    outI16w(d + 4, <i64>i32x4.extract_lane(lo, 2), bias, mult, shift, c + 2, qlo, qhi);
    outI16w(d + 6, <i64>i32x4.extract_lane(lo, 3), bias, mult, shift, c + 3, qlo, qhi);
    outI16w(d + 8, <i64>i32x4.extract_lane(hi, 0), bias, mult, shift, c + 4, qlo, qhi);
    outI16w(d + 10, <i64>i32x4.extract_lane(hi, 1), bias, mult, shift, c + 5, qlo, qhi);
    outI16w(d + 12, <i64>i32x4.extract_lane(hi, 2), bias, mult, shift, c + 6, qlo, qhi);
    outI16w(d + 14, <i64>i32x4.extract_lane(hi, 3), bias, mult, shift, c + 7, qlo, qhi);
  } else {
    storeI8x4(dst + <usize>c, requant4(lo, c, bias, rq, outC, outOff, qlo, qhi, false));
    storeI8x4(dst + <usize>c + 4, requant4(hi, c + 4, bias, rq, outC, outOff, qlo, qhi, false));
  }
}

// Scalar sum for one output channel over the taps inside the image.
@inline function dwOne32(input: usize, filter: usize, oc: i32, ic: i32, pixBase: i32, inW: i32, inC: i32, outC: i32,
  fW: i32, dW: i32, dH: i32, iy0: i32, ix0: i32, fy0: i32, fy1: i32, fx0: i32, fx1: i32, off: i32): i32 {
  let acc = 0;
  for (let fy = fy0; fy < fy1; fy++) {
    const rowE = (pixBase + iy0 + dH * fy) * inW;
    for (let fx = fx0; fx < fx1; fx++) {
      const x = <i32>load<i8>(input + <usize>((rowE + ix0 + dW * fx) * inC + ic));
      acc += <i32>load<i8>(filter + <usize>((fy * fW + fx) * outC + oc)) * (x + off);
    }
  }
  return acc;
}

@inline function dwOne64(input: usize, filter: usize, oc: i32, ic: i32, pixBase: i32, inW: i32, inC: i32, outC: i32,
  fW: i32, dW: i32, dH: i32, iy0: i32, ix0: i32, fy0: i32, fy1: i32, fx0: i32, fx1: i32): i64 {
  let acc: i64 = 0;
  for (let fy = fy0; fy < fy1; fy++) {
    const rowE = (pixBase + iy0 + dH * fy) * inW;
    for (let fx = fx0; fx < fx1; fx++) {
      const x = <i32>load<i16>(input + (<usize>((rowE + ix0 + dW * fx) * inC + ic) << 1));
      acc += <i64>(<i32>load<i8>(filter + <usize>((fy * fW + fx) * outC + oc)) * x);
    }
  }
  return acc;
}

// First tap index t in [0, n) with origin + d*t >= 0.
@inline function firstInside(origin: i32, d: i32, n: i32): i32 {
  let t = 0;
  if (origin < 0) {
    t = (-origin + d - 1) / d;
    if (t > n) t = n;
  }
  return t;
}

// One past the last tap index t in [0, n) with origin + d*t < size.
@inline function endInside(origin: i32, d: i32, n: i32, size: i32): i32 {
  if (origin >= size) return 0;
  const t = (size - 1 - origin) / d + 1;
  return t < n ? t : n;
}

function dwRows(p: usize, wide: bool, r0: i32, r1: i32): void {
  if (r0 >= r1) return;
  const input = wp(p, 0), filter = wp(p, 1), bias = wp(p, 2), output = wp(p, 3), mult = wp(p, 4), shift = wp(p, 5);
  const inH = w(p, 7), inW = w(p, 8), inC = w(p, 9), outH = w(p, 10), outW = w(p, 11), outC = w(p, 12);
  const fH = w(p, 13), fW = w(p, 14), dm = w(p, 15);
  const sH = w(p, 16), sW = w(p, 17), dH = w(p, 18), dW = w(p, 19), padH = w(p, 20), padW = w(p, 21);
  const off = w(p, 22), outOff = w(p, 23), lo = w(p, 24), hi = w(p, 25), rq = wp(p, 26);
  const osz: usize = wide ? 2 : 1;
  // Lane sums stay exact for int16 data up to 512 taps (|w·x| <= 2^22).
  const xm = dm == 1 ? 0 : (inC == 1 || (dm & 7) == 0) ? 1 : dm == 2 ? 2 : dm == 4 ? 3 : -1;
  let vecOk = ASC_FEATURE_SIMD && xm >= 0 && (!wide || fH * fW <= 256);
  let c0 = 0;
  if (ASC_FEATURE_SIMD) {
    if (!wide && (xm == 0 || xm == 1)) {
      // Full blocks of 8 channels in conv-fast.ts; the rest below.
      c0 = dwFast(p, xm, r0, r1);
      if (c0 == outC) return;
      vecOk = false;
    }
  }
  let dstPix = output + <usize>(r0 * outW) * <usize>outC * osz;
  for (let row = r0; row < r1; row++) {
    const b = row / outH, oy = row % outH;
    const pixBase = b * inH;
    {
      const iy0 = oy * sH - padH;
      const fy0 = firstInside(iy0, dH, fH), fy1 = endInside(iy0, dH, fH, inH);
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * sW - padW;
        const fx0 = firstInside(ix0, dW, fW), fx1 = endInside(ix0, dW, fW, inW);
        let c = c0;
        if (ASC_FEATURE_SIMD) {
          if (vecOk) {
            for (; c + 8 <= outC; c += 8) {
              if (wide) {
                if (xm == 0) dwChunk(input, filter, c, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off, dstPix, bias, mult, shift, rq, outOff, lo, hi, true, 0, dm);
                else if (xm == 1) dwChunk(input, filter, c, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off, dstPix, bias, mult, shift, rq, outOff, lo, hi, true, 1, dm);
                else if (xm == 2) dwChunk(input, filter, c, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off, dstPix, bias, mult, shift, rq, outOff, lo, hi, true, 2, dm);
                else dwChunk(input, filter, c, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off, dstPix, bias, mult, shift, rq, outOff, lo, hi, true, 3, dm);
              } else {
                if (xm == 0) dwChunk(input, filter, c, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off, dstPix, bias, mult, shift, rq, outOff, lo, hi, false, 0, dm);
                else if (xm == 1) dwChunk(input, filter, c, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off, dstPix, bias, mult, shift, rq, outOff, lo, hi, false, 1, dm);
                else if (xm == 2) dwChunk(input, filter, c, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off, dstPix, bias, mult, shift, rq, outOff, lo, hi, false, 2, dm);
                else dwChunk(input, filter, c, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off, dstPix, bias, mult, shift, rq, outOff, lo, hi, false, 3, dm);
              }
            }
          }
        }
        for (; c < outC; c++) {
          const ic = c / dm;
          if (wide) {
            const acc = dwOne64(input, filter, c, ic, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1);
            outI16w(dstPix + (<usize>c << 1), acc, bias, mult, shift, c, lo, hi);
          } else {
            const acc = dwOne32(input, filter, c, ic, pixBase, inW, inC, outC, fW, dW, dH, iy0, ix0, fy0, fy1, fx0, fx1, off);
            outI8(dstPix + <usize>c, acc, bias, mult, shift, c, outOff, lo, hi);
          }
        }
        dstPix += <usize>outC * osz;
      }
    }
  }
}

// Returns false for an id this family does not know.
// (One statement per case, using only p and id: the ahead-of-time compiler copies them,
// src/compile/codegen.ts.)
export function runConv(id: i32, p: usize): bool {
  switch (id) {
    case 101: convRows(p, 0, 0, convRowCount(id, p)); break;
    case 102: convRows(p, 1, 0, convRowCount(id, p)); break;
    case 103: convRows(p, 2, 0, convRowCount(id, p)); break;
    case 111: dwRows(p, false, 0, convRowCount(id, p)); break;
    case 112: dwRows(p, true, 0, convRowCount(id, p)); break;
    default: return false;
  }
  return true;
}

// Output rows of the record: batches * outH (both kernels of the family).
export function convRowCount(id: i32, p: usize): i32 {
  return id >= 111 ? w(p, 6) * w(p, 10) : w(p, 7) * w(p, 11);
}

// Output rows [r0, r1) of the op; false for an id this family does not know.
export function runConvRows(id: i32, p: usize, r0: i32, r1: i32): bool {
  switch (id) {
    case 101: convRows(p, 0, r0, r1); break;
    case 102: convRows(p, 1, r0, r1); break;
    case 103: convRows(p, 2, r0, r1); break;
    case 111: dwRows(p, false, r0, r1); break;
    case 112: dwRows(p, true, r0, r1); break;
    default: return false;
  }
  return true;
}
