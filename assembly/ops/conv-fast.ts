// SIMD kernel of DEPTHWISE_CONV_2D for int8 data with the output channels in vector
// lanes, whose channels are a plain load (depth multiplier 1) or a broadcast (one input
// channel per 8 outputs). Record words: src/runtime/ops/conv.ts (depthwise 26-31).
// (CONV_2D without groups: conv-gemm.ts.)
//
// It multiplies int16 pairs (i32x4.dot_i16x8_s) against weights packed at prepare time
// as (w(oc, i), w(oc, i+1)) per lane, with the input offset folded into the bias, so the
// int8 input is used as it is; i32 sums wrap as the reference's accumulator does.
import { w, wp } from '../fixedpoint';
import { anyLeft, fHit, finish8, fNone, pixF2, pixFQ, pixQ, requantQ, rqFast, selTopBit, stageG, stageK, storeH8 } from './conv-requant';
import { threadScratch } from '../thread';
import { ddot, probeHolds } from './conv-gemm';

// ---------------------------------------------------------------------------------
// DEPTHWISE_CONV_2D, int8 (kernel 111), xm 0 (depth multiplier 1: eight channels are
// one 8-byte load) or 1 (eight outputs share one input channel: a broadcast). Words:
// 27 packed weights (int16; taps in pairs, tp = taps rounded up to even), 28 folded bias,
// 29 a pixel of input zero points, 30 scratch for tp offsets and tp addresses (and 64
// bytes for the store fences of dwRunF / dwEdgeF), 31 3x3 block data or 0 (below), 32-34
// the relaxed build's tap quads, probe and layout for a direct relaxed dot layout, or 0.
// Each output pixel gets tp tap addresses: its taps inside the image point at the
// input, the others (and the odd tap's partner, whose weights are zero) at the zero
// point pixel. Channels past the last full block of 8 are left to the caller.

// dwPixelT as plain functions, one per input layout and left-shift case: a call per
// output pixel keeps the caller's row variables out of the tap loop's registers.
function dwPixel0L(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128): void {
  dwPixelT(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, true, false);
}
function dwPixel0R(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128): void {
  dwPixelT(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, false, false);
}
function dwPixel1L(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128): void {
  dwPixelT(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, true, false);
}
function dwPixel1R(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128): void {
  dwPixelT(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, false, false);
}
function dwPixel1LA(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128): void {
  dwPixelT(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, true, true);
}
function dwPixel1RA(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128): void {
  dwPixelT(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, false, true);
}
@inline function dwPixel(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32,
  wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128, xm: i32, left: bool): void {
  if (xm == 0) {
    if (left) dwPixel0L(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi);
    else dwPixel0R(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi);
  } else {
    if (left) dwPixel1L(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi);
    else dwPixel1R(base, offs, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi);
  }
}

// The pairs (x[i], y[i]) of channels 0..3 and 4..7 of two int16 vectors.
@inline function lo4(x: v128, y: v128): v128 {
  return i16x8.shuffle(x, y, 0, 8, 1, 9, 2, 10, 3, 11);
}
@inline function hi4(x: v128, y: v128): v128 {
  return i16x8.shuffle(x, y, 4, 12, 5, 13, 6, 14, 7, 15);
}

// adj (xm 1 only): every tap pair is two horizontally adjacent bytes (one input channel,
// no horizontal dilation, an even filter width, window inside the image): one 16-bit load.
@inline function dwPixelT(base: usize, offs: usize, tp: i32, dst: usize, nblk: i32, dm: i32,
  wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128, xm: i32, left: bool, adj: bool): void {
  const pairBytes = <usize>tp << 4;
  const np = <i32>(stride >> 2);
  const fast = rqFast(rq, np);
  for (let blk = 0; blk < nblk; blk++) {
    const c = blk << 3;
    const ci = <usize>(xm == 0 ? c : c / dm);
    let a = i32x4.splat(0), b = i32x4.splat(0);
    let wv = wq + <usize>blk * pairBytes;
    for (let j = 0; j < tp; j += 2) {
      const pa = base + <usize>load<i32>(offs + (<usize>j << 2)) + ci;
      if (xm == 0) {
        const pb = base + <usize>load<i32>(offs + (<usize>j << 2), 4) + ci;
        const xa = v128.load8x8_s(pa), xb = v128.load8x8_s(pb);
        a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(wv)));
        b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(wv, 16)));
      } else if (adj) {
        const xs = bc2(pa);
        a = i32x4.add(a, i32x4.dot_i16x8_s(xs, v128.load(wv)));
        b = i32x4.add(b, i32x4.dot_i16x8_s(xs, v128.load(wv, 16)));
      } else {
        const pb = base + <usize>load<i32>(offs + (<usize>j << 2), 4) + ci;
        const xs = i32x4.splat((<i32>load<i8>(pa) & 0xffff) | (<i32>load<i8>(pb) << 16));
        a = i32x4.add(a, i32x4.dot_i16x8_s(xs, v128.load(wv)));
        b = i32x4.add(b, i32x4.dot_i16x8_s(xs, v128.load(wv, 16)));
      }
      wv += 32;
    }
    const o4 = <usize>c << 2;
    storeH8(dst + <usize>c, finish8(
      requantQ(i32x4.add(a, v128.load(bias + o4)), rq + o4, stride, left, fast >= 0, 22),
      requantQ(i32x4.add(b, v128.load(bias + o4 + 16)), rq + o4 + 16, stride, left, fast >= 0, 22), outOff, lo, hi));
  }
}

