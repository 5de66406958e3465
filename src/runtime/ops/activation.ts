/**
 * Prepare steps of the activation family: SOFTMAX LOGISTIC TANH RELU RELU6 LEAKY_RELU
 * HARD_SWISH QUANTIZE DEQUANTIZE. Kernels: assembly/ops/activation.ts.
 *
 * The parameters reproduce TFLite Micro's Prepare functions for these operators.
 * For 8-bit inputs most operators are a function of a single byte, so prepare
 * evaluates the reference integer arithmetic for all 256 input values
 * (activation-fixedpoint.ts) and the kernel is a table lookup.
 */
import { numElements } from '../../graph/types.js';
import type { DType, Tensor } from '../../graph/types.js';
import { dtypeRange, frexp, quantizeMultiplier, roundHalfAway } from '../quant.js';
import { sigmoidTableBytes } from './sigmoid-table.js';
import type { OpContext, OpDef, PrepareHelpers } from './types.js';
import {
  expOnNegativeValues, fxLogistic, fxTanh, mbqm, rdbpot, rdbpot16, satLeftShift16,
  sdhm16, srdhm, srdhm16, toI16,
} from './activation-fixedpoint.js';

/** Kernel ids (must match assembly/ops/activation.ts). */
export const K = {
  LUT8: 401,
  LUT8_TO_16: 402,
  CLAMP8: 403,
  CLAMP16: 404,
  REQUANTIZE: 405,
  LEAKY_RELU16: 406,
  LOGISTIC16: 407,
  TANH16: 408,
  SOFTMAX8: 409,
  SOFTMAX16: 410,
  QUANTIZE_F32: 411,
  DEQUANTIZE: 412,
} as const;

/** dtype codes in records. */
const CODE: Partial<Record<DType, number>> = { int8: 0, uint8: 1, int16: 2, int32: 3, float32: 4 };

const f32 = Math.fround;

interface QP { scale: number; zp: number }

/** Exactly one input and one output; returns them. */
function unaryTensors(ctx: OpContext): [Tensor, Tensor] {
  if (ctx.op.inputs.length !== 1) ctx.fail(`expected 1 input, got ${ctx.op.inputs.length}`);
  if (ctx.op.outputs.length !== 1) ctx.fail(`expected 1 output, got ${ctx.op.outputs.length}`);
  const input = ctx.requireInput(0, 'input');
  const output = ctx.output(0);
  if (input.index === output.index) ctx.fail('input and output are the same tensor');
  if (input.shape.length !== output.shape.length || input.shape.some((d, i) => d !== output.shape[i])) {
    ctx.fail(`input shape [${input.shape}] and output shape [${output.shape}] differ`);
  }
  if (input.shape.some((d) => !Number.isInteger(d) || d < 0)) ctx.fail(`invalid shape [${input.shape}]`);
  return [input, output];
}

/** Per-tensor quantization (first scale / zero point), validated. */
function qp(ctx: OpContext, t: Tensor, what: string): QP {
  const q = t.quant;
  if (!q || q.scale.length === 0 || q.zeroPoint.length === 0) ctx.fail(`${what} has no quantization parameters`);
  const scale = q!.scale[0]!;
  const zp = q!.zeroPoint[0]!;
  if (!(scale > 0) || !Number.isFinite(scale)) ctx.fail(`${what} has invalid scale ${scale}`);
  if (!Number.isInteger(zp)) ctx.fail(`${what} has invalid zero point ${zp}`);
  if (t.dtype === 'int8' || t.dtype === 'uint8' || t.dtype === 'int16') {
    const [lo, hi] = dtypeRange(t.dtype);
    if (zp < lo || zp > hi) ctx.fail(`${what} zero point ${zp} is outside the ${t.dtype} range`);
  }
  return { scale, zp };
}

function requireDtype(ctx: OpContext, t: Tensor, what: string, allowed: DType[]): void {
  if (!allowed.includes(t.dtype)) ctx.unsupported(`${what} type ${t.dtype} is not supported (expected ${allowed.join(' or ')})`);
}

