/**
 * Prepare steps of the conv family: CONV_2D and DEPTHWISE_CONV_2D on quantized tensors.
 * Kernels: assembly/ops/conv.ts.
 *
 * Arithmetic follows TFLite Micro's reference integer kernels:
 *  - int8 activations, int8 per-channel (or per-tensor) weights, int32 bias:
 *      acc(i32) = Σ w·(x − zp_in) + bias; out = clamp(MBQM(acc, m_c, s_c) + zp_out)
 *  - int16 activations, int8 weights ("16x8"), int64 bias (or none):
 *      acc(i64) = Σ w·x + bias; out = clamp(MBQM64(acc, m_c, s_c))   (zero points unused)
 *  - CONV_2D 16x8 with int32 bias: the same with a wrapping i32 accumulator and the
 *      32-bit MultiplyByQuantizedMultiplier.
 * Per-channel multipliers come from float64 products of the float32 scales
 * (input_scale · filter_scale[c] / output_scale), quantized as TFLite's QuantizeMultiplier.
 */
import { numElements, type Tensor } from '../../graph/types.js';
import { activationRange, dtypeRange, quantizeMultiplierAt, roundHalfAway } from '../quant.js';
import type { DeferredBlob, OpContext, OpDef } from './types.js';
import { dotProbeBlob } from '../relaxed-dot.js';

/** Kernel ids (must match assembly/ops/conv.ts). */
export const K = {
  /** CONV_2D int8 x int8, int32 accumulator. */
  CONV_I8: 101,
  /** CONV_2D int16 x int8, int64 accumulator (int64 bias or none). */
  CONV_I16_ACC64: 102,
  /** CONV_2D int16 x int8, int32 accumulator (int32 bias). */
  CONV_I16_ACC32: 103,
  /** DEPTHWISE_CONV_2D int8 x int8, int32 accumulator. */
  DWCONV_I8: 111,
  /** DEPTHWISE_CONV_2D int16 x int8, int64 accumulator. */
  DWCONV_I16: 112,
} as const;

/** Upper bound on any spatial size, stride, dilation or effective filter extent. */
const MAX_EXTENT = 1 << 24;
/** Refuse ops whose work per inference is absurd (fuzzed models). */
const MAX_MACS = 2 ** 36;

/** Shape and window of a convolution (NHWC). */
export interface Geometry {
  batches: number;
  inH: number; inW: number; inC: number;
  outH: number; outW: number; outC: number;
  fH: number; fW: number;
  strideH: number; strideW: number; dilH: number; dilW: number;
  padH: number; padW: number;
}

/** ComputeOutSize (TFLite padding.h); null where TFLite reports an error. */
function outSize(padding: string, image: number, filter: number, stride: number, dilation: number): number | null {
  const eff = (filter - 1) * dilation + 1;
  let v: number;
  if (padding === 'SAME') v = Math.floor((image + stride - 1) / stride);
  else v = Math.floor((image + stride - eff) / stride);
  return v < 0 ? null : v;
}

/** ComputePaddingWithOffset: the leading (top / left) padding. */
function padBefore(stride: number, dilation: number, image: number, filter: number, out: number): number {
  const eff = (filter - 1) * dilation + 1;
  const total = Math.max(0, (out - 1) * stride + eff - image);
  return Math.floor(total / 2);
}

function checkInt(ctx: OpContext, v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) ctx.fail(`${what} ${String(v)} is out of range [${lo}, ${hi}]`);
  return v as number;
}

function checkShape(ctx: OpContext, t: Tensor, what: string, rank: number): void {
  if (t.shape.length !== rank) ctx.fail(`${what} has rank ${t.shape.length}, expected ${rank}`);
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 1 || d > MAX_EXTENT) ctx.fail(`${what} has invalid shape [${t.shape}]`);
  }
}

/** Per-tensor quantization with a positive finite scale; returns [scale, zeroPoint]. */
function tensorQuant(ctx: OpContext, t: Tensor, what: string): [number, number] {
  const q = t.quant;
  if (!q || q.scale.length < 1) ctx.fail(`${what} has no quantization parameters`);
  const s = q!.scale[0]!;
  if (!(s > 0) || !Number.isFinite(s)) ctx.fail(`${what} has invalid scale ${s}`);
  const zp = q!.zeroPoint[0] ?? 0;
  const [lo, hi] = dtypeRange(t.dtype);
  if (!Number.isInteger(zp) || zp < lo || zp > hi) ctx.fail(`${what} zero point ${zp} is outside the ${t.dtype} range`);
  return [s, zp];
}

/**
 * CalculateActivationRangeQuantized, including TFLite's check that the quantized
 * clamp values fit in int32. Activations other than the ReLU family give the full range
 * (as TFLite does for quantized outputs).
 */
function clampRange(ctx: OpContext, act: unknown, out: Tensor, scale: number, zp: number): [number, number] {
  if (act === 'RELU' || act === 'RELU6' || act === 'RELU_N1_TO_1') {
    for (const v of act === 'RELU' ? [0] : act === 'RELU6' ? [0, 6] : [-1, 1]) {
      const r = roundHalfAway(Math.fround(v / scale));
      if (!(r >= -2147483648 && r <= 2147483647)) ctx.fail(`fused ${act} does not fit the output quantization`);
    }
    const [lo, hi] = activationRange(act, out.dtype, scale, zp);
    return [Math.max(-2147483648, Math.min(2147483647, lo)), Math.max(-2147483648, Math.min(2147483647, hi))];
  }
  if (act === 'NONE' || act === 'TANH' || act === 'SIGN_BIT') return dtypeRange(out.dtype) as [number, number];
  return ctx.fail(`unknown fused activation ${String(act)}`);
}

