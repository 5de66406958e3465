/**
 * Integer fixed-point arithmetic evaluated at prepare time, used to build the
 * lookup tables of the activation family. Every function reproduces, bit for bit,
 * the 32-bit (and, for HARD_SWISH, 16-bit) arithmetic that the reference integer
 * kernels perform per element (gemmlowp fixed point, TFLite's
 * MultiplyByQuantizedMultiplier), so that a table entry equals what the reference
 * computes for that input value.
 *
 * Values are JS numbers holding int32 values; `| 0` applies int32 wrap-around where
 * the reference adds or subtracts raw values without saturation.
 */

const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;

/**
 * Rounding doubling high multiply of two int32 values (saturates MIN × MIN):
 * (a·b + nudge) / 2^31 truncated toward zero, nudge = 2^30 for a·b >= 0 and 1 - 2^30
 * otherwise. The 62-bit product does not fit a double, so it is taken in 16-bit halves:
 * with |a| = ah·2^16 + al and |b| = bh·2^16 + bl, the magnitude of the result is
 * 2·ah·bh + floor(((ah·bl + al·bh)·2^16 + al·bl + c) / 2^31), c = 2^30 (2^30 - 1 for a
 * negative product, whose truncation rounds the magnitude down), every term exact
 * below 2^53. It runs thousands of times per activation table, so it uses neither
 * BigInt nor a floating-point remainder.
 */
export function srdhm(a: number, b: number): number {
  if (a === b && a === I32_MIN) return I32_MAX;
  const neg = (a < 0 && b > 0) || (a > 0 && b < 0);
  const ua = a < 0 ? -a : a;
  const ub = b < 0 ? -b : b;
  // |a|, |b| <= 2^31: the unsigned shift and the mask see them modulo 2^32, exactly.
  const ah = ua >>> 16, al = ua & 0xffff;
  const bh = ub >>> 16, bl = ub & 0xffff;
  const mid = (ah * bl + al * bh) * 65536 + al * bl + (neg ? 1073741823 : 1073741824);
  const mag = 2 * ah * bh + Math.floor(mid / 2147483648);
  return neg ? -mag | 0 : mag;
}

/** Rounding (half away from zero) arithmetic right shift of an int32 by 0..31. */
export function rdbpot(x: number, exponent: number): number {
  const mask = exponent >= 31 ? I32_MAX : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (exponent >= 32 ? (x < 0 ? -1 : 0) : x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** Multiply by 2^exponent: saturating for a left shift, rounding for a right shift. */
export function srMulPot(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return rdbpot(x, -exponent);
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return I32_MAX;
  if (x < -threshold) return I32_MIN;
  return (x << exponent) | 0;
}

/** TFLite's MultiplyByQuantizedMultiplier (int32 input, double-rounding form). */
export function mbqm(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm(Math.imul(x, left >= 32 ? 0 : 2 ** left | 0), multiplier), right);
}

/** Half sum rounded away from zero, over int64 as gemmlowp does for int32. */
function roundingHalfSum(a: number, b: number): number {
  const sum = a + b;
  // |result| <= 2^31 - 0.5 for int32 a, b: `| 0` truncates toward zero exactly.
  return ((sum + (sum >= 0 ? 1 : -1)) / 2) | 0;
}

/** exp(a) for a in [-1/4, 0), a in Q0.31. */
function expOnQuarterInterval(a: number): number {
  const constantTerm = 1895147668; // exp(-1/8) in Q0.31
  const oneThird = 715827883; // 1/3 in Q0.31
  const x = (a + (1 << 28)) | 0;
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4Over4 = rdbpot(x4, 2);
  const poly = rdbpot((srdhm((x4Over4 + x3) | 0, oneThird) + x2) | 0, 1);
  return (constantTerm + srdhm(constantTerm, (x + poly) | 0)) | 0;
}

/** Q0.31 multipliers exp(-2^k) for k = -2..4. */
const EXP_BARREL = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];

