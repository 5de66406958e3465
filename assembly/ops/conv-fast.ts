// SIMD kernels of the conv family for int8 data with the output channels in vector
// lanes: 1x1 CONV_2D without groups, and DEPTHWISE_CONV_2D whose channels are a plain
// load (depth multiplier 1) or a broadcast (one input channel per 8 outputs). Record
// words: src/runtime/ops/conv.ts (conv 30, 31; depthwise 26-30).
//
// Both multiply int16 pairs (i32x4.dot_i16x8_s) against weights packed at prepare time
// as (w(oc, i), w(oc, i+1)) per lane, with the input offset folded into the bias, so the
// int8 input is used as it is; i32 sums wrap as the reference's accumulator does.
import { w, wp } from '../fixedpoint';
import { anyLeft, requantV, rqRmin, rqSpread, storeI8x8 } from './conv-requant';
import { threadScratch } from '../thread';

// Eight results of one pixel: all of them, or the first n (< 8).
@inline function store8(dst: usize, a: v128, b: v128, n: i32): void {
  if (n >= 8) {
    storeI8x8(dst, a, b);
  } else {
    const h = i16x8.narrow_i32x4_s(a, b);
    const v = i8x16.narrow_i16x8_s(h, h);
    const bits = i64x2.extract_lane(v, 0);
    for (let i = 0; i < n; i++) store<i8>(dst + <usize>i, <i8>(bits >> (<i64>i << 3)));
  }
}

// Input values k..k+7 of the row at src as i16x8, reading only the first n (< 8);
// the rest are zero.
@inline function loadTail(src: usize, n: i32): v128 {
  let v = i16x8.splat(0);
  if (n > 0) v = i16x8.replace_lane(v, 0, <i16>load<i8>(src));
  if (n > 1) v = i16x8.replace_lane(v, 1, <i16>load<i8>(src, 1));
  if (n > 2) v = i16x8.replace_lane(v, 2, <i16>load<i8>(src, 2));
  if (n > 3) v = i16x8.replace_lane(v, 3, <i16>load<i8>(src, 3));
  if (n > 4) v = i16x8.replace_lane(v, 4, <i16>load<i8>(src, 4));
  if (n > 5) v = i16x8.replace_lane(v, 5, <i16>load<i8>(src, 5));
  if (n > 6) v = i16x8.replace_lane(v, 6, <i16>load<i8>(src, 6));
  return v;
}

// ---------------------------------------------------------------------------------
// 1x1 CONV_2D, int8 (kernel 101 with fH = fW = 1 and one group).
// Packed weights (word 31): per block of 8 output channels, kpad/2 pairs of two vectors
// (stored as int8, widened to int16 by the load).

