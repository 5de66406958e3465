// SIMD int8 CONV_2D without groups (kernel 101 with word 17 == 1) as a GEMM. Output
// pixels are taken in groups of 4 to 16 (groupOf): the window of each pixel (its
// fH * fW * inC taps, the reduction K) is copied into a scratch row as int16 (raw input
// values; taps outside the image take the input zero point, which adds nothing once the
// input offset is folded into the bias). Then, per four pixels, every block of 8 output
// channels runs a 4 x 8 register block: per pair of reduction indices one 32-bit
// broadcast of each pixel's pair and one load of the 8 channels' weight pairs
// (i32x4.dot_i16x8_s), eight i32x4 accumulators; the last pixels (fewer than four) run
// a 1 x 8 block. 1x1 filters read the pixel itself, so the copy is only a widening.
//
// Record words: src/runtime/ops/conv.ts. Used here: 0 input, 3 output, 6 scratch
// (groupOf(kp) rows of kp int16, kp = K rounded up to even, plus 32 bytes of slack),
// 7-24 geometry, 25-27 output zero point and clamp, 29 requant table, 30 folded bias,
// 31 the weights with channels in lanes (per block of 8 channels, kp / 2 pairs of 16 int8),
// 32 the layout of word 31: 0 as just described, 1 the relaxed build's quads (below), 33 the
// float32 output stage's constants (stageV in conv-requant.ts) or 0 for the integer stage.
//
// The relaxed build (ASC_FEATURE_RELAXED_SIMD, kestrel-relaxed.wasm) multiplies int8 by
// int8 directly with i32x4.relaxed_dot_i8x16_i7x16_add_s, which every engine computes the
// same way only while its second operand is in 0..127. So each weight is split into two
// halves in that range, w = wp - wn (wp = max(w, 0), wn = max(-w, 0)), summed in separate
// accumulators and subtracted at the end; both sums wrap like the reference's int32
// accumulator, so the difference is its value. Weights of -128 cannot be split: such an
// op keeps layout 0 (conv.ts). Layout 1, per block of 8 channels and per quad of
// reduction indices (K rounded up to kq, a multiple of 4): 64 bytes, wp of channels 0-3
// (4 indices each), wn of channels 0-3, wp of channels 4-7, wn of channels 4-7. Pixels
// are int8 rows of kq bytes (1x1 stride-1 layers with K a multiple of 4 read the input
// in place) and run in 2-pixel x 8-channel register blocks.
//
// Rows: convGemmRows(p, r0, r1) computes output rows [r0, r1) (row = batch * outH + oy),
// convGemmPixels(p, q0, q1) output pixels [q0, q1), convGemmChannels(p, b0, b1) blocks of
// 8 output channels [b0, b1) of every pixel; a thread-aware caller gives each thread its own copy of the scratch (word 6).
import { w, wp } from '../fixedpoint';
import { anyLeft, fHit, fNone, pixF2, pixFQ, pixQ, rqFast, selTopBit, stageG, stageK } from './conv-requant';
import { threadScratch } from '../thread';

// n int8 at src -> n int16 at dst, reading nothing at or past end (the input's end).
// With n >= 8 the last vector may overlap the one before it (the same values again);
// shorter runs read and write a whole vector when end allows (up to 16 bytes of int16
// past the run: the caller writes its rows in order and the scratch has slack).
@inline function widen(dst: usize, src: usize, n: i32, end: usize): void {
  if (n < 8 && src + 8 <= end) {
    v128.store(dst, v128.load8x8_s(src));
  } else if (n >= 8) {
    let i = 0;
    for (; i + 8 <= n; i += 8) v128.store(dst + (<usize>i << 1), v128.load8x8_s(src + <usize>i));
    if (i < n) {
      const j = <usize>(n - 8);
      v128.store(dst + (j << 1), v128.load8x8_s(src + j));
    }
  } else {
    for (let i = 0; i < n; i++) store<i16>(dst + (<usize>i << 1), <i16>load<i8>(src + <usize>i));
  }
}

// n copies of the int16 zp at dst.
@inline function fill16(dst: usize, n: i32, zp: i32): void {
  let i = 0;
  if (n >= 8) {
    const v = i16x8.splat(<i16>zp);
    for (; i + 8 <= n; i += 8) v128.store(dst + (<usize>i << 1), v);
    if (i < n) v128.store(dst + (<usize>(n - 8) << 1), v);
  } else {
    for (; i < n; i++) store<i16>(dst + (<usize>i << 1), <i16>zp);
  }
}

