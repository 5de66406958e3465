// Kernels of the elementwise family: ADD, SUB, MUL, MAXIMUM, MINIMUM on int8 / int16
// with broadcasting. Prepare steps and record layouts: src/runtime/ops/elementwise.ts.
//
// Every record starts [a, b, out, nd, params..., walk], where walk holds nd entries
// of 4 words, innermost dimension first: [size, strideA, strideB, strideOut]. For the
// innermost entry strideA / strideB are 0 (that input is broadcast along the row) or 1
// (it advances one element per output element) and strideOut is 1; the other entries
// hold byte strides. nd == 0 means an empty output. The walk visits output rows in
// order; the same-shape case is a single row over the whole tensor.
import { clampI32, mbqm, rdbpot, srdhm, w, wp } from '../fixedpoint';

// ---------------------------------------------------------------------------------
// SIMD helpers (4 x i32 lanes). Each gives the same bits as its scalar counterpart.

// srdhm on each lane against a non-negative multiplier (so no saturation case).
// Works on |a| with unsigned 64-bit products, which wasm SIMD handles natively:
// for a >= 0 the result is (|a|*m + 2^30) >> 31; for a < 0 it is the negation of
// (|a|*m + 2^30 - 1) >> 31, which is the reference's truncating division of
// (a*m + 1 - 2^30) by 2^31.
@inline function srdhm4(a: v128, m: v128): v128 {
  const mag = i32x4.abs(a); // |i32.MIN_VALUE| reads correctly as unsigned 2^31
  const sign = i32x4.shr_s(a, 31);
  const nudge = i32x4.add(i32x4.splat(1 << 30), sign);
  const lo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_u(mag, m), i64x2.extend_low_i32x4_u(nudge)), 31);
  const hi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_u(mag, m), i64x2.extend_high_i32x4_u(nudge)), 31);
  const r = i32x4.shuffle(lo, hi, 0, 2, 4, 6);
  return i32x4.sub(v128.xor(r, sign), sign);
}

// rdbpot on each lane; maskv = splat((1 << e) - 1), halfv = splat(mask >> 1).
@inline function rdbpot4(x: v128, e: i32, maskv: v128, halfv: v128): v128 {
  const rem = v128.and(x, maskv);
  const threshold = i32x4.sub(halfv, i32x4.shr_s(x, 31));
  return i32x4.sub(i32x4.shr_s(x, e), i32x4.gt_s(rem, threshold));
}

@inline function maskOf(e: i32): i32 {
  return <i32>((<i64>1 << e) - 1);
}

// 8 elements of T at ptr as two i32x4 (low four, high four).
@inline function load8lo<T>(ptr: usize): v128 {
  if (sizeof<T>() == 1) return i32x4.extend_low_i16x8_s(v128.load8x8_s(ptr));
  return i32x4.extend_low_i16x8_s(v128.load(ptr));
}
@inline function load8hi<T>(ptr: usize): v128 {
  if (sizeof<T>() == 1) return i32x4.extend_high_i16x8_s(v128.load8x8_s(ptr));
  return i32x4.extend_high_i16x8_s(v128.load(ptr));
}
// Stores two i32x4 (already within T's range) as 8 elements of T.
@inline function store8<T>(ptr: usize, lo: v128, hi: v128): void {
  const h = i16x8.narrow_i32x4_s(lo, hi);
  if (sizeof<T>() == 1) {
    store<i64>(ptr, i64x2.extract_lane(i8x16.narrow_i16x8_s(h, h), 0));
  } else {
    v128.store(ptr, h);
  }
}

// ---------------------------------------------------------------------------------
// 301 ADDSUB_I8, 302 ADDSUB_I16:
// [a, b, out, nd, off1, off2, leftShift, m1, r1, m2, r2, mo, ro, outOff, actMin, actMax, negate, walk...]
// r* are right shifts (>= 0); negate is -1 for SUB (input2's scaled value is negated), 0 for ADD.
const ADDSUB_WALK = 17;

@inline function scaleIn(x: i32, off: i32, ls: i32, m: i32, r: i32): i32 {
  return rdbpot(srdhm((x + off) << ls, m), r);
}