/** A 256-entry byte table indexed by the input byte (int8 values by their two's complement). */
function lut8(inDtype: DType, outDtype: DType, fn: (v: number) => number): Uint8Array {
  const table = new Uint8Array(256);
  const [lo, hi] = dtypeRange(outDtype);
  for (let b = 0; b < 256; b++) {
    const v = inDtype === 'int8' ? (b << 24) >> 24 : b;
    const r = fn(v);
    table[b] = Math.min(hi, Math.max(lo, r)) & 0xff;
  }
  return table;
}

/** Same as lut8 with int16 entries. */
function lut8to16(inDtype: DType, fn: (v: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let b = 0; b < 256; b++) {
    const v = inDtype === 'int8' ? (b << 24) >> 24 : b;
    table[b] = Math.min(32767, Math.max(-32768, fn(v)));
  }
  return table;
}

/**
 * fxLogistic / fxTanh of Q4.27 arguments, evaluated once per magnitude: both compute the
 * value at |a| and derive the other sign from it (logistic(-a) = 1 - logistic(a) as
 * I32_MAX - p, tanh(-a) = -tanh(a)), so the table's entries for x and -x share the
 * expensive part. The returned function takes the input offset x (|x| <= 255) and its
 * rescaled argument a; the memo is indexed by |x| and holds the |a| it was computed for,
 * so an entry is reused only for the same |a| (the rescale rounds halves asymmetrically,
 * so a(-x) is not always -a(x)). Same integers as calling the function directly;
 * INT32_MIN (no positive counterpart) is passed through. Typed arrays, not a Map: this
 * runs at load before the engine has optimized it, and a Map of int32 keys boxes them.
 */
function oddMemo(fn: (a: number, integerBits: number) => number, logistic: boolean): (x: number, a: number) => number {
  const memoA = new Int32Array(256);
  const memoV = new Int32Array(256);
  return (x, a) => {
    if (a === 0 || a === -0x80000000) return fn(a, 4);
    const abs = a < 0 ? -a : a;
    const i = x < 0 ? -x : x;
    let v: number;
    if (i > 255) v = fn(abs, 4);
    else if (memoA[i] === abs) v = memoV[i]!;
    else {
      v = fn(abs, 4);
      memoA[i] = abs;
      memoV[i] = v;
    }
    if (a > 0) return v;
    return logistic ? (0x7fffffff - v) | 0 : -v | 0;
  };
}

/**
 * The int8 LOGISTIC (kind 0: output zero point -128, scale 1/256) or TANH (kind 1) table
 * for input zero point zp and the Q4.27 rescale (multiplier, shift) of q4Params, whose
 * radius saturates: entry b is the reference's output for the input byte b. The kernel
 * module builds the same table (assembly/ops/act-table.ts) when prepare runs next to an
 * instance (OpContext.helpers); this JavaScript is for plans made without one, and the
 * reference the tests compare the wasm with.
 */
export function sigmoidTable8(kind: 0 | 1, zp: number, multiplier: number, shift: number, radius: number): Uint8Array {
  const f = kind === 0 ? oddMemo(fxLogistic, true) : oddMemo(fxTanh, false);
  return lut8('int8', 'int8', (v) => {
    const x = v - zp;
    if (x <= -radius) return -128;
    if (x >= radius) return 127;
    const y = f(x, mbqm(x, multiplier, shift));
    return kind === 0 ? rdbpot(y, 23) - 128 : rdbpot(y, 24);
  });
}

const JS_HELPERS: Pick<PrepareHelpers, 'sigmoidTable8'> = { sigmoidTable8 };

// Record of LUT8 / LUT8_TO_16: [src, dst, count, table]
function emitLut(ctx: OpContext, input: Tensor, output: Tensor, table: Uint8Array | Int16Array): { kernel: number } {
  ctx.b.tensor(input).tensor(output).i32(numElements(input.shape)).constant(table);
  return { kernel: table instanceof Int16Array ? K.LUT8_TO_16 : K.LUT8 };
}