// 3x3 filters, window inside the image: the nine tap offsets (o0..o8, from the window
// origin at base) stay in locals and the five tap pairs are unrolled. The ninth tap is
// paired with itself (its partner's weights are zero).
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
  xm: i32, left: bool, fast: i32, adj: bool): void {
  for (let blk = 0; blk < nblk; blk++) {
    const c = blk << 3;
    const p = base + <usize>(xm == 0 ? c : c / dm);
    const wv = wq + <usize>blk * 160;
    let a: v128, b: v128;
    if (xm == 0) {
      let xa = v128.load8x8_s(p + o0), xb = v128.load8x8_s(p + o1);
      a = i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(wv));
      b = i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(wv, 16));
      xa = v128.load8x8_s(p + o2); xb = v128.load8x8_s(p + o3);
      a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(wv, 32)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(wv, 48)));
      xa = v128.load8x8_s(p + o4); xb = v128.load8x8_s(p + o5);
      a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(wv, 64)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(wv, 80)));
      xa = v128.load8x8_s(p + o6); xb = v128.load8x8_s(p + o7);
      a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(wv, 96)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(wv, 112)));
      // Tap 8 alone: its weights sit in the even int16 of each pair, the odd ones are 0,
      // so the pair (x, x) works.
      xa = v128.load8x8_s(p + o8);
      a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xa), v128.load(wv, 128)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xa), v128.load(wv, 144)));
    } else {
      let x = adj ? bc2(p + o0) : bc(p + o0, p + o1);
      a = i32x4.dot_i16x8_s(x, v128.load(wv));
      b = i32x4.dot_i16x8_s(x, v128.load(wv, 16));
      x = adj ? bc2(p + o2) : bc(p + o2, p + o3);
      a = i32x4.add(a, i32x4.dot_i16x8_s(x, v128.load(wv, 32)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(x, v128.load(wv, 48)));
      x = adj ? bc2(p + o4) : bc(p + o4, p + o5);
      a = i32x4.add(a, i32x4.dot_i16x8_s(x, v128.load(wv, 64)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(x, v128.load(wv, 80)));
      x = bc(p + o6, p + o7);
      a = i32x4.add(a, i32x4.dot_i16x8_s(x, v128.load(wv, 96)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(x, v128.load(wv, 112)));
      x = i32x4.splat(<i32>load<i8>(p + o8) & 0xffff);
      a = i32x4.add(a, i32x4.dot_i16x8_s(x, v128.load(wv, 128)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(x, v128.load(wv, 144)));
    }
    const o4b = <usize>c << 2;
    storeH8(dst + <usize>c, finish8(
      requantQ(i32x4.add(a, v128.load(bias + o4b)), rq + o4b, stride, left, fast >= 0, 22),
      requantQ(i32x4.add(b, v128.load(bias + o4b + 16)), rq + o4b + 16, stride, left, fast >= 0, 22), outOff, lo, hi));
  }
}

// A run of n output pixels of one row, all with the window inside the image.
@inline function dwRun(base: usize, step: usize, n: i32, o0: usize, o1: usize, o2: usize, o3: usize, o4: usize, o5: usize, o6: usize, o7: usize, o8: usize,
  dst: usize, osz: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128,
  xm: i32, left: bool, fast: i32, adj: bool): void {
  for (let i = 0; i < n; i++) {
    dw3x3(base, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, xm, left, fast, adj);
    base += step;
    dst += osz;
  }
}

// A 3x3 window that crosses the image border: abs holds the nine tap addresses in slot
// order (taps outside the image at the zero point pixel); they serve as dw3x3's offsets
// from address 0.
@inline function dwEdge(abs: usize, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize,
  outOff: v128, lo: v128, hi: v128, fast: i32, xm: i32, left: bool): void {
  dw3x3(0, <usize>load<u32>(abs), <usize>load<u32>(abs, 4), <usize>load<u32>(abs, 8), <usize>load<u32>(abs, 12),
    <usize>load<u32>(abs, 16), <usize>load<u32>(abs, 20), <usize>load<u32>(abs, 24), <usize>load<u32>(abs, 28),
    <usize>load<u32>(abs, 32), dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, xm, left, fast, false);
}
function dwEdge0L(abs: usize, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128, fast: i32): void {
  dwEdge(abs, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, fast, 0, true);
}
function dwEdge0R(abs: usize, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128, fast: i32): void {
  dwEdge(abs, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, fast, 0, false);
}
function dwEdge1L(abs: usize, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128, fast: i32): void {
  dwEdge(abs, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, fast, 1, true);
}
function dwEdge1R(abs: usize, dst: usize, nblk: i32, dm: i32, wq: usize, bias: usize, rq: usize, stride: usize, outOff: v128, lo: v128, hi: v128, fast: i32): void {
  dwEdge(abs, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, fast, 1, false);
}

// 3x3 filters, depth multiplier 1, with block data (record word 31, written where the
// float32 output stage is exact for every accumulator; dwBlockData in
// src/runtime/ops/conv.ts): per block of 8 channels, 384 bytes: the block's packed weights
// (160 bytes, as word 27) | f32 M[8] | f32 C[8] (stageV, conv-requant.ts) | i32 folded
// bias[8] | the integer stage's i32 mult[8] | 2^left[8] | half[8] | 2^(31-right)[8] (as the
// requant table, with a stride of 32 bytes: requantQ, for the lanes the check sends back).
// One pointer walks all per-block constants and the loops are plain functions with few
// live values, so V8 keeps them in registers.
const DW_BLOCK: usize = 384;

// The output stage of one pixel's eight channels (a, b: accumulators with the bias) -> d.
@inline function outF1(a: v128, b: v128, q: usize, d: usize, zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128, fold: bool): void {
  pixFQ(a, b, q + 160, q + 256, 32, sg, mg, kz, zp, lo, hi, d, 8, fold);
}

// Eight channels of one output pixel: a0..a8 the nine taps' input addresses in the packed
// order (0 1 3 4 6 7 2 5 8), q the block data, d the output, sc 64 bytes of scratch.
// The stores to sc are fences for V8's code generator, which emits a block's loads
// before the arithmetic that consumes them: each store forces the arithmetic before it,
// so no more values are live at once than the 16 vector registers hold (without them,
// V8 spilled a third of the loaded vectors to the stack and read them back).
@inline function blockF(a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize, a7: usize, a8: usize,
  q: usize, d: usize, sc: usize, zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128): void {
  let xa = v128.load8x8_s(a0), xb = v128.load8x8_s(a1);
  let a = i32x4.add(v128.load(q, 224), i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(q)));
  let b = i32x4.add(v128.load(q, 240), i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(q, 16)));
  xa = v128.load8x8_s(a2); xb = v128.load8x8_s(a3);
  a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(q, 32)));
  b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(q, 48)));
  v128.store(sc, a);
  v128.store(sc, b, 16);
  xa = v128.load8x8_s(a4); xb = v128.load8x8_s(a5);
  a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(q, 64)));
  b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(q, 80)));
  xa = v128.load8x8_s(a6); xb = v128.load8x8_s(a7);
  a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xb), v128.load(q, 96)));
  b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xb), v128.load(q, 112)));
  // Tap 8 alone: its weights sit in the even int16 of each pair, the odd ones are 0.
  xa = v128.load8x8_s(a8);
  a = i32x4.add(a, i32x4.dot_i16x8_s(lo4(xa, xa), v128.load(q, 128)));
  b = i32x4.add(b, i32x4.dot_i16x8_s(hi4(xa, xa), v128.load(q, 144)));
  v128.store(sc, a);
  v128.store(sc, b, 16);
  outF1(a, b, q, d, zp, lo, hi, mg, sg, kz, false);
}