// One row of count output pixels (input pixels pixStride bytes apart, outputs packed
// from dst): eight output channels at a time for four pixels, then the last pixels one
// by one. Channels past outC in the last block are computed (zero weights) but not stored.
@inline function rows1x1(src: usize, pixStride: usize, count: i32, dst: usize, p: usize, left: bool): void {
  const wq = wp(p, 31), bias = wp(p, 30), rq = wp(p, 29);
  const inC = w(p, 10), outC = w(p, 13), kpad = w(p, 28);
  const np = (outC + 7) & ~7;
  const stride = <usize>np << 2;
  const rmin = rqRmin(rq, np), spread = rqSpread(rq, np);
  const outOff = i32x4.splat(w(p, 25)), lo = i32x4.splat(w(p, 26)), hi = i32x4.splat(w(p, 27));
  const k8 = inC & ~7, kt = inC - k8;
  const blockBytes = <usize>kpad << 3;
  const dstStride = <usize>outC;
  let q = 0;
  // Four pixels at a time: their inputs are widened to int16 into the scratch row
  // (pixel i at i * kpad * 2), then each pair of inputs is a 32-bit broadcast load.
  const scr = threadScratch(wp(p, 6));
  const rowB = <usize>kpad << 1;
  for (; q + 4 <= count; q += 4) {
    const s0 = src + <usize>q * pixStride;
    for (let i = 0; i < 4; i++) {
      const si = s0 + <usize>i * pixStride, di = scr + <usize>i * rowB;
      for (let k = 0; k < k8; k += 8) v128.store(di + (<usize>k << 1), v128.load8x8_s(si + <usize>k));
      if (kt) v128.store(di + (<usize>k8 << 1), loadTail(si + <usize>k8, kt));
    }
    const d0 = dst + <usize>q * dstStride;
    for (let oc = 0; oc < outC; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      let a0 = i32x4.splat(0), b0 = i32x4.splat(0), a1 = i32x4.splat(0), b1 = i32x4.splat(0);
      let a2 = i32x4.splat(0), b2 = i32x4.splat(0), a3 = i32x4.splat(0), b3 = i32x4.splat(0);
      let x = scr;
      const xe = scr + rowB;
      for (; x < xe; x += 4) {
        const w0 = v128.load8x8_s(wv), w1 = v128.load8x8_s(wv, 8);
        let t = v128.load32_splat(x);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(t, w0)); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(t, w1));
        t = v128.load32_splat(x + rowB);
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(t, w0)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(t, w1));
        t = v128.load32_splat(x + 2 * rowB);
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(t, w0)); b2 = i32x4.add(b2, i32x4.dot_i16x8_s(t, w1));
        t = v128.load32_splat(x + 3 * rowB);
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(t, w0)); b3 = i32x4.add(b3, i32x4.dot_i16x8_s(t, w1));
        wv += 16;
      }
      const o4 = <usize>oc << 2;
      const ba = v128.load(bias + o4), bb = v128.load(bias + o4 + 16);
      const ta = rq + o4, tb = ta + 16;
      const n = outC - oc;
      const d = d0 + <usize>oc;
      store8(d, requantV(i32x4.add(a0, ba), ta, stride, outOff, lo, hi, left, rmin, spread), requantV(i32x4.add(b0, bb), tb, stride, outOff, lo, hi, left, rmin, spread), n);
      store8(d + dstStride, requantV(i32x4.add(a1, ba), ta, stride, outOff, lo, hi, left, rmin, spread), requantV(i32x4.add(b1, bb), tb, stride, outOff, lo, hi, left, rmin, spread), n);
      store8(d + 2 * dstStride, requantV(i32x4.add(a2, ba), ta, stride, outOff, lo, hi, left, rmin, spread), requantV(i32x4.add(b2, bb), tb, stride, outOff, lo, hi, left, rmin, spread), n);
      store8(d + 3 * dstStride, requantV(i32x4.add(a3, ba), ta, stride, outOff, lo, hi, left, rmin, spread), requantV(i32x4.add(b3, bb), tb, stride, outOff, lo, hi, left, rmin, spread), n);
    }
  }
  for (; q < count; q++) {
    const s0 = src + <usize>q * pixStride;
    const d0 = dst + <usize>q * dstStride;
    for (let oc = 0; oc < outC; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      let a0 = i32x4.splat(0), b0 = i32x4.splat(0);
      for (let k = 0; k < kpad; k += 8) {
        const x0 = k < k8 ? v128.load8x8_s(s0 + <usize>k) : loadTail(s0 + <usize>k, kt);
        let t = i32x4.shuffle(x0, x0, 0, 0, 0, 0);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv))); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv, 8)));
        t = i32x4.shuffle(x0, x0, 1, 1, 1, 1);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv, 16))); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv, 24)));
        t = i32x4.shuffle(x0, x0, 2, 2, 2, 2);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv, 32))); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv, 40)));
        t = i32x4.shuffle(x0, x0, 3, 3, 3, 3);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv, 48))); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv, 56)));
        wv += 64;
      }
      const o4 = <usize>oc << 2;
      store8(d0 + <usize>oc,
        requantV(i32x4.add(a0, v128.load(bias + o4)), rq + o4, stride, outOff, lo, hi, left, rmin, spread),
        requantV(i32x4.add(b0, v128.load(bias + o4 + 16)), rq + o4 + 16, stride, outOff, lo, hi, left, rmin, spread), outC - oc);
    }
  }
}

// Output rows [r0, r1) (a row is one (batch, out_y) pair).
export function conv1x1FastRows(p: usize, r0: i32, r1: i32): void {
  const input = wp(p, 0), output = wp(p, 3);
  const batches = w(p, 7), inH = w(p, 8), inW = w(p, 9), inC = w(p, 10);
  const outH = w(p, 11), outW = w(p, 12), outC = w(p, 13);
  const sH = w(p, 18), sW = w(p, 19);
  if (sH == 1 && sW == 1) {
    // Every input pixel in order (1x1 with stride 1 has no padding).
    const q0 = <usize>r0 * <usize>outW, n = (r1 - r0) * outW;
    if (anyLeft(wp(p, 29), (outC + 7) & ~7)) rows1x1(input + q0 * <usize>inC, <usize>inC, n, output + q0 * <usize>outC, p, true);
    else rows1x1(input + q0 * <usize>inC, <usize>inC, n, output + q0 * <usize>outC, p, false);
    return;
  }
  const left = anyLeft(wp(p, 29), (outC + 7) & ~7);
  let dst = output + <usize>r0 * <usize>(outW * outC);
  for (let r = r0; r < r1; r++) {
    const b = r / outH, oy = r % outH;
    {
      const src = input + <usize>(((b * inH + oy * sH) * inW) * inC);
      rows1x1(src, <usize>(sW * inC), outW, dst, p, left);
      dst += <usize>(outW * outC);
    }
  }
}

