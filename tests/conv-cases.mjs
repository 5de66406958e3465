// The CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED cases of tests/conv-kernels.test.mjs
// and their scalar reference, written here from TFLite's reference integer kernels
// (ConvPerChannel, DepthwiseConvPerChannel, FullyConnected(PerChannel), QuantizeMultiplier,
// MultiplyByQuantizedMultiplier). Shared with tests/relaxed-child.mjs, which runs them on the
// relaxed-SIMD build in a Node started with relaxed SIMD switched on.

// ---------------------------------------------------------------- reference arithmetic

const I32_MIN = -2147483648;

/** QuantizeMultiplier: m = q * 2^shift with q in [2^30, 2^31). */
export function quantizeMultiplier(m) {
  if (m === 0) return [0, 0];
  let shift = Math.floor(Math.log2(m)) + 1;
  let frac = m / 2 ** shift;
  while (frac >= 1) { frac /= 2; shift++; }
  while (frac < 0.5) { frac *= 2; shift--; }
  let q = Math.sign(frac) * Math.round(Math.abs(frac) * 2 ** 31); // frac > 0: half away = half up
  if (q === 2 ** 31) { q /= 2; shift++; }
  if (shift < -31) return [0, 0];
  return [q, shift];
}

function srdhm(a, b) {
  if (a === I32_MIN && b === I32_MIN) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n));
}

function rdbp(x, e) {
  const mask = (1 << e) - 1;
  const rem = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > threshold ? 1 : 0);
}

export function mbqm(x, q, shift) {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return rdbp(srdhm(Math.imul(x, 2 ** left), q), right);
}

function outSize(padding, image, filter, stride, dil) {
  const eff = (filter - 1) * dil + 1;
  return padding === 'SAME' ? Math.floor((image + stride - 1) / stride) : Math.floor((image + stride - eff) / stride);
}

function padBefore(stride, dil, image, filter, out) {
  const eff = (filter - 1) * dil + 1;
  return Math.floor(Math.max(0, (out - 1) * stride + eff - image) / 2);
}

/**
 * The reference: for every output element, acc = bias + Σ w·(x − zp_in) over the taps
 * inside the image (i32, wrapping), out = clamp(MBQM(acc) + zp_out).
 * Depthwise: filter [1][fH][fW][outC], channel oc reads input channel oc / dm.
 */
export function reference(c) {
  const [N, H, W, C] = c.inShape;
  const { fH, fW, outC, sH, sW, dH, dW, padding, depthwise } = c;
  const oH = outSize(padding, H, fH, sH, dH), oW = outSize(padding, W, fW, sW, dW);
  const pH = padBefore(sH, dH, H, fH, oH), pW = padBefore(sW, dW, W, fW, oW);
  const dm = depthwise ? outC / C : 1;
  const out = new Int8Array(N * oH * oW * outC);
  // Effective scales in double; per-tensor FULLY_CONNECTED forms input × filter scale in
  // float32 first, as its reference does.
  const eff = (fs) => (c.fc && c.filterScales.length === 1 ? Math.fround(c.inScale * fs) : Math.fround(c.inScale) * Math.fround(fs)) / Math.fround(c.outScale);
  const qs = c.filterScales.map((fs) => quantizeMultiplier(eff(fs)));
  for (let b = 0; b < N; b++) for (let oy = 0; oy < oH; oy++) for (let ox = 0; ox < oW; ox++) for (let oc = 0; oc < outC; oc++) {
    let acc = c.bias ? c.bias[oc] : 0;
    for (let fy = 0; fy < fH; fy++) {
      const iy = oy * sH - pH + fy * dH;
      if (iy < 0 || iy >= H) continue;
      for (let fx = 0; fx < fW; fx++) {
        const ix = ox * sW - pW + fx * dW;
        if (ix < 0 || ix >= W) continue;
        if (depthwise) {
          const x = c.input[((b * H + iy) * W + ix) * C + Math.floor(oc / dm)];
          acc = (acc + c.filter[(fy * fW + fx) * outC + oc] * (x - c.inZp)) | 0;
        } else {
          for (let ic = 0; ic < C; ic++) {
            const x = c.input[((b * H + iy) * W + ix) * C + ic];
            acc = (acc + c.filter[((oc * fH + fy) * fW + fx) * C + ic] * (x - c.inZp)) | 0;
          }
        }
      }
    }
    const [q, s] = qs[c.filterScales.length === 1 ? 0 : oc];
    let v = mbqm(acc, q, s) + c.outZp;
    const [lo, hi] = c.clamp;
    v = Math.min(hi, Math.max(lo, v));
    out[((b * oH + oy) * oW + ox) * outC + oc] = v;
  }
  return { out, outShape: [N, oH, oW, outC] };
}