// The output stage of blockF2 and blockF2S1: sums aA, bA (first pixel's channels 0-3,
// 4-7) and aB, bB (second pixel's), bias included; the second pixel's output osz bytes
// after d.
@inline function outF2(aA: v128, bA: v128, aB: v128, bB: v128, q: usize, d: usize, osz: usize,
  zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128, fold: bool): void {
  const flag = pixF2(aA, bA, aB, bB, q + 160, 32, sg, mg, kz, i8x16.narrow_i16x8_s(lo, lo), i8x16.narrow_i16x8_s(hi, hi), d, d + osz, 8, fNone(), fold);
  if (fHit(flag)) {
    pixQ(aA, bA, q + 256, 32, true, false, zp, lo, hi, d, 8);
    pixQ(aB, bB, q + 256, 32, true, false, zp, lo, hi, d + osz, 8);
  }
}

// blockF2 for stride 1 (the second pixel one column to the right): the two windows span
// four columns, read once each (12 loads instead of 18). cs: between columns; rs: rows.
@inline function blockF2S1(p: usize, rs: usize, cs: usize, q: usize, d: usize, osz: usize, sc: usize,
  zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128): void {
  // Row 0: first pixel's pair (0,1) = columns 0,1; second pixel's = columns 1,2.
  let x0 = v128.load8x8_s(p), x1 = v128.load8x8_s(p + cs);
  const u2 = v128.load8x8_s(p + (cs << 1)), u3 = v128.load8x8_s(p + cs * 3);
  let w0 = v128.load(q), w1 = v128.load(q, 16);
  const ba = v128.load(q, 224), bb = v128.load(q, 240);
  let aA = i32x4.add(ba, i32x4.dot_i16x8_s(lo4(x0, x1), w0)), bA = i32x4.add(bb, i32x4.dot_i16x8_s(hi4(x0, x1), w1));
  let aB = i32x4.add(ba, i32x4.dot_i16x8_s(lo4(x1, u2), w0)), bB = i32x4.add(bb, i32x4.dot_i16x8_s(hi4(x1, u2), w1));
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  // Row 1: pairs (3,4); then the third column's pairs (2,5) = rows 0 and 1.
  const p1 = p + rs;
  x0 = v128.load8x8_s(p1); x1 = v128.load8x8_s(p1 + cs);
  let x2 = v128.load8x8_s(p1 + (cs << 1)), x3 = v128.load8x8_s(p1 + cs * 3);
  w0 = v128.load(q, 32); w1 = v128.load(q, 48);
  aA = i32x4.add(aA, i32x4.dot_i16x8_s(lo4(x0, x1), w0)); bA = i32x4.add(bA, i32x4.dot_i16x8_s(hi4(x0, x1), w1));
  aB = i32x4.add(aB, i32x4.dot_i16x8_s(lo4(x1, x2), w0)); bB = i32x4.add(bB, i32x4.dot_i16x8_s(hi4(x1, x2), w1));
  w0 = v128.load(q, 96); w1 = v128.load(q, 112);
  aA = i32x4.add(aA, i32x4.dot_i16x8_s(lo4(u2, x2), w0)); bA = i32x4.add(bA, i32x4.dot_i16x8_s(hi4(u2, x2), w1));
  aB = i32x4.add(aB, i32x4.dot_i16x8_s(lo4(u3, x3), w0)); bB = i32x4.add(bB, i32x4.dot_i16x8_s(hi4(u3, x3), w1));
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  // Row 2: pairs (6,7), then tap 8 alone (its pair partner's weights are 0).
  const p2 = p1 + rs;
  x0 = v128.load8x8_s(p2); x1 = v128.load8x8_s(p2 + cs);
  x2 = v128.load8x8_s(p2 + (cs << 1)); x3 = v128.load8x8_s(p2 + cs * 3);
  w0 = v128.load(q, 64); w1 = v128.load(q, 80);
  aA = i32x4.add(aA, i32x4.dot_i16x8_s(lo4(x0, x1), w0)); bA = i32x4.add(bA, i32x4.dot_i16x8_s(hi4(x0, x1), w1));
  aB = i32x4.add(aB, i32x4.dot_i16x8_s(lo4(x1, x2), w0)); bB = i32x4.add(bB, i32x4.dot_i16x8_s(hi4(x1, x2), w1));
  w0 = v128.load(q, 128); w1 = v128.load(q, 144);
  aA = i32x4.add(aA, i32x4.dot_i16x8_s(lo4(x2, x2), w0)); bA = i32x4.add(bA, i32x4.dot_i16x8_s(hi4(x2, x2), w1));
  aB = i32x4.add(aB, i32x4.dot_i16x8_s(lo4(x3, x3), w0)); bB = i32x4.add(bB, i32x4.dot_i16x8_s(hi4(x3, x3), w1));
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  outF2(aA, bA, aB, bB, q, d, osz, zp, lo, hi, mg, sg, kz, false);
}