// Record of REQUANTIZE:
// [src, dst, count, inCode, outCode, inZp, outZp, multiplier, shift, lo, hi]
function emitRequantize(
  ctx: OpContext, input: Tensor, output: Tensor, inZp: number, outZp: number,
  m: { multiplier: number; shift: number }, lo: number, hi: number,
): { kernel: number } {
  ctx.b.tensor(input).tensor(output).i32(numElements(input.shape))
    .i32(CODE[input.dtype]!).i32(CODE[output.dtype]!).i32(inZp).i32(outZp)
    .i32(m.multiplier).i32(m.shift).i32(lo).i32(hi);
  return { kernel: K.REQUANTIZE };
}

/** quantizeMultiplier with the result checked to be usable (finite, int32, shift <= 31). */
function qm(ctx: OpContext, real: number, what: string): { multiplier: number; shift: number } {
  if (!Number.isFinite(real)) ctx.unsupported(`${what} multiplier ${real} is not finite`);
  const m = quantizeMultiplier(real);
  if (!(Math.abs(m.multiplier) < 2 ** 31) || m.shift > 31) ctx.unsupported(`${what} multiplier ${real} is out of range`);
  return m;
}

/** TFLite's CheckedLog2 (float32 arithmetic). */
function checkedLog2(x: number): { pot: boolean; log2: number } {
  const xLog2 = f32(f32(Math.log(x)) * f32(1 / f32(Math.log(2))));
  const rounded = roundHalfAway(xLog2);
  const frac = f32(xLog2 - rounded);
  return { pot: Math.abs(frac) < f32(1e-3), log2: rounded };
}

/** TFLite's CalculateInputRadius(integerBits, leftShift, 31) (double arithmetic). */
function inputRadius(integerBits: number, leftShift: number): number {
  return Math.floor(((2 ** integerBits - 1) * 2 ** (31 - integerBits)) / 2 ** leftShift);
}

/** Parameters of the 8-bit LOGISTIC/TANH (input in Q4.27). */
function q4Params(ctx: OpContext, scale: number): { multiplier: number; shift: number; radius: number } {
  const p = sigmoidRescale8(scale);
  if (!p) ctx.unsupported(`input scale ${scale} is out of the supported range`);
  return p!;
}

/**
 * The Q4.27 rescale of the 8-bit LOGISTIC/TANH for an input scale (TFLite's
 * PopulateLookupTable preparation), with the input radius beyond which outputs
 * saturate; null when the scale is out of the supported range.
 */
export function sigmoidRescale8(scale: number): { multiplier: number; shift: number; radius: number } | null {
  const real = scale * 2 ** 27;
  const [q, shift] = frexp(real);
  if (shift < 0 || shift > 62) return null;
  const multiplier = roundHalfAway(q * 2 ** 31);
  if (multiplier >= 2 ** 31) return null;
  return { multiplier, shift, radius: inputRadius(4, shift) };
}

/** int16 LOGISTIC/TANH input scaling (TFLite Micro's Prepare for int16). */
function int16SigmoidParams(ctx: OpContext, input: Tensor, output: Tensor, isTanh: boolean): { multiplier: number; leftShift: number } {
  const qi = qp(ctx, input, 'input');
  const qo = qp(ctx, output, 'output');
  if (qi.zp !== 0) ctx.unsupported('int16 input zero point must be 0');
  if (qo.zp !== 0) ctx.unsupported('int16 output zero point must be 0');
  const l = checkedLog2(qi.scale);
  let leftShift = 12 + l.log2;
  const pot = l.pot && (isTanh ? leftShift === 0 || leftShift === 1 : leftShift === 0);
  let multiplier: number;
  if (pot) {
    multiplier = 0;
  } else {
    let m = qi.scale * 4096 * 3;
    leftShift = 0;
    while (m <= 32767 / 2 && leftShift <= 30) {
      leftShift++;
      m *= 2;
    }
    multiplier = Math.trunc(m);
    if (multiplier >= 2 ** 31) ctx.unsupported(`input scale ${qi.scale} is too large`);
  }
  const lo = checkedLog2(qo.scale);
  if (!lo.pot || lo.log2 !== -15) ctx.unsupported(`int16 output scale must be 2^-15, got ${qo.scale}`);
  // The kernel applies the power-of-two case's substitution (3 << shift, shift 0) itself.
  if (multiplier === 0) {
    multiplier = 3 * 2 ** leftShift;
    leftShift = 0;
    if (multiplier >= 2 ** 31) ctx.unsupported(`input scale ${qi.scale} is out of the supported range`);
  }
  return { multiplier, leftShift };
}

