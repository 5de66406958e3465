/**
 * Prepare steps of the lstm family: UNIDIRECTIONAL_SEQUENCE_LSTM, fully integer,
 * as TFLite Micro's integer LSTM kernel computes it (the 2023 rewrite: one fully
 * connected pass per gate and source, int16 gate values, int16 sigmoid/tanh by table
 * interpolation, int16 cell state with a power-of-two scale, element-wise multiplies
 * requantized with QuantizeMultiplier).
 *
 * Kernels: assembly/ops/lstm.ts.
 *
 * What the reference supports, and so what runs here: the standard LSTM with all four
 * gates, no CIFG, no peephole, no projection, no layer normalisation; int8 activations
 * (input, output, hidden state) with int8 weights and int32 biases, or int16 activations
 * with int8 weights and int64 biases; int16 cell state. Both batch-major [batch, time,
 * input] and time-major [time, batch, input] inputs.
 */
import type { Tensor } from '../../graph/types.js';
import { numElements } from '../../graph/types.js';
import { f32, quantizeMultiplier, roundHalfAway } from '../quant.js';
import { sigmoidTableBytes } from './sigmoid-table.js';
import type { OpContext, OpDef } from './types.js';

/** Kernel ids (must match assembly/ops/lstm.ts). */
export const K = {
  /** int8 activations / hidden state, int8 weights, int32 biases, int16 cell state. */
  LSTM_8X8: 601,
  /** int16 activations / hidden state, int8 weights, int64 biases, int16 cell state. */
  LSTM_16X8: 602,
} as const;

// Operand positions of UNIDIRECTIONAL_SEQUENCE_LSTM.
const IN = 0;
/** Input-to-gate weights, recurrent weights and biases, in kernel gate order: input, forget, cell, output. */
const W_X = [1, 2, 3, 4];
const W_H = [5, 6, 7, 8];
const PEEPHOLE = [9, 10, 11];
const BIAS = [12, 13, 14, 15];
const PROJECTION = [16, 17];
const HIDDEN = 18;
const CELL = 19;
const LAYER_NORM = [20, 21, 22, 23];
const GATE_NAMES = ['input', 'forget', 'cell', 'output'];

/**
 * The gate pre-activations are int16 with scale 2^-12 (Q3.12); the sigmoid/tanh outputs
 * are int16 with scale 2^-15 (Q0.15). Both are float32 constants in the reference.
 */
const GATE_INPUT_SCALE = 2 ** -12;
const GATE_OUTPUT_SCALE = 2 ** -15;

/** Signed elements of an int8 constant. */
function int8Data(t: Tensor): Int8Array {
  return new Int8Array(t.data!.buffer, t.data!.byteOffset, t.data!.byteLength);
}

/** Little-endian int32 elements of a constant (no alignment assumption). */
function int32Values(t: Tensor): number[] {
  const dv = new DataView(t.data!.buffer, t.data!.byteOffset, t.data!.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= t.data!.byteLength; i += 4) out.push(dv.getInt32(i, true));
  return out;
}

/** Little-endian int64 elements of a constant, as BigInt. */
function int64Values(t: Tensor): bigint[] {
  const dv = new DataView(t.data!.buffer, t.data!.byteOffset, t.data!.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i + 8 <= t.data!.byteLength; i += 8) out.push(dv.getBigInt64(i, true));
  return out;
}

/**
 * log2 of a float32 scale rounded to the nearest integer, computed in float32 as TFLite's
 * CheckedLog2 does (the reference ignores whether the scale is an exact power of two).
 */
function checkedLog2(x: number): number {
  const invLn2 = f32(1 / f32(Math.log(2)));
  const l = f32(f32(Math.log(x)) * invLn2);
  return roundHalfAway(l);
}

/** Per-tensor quantization scale/zero point, validated. */
function perTensor(ctx: OpContext, t: Tensor, what: string): { scale: number; zeroPoint: number } {
  const q = t.quant;
  if (!q || q.scale.length === 0) ctx.fail(`${what} (tensor #${t.index} '${t.name}') has no quantization parameters`);
  const scale = q!.scale[0]!;
  if (!(scale > 0) || !Number.isFinite(scale)) ctx.fail(`${what} (tensor #${t.index} '${t.name}') has scale ${scale}; it must be > 0`);
  return { scale, zeroPoint: q!.zeroPoint[0] ?? 0 };
}