// The window of output pixel (b, oy, ox) -> int16 row d.
function gather(p: usize, d: usize, b: i32, oy: i32, ox: i32): void {
  const input = wp(p, 0);
  const inH = w(p, 8), inW = w(p, 9), inC = w(p, 10);
  const fH = w(p, 14), fW = w(p, 15);
  const dH = w(p, 20), dW = w(p, 21);
  const zp = -w(p, 24);
  const end = input + <usize>(w(p, 7) * inH * inW * inC);
  const iy0 = oy * w(p, 18) - w(p, 22);
  const ix0 = ox * w(p, 19) - w(p, 23);
  const run = fW * inC;
  const runB = <usize>run << 1;
  // Horizontal taps are one contiguous run of input when undilated and inside the image.
  const contiguous = dW == 1 && ix0 >= 0 && ix0 + fW <= inW;
  let c = d;
  for (let fy = 0; fy < fH; fy++) {
    const iy = iy0 + dH * fy;
    if (iy < 0 || iy >= inH) {
      fill16(c, run, zp);
    } else {
      const rowE = (b * inH + iy) * inW;
      if (contiguous) {
        widen(c, input + <usize>((rowE + ix0) * inC), run, end);
      } else {
        for (let fx = 0; fx < fW; fx++) {
          const ix = ix0 + dW * fx;
          const cx = c + (<usize>(fx * inC) << 1);
          if (ix < 0 || ix >= inW) fill16(cx, inC, zp);
          else widen(cx, input + <usize>((rowE + ix) * inC), inC, end);
        }
      }
    }
    c += runB;
  }
}

// The int16 rows of count pixels (row i at scr + i * rowB, kp values each) -> all output
// channels of the pixels, written from dst (outC bytes between pixels): groups of four
// pixels run the 4 x 8 register block, the last count % 4 pixels a 1 x 8 block. The
// accumulators start at the bias. useF: the float32 output stage (record word 33), else
// the integer one (left, fast: requantQ's cases).
@inline function blocks(p: usize, scr: usize, rowB: usize, dst: usize, count: i32, oc0: i32, oc1: i32, left: bool, fast: bool, useF: bool): void {
  const wq = wp(p, 31), bias = wp(p, 30), rq = wp(p, 29);
  const outC = w(p, 13);
  const np = (outC + 7) & ~7;
  const stride = <usize>np << 2;
  const zp = i16x8.splat(<i16>w(p, 25)), lo = i16x8.splat(<i16>w(p, 26)), hi = i16x8.splat(<i16>w(p, 27));
  const fs = useF ? wp(p, 33) : 0;
  // The float32 stage's constants, from a value the optimizer cannot fold (as literals
  // V8 rebuilt them in every block).
  const one = <i32>(outC > 0);
  const sg = i32x4.splat(one << 31), g = stageG(w(p, 25), one), kz = stageK(one);
  const blockBytes = rowB << 2;
  const dstStride = <usize>outC;
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const r0 = scr + <usize>i * rowB;
    const xe = r0 + rowB;
    const dRow = dst + <usize>i * dstStride;
    for (let oc = oc0; oc < oc1; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      const o4 = <usize>oc << 2;
      let a0 = v128.load(bias + o4), b0 = v128.load(bias + o4 + 16);
      let a1 = a0, b1 = b0, a2 = a0, b2 = b0, a3 = a0, b3 = b0;
      for (let x = r0; x < xe; x += 4) {
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
      out4(a0, b0, a1, b1, a2, b2, a3, b3, rq + o4, fs + o4, stride, left, fast, useF, sg, g, kz, zp, lo, hi,
        dRow + <usize>oc, dstStride, outC - oc, false);
    }
  }
  for (; i < count; i++) {
    const r0 = scr + <usize>i * rowB;
    const xe = r0 + rowB;
    const dRow = dst + <usize>i * dstStride;
    for (let oc = oc0; oc < oc1; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      const o4 = <usize>oc << 2;
      let a0 = v128.load(bias + o4), b0 = v128.load(bias + o4 + 16);
      for (let x = r0; x < xe; x += 4) {
        const t = v128.load32_splat(x);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv)));
        b0 = i32x4.add(b0, i32x4.dot_i16x8_s(t, v128.load8x8_s(wv, 8)));
        wv += 16;
      }
      tail1(a0, b0, rq, o4, stride, left, fast, useF, fs, sg, g, kz, zp, lo, hi, dRow + <usize>oc, outC - oc, false);
    }
  }
}