// ---------------------------------------------------------------------------------
// DEPTHWISE_CONV_2D, int8 (kernel 111), xm 0 (depth multiplier 1: eight channels are
// one 8-byte load) or 1 (eight outputs share one input channel: a broadcast). Words:
// 27 packed weights (taps in pairs, tp = taps rounded up to even), 28 folded bias,
// 29 a pixel of input zero points, 30 scratch for tp addresses.
// Each output pixel gets tp tap addresses: its taps inside the image point at the
// input, the others (and the odd tap's partner, whose weights are zero) at the zero
// point pixel. Channels past the last full block of 8 are left to the caller.

@inline function dwPixel(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32,
  wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128, xm: i32, left: bool): void {
  const pairBytes = <usize>tp << 3;
  const np = <i32>(stride >> 2);
  const rmin = rqRmin(rq, np), spread = rqSpread(rq, np);
  for (let blk = 0; blk < nblk; blk++) {
    const c = blk << 3;
    const ci = <usize>(xm == 0 ? c : c / dm);
    let a = i32x4.splat(0), b = i32x4.splat(0);
    let wv = wq + <usize>blk * pairBytes;
    for (let j = 0; j < tp; j += 2) {
      const pa = base + <usize>load<i32>(offs + (<usize>j << 2)) + ci;
      const pb = base + <usize>load<i32>(offs + (<usize>j << 2), 4) + ci;
      if (xm == 0) {
        const xi = i8x16.shuffle(v128.load64_zero(pa), v128.load64_zero(pb), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(xi), v128.load8x8_s(wv)));
        b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(xi), v128.load8x8_s(wv, 8)));
      } else {
        const xs = i32x4.splat((<i32>load<i8>(pa) & 0xffff) | (<i32>load<i8>(pb) << 16));
        a = i32x4.add(a, i32x4.dot_i16x8_s(xs, v128.load8x8_s(wv)));
        b = i32x4.add(b, i32x4.dot_i16x8_s(xs, v128.load8x8_s(wv, 8)));
      }
      wv += 16;
    }
    const o4 = <usize>c << 2;
    storeI8x8(dst + <usize>c,
      requantV(i32x4.add(a, v128.load(bias + o4)), rq + o4, stride, outOff, lo, hi, left, rmin, spread),
      requantV(i32x4.add(b, v128.load(bias + o4 + 16)), rq + o4 + 16, stride, outOff, lo, hi, left, rmin, spread));
  }
}

