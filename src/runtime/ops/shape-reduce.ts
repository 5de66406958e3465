/**
 * Prepare steps of the shape family's reductions: MEAN, AVERAGE_POOL_2D, MAX_POOL_2D.
 * Kernels: assembly/ops/shape-reduce.ts.
 */
import { numElements, type Padding, type Tensor } from '../../graph/types.js';
import { activationRange, dtypeRange, quantizeMultiplier } from '../quant.js';
import type { OpContext, OpDef } from './types.js';
import { constInts, contiguousStrides, K, sameShape, walkDescriptor } from './shape-common.js';

function quantOf(ctx: OpContext, t: Tensor, what: string): { scale: number; zp: number } {
  const q = t.quant;
  if (!q || q.scale.length < 1 || q.zeroPoint.length < 1) ctx.fail(`${what} has no quantization parameters`);
  const scale = q!.scale[0]!;
  if (!(scale > 0) || !Number.isFinite(scale)) ctx.fail(`${what} scale ${scale} must be positive`);
  return { scale, zp: q!.zeroPoint[0]! };
}

function quantizedIO(ctx: OpContext): { input: Tensor; output: Tensor; es: number } {
  const input = ctx.requireInput(0, 'input');
  const output = ctx.output(0);
  if (input.dtype !== output.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
  if (input.dtype !== 'int8' && input.dtype !== 'int16') ctx.unsupported(`type ${input.dtype} is not supported (int8 and int16 only)`);
  return { input, output, es: input.dtype === 'int8' ? 1 : 2 };
}

export const mean: OpDef = {
  name: 'MEAN',
  maxVersion: 3,
  prepare(ctx) {
    if (ctx.op.inputs.length !== 2) ctx.fail(`has ${ctx.op.inputs.length} inputs (expected 2)`);
    if (ctx.op.outputs.length !== 1) ctx.fail(`has ${ctx.op.outputs.length} outputs (expected 1)`);
    const { input, output, es } = quantizedIO(ctx);
    const axisT = ctx.requireInput(1, 'axis');
    if (axisT.dtype !== 'int32') ctx.fail(`axis tensor is ${axisT.dtype} (expected int32)`);
    const axes = constInts(ctx, axisT, 'axis');
    const iq = quantOf(ctx, input, 'input');
    const oq = quantOf(ctx, output, 'output');
    const rank = input.shape.length;
    if (numElements(input.shape) === 0) ctx.unsupported(`empty input`);

    // Resolved axes: negatives wrapped, duplicates dropped (a scalar input ignores them).
    const reduced = new Array<boolean>(rank).fill(false);
    if (rank > 0) {
      for (const a of axes) {
        const r = a < 0 ? a + rank : a;
        if (r < 0 || r >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
        reduced[r] = true;
      }
    }
    const keepDims = !!ctx.op.options.keepDims;
    const expected: number[] = [];
    let n = 1;
    for (let i = 0; i < rank; i++) {
      if (reduced[i]) {
        n *= input.shape[i]!;
        if (keepDims) expected.push(1);
      } else {
        expected.push(input.shape[i]!);
      }
    }
    if (!sameShape(expected, output.shape)) ctx.fail(`output shape [${output.shape}] should be [${expected}]`);
    const nOut = numElements(expected);

    // Rescale: input_scale / output_scale in double, then folded with 1/n as the
    // reference does (shift by floor(log2 n), bounded so the final shift stays >= -31).
    let { multiplier, shift } = quantizeMultiplier(iq.scale / oq.scale);
    let s = Math.floor(Math.log2(n));
    while (2 ** s > n) s--;
    while (2 ** (s + 1) <= n) s++;
    s = Math.min(s, 32, 31 + shift);
    multiplier = Number((BigInt(multiplier) << BigInt(s)) / BigInt(n));
    shift -= s;
    const zpn = Number(BigInt.asIntN(32, BigInt(iq.zp) * BigInt(n)));
    const [qmin, qmax] = dtypeRange(input.dtype);

    // Walk the input in order, accumulating into acc[output index] (stride 0 on reduced axes).
    const outStrides = contiguousStrides(expected);
    const accStrides: number[] = [];
    for (let i = 0, j = 0; i < rank; i++) {
      if (reduced[i]) { accStrides.push(0); if (keepDims) j++; }
      else accStrides.push(outStrides[j++]!);
    }
    const desc = walkDescriptor(ctx, es, input.shape, contiguousStrides(input.shape), accStrides, 4);
    ctx.b.tensor(input).tensor(output).scratchBuffer(nOut * 4)
      .i32(es).i32(nOut).i32(zpn).i32(multiplier).i32(shift).i32(oq.zp).i32(qmin).i32(qmax).i32s(desc);
    return { kernel: K.MEAN };
  },
};

/** Output size of a pooling/conv window along one axis (TFLite's ComputeOutSize, dilation 1). */
function outSize(padding: Padding, image: number, filter: number, stride: number): number {
  return padding === 'SAME' ? Math.floor((image + stride - 1) / stride) : Math.floor((image + stride - filter) / stride);
}

/** Leading padding (TFLite's ComputePaddingWithOffset, dilation 1; the odd extra goes after). */
function padBefore(stride: number, image: number, filter: number, out: number): number {
  const total = Math.max(0, (out - 1) * stride + filter - image);
  return Math.floor(total / 2);
}

function poolPrepare(ctx: OpContext, isAverage: boolean) {
  if (ctx.op.inputs.length !== 1) ctx.fail(`has ${ctx.op.inputs.length} inputs (expected 1)`);
  if (ctx.op.outputs.length !== 1) ctx.fail(`has ${ctx.op.outputs.length} outputs (expected 1)`);
  const { input, output, es } = quantizedIO(ctx);
  if (input.shape.length !== 4) ctx.fail(`input has rank ${input.shape.length} (expected 4)`);
  if (output.shape.length !== 4) ctx.fail(`output has rank ${output.shape.length} (expected 4)`);
  // The reference compares the tensors' scale and zero point (0 when absent) and needs
  // the output scale only for a fused activation's clamp.
  const act = ctx.op.options.activation ?? 'NONE';
  const iq = input.quant || act !== 'NONE' ? quantOf(ctx, input, 'input') : { scale: 0, zp: 0 };
  const oq = output.quant || act !== 'NONE' ? quantOf(ctx, output, 'output') : { scale: 0, zp: 0 };
  if (Math.abs(Math.fround(iq.scale - oq.scale)) > 1e-6 || iq.zp !== oq.zp) {
    ctx.unsupported(`input and output quantization differ (scale ${iq.scale} vs ${oq.scale}, zero point ${iq.zp} vs ${oq.zp}); pooling requires them equal`);
  }
  const o = ctx.op.options;
  const padding = o.padding as Padding;
  const sh = o.strideH, sw = o.strideW, fh = o.filterH, fw = o.filterW;
  if (padding !== 'SAME' && padding !== 'VALID') ctx.fail(`unknown padding ${padding}`);
  for (const [name, v] of [['stride_h', sh], ['stride_w', sw], ['filter_height', fh], ['filter_width', fw]] as const) {
    if (!Number.isInteger(v) || v < 1) ctx.fail(`${name} is ${v} (must be >= 1)`);
  }
  if (!['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'].includes(act)) ctx.unsupported(`fused activation ${act} is not supported`);
  const [batches, inH, inW, depth] = input.shape as [number, number, number, number];
  const outH = outSize(padding, inH, fh, sh);
  const outW = outSize(padding, inW, fw, sw);
  const expected = [batches, outH, outW, depth];
  if (outH < 1 || outW < 1 || !sameShape(expected, output.shape)) {
    ctx.fail(`output shape [${output.shape}] should be [${expected}]`);
  }
  const padH = padBefore(sh, inH, fh, outH);
  const padW = padBefore(sw, inW, fw, outW);
  // Every window must overlap the input (the reference fails otherwise).
  const windowsOk = (out: number, stride: number, pad: number, filter: number, image: number) => {
    for (let i = 0; i < out; i++) {
      const origin = i * stride - pad;
      if (Math.min(filter, image - origin) <= Math.max(0, -origin)) return false;
    }
    return true;
  };
  if (!windowsOk(outH, sh, padH, fh, inH) || !windowsOk(outW, sw, padW, fw, inW)) ctx.fail(`a pooling window lies entirely in the padding`);
  if (isAverage) {
    const taps = Math.min(fh, inH) * Math.min(fw, inW);
    if (taps > (es === 1 ? 1 << 23 : 65535)) ctx.unsupported(`pooling window of ${taps} elements could overflow the 32-bit sum`);
  }
  const [qmin, qmax] = activationRange(act, output.dtype, oq.scale, oq.zp);
  ctx.b.tensor(input).tensor(output)
    .i32s([es, batches, inH, inW, depth, outH, outW, sh, sw, fh, fw, padH, padW, qmin, qmax]);
  return { kernel: isAverage ? K.AVERAGE_POOL : K.MAX_POOL };
}

export const averagePool: OpDef = { name: 'AVERAGE_POOL_2D', maxVersion: 3, prepare: (ctx) => poolPrepare(ctx, true) };
export const maxPool: OpDef = { name: 'MAX_POOL_2D', maxVersion: 3, prepare: (ctx) => poolPrepare(ctx, false) };
