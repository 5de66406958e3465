// Data-movement loops of Kestrel's training kernels for the tfjs wasm backend.
//
// This module imports its memory: it is instantiated on the wasm backend's own heap, so
// every pointer below is a byte offset of a tensor (or scratch buffer) the backend
// allocated, and nothing is copied in or out. It therefore must not own any memory: no
// static data, no allocation (stub runtime, no strings, abort disabled), only loads and
// stores through the pointers it is given. All tensors are float32, NHWC.

// Transposed patch matrix of x [N,H,W,CI] for a KHxKW window with strides (sh, sw) and
// top/left padding (pt, pl): p[(kh*KW + kw)*CI + ci][(b*OH + oh)*OW + ow] =
// x[b, oh*sh + kh - pt, ow*sw + kw - pl, ci], 0 outside x.
export function im2colT(
  x: usize, p: usize,
  N: i32, H: i32, W: i32, CI: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, KH: i32, KW: i32, pt: i32, pl: i32,
): void {
  const M = N * OH * OW;
  const rowBytes = <usize>OW << 2;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // Output columns whose input column ow*sw + kw - pl lies inside [0, W).
      let owLo = 0;
      while (owLo < OW && owLo * sw + kw - pl < 0) owLo++;
      let owHi = owLo;
      while (owHi < OW && owHi * sw + kw - pl < W) owHi++;
      const n = owHi - owLo;
      for (let ci = 0; ci < CI; ci++) {
        let o = p + ((<usize>((kh * KW + kw) * CI + ci) * <usize>M) << 2);
        for (let b = 0; b < N; b++) {
          for (let oh = 0; oh < OH; oh++, o += rowBytes) {
            const ih = oh * sh + kh - pt;
            if (ih < 0 || ih >= H) {
              memory.fill(o, 0, rowBytes);
              continue;
            }
            if (owLo > 0) memory.fill(o, 0, <usize>owLo << 2);
            if (owHi < OW) memory.fill(o + (<usize>owHi << 2), 0, <usize>(OW - owHi) << 2);
            if (n <= 0) continue;
            const src = x + (<usize>(((b * H + ih) * W + owLo * sw + kw - pl) * CI + ci) << 2);
            const dst = o + (<usize>owLo << 2);
            if (sw == 1 && CI == 1) {
              memory.copy(dst, src, <usize>n << 2);
            } else {
              const step = <usize>(sw * CI) << 2;
              let s = src;
              for (let i = 0; i < n; i++, s += step) store<f32>(dst + (<usize>i << 2), load<f32>(s));
            }
          }
        }
      }
    }
  }
}

// dx (zeroed here) gets each row of cols [N*OH*OW, KH*KW*CI] added into its input patch.
export function col2im(
  cols: usize, dx: usize,
  N: i32, H: i32, W: i32, CI: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, KH: i32, KW: i32, pt: i32, pl: i32,
): void {
  memory.fill(dx, 0, <usize>(N * H * W * CI) << 2);
  const KC = KH * KW * CI;
  let r = cols;
  for (let b = 0; b < N; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, r += <usize>KC << 2) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw - pl;
            if (iw < 0 || iw >= W) continue;
            const d = dx + (<usize>(((b * H + ih) * W + iw) * CI) << 2);
            const s = r + (<usize>((kh * KW + kw) * CI) << 2);
            let ci = 0;
            if (ASC_FEATURE_SIMD) {
              for (; ci + 4 <= CI; ci += 4) {
                const q = <usize>ci << 2;
                v128.store(d + q, f32x4.add(v128.load(d + q), v128.load(s + q)));
              }
            }
            for (; ci < CI; ci++) {
              const q = <usize>ci << 2;
              store<f32>(d + q, load<f32>(d + q) + load<f32>(s + q));
            }
          }
        }
      }
    }
  }
}

// Max-pool gradient: dx (zeroed here) gets dy of every output at the first maximum of its
// window (row-major scan, strict '>'), as the tfjs cpu backend picks it.
export function maxPoolGrad(
  x: usize, dy: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, FH: i32, FW: i32, pt: i32, pl: i32,
): void {
  memory.fill(dx, 0, <usize>(N * H * W * C) << 2);
  let g = dy;
  for (let b = 0; b < N; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const r0 = oh * sh - pt;
      const rLo = max(0, r0);
      const rHi = min(H, r0 + FH);
      for (let ow = 0; ow < OW; ow++) {
        const c0 = ow * sw - pl;
        const cLo = max(0, c0);
        const cHi = min(W, c0 + FW);
        for (let ch = 0; ch < C; ch++, g += 4) {
          let best = -Infinity;
          let at: isize = -1;
          for (let r = rLo; r < rHi; r++) {
            let i = <isize>(((b * H + r) * W + cLo) * C + ch);
            for (let q = cLo; q < cHi; q++, i += C) {
              const v = load<f32>(x + (<usize>i << 2));
              if (v > best) {
                best = v;
                at = i;
              }
            }
          }
          if (at >= 0) {
            const d = dx + (<usize>at << 2);
            store<f32>(d, load<f32>(d) + load<f32>(g));
          }
        }
      }
    }
  }
}