// Record of LOGISTIC16 / TANH16: [src, dst, count, multiplier, leftShift, sigmoidTable(256 x u16)]
function sigmoid16(ctx: OpContext, input: Tensor, output: Tensor, isTanh: boolean): { kernel: number } {
  const p = int16SigmoidParams(ctx, input, output, isTanh);
  ctx.b.tensor(input).tensor(output).i32(numElements(input.shape)).i32(p.multiplier).i32(p.leftShift)
    .constant(sigmoidTableBytes());
  return { kernel: isTanh ? K.TANH16 : K.LOGISTIC16 };
}

const logistic: OpDef = {
  name: 'LOGISTIC',
  maxVersion: 3,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    requireDtype(ctx, input, 'input', ['int8', 'int16']);
    if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    if (input.dtype === 'int16') return sigmoid16(ctx, input, output, false);
    const qi = qp(ctx, input, 'input');
    const qo = qp(ctx, output, 'output');
    if (qo.zp !== -128) ctx.unsupported(`int8 output zero point must be -128, got ${qo.zp}`);
    const p = q4Params(ctx, qi.scale);
    return emitLut(ctx, input, output, (ctx.helpers ?? JS_HELPERS).sigmoidTable8(0, qi.zp, p.multiplier, p.shift, p.radius));
  },
};

const tanh: OpDef = {
  name: 'TANH',
  maxVersion: 3,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    requireDtype(ctx, input, 'input', ['int8', 'int16']);
    if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    if (input.dtype === 'int16') return sigmoid16(ctx, input, output, true);
    const qi = qp(ctx, input, 'input');
    qp(ctx, output, 'output');
    const p = q4Params(ctx, qi.scale);
    return emitLut(ctx, input, output, (ctx.helpers ?? JS_HELPERS).sigmoidTable8(1, qi.zp, p.multiplier, p.shift, p.radius));
  },
};

const relu: OpDef = {
  name: 'RELU',
  maxVersion: 3,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    requireDtype(ctx, input, 'input', ['int8', 'int16']);
    if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    const qi = qp(ctx, input, 'input');
    const qo = qp(ctx, output, 'output');
    if (input.dtype === 'int16' && (qi.zp !== 0 || qo.zp !== 0)) ctx.unsupported('int16 RELU needs zero points 0');
    const m = qm(ctx, f32(qi.scale / qo.scale), 'output');
    const [qmin, qmax] = dtypeRange(input.dtype);
    const lo = Math.max(qmin, qo.zp); // zero point + round(0 / scale)
    const hi = qmax;
    if (input.dtype === 'int8') {
      return emitLut(ctx, input, output, lut8('int8', 'int8', (v) => {
        const r = (qo.zp + mbqm(v - qi.zp, m.multiplier, m.shift)) | 0;
        return Math.min(hi, Math.max(lo, r));
      }));
    }
    return emitRequantize(ctx, input, output, qi.zp, qo.zp, m, lo, hi);
  },
};

const relu6: OpDef = {
  name: 'RELU6',
  maxVersion: 3,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    requireDtype(ctx, input, 'input', ['int8', 'int16']);
    if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    // The reference clamps in the input's quantization and copies (no requantization).
    const qi = qp(ctx, input, 'input');
    const [qmin, qmax] = dtypeRange(input.dtype);
    const six = Math.min(qmax, Math.max(qmin, roundHalfAway(f32(6 / qi.scale)) + qi.zp));
    // Record of CLAMP8 / CLAMP16: [src, dst, count, lo, hi]
    ctx.b.tensor(input).tensor(output).i32(numElements(input.shape)).i32(qi.zp).i32(six);
    return { kernel: input.dtype === 'int8' ? K.CLAMP8 : K.CLAMP16 };
  },
};