// The output stage of a 4-pixel x 8-channel block (pixel j's accumulators in aj, bj; bias
// included) -> the first n channels of the four pixels at d, d + dstStride, ...: float32
// with the check (the whole block redone by the integer stage when a lane is flagged), or
// integer. ta, tf: the requant table and the float32 constants at the block's channels.
@inline function out4(a0: v128, b0: v128, a1: v128, b1: v128, a2: v128, b2: v128, a3: v128, b3: v128,
  ta: usize, tf: usize, stride: usize, left: bool, fast: bool, useF: bool,
  sg: v128, g: v128, kz: v128, zp: v128, lo: v128, hi: v128, d: usize, dstStride: usize, n: i32, fold: bool): void {
  if (useF) {
    const lo8 = i8x16.narrow_i16x8_s(lo, lo), hi8 = i8x16.narrow_i16x8_s(hi, hi);
    let flag = pixF2(a0, b0, a1, b1, tf, stride, sg, g, kz, lo8, hi8, d, d + dstStride, n, fNone(), fold);
    flag = pixF2(a2, b2, a3, b3, tf, stride, sg, g, kz, lo8, hi8, d + 2 * dstStride, d + 3 * dstStride, n, flag, fold);
    if (fHit(flag)) {
      pixQ(a0, b0, ta, stride, true, false, zp, lo, hi, d, n);
      pixQ(a1, b1, ta, stride, true, false, zp, lo, hi, d + dstStride, n);
      pixQ(a2, b2, ta, stride, true, false, zp, lo, hi, d + 2 * dstStride, n);
      pixQ(a3, b3, ta, stride, true, false, zp, lo, hi, d + 3 * dstStride, n);
    }
  } else {
    pixQ(a0, b0, ta, stride, left, fast, zp, lo, hi, d, n);
    pixQ(a1, b1, ta, stride, left, fast, zp, lo, hi, d + dstStride, n);
    pixQ(a2, b2, ta, stride, left, fast, zp, lo, hi, d + 2 * dstStride, n);
    pixQ(a3, b3, ta, stride, left, fast, zp, lo, hi, d + 3 * dstStride, n);
  }
}

// One pixel's output stage outside the 4-pixel blocks (tail pixels, and the relaxed
// kernel): float32 with the check, or integer. rq: the requant table.
@inline function tail1(a: v128, b: v128, rq: usize, o4: usize, stride: usize, left: bool, fast: bool, useF: bool, fs: usize,
  sg: v128, g: v128, kz: v128, zp: v128, lo: v128, hi: v128, d: usize, n: i32, fold: bool): void {
  if (useF) pixFQ(a, b, fs + o4, rq + o4, stride, sg, g, kz, zp, lo, hi, d, n, fold);
  else pixQ(a, b, rq + o4, stride, left, fast, zp, lo, hi, d, n);
}

// The block kernel as plain functions (one call per group of pixels keeps the pixel
// loop's variables out of the block's registers), with and without channels that shift
// left, with the 32-bit (F) or the 64-bit (S) division; blocksX with the float32 stage.
function blocksLF(p: usize, scr: usize, rowB: usize, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocks(p, scr, rowB, dst, count, oc0, oc1, true, true, false);
}
function blocksRF(p: usize, scr: usize, rowB: usize, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocks(p, scr, rowB, dst, count, oc0, oc1, false, true, false);
}
function blocksLS(p: usize, scr: usize, rowB: usize, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocks(p, scr, rowB, dst, count, oc0, oc1, true, false, false);
}
function blocksRS(p: usize, scr: usize, rowB: usize, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocks(p, scr, rowB, dst, count, oc0, oc1, false, false, false);
}
function blocksX(p: usize, scr: usize, rowB: usize, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocks(p, scr, rowB, dst, count, oc0, oc1, true, false, true);
}

// ---------------------------------------------------------------------------------
// The relaxed build's kernel (layout 1). rowB: bytes between the int8 rows of two pixels
// (kq, or inC when reading the input in place); the rows hold kq readable bytes.

@inline function rdot(x: v128, wv: v128, acc: v128): v128 {
  return i32x4.relaxed_dot_i8x16_i7x16_add_s(x, wv, acc);
}

@inline function blocksQ(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32, left: bool, fast: bool, useF: bool): void {
  const wq = wp(p, 31), bias = wp(p, 30), rq = wp(p, 29);
  const outC = w(p, 13);
  const np = (outC + 7) & ~7;
  const stride = <usize>np << 2;
  const zp = i16x8.splat(<i16>w(p, 25)), lo = i16x8.splat(<i16>w(p, 26)), hi = i16x8.splat(<i16>w(p, 27));
  const fs = useF ? wp(p, 33) : 0;
  const one = <i32>(outC > 0);
  const sg = i32x4.splat(one << 31), g = stageG(w(p, 25), one), kz = stageK(one);
  const blockBytes = <usize>kq << 4;
  const dstStride = <usize>outC;
  const kqB = <usize>kq;
  let i = 0;
  for (; i + 2 <= count; i += 2) {
    const r0 = scr + <usize>i * rowB;
    const xe = r0 + kqB;
    const dRow = dst + <usize>i * dstStride;
    for (let oc = oc0; oc < oc1; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      const o4 = <usize>oc << 2;
      // The positive halves' sums start at the bias.
      let pa0 = v128.load(bias + o4), na0 = i32x4.splat(0), pb0 = v128.load(bias + o4 + 16), nb0 = i32x4.splat(0);
      let pa1 = pa0, na1 = na0, pb1 = pb0, nb1 = nb0;
      for (let x = r0; x < xe; x += 4) {
        const wpa = v128.load(wv), wna = v128.load(wv, 16), wpb = v128.load(wv, 32), wnb = v128.load(wv, 48);
        let t = v128.load32_splat(x);
        pa0 = rdot(t, wpa, pa0); na0 = rdot(t, wna, na0); pb0 = rdot(t, wpb, pb0); nb0 = rdot(t, wnb, nb0);
        t = v128.load32_splat(x + rowB);
        pa1 = rdot(t, wpa, pa1); na1 = rdot(t, wna, na1); pb1 = rdot(t, wpb, pb1); nb1 = rdot(t, wnb, nb1);
        wv += 64;
      }
      const d = dRow + <usize>oc;
      const n = outC - oc;
      tail1(i32x4.sub(pa0, na0), i32x4.sub(pb0, nb0), rq, o4, stride, left, fast, useF, fs, sg, g, kz, zp, lo, hi, d, n, false);
      tail1(i32x4.sub(pa1, na1), i32x4.sub(pb1, nb1), rq, o4, stride, left, fast, useF, fs, sg, g, kz, zp, lo, hi, d + dstStride, n, false);
    }
  }
  if (i < count) {
    const r0 = scr + <usize>i * rowB;
    const xe = r0 + kqB;
    const dRow = dst + <usize>i * dstStride;
    for (let oc = oc0; oc < oc1; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      const o4 = <usize>oc << 2;
      let pa = v128.load(bias + o4), na = i32x4.splat(0), pb = v128.load(bias + o4 + 16), nb = i32x4.splat(0);
      for (let x = r0; x < xe; x += 4) {
        const t = v128.load32_splat(x);
        pa = rdot(t, v128.load(wv), pa); na = rdot(t, v128.load(wv, 16), na);
        pb = rdot(t, v128.load(wv, 32), pb); nb = rdot(t, v128.load(wv, 48), nb);
        wv += 64;
      }
      tail1(i32x4.sub(pa, na), i32x4.sub(pb, nb), rq, o4, stride, left, fast, useF, fs, sg, g, kz, zp, lo, hi, dRow + <usize>oc, outC - oc, false);
    }
  }
}

