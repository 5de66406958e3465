// Kernels of the lstm family: UNIDIRECTIONAL_SEQUENCE_LSTM, fully integer.
// Prepare step and record layout: src/runtime/ops/lstm.ts.
import { clampI32, mbqm64, rdbpot, w, wp } from '../fixedpoint';
import { rescale16, sigmoidQ15, tanhQ15 } from './sigmoid16';

// MultiplyByQuantizedMultiplier (int32, double rounding), the same integers as
// fixedpoint.ts's mbqm, with the rounding high multiply done by shifts instead of a
// 64-bit division (truncating division of a negative value by 2^31 is the negated
// floor-shift of its magnitude).
@inline function mulQ(x: i32, qm: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const a = x * (1 << left);
  let hi: i32;
  if (a == qm && a == i32.MIN_VALUE) {
    hi = i32.MAX_VALUE;
  } else {
    const ab: i64 = <i64>a * <i64>qm;
    hi = ab >= 0 ? <i32>((ab + (1 << 30)) >> 31) : -<i32>(((1 << 30) - 1 - ab) >> 31);
  }
  return rdbpot(hi, right);
}

// ---------------------------------------------------------------------------------
// Generic int8 matrix-vector products.
//
// matvecI8xI8: acc[r] = bias[r] + Σ_c W[r·cols + c] · x[c]   (int8 W and x, int32 acc,
// wrapping like the reference's int32 accumulator).
// matvecI8xI16: the same with int16 x, int64 bias and accumulators.
// ---------------------------------------------------------------------------------

export function matvecI8xI8(wt: usize, x: usize, rows: i32, cols: i32, bias: usize, acc: usize): void {
  let r = 0;
  if (ASC_FEATURE_SIMD) {
    // Four rows at a time share each widened slice of x.
    for (; r + 4 <= rows; r += 4) {
      const r0 = wt + <usize>r * <usize>cols;
      const r1 = r0 + <usize>cols;
      const r2 = r1 + <usize>cols;
      const r3 = r2 + <usize>cols;
      let v0 = i32x4.splat(0);
      let v1 = i32x4.splat(0);
      let v2 = i32x4.splat(0);
      let v3 = i32x4.splat(0);
      let c = 0;
      for (; c + 16 <= cols; c += 16) {
        const xv = v128.load(x + <usize>c);
        const xl = i16x8.extend_low_i8x16_s(xv);
        const xh = i16x8.extend_high_i8x16_s(xv);
        const a0 = v128.load(r0 + <usize>c);
        const a1 = v128.load(r1 + <usize>c);
        const a2 = v128.load(r2 + <usize>c);
        const a3 = v128.load(r3 + <usize>c);
        v0 = i32x4.add(v0, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a0), xl), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a0), xh)));
        v1 = i32x4.add(v1, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a1), xl), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a1), xh)));
        v2 = i32x4.add(v2, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a2), xl), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a2), xh)));
        v3 = i32x4.add(v3, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a3), xl), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a3), xh)));
      }
      if (c + 8 <= cols) {
        const xl = v128.load8x8_s(x + <usize>c);
        v0 = i32x4.add(v0, i32x4.dot_i16x8_s(v128.load8x8_s(r0 + <usize>c), xl));
        v1 = i32x4.add(v1, i32x4.dot_i16x8_s(v128.load8x8_s(r1 + <usize>c), xl));
        v2 = i32x4.add(v2, i32x4.dot_i16x8_s(v128.load8x8_s(r2 + <usize>c), xl));
        v3 = i32x4.add(v3, i32x4.dot_i16x8_s(v128.load8x8_s(r3 + <usize>c), xl));
        c += 8;
      }
      // Transpose-add the four accumulators into one vector of row sums.
      const s01 = i32x4.add(i32x4.shuffle(v0, v1, 0, 4, 1, 5), i32x4.shuffle(v0, v1, 2, 6, 3, 7));
      const s23 = i32x4.add(i32x4.shuffle(v2, v3, 0, 4, 1, 5), i32x4.shuffle(v2, v3, 2, 6, 3, 7));
      let sums = i32x4.add(i32x4.shuffle(s01, s23, 0, 1, 4, 5), i32x4.shuffle(s01, s23, 2, 3, 6, 7));
      sums = i32x4.add(sums, v128.load(bias + (<usize>r << 2)));
      for (; c < cols; c++) {
        const xc = <i32>load<i8>(x + <usize>c);
        sums = i32x4.add(sums, i32x4.mul(i32x4(
          <i32>load<i8>(r0 + <usize>c), <i32>load<i8>(r1 + <usize>c), <i32>load<i8>(r2 + <usize>c), <i32>load<i8>(r3 + <usize>c),
        ), i32x4.splat(xc)));
      }
      v128.store(acc + (<usize>r << 2), sums);
    }
  }
  for (; r < rows; r++) {
    const row = wt + <usize>r * <usize>cols;
    let sum: i32 = load<i32>(bias + (<usize>r << 2));
    for (let c = 0; c < cols; c++) {
      sum += <i32>load<i8>(row + <usize>c) * <i32>load<i8>(x + <usize>c);
    }
    store<i32>(acc + (<usize>r << 2), sum);
  }
}

