// Reduction kernels of the shape family: MEAN, AVERAGE_POOL_2D, MAX_POOL_2D.
// Prepare steps: src/runtime/ops/shape-reduce.ts.
import { w, wp, mbqm, clampI32 } from '../fixedpoint';

@inline function loadElem(a: usize, es: i32): i32 {
  return es == 1 ? <i32>load<i8>(a) : <i32>load<i16>(a);
}

@inline function storeElem(a: usize, es: i32, v: i32): void {
  if (es == 1) store<i8>(a, <i8>v);
  else store<i16>(a, <i16>v);
}

// Sum of the four i32 lanes.
@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// Innermost dimension of the MEAN walk: n input elements (es bytes, stride sa bytes)
// added into 32-bit accumulators at b (stride sb bytes: 0 on a reduced axis, 4 on a
// kept one). Sums wrap like the reference's int32 accumulation.
@inline function meanRow(a: usize, b: usize, n: i32, sa: i32, sb: i32, es: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (sa == es && sb == 0) {
      let acc = i32x4.splat(0);
      if (es == 1) {
        for (; i + 16 <= n; i += 16) {
          const v = v128.load(a + <usize>i);
          acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v)));
        }
      } else {
        for (; i + 8 <= n; i += 8) {
          acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(v128.load(a + (<usize>i << 1))));
        }
      }
      store<i32>(b, load<i32>(b) + hsum(acc));
    } else if (sa == es && sb == 4) {
      for (; i + 8 <= n; i += 8) {
        const v = es == 1 ? v128.load8x8_s(a + <usize>i) : v128.load(a + (<usize>i << 1));
        const q = b + (<usize>i << 2);
        v128.store(q, i32x4.add(v128.load(q), i32x4.extend_low_i16x8_s(v)));
        v128.store(q, i32x4.add(v128.load(q, 16), i32x4.extend_high_i16x8_s(v)), 16);
      }
    }
  }
  let pa = a + <usize>(i * sa);
  let pb = b + <usize>(i * sb);
  for (; i < n; i++) {
    store<i32>(pb, load<i32>(pb) + loadElem(pa, es));
    pa += <usize>sa;
    pb += <usize>sb;
  }
}

// 505 MEAN: [src, dst, acc (scratch, nOut × i32), elemBytes, nOut, zpTimesCount,
//            multiplier, shift, outZeroPoint, qmin, qmax,
//            walk descriptor (19) of the input onto acc (acc strides 0 on reduced axes)]
// acc[o] = Σ input over the reduced axes; out = clamp(mbqm(acc − zp·count, m, s) + zpOut),
// where m, s already include the 1/count factor (folded in prepare as the reference does).
export function meanKernel(p: usize): void {
  const src = wp(p, 0), dst = wp(p, 1), acc = wp(p, 2);
  const es = w(p, 3), nOut = w(p, 4), zpn = w(p, 5);
  const mult = w(p, 6), shift = w(p, 7), zpOut = w(p, 8), qmin = w(p, 9), qmax = w(p, 10);
  memory.fill(acc, 0, <usize>nOut << 2);
  const d = p + 44;
  const c0 = w(d, 1), c1 = w(d, 2), c2 = w(d, 3), c3 = w(d, 4), c4 = w(d, 5), c5 = w(d, 6);
  const s0 = w(d, 7), s1 = w(d, 8), s2 = w(d, 9), s3 = w(d, 10), s4 = w(d, 11), s5 = w(d, 12);
  const t0 = w(d, 13), t1 = w(d, 14), t2 = w(d, 15), t3 = w(d, 16), t4 = w(d, 17), t5 = w(d, 18);
  for (let i0 = 0; i0 < c0; i0++) {
    const a0 = src + <usize>(i0 * s0), b0 = acc + <usize>(i0 * t0);
    for (let i1 = 0; i1 < c1; i1++) {
      const a1 = a0 + <usize>(i1 * s1), b1 = b0 + <usize>(i1 * t1);
      for (let i2 = 0; i2 < c2; i2++) {
        const a2 = a1 + <usize>(i2 * s2), b2 = b1 + <usize>(i2 * t2);
        for (let i3 = 0; i3 < c3; i3++) {
          const a3 = a2 + <usize>(i3 * s3), b3 = b2 + <usize>(i3 * t3);
          for (let i4 = 0; i4 < c4; i4++) {
            meanRow(a3 + <usize>(i4 * s4), b3 + <usize>(i4 * t4), c5, s5, t5, es);
          }
        }
      }
    }
  }
  for (let o = 0; o < nOut; o++) {
    const x = load<i32>(acc + (<usize>o << 2)) - zpn;
    const v = clampI32(mbqm(x, mult, shift) + zpOut, qmin, qmax);
    storeElem(dst + <usize>(o * es), es, v);
  }
}