// blockF for two output pixels at once, the second one's taps st bytes after the first
// one's and its output osz bytes after d: each weight vector and output-stage constant is
// loaded once for both. sc: 64 bytes of scratch (fences, as in blockF).
@inline function blockF2(a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize, a7: usize, a8: usize,
  st: usize, q: usize, d: usize, osz: usize, sc: usize, zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128): void {
  let xa = v128.load8x8_s(a0), xb = v128.load8x8_s(a1), ya = v128.load8x8_s(a0 + st), yb = v128.load8x8_s(a1 + st);
  let w0 = v128.load(q), w1 = v128.load(q, 16);
  const ba = v128.load(q, 224), bb = v128.load(q, 240);
  let aA = i32x4.add(ba, i32x4.dot_i16x8_s(lo4(xa, xb), w0)), bA = i32x4.add(bb, i32x4.dot_i16x8_s(hi4(xa, xb), w1));
  let aB = i32x4.add(ba, i32x4.dot_i16x8_s(lo4(ya, yb), w0)), bB = i32x4.add(bb, i32x4.dot_i16x8_s(hi4(ya, yb), w1));
  xa = v128.load8x8_s(a2); xb = v128.load8x8_s(a3); ya = v128.load8x8_s(a2 + st); yb = v128.load8x8_s(a3 + st);
  w0 = v128.load(q, 32); w1 = v128.load(q, 48);
  aA = i32x4.add(aA, i32x4.dot_i16x8_s(lo4(xa, xb), w0)); bA = i32x4.add(bA, i32x4.dot_i16x8_s(hi4(xa, xb), w1));
  aB = i32x4.add(aB, i32x4.dot_i16x8_s(lo4(ya, yb), w0)); bB = i32x4.add(bB, i32x4.dot_i16x8_s(hi4(ya, yb), w1));
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  xa = v128.load8x8_s(a4); xb = v128.load8x8_s(a5); ya = v128.load8x8_s(a4 + st); yb = v128.load8x8_s(a5 + st);
  w0 = v128.load(q, 64); w1 = v128.load(q, 80);
  aA = i32x4.add(aA, i32x4.dot_i16x8_s(lo4(xa, xb), w0)); bA = i32x4.add(bA, i32x4.dot_i16x8_s(hi4(xa, xb), w1));
  aB = i32x4.add(aB, i32x4.dot_i16x8_s(lo4(ya, yb), w0)); bB = i32x4.add(bB, i32x4.dot_i16x8_s(hi4(ya, yb), w1));
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  xa = v128.load8x8_s(a6); xb = v128.load8x8_s(a7); ya = v128.load8x8_s(a6 + st); yb = v128.load8x8_s(a7 + st);
  w0 = v128.load(q, 96); w1 = v128.load(q, 112);
  aA = i32x4.add(aA, i32x4.dot_i16x8_s(lo4(xa, xb), w0)); bA = i32x4.add(bA, i32x4.dot_i16x8_s(hi4(xa, xb), w1));
  aB = i32x4.add(aB, i32x4.dot_i16x8_s(lo4(ya, yb), w0)); bB = i32x4.add(bB, i32x4.dot_i16x8_s(hi4(ya, yb), w1));
  // Tap 8 alone (its pair partner's weights are 0).
  xa = v128.load8x8_s(a8); ya = v128.load8x8_s(a8 + st);
  w0 = v128.load(q, 128); w1 = v128.load(q, 144);
  aA = i32x4.add(aA, i32x4.dot_i16x8_s(lo4(xa, xa), w0)); bA = i32x4.add(bA, i32x4.dot_i16x8_s(hi4(xa, xa), w1));
  aB = i32x4.add(aB, i32x4.dot_i16x8_s(lo4(ya, ya), w0)); bB = i32x4.add(bB, i32x4.dot_i16x8_s(hi4(ya, ya), w1));
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  outF2(aA, bA, aB, bB, q, d, osz, zp, lo, hi, mg, sg, kz, false);
}

