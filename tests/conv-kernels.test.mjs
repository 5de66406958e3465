// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED int8 kernels against the plain scalar
// reference of tests/conv-cases.mjs (written from TFLite's reference integer kernels), on
// shapes the conformance models lack: odd channel counts and channel tails, tiny and odd
// input depths, strides, SAME/VALID padding, dilation, per-tensor and per-channel scales,
// left shifts, batches, fused clamps. Every kernel build must match it byte for byte.
import test from 'ava';
import { createModel, relaxedSupport } from '../dist/runtime/index.js';
import { allCases, firstDifference, mbqm, quantizeMultiplier } from './conv-cases.mjs';

// The relaxed-SIMD build too where this engine runs it (tests/relaxed.test.mjs runs it in a
// Node started with relaxed SIMD switched on).
const BACKENDS = ['simd', 'scalar', ...(relaxedSupport().ok ? ['relaxed'] : [])];

for (const spec of allCases()) {
  test(spec.name, async (t) => {
    for (const backend of BACKENDS) t.is(await firstDifference(createModel, spec, backend), -1, `${backend}: outputs differ from the reference`);
  });
}

test('the reference rounds as TFLite\'s fixed-point helpers do', (t) => {
  // QuantizeMultiplier(0.5) = 2^30 with shift 0; (1.5) = 0.75 * 2^31, shift 1.
  t.deepEqual(quantizeMultiplier(0.5), [2 ** 30, 0]);
  t.deepEqual(quantizeMultiplier(1.5), [0.75 * 2 ** 31, 1]);
  // The doubling high multiply rounds halves upward: -101 * 0.5 = -50.5 -> -50.
  t.is(mbqm(100, 2 ** 30, 0), 50);
  t.is(mbqm(-101, 2 ** 30, 0), -50);
  t.is(mbqm(101, 2 ** 30, 0), 51);
  // The divide by a power of two rounds halves away from zero:
  // 0.25 = 2^30 * 2^-1: 10 * 0.25 = 2.5 -> 3; -10 * 0.25 = -2.5 -> -3.
  t.is(mbqm(10, 2 ** 30, -1), 3);
  t.is(mbqm(-10, 2 ** 30, -1), -3);
});