const leakyRelu: OpDef = {
  name: 'LEAKY_RELU',
  maxVersion: 2,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    requireDtype(ctx, input, 'input', ['int8', 'int16']);
    if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    const qi = qp(ctx, input, 'input');
    const qo = qp(ctx, output, 'output');
    const alpha = ctx.op.options.alpha;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) ctx.fail(`invalid alpha ${alpha}`);
    const ma = qm(ctx, f32(f32(qi.scale * alpha) / qo.scale), 'alpha');
    const mi = qm(ctx, f32(qi.scale / qo.scale), 'identity');
    const negative = ma.multiplier < 0;
    const safeAlpha = negative ? (-ma.multiplier) | 0 : ma.multiplier;
    const [qmin, qmax] = dtypeRange(input.dtype);
    const eval1 = (v: number): number => {
      const x = v - qi.zp;
      let r = qo.zp;
      if (x >= 0) r = (r + mbqm(x, mi.multiplier, mi.shift)) | 0;
      else {
        const s = mbqm(x, safeAlpha, ma.shift);
        r = (r + (negative ? -s : s)) | 0;
      }
      return Math.min(qmax, Math.max(qmin, r));
    };
    if (input.dtype === 'int8') return emitLut(ctx, input, output, lut8('int8', 'int8', eval1));
    // Record of LEAKY_RELU16:
    // [src, dst, count, inZp, outZp, multIdentity, shiftIdentity, multAlpha (>= 0 form), shiftAlpha, alphaNegative]
    ctx.b.tensor(input).tensor(output).i32(numElements(input.shape)).i32(qi.zp).i32(qo.zp)
      .i32(mi.multiplier).i32(mi.shift).i32(safeAlpha).i32(ma.shift).i32(negative ? 1 : 0);
    return { kernel: K.LEAKY_RELU16 };
  },
};

/** DownScaleInt32ToInt16Multiplier. */
function downScale16(m: number): number {
  if (m >= 0x7fffffff - (1 << 15)) return 32767;
  return (m + (1 << 15)) >> 16;
}

const hardSwish: OpDef = {
  name: 'HARD_SWISH',
  maxVersion: 1,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    requireDtype(ctx, input, 'input', ['int8']);
    if (output.dtype !== input.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    const qi = qp(ctx, input, 'input');
    const qo = qp(ctx, output, 'output');
    const hires = f32((1 / 128) * qi.scale);
    const reluishScale = f32(3 / 32768);
    const om = qm(ctx, f32(hires / qo.scale), 'output');
    const rm = qm(ctx, f32(hires / reluishScale), 'reluish');
    if (om.shift > 0) ctx.unsupported('output multiplier exponent must be <= 0 (output scale too small for the input scale)');
    if (rm.shift > 31 || om.shift < -31 || rm.shift < -31) ctx.unsupported('hard swish scales out of range');
    const outMul = downScale16(om.multiplier);
    const reluMul = downScale16(rm.multiplier);
    const table = lut8('int8', 'int8', (v) => {
      const iv = toI16(v - qi.zp);
      const hi = toI16(iv * 128);
      const preshift = srdhm16(hi, outMul);
      let rel = hi;
      if (rm.shift > 0) rel = satLeftShift16(rel, rm.shift - 1);
      rel = srdhm16(rel, reluMul);
      if (rm.shift > 0) rel = satLeftShift16(rel, 1);
      if (rm.shift < 0) rel = rdbpot16(rel, -rm.shift);
      rel = toI16((rel + 32768) >> 1);
      const pre = sdhm16(rel, preshift);
      let out = rdbpot16(pre, -om.shift);
      out = toI16(out + qo.zp);
      return Math.max(-128, Math.min(127, out));
    });
    return emitLut(ctx, input, output, table);
  },
};

