/**
 * Prepare steps of the matmul family: FULLY_CONNECTED and TRANSPOSE_CONV.
 * Kernels: assembly/ops/matmul.ts.
 *
 * Both ops follow TFLite Micro's reference integer kernels. All zero-point
 * arithmetic that does not depend on the activations is folded into a per-channel
 * bias here, so the kernels only form raw dot products (input × int8 weight), add the
 * folded bias and requantize.
 */
import { numElements, type Tensor } from '../../graph/types.js';
import { activationRange, f32, quantizeMultiplierAt } from '../quant.js';
import type { OpContext, OpDef } from './types.js';
import { K as CONV_K, filterView, gemmRecord, gemmScratchBytes } from './conv.js';

/** Kernel ids (must match assembly/ops/matmul.ts). */
export const K = {
  /** FULLY_CONNECTED with an int32 accumulator (int8 or int16 activations, int32 bias). */
  FC_ACC32: 201,
  /** FULLY_CONNECTED with an int64 accumulator (int16 activations, int64 bias or none). */
  FC_ACC64: 202,
  /** TRANSPOSE_CONV, int8 activations, int32 accumulation buffer. */
  TCONV_I8: 203,
  /** TRANSPOSE_CONV, int16 activations × int8 weights, int64 accumulation buffer. */
  TCONV_I16: 204,
} as const;

/** Largest scratch (bytes) a FULLY_CONNECTED may take to run on the GEMM kernel. */
const GEMM_SCRATCH_MAX = 4096 + 32;
/** Largest weight matrix (bytes) a one-row FULLY_CONNECTED packs for the GEMM kernel. */
const GEMM_ONE_ROW_MAX = 1 << 17;

const FUSED = new Set(['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1']);

function view(t: Tensor): DataView {
  const d = t.data!;
  return new DataView(d.buffer, d.byteOffset, d.byteLength);
}

/** Checks that a tensor carries per-tensor quantization with a usable scale. */
function requireScale(ctx: OpContext, t: Tensor, what: string): { scale: number; zp: number } {
  const q = t.quant;
  if (!q || q.scale.length < 1 || q.zeroPoint.length < 1) ctx.fail(`${what} has no quantization parameters`);
  const scale = q!.scale[0]!;
  const zp = q!.zeroPoint[0]!;
  if (!(scale > 0) || !Number.isFinite(scale)) ctx.fail(`${what} scale ${scale} is not a positive finite number`);
  if (!Number.isInteger(zp)) ctx.fail(`${what} zero point ${zp} is not an integer`);
  return { scale, zp };
}

function requireZp(ctx: OpContext, zp: number, dtype: string, what: string): void {
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [-32768, 32767];
  if (zp < lo || zp > hi) ctx.fail(`${what} zero point ${zp} is outside the ${dtype} range`);
}

/** Filter scales, one per output channel (a single per-tensor scale is broadcast). */
function filterScales(ctx: OpContext, filter: Tensor, channels: number): { scales: number[]; perChannel: boolean } {
  const q = filter.quant;
  if (!q || q.scale.length < 1) ctx.fail('weights have no quantization parameters');
  const n = q!.scale.length;
  const perChannel = n > 1;
  if (perChannel) {
    const qd = q!.quantizedDimension;
    if (!Number.isInteger(qd) || qd < 0 || qd >= filter.shape.length) {
      ctx.fail(`weights quantized_dimension ${qd} is out of range`);
    }
    if (n !== channels || filter.shape[qd] !== channels) {
      ctx.fail(`weights have ${n} scales but ${channels} output channels`);
    }
  }
  const scales: number[] = [];
  for (let c = 0; c < channels; c++) {
    const s = perChannel ? q!.scale[c]! : q!.scale[0]!;
    if (!(s > 0) || !Number.isFinite(s)) ctx.fail(`weights scale ${s} is not a positive finite number`);
    scales.push(s);
  }
  return { scales, perChannel };
}

