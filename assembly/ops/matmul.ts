// Kernels of the matmul family: FULLY_CONNECTED and TRANSPOSE_CONV.
// Prepare steps and the arithmetic they fold: src/runtime/ops/matmul.ts.
import { w, wp, mbqm, mbqm64, clampI32 } from '../fixedpoint';

// ---------------------------------------------------------------------------------
// Dot products of n values against n int8 weights. The int32 forms wrap mod 2^32
// (any summation order gives the same bits). The int64 form is exact: i32 lanes are
// drained into an i64 every 256 elements, before they could overflow.
// ---------------------------------------------------------------------------------

// Σ x[i] w[i], x int8.
function dot8(x: usize, wt: usize, n: i32): i32 {
  let s: i32 = 0;
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = i32x4.splat(0);
    let a1 = i32x4.splat(0);
    for (; i + 16 <= n; i += 16) {
      const p = <usize>i;
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(x + p), v128.load8x8_s(wt + p)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(x + p, 8), v128.load8x8_s(wt + p, 8)));
    }
    if (i + 8 <= n) {
      const p = <usize>i;
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(x + p), v128.load8x8_s(wt + p)));
      i += 8;
    }
    a0 = i32x4.add(a0, a1);
    s = i32x4.extract_lane(a0, 0) + i32x4.extract_lane(a0, 1) + i32x4.extract_lane(a0, 2) + i32x4.extract_lane(a0, 3);
  }
  for (; i < n; i++) s += <i32>load<i8>(x + <usize>i) * <i32>load<i8>(wt + <usize>i);
  return s;
}

// Σ x[i] w[i], x int16, wrapping int32.
function dot16(x: usize, wt: usize, n: i32): i32 {
  let s: i32 = 0;
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = i32x4.splat(0);
    let a1 = i32x4.splat(0);
    for (; i + 16 <= n; i += 16) {
      const p = <usize>i;
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(x + (p << 1)), v128.load8x8_s(wt + p)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(x + (p << 1), 16), v128.load8x8_s(wt + p, 8)));
    }
    if (i + 8 <= n) {
      const p = <usize>i;
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(x + (p << 1)), v128.load8x8_s(wt + p)));
      i += 8;
    }
    a0 = i32x4.add(a0, a1);
    s = i32x4.extract_lane(a0, 0) + i32x4.extract_lane(a0, 1) + i32x4.extract_lane(a0, 2) + i32x4.extract_lane(a0, 3);
  }
  for (; i < n; i++) s += <i32>load<i16>(x + (<usize>i << 1)) * <i32>load<i8>(wt + <usize>i);
  return s;
}

// Σ x[i] w[i], x int16, exact in int64.
function dot16x64(x: usize, wt: usize, n: i32): i64 {
  if (ASC_FEATURE_SIMD) {
    let total: i64 = 0;
    let i: i32 = 0;
    while (i < n) {
      // |x w| <= 2^22, so the int32 sum of a block of 256 elements stays within 2^30.
      const len = n - i < 256 ? n - i : 256;
      total += <i64>dot16(x + (<usize>i << 1), wt + <usize>i, len);
      i += len;
    }
    return total;
  } else {
    let s: i64 = 0;
    for (let i: i32 = 0; i < n; i++) s += <i64>(<i32>load<i16>(x + (<usize>i << 1)) * <i32>load<i8>(wt + <usize>i));
    return s;
  }
}