// Pool record (506 AVERAGE_POOL, 507 MAX_POOL):
//   [src, dst, elemBytes (1 int8, 2 int16), batches, inH, inW, depth,
//    outH, outW, strideH, strideW, filterH, filterW, padTop, padLeft, qmin, qmax]
// NHWC. Each output pixel covers the window rows/cols that fall inside the input.

// Four window sums divided by the window size as the reference does, (s ± half) / count
// truncated, then clamped. The division runs in f64: numerator and divisor are integers
// below 2^31, so the correctly rounded quotient truncates to the exact integer quotient.
@inline function avgDiv(s: v128, half: v128, count: v128, lo: v128, hi: v128): v128 {
  const adj = i32x4.add(s, v128.bitselect(half, i32x4.neg(half), i32x4.gt_s(s, i32x4.splat(0))));
  const ql = i32x4.trunc_sat_f64x2_s_zero(f64x2.div(f64x2.convert_low_i32x4_s(adj), count));
  const qh = i32x4.trunc_sat_f64x2_s_zero(f64x2.div(f64x2.convert_low_i32x4_s(i32x4.shuffle(adj, adj, 2, 3, 2, 3)), count));
  return i32x4.min_s(i32x4.max_s(i32x4.shuffle(ql, qh, 0, 1, 4, 5), lo), hi);
}

// 506 AVERAGE_POOL: sum over the in-bounds window, divided by the number of in-bounds
// elements rounding half away from zero (truncating division of sum ± count/2), clamped.
export function avgPool(p: usize): void {
  const src = wp(p, 0), dst = wp(p, 1);
  const es = w(p, 2), batches = w(p, 3), inH = w(p, 4), inW = w(p, 5), depth = w(p, 6);
  const outH = w(p, 7), outW = w(p, 8), sh = w(p, 9), sw = w(p, 10);
  const fh = w(p, 11), fw = w(p, 12), padT = w(p, 13), padL = w(p, 14);
  const qmin = w(p, 15), qmax = w(p, 16);
  const rowBytes = <usize>(depth * es);
  let out = dst;
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * sh - padT;
      const fy0 = max(0, -y0), fy1 = min(fh, inH - y0);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * sw - padL;
        const fx0 = max(0, -x0), fx1 = min(fw, inW - x0);
        const count = (fy1 - fy0) * (fx1 - fx0);
        const half = count / 2;
        // Address of the window's first in-bounds pixel, and the step between rows.
        const first = src + <usize>(((b * inH + y0 + fy0) * inW + x0 + fx0)) * rowBytes;
        const rowStep = <usize>inW * rowBytes;
        const nx = fx1 - fx0, ny = fy1 - fy0;
        let c = 0;
        if (ASC_FEATURE_SIMD) {
          const lanes = es == 1 ? 16 : 8;
          const halfV = i32x4.splat(half), countV = f64x2.splat(<f64>count);
          const lo = i32x4.splat(qmin), hi = i32x4.splat(qmax);
          for (; c + lanes <= depth; c += lanes) {
            let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
            let row = first + <usize>(c * es);
            for (let y = 0; y < ny; y++) {
              let q = row;
              for (let x = 0; x < nx; x++) {
                const v = v128.load(q);
                if (es == 1) {
                  const v0 = i16x8.extend_low_i8x16_s(v), v1 = i16x8.extend_high_i8x16_s(v);
                  a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(v0));
                  a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(v0));
                  a2 = i32x4.add(a2, i32x4.extend_low_i16x8_s(v1));
                  a3 = i32x4.add(a3, i32x4.extend_high_i16x8_s(v1));
                } else {
                  a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(v));
                  a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(v));
                }
                q += rowBytes;
              }
              row += rowStep;
            }
            const r0 = avgDiv(a0, halfV, countV, lo, hi), r1 = avgDiv(a1, halfV, countV, lo, hi);
            if (es == 1) {
              const r2 = avgDiv(a2, halfV, countV, lo, hi), r3 = avgDiv(a3, halfV, countV, lo, hi);
              v128.store(out + <usize>c, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(r0, r1), i16x8.narrow_i32x4_s(r2, r3)));
            } else {
              v128.store(out + (<usize>c << 1), i16x8.narrow_i32x4_s(r0, r1));
            }
          }
        }
        for (; c < depth; c++) {
          let s = 0;
          let row = first + <usize>(c * es);
          for (let y = 0; y < ny; y++) {
            let q = row;
            for (let x = 0; x < nx; x++) {
              s += loadElem(q, es);
              q += rowBytes;
            }
            row += rowStep;
          }
          s = s > 0 ? (s + half) / count : (s - half) / count;
          storeElem(out + <usize>(c * es), es, clampI32(s, qmin, qmax));
        }
        out += rowBytes;
      }
    }
  }
}