// ---------------------------------------------------------------- models

export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

export function makeCase(spec, seed) {
  const r = rng(seed);
  const int = (lo, hi) => lo + (r() % (hi - lo + 1));
  const [N, H, W, C] = spec.inShape;
  const depthwise = !!spec.depthwise;
  const outC = spec.outC;
  const fSize = depthwise ? spec.fH * spec.fW * outC : outC * spec.fH * spec.fW * C;
  const input = Int8Array.from({ length: N * H * W * C }, () => int(-128, 127));
  const filter = Int8Array.from({ length: fSize }, () => int(-127, 127));
  // Some weights of -128 (legal int8, though symmetric quantizers avoid it): the relaxed
  // build cannot split those into 7-bit halves and keeps the int16 layout for the op.
  if (spec.withMinus128) for (let i = 3; i < fSize; i += 37) filter[i] = -128;
  const perChannel = spec.perChannel ?? true;
  const filterScales = spec.perChannelPow2
    ? Array.from({ length: outC }, () => Math.fround(spec.filterScale * 2 ** ((r() % 5) - 2)))
    : perChannel
    ? Array.from({ length: outC }, () => Math.fround((spec.filterScale ?? 0.01) * (0.25 + (r() % 1000) / 400)))
    : [Math.fround(spec.filterScale ?? 0.01)];
  const bm = spec.biasMax ?? 20000;
  const bias = spec.noBias ? null : Int32Array.from({ length: outC }, () => int(-bm, bm));
  const inScale = Math.fround(spec.inScale ?? 0.05), outScale = Math.fround(spec.outScale ?? 0.1);
  const inZp = spec.inZp ?? int(-30, 30), outZp = spec.outZp ?? int(-20, 20);
  const act = spec.act ?? 'NONE';
  // Clamp of the fused activation (CalculateActivationRangeQuantized).
  const q = (v) => outZp + Math.round(v / outScale);
  const clamp = act === 'RELU6' ? [Math.max(-128, q(0)), Math.min(127, q(6))] : act === 'RELU' ? [Math.max(-128, q(0)), 127] : [-128, 127];
  return {
    ...spec, depthwise, N, input, filter, filterScales, bias, inScale, outScale, inZp, outZp, act, clamp,
    sH: spec.s ?? 1, sW: spec.sW ?? spec.s ?? 1, dH: spec.dH ?? spec.d ?? 1, dW: spec.dW ?? spec.d ?? 1, padding: spec.padding ?? 'SAME',
  };
}

export function graphOf(c, outShape) {
  const bytes = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const quant = (scale, zp, dim = 0) => ({ scale, zeroPoint: scale.map(() => zp), quantizedDimension: dim });
  const T = (index, name, dtype, shape, data, q) => ({ index, name, shape, shapeSignature: null, dtype, data, quant: q, isVariable: false });
  // FULLY_CONNECTED: rows of K values in, [rows, units] out (the reference's 1x1 view).
  const fShape = c.fc ? [c.outC, c.inShape[3]] : c.depthwise ? [1, c.fH, c.fW, c.outC] : [c.outC, c.fH, c.fW, c.inShape[3]];
  const inShape = c.fc ? [c.inShape[0], c.inShape[3]] : c.inShape;
  const yShape = c.fc ? [c.inShape[0], c.outC] : outShape;
  const tensors = [
    T(0, 'x', 'int8', inShape, null, quant([c.inScale], c.inZp)),
    T(1, 'w', 'int8', fShape, bytes(c.filter), quant(c.filterScales, 0, c.depthwise ? 3 : 0)),
    T(2, 'y', 'int8', yShape, null, quant([c.outScale], c.outZp)),
  ];
  const inputs = [0, 1];
  if (c.bias) {
    tensors.push(T(3, 'b', 'int32', [c.outC], bytes(c.bias), quant(c.filterScales.map((s) => Math.fround(s * c.inScale)), 0)));
    inputs.push(3);
  }
  const options = c.fc ? { activation: c.act, keepNumDims: false } : {
    padding: c.padding, strideH: c.sH, strideW: c.sW, dilationH: c.dH, dilationW: c.dW, activation: c.act,
    ...(c.depthwise ? { depthMultiplier: c.outC / c.inShape[3] } : {}),
  };
  return {
    source: 'conv-kernels', description: '', version: 3, tensors, metadata: {}, inputs: [0], outputs: [2],
    ops: [{ index: 0, opcode: c.fc ? 'FULLY_CONNECTED' : c.depthwise ? 'DEPTHWISE_CONV_2D' : 'CONV_2D', customCode: '', version: 3, inputs, outputs: [2], intermediates: [], options }],
  };
}