function blocksQLF(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksQ(p, scr, rowB, kq, dst, count, oc0, oc1, true, true, false);
}
function blocksQRF(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksQ(p, scr, rowB, kq, dst, count, oc0, oc1, false, true, false);
}
function blocksQLS(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksQ(p, scr, rowB, kq, dst, count, oc0, oc1, true, false, false);
}
function blocksQRS(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksQ(p, scr, rowB, kq, dst, count, oc0, oc1, false, false, false);
}
function blocksQX(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksQ(p, scr, rowB, kq, dst, count, oc0, oc1, true, false, true);
}

// ---------------------------------------------------------------------------------
// The relaxed build's direct kernel (layouts 2 and 3): one relaxed dot per 4 channels x
// 4 reduction indices, weights (int8, any value) as the first operand and the pixel's
// int8 values as the second. How an engine reads a second operand with the top bit set is
// its own choice (x86 as unsigned, arm64 as signed, some with 16-bit saturation), so the
// plan picks the layout from what this engine was measured to compute (relaxedDot below,
// src/runtime/relaxed-dot.ts):
//  - layout 2, unsigned without saturation (x86 with AVX-VNNI): the rows are copied with
//    the top bit of every byte flipped (pixelsQ), i.e. as x + 128 in 0..255, once for all
//    output channels, and the folded bias subtracts 128 * sum(w) on top of the input
//    offset;
//  - layout 3, signed (arm64): the bytes as they are. V8 on arm64 may sum pairs of
//    products in 16 bits, exact unless both are -128 * -128: the prepare gives ops with a
//    weight of -128 another layout.
// Every call of the block kernel first reruns that measurement on the probe vectors of
// word 34 (A | B | C | the exact result for the layout), in the same function and so in
// the same compiled code as its products: an engine that computes otherwise at that
// moment (a different compiler tier) gets the exact fallback (blocksE), never a wrong sum.
// Layout, per block of 8 channels and per quad of reduction indices: 32 bytes, the quad of
// channels 0-3, then of channels 4-7.

@inline export function ddot(wv: v128, x: v128, acc: v128): v128 {
  return i32x4.relaxed_dot_i8x16_i7x16_add_s(wv, x, acc);
}

// The engine's relaxed dot of the three vectors at p (A, B, C) -> p + 48;
// src/runtime/relaxed-dot.ts compares it with the exact results of each reading.
export function relaxedDot(p: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    v128.store(p + 48, ddot(v128.load(p), v128.load(p, 16), v128.load(p, 32)));
  } else {
    for (let i: usize = 0; i < 16; i += 4) store<i32>(p + 48 + i, 0);
  }
}

// Whether the engine's relaxed dot, here and now, gives the result the layout assumes (pr:
// the probe blob). Inlined, so it runs in the caller's compiled code (the depthwise
// kernel's dwRunR uses it too).
@inline export function probeHolds(pr: usize): bool {
  return i32x4.all_true(i32x4.eq(ddot(v128.load(pr), v128.load(pr, 16), v128.load(pr, 32)), v128.load(pr, 48)));
}