function rowAddSub<T>(p: usize, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  const off1 = w(p, 4), off2 = w(p, 5), ls = w(p, 6);
  const m1 = w(p, 7), r1 = w(p, 8), m2 = w(p, 9), r2 = w(p, 10);
  const mo = w(p, 11), ro = w(p, 12), outOff = w(p, 13);
  const lo = w(p, 14), hi = w(p, 15), neg = w(p, 16);
  const es = <usize>sizeof<T>();
  const stepA = sa ? es : 0, stepB = sb ? es : 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const off1v = i32x4.splat(off1), off2v = i32x4.splat(off2);
    const m1v = i32x4.splat(m1), m2v = i32x4.splat(m2), mov = i32x4.splat(mo);
    const k1 = i32x4.splat(maskOf(r1)), h1 = i32x4.splat(maskOf(r1) >> 1);
    const k2 = i32x4.splat(maskOf(r2)), h2 = i32x4.splat(maskOf(r2) >> 1);
    const ko = i32x4.splat(maskOf(ro)), hov = i32x4.splat(maskOf(ro) >> 1);
    const outv = i32x4.splat(outOff), lov = i32x4.splat(lo), hiv = i32x4.splat(hi);
    const negv = i32x4.splat(neg);
    // A broadcast input contributes one scaled value to the whole row.
    const s1c = i32x4.splat(scaleIn(<i32>load<T>(a), off1, ls, m1, r1));
    let s2c = scaleIn(<i32>load<T>(b), off2, ls, m2, r2);
    s2c = (s2c ^ neg) - neg;
    const s2cv = i32x4.splat(s2c);
    for (; i + 8 <= n; i += 8) {
      let s1lo = s1c, s1hi = s1c, s2lo = s2cv, s2hi = s2cv;
      if (sa) {
        s1lo = rdbpot4(srdhm4(i32x4.shl(i32x4.add(load8lo<T>(a), off1v), ls), m1v), r1, k1, h1);
        s1hi = rdbpot4(srdhm4(i32x4.shl(i32x4.add(load8hi<T>(a), off1v), ls), m1v), r1, k1, h1);
        a += 8 * es;
      }
      if (sb) {
        s2lo = rdbpot4(srdhm4(i32x4.shl(i32x4.add(load8lo<T>(b), off2v), ls), m2v), r2, k2, h2);
        s2hi = rdbpot4(srdhm4(i32x4.shl(i32x4.add(load8hi<T>(b), off2v), ls), m2v), r2, k2, h2);
        s2lo = i32x4.sub(v128.xor(s2lo, negv), negv);
        s2hi = i32x4.sub(v128.xor(s2hi, negv), negv);
        b += 8 * es;
      }
      let rlo = i32x4.add(rdbpot4(srdhm4(i32x4.add(s1lo, s2lo), mov), ro, ko, hov), outv);
      let rhi = i32x4.add(rdbpot4(srdhm4(i32x4.add(s1hi, s2hi), mov), ro, ko, hov), outv);
      rlo = i32x4.min_s(i32x4.max_s(rlo, lov), hiv);
      rhi = i32x4.min_s(i32x4.max_s(rhi, lov), hiv);
      store8<T>(o, rlo, rhi);
      o += 8 * es;
    }
  }
  for (; i < n; i++) {
    const s1 = scaleIn(<i32>load<T>(a), off1, ls, m1, r1);
    let s2 = scaleIn(<i32>load<T>(b), off2, ls, m2, r2);
    s2 = (s2 ^ neg) - neg;
    const raw = rdbpot(srdhm(s1 + s2, mo), ro) + outOff;
    store<T>(o, <T>clampI32(raw, lo, hi));
    a += stepA; b += stepB; o += es;
  }
}

// ---------------------------------------------------------------------------------
// 303 MUL_I8, 304 MUL_I16:
// [a, b, out, nd, off1, off2, multiplier, leftShift, rightShift, outOff, actMin, actMax, walk...]
const MUL_WALK = 12;

function rowMul<T>(p: usize, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  const off1 = w(p, 4), off2 = w(p, 5), m = w(p, 6), ls = w(p, 7), rs = w(p, 8);
  const outOff = w(p, 9), lo = w(p, 10), hi = w(p, 11);
  const es = <usize>sizeof<T>();
  const stepA = sa ? es : 0, stepB = sb ? es : 0;
  const shift = ls - rs; // mbqm's signed shift
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const off1v = i32x4.splat(off1), off2v = i32x4.splat(off2), mv = i32x4.splat(m);
    const kv = i32x4.splat(maskOf(rs)), hv = i32x4.splat(maskOf(rs) >> 1);
    const outv = i32x4.splat(outOff), lov = i32x4.splat(lo), hiv = i32x4.splat(hi);
    const x1c = i32x4.splat(<i32>load<T>(a) + off1), x2c = i32x4.splat(<i32>load<T>(b) + off2);
    for (; i + 8 <= n; i += 8) {
      let x1lo = x1c, x1hi = x1c, x2lo = x2c, x2hi = x2c;
      if (sa) {
        x1lo = i32x4.add(load8lo<T>(a), off1v);
        x1hi = i32x4.add(load8hi<T>(a), off1v);
        a += 8 * es;
      }
      if (sb) {
        x2lo = i32x4.add(load8lo<T>(b), off2v);
        x2hi = i32x4.add(load8hi<T>(b), off2v);
        b += 8 * es;
      }
      let rlo = i32x4.shl(i32x4.mul(x1lo, x2lo), ls);
      let rhi = i32x4.shl(i32x4.mul(x1hi, x2hi), ls);
      rlo = i32x4.add(rdbpot4(srdhm4(rlo, mv), rs, kv, hv), outv);
      rhi = i32x4.add(rdbpot4(srdhm4(rhi, mv), rs, kv, hv), outv);
      rlo = i32x4.min_s(i32x4.max_s(rlo, lov), hiv);
      rhi = i32x4.min_s(i32x4.max_s(rhi, lov), hiv);
      store8<T>(o, rlo, rhi);
      o += 8 * es;
    }
  }
  for (; i < n; i++) {
    const x1 = <i32>load<T>(a) + off1;
    const x2 = <i32>load<T>(b) + off2;
    const raw = mbqm(x1 * x2, m, shift) + outOff;
    store<T>(o, <T>clampI32(raw, lo, hi));
    a += stepA; b += stepB; o += es;
  }
}