// dst[b][c][r] = src[b][r][c] for B matrices of R x C, in 8x8 tiles.
export function transposeLast2(src: usize, dst: usize, B: i32, R: i32, C: i32): void {
  const T = 8;
  for (let b = 0; b < B; b++) {
    const base = <usize>(b * R * C);
    for (let r0 = 0; r0 < R; r0 += T) {
      const r1 = min(R, r0 + T);
      for (let c0 = 0; c0 < C; c0 += T) {
        const c1 = min(C, c0 + T);
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            store<f32>(dst + ((base + <usize>(c * R + r)) << 2), load<f32>(src + ((base + <usize>(r * C + c)) << 2)));
          }
        }
      }
    }
  }
}

// tanh over n floats (the LSTM's cell activation; the stock kernel calls scalar libm).
// |x| < 0.625: odd minimax polynomial x + x^3 P(x^2). Otherwise 1 - 2 / (e^(2|x|) + 1),
// with e^v from v = k ln2 + r, |r| <= ln2/2, a degree-6 polynomial for e^r and 2^k put
// into the exponent bits; |x| is capped at 9, where tanh is 1 in float32. Relative error
// stays within a few float32 ulps.
export function tanh(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const signMask = i32x4.splat(0x80000000);
    for (; i + 4 <= n; i += 4) {
      const p = <usize>i << 2;
      const v = v128.load(x + p);
      const a = v128.andnot(v, signMask);
      // Small arguments.
      const z = f32x4.mul(v, v);
      let q = f32x4.splat(-5.70498872745e-3);
      q = f32x4.add(f32x4.mul(q, z), f32x4.splat(2.06390887954e-2));
      q = f32x4.add(f32x4.mul(q, z), f32x4.splat(-5.37397155531e-2));
      q = f32x4.add(f32x4.mul(q, z), f32x4.splat(1.33314422036e-1));
      q = f32x4.add(f32x4.mul(q, z), f32x4.splat(-3.33332819422e-1));
      const small = f32x4.add(v, f32x4.mul(f32x4.mul(v, z), q));
      // Large arguments: e = exp(2 min(|x|, 9)).
      const t = f32x4.mul(f32x4.min(a, f32x4.splat(9.0)), f32x4.splat(2.0));
      const k = f32x4.nearest(f32x4.mul(t, f32x4.splat(1.44269504089)));
      let r = f32x4.sub(t, f32x4.mul(k, f32x4.splat(0.693359375)));
      r = f32x4.sub(r, f32x4.mul(k, f32x4.splat(-2.12194440e-4)));
      let e = f32x4.splat(1.9875691500e-4);
      e = f32x4.add(f32x4.mul(e, r), f32x4.splat(1.3981999507e-3));
      e = f32x4.add(f32x4.mul(e, r), f32x4.splat(8.3334519073e-3));
      e = f32x4.add(f32x4.mul(e, r), f32x4.splat(4.1665795894e-2));
      e = f32x4.add(f32x4.mul(e, r), f32x4.splat(1.6666665459e-1));
      e = f32x4.add(f32x4.mul(e, r), f32x4.splat(5.0000001201e-1));
      e = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(e, r), r), r), f32x4.splat(1.0));
      const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
      e = f32x4.mul(e, scale);
      let big = f32x4.sub(f32x4.splat(1.0), f32x4.div(f32x4.splat(2.0), f32x4.add(e, f32x4.splat(1.0))));
      big = v128.or(big, v128.and(v, signMask));
      const useSmall = f32x4.lt(a, f32x4.splat(0.625));
      let out = v128.bitselect(small, big, useSmall);
      // NaN in, NaN out.
      out = v128.bitselect(out, v, f32x4.eq(v, v));
      v128.store(y + p, out);
    }
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, Mathf.tanh(load<f32>(x + p)));
  }
}