/** Activation clamp in the output's integer domain. */
function clamp(ctx: OpContext, act: string, out: Tensor, scale: number, zp: number): [number, number] {
  if (!FUSED.has(act)) ctx.unsupported(`fused activation ${act} is not supported on quantized tensors`);
  return activationRange(act, out.dtype, scale, zp);
}

/** Multiplier words for a list of real multipliers; enforces the shift range a kernel handles. */
function multipliers(ctx: OpContext, reals: ArrayLike<number>, maxShift: number): { mult: Int32Array; shift: Int32Array } {
  const n = reals.length;
  const mult = new Int32Array(n);
  const shift = new Int32Array(n);
  // An index loop written straight into the arrays (no closure call and result object per
  // unit: this runs at load, mostly before the engine has optimized it). Per-tensor weights
  // repeat one value for every unit: quantize it once.
  let last = NaN;
  for (let i = 0; i < n; i++) {
    const r = reals[i]!;
    if (!(r >= 0) || !Number.isFinite(r)) ctx.fail(`effective output scale ${r} is not a non-negative finite number`);
    if (r !== last) quantizeMultiplierAt(r, mult, shift, i);
    else { mult[i] = mult[i - 1]!; shift[i] = shift[i - 1]!; }
    last = r;
    if (shift[i]! > maxShift) ctx.unsupported(`effective output scale ${r} is too large`);
  }
  return { mult, shift };
}

// ---------------------------------------------------------------------------------
// FULLY_CONNECTED
//
// Reference: micro/kernels/fully_connected{,_common}.cc, reference_integer_ops::
// FullyConnected / FullyConnectedPerChannel. For output channel o of row b:
//   acc = Σ_d (w[o,d] + fo) (x[b,d] + io) + bias[o]
// with io = -input zp and fo = -filter zp (per-tensor filters only; the per-channel
// reference ignores the filter zero point). Expanded:
//   acc = Σ w x + fo Σ x + (bias + io Σ w + D fo io)
// The bracket is constant (folded here); the kernel forms Σ w x and, when fo != 0,
// fo Σ x per row. With an int32 accumulator every term is taken mod 2^32, which is
// exactly the reference's (wrapping) int32 sum; the int64 form is exact.
// ---------------------------------------------------------------------------------

/**
 * Σ_d w[o][d] for every row of an int8 [units][depth] weight matrix. Unrolled recurrent
 * models run one FULLY_CONNECTED per time step on the same weight tensor, so the sums are
 * kept per weight buffer (for as long as the graph holds it) and computed once.
 */
const rowSumCache = new WeakMap<Uint8Array, { units: number; depth: number; sums: Int32Array }>();
function weightRowSums(data: Uint8Array, units: number, depth: number): Int32Array {
  const hit = rowSumCache.get(data);
  if (hit && hit.units === units && hit.depth === depth) return hit.sums;
  const w = new Int8Array(data.buffer, data.byteOffset, units * depth);
  const sums = new Int32Array(units);
  for (let o = 0, i = 0; o < units; o++) {
    let s = 0;
    for (const e = i + depth; i < e; i++) s += w[i]!;
    sums[o] = s;
  }
  rowSumCache.set(data, { units, depth, sums });
  return sums;
}