// A run of n output pixels of one row with the window inside the image: x the first
// window's origin, step between windows, rs between filter rows, cs between filter columns.
function dwRunF(x: usize, rs: usize, cs: usize, step: usize, n: i32, dst: usize, osz: usize, nblk: i32, bd: usize, sc: usize,
  zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128): void {
  const cs2 = cs << 1;
  const span = <usize>nblk << 3;
  let i = 0;
  // Two pixels at a time, then the last one alone.
  for (; i + 1 < n; i += 2) {
    let p = x, q = bd, d = dst;
    const e = dst + span;
    if (step == cs) {
      do {
        blockF2S1(p, rs, cs, q, d, osz, sc, zp, lo, hi, mg, sg, kz);
        p += 8;
        q += DW_BLOCK;
        d += 8;
      } while (d < e);
    } else {
      do {
        const p1 = p + rs, p2 = p1 + rs;
        blockF2(p, p + cs, p1, p1 + cs, p2, p2 + cs, p + cs2, p1 + cs2, p2 + cs2, step, q, d, osz, sc, zp, lo, hi, mg, sg, kz);
        p += 8;
        q += DW_BLOCK;
        d += 8;
      } while (d < e);
    }
    x += step << 1;
    dst += osz << 1;
  }
  for (; i < n; i++) {
    let p = x, q = bd, d = dst;
    const e = dst + span;
    do {
      const p1 = p + rs, p2 = p1 + rs;
      blockF(p, p + cs, p1, p1 + cs, p2, p2 + cs, p + cs2, p1 + cs2, p2 + cs2, q, d, sc, zp, lo, hi, mg, sg, kz);
      p += 8;
      q += DW_BLOCK;
      d += 8;
    } while (d < e);
    x += step;
    dst += osz;
  }
}