/** TFLite's LUTPopulate<int16_t> (float32 arithmetic throughout). */
function lutPopulate16(inScale: number, inZp: number, outScale: number, outZp: number, fn: (x: number) => number): Int16Array {
  const lut = new Int16Array(513);
  const inMin = f32(inScale * (-32768 - inZp));
  const inMax = f32(inScale * (32767 - inZp));
  const outMin = f32(outScale * (-32768 - outZp));
  const outMax = f32(outScale * (32767 - outZp));
  const steps = 512;
  const step = f32(f32(inMax - inMin) / steps);
  const halfStep = f32(step / 2);
  const inv = f32(65536 / f32(outMax - outMin));
  const clamp = (v: number) => Math.min(Math.max(v, -32768), 32767);
  const r = (v: number) => roundHalfAway(v);
  for (let i = 0; i < steps; i++) {
    const x = f32(inMin + f32(i * step));
    const val = fn(x);
    const valMid = fn(f32(x + halfStep));
    const valNext = fn(f32(inMin + f32((i + 1) * step)));
    const sample = r(f32(val * inv));
    const midInterp = r(f32(f32(f32(valNext * inv) + r(f32(val * inv))) / 2));
    const mid = r(f32(valMid * inv));
    const err = f32(midInterp - mid);
    const bias = r(f32(err / 2));
    lut[i] = clamp(f32(sample - bias));
  }
  lut[steps] = clamp(r(f32(fn(inMax) * inv)));
  return lut;
}

const softmax: OpDef = {
  name: 'SOFTMAX',
  maxVersion: 3,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    if (input.shape.length < 1) ctx.fail('input must have rank >= 1');
    requireDtype(ctx, input, 'input', ['int8', 'int16']);
    const qi = qp(ctx, input, 'input');
    const qo = qp(ctx, output, 'output');
    const beta = ctx.op.options.beta;
    if (typeof beta !== 'number' || !Number.isFinite(beta)) ctx.fail(`invalid beta ${beta}`);
    const depth = input.shape[input.shape.length - 1]!;
    const total = numElements(input.shape);
    const outer = depth === 0 ? 0 : total / depth;
    const near = (a: number, b: number, eps: number) => Math.abs(a - b) <= eps;
    if (input.dtype === 'int8') {
      if (output.dtype === 'int16') {
        if (qo.zp !== -32768) ctx.unsupported(`int16 output zero point must be -32768, got ${qo.zp}`);
        if (!near(qo.scale, f32(1 / 65536), f32(f32(0.001) * f32(1 / 65536)))) ctx.unsupported(`int16 output scale must be 1/65536, got ${qo.scale}`);
      } else if (output.dtype === 'int8') {
        if (qo.zp !== -128) ctx.unsupported(`int8 output zero point must be -128, got ${qo.zp}`);
        if (qo.scale !== 1 / 256) ctx.unsupported(`int8 output scale must be 1/256, got ${qo.scale}`);
      } else {
        ctx.unsupported(`output type ${output.dtype} is not supported for int8 input`);
      }
      // PreprocessSoftmaxScaling with 5 integer bits (double arithmetic).
      const real = Math.min(f32(beta) * qi.scale * 2 ** 26, 2 ** 31 - 1);
      if (!(real > 1)) ctx.unsupported(`beta * input scale is too small (${real / 2 ** 26})`);
      const m = qm(ctx, real, 'input');
      if (m.shift < 0 || m.shift > 31) ctx.unsupported('softmax input multiplier out of range');
      const diffMin = -inputRadius(5, m.shift);
      // Table of exp(diff) in Q0.31 and its Q12.19 rescale for diff = 0, -1, ..., -255;
      // zero where diff < diffMin (those entries add nothing and give the minimum output).
      const table = new Int32Array(512);
      for (let k = 0; k < 256; k++) {
        const diff = -k;
        if (diff < diffMin) continue;
        const rescaled = srdhm(Math.imul(diff, 2 ** m.shift | 0), m.multiplier);
        const e = expOnNegativeValues(rescaled, 5);
        table[k] = e;
        table[256 + k] = rdbpot(e, 12);
      }
      // Record of SOFTMAX8: [src, dst, outer, depth, outBits (8 or 16), table (2 x 256 x i32)]
      ctx.b.tensor(input).tensor(output).i32(outer).i32(depth).i32(output.dtype === 'int8' ? 8 : 16).constant(table);
      return { kernel: K.SOFTMAX8 };
    }
    // int16 -> int16
    if (output.dtype !== 'int16') ctx.unsupported(`output type ${output.dtype} is not supported for int16 input`);
    if (qi.zp !== 0 || qo.zp !== 0) ctx.unsupported('int16 softmax needs zero points 0');
    if (!near(qo.scale, f32(1 / 32768), f32(f32(0.001) * f32(1 / 32768)))) ctx.unsupported(`int16 output scale must be 1/32768, got ${qo.scale}`);
    const m = qm(ctx, (qi.scale * f32(beta)) / (10.0 / 65535.0), 'input');
    if (m.shift > 30 || m.multiplier < 0) ctx.unsupported('softmax input multiplier out of range');
    const range = 65535;
    const expLut = lutPopulate16(f32(10 / range), 32767, f32(2 / range), 0, (x) => f32(Math.exp(x)));
    const recipLut = lutPopulate16(f32(1 / range), -32768, f32(2 / range), 0, (x) => f32(1 / f32(1 + x)));
    const luts = new Int16Array(1026 + 2);
    luts.set(expLut, 0);
    luts.set(recipLut, 514);
    // Record of SOFTMAX16: [src, dst, outer, depth, multiplier, shift, luts (exp at 0, 1/(1+x) at 514; 513 x i16 each)]
    ctx.b.tensor(input).tensor(output).i32(outer).i32(depth).i32(m.multiplier).i32(m.shift).constant(luts);
    return { kernel: K.SOFTMAX16 };
  },
};