@inline function blocksD(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32, left: bool, fast: bool, useF: bool): void {
  const pr = wp(p, 34);
  if (!probeHolds(pr)) {
    blocksE(p, scr, rowB, kq, dst, count, oc0, oc1, left, fast, useF);
    return;
  }
  // The float32 stage in its folded form where this engine's lane select allows it.
  if (useF && selTopBit(<i32>(w(p, 13) > 0))) blocksDRun(p, scr, rowB, kq, dst, count, oc0, oc1, left, fast, useF, true);
  else blocksDRun(p, scr, rowB, kq, dst, count, oc0, oc1, left, fast, useF, false);
}

// blocksD once its probes have passed (fold: the float32 stage's folded form).
@inline function blocksDRun(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32, left: bool, fast: bool, useF: bool, fold: bool): void {
  const wq = wp(p, 31), bias = wp(p, 30), rq = wp(p, 29);
  const outC = w(p, 13);
  const np = (outC + 7) & ~7;
  const stride = <usize>np << 2;
  const zp = i16x8.splat(<i16>w(p, 25)), lo = i16x8.splat(<i16>w(p, 26)), hi = i16x8.splat(<i16>w(p, 27));
  const fs = useF ? wp(p, 33) : 0;
  const one = <i32>(outC > 0);
  const sg = i32x4.splat(one << 31), g = stageG(w(p, 25), one), kz = stageK(one);
  const blockBytes = <usize>kq << 3;
  const dstStride = <usize>outC;
  const kqB = <usize>kq;
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const r0 = scr + <usize>i * rowB;
    const xe = r0 + kqB;
    const dRow = dst + <usize>i * dstStride;
    for (let oc = oc0; oc < oc1; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      const o4 = <usize>oc << 2;
      let a0 = v128.load(bias + o4), b0 = v128.load(bias + o4 + 16);
      let a1 = a0, b1 = b0, a2 = a0, b2 = b0, a3 = a0, b3 = b0;
      for (let x = r0; x < xe; x += 4) {
        const wa = v128.load(wv), wb = v128.load(wv, 16);
        let t = v128.load32_splat(x);
        a0 = ddot(wa, t, a0); b0 = ddot(wb, t, b0);
        t = v128.load32_splat(x + rowB);
        a1 = ddot(wa, t, a1); b1 = ddot(wb, t, b1);
        t = v128.load32_splat(x + 2 * rowB);
        a2 = ddot(wa, t, a2); b2 = ddot(wb, t, b2);
        t = v128.load32_splat(x + 3 * rowB);
        a3 = ddot(wa, t, a3); b3 = ddot(wb, t, b3);
        wv += 32;
      }
      out4(a0, b0, a1, b1, a2, b2, a3, b3, rq + o4, fs + o4, stride, left, fast, useF, sg, g, kz, zp, lo, hi,
        dRow + <usize>oc, dstStride, outC - oc, fold);
    }
  }
  for (; i < count; i++) {
    const r0 = scr + <usize>i * rowB;
    const xe = r0 + kqB;
    const dRow = dst + <usize>i * dstStride;
    for (let oc = oc0; oc < oc1; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      const o4 = <usize>oc << 2;
      let a = v128.load(bias + o4), b = v128.load(bias + o4 + 16);
      for (let x = r0; x < xe; x += 4) {
        const t = v128.load32_splat(x);
        a = ddot(v128.load(wv), t, a); b = ddot(v128.load(wv, 16), t, b);
        wv += 32;
      }
      tail1(a, b, rq, o4, stride, left, fast, useF, fs, sg, g, kz, zp, lo, hi, dRow + <usize>oc, outC - oc, fold);
    }
  }
}

// The direct layouts' sums without relaxed SIMD (baseline i16 dot products): what blocksD
// computes when the engine's relaxed dot does not hold. Pixels one at a time.
function blocksE(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32, left: bool, fast: bool, useF: bool): void {
  const wq = wp(p, 31), bias = wp(p, 30), rq = wp(p, 29);
  const outC = w(p, 13);
  const np = (outC + 7) & ~7;
  const stride = <usize>np << 2;
  const zp = i16x8.splat(<i16>w(p, 25)), lo = i16x8.splat(<i16>w(p, 26)), hi = i16x8.splat(<i16>w(p, 27));
  const fs = useF ? wp(p, 33) : 0;
  const sg = i32x4.splat(1 << 31), g = stageG(w(p, 25), 1), kz = stageK(1);
  const unsigned = w(p, 32) == 2;
  const blockBytes = <usize>kq << 3;
  for (let i = 0; i < count; i++) {
    const r0 = scr + <usize>i * rowB;
    const xe = r0 + <usize>kq;
    const dRow = dst + <usize>i * <usize>outC;
    for (let oc = oc0; oc < oc1; oc += 8) {
      let wv = wq + <usize>(oc >> 3) * blockBytes;
      const o4 = <usize>oc << 2;
      let a = v128.load(bias + o4), b = v128.load(bias + o4 + 16);
      for (let x = r0; x < xe; x += 4) {
        // The quad twice as int16: x0..x3 x0..x3 (layout 2's rows hold x + 128 as bytes).
        const q = v128.load32_splat(x);
        const xs = unsigned ? i16x8.extend_low_i8x16_u(q) : i16x8.extend_low_i8x16_s(q);
        a = i32x4.add(a, quadDot(v128.load(wv), xs));
        b = i32x4.add(b, quadDot(v128.load(wv, 16), xs));
        wv += 32;
      }
      tail1(a, b, rq, o4, stride, left, fast, useF, fs, sg, g, kz, zp, lo, hi, dRow + <usize>oc, outC - oc, false);
    }
  }
}

