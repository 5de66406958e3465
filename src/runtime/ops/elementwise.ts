/**
 * Prepare steps of the elementwise family: ADD, SUB, MUL, MAXIMUM, MINIMUM on int8 and
 * int16 tensors, with numpy-style broadcasting of any two shapes (up to rank 8).
 * Kernels: assembly/ops/elementwise.ts.
 *
 * Arithmetic follows TFLite Micro's reference kernels:
 * - ADD and SUB (int8 and int16) always take the general rescaling path: both inputs are
 *   offset by their zero points, shifted left (20 bits for int8, 15 for int16), scaled by
 *   per-input multipliers relative to twice the larger input scale, added or subtracted,
 *   and rescaled to the output. TFLite Micro never takes the power-of-two int16 path
 *   (`pot_scale_int16` is ignored there), so neither does Kestrel. ADD computes the real
 *   multipliers in double; SUB computes them in float32 and widens to double afterwards.
 * - MUL: (x1 - zp1) * (x2 - zp2) scaled by input1_scale * input2_scale / output_scale
 *   (double), plus the output zero point. int16 requires all zero points to be 0.
 * - MAXIMUM / MINIMUM compare the raw quantized values (no rescaling, whatever the
 *   quantization parameters).
 * Broadcast and non-broadcast evaluation in the reference give the same value per output
 * element, so one strided walk serves both.
 */
import type { DType, Tensor } from '../../graph/types.js';
import { dtypeSize, numElements } from '../../graph/types.js';
import { activationRange, dtypeRange, f32, quantizeMultiplier } from '../quant.js';
import type { OpContext, OpDef, Prepared } from './types.js';

/** Kernel ids (must match assembly/ops/elementwise.ts). */
export const K = {
  ADDSUB_I8: 301,
  ADDSUB_I16: 302,
  MUL_I8: 303,
  MUL_I16: 304,
  MAX_I8: 305,
  MIN_I8: 306,
  MAX_I16: 307,
  MIN_I16: 308,
  ADDSUB_I8_TABLE: 309,
} as const;

/**
 * int8 ADD / SUB outputs from which the kernel looks results up in a table of all 65536
 * input pairs (64 KiB, filled on the first run, which costs about as much as computing
 * 65536 outputs) instead of computing them: from here it pays for itself within a few runs.
 */
export const ADD_TABLE_MIN = 4096;

/** Highest tensor rank accepted (TFLite's broadcast loop handles up to 8). */
const MAX_RANK = 8;

const QUANT_ACTIVATIONS = new Set(['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1']);

/**
 * The broadcast walk: the output dimensions, innermost first, after dropping size-1
 * output dimensions and fusing neighbours that step through both inputs in the same
 * way. Each entry: [size, strideA, strideB, strideOut] in elements.
 */
export function broadcastDims(
  shapeA: readonly number[], shapeB: readonly number[], shapeOut: readonly number[],
): number[][] | null {
  const rank = Math.max(shapeA.length, shapeB.length, shapeOut.length);
  const ext = (s: readonly number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const a = ext(shapeA), b = ext(shapeB), o = ext(shapeOut);
  const dims: number[][] = [];
  let accA = 1, accB = 1, accO = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const da = a[i]!, db = b[i]!, dout = o[i]!;
    if (dout === 1) continue; // inputs are then 1 too (checked by the caller)
    const sa = da === 1 ? 0 : accA;
    const sb = db === 1 ? 0 : accB;
    const so = accO;
    const prev = dims[dims.length - 1];
    if (prev && sa === prev[1]! * prev[0]! && sb === prev[2]! * prev[0]! && so === prev[3]! * prev[0]!) {
      prev[0] = prev[0]! * dout;
    } else {
      dims.push([dout, sa, sb, so]);
    }
    accA *= da; accB *= db; accO *= dout;
  }
  if (dims.length === 0) dims.push([1, 1, 1, 1]);
  return dims;
}

/** The broadcast result shape of two shapes, or null when they do not broadcast. */
function broadcastShape(sa: readonly number[], sb: readonly number[]): number[] | null {
  const rank = Math.max(sa.length, sb.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - sa.length ? 1 : sa[i - (rank - sa.length)]!;
    const db = i < rank - sb.length ? 1 : sb[i - (rank - sb.length)]!;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return null;
  }
  return out;
}

interface Operands {
  a: Tensor;
  b: Tensor;
  out: Tensor;
  dtype: DType;
}