/** Requantization pairs TFLite Micro's QUANTIZE supports. */
const REQUANT_PAIRS = new Set([
  'int16>int8', 'int8>int8', 'int8>uint8', 'uint8>int8', 'int8>int16', 'int8>int32',
  'int16>int16', 'int16>int32', 'int32>int8', 'int32>int16',
]);

const quantize: OpDef = {
  name: 'QUANTIZE',
  maxVersion: 3,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    const qo = qp(ctx, output, 'output');
    if (output.quant!.scale.length !== 1) ctx.unsupported('per-channel output quantization is not supported');
    if (input.dtype === 'float32') {
      requireDtype(ctx, output, 'output', ['int8', 'int16']);
      // Record of QUANTIZE_F32: [src, dst, count, outCode, scale (f32), zeroPoint]
      ctx.b.tensor(input).tensor(output).i32(numElements(input.shape)).i32(CODE[output.dtype]!).f32(qo.scale).i32(qo.zp);
      return { kernel: K.QUANTIZE_F32 };
    }
    if (!REQUANT_PAIRS.has(`${input.dtype}>${output.dtype}`)) {
      ctx.unsupported(`QUANTIZE from ${input.dtype} to ${output.dtype} is not supported`);
    }
    const qi = qp(ctx, input, 'input');
    const m = qm(ctx, qi.scale / qo.scale, 'requantization');
    const [lo, hi] = dtypeRange(output.dtype);
    const f = (v: number) => Math.min(hi, Math.max(lo, (mbqm((v - qi.zp) | 0, m.multiplier, m.shift) + qo.zp) | 0));
    if ((input.dtype === 'int8' || input.dtype === 'uint8') && (output.dtype === 'int8' || output.dtype === 'uint8')) {
      return emitLut(ctx, input, output, lut8(input.dtype, output.dtype, f));
    }
    if (input.dtype === 'int8' && output.dtype === 'int16') return emitLut(ctx, input, output, lut8to16('int8', f));
    return emitRequantize(ctx, input, output, qi.zp, qo.zp, m, lo, hi);
  },
};

const dequantize: OpDef = {
  name: 'DEQUANTIZE',
  maxVersion: 6,
  prepare(ctx) {
    const [input, output] = unaryTensors(ctx);
    requireDtype(ctx, input, 'input', ['int8', 'int16', 'uint8']);
    requireDtype(ctx, output, 'output', ['float32']);
    const qi = qp(ctx, input, 'input');
    // Record of DEQUANTIZE: [src, dst, count, inCode, scale (f32), zeroPoint]
    ctx.b.tensor(input).tensor(output).i32(numElements(input.shape)).i32(CODE[input.dtype]!).f32(qi.scale).i32(qi.zp);
    return { kernel: K.DEQUANTIZE };
  },
};

export const activationOps: OpDef[] = [softmax, logistic, tanh, relu, relu6, leakyRelu, hardSwish, quantize, dequantize];