// ---------------------------------------------------------------------------------
// 305 MAX_I8, 306 MIN_I8, 307 MAX_I16, 308 MIN_I16: [a, b, out, nd, walk...]
// Raw quantized values are compared; no rescaling.
const MAXMIN_WALK = 4;

function rowMaxMin<T>(isMax: bool, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  const es = <usize>sizeof<T>();
  const stepA = sa ? es : 0, stepB = sb ? es : 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const lanes = 16 / <i32>sizeof<T>();
    let ac: v128, bc: v128;
    if (sizeof<T>() == 1) { ac = i8x16.splat(load<i8>(a)); bc = i8x16.splat(load<i8>(b)); }
    else { ac = i16x8.splat(load<i16>(a)); bc = i16x8.splat(load<i16>(b)); }
    for (; i + lanes <= n; i += lanes) {
      let va = ac, vb = bc;
      if (sa) { va = v128.load(a); a += 16; }
      if (sb) { vb = v128.load(b); b += 16; }
      let r: v128;
      if (sizeof<T>() == 1) r = isMax ? i8x16.max_s(va, vb) : i8x16.min_s(va, vb);
      else r = isMax ? i16x8.max_s(va, vb) : i16x8.min_s(va, vb);
      v128.store(o, r);
      o += 16;
    }
  }
  for (; i < n; i++) {
    const x = load<T>(a), y = load<T>(b);
    store<T>(o, isMax ? (x > y ? x : y) : (x < y ? x : y));
    a += stepA; b += stepB; o += es;
  }
}

// ---------------------------------------------------------------------------------
// 309 ADDSUB_I8_TABLE: [a, b, out, nd, (words 4-16 as kernel 301), table, built, iota, walk...]
// An int8 ADD or SUB on large tensors: every output is one of 65536 values, looked up as
// table[(u(a) << 8) | u(b)], u(x) = x & 255. The table (65536 bytes of memory that start
// zeroed) is filled on the op's first run by kernel 301's own row code, one row per value
// of a, from iota (the bytes 0..255), and word 18 then set: before any other thread reads
// it (splitRows runs on thread 0 before it hands out rows, through elementwiseRowCount).
const ADDSUB_T_WALK = 20;

function ensureTable(p: usize): void {
  if (w(p, 18) != 0) return;
  const t = wp(p, 17);
  const iota = wp(p, 19);
  // Row u(a): a broadcast (step 0) against b = every int8 value in u8 order.
  for (let ua = 0; ua < 256; ua++) rowAddSub<i8>(p, iota + <usize>ua, 0, iota, 1, t + (<usize>ua << 8), 256);
  store<i32>(p + (18 << 2), 1);
}

@inline function lookup(t: usize, ia: i32, ib: i32): u8 {
  return load<u8>(t + <usize>(((ia & 255) << 8) | (ib & 255)));
}

function rowTable(p: usize, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  const t = wp(p, 17);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (sa && sb) {
      // Sixteen at a time: interleaving the bytes of b and a gives the sixteen indices as
      // int16 lanes (b the low byte, a the high one).
      for (; i + 16 <= n; i += 16) {
        const va = v128.load(a + <usize>i), vb = v128.load(b + <usize>i);
        const lo = i8x16.shuffle(vb, va, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const hi = i8x16.shuffle(vb, va, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const d = o + <usize>i;
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(lo, 0)));
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(lo, 1)), 1);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(lo, 2)), 2);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(lo, 3)), 3);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(lo, 4)), 4);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(lo, 5)), 5);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(lo, 6)), 6);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(lo, 7)), 7);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(hi, 0)), 8);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(hi, 1)), 9);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(hi, 2)), 10);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(hi, 3)), 11);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(hi, 4)), 12);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(hi, 5)), 13);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(hi, 6)), 14);
        store<u8>(d, load<u8>(t + <usize>i16x8.extract_lane_u(hi, 7)), 15);
      }
    }
  }
  // The rest, and rows where an input is broadcast (its step is 0).
  const stepA = <usize>(sa ? 1 : 0), stepB = <usize>(sb ? 1 : 0);
  a += <usize>i * stepA; b += <usize>i * stepB;
  for (; i < n; i++) {
    store<u8>(o + <usize>i, lookup(t, <i32>load<u8>(a), <i32>load<u8>(b)));
    a += stepA; b += stepB;
  }
}