/** Checks counts, dtypes and shapes common to every op of the family. */
function operands(ctx: OpContext): Operands {
  if (ctx.op.inputs.length !== 2) ctx.fail(`expected 2 inputs, got ${ctx.op.inputs.length}`);
  if (ctx.op.outputs.length !== 1) ctx.fail(`expected 1 output, got ${ctx.op.outputs.length}`);
  const a = ctx.requireInput(0, 'input1');
  const b = ctx.requireInput(1, 'input2');
  const out = ctx.output(0);
  const dtype = out.dtype;
  if (dtype !== 'int8' && dtype !== 'int16') ctx.unsupported(`output type ${dtype} is not supported (int8, int16)`);
  if (a.dtype !== dtype || b.dtype !== dtype) {
    ctx.unsupported(`input types ${a.dtype}, ${b.dtype} and output type ${dtype} must be the same`);
  }
  for (const t of [a, b, out]) {
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      ctx.fail(`tensor #${t.index} has an invalid shape [${t.shape}]`);
    }
    if (t.shape.length > MAX_RANK) ctx.unsupported(`rank ${t.shape.length} is above ${MAX_RANK}`);
    if (numElements(t.shape) * dtypeSize(t.dtype) > 0x7fffffff) ctx.unsupported(`tensor #${t.index} [${t.shape}] is too large`);
    if (t.data && t.data.length !== numElements(t.shape) * dtypeSize(t.dtype)) {
      ctx.fail(`constant tensor #${t.index} holds ${t.data.length} bytes, not the ${numElements(t.shape) * dtypeSize(t.dtype)} its shape needs`);
    }
  }
  const bshape = broadcastShape(a.shape, b.shape);
  if (!bshape) ctx.fail(`input shapes [${a.shape}] and [${b.shape}] do not broadcast`);
  // The output must be the broadcast shape (leading 1s aside, as the reference extends
  // all three shapes to a common rank).
  const rank = Math.max(bshape!.length, out.shape.length);
  const ext = (s: readonly number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const eb = ext(bshape!), eo = ext(out.shape);
  if (eb.some((d, i) => d !== eo[i])) {
    ctx.fail(`output shape [${out.shape}] is not the broadcast shape [${bshape}] of the inputs`);
  }
  return { a, b, out, dtype };
}

/** Writes the common record head [a, b, out, nd] (params follow, then the walk). */
function head(ctx: OpContext, o: Operands): number[][] {
  const empty = numElements(o.out.shape) === 0;
  const dims = empty ? [] : broadcastDims(o.a.shape, o.b.shape, o.out.shape)!;
  ctx.b.tensor(o.a).tensor(o.b).tensor(o.out).i32(dims.length);
  return dims;
}

/**
 * Appends the walk: per dimension (innermost first) [size, strideA, strideB, strideOut].
 * For the innermost dimension the input strides are 0/1 element flags and strideOut is 1;
 * for the others all strides are in bytes.
 */
function walk(ctx: OpContext, dims: number[][], elemBytes: number): void {
  dims.forEach((d, i) => {
    if (i === 0) ctx.b.i32s([d[0]!, d[1]! ? 1 : 0, d[2]! ? 1 : 0, 1]);
    else ctx.b.i32s([d[0]!, d[1]! * elemBytes, d[2]! * elemBytes, d[3]! * elemBytes]);
  });
}

interface QParams { scale: number; zeroPoint: number }

function quant(ctx: OpContext, t: Tensor, what: string): QParams {
  const q = t.quant;
  if (!q || q.scale.length < 1 || q.zeroPoint.length < 1) ctx.fail(`${what} has no quantization parameters`);
  const scale = q!.scale[0]!, zeroPoint = q!.zeroPoint[0]!;
  if (!(scale > 0) || !Number.isFinite(scale)) ctx.fail(`${what} scale ${scale} is not positive and finite`);
  const [lo, hi] = dtypeRange(t.dtype);
  if (!Number.isInteger(zeroPoint) || zeroPoint < lo || zeroPoint > hi) {
    ctx.fail(`${what} zero point ${zeroPoint} is outside the ${t.dtype} range`);
  }
  return { scale, zeroPoint };
}

function activation(ctx: OpContext, out: Tensor, q: QParams): [number, number] {
  const act = String(ctx.op.options?.activation ?? 'NONE');
  if (!QUANT_ACTIVATIONS.has(act)) ctx.unsupported(`fused activation ${act} is not supported on quantized tensors`);
  return activationRange(act, out.dtype, q.scale, q.zeroPoint);
}

/** TFLite's QuantizeMultiplierSmallerThanOneExp: m in (0, 1), shift <= 0. Returns [multiplier, rightShift]. */
function multiplierBelowOne(ctx: OpContext, real: number, what: string): [number, number] {
  if (!(real > 0 && real < 1)) ctx.unsupported(`${what} rescale factor ${real} is not in (0, 1)`);
  const { multiplier, shift } = quantizeMultiplier(real);
  if (shift > 0) ctx.unsupported(`${what} rescale factor ${real} rounds to 1 or more`);
  return [multiplier, -shift];
}