// Four channels' quads of int8 weights (16 bytes) dotted with one quad xs (int16, twice)
// -> the four sums.
@inline function quadDot(wv: v128, xs: v128): v128 {
  const d01 = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(wv), xs);
  const d23 = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(wv), xs);
  return i32x4.add(i32x4.shuffle(d01, d23, 0, 2, 4, 6), i32x4.shuffle(d01, d23, 1, 3, 5, 7));
}

function blocksDLF(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksD(p, scr, rowB, kq, dst, count, oc0, oc1, true, true, false);
}
function blocksDRF(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksD(p, scr, rowB, kq, dst, count, oc0, oc1, false, true, false);
}
function blocksDLS(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksD(p, scr, rowB, kq, dst, count, oc0, oc1, true, false, false);
}
function blocksDRS(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksD(p, scr, rowB, kq, dst, count, oc0, oc1, false, false, false);
}
function blocksDX(p: usize, scr: usize, rowB: usize, kq: i32, dst: usize, count: i32, oc0: i32, oc1: i32): void {
  blocksD(p, scr, rowB, kq, dst, count, oc0, oc1, true, false, true);
}

// n int8 from src to dst in whole vectors, reading nothing at or past end (the input's
// end): up to 15 bytes past the run may be written (the caller writes its rows in order
// and the scratch has slack), and with n >= 16 the last vector may overlap the one
// before it. Short runs near the end go byte by byte.
@inline function copy8(dst: usize, src: usize, n: i32, end: usize): void {
  if (n <= 16 && src + 16 <= end) {
    v128.store(dst, v128.load(src));
  } else if (n >= 16) {
    let i = 0;
    for (; i + 16 <= n; i += 16) v128.store(dst + <usize>i, v128.load(src + <usize>i));
    if (i < n) {
      const j = <usize>(n - 16);
      v128.store(dst + j, v128.load(src + j));
    }
  } else {
    for (let i = 0; i < n; i++) store<i8>(dst + <usize>i, load<i8>(src + <usize>i));
  }
}

// The window of output pixel (b, oy, ox) -> int8 row d (taps outside the image: the
// input zero point).
function gather8(p: usize, d: usize, b: i32, oy: i32, ox: i32): void {
  const input = wp(p, 0);
  const inH = w(p, 8), inW = w(p, 9), inC = w(p, 10);
  const fH = w(p, 14), fW = w(p, 15);
  const dH = w(p, 20), dW = w(p, 21);
  const zp = <u8>(-w(p, 24));
  const end = input + <usize>(w(p, 7) * inH * inW * inC);
  const iy0 = oy * w(p, 18) - w(p, 22);
  const ix0 = ox * w(p, 19) - w(p, 23);
  const run = fW * inC;
  const contiguous = dW == 1 && ix0 >= 0 && ix0 + fW <= inW;
  let c = d;
  for (let fy = 0; fy < fH; fy++) {
    const iy = iy0 + dH * fy;
    if (iy < 0 || iy >= inH) {
      memory.fill(c, zp, <usize>run);
    } else {
      const rowE = (b * inH + iy) * inW;
      if (contiguous) {
        copy8(c, input + <usize>((rowE + ix0) * inC), run, end);
      } else {
        for (let fx = 0; fx < fW; fx++) {
          const ix = ix0 + dW * fx;
          const cx = c + <usize>(fx * inC);
          if (ix < 0 || ix >= inW) memory.fill(cx, zp, <usize>inC);
          else copy8(cx, input + <usize>((rowE + ix) * inC), inC, end);
        }
      }
    }
    c += <usize>run;
  }
}

