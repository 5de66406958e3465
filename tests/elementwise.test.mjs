// int8 ADD and SUB against a scalar reference written here from TFLite Micro's integer
// kernels (add.cc / sub.cc: inputs offset, shifted left by 20, scaled by multipliers made
// from twice the larger input scale, summed, rescaled to the output, clamped). Large
// outputs take the lookup-table kernel (309), small ones the arithmetic one (301); the
// inputs below hold every pair of int8 values, so each table entry is checked.
import test from 'ava';
import { createModel } from '../dist/runtime/index.js';
import { ADD_TABLE_MIN } from '../dist/runtime/ops/elementwise.js';
import { mbqm, quantizeMultiplier, rng } from './conv-cases.mjs';

const f32 = Math.fround;

/** The reference output for int8 inputs x1, x2 (broadcast by the caller). */
function referenceOf(q, isSub) {
  const { s1, z1, s2, z2, so, zo, act } = q;
  let real1, real2, realOut;
  if (isSub) {
    // sub.cc computes the multipliers in float32.
    const twiceMax = f32(2 * Math.max(s1, s2));
    real1 = f32(s1 / twiceMax); real2 = f32(s2 / twiceMax); realOut = f32(twiceMax / f32((1 << 20) * so));
  } else {
    const twiceMax = 2 * Math.max(s1, s2);
    real1 = s1 / twiceMax; real2 = s2 / twiceMax; realOut = twiceMax / ((1 << 20) * so);
  }
  const [m1, sh1] = quantizeMultiplier(real1), [m2, sh2] = quantizeMultiplier(real2), [mo, sho] = quantizeMultiplier(realOut);
  const qv = (v) => zo + Math.round(v / so);
  const [lo, hi] = act === 'RELU6' ? [Math.max(-128, qv(0)), Math.min(127, qv(6))] : act === 'RELU' ? [Math.max(-128, qv(0)), 127] : [-128, 127];
  return (x1, x2) => {
    const a = mbqm((x1 - z1) * (1 << 20), m1, sh1);
    const b = mbqm((x2 - z2) * (1 << 20), m2, sh2);
    const raw = mbqm(isSub ? a - b : a + b, mo, sho) + zo;
    return Math.min(hi, Math.max(lo, raw));
  };
}

function graph(op, shapeA, shapeB, shapeOut, q, bConst) {
  const T = (index, name, shape, scale, zp, data = null) => ({
    index, name, shape, shapeSignature: null, dtype: 'int8', data, isVariable: false,
    quant: { scale: [scale], zeroPoint: [zp], quantizedDimension: 0 },
  });
  return {
    source: 'elementwise', description: '', version: 3, metadata: {},
    tensors: [T(0, 'a', shapeA, q.s1, q.z1), T(1, 'b', shapeB, q.s2, q.z2, bConst), T(2, 'y', shapeOut, q.so, q.zo)],
    inputs: bConst ? [0] : [0, 1], outputs: [2],
    ops: [{ index: 0, opcode: op, customCode: '', version: 2, inputs: [0, 1], outputs: [2], intermediates: [], options: { activation: q.act } }],
  };
}

const SCALES = [
  { name: 'different scales, zero points', s1: f32(0.0213), z1: -7, s2: f32(0.0471), z2: 12, so: f32(0.0529), zo: -3, act: 'NONE' },
  { name: 'RELU6, output scale finer than the inputs', s1: f32(0.031), z1: -128, s2: f32(0.0102), z2: 127, so: f32(0.0079), zo: -100, act: 'RELU6' },
  { name: 'equal power-of-two scales (ties)', s1: 0.125, z1: 0, s2: 0.125, z2: 0, so: 0.25, zo: 0, act: 'NONE' },
  { name: 'RELU, coarse output', s1: f32(0.004), z1: 3, s2: f32(0.09), z2: -1, so: f32(0.3), zo: 5, act: 'RELU' },
];

// Every (a, b) pair: a = i >> 8, b = i & 255, as int8, 65536 elements.
const pairsA = Int8Array.from({ length: 65536 }, (_, i) => (i >> 8) - 128);
const pairsB = Int8Array.from({ length: 65536 }, (_, i) => (i & 255) - 128);