export function matvecI8xI16(wt: usize, x: usize, rows: i32, cols: i32, bias: usize, acc: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = wt + <usize>r * <usize>cols;
    let sum: i64 = load<i64>(bias + (<usize>r << 3));
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      // Each i32 lane gains at most 2·128·32768 = 2^23 per 8 columns, so blocks of
      // 2048 columns cannot overflow before they are added into the 64-bit sum.
      while (c + 8 <= cols) {
        let v = i32x4.splat(0);
        const end = min(cols, c + 2048);
        for (; c + 8 <= end; c += 8) {
          const a = v128.load8x8_s(row + <usize>c);
          const b = v128.load(x + (<usize>c << 1));
          v = i32x4.add(v, i32x4.dot_i16x8_s(a, b));
        }
        sum += <i64>i32x4.extract_lane(v, 0) + <i64>i32x4.extract_lane(v, 1)
          + <i64>i32x4.extract_lane(v, 2) + <i64>i32x4.extract_lane(v, 3);
      }
    }
    for (; c < cols; c++) {
      sum += <i64>(<i32>load<i8>(row + <usize>c) * <i32>load<i16>(x + (<usize>c << 1)));
    }
    store<i64>(acc + (<usize>r << 3), sum);
  }
}

// Sigmoid of a Q3.12 value (rescaled by 3, as the reference does), result in Q0.15.
@inline function sigmoid16(x: i32, table: usize): i32 {
  return sigmoidQ15(x * 3, table);
}

// Tanh of x·mult / 2^shift (rounded); result in Q0.15.
@inline function tanh16(x: i32, mult: i32, shift: i32, table: usize): i32 {
  return tanhQ15(rescale16(x, mult, shift), table);
}

@inline function sat16(v: i32): i32 {
  return clampI32(v, -32768, 32767);
}