/** exp(a) for a <= 0 given with `integerBits` integer bits; result in Q0.31. */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1 << (fractionalBits - 2);
  const mask = oneQuarter - 1;
  const aModQuarterMinusQuarter = ((a & mask) - oneQuarter) | 0;
  let result = expOnQuarterInterval(srMulPot(aModQuarterMinusQuarter, integerBits));
  const remainder = (aModQuarterMinusQuarter - a) | 0;
  for (let i = 0; i < 7; i++) {
    const exponent = i - 2;
    if (integerBits > exponent && remainder & (1 << (fractionalBits + exponent))) result = srdhm(result, EXP_BARREL[i]!);
  }
  if (integerBits > 5) {
    const clamp = -(1 << (36 - integerBits));
    if (a < clamp) result = 0;
  }
  if (a === 0) result = I32_MAX;
  return result;
}

/** Newton-Raphson reciprocal iteration shared by the two functions below (x in Q2.29). */
function newtonReciprocal(a: number): number {
  const halfDenominator = roundingHalfSum(a, I32_MAX);
  let x = (1515870810 + srdhm(halfDenominator, -1010580540)) | 0; // 48/17 - 32/17 * d
  for (let i = 0; i < 3; i++) {
    const hdx = srdhm(halfDenominator, x);
    const oneMinus = ((1 << 29) - hdx) | 0;
    x = (x + srMulPot(srdhm(x, oneMinus), 2)) | 0;
  }
  return x;
}

/** 1 / (1 + a) for a in [0, 1), Q0.31 in and out. */
export function oneOverOnePlusX(a: number): number {
  return srMulPot(newtonReciprocal(a), 1);
}

/** (1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out. */
function oneMinusXOverOnePlusX(a: number): number {
  return srMulPot((newtonReciprocal(a) - (1 << 29)) | 0, 2);
}

/** gemmlowp logistic of a value with `integerBits` integer bits; result Q0.31. */
export function fxLogistic(a: number, integerBits: number): number {
  if (a === 0) return 1 << 30;
  const abs = a > 0 ? a : -a | 0;
  const positive = oneOverOnePlusX(expOnNegativeValues(-abs | 0, integerBits));
  return a > 0 ? positive : (I32_MAX - positive) | 0;
}

/** gemmlowp tanh of a value with `integerBits` integer bits; result Q0.31. */
export function fxTanh(a: number, integerBits: number): number {
  if (a === 0) return 0;
  const n = a < 0 ? a : -a | 0;
  const t = oneMinusXOverOnePlusX(expOnNegativeValues(n, integerBits + 1));
  return a < 0 ? -t | 0 : t;
}

/** int16 helpers (HARD_SWISH). Values are JS numbers holding int16 values. */
export function toI16(x: number): number {
  return (x << 16) >> 16;
}

/** gemmlowp SaturatingRoundingDoublingHighMul on int16. */
export function srdhm16(a: number, b: number): number {
  if (a === b && a === -32768) return 32767;
  const ab = a * b;
  const nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
  return toI16(Math.trunc((ab + nudge) / 32768));
}

/** Doubling high multiply on int16 rounding toward zero (the reference's SQDMULH analogue). */
export function sdhm16(a: number, b: number): number {
  if (a === b && a === -32768) return 32767;
  return toI16(Math.trunc((a * b) / 32768));
}

/** gemmlowp RoundingDivideByPOT on an int16 value. */
export function rdbpot16(x: number, exponent: number): number {
  const mask = toI16(exponent >= 31 ? -1 : 2 ** exponent - 1);
  const remainder = toI16(x & mask);
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  const shifted = exponent >= 31 ? (x < 0 ? -1 : 0) : x >> exponent;
  return toI16(shifted + (remainder > threshold ? 1 : 0));
}

/** Saturating int16 left shift by `amount`. */
export function satLeftShift16(x: number, amount: number): number {
  const r = x * 2 ** amount;
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
