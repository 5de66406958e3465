// Kernels of the shape family: data movement and reductions.
// Prepare steps and record layouts: src/runtime/ops/shape.ts (and shape-reduce.ts).
//
// Several kernels share a *walk descriptor* of 19 words, built in prepare:
//   [elemBytes, c0..c5, s0..s5, d0..d5]
// For every index (i0..i5) < (c0..c5) in row-major order, the element at
// src + Σ ik·sk is moved to dst + Σ ik·dk (strides in bytes, possibly negative).
// Size-1 dimensions are dropped and contiguous ones merged in prepare, so the
// innermost dimension is long and, when contiguous on both sides, one memory.copy.
import { w, wp } from '../fixedpoint';
import { meanKernel, avgPool, maxPool } from './shape-reduce';

// 501 COPY: [src, dst, bytes]
function copy(p: usize): void {
  memory.copy(wp(p, 1), wp(p, 0), <usize>w(p, 2));
}

// Innermost dimension of a walk: n elements of `es` bytes, strides sa (source) and sb
// (destination) in bytes.
@inline function walkRow(a: usize, b: usize, n: i32, sa: i32, sb: i32, es: i32): void {
  if (sa == es && sb == es) {
    memory.copy(b, a, <usize>(n * es));
    return;
  }
  const da = <usize>sa;
  const db = <usize>sb;
  if (es == 1) {
    for (let i = 0; i < n; i++) { store<u8>(b, load<u8>(a)); a += da; b += db; }
  } else if (es == 2) {
    for (let i = 0; i < n; i++) { store<u16>(b, load<u16>(a)); a += da; b += db; }
  } else if (es == 4) {
    for (let i = 0; i < n; i++) { store<u32>(b, load<u32>(a)); a += da; b += db; }
  } else {
    for (let i = 0; i < n; i++) { store<u64>(b, load<u64>(a)); a += da; b += db; }
  }
}

const TILE = 16;

// Runs the walk descriptor at d from src to dst.
export function walk(src: usize, dst: usize, d: usize): void {
  const es = w(d, 0);
  const c0 = w(d, 1), c1 = w(d, 2), c2 = w(d, 3), c3 = w(d, 4), c4 = w(d, 5), c5 = w(d, 6);
  const s0 = w(d, 7), s1 = w(d, 8), s2 = w(d, 9), s3 = w(d, 10), s4 = w(d, 11), s5 = w(d, 12);
  const t0 = w(d, 13), t1 = w(d, 14), t2 = w(d, 15), t3 = w(d, 16), t4 = w(d, 17), t5 = w(d, 18);
  const contiguous = s5 == es && t5 == es;
  for (let i0 = 0; i0 < c0; i0++) {
    const a0 = src + <usize>(i0 * s0), b0 = dst + <usize>(i0 * t0);
    for (let i1 = 0; i1 < c1; i1++) {
      const a1 = a0 + <usize>(i1 * s1), b1 = b0 + <usize>(i1 * t1);
      for (let i2 = 0; i2 < c2; i2++) {
        const a2 = a1 + <usize>(i2 * s2), b2 = b1 + <usize>(i2 * t2);
        for (let i3 = 0; i3 < c3; i3++) {
          const a3 = a2 + <usize>(i3 * s3), b3 = b2 + <usize>(i3 * t3);
          if (contiguous || c4 == 1) {
            for (let i4 = 0; i4 < c4; i4++) {
              walkRow(a3 + <usize>(i4 * s4), b3 + <usize>(i4 * t4), c5, s5, t5, es);
            }
          } else if (ASC_FEATURE_SIMD && es == 1 && c5 == 3 && s4 == 1 && t4 == 3 && t5 == 1) {
            // Three planes of bytes interleaved (NCHW -> NHWC of a 3-channel image).
            interleave3(a3, <usize>s5, b3, c4);
          } else {
            // Strided innermost dimension (a transpose): visit the two inner dimensions
            // in tiles so that both sides stay in cache.
            for (let j4 = 0; j4 < c4; j4 += TILE) {
              const e4 = min(j4 + TILE, c4);
              for (let j5 = 0; j5 < c5; j5 += TILE) {
                const n5 = min(TILE, c5 - j5);
                const a5 = a3 + <usize>(j5 * s5), b5 = b3 + <usize>(j5 * t5);
                for (let i4 = j4; i4 < e4; i4++) {
                  walkRow(a5 + <usize>(i4 * s4), b5 + <usize>(i4 * t4), n5, s5, t5, es);
                }
              }
            }
          }
        }
      }
    }
  }
}

// n bytes of each of three planes (a, a + plane, a + 2 * plane) -> 3n bytes at b, byte
// i of plane k at b + 3i + k: 16 of each per step, six shuffles, then the rest one by one.
@inline function interleave3(a: usize, plane: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 16 <= n; i += 16) {
      const x = v128.load(a + <usize>i), y = v128.load(a + plane + <usize>i), z = v128.load(a + 2 * plane + <usize>i);
      const o = b + <usize>(3 * i);
      // Output bytes 0-15: x0 y0 z0 x1 y1 z1 ... x5; 16-31: y5 z5 x6 ... y10; 32-47: z10 x11 ... z15.
      const p0 = i8x16.shuffle(x, y, 0, 16, 0, 1, 17, 1, 2, 18, 2, 3, 19, 3, 4, 20, 4, 5);
      v128.store(o, i8x16.shuffle(p0, z, 0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15));
      const p1 = i8x16.shuffle(x, y, 21, 5, 6, 22, 6, 7, 23, 7, 8, 24, 8, 9, 25, 9, 10, 26);
      v128.store(o, i8x16.shuffle(p1, z, 0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15), 16);
      const p2 = i8x16.shuffle(x, y, 10, 11, 27, 11, 12, 28, 12, 13, 29, 13, 14, 30, 14, 15, 31, 15);
      v128.store(o, i8x16.shuffle(p2, z, 26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31), 32);
    }
  }
  for (; i < n; i++) {
    const o = b + <usize>(3 * i);
    store<u8>(o, load<u8>(a + <usize>i));
    store<u8>(o + 1, load<u8>(a + plane + <usize>i));
    store<u8>(o + 2, load<u8>(a + 2 * plane + <usize>i));
  }
}