// 507 MAX_POOL: maximum over the in-bounds window, clamped to [qmin, qmax].
export function maxPool(p: usize): void {
  const src = wp(p, 0), dst = wp(p, 1);
  const es = w(p, 2), batches = w(p, 3), inH = w(p, 4), inW = w(p, 5), depth = w(p, 6);
  const outH = w(p, 7), outW = w(p, 8), sh = w(p, 9), sw = w(p, 10);
  const fh = w(p, 11), fw = w(p, 12), padT = w(p, 13), padL = w(p, 14);
  const qmin = w(p, 15), qmax = w(p, 16);
  const rowBytes = <usize>(depth * es);
  let out = dst;
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * sh - padT;
      const fy0 = max(0, -y0), fy1 = min(fh, inH - y0);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * sw - padL;
        const fx0 = max(0, -x0), fx1 = min(fw, inW - x0);
        const first = src + <usize>(((b * inH + y0 + fy0) * inW + x0 + fx0)) * rowBytes;
        const rowStep = <usize>inW * rowBytes;
        const nx = fx1 - fx0, ny = fy1 - fy0;
        let c = 0;
        if (ASC_FEATURE_SIMD) {
          if (es == 1) {
            const lo = i8x16.splat(<i8>qmin), hi = i8x16.splat(<i8>qmax);
            for (; c + 16 <= depth; c += 16) {
              let m = lo;
              let row = first + <usize>c;
              for (let y = 0; y < ny; y++) {
                let q = row;
                for (let x = 0; x < nx; x++) { m = i8x16.max_s(m, v128.load(q)); q += rowBytes; }
                row += rowStep;
              }
              v128.store(out + <usize>c, i8x16.min_s(m, hi));
            }
          } else {
            const lo = i16x8.splat(<i16>qmin), hi = i16x8.splat(<i16>qmax);
            for (; c + 8 <= depth; c += 8) {
              let m = lo;
              let row = first + (<usize>c << 1);
              for (let y = 0; y < ny; y++) {
                let q = row;
                for (let x = 0; x < nx; x++) { m = i16x8.max_s(m, v128.load(q)); q += rowBytes; }
                row += rowStep;
              }
              v128.store(out + (<usize>c << 1), i16x8.min_s(m, hi));
            }
          }
        }
        for (; c < depth; c++) {
          // Starting from qmin is the same as max(lowest, window..., qmin).
          let m = qmin;
          let row = first + <usize>(c * es);
          for (let y = 0; y < ny; y++) {
            let q = row;
            for (let x = 0; x < nx; x++) { m = max(m, loadElem(q, es)); q += rowBytes; }
            row += rowStep;
          }
          storeElem(out + <usize>(c * es), es, min(m, qmax));
        }
        out += rowBytes;
      }
    }
  }
}