// Output pixels [q0, q1), channels [oc0, oc1), layout 1 (direct: layouts 2 and 3).
function pixelsQ(p: usize, q0: i32, q1: i32, oc0: i32, oc1: i32, left: bool, fast: bool, useF: bool, direct: bool): void {
  const inC = w(p, 10);
  const k = w(p, 14) * w(p, 15) * inC;
  const kq = (k + 3) & ~3;
  const is1x1 = w(p, 14) == 1 && w(p, 15) == 1;
  const dense = is1x1 && w(p, 18) == 1 && w(p, 19) == 1;
  const outC = <usize>w(p, 13);
  const output = wp(p, 3);
  const input = wp(p, 0);
  const end = input + <usize>(w(p, 7) * w(p, 8) * w(p, 9) * inC);
  // Layout 2 reads the rows as x + 128: they are copied with the top bit flipped.
  const flip = direct && w(p, 32) == 2;
  // 1x1 stride 1 with K a multiple of 4: the input rows are the block kernel's rows.
  const inPlace = dense && (k & 3) == 0 && !flip;
  const G = groupOf(k + (k & 1));
  const scr = threadScratch(wp(p, 6));
  const rowB: usize = inPlace ? <usize>inC : <usize>kq;
  const outW = w(p, 12), outH = w(p, 11);
  // Windows inside the image without horizontal dilation: fH runs of fW * inC bytes,
  // copied here without the general gather (constants held across pixels, as in pixels).
  const inH = w(p, 8), inW = w(p, 9);
  const fH = w(p, 14), fW = w(p, 15);
  const sH = w(p, 18), sW = w(p, 19), padH = w(p, 22), padW = w(p, 23);
  const runs = w(p, 21) == 1;
  const run = fW * inC;
  const rowStep = <usize>(w(p, 20) * inW * inC);
  const yLast = (fH - 1) * w(p, 20);
  let ox = q0 % outW, oy = (q0 / outW) % outH, b = q0 / (outW * outH);
  for (let q = q0; q < q1; q += G) {
    const count = min(G, q1 - q);
    let rows = scr;
    if (inPlace) {
      rows = input + <usize>q * <usize>inC;
    } else {
      for (let i = 0; i < count; i++) {
        const d = scr + <usize>i * rowB;
        if (dense) copy8(d, input + <usize>(q + i) * <usize>inC, inC, end);
        else if (is1x1) copy8(d, src1x1(p, q + i), inC, end);
        else {
          const iy0 = oy * sH - padH, ix0 = ox * sW - padW;
          if (runs && iy0 >= 0 && iy0 + yLast < inH && ix0 >= 0 && ix0 + fW <= inW) {
            // In order: each run's whole-vector overshoot is overwritten by the next.
            let src = input + <usize>(((b * inH + iy0) * inW + ix0) * inC);
            let c = d;
            for (let fy = 0; fy < fH; fy++) {
              copy8(c, src, run, end);
              src += rowStep;
              c += <usize>run;
            }
          } else {
            gather8(p, d, b, oy, ox);
          }
        }
        if (++ox == outW) {
          ox = 0;
          if (++oy == outH) { oy = 0; b++; }
        }
      }
      // Whole vectors: the scratch, sized for int16 rows, has room past the int8 ones.
      if (flip) {
        const e = scr + <usize>count * rowB;
        const m = i8x16.splat(-128);
        for (let r = scr; r < e; r += 16) v128.store(r, v128.xor(v128.load(r), m));
      }
    }
    const dst = output + <usize>q * outC;
    if (direct) {
      if (useF) blocksDX(p, rows, rowB, kq, dst, count, oc0, oc1);
      else if (fast) {
        if (left) blocksDLF(p, rows, rowB, kq, dst, count, oc0, oc1);
        else blocksDRF(p, rows, rowB, kq, dst, count, oc0, oc1);
      } else {
        if (left) blocksDLS(p, rows, rowB, kq, dst, count, oc0, oc1);
        else blocksDRS(p, rows, rowB, kq, dst, count, oc0, oc1);
      }
    } else if (useF) {
      blocksQX(p, rows, rowB, kq, dst, count, oc0, oc1);
    } else if (fast) {
      if (left) blocksQLF(p, rows, rowB, kq, dst, count, oc0, oc1);
      else blocksQRF(p, rows, rowB, kq, dst, count, oc0, oc1);
    } else {
      if (left) blocksQLS(p, rows, rowB, kq, dst, count, oc0, oc1);
      else blocksQRS(p, rows, rowB, kq, dst, count, oc0, oc1);
    }
  }
}

// Pixels gathered per call of the block kernel: as many as fit 8 KiB of int16 rows,
// a multiple of 4 in [4, 16] (src/runtime/ops/conv.ts sizes the scratch the same way).
@inline function groupOf(kp: i32): i32 {
  const g = ((4096 / kp) >> 2) << 2;
  return g < 4 ? 4 : g > 16 ? 16 : g;
}

// The input pixel of flattened output pixel q of a 1x1 convolution.
@inline function src1x1(p: usize, q: i32): usize {
  const outW = w(p, 12), outH = w(p, 11);
  const ox = q % outW, t = q / outW;
  const oy = t % outH, b = t / outH;
  return wp(p, 0) + <usize>(((b * w(p, 8) + oy * w(p, 18)) * w(p, 9) + ox * w(p, 19)) * w(p, 10));
}

