// Whether relaxed SIMD's int8 dot product would make Kestrel's kernels faster while staying
// bit-exact. i32x4.relaxed_dot_i8x16_i7x16_add_s is exact on every engine only when its
// second operand is in 0..127 (../../docs/performance.md, "Relaxed SIMD"); int8 weights are
// not, so an exact kernel must split them, w = wp - wn with wp, wn in 0..127, and take two
// relaxed dots per 16 multiply-accumulates. Three loops of the same shape (4 accumulators,
// operands in registers, two int8 input vectors per iteration) count int8 MACs per second:
//   base:   Kestrel's baseline sequence (widen to i16, i32x4.dot_i16x8_s, add), 64 MACs
//           per input vector;
//   split:  the exact relaxed form, two relaxed dots per 16 MACs;
//   direct: one relaxed dot per 16 MACs with weights in -128..127 (what a non-exact kernel
//           does: its results differ between engines when a weight is negative).
// Built by bench/relaxed/run.mjs with --enable simd,relaxed-simd; timed where the engine
// has relaxed SIMD (Chromium; Node 20 only behind a flag).

const W = memory.data(256, 16);

@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

export function fill(seed: i32): void {
  for (let i = 0; i < 256; i++) store<i8>(W + <usize>i, <i8>((i * 37 + seed) & 0x7f));
}

// The baseline is the roof's four-accumulator register loop (bench/roof/roof.ts): 2 input
// vectors x 4 weight vectors x 16 MACs per iteration, inputs changing every iteration.
export { regs4 as base } from '../roof/roof';

// The positive and negative weight halves go into separate accumulators (subtracted once
// at the end), so every dot starts an independent chain: 8 accumulators, 8 relaxed dots
// (4 x 16 MACs) per iteration.
export function split(iters: i32, seed: i32): i32 {
  let x0 = i8x16.splat(<i8>seed), x1 = i8x16.splat(<i8>(seed + 1));
  const step = i8x16.splat(1);
  const p0 = v128.load(W, 0), p1 = v128.load(W, 16), n0 = v128.load(W, 32), n1 = v128.load(W, 48);
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
  for (let i = 0; i < iters; i++) {
    a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, p0, a0); b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, n0, b0);
    a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, p1, a1); b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, n1, b1);
    a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, p0, a2); b2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, n0, b2);
    a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, p1, a3); b3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, n1, b3);
    x0 = i8x16.add(x0, step); x1 = i8x16.sub(x1, step);
  }
  const a = i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), b = i32x4.add(i32x4.add(b0, b1), i32x4.add(b2, b3));
  return hsum(i32x4.sub(a, b));
}

// 8 accumulators, 8 relaxed dots (8 x 16 MACs) per iteration.
export function direct(iters: i32, seed: i32): i32 {
  let x0 = i8x16.splat(<i8>seed), x1 = i8x16.splat(<i8>(seed + 1));
  const step = i8x16.splat(1);
  const w0 = v128.load(W, 0), w1 = v128.load(W, 16), w2 = v128.load(W, 32), w3 = v128.load(W, 48);
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
  for (let i = 0; i < iters; i++) {
    a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, w0, a0); b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, w1, b0);
    a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, w2, a1); b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, w3, b1);
    a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, w0, a2); b2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, w1, b2);
    a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, w2, a3); b3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, w3, b3);
    x0 = i8x16.add(x0, step); x1 = i8x16.sub(x1, step);
  }
  return hsum(i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(b0, b1), i32x4.add(b2, b3))));
}