// SIMD only: the four dot products of x[0..n) against the weight rows w, w + stride,
// w + 2 stride, w + 3 stride (wrapping int32), lane k = row k. x is int16 (in16) or
// int8; x is loaded once for the four rows. Exact while n <= 256 (|x w| <= 2^22).
function dot4(x: usize, wt: usize, n: i32, stride: usize, in16: bool): v128 {
  let a0 = i32x4.splat(0);
  let a1 = i32x4.splat(0);
  let a2 = i32x4.splat(0);
  let a3 = i32x4.splat(0);
  const w1 = wt + stride;
  const w2 = w1 + stride;
  const w3 = w2 + stride;
  let i: i32 = 0;
  for (; i + 8 <= n; i += 8) {
    const p = <usize>i;
    const xv = in16 ? v128.load(x + (p << 1)) : v128.load8x8_s(x + p);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xv, v128.load8x8_s(wt + p)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xv, v128.load8x8_s(w1 + p)));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(xv, v128.load8x8_s(w2 + p)));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(xv, v128.load8x8_s(w3 + p)));
  }
  // Horizontal sums: lane k of the result = sum of the lanes of a_k.
  const s01 = i32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), v128.shuffle<i32>(a0, a1, 2, 6, 3, 7));
  const s23 = i32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), v128.shuffle<i32>(a2, a3, 2, 6, 3, 7));
  let r = i32x4.add(v128.shuffle<i32>(s01, s23, 0, 1, 4, 5), v128.shuffle<i32>(s01, s23, 2, 3, 6, 7));
  if (i < n) {
    let t0: i32 = 0, t1: i32 = 0, t2: i32 = 0, t3: i32 = 0;
    for (; i < n; i++) {
      const p = <usize>i;
      const xi: i32 = in16 ? <i32>load<i16>(x + (p << 1)) : <i32>load<i8>(x + p);
      t0 += xi * <i32>load<i8>(wt + p);
      t1 += xi * <i32>load<i8>(w1 + p);
      t2 += xi * <i32>load<i8>(w2 + p);
      t3 += xi * <i32>load<i8>(w3 + p);
    }
    r = i32x4.add(r, i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(t0), 1, t1), 2, t2), 3, t3));
  }
  return r;
}

@inline function lane(v: v128, k: i32): i32 {
  return k == 0 ? i32x4.extract_lane(v, 0) : k == 1 ? i32x4.extract_lane(v, 1) : k == 2 ? i32x4.extract_lane(v, 2) : i32x4.extract_lane(v, 3);
}

// Σ x[i] (int8 or int16), wrapping int32 / exact int64.
function rowSum(x: usize, n: i32, is16: bool): i64 {
  let s: i64 = 0;
  if (is16) for (let i: i32 = 0; i < n; i++) s += <i64>load<i16>(x + (<usize>i << 1));
  else for (let i: i32 = 0; i < n; i++) s += <i64>load<i8>(x + <usize>i);
  return s;
}

@inline function storeOut(out: usize, idx: i32, v: i32, is16: bool): void {
  if (is16) store<i16>(out + (<usize>idx << 1), <i16>v);
  else store<i8>(out + <usize>idx, <i8>v);
}

// 201 FC_ACC32 / 202 FC_ACC64:
// [input, output, weights int8 [units, depth], bias (i32[units] for 201, i64[units] for 202;
//  zero-point terms folded in), mult i32[units], shift i32[units], batches, units, depth,
//  inIs16, outIs16, outOffset, actMin, actMax, filterOffset]
// out[b, o] = clamp(mbqm(Σ_d x[b,d] w[o,d] + filterOffset Σ_d x[b,d] + bias[o]) + outOffset)
// Ranges (for a threaded dispatch): fcRange computes the outputs of batch rows [b0, b1)
// and output units [o0, o1); every output element is computed whole by one call, with
// the same integers whatever the split (no scratch).
function fullyConnected(p: usize, acc64: bool): void {
  fcRange(p, acc64, 0, w(p, 6), 0, w(p, 7));
}