// ---------------------------------------------------------------- cases

export const convCases = [
  { name: 'LeNet-like 5x5, Cin 1, Cout 6, VALID', inShape: [1, 28, 28, 1], fH: 5, fW: 5, outC: 6, padding: 'VALID' },
  { name: '5x5, Cin 1, Cout 6, SAME (every border)', inShape: [1, 11, 9, 1], fH: 5, fW: 5, outC: 6 },
  { name: '3x3 stride 2, Cin 3, Cout 32 (MobileNet stem), VALID', inShape: [1, 17, 17, 3], fH: 3, fW: 3, outC: 32, s: 2, padding: 'VALID' },
  { name: '3x3 stride 2, Cin 3, Cout 13, SAME, odd sizes', inShape: [1, 15, 13, 3], fH: 3, fW: 3, outC: 13, s: 2 },
  { name: '3x3, Cin 5, Cout 17, SAME, per-tensor', inShape: [1, 9, 7, 5], fH: 3, fW: 3, outC: 17, perChannel: false },
  { name: '2x3 filter, Cin 6, Cout 9, strides 1x2, VALID', inShape: [1, 10, 11, 6], fH: 2, fW: 3, outC: 9, s: 1, sW: 2, padding: 'VALID' },
  { name: '3x3 dilation 2, Cin 4, Cout 8, SAME', inShape: [1, 12, 12, 4], fH: 3, fW: 3, outC: 8, d: 2 },
  { name: '3x3 dilation 2x1, Cin 3, Cout 10, SAME, stride 2x1', inShape: [1, 13, 11, 3], fH: 3, fW: 3, outC: 10, dH: 2, dW: 1, s: 2, sW: 1 },
  { name: '3x2 dilation 1x3, Cin 2, Cout 9, VALID', inShape: [2, 9, 12, 2], fH: 3, fW: 2, outC: 9, dH: 1, dW: 3, padding: 'VALID' },
  { name: '3x3, Cin 16, Cout 24, batch 2, RELU6', inShape: [2, 8, 8, 16], fH: 3, fW: 3, outC: 24, act: 'RELU6' },
  { name: '1x1, Cin 3, Cout 5 (tiny depth, channel tail)', inShape: [1, 7, 5, 3], fH: 1, fW: 1, outC: 5 },
  { name: '1x1, Cin 16, Cout 96, pixel tail', inShape: [1, 5, 7, 16], fH: 1, fW: 1, outC: 96 },
  { name: '1x1, Cin 27, Cout 20 (odd depth), stride 2', inShape: [1, 9, 9, 27], fH: 1, fW: 1, outC: 20, s: 2 },
  { name: '1x1, Cin 40, Cout 8, batch 3, per-tensor, no bias', inShape: [3, 3, 3, 40], fH: 1, fW: 1, outC: 8, perChannel: false, noBias: true },
  { name: '3x3, left shifts (effective scale > 1)', inShape: [1, 6, 6, 4], fH: 3, fW: 3, outC: 12, filterScale: 2, inScale: 0.5, outScale: 0.02 },
  { name: '1x1, left shifts, RELU', inShape: [1, 4, 5, 8], fH: 1, fW: 1, outC: 11, filterScale: 3, inScale: 0.5, outScale: 0.05, act: 'RELU' },
  { name: '4x4 stride 3, Cin 2, Cout 7, SAME', inShape: [1, 14, 10, 2], fH: 4, fW: 4, outC: 7, s: 3 },
  { name: '3x3, tiny effective scale (right shifts past 22)', inShape: [1, 6, 6, 8], fH: 3, fW: 3, outC: 9, filterScale: 1e-4, inScale: 1e-4, outScale: 1, biasMax: 2000000000 },
  { name: '1x1, huge biases (saturated outputs), RELU6', inShape: [1, 5, 5, 16], fH: 1, fW: 1, outC: 16, biasMax: 2000000000, act: 'RELU6' },
  { name: '3x3, effective scale near 1 (right shift 0 and 1)', inShape: [1, 5, 5, 4], fH: 3, fW: 3, outC: 10, filterScale: 0.6, inScale: 0.1, outScale: 0.05 },
  { name: '3x3, Cin 6, Cout 12, weights of -128', inShape: [1, 7, 6, 6], fH: 3, fW: 3, outC: 12, withMinus128: true },
  { name: '1x1, Cin 12, Cout 16 (input read in place by the relaxed build), batch 2', inShape: [2, 5, 3, 12], fH: 1, fW: 1, outC: 16 },
  // The float32 output stage (conv-requant.ts stageV): with power-of-two scales every
  // accumulator 64 ± 1 past a multiple of 128 is an exact tie of its rounding, which the
  // stage must hand to the integer one; many pixels and channels give the ordinary
  // near-ties (about 1 block in 60) too.
  { name: '1x1, Cin 16, Cout 24, power-of-two scales (ties in the float32 stage)', inShape: [1, 9, 11, 16], fH: 1, fW: 1, outC: 24, perChannel: false, filterScale: 0.0625, inScale: 0.5, outScale: 4 },
  { name: '3x3, Cin 3, Cout 16, power-of-two per-channel scales', inShape: [1, 10, 9, 3], fH: 3, fW: 3, outC: 16, filterScale: 0.125, inScale: 0.25, outScale: 2, perChannelPow2: true },
  { name: '1x1, Cin 24, Cout 144, 20x20 (many near-ties)', inShape: [1, 20, 20, 24], fH: 1, fW: 1, outC: 144 },
  { name: '1x1, Cin 32, Cout 40, 12x12, extreme zero points', inShape: [1, 12, 12, 32], fH: 1, fW: 1, outC: 40, inZp: -128, outZp: 127 },
];

