// The int8 multiply-accumulate roof of this engine's wasm SIMD: how many int8 MACs per
// second one thread can do with the instruction sequence Kestrel's int8 kernels are built
// on (int8 widened to i16, i32x4.dot_i16x8_s into i32x4 accumulators), with nothing else in
// the loop. Built by bench/roof/run.mjs with asc (-O3, SIMD) at bench time.
//
// Two families, each with a few accumulator counts (the best count is the roof):
//   regs<K>:  operands in registers. Each step widens one int8 vector (low and high halves,
//             2 instructions), then dots both halves with K i16 weight vectors into K
//             independent accumulators (2 dots = 16 MACs per accumulator). Each iteration does
//             two steps on two different int8 vectors and then changes both vectors (one
//             add each), so nothing in the loop is invariant: with constant inputs the
//             engine may hoist the widening or whole products out of the loop (Chromium's
//             does), which measured a roof up to 2.7x too high. The weights are loaded once
//             before the loop. K in {2, 4, 6} (6 accumulators + 6 weights + 4 operand
//             registers fill x64's 16 vector registers).
//   l1<R>:    operands loaded from L1, the shape of a real GEMM microkernel: 16 int8
//             activations loaded and widened once, then reused for R output channels whose
//             pre-widened i16 weights are loaded (2 x v128 per channel) from a 4 KiB block;
//             2 dots per channel into R accumulators (16 MACs per channel). Blocks stay in
//             L1 (they are re-read every pass). R in {2, 4, 8}.
// Every function returns a reduction of its accumulators so nothing is dead code. The
// register variants read their weight vectors from memory once, before the loop, so the
// engine keeps them in registers rather than rematerializing constants.

// L1 blocks: 256 bytes of int8 activations, 4 KiB of i16 weights (8 channels x 256 bytes).
const ACT_BYTES: usize = 256;
const ACT = memory.data(256, 16);
const WGT = memory.data(8 * 2 * 256, 16);

@inline function hsum(a: v128): i32 {
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}


export function regs2(iters: i32, seed: i32): i32 {
  let x0 = i8x16.splat(<i8>seed), x1 = i8x16.splat(<i8>(seed + 1));
  const step = i8x16.splat(1);
  const w0 = v128.load(WGT, 0), w1 = v128.load(WGT, 16);
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
  let lo: v128, hi: v128;
  for (let i = 0; i < iters; i++) {
    lo = i16x8.extend_low_i8x16_s(x0); hi = i16x8.extend_high_i8x16_s(x0);
    a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(lo, w0), i32x4.dot_i16x8_s(hi, w0)));
    a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(lo, w1), i32x4.dot_i16x8_s(hi, w1)));
    lo = i16x8.extend_low_i8x16_s(x1); hi = i16x8.extend_high_i8x16_s(x1);
    a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(lo, w0), i32x4.dot_i16x8_s(hi, w0)));
    a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(lo, w1), i32x4.dot_i16x8_s(hi, w1)));
    x0 = i8x16.add(x0, step); x1 = i8x16.sub(x1, step);
  }
  return hsum(i32x4.add(a0, a1));
}

export function regs4(iters: i32, seed: i32): i32 {
  let x0 = i8x16.splat(<i8>seed), x1 = i8x16.splat(<i8>(seed + 1));
  const step = i8x16.splat(1);
  const w0 = v128.load(WGT, 0), w1 = v128.load(WGT, 16), w2 = v128.load(WGT, 32), w3 = v128.load(WGT, 48);
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let lo: v128, hi: v128;
  for (let i = 0; i < iters; i++) {
    lo = i16x8.extend_low_i8x16_s(x0); hi = i16x8.extend_high_i8x16_s(x0);
    a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(lo, w0), i32x4.dot_i16x8_s(hi, w0)));
    a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(lo, w1), i32x4.dot_i16x8_s(hi, w1)));
    a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(lo, w2), i32x4.dot_i16x8_s(hi, w2)));
    a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(lo, w3), i32x4.dot_i16x8_s(hi, w3)));
    lo = i16x8.extend_low_i8x16_s(x1); hi = i16x8.extend_high_i8x16_s(x1);
    a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(lo, w0), i32x4.dot_i16x8_s(hi, w0)));
    a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(lo, w1), i32x4.dot_i16x8_s(hi, w1)));
    a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(lo, w2), i32x4.dot_i16x8_s(hi, w2)));
    a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(lo, w3), i32x4.dot_i16x8_s(hi, w3)));
    x0 = i8x16.add(x0, step); x1 = i8x16.sub(x1, step);
  }
  return hsum(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)));
}