for (const op of ['ADD', 'SUB']) {
  for (const q of SCALES) {
    test(`${op} int8, every input pair through the table (${q.name})`, async (t) => {
      const ref = referenceOf(q, op === 'SUB');
      const want = Int8Array.from(pairsA, (a, i) => ref(a, pairsB[i]));
      for (const backend of ['simd', 'scalar']) {
        const model = await createModel(graph(op, [1, 256, 256, 1], [1, 256, 256, 1], [1, 256, 256, 1], q), { backend });
        t.is(model.plan.ops[0].kernel, 309, 'the table kernel');
        const got = model.run([pairsA, pairsB])[0];
        model.dispose();
        const bad = got.findIndex((v, i) => v !== want[i]);
        t.is(bad, -1, bad < 0 ? '' : `${backend}: a ${pairsA[bad]} b ${pairsB[bad]}: got ${got[bad]}, want ${want[bad]}`);
      }
    });
  }
}

test('ADD / SUB int8 with broadcasting through the table: a row, a scalar, and odd lengths', async (t) => {
  const r = rng(5);
  const q = SCALES[0];
  const cases = [
    { a: [1, 33, 37, 5], b: [1, 1, 1, 5] },
    { a: [1, 70, 61, 1], b: [1] },
    { a: [2, 1, 48, 50], b: [2, 3, 48, 1], out: [2, 3, 48, 50] },
  ];
  for (const op of ['ADD', 'SUB']) {
    const ref = referenceOf(q, op === 'SUB');
    for (const c of cases) {
      const outShape = c.out ?? c.a;
      const n = (s) => s.reduce((x, y) => x * y, 1);
      const xa = Int8Array.from({ length: n(c.a) }, () => (r() & 255) - 128);
      const xb = Int8Array.from({ length: n(c.b) }, () => (r() & 255) - 128);
      // The reference's broadcast: index each input by the output coordinate.
      const rank = outShape.length;
      const ext = (s) => [...new Array(rank - s.length).fill(1), ...s];
      const ea = ext(c.a), eb = ext(c.b);
      const want = new Int8Array(n(outShape));
      for (let i = 0; i < want.length; i++) {
        let rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
        for (let d = rank - 1; d >= 0; d--) {
          const coord = rem % outShape[d]; rem = Math.floor(rem / outShape[d]);
          ia += (ea[d] === 1 ? 0 : coord) * sa; ib += (eb[d] === 1 ? 0 : coord) * sb;
          sa *= ea[d]; sb *= eb[d];
        }
        want[i] = ref(xa[ia], xb[ib]);
      }
      t.true(want.length >= ADD_TABLE_MIN);
      for (const backend of ['simd', 'scalar']) {
        const model = await createModel(graph(op, c.a, c.b, outShape, q), { backend });
        t.is(model.plan.ops[0].kernel, 309);
        const got = model.run([xa, xb])[0];
        model.dispose();
        const bad = got.findIndex((v, i) => v !== want[i]);
        t.is(bad, -1, `${op} ${c.a} ${c.b} ${backend}: element ${bad}`);
      }
    }
  }
});

test('small int8 ADD / SUB keep the arithmetic kernel, with the same results', async (t) => {
  const q = SCALES[1];
  for (const op of ['ADD', 'SUB']) {
    const ref = referenceOf(q, op === 'SUB');
    const a = pairsA.subarray(0x7f00, 0x8100), b = pairsB.subarray(0x7f00, 0x8100); // 512 pairs
    const model = await createModel(graph(op, [1, 512], [1, 512], [1, 512], q), { backend: 'simd' });
    t.is(model.plan.ops[0].kernel, 301);
    const got = model.run([a, b])[0];
    model.dispose();
    t.deepEqual([...got], Array.from(a, (x, i) => ref(x, b[i])));
  }
});

test('the table is filled on the first run and reused: later runs, profile runs and 2 threads agree with the reference', async (t) => {
  const q = SCALES[0];
  const ref = referenceOf(q, false);
  const want = Int8Array.from(pairsA, (a, i) => ref(a, pairsB[i]));
  const r = rng(11);
  const other = Int8Array.from(pairsA, () => (r() & 255) - 128);
  const wantOther = Int8Array.from(other, (a, i) => ref(a, pairsB[i]));
  for (const threads of [1, 2]) {
    const model = await createModel(graph('ADD', [1, 256, 256, 1], [1, 256, 256, 1], [1, 256, 256, 1], q), { backend: 'simd', threads });
    // The first call is a profile run (one op at a time), then plain runs with other inputs.
    t.deepEqual(model.profile([pairsA, pairsB]).outputs[0], want, `threads ${threads}: first (profile) run`);
    t.deepEqual(model.run([other, pairsB])[0], wantOther, `threads ${threads}: second run`);
    t.deepEqual(model.run([pairsA, pairsB])[0], want, `threads ${threads}: third run`);
    model.dispose();
  }
});