// One output pixel whose window crosses the image border: abs holds the nine tap
// addresses in the packed order (taps outside the image at the zero point pixel).
function dwEdgeF(abs: usize, dst: usize, nblk: i32, bd: usize, sc: usize, zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128): void {
  const a0 = <usize>load<u32>(abs), a1 = <usize>load<u32>(abs, 4), a2 = <usize>load<u32>(abs, 8);
  const a3 = <usize>load<u32>(abs, 12), a4 = <usize>load<u32>(abs, 16), a5 = <usize>load<u32>(abs, 20);
  const a6 = <usize>load<u32>(abs, 24), a7 = <usize>load<u32>(abs, 28), a8 = <usize>load<u32>(abs, 32);
  const span = <usize>nblk << 3;
  let q = bd;
  for (let c: usize = 0; c < span; c += 8) {
    blockF(a0 + c, a1 + c, a2 + c, a3 + c, a4 + c, a5 + c, a6 + c, a7 + c, a8 + c, q, dst + c, sc, zp, lo, hi, mg, sg, kz);
    q += DW_BLOCK;
  }
}

// ---------------------------------------------------------------------------------
// The relaxed build on a direct relaxed dot layout (2 or 3, src/runtime/relaxed-dot.ts;
// record word 32, dwRelaxedData in src/runtime/ops/conv.ts): window interiors of 3x3
// depth-multiplier-1 blocks take one relaxed dot product per 4 channels x 4 taps. Per
// group of four taps the eight channels' bytes of each tap (one 8-byte load per tap) are
// interleaved into per-channel quads (two byte unpacks and two int16 unpacks), flipped to
// x + 128 for layout 2 (m = 0x80 bytes, else 0), and dotted with the block's tap quads.
// The output stage is blockF's (the block data at q). Word 33: the probe, word 34: the
// layout. dwRunR first reruns the engine's relaxed dot on the probe in its own code and
// returns false, computing nothing, when the answer differs: the caller then runs dwRunF.
const DW_RBLOCK: usize = 128;

