// int16 sigmoid and tanh by interpolation in the 256-entry table of sigmoid(i/24)
// (0.16 fixed point), as TFLite's int16 LOGISTIC / TANH reference kernels compute them.
// Shared by the LOGISTIC/TANH kernels (activation.ts) and the LSTM gates (lstm.ts).

// Sigmoid of v (already rescaled: 9 fractional bits index the table); result Q0.15.
@inline export function sigmoidQ15(v: i32, table: usize): i32 {
  const a = <u32>(v < 0 ? -v : v);
  const hi = a >> 9;
  let res: u32;
  if (hi >= 255) {
    res = <u32>0x7fff << 10;
  } else {
    const ua = <u32>load<u16>(table + (<usize>hi << 1));
    const ub = <u32>load<u16>(table + (<usize>(hi + 1) << 1));
    res = (ua << 9) + (a & 0x1ff) * (ub - ua);
  }
  res = v >= 0 ? res + (1 << 9) : (<u32>1 << 25) - res + (1 << 9) - 1;
  return <i32><i16>(res >> 10);
}

// tanh(v) = 2 sigmoid(2v) - 1 (8 fractional bits index the table); result Q0.15.
@inline export function tanhQ15(v: i32, table: usize): i32 {
  const a = <u32>(v < 0 ? -v : v);
  const hi = a >> 8;
  let res: i32;
  if (hi >= 255) {
    res = 0xffff << 8;
  } else {
    const ua = <u32>load<u16>(table + (<usize>hi << 1));
    const ub = <u32>load<u16>(table + (<usize>(hi + 1) << 1));
    res = <i32>((ua << 8) + (a & 0xff) * (ub - ua));
  }
  res = v >= 0 ? res - (1 << 23) + (1 << 7) : -res + (1 << 23) + (1 << 7) - 1;
  return <i32><i16>(res >> 8);
}

// The reference's input rescaling: (x * multiplier + round) >> shift.
@inline export function rescale16(x: i32, mult: i32, shift: i32): i32 {
  const rnd = shift > 0 ? 1 << (shift - 1) : 0;
  return (x * mult + rnd) >> shift;
}