/** Geometry from options and shapes; validates strides, dilations, padding and output shape. */
function geometry(ctx: OpContext, input: Tensor, output: Tensor, fH: number, fW: number, outC: number): Geometry {
  const o = ctx.op.options;
  const padding = o.padding;
  if (padding !== 'SAME' && padding !== 'VALID') ctx.fail(`unknown padding ${String(padding)}`);
  const strideH = checkInt(ctx, o.strideH, 'stride_h', 1, MAX_EXTENT);
  const strideW = checkInt(ctx, o.strideW, 'stride_w', 1, MAX_EXTENT);
  const dilH = checkInt(ctx, o.dilationH ?? 1, 'dilation_h_factor', 1, MAX_EXTENT);
  const dilW = checkInt(ctx, o.dilationW ?? 1, 'dilation_w_factor', 1, MAX_EXTENT);
  const [batches, inH, inW, inC] = input.shape as [number, number, number, number];
  if ((fH - 1) * dilH + 1 > MAX_EXTENT || (fW - 1) * dilW + 1 > MAX_EXTENT) ctx.fail('dilated filter is too large');
  const outH = outSize(padding, inH, fH, strideH, dilH);
  const outW = outSize(padding, inW, fW, strideW, dilW);
  if (outH === null || outW === null) ctx.fail(`filter ${fH}x${fW} (dilation ${dilH}x${dilW}) does not fit input ${inH}x${inW} with VALID padding`);
  const want = [batches, outH!, outW!, outC];
  const got = output.shape;
  if (got.length !== 4 || got.some((d, i) => d !== want[i])) ctx.fail(`output shape [${got}] differs from the computed [${want}]`);
  return {
    batches, inH, inW, inC, outH: outH!, outW: outW!, outC, fH, fW, strideH, strideW, dilH, dilW,
    padH: padBefore(strideH, dilH, inH, fH, outH!),
    padW: padBefore(strideW, dilW, inW, fW, outW!),
  };
}

/**
 * PopulateConvolutionQuantizationParams: per-channel multipliers and shifts.
 */
function channelMultipliers(ctx: OpContext, inScale: number, outScale: number, filter: Tensor, outC: number, maxShift: number): { mult: Int32Array; shift: Int32Array } {
  const q = filter.quant;
  if (!q || q.scale.length < 1) ctx.fail('filter has no quantization parameters');
  const scales = q!.scale;
  // Per-channel scales run along the output channels (the reader has checked that
  // the quantized dimension has as many entries as there are scales).
  if (scales.length !== 1 && scales.length !== outC) ctx.fail(`filter has ${scales.length} scales for ${outC} output channels`);
  const mult = new Int32Array(outC);
  const shift = new Int32Array(outC);
  for (let c = 0; c < outC; c++) {
    const fs = scales.length === 1 ? scales[0]! : scales[c]!;
    if (!(fs >= 0) || !Number.isFinite(fs)) ctx.fail(`filter scale ${fs} is invalid`);
    const eff = (inScale * fs) / outScale;
    quantizeMultiplierAt(eff, mult, shift, c);
    if (shift[c]! > maxShift) ctx.unsupported(`effective output scale ${eff} of channel ${c} is too large`);
  }
  return { mult, shift };
}

/** Bias values as an int32 or int64 blob with outC entries (zeros when absent). */
function biasBlob(ctx: OpContext, bias: Tensor | null, outC: number, wide: boolean): Uint8Array {
  if (!bias) return new Uint8Array(outC * (wide ? 8 : 4));
  if (!bias.data) ctx.unsupported('bias must be a constant tensor');
  if (numElements(bias.shape) !== outC) ctx.fail(`bias has ${numElements(bias.shape)} elements, expected ${outC}`);
  const src = new DataView(bias.data!.buffer, bias.data!.byteOffset, bias.data!.byteLength);
  if (wide) {
    const out = new BigInt64Array(outC);
    if (bias.dtype === 'int64') for (let i = 0; i < outC; i++) out[i] = src.getBigInt64(i * 8, true);
    else for (let i = 0; i < outC; i++) out[i] = BigInt(src.getInt32(i * 4, true));
    return new Uint8Array(out.buffer);
  }
  const out = new Int32Array(outC);
  for (let i = 0; i < outC; i++) out[i] = src.getInt32(i * 4, true);
  return new Uint8Array(out.buffer);
}

/**
 * Per-channel constants of the vectorized output stage (see assembly/ops/conv-requant.ts),
 * the same integers as the multiplier / shift pair in another form, for np = outC rounded
 * up to a multiple of 8 channels (the padding entries have multiplier 0):
 *   i32 mult[np] | i32 2^left[np] | i32 half[np] | u32 2^(31-right)[np]
 *   | u32 cap[np] | i32 2^(S-right)[np] | i32 S | i32 fast | i32 anyLeft
 * with S = 22 for int8 outputs, 16 for int16 (the kernels use the same constant), cap =
 * 2^(32-S+right) - 1, fast = 0 when every right shift is <= S (else -1: the kernels
 * use the 64-bit division), and anyLeft = 1 when some channel shifts left (else the
 * kernels skip that multiply).
 */