// 502 WALK (TRANSPOSE, STRIDED_SLICE): [src, dst, srcOffsetBytes, walk descriptor (19)]
function walkKernel(p: usize): void {
  walk(wp(p, 0) + <usize>w(p, 2), wp(p, 1), p + 12);
}

// Fills n elements of es bytes (1, 2 or 4) at dst with the low bytes of v.
function fill(dst: usize, n: i32, es: i32, v: i32): void {
  const bytes = n * es;
  if (es == 1) {
    memory.fill(dst, <u8>v, <usize>bytes);
    return;
  }
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const pattern = es == 2 ? i16x8.splat(<i16>v) : i32x4.splat(v);
    for (; i + 16 <= bytes; i += 16) v128.store(dst + <usize>i, pattern);
  }
  if (es == 2) {
    for (; i < bytes; i += 2) store<u16>(dst + <usize>i, <u16>v);
  } else {
    for (; i < bytes; i += 4) store<i32>(dst + <usize>i, v);
  }
}

// 503 PAD: [src, dst, outElems, padValue, padValueSrc (address or 0), dstOffsetBytes,
//           walk descriptor (19) of the input into the output's interior]
// The input is copied into the output's interior run by run, and what lies between the
// runs (and before the first, after the last) is filled with the pad value (read from
// padValueSrc at run time when that is non-zero): every output byte is written once.
function pad(p: usize): void {
  const es = w(p, 6);
  let v = w(p, 3);
  const vs = wp(p, 4);
  if (vs != 0) v = es == 1 ? <i32>load<i8>(vs) : es == 2 ? <i32>load<i16>(vs) : load<i32>(vs);
  const dst = wp(p, 1);
  const n = w(p, 2);
  if (!padRuns(wp(p, 0), dst, dst + <usize>w(p, 5), p + 24, es, v, n)) {
    fill(dst, n, es, v);
    walk(wp(p, 0), dst + <usize>w(p, 5), p + 24);
  }
}

// The interior walk of PAD (descriptor d, from src into dst) with the gaps between its
// runs filled, for n elements of es bytes at out. The walk's innermost dimension is
// contiguous on both sides and its destination strides are positive (the input is
// contiguous and the interior a box of the output), so its runs come in increasing order;
// returns false, writing nothing, for a descriptor that is not of that form.
function padRuns(src: usize, out: usize, dst: usize, d: usize, es: i32, v: i32, n: i32): bool {
  const c0 = w(d, 1), c1 = w(d, 2), c2 = w(d, 3), c3 = w(d, 4), c4 = w(d, 5), c5 = w(d, 6);
  const s0 = w(d, 7), s1 = w(d, 8), s2 = w(d, 9), s3 = w(d, 10), s4 = w(d, 11), s5 = w(d, 12);
  const t0 = w(d, 13), t1 = w(d, 14), t2 = w(d, 15), t3 = w(d, 16), t4 = w(d, 17), t5 = w(d, 18);
  if (s5 != es || t5 != es || t0 < 0 || t1 < 0 || t2 < 0 || t3 < 0 || t4 < 0) return false;
  const run = <usize>(c5 * es);
  let at = out;
  for (let i0 = 0; i0 < c0; i0++) {
    for (let i1 = 0; i1 < c1; i1++) {
      for (let i2 = 0; i2 < c2; i2++) {
        for (let i3 = 0; i3 < c3; i3++) {
          const a3 = src + <usize>(i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3);
          const b3 = dst + <usize>(i0 * t0 + i1 * t1 + i2 * t2 + i3 * t3);
          for (let i4 = 0; i4 < c4; i4++) {
            const b = b3 + <usize>(i4 * t4);
            if (b > at) fill(at, <i32>(b - at) / es, es, v);
            memory.copy(b, a3 + <usize>(i4 * s4), run);
            at = b + run;
          }
        }
      }
    }
  }
  const end = out + <usize>n * <usize>es;
  if (end > at) fill(at, <i32>(end - at) / es, es, v);
  return true;
}

// 504 CONCAT: [dst, outer, n, then n × (src_i, runBytes_i)]
// For each of the `outer` slices, the inputs' runs are written one after another.
function concat(p: usize): void {
  let d = wp(p, 0);
  const outer = w(p, 1);
  const n = w(p, 2);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const run = w(p, 4 + 2 * k);
      memory.copy(d, wp(p, 3 + 2 * k) + <usize>(o * run), <usize>run);
      d += <usize>run;
    }
  }
}

// Returns false for an id this family does not know.
export function runShape(id: i32, p: usize): bool {
  switch (id) {
    case 501: copy(p); break;
    case 502: walkKernel(p); break;
    case 503: pad(p); break;
    case 504: concat(p); break;
    case 505: meanKernel(p); break;
    case 506: avgPool(p); break;
    case 507: maxPool(p); break;
    default: return false;
  }
  return true;
}