// 3x3 filters, window inside the image: the nine tap offsets (o0..o8, from the window
// origin at base) stay in locals and the five tap pairs are unrolled. The ninth tap is
// paired with itself (its partner's weights are zero).
@inline function il(pa: usize, pb: usize): v128 {
  return i8x16.shuffle(v128.load64_zero(pa), v128.load64_zero(pb), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
// Two horizontally adjacent int8 inputs at pa as the int16 pair (x[pa], x[pa + 1]) in
// every 32-bit lane.
@inline function bc2(pa: usize): v128 {
  return i16x8.extend_low_i8x16_s(v128.load16_splat(pa));
}

// Position of tap t in the packed weights: 3x3 filters take the order
// 0 1 3 4 6 7 2 5 8 (src/runtime/ops/conv.ts), others their own.
@inline function slotOf(t: i32, is3x3: bool): i32 {
  if (!is3x3) return t;
  // t:    0 1 2 3 4 5 6 7 8
  // slot: 0 1 6 2 3 7 4 5 8
  return t == 2 ? 6 : t == 5 ? 7 : t < 2 ? t : t == 8 ? 8 : t < 5 ? t - 1 : t - 2;
}

@inline function bc(pa: usize, pb: usize): v128 {
  return i32x4.splat((<i32>load<i8>(pa) & 0xffff) | (<i32>load<i8>(pb) << 16));
}

@inline function dw3x3(base: usize, o0: usize, o1: usize, o2: usize, o3: usize, o4: usize, o5: usize, o6: usize, o7: usize, o8: usize,
  dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128,
  xm: i32, left: bool, rmin: i32, spread: i32, adj: bool): void {
  for (let blk = 0; blk < nblk; blk++) {
    const c = blk << 3;
    const p = base + <usize>(xm == 0 ? c : c / dm);
    const wv = wq + <usize>blk * 80;
    let a: v128, b: v128;
    if (xm == 0) {
      let x = il(p + o0, p + o1);
      a = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(x), v128.load8x8_s(wv));
      b = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(x), v128.load8x8_s(wv, 8));
      x = il(p + o2, p + o3);
      a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(x), v128.load8x8_s(wv, 16)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(x), v128.load8x8_s(wv, 24)));
      x = il(p + o4, p + o5);
      a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(x), v128.load8x8_s(wv, 32)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(x), v128.load8x8_s(wv, 40)));
      x = il(p + o6, p + o7);
      a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(x), v128.load8x8_s(wv, 48)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(x), v128.load8x8_s(wv, 56)));
      x = i16x8.extend_low_i8x16_s(v128.load64_zero(p + o8));
      // Tap 8 alone: its weights sit in the even int16 of each pair, the odd ones are 0,
      // so the pair (x, anything) works; use x's own lanes 0..3 / 4..7 spread to pairs.
      a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.shuffle(x, x, 0, 0, 1, 1, 2, 2, 3, 3), v128.load8x8_s(wv, 64)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.shuffle(x, x, 4, 4, 5, 5, 6, 6, 7, 7), v128.load8x8_s(wv, 72)));
    } else {
      let x = adj ? bc2(p + o0) : bc(p + o0, p + o1);
      a = i32x4.dot_i16x8_s(x, v128.load8x8_s(wv));
      b = i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 8));
      x = adj ? bc2(p + o2) : bc(p + o2, p + o3);
      a = i32x4.add(a, i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 16)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 24)));
      x = adj ? bc2(p + o4) : bc(p + o4, p + o5);
      a = i32x4.add(a, i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 32)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 40)));
      x = bc(p + o6, p + o7);
      a = i32x4.add(a, i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 48)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 56)));
      x = i32x4.splat(<i32>load<i8>(p + o8) & 0xffff);
      a = i32x4.add(a, i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 64)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(x, v128.load8x8_s(wv, 72)));
    }
    const o4b = <usize>c << 2;
    storeI8x8(dst + <usize>c,
      requantV(i32x4.add(a, v128.load(bias + o4b)), rq + o4b, stride, outOff, lo, hi, left, rmin, spread),
      requantV(i32x4.add(b, v128.load(bias + o4b + 16)), rq + o4b + 16, stride, outOff, lo, hi, left, rmin, spread));
  }
}

// A run of n output pixels of one row, all with the window inside the image.
@inline function dwRun(base: usize, step: usize, n: i32, o0: usize, o1: usize, o2: usize, o3: usize, o4: usize, o5: usize, o6: usize, o7: usize, o8: usize,
  dst: usize, osz: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128,
  xm: i32, left: bool, rmin: i32, spread: i32, adj: bool): void {
  for (let i = 0; i < n; i++) {
    dw3x3(base, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, xm, left, rmin, spread, adj);
    base += step;
    dst += osz;
  }
}