// Bytes 0-7 of x and y interleaved: x0 y0 x1 y1 ... x7 y7.
@inline function zip8(x: v128, y: v128): v128 {
  return i8x16.shuffle(x, y, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

// The eight channels' bytes of two taps, interleaved (zip8). lo4 and hi4 of two such
// pairs are the per-channel quads of four taps: channels 0-3 and 4-7.
@inline function pairs(t0: usize, t1: usize): v128 {
  return zip8(v128.load64_zero(t0), v128.load64_zero(t1));
}

// Two output pixels (windows at p and p + st) of one block: r its relaxed data, q its
// block data, d and d + osz the outputs. The stores to sc are fences, as in blockF2.
@inline function blockR2(p: usize, rs: usize, cs: usize, st: usize, r: usize, q: usize, d: usize, osz: usize, sc: usize, m: v128,
  zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128, fold: bool): void {
  const c2 = cs << 1, p1 = p + rs, p2 = p1 + rs;
  let aA = v128.load(r, 96), bA = v128.load(r, 112);
  let aB = aA, bB = bA;
  // Taps 0-3: (0,0) (0,1) (0,2) (1,0).
  let wa = v128.load(r), wb = v128.load(r, 16);
  let x = pairs(p, p + cs), y = pairs(p + c2, p1);
  aA = ddot(wa, v128.xor(lo4(x, y), m), aA); bA = ddot(wb, v128.xor(hi4(x, y), m), bA);
  x = pairs(p + st, p + cs + st); y = pairs(p + c2 + st, p1 + st);
  aB = ddot(wa, v128.xor(lo4(x, y), m), aB); bB = ddot(wb, v128.xor(hi4(x, y), m), bB);
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  // Taps 4-7: (1,1) (1,2) (2,0) (2,1).
  wa = v128.load(r, 32); wb = v128.load(r, 48);
  x = pairs(p1 + cs, p1 + c2); y = pairs(p2, p2 + cs);
  aA = ddot(wa, v128.xor(lo4(x, y), m), aA); bA = ddot(wb, v128.xor(hi4(x, y), m), bA);
  x = pairs(p1 + cs + st, p1 + c2 + st); y = pairs(p2 + st, p2 + cs + st);
  aB = ddot(wa, v128.xor(lo4(x, y), m), aB); bB = ddot(wb, v128.xor(hi4(x, y), m), bB);
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  // Tap 8 alone: its byte in all four places of each quad (the other three weights are 0).
  wa = v128.load(r, 64); wb = v128.load(r, 80);
  const t = p2 + c2;
  x = pairs(t, t);
  aA = ddot(wa, v128.xor(lo4(x, x), m), aA); bA = ddot(wb, v128.xor(hi4(x, x), m), bA);
  x = pairs(t + st, t + st);
  aB = ddot(wa, v128.xor(lo4(x, x), m), aB); bB = ddot(wb, v128.xor(hi4(x, x), m), bB);
  v128.store(sc, aA); v128.store(sc, bA, 16); v128.store(sc, aB, 32); v128.store(sc, bB, 48);
  outF2(aA, bA, aB, bB, q, d, osz, zp, lo, hi, mg, sg, kz, fold);
}

// One output pixel of one block (as blockR2).
@inline function blockR1(p: usize, rs: usize, cs: usize, r: usize, q: usize, d: usize, sc: usize, m: v128,
  zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128, fold: bool): void {
  const c2 = cs << 1, p1 = p + rs, p2 = p1 + rs;
  let a = v128.load(r, 96), b = v128.load(r, 112);
  let x = pairs(p, p + cs), y = pairs(p + c2, p1);
  a = ddot(v128.load(r), v128.xor(lo4(x, y), m), a); b = ddot(v128.load(r, 16), v128.xor(hi4(x, y), m), b);
  x = pairs(p1 + cs, p1 + c2); y = pairs(p2, p2 + cs);
  a = ddot(v128.load(r, 32), v128.xor(lo4(x, y), m), a); b = ddot(v128.load(r, 48), v128.xor(hi4(x, y), m), b);
  v128.store(sc, a); v128.store(sc, b, 16);
  const t = p2 + c2;
  x = pairs(t, t);
  a = ddot(v128.load(r, 64), v128.xor(lo4(x, x), m), a); b = ddot(v128.load(r, 80), v128.xor(hi4(x, x), m), b);
  outF1(a, b, q, d, zp, lo, hi, mg, sg, kz, fold);
}

// dwRunF's run of n output pixels on the relaxed data rd (probe at pr); false, with
// nothing computed, when the engine's relaxed dot does not give the probe's result here.
function dwRunR(x: usize, rs: usize, cs: usize, step: usize, n: i32, dst: usize, osz: usize, nblk: i32, bd: usize, rd: usize, pr: usize,
  sc: usize, flip: bool, zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128): bool {
  if (!probeHolds(pr)) return false;
  // The float32 stage in its folded form where this engine's lane select allows it.
  if (selTopBit(<i32>(nblk > 0))) dwRunRBody(x, rs, cs, step, n, dst, osz, nblk, bd, rd, sc, flip, zp, lo, hi, mg, sg, kz, true);
  else dwRunRBody(x, rs, cs, step, n, dst, osz, nblk, bd, rd, sc, flip, zp, lo, hi, mg, sg, kz, false);
  return true;
}

// dwRunR once its probes have passed (fold: the float32 stage's folded form).
@inline function dwRunRBody(x: usize, rs: usize, cs: usize, step: usize, n: i32, dst: usize, osz: usize, nblk: i32, bd: usize, rd: usize,
  sc: usize, flip: bool, zp: v128, lo: v128, hi: v128, mg: v128, sg: v128, kz: v128, fold: bool): void {
  const m = i8x16.splat(flip ? -128 : 0);
  const span = <usize>nblk << 3;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let p = x, q = bd, r = rd, d = dst;
    const e = dst + span;
    do {
      blockR2(p, rs, cs, step, r, q, d, osz, sc, m, zp, lo, hi, mg, sg, kz, fold);
      p += 8;
      q += DW_BLOCK;
      r += DW_RBLOCK;
      d += 8;
    } while (d < e);
    x += step << 1;
    dst += osz << 1;
  }
  for (; i < n; i++) {
    let p = x, q = bd, r = rd, d = dst;
    const e = dst + span;
    do {
      blockR1(p, rs, cs, r, q, d, sc, m, zp, lo, hi, mg, sg, kz, fold);
      p += 8;
      q += DW_BLOCK;
      r += DW_RBLOCK;
      d += 8;
    } while (d < e);
    x += step;
    dst += osz;
  }
}

// Returns the number of channels done per pixel (a multiple of 8).
export function dwFast(p: usize, xm: i32, r0: i32, r1: i32): i32 {
  const input = wp(p, 0), output = wp(p, 3);
  const inH = w(p, 7), inW = w(p, 8), inC = w(p, 9), outH = w(p, 10), outW = w(p, 11), outC = w(p, 12);
  const fH = w(p, 13), fW = w(p, 14), dm = w(p, 15);
  const sH = w(p, 16), sW = w(p, 17), dH = w(p, 18), dW = w(p, 19), padH = w(p, 20), padW = w(p, 21);
  const rq = wp(p, 26), wq = wp(p, 27), bias = wp(p, 28), zpPix = wp(p, 29), scratch = threadScratch(wp(p, 30));
  // Block data for 3x3 filters with depth multiplier 1 (0 where the prepare wrote none).
  const bd = xm == 0 ? wp(p, 31) : 0;
  // The relaxed build's tap quads for a direct relaxed dot layout, and its probe (or 0).
  const rd = bd != 0 ? wp(p, 32) : 0, pr = wp(p, 33), flip = w(p, 34) == 2;
  // Zero point and clamp as int16 lanes (finish8).
  const outOff = i16x8.splat(<i16>w(p, 23)), lo = i16x8.splat(<i16>w(p, 24)), hi = i16x8.splat(<i16>w(p, 25));
  const stride = <usize>((outC + 7) & ~7) << 2;
  const nblk = outC >> 3;
  if (nblk == 0) return 0;
  const left = anyLeft(rq, (outC + 7) & ~7);
  const taps = fH * fW, tp = taps + (taps & 1);
  const is3x3 = fH == 3 && fW == 3;
  // Horizontal tap neighbours are adjacent bytes (one input channel, no dilation).
  const adj = inC == 1 && dW == 1;
  // Taps in pairs along rows (not 3x3): pairs are adjacent bytes when also fW is even.
  const pairAdj = adj && !is3x3 && (fW & 1) == 0;
  // scratch: tp offsets of the taps from the window origin, then tp addresses, both in
  // the packed weights' tap order (slotOf).
  const rel = scratch, abs = scratch + (<usize>tp << 2);
  // 64 bytes after them (16-aligned) for dwRunF / dwEdgeF.
  const sc = (scratch + (<usize>tp << 3) + 15) & ~<usize>15;
  // The float32 stage's constants (G, the float32 sign bits and 0x22600), passed in as
  // arguments and built from k = 1 (nblk > 0 here), which the optimizer cannot fold: as
  // literals they were propagated into the callees, where V8 rebuilt them in every block.
  const k = <i32>(nblk > 0);
  const mg = stageG(w(p, 23), k), sg = i32x4.splat(k << 31), kz = stageK(k);
  for (let fy = 0; fy < fH; fy++) {
    for (let fx = 0; fx < fW; fx++) store<i32>(rel + (<usize>slotOf(fy * fW + fx, is3x3) << 2), (fy * dH * inW + fx * dW) * inC);
  }
  if (taps & 1) store<i32>(rel + (<usize>taps << 2), 0);
  const osz = <usize>outC;
  const np = (outC + 7) & ~7;
  const fast = rqFast(rq, np);
  const o0 = <usize>load<i32>(rel), o1 = <usize>load<i32>(rel, 4), o2 = <usize>load<i32>(rel, 8);
  const o3 = <usize>load<i32>(rel, 12), o4 = <usize>load<i32>(rel, 16), o5 = <usize>load<i32>(rel, 20);
  const o6 = <usize>load<i32>(rel, 24), o7 = <usize>load<i32>(rel, 28), o8 = <usize>load<i32>(rel, 32);
  let dst = output + <usize>(r0 * outW) * osz;
  for (let row = r0; row < r1; row++) {
    const b = row / outH, oy = row % outH;
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
          if (bd != 0) {
            const rs = <usize>(dH * inW * inC), cs = <usize>(dW * inC);
            let done = false;
            if (ASC_FEATURE_RELAXED_SIMD) {
              if (rd != 0) done = dwRunR(base, rs, cs, step, n, dst, osz, nblk, bd, rd, pr, sc, flip, outOff, lo, hi, mg, sg, kz);
            }
            if (!done) dwRunF(base, rs, cs, step, n, dst, osz, nblk, bd, sc, outOff, lo, hi, mg, sg, kz);
          } else if (xm == 0) {
            if (left) dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, true, fast, false);
            else dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 0, false, fast, false);
          } else {
            if (adj) {
              if (left) dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, true, fast, true);
              else dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, false, fast, true);
            } else {
              if (left) dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, true, fast, false);
              else dwRun(base, step, n, o0, o1, o2, o3, o4, o5, o6, o7, o8, dst, osz, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, 1, false, fast, false);
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
          } else if (pairAdj) {
            if (left) dwPixel1LA(base, rel, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi);
            else dwPixel1RA(base, rel, tp, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi);
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
          if (bd != 0) dwEdgeF(abs, dst, nblk, bd, sc, outOff, lo, hi, mg, sg, kz);
          else if (is3x3) {
            // The unrolled 3x3 block with the nine addresses as offsets from 0.
            if (xm == 0) {
              if (left) dwEdge0L(abs, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, fast);
              else dwEdge0R(abs, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, fast);
            } else {
              if (left) dwEdge1L(abs, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, fast);
              else dwEdge1R(abs, dst, nblk, dm, wq, bias, rq, stride, outOff, lo, hi, fast);
            }
          } else if (xm == 0) {
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