// ---------------------------------------------------------------------------------
// 601 LSTM_8X8 / 602 LSTM_16X8: one UNIDIRECTIONAL_SEQUENCE_LSTM.
//
// Record (words):
//  0 input        activations, int8 (601) or int16 (602)
//  1 output       same type, [batch, time, cells] or [time, batch, cells]
//  2 hidden       output state (variable), same type, [batch, cells]
//  3 cell         cell state (variable), int16, [batch, cells]
//  4 wx           int8 [4·cells, in]: input-to-gate weights, gates input, forget, cell, output
//  5 wh           int8 [4·cells, cells]: recurrent weights, same gate order
//  6 biasX        int32 (601) / int64 (602) [4·cells]: gate bias − input zp · row sum of wx
//  7 biasH        same type [4·cells]: − hidden zp · row sum of wh
//  8 accX         scratch, 4·cells accumulators (int32 / int64)
//  9 accH         scratch, likewise
// 10 gates        scratch, int16 [4·cells]
// 11 table        uint16 [256] sigmoid table
// 12 batch, 13 steps, 14 in, 15 cells
// 16 xStrideBatch, 17 xStrideTime, 18 oStrideBatch, 19 oStrideTime   (elements)
// 20..27 (multiplier, shift) of the input matmul of gates input, forget, cell, output
// 28..35 (multiplier, shift) of the recurrent matmul, same order
// 36 tanhMult, 37 tanhShift     tanh(cell): input rescale x·mult / 2^shift (rounded)
// 38,39 forget·cell multiply (multiplier, shift) -> cell scale
// 40,41 input·cellgate multiply (multiplier, shift) -> cell scale
// 42,43 output·tanh(cell) multiply (multiplier, shift) -> hidden scale
// 44 hidden zero point, 45 hidden min, 46 hidden max
// 47 clip (0/1), 48 quantized cell clip
//
// Batches are independent, so each batch row runs through all its time steps in turn
// (the reference's time-major order steps all batches together; the results are the same).
// ---------------------------------------------------------------------------------
function lstm(p: usize, act16: bool): void {
  const input = wp(p, 0);
  const output = wp(p, 1);
  const hidden = wp(p, 2);
  const cell = wp(p, 3);
  const wx = wp(p, 4);
  const wh = wp(p, 5);
  const biasX = wp(p, 6);
  const biasH = wp(p, 7);
  const accX = wp(p, 8);
  const accH = wp(p, 9);
  const gates = wp(p, 10);
  const table = wp(p, 11);
  const batch = w(p, 12);
  const steps = w(p, 13);
  const nIn = w(p, 14);
  const n = w(p, 15);
  const xsB = w(p, 16);
  const xsT = w(p, 17);
  const osB = w(p, 18);
  const osT = w(p, 19);
  const tanhMult = w(p, 36);
  const tanhShift = w(p, 37);
  const fM = w(p, 38);
  const fS = w(p, 39);
  const iM = w(p, 40);
  const iS = w(p, 41);
  const oM = w(p, 42);
  const oS = w(p, 43);
  const hZp = w(p, 44);
  const hMin = w(p, 45);
  const hMax = w(p, 46);
  const clip = w(p, 47) != 0;
  const qClip = w(p, 48);
  const rows = 4 * n;
  const esz: usize = act16 ? 2 : 1;

  for (let b = 0; b < batch; b++) {
    const h = hidden + <usize>(b * n) * esz;
    const c = cell + (<usize>(b * n) << 1);
    for (let t = 0; t < steps; t++) {
      const x = input + <usize>(b * xsB + t * xsT) * esz;
      // Gate pre-activations: both matmuls, each requantized to Q3.12, then a saturating add.
      if (act16) {
        matvecI8xI16(wx, x, rows, nIn, biasX, accX);
        matvecI8xI16(wh, h, rows, n, biasH, accH);
      } else {
        matvecI8xI8(wx, x, rows, nIn, biasX, accX);
        matvecI8xI8(wh, h, rows, n, biasH, accH);
      }
      for (let g = 0; g < 4; g++) {
        const mxm = w(p, 20 + 2 * g);
        const mxs = w(p, 21 + 2 * g);
        const mhm = w(p, 28 + 2 * g);
        const mhs = w(p, 29 + 2 * g);
        const base = g * n;
        for (let r = 0; r < n; r++) {
          const k = base + r;
          let a: i32, bb: i32;
          if (act16) {
            a = sat16(mbqm64(load<i64>(accX + (<usize>k << 3)), mxm, mxs));
            bb = sat16(mbqm64(load<i64>(accH + (<usize>k << 3)), mhm, mhs));
          } else {
            a = sat16(mulQ(load<i32>(accX + (<usize>k << 2)), mxm, mxs));
            bb = sat16(mulQ(load<i32>(accH + (<usize>k << 2)), mhm, mhs));
          }
          const pre = sat16(a + bb);
          // Gate 2 (cell) uses tanh of the Q3.12 value (rescale ×3, no shift); the others sigmoid.
          const y = g == 2 ? tanh16(pre, 3, 0, table) : sigmoid16(pre, table);
          store<i16>(gates + (<usize>k << 1), <i16>y);
        }
      }
      // Cell state, hidden state and output.
      const out = output + <usize>(b * osB + t * osT) * esz;
      for (let r = 0; r < n; r++) {
        const ig = <i32>load<i16>(gates + (<usize>r << 1));
        const fg = <i32>load<i16>(gates + (<usize>(n + r) << 1));
        const cg = <i32>load<i16>(gates + (<usize>(2 * n + r) << 1));
        const og = <i32>load<i16>(gates + (<usize>(3 * n + r) << 1));
        const cp = c + (<usize>r << 1);
        const kept = sat16(mulQ(fg * <i32>load<i16>(cp), fM, fS));
        const added = sat16(mulQ(ig * cg, iM, iS));
        let cs = sat16(kept + added);
        if (clip) cs = cs > qClip ? qClip : cs < -qClip ? -qClip : cs;
        store<i16>(cp, <i16>cs);
        const tc = tanh16(cs, tanhMult, tanhShift, table);
        const hv = clampI32(hZp + mulQ(tc * og, oM, oS), hMin, hMax);
        if (act16) {
          store<i16>(h + (<usize>r << 1), <i16>hv);
          store<i16>(out + (<usize>r << 1), <i16>hv);
        } else {
          store<i8>(h + <usize>r, <i8>hv);
          store<i8>(out + <usize>r, <i8>hv);
        }
      }
    }
  }
}

// Returns false for an id this family does not know.
export function runLstm(id: i32, p: usize): bool {
  switch (id) {
    case 601: lstm(p, false); break;
    case 602: lstm(p, true); break;
    default: return false;
  }
  return true;
}
