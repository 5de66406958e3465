/**
 * Quantization arithmetic shared by the prepare steps. All of it runs once at load;
 * it reproduces TFLite's helpers (tensorflow/lite/kernels/internal/quantization_util.cc,
 * kernel_util.cc) so that the integers handed to the kernels are the reference's.
 */
import type { Activation, DType } from '../graph/types.js';

/** Round half away from zero (TfLiteRound / std::round). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Index of the sign / exponent word of F64 in U32 (platform byte order). */
const HI = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;

/** frexp: x = q * 2^e with q in [0.5, 1) (x > 0 finite). */
export function frexp(x: number): [number, number] {
  const q = frexpQ(x);
  return [q, frexpE];
}

/** The exponent of the last frexpQ. */
let frexpE = 0;

/**
 * frexp's q, with e left in frexpE: no array per call (this runs for every output channel
 * of every op at load, before the engine has optimized it, where each small array was
 * garbage to collect).
 */
function frexpQ(x: number): number {
  frexpE = 0;
  if (x === 0 || !Number.isFinite(x)) return x;
  // Normal numbers: the exponent and mantissa straight from the IEEE-754 bits (no log2 /
  // pow; this runs for every output channel of every op at load, mostly before the engine
  // has optimized it).
  F64[0] = x;
  const hi = U32[HI]!;
  const be = (hi >>> 20) & 0x7ff;
  if (be !== 0) {
    U32[HI] = (hi & 0x800fffff) | (1022 << 20);
    frexpE = be - 1022;
    return F64[0]!;
  }
  // Subnormal: scale into the normal range first (exact), then the same.
  const q = frexpQ(x * 2 ** 64);
  frexpE -= 64;
  return q;
}

/**
 * TFLite's QuantizeMultiplier: a real multiplier m as a Q31 integer and a shift
 * (positive = left), m ≈ mult × 2^(shift − 31).
 */
export function quantizeMultiplier(m: number): { multiplier: number; shift: number } {
  const multiplier = quantizeMultiplierQ(m);
  return { multiplier, shift: qmShift };
}

/**
 * quantizeMultiplier written into mult[i] and shift[i]: no result object per call (the
 * per-channel loops of the convolutions run it for every output channel at load, before
 * the engine has optimized them).
 */
export function quantizeMultiplierAt(m: number, mult: Int32Array, shift: Int32Array, i: number): void {
  mult[i] = quantizeMultiplierQ(m);
  shift[i] = qmShift;
}

/** The shift of the last quantizeMultiplierQ. */
let qmShift = 0;

function quantizeMultiplierQ(m: number): number {
  qmShift = 0;
  if (m === 0) return 0;
  const q = frexpQ(m);
  let shift = frexpE;
  let qFixed = roundHalfAway(q * 2 ** 31);
  if (qFixed === 2 ** 31) {
    qFixed /= 2;
    shift += 1;
  }
  if (shift < -31) {
    shift = 0;
    qFixed = 0;
  }
  qmShift = shift;
  return qFixed;
}

/** Integer range of a quantized dtype. */
export function dtypeRange(d: DType): [number, number] {
  switch (d) {
    case 'int8': return [-128, 127];
    case 'uint8': return [0, 255];
    case 'int16': return [-32768, 32767];
    case 'int32': return [-0x80000000, 0x7fffffff];
    default: throw new Error(`dtypeRange: ${d} is not an integer type`);
  }
}

/**
 * TFLite's CalculateActivationRangeQuantized: the clamp [min, max] in the output's
 * integer domain for a fused activation. Division is float32, as in the reference.
 */
export function activationRange(act: Activation | string, dtype: DType, scale: number, zeroPoint: number): [number, number] {
  const [qmin, qmax] = dtypeRange(dtype);
  const quantize = (x: number) => zeroPoint + roundHalfAway(Math.fround(x / scale));
  switch (act) {
    case 'NONE': return [qmin, qmax];
    case 'RELU': return [Math.max(qmin, quantize(0)), qmax];
    case 'RELU6': return [Math.max(qmin, quantize(0)), Math.min(qmax, quantize(6))];
    case 'RELU_N1_TO_1': return [Math.max(qmin, quantize(-1)), Math.min(qmax, quantize(1))];
    default: throw new Error(`activation ${act} is not supported on quantized tensors`);
  }
}

/** float32 rounding of a JS number. */
export const f32 = Math.fround;