function fcRange(p: usize, acc64: bool, b0: i32, b1: i32, o0: i32, o1: i32): void {
  const input = wp(p, 0);
  const output = wp(p, 1);
  const weights = wp(p, 2);
  const bias = wp(p, 3);
  const mult = wp(p, 4);
  const shift = wp(p, 5);
  const units = w(p, 7);
  const depth = w(p, 8);
  const in16 = w(p, 9) != 0;
  const out16 = w(p, 10) != 0;
  const outOffset = w(p, 11);
  const actMin = w(p, 12);
  const actMax = w(p, 13);
  const fo = w(p, 14);
  const inStride: usize = <usize>depth << (in16 ? 1 : 0);
  for (let b: i32 = b0; b < b1; b++) {
    const x = input + <usize>b * inStride;
    const rs: i64 = fo != 0 ? rowSum(x, depth, in16) : 0;
    const outBase = b * units;
    let o: i32 = o0;
    if (ASC_FEATURE_SIMD) {
      if (!acc64 || depth <= 256) {
        for (; o + 4 <= o1; o += 4) {
          const d4 = dot4(x, weights + <usize>o * <usize>depth, depth, <usize>depth, in16);
          for (let k: i32 = 0; k < 4; k++) {
            const ok = o + k;
            const d = lane(d4, k);
            const m = load<i32>(mult + (<usize>ok << 2));
            const sh = load<i32>(shift + (<usize>ok << 2));
            let v: i32;
            if (acc64) v = mbqm64(<i64>d + <i64>fo * rs + load<i64>(bias + (<usize>ok << 3)), m, sh);
            else v = mbqm(d + fo * <i32>rs + load<i32>(bias + (<usize>ok << 2)), m, sh);
            storeOut(output, outBase + ok, clampI32(v + outOffset, actMin, actMax), out16);
          }
        }
      }
    }
    for (; o < o1; o++) {
      const wt = weights + <usize>o * <usize>depth;
      const m = load<i32>(mult + (<usize>o << 2));
      const sh = load<i32>(shift + (<usize>o << 2));
      let v: i32;
      if (acc64) {
        const d: i64 = in16 ? dot16x64(x, wt, depth) : <i64>dot8(x, wt, depth);
        v = mbqm64(d + <i64>fo * rs + load<i64>(bias + (<usize>o << 3)), m, sh);
      } else {
        const d: i32 = in16 ? dot16(x, wt, depth) : dot8(x, wt, depth);
        v = mbqm(d + fo * <i32>rs + load<i32>(bias + (<usize>o << 2)), m, sh);
      }
      storeOut(output, outBase + o, clampI32(v + outOffset, actMin, actMax), out16);
    }
  }
}

// 203 TCONV_I8 / 204 TCONV_I16:
// [input, output, weights int8 [outC, kH, kW, inC], bias (i32[outC] for 203, i64[outC] for
//  204), mult i32[outC], shift i32[outC], batches, inH, inW, inC, outH, outW, outC, kH, kW,
//  strideH, strideW, padH, padW, inOffset, outOffset, actMin, actMax,
//  acc (scratch: i32 or i64 per output element), xbuf (scratch: inC i16, 203 only)]
// Each input pixel scatters Σ_ic (x + inOffset) w[oc, ky, kx, ic] into acc at
// (iy*strideH - padH + ky, ix*strideW - padW + kx, oc) when inside the output; then
// out = clamp(mbqm(acc + bias[oc]) + outOffset). 204 uses the raw int16 input and
// inOffset = outOffset = 0.
function transposeConv(p: usize, is16: bool): void {
  const input = wp(p, 0);
  const output = wp(p, 1);
  const weights = wp(p, 2);
  const bias = wp(p, 3);
  const mult = wp(p, 4);
  const shift = wp(p, 5);
  const batches = w(p, 6);
  const inH = w(p, 7);
  const inW = w(p, 8);
  const inC = w(p, 9);
  const outH = w(p, 10);
  const outW = w(p, 11);
  const outC = w(p, 12);
  const kH = w(p, 13);
  const kW = w(p, 14);
  const sH = w(p, 15);
  const sW = w(p, 16);
  const padH = w(p, 17);
  const padW = w(p, 18);
  const inOffset = w(p, 19);
  const outOffset = w(p, 20);
  const actMin = w(p, 21);
  const actMax = w(p, 22);
  const acc = wp(p, 23);
  const xbuf = wp(p, 24);
  const accShift: usize = is16 ? 3 : 2;
  const total: i32 = batches * outH * outW * outC;
  memory.fill(acc, 0, <usize>total << accShift);
  const tapStride: usize = <usize>inC;
  const filterStride: usize = <usize>kH * <usize>kW * <usize>inC;

  for (let b: i32 = 0; b < batches; b++) {
    for (let iy: i32 = 0; iy < inH; iy++) {
      for (let ix: i32 = 0; ix < inW; ix++) {
        const pix = (b * inH + iy) * inW + ix;
        let x: usize;
        if (is16) {
          x = input + (<usize>pix * tapStride << 1);
        } else {
          // The pixel with its offset applied, as int16 (|x + offset| <= 255).
          const src = input + <usize>pix * tapStride;
          for (let c: i32 = 0; c < inC; c++) {
            store<i16>(xbuf + (<usize>c << 1), <i16>(<i32>load<i8>(src + <usize>c) + inOffset));
          }
          x = xbuf;
        }
        const oy0 = iy * sH - padH;
        const ox0 = ix * sW - padW;
        for (let ky: i32 = 0; ky < kH; ky++) {
          const oy = oy0 + ky;
          if (oy < 0 || oy >= outH) continue;
          for (let kx: i32 = 0; kx < kW; kx++) {
            const ox = ox0 + kx;
            if (ox < 0 || ox >= outW) continue;
            const dst = acc + ((<usize>((b * outH + oy) * outW + ox) * <usize>outC) << accShift);
            let wt = weights + (<usize>ky * <usize>kW + <usize>kx) * tapStride;
            let oc: i32 = 0;
            if (ASC_FEATURE_SIMD) {
              // Four filters at a time (x is int16 in both forms; exact for inC <= 256).
              if (!is16 || inC <= 256) {
                for (; oc + 4 <= outC; oc += 4) {
                  const d4 = dot4(x, wt, inC, filterStride, true);
                  if (is16) {
                    for (let k: i32 = 0; k < 4; k++) {
                      const a = dst + (<usize>(oc + k) << 3);
                      store<i64>(a, load<i64>(a) + <i64>lane(d4, k));
                    }
                  } else {
                    const a = dst + (<usize>oc << 2);
                    v128.store(a, i32x4.add(v128.load(a), d4));
                  }
                  wt += filterStride << 2;
                }
              }
            }
            if (is16) {
              for (; oc < outC; oc++) {
                const a = dst + (<usize>oc << 3);
                store<i64>(a, load<i64>(a) + dot16x64(x, wt, inC));
                wt += filterStride;
              }
            } else {
              for (; oc < outC; oc++) {
                const a = dst + (<usize>oc << 2);
                store<i32>(a, load<i32>(a) + dot16(x, wt, inC));
                wt += filterStride;
              }
            }
          }
        }
      }
    }
  }

  let i: i32 = 0;
  while (i < total) {
    for (let oc: i32 = 0; oc < outC; oc++, i++) {
      const m = load<i32>(mult + (<usize>oc << 2));
      const sh = load<i32>(shift + (<usize>oc << 2));
      let v: i32;
      if (is16) {
        v = mbqm64(load<i64>(acc + (<usize>i << 3)) + load<i64>(bias + (<usize>oc << 3)), m, sh);
      } else {
        v = mbqm(load<i32>(acc + (<usize>i << 2)) + load<i32>(bias + (<usize>oc << 2)), m, sh);
      }
      storeOut(output, i, clampI32(v + outOffset, actMin, actMax), is16);
    }
  }
}