const fullyConnected: OpDef = {
  name: 'FULLY_CONNECTED',
  maxVersion: 13,
  prepare(ctx) {
    const op = ctx.op;
    if (op.inputs.length < 2 || op.inputs.length > 3) ctx.fail(`expected 2 or 3 inputs, got ${op.inputs.length}`);
    if (op.outputs.length !== 1) ctx.fail(`expected 1 output, got ${op.outputs.length}`);
    const input = ctx.requireInput(0, 'input');
    const filter = ctx.requireInput(1, 'weights');
    const bias = ctx.input(2);
    const output = ctx.output(0);
    const opts = op.options ?? {};
    const act: string = opts.activation ?? 'NONE';
    if ((opts.weightsFormat ?? 0) !== 0) ctx.unsupported(`shuffled weights format ${opts.weightsFormat} is not supported`);

    if (input.dtype !== 'int8' && input.dtype !== 'int16') ctx.unsupported(`input type ${input.dtype} is not supported`);
    if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    if (filter.dtype !== 'int8') ctx.unsupported(`weights type ${filter.dtype} with ${input.dtype} input is not supported`);
    if (!filter.data) ctx.unsupported('non-constant weights are not supported');
    if (filter.shape.length !== 2) ctx.fail(`weights must be 2-D, got shape [${filter.shape}]`);
    const units = filter.shape[0]!;
    const depth = filter.shape[1]!;
    if (units < 1 || depth < 1) ctx.fail(`weights shape [${filter.shape}] is empty`);

    // Shapes: output [..., units]; input holds batches rows of `depth` values.
    if (output.shape.length < 1) ctx.fail('output must have at least one dimension');
    const outDepth = output.shape[output.shape.length - 1]!;
    if (outDepth !== units) ctx.fail(`output last dimension ${outDepth} differs from ${units} weight rows`);
    const outCount = numElements(output.shape);
    const batches = outCount / units;
    const inCount = numElements(input.shape);
    if (batches < 1 || inCount !== batches * depth) {
      ctx.fail(`input shape [${input.shape}] does not give ${batches} rows of ${depth} for output shape [${output.shape}]`);
    }
    if (opts.keepNumDims) {
      const want = [...input.shape.slice(0, -1), units];
      if (input.shape[input.shape.length - 1] !== depth || want.length !== output.shape.length || want.some((d, i) => d !== output.shape[i])) {
        ctx.fail(`keep_num_dims: output shape [${output.shape}] should be [${want}]`);
      }
    }

    // Quantization.
    const inQ = requireScale(ctx, input, 'input');
    const outQ = requireScale(ctx, output, 'output');
    requireZp(ctx, inQ.zp, input.dtype, 'input');
    requireZp(ctx, outQ.zp, output.dtype, 'output');
    const { scales: fScales, perChannel } = filterScales(ctx, filter, units);
    const reals = new Float64Array(units);
    if (perChannel) {
      // Per-channel: input_scale * filter_scale in double.
      for (let c = 0; c < units; c++) reals[c] = (inQ.scale * fScales[c]!) / outQ.scale;
    } else {
      const fs = fScales[0]!;
      if (bias) {
        // The reference's sanity check between the bias scale and input × filter scale.
        const bScale = bias.quant && bias.quant.scale.length ? bias.quant.scale[0]! : 0;
        const diff = Math.abs(inQ.scale * fs - bScale);
        if (!(diff / outQ.scale <= 0.02)) ctx.fail(`bias scale ${bScale} does not match input scale × weights scale`);
      }
      // Per-tensor: the product is taken in float32, then divided in double.
      const r = f32(inQ.scale * fs) / outQ.scale;
      reals.fill(r);
    }
    const filterZp = filter.quant!.zeroPoint[0] ?? 0;
    if (!Number.isInteger(filterZp) || filterZp < -128 || filterZp > 127) ctx.fail(`weights zero point ${filterZp} is out of range`);
    const fo = perChannel ? 0 : -filterZp;
    const io = -inQ.zp;
    const [actMin, actMax] = clamp(ctx, act, output, outQ.scale, outQ.zp);

    // Accumulator width: int8 always int32; int16 follows the bias type (no bias: int64,
    // unless quantized_bias_type says INT32).
    let acc64 = false;
    if (bias) {
      if (!bias.data) ctx.unsupported('non-constant bias is not supported');
      if (numElements(bias.shape) !== units) ctx.fail(`bias has ${numElements(bias.shape)} elements, expected ${units}`);
      if (input.dtype === 'int8') {
        if (bias.dtype !== 'int32') ctx.unsupported(`bias type ${bias.dtype} with int8 input is not supported`);
      } else if (bias.dtype === 'int64') {
        acc64 = true;
      } else if (bias.dtype !== 'int32') {
        ctx.unsupported(`bias type ${bias.dtype} with int16 input is not supported`);
      }
    } else {
      // quantized_bias_type INT32 (TensorType 2) selects the int32 accumulator.
      acc64 = input.dtype === 'int16' && ctx.op.options.quantizedBiasType !== 2;
    }
    const { mult, shift } = multipliers(ctx, reals, acc64 ? 14 : 30);
    const macs = batches * units * depth;

    // The SIMD build runs int8 FULLY_CONNECTED (no filter zero point) as a 1x1
    // convolution of `batches` pixels: the GEMM kernel's register blocks and vector
    // requantization (assembly/ops/conv-gemm.ts). Same integers: acc = Σ w x + (bias +
    // io Σ w) wrapping, then MultiplyByQuantizedMultiplier, zero point and clamp. The
    // kernel widens rows of input into scratch first; very long rows (micro_speech's
    // 4,000-deep layer with 4 units) stay on the direct kernel, which needs no scratch.
    // So does one row against a large matrix (MobileNet's 1280 x 1000 classifier): it is
    // bound by reading the weights, and packing them would cost more load time (about
    // 10 ms) than the GEMM saves per run (about 0.04 ms). The relaxed build's direct layouts
    // (one relaxed dot product per 16 products) are the exception: there the GEMM runs
    // that classifier in a fraction of the direct kernel's time.
    const directDot = ctx.relaxed && ctx.relaxedDot >= 2;
    const gemm = ctx.simd && input.dtype === 'int8' && fo === 0 &&
      gemmScratchBytes(depth, batches) <= GEMM_SCRATCH_MAX && (batches > 1 || directDot || units * depth <= GEMM_ONE_ROW_MAX);
    if (gemm) {
      let biasBytes: Uint8Array = new Uint8Array(units * 4);
      if (bias) {
        const d = bias.data!;
        biasBytes = new Uint8Array(d.buffer, d.byteOffset, units * 4);
      }
      const g = {
        batches, inH: 1, inW: 1, inC: depth, outH: 1, outW: 1, outC: units, fH: 1, fW: 1,
        strideH: 1, strideW: 1, dilH: 1, dilW: 1, padH: 0, padW: 0,
      };
      gemmRecord(ctx, {
        input, output, weights: filterView(filter.data!, units * depth), k: depth, bias: biasBytes,
        mult, shift, g, inZp: inQ.zp, outZp: outQ.zp, actMin, actMax,
      });
      return { kernel: CONV_K.CONV_I8, macs };
    }

    // Folded bias: bias + io Σ_d w + D fo io.
    const rowSums = weightRowSums(filter.data!, units, depth);
    const bv = bias ? view(bias) : null;
    let biasWords: Int32Array | BigInt64Array;
    if (acc64) {
      const b64 = new BigInt64Array(units);
      for (let o = 0; o < units; o++) {
        const b = bv ? (bias!.dtype === 'int64' ? bv.getBigInt64(o * 8, true) : BigInt(bv.getInt32(o * 4, true))) : 0n;
        b64[o] = BigInt.asIntN(64, b + BigInt(io) * BigInt(rowSums[o]!) + BigInt(depth) * BigInt(fo) * BigInt(io));
      }
      biasWords = b64;
    } else {
      const b32 = new Int32Array(units);
      const k = Math.imul(Math.imul(depth, fo), io);
      for (let o = 0; o < units; o++) {
        const b = bv ? bv.getInt32(o * 4, true) : 0;
        b32[o] = (b + Math.imul(io, rowSums[o]!) + k) | 0;
      }
      biasWords = b32;
    }

    // Record (201 FC_ACC32 / 202 FC_ACC64), see assembly/ops/matmul.ts.
    ctx.b.tensor(input).tensor(output).tensor(filter)
      .constant(new Uint8Array(biasWords.buffer)).constant(mult).constant(shift)
      .i32(batches).i32(units).i32(depth)
      .i32(input.dtype === 'int16' ? 1 : 0).i32(output.dtype === 'int16' ? 1 : 0)
      .i32(outQ.zp).i32(actMin).i32(actMax).i32(fo);
    return { kernel: acc64 ? K.FC_ACC64 : K.FC_ACC32, macs };
  },
};