// ---------------------------------------------------------------------------------
// The walk: dimension d of the entries at `dims`; rows (d == 0) go to the op's row.

function row(id: i32, p: usize, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  switch (id) {
    case 301: rowAddSub<i8>(p, a, sa, b, sb, o, n); break;
    case 302: rowAddSub<i16>(p, a, sa, b, sb, o, n); break;
    case 303: rowMul<i8>(p, a, sa, b, sb, o, n); break;
    case 304: rowMul<i16>(p, a, sa, b, sb, o, n); break;
    case 305: rowMaxMin<i8>(true, a, sa, b, sb, o, n); break;
    case 306: rowMaxMin<i8>(false, a, sa, b, sb, o, n); break;
    case 307: rowMaxMin<i16>(true, a, sa, b, sb, o, n); break;
    case 308: rowMaxMin<i16>(false, a, sa, b, sb, o, n); break;
    case 309: rowTable(p, a, sa, b, sb, o, n); break;
    default: break;
  }
}

function walk(id: i32, p: usize, dims: usize, d: i32, a: usize, b: usize, o: usize): void {
  const e = dims + (<usize>d << 4);
  const n = load<i32>(e);
  if (d == 0) {
    row(id, p, a, load<i32>(e, 4), b, load<i32>(e, 8), o, n);
    return;
  }
  const sa = <usize>load<i32>(e, 4), sb = <usize>load<i32>(e, 8), so = <usize>load<i32>(e, 12);
  for (let i = 0; i < n; i++) {
    walk(id, p, dims, d - 1, a, b, o);
    a += sa; b += sb; o += so;
  }
}

function run(id: i32, p: usize, walkWord: i32): void {
  const nd = w(p, 3);
  if (nd <= 0) return;
  walk(id, p, p + (<usize>walkWord << 2), nd - 1, wp(p, 0), wp(p, 1), wp(p, 2));
}

function runTable(p: usize): void {
  ensureTable(p);
  run(309, p, ADDSUB_T_WALK);
}

// Returns false for an id this family does not know.
export function runElementwise(id: i32, p: usize): bool {
  switch (id) {
    case 301: case 302: run(id, p, ADDSUB_WALK); break;
    case 303: case 304: run(id, p, MUL_WALK); break;
    case 305: case 306: case 307: case 308: run(id, p, MAXMIN_WALK); break;
    case 309: runTable(p); break;
    default: return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------
// Rows for multi-threaded runs (assembly/index.ts splitRows): an op whose walk is a
// single row (same shapes, or one input a scalar) is cut into blocks of EW_BLOCK output
// elements, one block per row; every element is computed on its own, so any cut gives
// the same bits. Broadcasting walks are not split (0 rows).
const EW_BLOCK = 2048;

@inline function walkWordOf(id: i32): i32 {
  return id <= 302 ? ADDSUB_WALK : id <= 304 ? MUL_WALK : id <= 308 ? MAXMIN_WALK : ADDSUB_T_WALK;
}

export function elementwiseRowCount(id: i32, p: usize): i32 {
  if (id == 309) ensureTable(p);
  if (w(p, 3) != 1) return 0;
  const n = load<i32>(p + (<usize>walkWordOf(id) << 2));
  return (n + EW_BLOCK - 1) / EW_BLOCK;
}

// Runs rows [r0, r1) of a single-row walk. Returns false for an id this family does not know.
export function runElementwiseRows(id: i32, p: usize, r0: i32, r1: i32): bool {
  if (id < 301 || id > 309) return false;
  const e = p + (<usize>walkWordOf(id) << 2);
  const n = load<i32>(e), sa = load<i32>(e, 4), sb = load<i32>(e, 8);
  const s = r0 * EW_BLOCK;
  const end = min(r1 * EW_BLOCK, n);
  if (end <= s) return true;
  const esz: usize = id == 301 || id == 303 || id == 305 || id == 306 || id == 309 ? 1 : 2;
  const off = <usize>s * esz;
  row(id, p, wp(p, 0) + off * <usize>sa, sa, wp(p, 1) + off * <usize>sb, sb, wp(p, 2) + off, end - s);
  return true;
}