export const dwCases = [
  { name: '3x3 stride 1, 8 channels, SAME', inShape: [1, 9, 9, 8], fH: 3, fW: 3, outC: 8 },
  { name: '3x3 stride 2, 16 channels, SAME', inShape: [1, 12, 11, 16], fH: 3, fW: 3, outC: 16, s: 2 },
  { name: '3x3 stride 1, 24 channels, VALID', inShape: [1, 7, 8, 24], fH: 3, fW: 3, outC: 24, padding: 'VALID' },
  { name: '3x3 stride 2, 40 channels, VALID, odd sizes', inShape: [1, 15, 13, 40], fH: 3, fW: 3, outC: 40, s: 2, padding: 'VALID' },
  { name: '3x3 stride 1, 13 channels (tail), SAME', inShape: [1, 6, 7, 13], fH: 3, fW: 3, outC: 13 },
  { name: '3x3 stride 1, 21 channels, per-tensor, RELU6', inShape: [2, 5, 6, 21], fH: 3, fW: 3, outC: 21, perChannel: false, act: 'RELU6' },
  { name: '3x3 dilation 2, 16 channels', inShape: [1, 10, 10, 16], fH: 3, fW: 3, outC: 16, d: 2 },
  { name: '5x5 stride 2, 8 channels', inShape: [1, 11, 11, 8], fH: 5, fW: 5, outC: 8, s: 2 },
  { name: '3x3, depth multiplier 8 from one channel, stride 2', inShape: [1, 12, 12, 1], fH: 3, fW: 3, outC: 8, s: 2 },
  { name: '3x3, depth multiplier 2', inShape: [1, 6, 6, 4], fH: 3, fW: 3, outC: 8 },
  { name: '3x4 stride 2, depth multiplier 8 from one channel (tap pairs adjacent)', inShape: [1, 13, 12, 1], fH: 3, fW: 4, outC: 8, s: 2 },
  { name: '2x4 dilation 2, depth multiplier 16 from one channel', inShape: [1, 9, 11, 1], fH: 2, fW: 4, outC: 16, d: 2 },
  { name: '3x5, depth multiplier 8 from one channel, VALID (odd width)', inShape: [1, 8, 9, 1], fH: 3, fW: 5, outC: 8, padding: 'VALID' },
  { name: '3x3, left shifts', inShape: [1, 6, 6, 16], fH: 3, fW: 3, outC: 16, filterScale: 2, inScale: 0.5, outScale: 0.02 },
  { name: '3x3, 1 column and 1 row of output', inShape: [1, 3, 3, 32], fH: 3, fW: 3, outC: 32, padding: 'VALID' },
  { name: '3x3 stride 1, 2-pixel wide image, 16 channels', inShape: [1, 5, 2, 16], fH: 3, fW: 3, outC: 16 },
  { name: '3x3, tiny effective scale (right shifts past 22)', inShape: [1, 6, 6, 16], fH: 3, fW: 3, outC: 16, filterScale: 1e-4, inScale: 1e-4, outScale: 1, biasMax: 2000000000 },
  { name: '3x3, huge biases (saturated outputs)', inShape: [1, 6, 6, 24], fH: 3, fW: 3, outC: 24, biasMax: 2000000000 },
  // 3x3 with depth multiplier 1 and block data (float64 output stage, pixel pairs): runs
  // of odd and even length, channel tails past the last block of 8, both paddings, both
  // strides, dilation, per-tensor scales, left shifts, batches and clamps.
  { name: '3x3 stride 1, 27 channels (tail 3), odd run (width 8, SAME)', inShape: [1, 5, 8, 27], fH: 3, fW: 3, outC: 27 },
  { name: '3x3 stride 1, 16 channels, even run (width 9, VALID: 7 pixels)', inShape: [1, 6, 9, 16], fH: 3, fW: 3, outC: 16, padding: 'VALID' },
  { name: '3x3 stride 1, 8 channels, run of 1 (width 3, SAME)', inShape: [1, 4, 3, 8], fH: 3, fW: 3, outC: 8 },
  { name: '3x3 stride 2, 44 channels (tail 4), SAME, odd sizes', inShape: [1, 11, 13, 44], fH: 3, fW: 3, outC: 44, s: 2 },
  { name: '3x3 stride 2, 24 channels, VALID, even width', inShape: [1, 10, 12, 24], fH: 3, fW: 3, outC: 24, s: 2, padding: 'VALID' },
  { name: '3x3 strides 1x2, 16 channels', inShape: [1, 7, 10, 16], fH: 3, fW: 3, outC: 16, s: 1, sW: 2 },
  { name: '3x3 dilation 2, 24 channels, VALID', inShape: [1, 9, 11, 24], fH: 3, fW: 3, outC: 24, d: 2, padding: 'VALID' },
  { name: '3x3 stride 1, 32 channels, per-tensor, RELU6, batch 3', inShape: [3, 6, 7, 32], fH: 3, fW: 3, outC: 32, perChannel: false, act: 'RELU6' },
  { name: '3x3 stride 1, 19 channels, left shifts, RELU', inShape: [1, 6, 7, 19], fH: 3, fW: 3, outC: 19, filterScale: 2, inScale: 0.5, outScale: 0.02, act: 'RELU' },
  { name: '3x3 stride 2, 16 channels, effective scale near 1 (right shift 0 and 1)', inShape: [1, 9, 9, 16], fH: 3, fW: 3, outC: 16, s: 2, filterScale: 0.6, inScale: 0.1, outScale: 0.05 },
  { name: '3x3 stride 1, 16 channels, extreme zero points, no bias', inShape: [1, 6, 6, 16], fH: 3, fW: 3, outC: 16, inZp: -128, outZp: 127, noBias: true },
  { name: '3x3 stride 1, 16 channels, power-of-two scales (ties in the reference rounding)', inShape: [1, 7, 7, 16], fH: 3, fW: 3, outC: 16, perChannel: false, filterScale: 0.0625, inScale: 0.5, outScale: 4 },
  // The float32 output stage's ties (handed to the integer stage): power-of-two scales with
  // outputs mostly inside the clamp, so many accumulators land exactly on a tie.
  { name: '3x3 stride 1, 24 channels, power-of-two scales, small biases (ties in the float32 stage)', inShape: [1, 12, 12, 24], fH: 3, fW: 3, outC: 24, perChannel: false, filterScale: 0.0625, inScale: 0.5, outScale: 16, biasMax: 100 },
  { name: '3x3 stride 2, 16 channels, power-of-two per-channel scales, small biases', inShape: [1, 13, 13, 16], fH: 3, fW: 3, outC: 16, s: 2, filterScale: 0.125, inScale: 0.5, outScale: 16, perChannelPow2: true, biasMax: 100 },
];