// ---------------------------------------------------------------------------------
// TRANSPOSE_CONV
//
// Reference: micro/kernels/transpose_conv.cc, reference_integer_ops::TransposeConv.
// Inputs: output_shape (int32 [4]), weights [outC, kH, kW, inC], input, bias (optional).
// Every input pixel scatters Σ_ic (x + io) w[oc, ky, kx, ic] into the accumulation buffer
// at (iy*sh - padH + ky, ix*sw - padW + kx, oc) when inside the output; then each
// element adds bias[oc], is requantized per channel, offset (int8 only) and clamped.
// The int16 form ignores zero points of input and output, as the reference does.
// Padding is derived from the output size only, as the reference does.
// ---------------------------------------------------------------------------------

function computeOutSize(padding: string, image: number, filter: number, stride: number): number {
  return padding === 'SAME' ? Math.trunc((image + stride - 1) / stride) : Math.trunc((image + stride - filter) / stride);
}

function computePadding(stride: number, image: number, filter: number, out: number): number {
  const total = Math.max(0, (out - 1) * stride + filter - image);
  return Math.trunc(total / 2);
}

const transposeConv: OpDef = {
  name: 'TRANSPOSE_CONV',
  maxVersion: 5,
  prepare(ctx) {
    const op = ctx.op;
    if (op.inputs.length < 3 || op.inputs.length > 4) ctx.fail(`expected 3 or 4 inputs, got ${op.inputs.length}`);
    if (op.outputs.length !== 1) ctx.fail(`expected 1 output, got ${op.outputs.length}`);
    const shapeT = ctx.requireInput(0, 'output_shape');
    const filter = ctx.requireInput(1, 'weights');
    const input = ctx.requireInput(2, 'input');
    const bias = ctx.input(3);
    const output = ctx.output(0);
    const opts = op.options ?? {};
    const act: string = opts.activation ?? 'NONE';
    const padding: string = opts.padding ?? 'SAME';
    const sh: number = opts.strideH ?? 0;
    const sw: number = opts.strideW ?? 0;

    if (input.dtype !== 'int8' && input.dtype !== 'int16') ctx.unsupported(`input type ${input.dtype} is not supported`);
    if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    if (filter.dtype !== 'int8') ctx.unsupported(`weights type ${filter.dtype} with ${input.dtype} input is not supported`);
    if (padding !== 'SAME' && padding !== 'VALID') ctx.fail(`padding ${padding} is not supported`);
    if (!Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1) ctx.fail(`strides (${sh}, ${sw}) must be >= 1`);

    if (input.shape.length !== 4) ctx.fail(`input must be 4-D, got [${input.shape}]`);
    if (filter.shape.length !== 4) ctx.fail(`weights must be 4-D, got [${filter.shape}]`);
    if (output.shape.length !== 4) ctx.fail(`output must be 4-D, got [${output.shape}]`);
    const [batches, inH, inW, inC] = input.shape as [number, number, number, number];
    const [outC, kH, kW, fC] = filter.shape as [number, number, number, number];
    const [oB, outH, outW, oC] = output.shape as [number, number, number, number];
    if (oB !== batches) ctx.fail(`output batch ${oB} differs from input batch ${batches}`);
    if (fC !== inC) ctx.fail(`weights depth ${fC} differs from input depth ${inC}`);
    if (oC !== outC) ctx.fail(`output depth ${oC} differs from ${outC} weight filters`);
    if ([batches, inH, inW, inC, outC, kH, kW, outH, outW].some((d) => d < 1)) ctx.fail('empty tensor dimension');
    if (inH * sh > 0x40000000 || inW * sw > 0x40000000) ctx.unsupported('strides are too large');

    // output_shape: int32 [4]; when constant it must agree with the output tensor.
    if (shapeT.dtype !== 'int32' || numElements(shapeT.shape) !== 4) ctx.fail('output_shape must be an int32 tensor of 4 elements');
    if (shapeT.data) {
      const v = view(shapeT);
      for (let i = 0; i < 4; i++) {
        if (v.getInt32(i * 4, true) !== output.shape[i]) ctx.fail(`output_shape value does not match output shape [${output.shape}]`);
      }
    }

    // Quantization.
    const inQ = requireScale(ctx, input, 'input');
    const outQ = requireScale(ctx, output, 'output');
    requireZp(ctx, inQ.zp, input.dtype, 'input');
    requireZp(ctx, outQ.zp, output.dtype, 'output');
    const fq = filter.quant;
    if (!fq || fq.scale.length < 1 || fq.zeroPoint.length !== fq.scale.length) ctx.fail('weights need matching scale and zero-point arrays');
    if (fq!.scale.length !== 1 && fq!.scale.length !== outC) ctx.fail(`weights have ${fq!.scale.length} scales but ${outC} filters`);
    const { scales } = filterScales(ctx, filter, outC);
    // PopulateConvolutionQuantizationParams: double product for every channel.
    const reals = scales.map((s) => (inQ.scale * s) / outQ.scale);
    const is16 = input.dtype === 'int16';
    const { mult, shift } = multipliers(ctx, reals, is16 ? 14 : 30);
    const [actMin, actMax] = clamp(ctx, act, output, outQ.scale, outQ.zp);

    // Bias as a constant array of the accumulator type.
    const biasWords = is16 ? new BigInt64Array(outC) : new Int32Array(outC);
    if (bias) {
      if (!bias.data) ctx.unsupported('non-constant bias is not supported');
      if (numElements(bias.shape) !== outC) ctx.fail(`bias has ${numElements(bias.shape)} elements, expected ${outC}`);
      const v = view(bias);
      if (is16) {
        if (bias.dtype === 'int64') for (let c = 0; c < outC; c++) biasWords[c] = v.getBigInt64(c * 8, true);
        else if (bias.dtype === 'int16') for (let c = 0; c < outC; c++) biasWords[c] = BigInt(v.getInt16(c * 2, true));
        else ctx.unsupported(`bias type ${bias.dtype} with int16 input is not supported`);
      } else {
        if (bias.dtype !== 'int32') ctx.unsupported(`bias type ${bias.dtype} with int8 input is not supported`);
        for (let c = 0; c < outC; c++) biasWords[c] = v.getInt32(c * 4, true);
      }
    }

    const padH = computePadding(sh, outH, kH, computeOutSize(padding, outH, kH, sh));
    const padW = computePadding(sw, outW, kW, computeOutSize(padding, outW, kW, sw));
    const outCount = numElements(output.shape);

    // Record (203 TCONV_I8 / 204 TCONV_I16), see assembly/ops/matmul.ts.
    ctx.b.tensor(input).tensor(output).tensor(filter)
      .constant(new Uint8Array(biasWords.buffer)).constant(mult).constant(shift)
      .i32s([batches, inH, inW, inC, outH, outW, outC, kH, kW, sh, sw, padH, padW])
      .i32(is16 ? 0 : -inQ.zp).i32(is16 ? 0 : outQ.zp).i32(actMin).i32(actMax)
      .scratchBuffer(outCount * (is16 ? 8 : 4))
      .scratchBuffer(is16 ? 0 : inC * 2);
    return {
      kernel: is16 ? K.TCONV_I16 : K.TCONV_I8,
      macs: batches * inH * inW * inC * kH * kW * outC,
    };
  },
};

export const matmulOps: OpDef[] = [fullyConnected, transposeConv];