// Output pixels [q0, q1), G at a time.
@inline function pixels(p: usize, q0: i32, q1: i32, oc0: i32, oc1: i32, is1x1: bool, dense: bool, left: bool, fast: bool, useF: bool): void {
  const k = w(p, 14) * w(p, 15) * w(p, 10);
  const kp = k + (k & 1);
  const rowB = <usize>kp << 1;
  const scr = threadScratch(wp(p, 6));
  const inC = w(p, 10);
  const outC = <usize>w(p, 13);
  const output = wp(p, 3);
  const outW = w(p, 12), outH = w(p, 11);
  const end = wp(p, 0) + <usize>(w(p, 7) * w(p, 8) * w(p, 9) * inC);
  const G = groupOf(kp);
  // Windows inside the image without horizontal dilation: fH runs of fW * inC bytes,
  // copied here without the general gather (constants held across pixels).
  const input = wp(p, 0);
  const inH = w(p, 8), inW = w(p, 9);
  const fH = w(p, 14), fW = w(p, 15);
  const sH = w(p, 18), sW = w(p, 19), padH = w(p, 22), padW = w(p, 23);
  const dH = w(p, 20);
  const runs = w(p, 21) == 1;
  const run = fW * inC;
  const runB = <usize>run << 1;
  const rowStep = <usize>(dH * inW * inC);
  const yLast = (fH - 1) * dH;
  // Output coordinates of pixel q (kept up to date without divisions).
  let ox = q0 % outW, oy = (q0 / outW) % outH, b = q0 / (outW * outH);
  for (let q = q0; q < q1; q += G) {
    const count = min(G, q1 - q);
    for (let i = 0; i < count; i++) {
      const d = scr + <usize>i * rowB;
      if (!is1x1) {
        const iy0 = oy * sH - padH, ix0 = ox * sW - padW;
        if (runs && iy0 >= 0 && iy0 + yLast < inH && ix0 >= 0 && ix0 + fW <= inW) {
          let src = input + <usize>(((b * inH + iy0) * inW + ix0) * inC);
          let c = d;
          for (let fy = 0; fy < fH; fy++) {
            widen(c, src, run, end);
            src += rowStep;
            c += runB;
          }
        } else {
          gather(p, d, b, oy, ox);
        }
      } else if (dense) widen(d, wp(p, 0) + <usize>(q + i) * <usize>inC, inC, end);
      else widen(d, src1x1(p, q + i), inC, end);
      if (++ox == outW) {
        ox = 0;
        if (++oy == outH) { oy = 0; b++; }
      }
    }
    const dst = output + <usize>q * outC;
    if (useF) {
      blocksX(p, scr, rowB, dst, count, oc0, oc1);
    } else if (fast) {
      if (left) blocksLF(p, scr, rowB, dst, count, oc0, oc1);
      else blocksRF(p, scr, rowB, dst, count, oc0, oc1);
    } else {
      if (left) blocksLS(p, scr, rowB, dst, count, oc0, oc1);
      else blocksRS(p, scr, rowB, dst, count, oc0, oc1);
    }
  }
}

export function convGemmRows(p: usize, r0: i32, r1: i32): void {
  const outW = w(p, 12);
  convGemmPixels(p, r0 * outW, r1 * outW);
}

// Output pixels [q0, q1) (q = (batch * outH + oy) * outW + ox). The threads build splits
// this kernel by pixels rather than rows, at multiples of the 4-pixel block, or by
// channels when there are few pixels (assembly/index.ts, gemmSplit).
export function convGemmPixels(p: usize, q0: i32, q1: i32): void {
  convGemmPart(p, q0, q1, 0, w(p, 13));
}

// All output pixels, output channels [8 * b0, 8 * b1) (blocks of 8, the last one maybe
// partial). The threads build splits layers with few pixels (6 x 6, 3 x 3) this way: the
// work then splits evenly and each thread reads only its channels' weights; the pixels'
// int16 rows are made by every thread (cheap next to the products).
export function convGemmChannels(p: usize, b0: i32, b1: i32): void {
  const outC = w(p, 13);
  convGemmPart(p, 0, w(p, 7) * w(p, 11) * w(p, 12), b0 << 3, min(b1 << 3, outC));
}

function convGemmPart(p: usize, q0: i32, q1: i32, oc0: i32, oc1: i32): void {
  const outC = w(p, 13);
  const is1x1 = w(p, 14) == 1 && w(p, 15) == 1;
  // Stride 1 1x1: input pixel q is output pixel q.
  const dense = is1x1 && w(p, 18) == 1 && w(p, 19) == 1;
  const np = (outC + 7) & ~7;
  const left = anyLeft(wp(p, 29), np);
  const fast = rqFast(wp(p, 29), np) >= 0;
  // Word 33: the float32 output stage's constants, or 0 (its prepare refused it).
  const useF = wp(p, 33) != 0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    const layout = w(p, 32);
    if (layout == 1) {
      pixelsQ(p, q0, q1, oc0, oc1, left, fast, useF, false);
      return;
    }
    if (layout >= 2) {
      pixelsQ(p, q0, q1, oc0, oc1, left, fast, useF, true);
      return;
    }
  }
  if (is1x1) {
    if (dense) pixels(p, q0, q1, oc0, oc1, true, true, left, fast, useF);
    else pixels(p, q0, q1, oc0, oc1, true, false, left, fast, useF);
  } else {
    pixels(p, q0, q1, oc0, oc1, false, false, left, fast, useF);
  }
}