// Output rows [r0, r1) (a row is one (batch, out_y) pair). Returns the number of
// channels done per pixel (a multiple of 8).
export function dwFastRows(p: usize, xm: i32, r0: i32, r1: i32): i32 {
  const input = wp(p, 0), output = wp(p, 3);
  const batches = w(p, 6), inH = w(p, 7), inW = w(p, 8), inC = w(p, 9), outH = w(p, 10), outW = w(p, 11), outC = w(p, 12);
  const fH = w(p, 13), fW = w(p, 14), dm = w(p, 15);
  const sH = w(p, 16), sW = w(p, 17), dH = w(p, 18), dW = w(p, 19), padH = w(p, 20), padW = w(p, 21);
  const rq = wp(p, 26), wq = wp(p, 27), bias = wp(p, 28), zpPix = wp(p, 29), scratch = threadScratch(wp(p, 30));
  const outOff = i32x4.splat(w(p, 23)), lo = i32x4.splat(w(p, 24)), hi = i32x4.splat(w(p, 25));
  const stride = <usize>((outC + 7) & ~7) << 2;
  const nblk = outC >> 3;
  if (nblk == 0) return 0;
  const left = anyLeft(rq, (outC + 7) & ~7);
  const taps = fH * fW, tp = taps + (taps & 1);
  const is3x3 = fH == 3 && fW == 3;
  // Horizontal tap neighbours are adjacent bytes (one input channel, no dilation).
  const adj = inC == 1 && dW == 1;
  // scratch: tp offsets of the taps from the window origin, then tp addresses, both in
  // the packed weights' tap order (slotOf).
  const rel = scratch, abs = scratch + (<usize>tp << 2);
  for (let fy = 0; fy < fH; fy++) {
    for (let fx = 0; fx < fW; fx++) store<i32>(rel + (<usize>slotOf(fy * fW + fx, is3x3) << 2), (fy * dH * inW + fx * dW) * inC);
  }
  if (taps & 1) store<i32>(rel + (<usize>taps << 2), 0);
  const osz = <usize>outC;
  const np = (outC + 7) & ~7;
  const rmin = rqRmin(rq, np), spread = rqSpread(rq, np);
  const o0 = <usize>load<i32>(rel), o1 = <usize>load<i32>(rel, 4), o2 = <usize>load<i32>(rel, 8);
  const o3 = <usize>load<i32>(rel, 12), o4 = <usize>load<i32>(rel, 16), o5 = <usize>load<i32>(rel, 20);
  const o6 = <usize>load<i32>(rel, 24), o7 = <usize>load<i32>(rel, 28), o8 = <usize>load<i32>(rel, 32);
  let dst = output + <usize>r0 * <usize>outW * osz;
  for (let r = r0; r < r1; r++) {
    const b = r / outH, oy = r % outH;
    {
      const iy0 = oy * sH - padH;
      const rowIn = iy0 >= 0 && iy0 + (fH - 1) * dH < inH;
      // The run of output pixels whose 3x3 window is inside the image: [oxA, oxB).
      const oxA = (padW + sW - 1) / sW;
      const lastIn = inW - 1 - 2 * dW + padW;
      let oxB = lastIn >= 0 ? lastIn / sW + 1 : 0;
      if (oxB > outW) oxB = outW;
      for (let ox = 0; ox < outW; ox++) {
        if (is3x3 && rowIn && ox == oxA && oxB > oxA) {
          const n = oxB - oxA;
          const base = input + <usize>(((b * inH + iy0) * inW + ox * sW - padW) * inC);
          const step = <usize>(sW * inC);
          if (xm == 0) {
            if (left) dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, true, rmin, spread, false);
            else dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, false, rmin, spread, false);
          } else {
            if (adj) {
              if (left) dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, true, rmin, spread, true);
              else dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, false, rmin, spread, true);
            } else {
              if (left) dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, true, rmin, spread, false);
              else dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, false, rmin, spread, false);
            }
          }
          dst += <usize>n * osz;
          ox = oxB - 1;
          continue;
        }
        const ix0 = ox * sW - padW;
        if (rowIn && ix0 >= 0 && ix0 + (fW - 1) * dW < inW) {
          const base = input + <usize>(((b * inH + iy0) * inW + ix0) * inC);
          if (xm == 0) {
            if (left) dwPixel(base, rel, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, true);
            else dwPixel(base, rel, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, false);
          } else {
            if (left) dwPixel(base, rel, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, true);
            else dwPixel(base, rel, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, false);
          }
        } else {
          for (let fy = 0; fy < fH; fy++) {
            const iy = iy0 + fy * dH;
            for (let fx = 0; fx < fW; fx++) {
              const ix = ix0 + fx * dW;
              const inside = iy >= 0 && iy < inH && ix >= 0 && ix < inW;
              store<u32>(abs + (<usize>slotOf(fy * fW + fx, is3x3) << 2), inside ? <u32>(input + <usize>(((b * inH + iy) * inW + ix) * inC)) : <u32>zpPix);
            }
          }
          if (taps & 1) store<u32>(abs + (<usize>taps << 2), <u32>zpPix);
          if (xm == 0) {
            if (left) dwPixel(0, abs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, true);
            else dwPixel(0, abs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, false);
          } else {
            if (left) dwPixel(0, abs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, true);
            else dwPixel(0, abs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, false);
          }
        }
        dst += osz;
      }
    }
  }
  return nblk << 3;
}