function requantTable(mult: Int32Array, shift: Int32Array, wide: boolean): Uint8Array {
  const n = mult.length;
  const np = padTo8(n);
  const S = wide ? 16 : 22;
  const c = 32 - S;
  const buf = new ArrayBuffer(np * 24 + 16);
  const i32 = new Int32Array(buf);
  const u32 = new Uint32Array(buf);
  let rmax = 0, anyLeft = 0;
  for (let k = 0; k < n; k++) {
    rmax = Math.max(rmax, shift[k]! < 0 ? -shift[k]! : 0);
    if (shift[k]! > 0) anyLeft = 1;
  }
  const fast = rmax <= S;
  for (let k = 0; k < np; k++) {
    const s = k < n ? shift[k]! : 0;
    const left = s > 0 ? s : 0;
    const right = s < 0 ? -s : 0;
    i32[k] = k < n ? mult[k]! : 0;
    i32[np + k] = 1 << left;
    i32[2 * np + k] = right > 0 ? 1 << (right - 1) : 0;
    u32[3 * np + k] = (1 << (31 - right)) >>> 0;
    u32[4 * np + k] = c + right < 32 ? (1 << (c + right)) - 1 : 0xffffffff;
    i32[5 * np + k] = fast ? 1 << (S - right) : 0;
  }
  i32[6 * np] = S;
  i32[6 * np + 1] = fast ? 0 : -1;
  i32[6 * np + 2] = anyLeft;
  return new Uint8Array(buf);
}

/** Pixels per call of the GEMM conv's block kernel (groupOf in assembly/ops/conv-gemm.ts). */
function gemmGroup(kp: number): number {
  const g = ((Math.trunc(4096 / kp)) >> 2) << 2;
  return g < 4 ? 4 : g > 16 ? 16 : g;
}

/**
 * Scratch of the GEMM kernel for reduction length k and `pixels` output pixels: the int16
 * rows of one group of pixels (groupOf in conv-gemm.ts; never more rows than pixels) and
 * slack for its overlapping vector stores.
 */
export function gemmScratchBytes(k: number, pixels: number): number {
  const kp = k + (k & 1);
  return Math.min(gemmGroup(kp), pixels) * kp * 2 + 32;
}