// FULLY_CONNECTED: rows x K input, units outputs: the reference's 1x1 convolution over
// [rows, 1, 1, K]. The SIMD build runs these through the GEMM convolution kernel.
export const fcCases = [
  { name: '1 row, K 64, 192 units (a recurrent step)', rows: 1, K: 64, units: 192 },
  { name: '28 rows, K 28, 192 units (an unrolled input projection)', rows: 28, K: 28, units: 192 },
  { name: '5 rows, K 17, 13 units, per-tensor, RELU6', rows: 5, K: 17, units: 13, perChannel: false, act: 'RELU6' },
  { name: '3 rows, K 1, 9 units', rows: 3, K: 1, units: 9 },
  { name: '9 rows, K 100, 1 unit, no bias', rows: 9, K: 100, units: 1, noBias: true },
  { name: '2 rows, K 33, 7 units, left shifts, RELU', rows: 2, K: 33, units: 7, filterScale: 3, inScale: 0.5, outScale: 0.05, act: 'RELU' },
  { name: '6 rows, K 300, 40 units (wrapping sums past 256 terms)', rows: 6, K: 300, units: 40 },
  { name: '4 rows, K 24, 16 units, tiny effective scale, huge biases', rows: 4, K: 24, units: 16, filterScale: 1e-4, inScale: 1e-4, outScale: 1, biasMax: 2000000000 },
  { name: '17 rows, K 10, 11 units, per-tensor', rows: 17, K: 10, units: 11, perChannel: false },
  { name: '1 row, K 2,100, 5 units (long rows: the direct kernel on SIMD too)', rows: 1, K: 2100, units: 5 },
  { name: '7 rows, K 20, 9 units, weights of -128', rows: 7, K: 20, units: 9, withMinus128: true },
  { name: '30 rows, K 16, 20 units, power-of-two scales (ties in the float32 stage)', rows: 30, K: 16, units: 20, perChannel: false, filterScale: 0.0625, inScale: 0.5, outScale: 4 },
  { name: '3 rows (no 4-row block), K 24, 200 units, power-of-two scales', rows: 3, K: 24, units: 200, perChannel: false, filterScale: 0.0625, inScale: 0.5, outScale: 4 },
];

/** Every case as the spec check() takes, with a name. */
export function allCases() {
  return [
    ...convCases.map((c) => ({ ...c, name: `CONV_2D int8: ${c.name}` })),
    ...dwCases.map((c) => ({ ...c, depthwise: true, name: `DEPTHWISE_CONV_2D int8: ${c.name}` })),
    ...fcCases.map((c) => ({ ...c, fc: true, inShape: [c.rows, 1, 1, c.K], fH: 1, fW: 1, outC: c.units, padding: 'VALID', name: `FULLY_CONNECTED int8: ${c.name}` })),
  ];
}

/** Runs one case on a backend; returns the index of the first differing byte, or -1. */
export async function firstDifference(createModel, spec, backend, seed = 7, options = {}) {
  const c = makeCase(spec, seed);
  const { out, outShape } = reference(c);
  const model = await createModel(graphOf(c, outShape), { ...options, backend });
  const got = model.run([c.input])[0];
  model.dispose();
  if (got.length !== out.length) return Math.min(got.length, out.length);
  for (let i = 0; i < out.length; i++) if (got[i] !== out[i]) return i;
  return -1;
}