// Returns false for an id this family does not know.
// FULLY_CONNECTED (201, 202) outputs of batch rows [b0, b1) and units [o0, o1); false
// for another id.
export function runFcRange(id: i32, p: usize, b0: i32, b1: i32, o0: i32, o1: i32): bool {
  if (id == 201) fcRange(p, false, b0, b1, o0, o1);
  else if (id == 202) fcRange(p, true, b0, b1, o0, o1);
  else return false;
  return true;
}

// Rows for a threaded split: a row is one batch row and a block of four output units
// (the last block may be shorter): rows = batches * ceil(units / 4); row r covers batch
// r / ceil(units / 4), units [4 (r % ceil(units / 4)), + 4). One row per batch would
// leave a single-batch layer unsplit.
export function fcRowCount(p: usize): i32 {
  return w(p, 6) * ((w(p, 7) + 3) >> 2);
}

// Runs rows [r0, r1) (fcRowCount) of a FULLY_CONNECTED record; false for another id.
export function runMatmulRows(id: i32, p: usize, r0: i32, r1: i32): bool {
  if (id != 201 && id != 202) return false;
  const units = w(p, 7), blocks = (units + 3) >> 2;
  let r = r0;
  while (r < r1) {
    const b = r / blocks, k0 = r % blocks;
    // Contiguous blocks of one batch row run as one range.
    const k1 = min(blocks, k0 + (r1 - r));
    runFcRange(id, p, b, b + 1, k0 << 2, min(units, k1 << 2));
    r += k1 - k0;
  }
  return true;
}

export function runMatmul(id: i32, p: usize): bool {
  switch (id) {
    case 201: fullyConnected(p, false); break;
    case 202: fullyConnected(p, true); break;
    case 203: transposeConv(p, false); break;
    case 204: transposeConv(p, true); break;
    default: return false;
  }
  return true;
}