const padTo8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * Σw of each of the outC rows of k weights (src[oc * k + i]) into sums; returns whether a
 * weight is -128 (which the relaxed build's 7-bit and 16-bit-pair layouts cannot take).
 * Prepare needs both before any layout is chosen; the packing itself waits for the
 * model's memory (the DeferredBlobs below).
 */
function rowSums(src: Int8Array, outC: number, k: number, sums: Int32Array): boolean {
  let hasMin = false;
  for (let oc = 0, s = 0; oc < outC; oc++) {
    let sum = 0;
    for (const e = s + k; s < e; s++) {
      const v = src[s]!;
      sum += v;
      if (v === -128) hasMin = true;
    }
    sums[oc] = sum;
  }
  return hasMin;
}

/** `pack(out, src, outC, k)` as a DeferredBlob of `size` bytes: it runs when the model's memory is filled. */
function deferredPack(size: number, pack: (out: Int8Array, src: Int8Array, outC: number, k: number) => void, src: Int8Array, outC: number, k: number): DeferredBlob {
  return { size, fill: (dst) => pack(new Int8Array(dst.buffer, dst.byteOffset, dst.byteLength), src, outC, k) };
}

/**
 * Weights with the output channels in vector lanes, for the SIMD kernels that multiply
 * pairs of int16 (i32x4.dot_i16x8_s): for each block of 8 channels [b*8, b*8+8) and each
 * pair j of reduction indices (2j, 2j+1), 16 values, channels b*8..b*8+3 then
 * b*8+4..b*8+7, each channel as the pair (w(oc, 2j), w(oc, 2j+1)). Channels past outC and
 * indices past k are zero (`out`, padTo8(outC) * kp bytes with kp = k rounded up to even,
 * starts zeroed). Weight i of channel oc is src[oc * k + i] (rows: CONV_2D's [outC][k]
 * filter). One pass, reading the filter in order, in plain typed-array loops: this runs
 * once per op at load, mostly before the engine has optimized it.
 */
function pairPackRows(out: Int8Array, src: Int8Array, outC: number, k: number): void {
  const kp = k + (k & 1);
  const pairs = kp >> 1;
  if ((k & 1) === 0 && (src.byteOffset & 1) === 0 && (out.byteOffset & 1) === 0) {
    // Even k on an aligned filter: each pair is one little-endian int16 (half the steps).
    const s16 = new Int16Array(src.buffer, src.byteOffset, (outC * k) >> 1);
    const o16 = new Int16Array(out.buffer, out.byteOffset, out.length >> 1);
    const h = k >> 1;
    for (let oc = 0; oc < outC; oc++) {
      let o = (oc >> 3) * pairs * 8 + (oc & 7);
      for (let s = oc * h, e = s + h; s < e; s++, o += 8) o16[o] = s16[s]!;
    }
    return;
  }
  const k2 = k & ~1;
  for (let oc = 0; oc < outC; oc++) {
    let o = (oc >> 3) * pairs * 16 + (oc & 7) * 2;
    let s = oc * k;
    const e = s + k2;
    for (; s < e; s += 2, o += 16) {
      out[o] = src[s]!;
      out[o + 1] = src[s + 1]!;
    }
    if (k & 1) out[o] = src[s]!;
  }
}

/**
 * The relaxed build's layout of the same filter (assembly/ops/conv-gemm.ts, layout 1):
 * each weight split into wp = max(w, 0) and wn = max(-w, 0); per block of 8 channels and
 * per quad j of reduction indices (kq = k rounded up to 4), 64 bytes: wp of channels
 * 0-3 (indices 4j..4j+3 each), wn of channels 0-3, wp of channels 4-7, wn of channels 4-7.
 * Indices past k and channels past outC are zero (`out`, padTo8(outC) * kq * 2 bytes,
 * starts zeroed). No weight may be -128 (rowSums), whose magnitude does not fit the 7-bit
 * operand.
 */
function quadPackRows(out: Int8Array, src: Int8Array, outC: number, k: number): void {
  const kq = (k + 3) & ~3;
  for (let oc = 0; oc < outC; oc++) {
    const base = (oc >> 3) * kq * 16 + ((oc & 7) >> 2) * 32 + (oc & 3) * 4;
    for (let i = 0, s = oc * k; i < k; i++, s++) {
      const v = src[s]!;
      const at = base + (i >> 2) * 64 + (i & 3);
      if (v > 0) out[at] = v;
      else out[at + 16] = -v;
    }
  }
}

/**
 * The relaxed build's direct layouts (2 and 3; assembly/ops/conv-gemm.ts, blocksD): per
 * block of 8 channels and per quad j of reduction indices, 32 bytes: the weights of
 * channels 0-3 (indices 4j..4j+3 each), then of channels 4-7, as they are. Indices past k
 * and channels past outC are zero (`out`, padTo8(outC) * kq bytes, starts zeroed).
 */
function directPackRows(out: Int8Array, src: Int8Array, outC: number, k: number): void {
  const kq = (k + 3) & ~3;
  for (let oc = 0; oc < outC; oc++) {
    const base = (oc >> 3) * kq * 8 + ((oc & 7) >> 2) * 16 + (oc & 3) * 4;
    for (let i = 0, s = oc * k; i < k; i++, s++) out[base + (i >> 2) * 32 + (i & 3)] = src[s]!;
  }
}

/**
 * The same layout for DEPTHWISE_CONV_2D's [taps][outC] filter, tap t of the packed order
 * being filter tap order[t] (or t), as int16 (the kernel multiplies them unwidened).
 */
function pairPackTaps(src: Int8Array, outC: number, taps: number, tp: number, order: Int32Array | null): Int16Array {
  const pairs = tp >> 1;
  const out = new Int16Array(padTo8(outC) * tp);
  for (let t = 0; t < taps; t++) {
    const row = (order ? order[t]! : t) * outC;
    const base = (t >> 1) * 16 + (t & 1);
    for (let oc = 0; oc < outC; oc++) out[(oc >> 3) * pairs * 16 + base + (oc & 7) * 2] = src[row + oc]!;
  }
  return out;
}

/**
 * Block data of the depthwise kernel's 3x3 depth-multiplier-1 blocks (dwRunF in
 * assembly/ops/conv-fast.ts): per full block of 8 channels, 384 bytes: the block's 160
 * bytes of packed weights (pairPackTaps) | f32 M[8] | f32 C[8] | i32 folded bias[8] |
 * i32 mult[8] | 2^left[8] | half[8] | 2^(31−right)[8]. M and C are the float32 output
 * stage's (stageV in assembly/ops/conv-requant.ts, which holds the proof; divided by 256
 * as in gemmFloatStage), the last four rows the integer stage's (requantTable's rows, for the
 * lanes the float32 stage hands back). Returns null unless every channel admits the
 * float32 stage: with U = |bias| + Σ|w| · (128 + |zp|) (it bounds the accumulator),
 * U · 2^left < 2^31 and U · M < 2^21. absSum: Σ|w| per channel; folded: the folded bias
 * (bias − zp · Σw) per channel.
 */
export function dwBlockData(packed: Int16Array, mult: Int32Array, shift: Int32Array, bias: Int32Array, folded: Int32Array, absSum: Float64Array, inZp: number): Uint8Array | null {
  const nblk = mult.length >> 3;
  const out = new ArrayBuffer(nblk * 384);
  const w16 = new Int16Array(out);
  const f32 = new Float32Array(out);
  const i32 = new Int32Array(out);
  const u32 = new Uint32Array(out);
  const maxX = 128 + Math.abs(inZp);
  for (let c = 0; c < nblk * 8; c++) {
    const m = mult[c]!;
    const s = shift[c]!;
    const left = s > 0 ? s : 0;
    const right = s < 0 ? -s : 0;
    if (m < 0 || right > 31) return null;
    const u = (Math.abs(bias[c]!) + absSum[c]! * maxX) * 2 ** left;
    const D = 2 ** (31 + right);
    const M = (m * 2 ** left) / D;
    if (u >= 2 ** 31 || (u / 2 ** left) * M >= 2 ** 21) return null;
    const f = (c >> 3) * 96 + 40 + (c & 7);
    f32[f] = M / 256;
    f32[f + 8] = right > 0 ? 2 ** 30 / D / 256 : 0;
    i32[f + 16] = folded[c]!;
    i32[f + 24] = m;
    i32[f + 32] = 1 << left;
    i32[f + 40] = right > 0 ? 1 << (right - 1) : 0;
    u32[f + 48] = (1 << (31 - right)) >>> 0;
  }
  for (let b = 0; b < nblk; b++) w16.set(packed.subarray(b * 80, b * 80 + 80), b * 192);
  return new Uint8Array(out);
}

/**
 * The relaxed build's data for 3x3 depth-multiplier-1 depthwise blocks on a direct relaxed
 * dot layout (2 or 3; src/runtime/relaxed-dot.ts), 128 bytes per full block of 8 channels:
 * the weights as three quads of taps (taps 0-3, 4-7, then 8 and three zeros, in the
 * filter's row-major order), each 32 bytes: the quad of channels 0-3, then of channels 4-7;
 * then the i32 bias the sums start from: the folded bias, minus 128 · Σw for layout 2
 * (which reads the pixels as x + 128). Null for layout 3 when a weight is -128 (a pair of
 * products might leave the 16 bits an arm64 engine sums them in). fv: the [9][outC] filter.
 */
export function dwRelaxedData(fv: Int8Array, outC: number, folded: Int32Array, layout: number): Uint8Array | null {
  const nblk = outC >> 3;
  const out = new Uint8Array(nblk * 128);
  const w8 = new Int8Array(out.buffer);
  const i32 = new Int32Array(out.buffer);
  for (let oc = 0; oc < nblk * 8; oc++) {
    const b = oc >> 3, c = oc & 7;
    let sum = 0;
    for (let t = 0; t < 9; t++) {
      const v = fv[t * outC + oc]!;
      if (v === -128 && layout === 3) return null;
      sum += v;
      w8[b * 128 + (t >> 2) * 32 + (c >> 2) * 16 + (c & 3) * 4 + (t & 3)] = v;
    }
    i32[b * 32 + 24 + c] = (folded[oc]! - (layout === 2 ? 128 * sum : 0)) | 0;
  }
  return out;
}

/** Common input/output checks; returns [input, filter, bias, output]. */
function operands(ctx: OpContext): [Tensor, Tensor, Tensor | null, Tensor] {
  const n = ctx.op.inputs.length;
  if (n !== 2 && n !== 3) ctx.fail(`expected 2 or 3 inputs, got ${n}`);
  if (ctx.op.outputs.length !== 1) ctx.fail(`expected 1 output, got ${ctx.op.outputs.length}`);
  const input = ctx.requireInput(0, 'input');
  const filter = ctx.requireInput(1, 'filter');
  const bias = ctx.input(2);
  const output = ctx.output(0);
  if (input.dtype !== 'int8' && input.dtype !== 'int16') ctx.unsupported(`input type ${input.dtype} is not supported (int8 or int16)`);
  if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
  if (filter.dtype !== 'int8') ctx.unsupported(`filter type ${filter.dtype} is not supported (int8)`);
  if (!filter.data) ctx.unsupported('filter must be a constant tensor');
  checkShape(ctx, input, 'input', 4);
  checkShape(ctx, filter, 'filter', 4);
  checkShape(ctx, output, 'output', 4);
  if (bias) {
    if (bias.dtype !== 'int32' && bias.dtype !== 'int64') ctx.unsupported(`bias type ${bias.dtype} is not supported`);
    if (input.dtype === 'int8' && bias.dtype !== 'int32') ctx.unsupported(`bias type ${bias.dtype} with int8 input is not supported`);
  }
  return [input, filter, bias, output];
}

/** Writes the common tail of a record: geometry, offsets and clamp. */
function geometryWords(ctx: OpContext, g: Geometry): void {
  ctx.b.i32s([g.batches, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.fH, g.fW]);
}

/** bias + input offset × Σ weights per channel (wrapping int32), padded to 8 channels. */
function foldBias(biasBytes: Uint8Array, sums: Int32Array, inZp: number): Int32Array {
  const n = sums.length;
  const bv = new DataView(biasBytes.buffer, biasBytes.byteOffset, biasBytes.byteLength);
  const folded = new Int32Array(padTo8(n));
  for (let oc = 0; oc < n; oc++) folded[oc] = (bv.getInt32(oc * 4, true) + Math.imul(-inZp, sums[oc]!)) | 0;
  return folded;
}

/** What the GEMM kernel needs: an int8 convolution without groups, int32 accumulator. */
export interface GemmSpec {
  input: Tensor;
  output: Tensor;
  /** The filter as [outC][k] int8 rows, k = fH * fW * inC. */
  weights: Int8Array;
  k: number;
  /** int32 bias per output channel (zeros when the op has none). */
  bias: Uint8Array;
  mult: Int32Array;
  shift: Int32Array;
  g: Geometry;
  inZp: number;
  outZp: number;
  actMin: number;
  actMax: number;
}

/**
 * Lane-packed weights and their channel sums, kept per weight array, with the per-op
 * blobs made from them: ops that share a weight tensor (an unrolled recurrent layer runs
 * one FULLY_CONNECTED per time step on the same weights) share one copy of each, which
 * the planner then places once.
 */
interface Shared {
  mult: Int32Array; shift: Int32Array; bias: Uint8Array; inZp: number; layout: number;
  table: Uint8Array; folded: Int32Array;
  /** The float32 output stage's constants, or null where it is not exact. */
  stage: Float32Array | null;
}
interface Packed {
  k: number; outC: number; blobs: Shared[];
  /** Σw per channel, and whether a weight is -128 (rowSums). */
  sums: Int32Array; hasMin: boolean;
  /** Layout 0 (pairs), made on first use. */
  lanes?: DeferredBlob;
  /** Layout 1 (split quads, relaxed build; not with a weight of -128), made on first use. */
  quads?: DeferredBlob;
  /** Layouts 2 and 3 (direct quads, relaxed build), made on first use. */
  direct?: DeferredBlob;
}
const laneCache = new WeakMap<Int8Array, Packed>();
/**
 * The packed weights for the kernel's layout: 0 (int16 pairs) on the SIMD build; on the
 * relaxed build `relaxed` (1, 2 or 3: what the engine's relaxed dot allows, RelaxedDot),
 * layouts 3 and 1 falling back to 1 and to 0 when a weight is -128. The weights are
 * packed straight into the model's memory when it is filled (DeferredBlob); ops that share
 * a filter share the blob.
 */
function lanePacked(src: Int8Array, outC: number, k: number, relaxed: number): { lanes: DeferredBlob; layout: number; sums: Int32Array; blobs: Shared[] } {
  let e = laneCache.get(src);
  if (!e || e.k !== k || e.outC !== outC) {
    const sums = new Int32Array(outC);
    e = { k, outC, blobs: [], sums, hasMin: rowSums(src, outC, k, sums) };
    laneCache.set(src, e);
  }
  const kq = (k + 3) & ~3;
  // Layout 3 may sum a pair of products in 16 bits: not with a weight of -128.
  if (relaxed === 2 || (relaxed === 3 && !e.hasMin)) {
    e.direct ??= deferredPack(padTo8(outC) * kq, directPackRows, src, outC, k);
    return { lanes: e.direct, layout: relaxed, sums: e.sums, blobs: e.blobs };
  }
  if (relaxed >= 1 && !e.hasMin) {
    e.quads ??= deferredPack(padTo8(outC) * kq * 2, quadPackRows, src, outC, k);
    return { lanes: e.quads, layout: 1, sums: e.sums, blobs: e.blobs };
  }
  e.lanes ??= deferredPack(padTo8(outC) * (k + (k & 1)), pairPackRows, src, outC, k);
  return { lanes: e.lanes, layout: 0, sums: e.sums, blobs: e.blobs };
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const filterViews = new WeakMap<Uint8Array, Int8Array>();
/** One Int8Array view per constant tensor's bytes (the key of the packed-weights cache). */
export function filterView(data: Uint8Array, count: number): Int8Array {
  let v = filterViews.get(data);
  if (!v || v.length !== count) {
    v = new Int8Array(data.buffer, data.byteOffset, count);
    filterViews.set(data, v);
  }
  return v;
}

/**
 * Writes the record of kernel 101 for the SIMD build's GEMM (assembly/ops/conv-gemm.ts):
 * CONV_2D int8 without groups, and FULLY_CONNECTED int8 as a 1x1 convolution over its
 * rows (src/runtime/ops/matmul.ts). Word 1 (the scalar kernels' weights) stays 0; word 32 names
 * the layout of word 31: 0 for the int16 pairs, on the relaxed build 1 for the split quads
 * and 2 or 3 for the direct ones; word 33 holds the float32 output stage's constants
 * (gemmFloatStage), or 0 where it is not exact; word 34, for layouts 2 and 3, the probe the
 * kernel checks the engine's relaxed dot against (dotProbeBlob), else 0.
 */
export function gemmRecord(ctx: OpContext, s: GemmSpec): void {
  const { g, k } = s;
  const { lanes, layout, sums, blobs } = lanePacked(s.weights, g.outC, k, ctx.relaxed ? ctx.relaxedDot : 0);
  let c = blobs.find((b) => b.inZp === s.inZp && b.layout === layout && sameBytes(b.mult, s.mult) && sameBytes(b.shift, s.shift) && sameBytes(b.bias, s.bias));
  if (!c) {
    // Layout 2 reads the pixels as x + 128: the fold takes 128 * sum(w) off as well.
    c = {
      mult: s.mult, shift: s.shift, bias: s.bias, inZp: s.inZp, layout,
      table: requantTable(s.mult, s.shift, false), folded: foldBias(s.bias, sums, layout === 2 ? s.inZp + 128 : s.inZp),
      stage: gemmFloatStage(s.mult, s.shift, s.bias, k, s.inZp),
    };
    blobs.push(c);
  }
  ctx.b.tensor(s.input).i32(0).constant(c.bias).tensor(s.output)
    .constant(c.mult).constant(c.shift)
    .scratchBuffer(gemmScratchBytes(k, g.batches * g.outH * g.outW));
  geometryWords(ctx, g);
  ctx.b.i32s([g.inC, 1, g.strideH, g.strideW, g.dilH, g.dilW, g.padH, g.padW,
    -s.inZp, s.outZp, s.actMin, s.actMax, Math.ceil(k / 8) * 8]);
  ctx.b.constant(c.table).constant(c.folded).constant(lanes).i32(layout);
  if (c.stage) ctx.b.constant(c.stage);
  else ctx.b.i32(0);
  if (layout >= 2) ctx.b.constant(dotProbeBlob(layout));
  else ctx.b.i32(0);
}

/**
 * Constants of the GEMM kernel's float32 output stage (stageV in
 * assembly/ops/conv-requant.ts, which holds the proof), for np = outC rounded up to 8
 * channels: f32 M[np] | f32 C[np], each divided by 256 (the stage works on v / 256), with
 * M = m · 2^left / D rounded to float32, C = 2^30 / D when right > 0 else 0,
 * D = 2^(31+right); padding channels 0. Returns null unless every
 * channel admits it: with U = |bias| + 128 · k · (128 + |zp|), a bound on |acc| (|w| <= 128,
 * |x − zp| <= 128 + |zp|), U · 2^left < 2^31 and U · M < 2^21.
 */
export function gemmFloatStage(mult: Int32Array, shift: Int32Array, bias: Uint8Array, k: number, inZp: number): Float32Array | null {
  const n = mult.length;
  const np = padTo8(n);
  const out = new Float32Array(2 * np);
  const bv = new DataView(bias.buffer, bias.byteOffset, bias.byteLength);
  const xs = 128 * k * (128 + Math.abs(inZp));
  for (let c = 0; c < n; c++) {
    const m = mult[c]!;
    const s = shift[c]!;
    const left = s > 0 ? s : 0;
    const right = s < 0 ? -s : 0;
    if (m < 0 || right > 31) return null;
    const u = (Math.abs(bv.getInt32(c * 4, true)) + xs) * 2 ** left;
    const D = 2 ** (31 + right);
    const M = (m * 2 ** left) / D;
    if (u >= 2 ** 31 || u * M >= 2 ** 21) return null;
    out[c] = M / 256;
    out[np + c] = right > 0 ? 2 ** 30 / D / 256 : 0;
  }
  return out;
}

const conv2d: OpDef = {
  name: 'CONV_2D',
  maxVersion: 8,
  prepare(ctx) {
    const [input, filter, bias, output] = operands(ctx);
    const [outC, fH, fW, fic] = filter.shape as [number, number, number, number];
    const g = geometry(ctx, input, output, fH, fW, outC);
    if (g.inC % fic !== 0) ctx.fail(`input depth ${g.inC} is not a multiple of the filter depth ${fic}`);
    const groups = g.inC / fic;
    if (outC % groups !== 0) ctx.fail(`${outC} output channels cannot be split into ${groups} groups`);
    const [inScale, inZp] = tensorQuant(ctx, input, 'input');
    const [outScale, outZp] = tensorQuant(ctx, output, 'output');

    let kernel: number;
    if (input.dtype === 'int8') kernel = K.CONV_I8;
    else {
      // TFLite Micro picks the 32-bit accumulator for an int32 bias, or for no bias when
      // the options ask for int32 bias quantization.
      const qbt = ctx.op.options.quantizedBiasType;
      const wantI32 = bias ? bias.dtype === 'int32' : (qbt === 'int32' || qbt === 2);
      kernel = wantI32 ? K.CONV_I16_ACC32 : K.CONV_I16_ACC64;
    }
    const wide = kernel === K.CONV_I16_ACC64;
    const { mult, shift } = channelMultipliers(ctx, inScale, outScale, filter, outC, wide ? 14 : 30);
    const [actMin, actMax] = clampRange(ctx, ctx.op.options.activation, output, outScale, outZp);

    const k = fH * fW * fic;
    const kpad = Math.ceil(k / 8) * 8;
    const macs = g.batches * g.outH * g.outW * outC * k;
    if (macs > MAX_MACS) ctx.unsupported(`${macs} multiply-accumulates is too many`);

    const src = filterView(filter.data!, outC * k);
    const biasBytes = biasBlob(ctx, bias, outC, wide);
    // The SIMD build runs int8 convolutions without groups as a GEMM (conv-gemm.ts).
    if (kernel === K.CONV_I8 && groups === 1 && ctx.simd) {
      gemmRecord(ctx, { input, output, weights: src, k, bias: biasBytes, mult, shift, g, inZp, outZp, actMin, actMax });
      return { kernel, macs };
    }
    const esize = input.dtype === 'int8' ? 1 : 2;
    // Weights: one row of kpad int8 per output channel (the filter's own
    // [outC][fH][fW][fic] order), zero-padded to a multiple of 8.
    const packed = new Int8Array(outC * kpad);
    for (let oc = 0; oc < outC; oc++) packed.set(src.subarray(oc * k, oc * k + k), oc * kpad);
    ctx.b.tensor(input).constant(packed)
      .constant(biasBytes).tensor(output)
      .constant(mult).constant(shift)
      // The im2col row (one pixel).
      .scratchBuffer(kpad * 2);
    geometryWords(ctx, g);
    ctx.b.i32s([fic, groups, g.strideH, g.strideW, g.dilH, g.dilW, g.padH, g.padW,
      esize === 1 ? -inZp : 0, esize === 1 ? outZp : 0, actMin, actMax, kpad]);
    if (wide) ctx.b.i32(0);
    else ctx.b.constant(requantTable(mult, shift, input.dtype === 'int16'));
    if (kernel === K.CONV_I8) {
      // For windows entirely inside the image: bias + input offset × Σ weights, so
      // the kernel can take raw int8 input (wrapping i32, as the accumulator wraps).
      const sums = new Int32Array(outC);
      for (let oc = 0; oc < outC; oc++) {
        let sum = 0;
        for (let i = oc * k, e = i + k; i < e; i++) sum += src[i]!;
        sums[oc] = sum;
      }
      ctx.b.constant(foldBias(biasBytes, sums, inZp)).i32(0);
    } else ctx.b.i32s([0, 0]);
    return { kernel, macs };
  },
};

const depthwiseConv2d: OpDef = {
  name: 'DEPTHWISE_CONV_2D',
  maxVersion: 7,
  prepare(ctx) {
    const [input, filter, bias, output] = operands(ctx);
    const [one, fH, fW, outC] = filter.shape as [number, number, number, number];
    if (one !== 1) ctx.fail(`filter shape [${filter.shape}] must start with 1`);
    const g = geometry(ctx, input, output, fH, fW, outC);
    const dm = checkInt(ctx, ctx.op.options.depthMultiplier, 'depth_multiplier', 1, MAX_EXTENT);
    if (g.inC * dm !== outC) ctx.fail(`input depth ${g.inC} × depth_multiplier ${dm} is not the output depth ${outC}`);
    const [inScale, inZp] = tensorQuant(ctx, input, 'input');
    const [outScale, outZp] = tensorQuant(ctx, output, 'output');
    const wide = input.dtype === 'int16';
    if (wide && bias && bias.dtype !== 'int64') ctx.unsupported('int16 DEPTHWISE_CONV_2D needs an int64 bias');
    const { mult, shift } = channelMultipliers(ctx, inScale, outScale, filter, outC, wide ? 14 : 30);
    const [actMin, actMax] = clampRange(ctx, ctx.op.options.activation, output, outScale, outZp);
    const macs = g.batches * g.outH * g.outW * outC * fH * fW;
    if (macs > MAX_MACS) ctx.unsupported(`${macs} multiply-accumulates is too many`);

    ctx.b
      .tensor(input).tensor(filter).constant(biasBlob(ctx, bias, outC, wide)).tensor(output)
      .constant(mult).constant(shift);
    geometryWords(ctx, g);
    ctx.b.i32s([dm, g.strideH, g.strideW, g.dilH, g.dilW, g.padH, g.padW,
      wide ? 0 : -inZp, wide ? 0 : outZp, actMin, actMax]);
    if (wide) ctx.b.i32s([0, 0, 0, 0, 0, 0]);
    else {
      ctx.b.constant(requantTable(mult, shift, false));
      // For the SIMD kernel: the weights with channels in lanes, taps in pairs; the
      // bias plus input offset × Σ weights (all taps); a pixel of input zero points
      // that stands in for taps outside the image (it adds nothing once the offset is
      // folded); room for the tap offsets and addresses of one output pixel and 64
      // bytes (plus alignment) for the 3x3 block kernel's store fences.
      const taps = fH * fW;
      const tp = taps + (taps & 1);
      const fd = filter.data!;
      const fv = new Int8Array(fd.buffer, fd.byteOffset, taps * outC);
      // 3x3 filters pair their taps as (0,1) (3,4) (6,7) (2,5) (8): the first three
      // pairs are horizontal neighbours (see dwFast).
      const order = taps === 9 && fH === 3 ? Int32Array.of(0, 1, 3, 4, 6, 7, 2, 5, 8) : null;
      // Only the SIMD build reads the lane-packed copy.
      const packed = ctx.simd ? pairPackTaps(fv, outC, taps, tp, order) : null;
      const biasBytes = biasBlob(ctx, bias, outC, false);
      const bv = new Int32Array(biasBytes.buffer, biasBytes.byteOffset, outC);
      const folded = new Int32Array(padTo8(outC));
      const absSum = new Float64Array(outC);
      for (let oc = 0; oc < outC; oc++) {
        let sum = 0, abs = 0;
        for (let t = 0; t < taps; t++) {
          const v = fv[t * outC + oc]!;
          sum += v;
          abs += v < 0 ? -v : v;
        }
        folded[oc] = (bv[oc]! + Math.imul(-inZp, sum)) | 0;
        absSum[oc] = abs;
      }
      // 3x3, depth multiplier 1: weights and the float32 output stage per block, where
      // every accumulator the op can meet admits that stage. The kernel then reads its
      // weights there only, so word 27 is left out.
      const blocks = packed && order && dm === 1 && outC >= 8 ? dwBlockData(packed, mult, shift, bv, folded, absSum, inZp) : null;
      if (packed && !blocks) ctx.b.constant(packed);
      else ctx.b.i32(0);
      ctx.b.constant(folded);
      ctx.b.constant(new Int8Array(g.inC + 16).fill(inZp));
      ctx.b.scratchBuffer(tp * 8 + 80);
      if (blocks) ctx.b.constant(blocks);
      else ctx.b.i32(0);
      // The relaxed build's direct layouts: the same blocks' weights as tap quads for the
      // window interiors (words 32-34: the data, the probe, the layout; dwRunR in
      // assembly/ops/conv-fast.ts).
      const direct = blocks && ctx.relaxed && ctx.relaxedDot >= 2 ? dwRelaxedData(fv, outC, folded, ctx.relaxedDot) : null;
      if (direct) ctx.b.constant(direct).constant(dotProbeBlob(ctx.relaxedDot)).i32(ctx.relaxedDot);
      else ctx.b.i32s([0, 0, 0]);
    }
    return { kernel: wide ? K.DWCONV_I16 : K.DWCONV_I8, macs };
  },
};

export const convOps: OpDef[] = [conv2d, depthwiseConv2d];