const lstm: OpDef = {
  name: 'UNIDIRECTIONAL_SEQUENCE_LSTM',
  maxVersion: 4,
  prepare(ctx) {
    const op = ctx.op;
    if (op.inputs.length !== 24) ctx.fail(`has ${op.inputs.length} inputs; UNIDIRECTIONAL_SEQUENCE_LSTM takes 24`);
    if (op.outputs.length !== 1) ctx.fail(`has ${op.outputs.length} outputs; UNIDIRECTIONAL_SEQUENCE_LSTM has 1`);
    const opts = op.options;

    // Variants the reference integer kernel does not implement.
    if (!ctx.input(W_X[0]!) || !ctx.input(W_H[0]!) || !ctx.input(BIAS[0]!)) {
      ctx.unsupported('CIFG (coupled input and forget gate: no input gate weights/bias) is not supported; TFLite Micro\'s integer LSTM needs all four gates');
    }
    if (PEEPHOLE.some((i) => ctx.input(i))) ctx.unsupported('peephole connections (inputs 9-11) are not supported, as in TFLite Micro');
    if (PROJECTION.some((i) => ctx.input(i))) ctx.unsupported('projection (inputs 16-17) is not supported, as in TFLite Micro');
    if (LAYER_NORM.some((i) => ctx.input(i))) ctx.unsupported('layer normalisation (inputs 20-23) is not supported, as in TFLite Micro');

    const input = ctx.requireInput(IN, 'input');
    const hidden = ctx.requireInput(HIDDEN, 'output (hidden) state');
    const cell = ctx.requireInput(CELL, 'cell state');
    const output = ctx.output(0);
    const wx = W_X.map((i, g) => ctx.requireInput(i, `input-to-${GATE_NAMES[g]} weights`));
    const wh = W_H.map((i, g) => ctx.requireInput(i, `recurrent-to-${GATE_NAMES[g]} weights`));
    const bias = BIAS.map((i, g) => ctx.requireInput(i, `${GATE_NAMES[g]} gate bias`));

    // Types.
    if (!hidden.isVariable) ctx.fail(`the output state (tensor #${hidden.index}) must be a variable tensor`);
    if (!cell.isVariable) ctx.fail(`the cell state (tensor #${cell.index}) must be a variable tensor`);
    if (hidden.data || cell.data) ctx.unsupported('state tensors with constant initial contents are not supported');
    const act = input.dtype;
    if (act === 'float32') ctx.unsupported('float32 LSTM is not supported (Kestrel runs quantized models only)');
    if (act !== 'int8' && act !== 'int16') ctx.unsupported(`input type ${act} is not supported (int8 or int16)`);
    if (hidden.dtype !== act) ctx.fail(`output state is ${hidden.dtype} but input is ${act}`);
    if (output.dtype !== act) ctx.fail(`output is ${output.dtype} but input is ${act}`);
    if (cell.dtype !== 'int16') ctx.unsupported(`cell state type ${cell.dtype} is not supported (int16 only)`);
    const wType = wx[1]!.dtype;
    for (const w of [...wx, ...wh]) if (w.dtype !== wType) ctx.fail(`weights have mixed types (${wType} and ${w.dtype})`);
    if (wType !== 'int8') ctx.unsupported(`weight type ${wType} is not supported (int8 only)`);
    const bType = bias[1]!.dtype;
    for (const b of bias) if (b.dtype !== bType) ctx.fail(`biases have mixed types (${bType} and ${b.dtype})`);
    const wantBias = act === 'int8' ? 'int32' : 'int64';
    if (bType !== wantBias) ctx.unsupported(`bias type ${bType} is not supported with ${act} activations (${wantBias} expected)`);

    // Shapes.
    if (input.shape.length !== 3) ctx.fail(`input has rank ${input.shape.length}; it must be 3`);
    if (hidden.shape.length < 2) ctx.fail(`output state has rank ${hidden.shape.length}; it must be at least 2`);
    const timeMajor = !!opts.timeMajor;
    const batch = timeMajor ? input.shape[1]! : input.shape[0]!;
    const steps = timeMajor ? input.shape[0]! : input.shape[1]!;
    const nIn = input.shape[2]!;
    const nCell = hidden.shape[1]!;
    for (const [g, w] of wx.entries()) {
      if (w.shape.length !== 2 || w.shape[0] !== nCell || w.shape[1] !== nIn) {
        ctx.fail(`input-to-${GATE_NAMES[g]} weights have shape [${w.shape}]; expected [${nCell},${nIn}]`);
      }
    }
    for (const [g, w] of wh.entries()) {
      if (w.shape.length !== 2 || w.shape[0] !== nCell || w.shape[1] !== nCell) {
        ctx.fail(`recurrent-to-${GATE_NAMES[g]} weights have shape [${w.shape}]; expected [${nCell},${nCell}]`);
      }
    }
    for (const [g, b] of bias.entries()) {
      if (b.shape.length !== 1 || b.shape[0] !== nCell) ctx.fail(`${GATE_NAMES[g]} gate bias has shape [${b.shape}]; expected [${nCell}]`);
    }
    if (numElements(hidden.shape) !== batch * nCell) ctx.fail(`output state has ${numElements(hidden.shape)} elements; expected batch × cells = ${batch * nCell}`);
    if (numElements(cell.shape) !== batch * nCell) ctx.fail(`cell state has ${numElements(cell.shape)} elements; expected batch × cells = ${batch * nCell}`);
    if (output.shape.length !== 3 || output.shape[0] !== input.shape[0] || output.shape[1] !== input.shape[1] || output.shape[2] !== nCell) {
      ctx.fail(`output has shape [${output.shape}]; expected [${input.shape[0]},${input.shape[1]},${nCell}]`);
    }
    for (const w of [...wx, ...wh, ...bias]) {
      if (!w.data) ctx.unsupported(`weights and biases must be constant (tensor #${w.index} '${w.name}' is not)`);
    }

    // Quantization.
    const qIn = perTensor(ctx, input, 'input');
    const qHidden = perTensor(ctx, hidden, 'output state');
    const qCell = perTensor(ctx, cell, 'cell state');
    if (qCell.zeroPoint !== 0) ctx.unsupported(`cell state zero point ${qCell.zeroPoint} is not supported (the integer LSTM treats the cell state as symmetric)`);
    const wScale = (ws: Tensor[], kind: string) => ws.map((w, g) => {
      const q = perTensor(ctx, w, `${kind}-to-${GATE_NAMES[g]} weights`);
      if (w.quant!.scale.length > 1) ctx.unsupported(`per-channel weights (${kind}-to-${GATE_NAMES[g]}) are not supported by the integer LSTM`);
      if (q.zeroPoint !== 0) ctx.unsupported(`weight zero point ${q.zeroPoint} (${kind}-to-${GATE_NAMES[g]}) is not supported; LSTM weights are symmetric`);
      return q.scale;
    });
    const sx = wScale(wx, 'input');
    const sh = wScale(wh, 'recurrent');

    // Options.
    if (opts.activation !== 'TANH') {
      ctx.unsupported(`cell gate activation ${opts.activation} is not supported; the integer LSTM uses TANH`);
    }
    const cellClip: number = opts.cellClip ?? 0;

    // Gate matmul requantization: input scale × weight scale (a float32 product) over the
    // gate pre-activation scale, as the fully connected Prepare computes it.
    const gateMult = (inScale: number, w: number) => {
      const real = f32(inScale * w) / GATE_INPUT_SCALE;
      if (!Number.isFinite(real)) ctx.unsupported(`input scale ${inScale} × weight scale ${w} overflows float32`);
      return quantizeMultiplier(real);
    };
    const mx = sx.map((s) => gateMult(qIn.scale, s));
    const mh = sh.map((s) => gateMult(qHidden.scale, s));

    // Element-wise multiplies (double arithmetic on the float32 scales).
    const forgetMul = quantizeMultiplier((GATE_OUTPUT_SCALE * qCell.scale) / qCell.scale);
    const inputMul = quantizeMultiplier((GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE) / qCell.scale);
    const outputMul = quantizeMultiplier((GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE) / qHidden.scale);

    // tanh of the cell state: the cell scale as a power of two picks the input rescale.
    const cellPow = checkedLog2(qCell.scale);
    let tanhShift = 15 + cellPow - 3;
    let tanhMult = 0;
    if (tanhShift < 0) {
      tanhShift = -tanhShift;
      tanhMult = 3;
    }
    if (tanhMult === 0) {
      // Power-of-two form: multiply by 3 << shift, no right shift.
      if (tanhShift > 29) ctx.unsupported(`cell state scale ${qCell.scale} is too large for the integer tanh`);
      tanhMult = 3 * 2 ** tanhShift;
      tanhShift = 0;
    } else if (tanhShift > 31) {
      ctx.unsupported(`cell state scale ${qCell.scale} is too small for the integer tanh`);
    }

    // Cell clipping, in the cell state's integer domain (truncated like a C cast).
    const clip = cellClip > 0;
    const qClip = clip ? Math.trunc(Math.min(Math.max(cellClip / qCell.scale, -32768), 32767)) : 0;

    // Packed weights: the four gates' rows one after another, [4·cells, in] and [4·cells, cells].
    const packX = new Int8Array(4 * nCell * nIn);
    const packH = new Int8Array(4 * nCell * nCell);
    wx.forEach((w, g) => packX.set(int8Data(w), g * nCell * nIn));
    wh.forEach((w, g) => packH.set(int8Data(w), g * nCell * nCell));

    // Biases with the activation zero points folded in:
    //   Σ w·(x − zx) + b = Σ w·x + (b − zx·Σ w), and likewise for the hidden state (no bias).
    const rowSums = (pack: Int8Array, cols: number) => {
      const s = new Array<number>(4 * nCell).fill(0);
      for (let r = 0; r < 4 * nCell; r++) {
        let acc = 0;
        for (let c = 0; c < cols; c++) acc += pack[r * cols + c]!;
        s[r] = acc;
      }
      return s;
    };
    const sumX = rowSums(packX, nIn);
    const sumH = rowSums(packH, nCell);

    const b = ctx.b;
    let kernel: number;
    if (act === 'int8') {
      kernel = K.LSTM_8X8;
      const biasX = new Int32Array(4 * nCell);
      const biasH = new Int32Array(4 * nCell);
      bias.forEach((t, g) => {
        const v = int32Values(t);
        for (let r = 0; r < nCell; r++) biasX[g * nCell + r] = (v[r]! - Math.imul(qIn.zeroPoint, sumX[g * nCell + r]!)) | 0;
      });
      for (let r = 0; r < 4 * nCell; r++) biasH[r] = -Math.imul(qHidden.zeroPoint, sumH[r]!) | 0;
      b.tensor(input).tensor(output).tensor(hidden).tensor(cell)
        .constant(packX).constant(packH).constant(biasX).constant(biasH);
    } else {
      kernel = K.LSTM_16X8;
      const biasX = new BigInt64Array(4 * nCell);
      const biasH = new BigInt64Array(4 * nCell);
      bias.forEach((t, g) => {
        const v = int64Values(t);
        for (let r = 0; r < nCell; r++) {
          biasX[g * nCell + r] = BigInt.asIntN(64, v[r]! - BigInt(qIn.zeroPoint) * BigInt(sumX[g * nCell + r]!));
        }
      });
      for (let r = 0; r < 4 * nCell; r++) biasH[r] = BigInt(-qHidden.zeroPoint) * BigInt(sumH[r]!);
      b.tensor(input).tensor(output).tensor(hidden).tensor(cell)
        .constant(packX).constant(packH)
        .constant(new Uint8Array(biasX.buffer)).constant(new Uint8Array(biasH.buffer));
    }
    // Strides (elements) of the input and output between batches and between time steps.
    const [xsB, xsT] = timeMajor ? [nIn, batch * nIn] : [steps * nIn, nIn];
    const [osB, osT] = timeMajor ? [nCell, batch * nCell] : [steps * nCell, nCell];
    const [hMin, hMax] = act === 'int8' ? [-128, 127] : [-32768, 32767];
    const accBytes = act === 'int8' ? 4 : 8;
    b.scratchBuffer(4 * nCell * accBytes) // accumulators of the input matmul
      .scratchBuffer(4 * nCell * accBytes) // accumulators of the recurrent matmul
      .scratchBuffer(4 * nCell * 2) // gate values, int16
      .constant(sigmoidTableBytes())
      .i32(batch).i32(steps).i32(nIn).i32(nCell)
      .i32(xsB).i32(xsT).i32(osB).i32(osT);
    for (let g = 0; g < 4; g++) b.i32(mx[g]!.multiplier).i32(mx[g]!.shift);
    for (let g = 0; g < 4; g++) b.i32(mh[g]!.multiplier).i32(mh[g]!.shift);
    b.i32(tanhMult).i32(tanhShift)
      .i32(forgetMul.multiplier).i32(forgetMul.shift)
      .i32(inputMul.multiplier).i32(inputMul.shift)
      .i32(outputMul.multiplier).i32(outputMul.shift)
      .i32(qHidden.zeroPoint).i32(hMin).i32(hMax)
      .i32(clip ? 1 : 0).i32(qClip);
    return { kernel, macs: batch * steps * 4 * nCell * (nIn + nCell) };
  },
};

export const lstmOps: OpDef[] = [lstm];