function prepareAddSub(ctx: OpContext, isSub: boolean): Prepared {
  const o = operands(ctx);
  const q1 = quant(ctx, o.a, 'input1');
  const q2 = quant(ctx, o.b, 'input2');
  const qo = quant(ctx, o.out, 'output');
  const leftShift = o.dtype === 'int16' ? 15 : 20;
  let real1: number, real2: number, realOut: number;
  if (isSub) {
    // float32 throughout, widened to double at the end.
    const twiceMax = f32(2 * Math.max(q1.scale, q2.scale));
    real1 = f32(q1.scale / twiceMax);
    real2 = f32(q2.scale / twiceMax);
    realOut = f32(twiceMax / f32((1 << leftShift) * qo.scale));
  } else {
    const twiceMax = 2 * Math.max(q1.scale, q2.scale);
    real1 = q1.scale / twiceMax;
    real2 = q2.scale / twiceMax;
    realOut = twiceMax / ((1 << leftShift) * qo.scale);
  }
  const [m1, r1] = multiplierBelowOne(ctx, real1, 'input1');
  const [m2, r2] = multiplierBelowOne(ctx, real2, 'input2');
  const [mo, ro] = multiplierBelowOne(ctx, realOut, 'output');
  const [actMin, actMax] = activation(ctx, o.out, qo);
  const dims = head(ctx, o);
  // Params (words 4..16): [off1, off2, leftShift, m1, r1, m2, r2, mo, ro, outOff, actMin, actMax, negate]
  ctx.b.i32s([-q1.zeroPoint, -q2.zeroPoint, leftShift, m1, r1, m2, r2, mo, ro, qo.zeroPoint, actMin, actMax, isSub ? -1 : 0]);
  if (o.dtype === 'int8' && numElements(o.out.shape) >= ADD_TABLE_MIN) {
    // Kernel 309: the table (filled by the kernel on the first run), its flag, the bytes 0..255.
    ctx.b.zeroed(65536).i32(0).constant(IOTA);
    walk(ctx, dims, 1);
    return { kernel: K.ADDSUB_I8_TABLE };
  }
  walk(ctx, dims, dtypeSize(o.dtype));
  return { kernel: o.dtype === 'int16' ? K.ADDSUB_I16 : K.ADDSUB_I8 };
}

/** The bytes 0..255 (kernel 309 fills its table from them); one blob, placed once per model. */
const IOTA = Uint8Array.from({ length: 256 }, (_, i) => i);

function prepareMul(ctx: OpContext): Prepared {
  const o = operands(ctx);
  const q1 = quant(ctx, o.a, 'input1');
  const q2 = quant(ctx, o.b, 'input2');
  const qo = quant(ctx, o.out, 'output');
  if (o.dtype === 'int16' && (q1.zeroPoint !== 0 || q2.zeroPoint !== 0 || qo.zeroPoint !== 0)) {
    ctx.unsupported('int16 MUL needs zero points of 0');
  }
  const real = (q1.scale * q2.scale) / qo.scale;
  if (!Number.isFinite(real)) ctx.unsupported(`rescale factor ${real} is not finite`);
  const { multiplier, shift } = quantizeMultiplier(real);
  if (shift > 30) ctx.unsupported(`rescale factor ${real} is too large`);
  const [actMin, actMax] = activation(ctx, o.out, qo);
  const dims = head(ctx, o);
  // Params (words 4..11): [off1, off2, multiplier, leftShift, rightShift, outOff, actMin, actMax]
  ctx.b.i32s([-q1.zeroPoint, -q2.zeroPoint, multiplier, Math.max(shift, 0), Math.max(-shift, 0), qo.zeroPoint, actMin, actMax]);
  walk(ctx, dims, dtypeSize(o.dtype));
  return { kernel: o.dtype === 'int16' ? K.MUL_I16 : K.MUL_I8 };
}

function prepareMaxMin(ctx: OpContext, isMax: boolean): Prepared {
  const o = operands(ctx);
  const dims = head(ctx, o);
  walk(ctx, dims, dtypeSize(o.dtype));
  if (o.dtype === 'int16') return { kernel: isMax ? K.MAX_I16 : K.MIN_I16 };
  return { kernel: isMax ? K.MAX_I8 : K.MIN_I8 };
}

const add: OpDef = { name: 'ADD', maxVersion: 5, prepare: (ctx) => prepareAddSub(ctx, false) };
const sub: OpDef = { name: 'SUB', maxVersion: 5, prepare: (ctx) => prepareAddSub(ctx, true) };
const mul: OpDef = { name: 'MUL', maxVersion: 7, prepare: prepareMul };
const maximum: OpDef = { name: 'MAXIMUM', maxVersion: 4, prepare: (ctx) => prepareMaxMin(ctx, true) };
const minimum: OpDef = { name: 'MINIMUM', maxVersion: 4, prepare: (ctx) => prepareMaxMin(ctx, false) };

export const elementwiseOps: OpDef[] = [add, sub, mul, maximum, minimum];