export function regs6(iters: i32, seed: i32): i32 {
  let x0 = i8x16.splat(<i8>seed), x1 = i8x16.splat(<i8>(seed + 1));
  const step = i8x16.splat(1);
  const w0 = v128.load(WGT, 0), w1 = v128.load(WGT, 16), w2 = v128.load(WGT, 32), w3 = v128.load(WGT, 48), w4 = v128.load(WGT, 64), w5 = v128.load(WGT, 80);
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0), a4 = i32x4.splat(0), a5 = i32x4.splat(0);
  let lo: v128, hi: v128;
  for (let i = 0; i < iters; i++) {
    lo = i16x8.extend_low_i8x16_s(x0); hi = i16x8.extend_high_i8x16_s(x0);
    a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(lo, w0), i32x4.dot_i16x8_s(hi, w0)));
    a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(lo, w1), i32x4.dot_i16x8_s(hi, w1)));
    a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(lo, w2), i32x4.dot_i16x8_s(hi, w2)));
    a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(lo, w3), i32x4.dot_i16x8_s(hi, w3)));
    a4 = i32x4.add(a4, i32x4.add(i32x4.dot_i16x8_s(lo, w4), i32x4.dot_i16x8_s(hi, w4)));
    a5 = i32x4.add(a5, i32x4.add(i32x4.dot_i16x8_s(lo, w5), i32x4.dot_i16x8_s(hi, w5)));
    lo = i16x8.extend_low_i8x16_s(x1); hi = i16x8.extend_high_i8x16_s(x1);
    a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(lo, w0), i32x4.dot_i16x8_s(hi, w0)));
    a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(lo, w1), i32x4.dot_i16x8_s(hi, w1)));
    a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(lo, w2), i32x4.dot_i16x8_s(hi, w2)));
    a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(lo, w3), i32x4.dot_i16x8_s(hi, w3)));
    a4 = i32x4.add(a4, i32x4.add(i32x4.dot_i16x8_s(lo, w4), i32x4.dot_i16x8_s(hi, w4)));
    a5 = i32x4.add(a5, i32x4.add(i32x4.dot_i16x8_s(lo, w5), i32x4.dot_i16x8_s(hi, w5)));
    x0 = i8x16.add(x0, step); x1 = i8x16.sub(x1, step);
  }
  return hsum(i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(a4, a5)));
}

export function fill(seed: i32): void {
  let s = <u32>seed;
  for (let i: usize = 0; i < ACT_BYTES; i++) { s = s * 1103515245 + 12345; store<i8>(ACT + i, <i8>(s >> 16)); }
  for (let i: usize = 0; i < 8 * ACT_BYTES; i++) { s = s * 1103515245 + 12345; store<i16>(WGT + 2 * i, <i16>(<i8>(s >> 16))); }
}

// Channel r's weights for activations [k, k+16) are at WGT + r*512 + 2k (two v128).
@inline function chan(a: v128, lo: v128, hi: v128, r: usize, k: usize): v128 {
  const p = WGT + r * (2 * ACT_BYTES) + 2 * k;
  return i32x4.add(a, i32x4.add(i32x4.dot_i16x8_s(lo, v128.load(p)), i32x4.dot_i16x8_s(hi, v128.load(p, 16))));
}

export function l1_2(passes: i32): i32 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
  for (let n = 0; n < passes; n++) {
    for (let k: usize = 0; k < ACT_BYTES; k += 16) {
      const x = v128.load(ACT + k);
      const lo = i16x8.extend_low_i8x16_s(x), hi = i16x8.extend_high_i8x16_s(x);
      a0 = chan(a0, lo, hi, 0, k); a1 = chan(a1, lo, hi, 1, k);
    }
  }
  return hsum(i32x4.add(a0, a1));
}

export function l1_4(passes: i32): i32 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  for (let n = 0; n < passes; n++) {
    for (let k: usize = 0; k < ACT_BYTES; k += 16) {
      const x = v128.load(ACT + k);
      const lo = i16x8.extend_low_i8x16_s(x), hi = i16x8.extend_high_i8x16_s(x);
      a0 = chan(a0, lo, hi, 0, k); a1 = chan(a1, lo, hi, 1, k);
      a2 = chan(a2, lo, hi, 2, k); a3 = chan(a3, lo, hi, 3, k);
    }
  }
  return hsum(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)));
}

export function l1_8(passes: i32): i32 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
  for (let n = 0; n < passes; n++) {
    for (let k: usize = 0; k < ACT_BYTES; k += 16) {
      const x = v128.load(ACT + k);
      const lo = i16x8.extend_low_i8x16_s(x), hi = i16x8.extend_high_i8x16_s(x);
      a0 = chan(a0, lo, hi, 0, k); a1 = chan(a1, lo, hi, 1, k);
      a2 = chan(a2, lo, hi, 2, k); a3 = chan(a3, lo, hi, 3, k);
      a4 = chan(a4, lo, hi, 4, k); a5 = chan(a5, lo, hi, 5, k);
      a6 = chan(a6, lo, hi, 6, k); a7 = chan(a7, lo, hi, 7, k);
    }
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  return hsum(s);
}
