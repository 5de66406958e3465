// The 256-entry tables of the int8 LOGISTIC and TANH ops, built at load (the kernels
// then look them up: kernel 401, LUT8). Each entry is what the reference integer kernel
// computes for that input byte: the input rescaled to Q4.27 (MultiplyByQuantizedMultiplier),
// then gemmlowp's fixed-point logistic or tanh, rounded to the 8-bit output. The same
// integer arithmetic as src/runtime/ops/activation-fixedpoint.ts, which builds the tables
// where no kernel instance is at hand (the ahead-of-time compiler); tests compare the two
// on thousands of quantization parameters. Here the 64-bit products are plain i64, and
// the loop runs at wasm speed from the first load (an LSTM has dozens of these tables).

const I32_MIN: i32 = i32.MIN_VALUE;
const I32_MAX: i32 = i32.MAX_VALUE;

// Rounding doubling high multiply (gemmlowp SaturatingRoundingDoublingHighMul).
@inline function srdhm(a: i32, b: i32): i32 {
  if (a == b && a == I32_MIN) return I32_MAX;
  const ab = <i64>a * <i64>b;
  const nudge: i64 = ab >= 0 ? 1 << 30 : 1 - (1 << 30);
  // i64 division truncates toward zero, as the reference's does.
  return <i32>((ab + nudge) / (<i64>1 << 31));
}

// Rounding (half away from zero) arithmetic right shift by 0..31 (RoundingDivideByPOT).
function rdbpot(x: i32, exponent: i32): i32 {
  const mask: i32 = exponent >= 31 ? I32_MAX : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (exponent >= 32 ? (x < 0 ? -1 : 0) : x >> exponent) + (remainder > threshold ? 1 : 0);
}

// Multiply by 2^exponent: saturating for a left shift, rounding for a right shift.
function srMulPot(x: i32, exponent: i32): i32 {
  if (exponent == 0) return x;
  if (exponent < 0) return rdbpot(x, -exponent);
  const threshold: i32 = (1 << (31 - exponent)) - 1;
  if (x > threshold) return I32_MAX;
  if (x < -threshold) return I32_MIN;
  return x << exponent;
}

// MultiplyByQuantizedMultiplier of an int32.
function mbqm(x: i32, multiplier: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm(x * (left >= 32 ? 0 : 1 << left), multiplier), right);
}

// (a + b) / 2 rounded half away from zero, over 64 bits.
@inline function roundingHalfSum(a: i32, b: i32): i32 {
  const sum = <i64>a + <i64>b;
  return <i32>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

// exp(a) for a in [-1/4, 0), a in Q0.31.
function expOnQuarterInterval(a: i32): i32 {
  const constantTerm: i32 = 1895147668; // exp(-1/8) in Q0.31
  const oneThird: i32 = 715827883; // 1/3 in Q0.31
  const x = a + (1 << 28);
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4Over4 = rdbpot(x4, 2);
  const poly = rdbpot(srdhm(x4Over4 + x3, oneThird) + x2, 1);
  return constantTerm + srdhm(constantTerm, x + poly);
}

// Q0.31 multipliers exp(-2^k) for k = -2..4.
@inline function expBarrel(i: i32): i32 {
  switch (i) {
    case 0: return 1672461947;
    case 1: return 1302514674;
    case 2: return 790015084;
    case 3: return 290630308;
    case 4: return 39332535;
    case 5: return 720401;
    default: return 242;
  }
}

// exp(a) for a <= 0 with `integerBits` integer bits; result in Q0.31.
function expOnNegativeValues(a: i32, integerBits: i32): i32 {
  const fractionalBits = 31 - integerBits;
  const oneQuarter: i32 = 1 << (fractionalBits - 2);
  const mask = oneQuarter - 1;
  const aModQuarterMinusQuarter = (a & mask) - oneQuarter;
  let result = expOnQuarterInterval(srMulPot(aModQuarterMinusQuarter, integerBits));
  const remainder = aModQuarterMinusQuarter - a;
  for (let i = 0; i < 7; i++) {
    const exponent = i - 2;
    if (integerBits > exponent && (remainder & (1 << (fractionalBits + exponent))) != 0) result = srdhm(result, expBarrel(i));
  }
  if (integerBits > 5) {
    const clamp: i32 = -(1 << (36 - integerBits));
    if (a < clamp) result = 0;
  }
  if (a == 0) result = I32_MAX;
  return result;
}

// Newton-Raphson reciprocal iteration (x in Q2.29).
function newtonReciprocal(a: i32): i32 {
  const halfDenominator = roundingHalfSum(a, I32_MAX);
  let x = 1515870810 + srdhm(halfDenominator, -1010580540); // 48/17 - 32/17 * d
  for (let i = 0; i < 3; i++) {
    const hdx = srdhm(halfDenominator, x);
    const oneMinus = (1 << 29) - hdx;
    x = x + srMulPot(srdhm(x, oneMinus), 2);
  }
  return x;
}

// gemmlowp logistic of a Q4.27 value; result in Q0.31.
function fxLogistic(a: i32): i32 {
  if (a == 0) return 1 << 30;
  const abs = a > 0 ? a : -a;
  const positive = srMulPot(newtonReciprocal(expOnNegativeValues(-abs, 4)), 1);
  return a > 0 ? positive : I32_MAX - positive;
}

// gemmlowp tanh of a Q4.27 value; result in Q0.31.
function fxTanh(a: i32): i32 {
  if (a == 0) return 0;
  const n = a < 0 ? a : -a;
  const t = srMulPot(newtonReciprocal(expOnNegativeValues(n, 5)) - (1 << 29), 2);
  return a < 0 ? -t : t;
}

// The table's 256 bytes (indexed by the input byte, int8 values by their two's
// complement), written here and read by the caller right after the call.
const TABLE = memory.data(256, 16);

// Builds the table of kind 0 (LOGISTIC, output zero point -128, scale 1/256) or 1 (TANH,
// output scale 1/128) for an input zero point zp and the Q4.27 rescale (multiplier,
// shift) with its radius (inputs at or beyond it saturate); returns the table's address.
export function sigmoidTable8(kind: i32, zp: i32, multiplier: i32, shift: i32, radius: i32): usize {
  for (let b = 0; b < 256; b++) {
    const x = ((b << 24) >> 24) - zp;
    let r: i32;
    if (x <= -radius) r = -128;
    else if (x >= radius) r = 127;
    else {
      const a = mbqm(x, multiplier, shift);
      r = kind == 0 ? rdbpot(fxLogistic(a), 23) - 128 : rdbpot(fxTanh(a), 24);
    }
    store<i8>(TABLE + <usize>b, <i8>(r < -128 ? -128 : r > 127 ? 127 : r));
  }
  return TABLE;
}
