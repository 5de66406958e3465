// TRANSPOSE and PAD against references written here. TRANSPOSE on the shapes that take the
// kernel's special case (three int8 planes interleaved: NCHW -> NHWC of an image, in vector
// steps of 16 pixels plus a tail) and on those next to them that must not; PAD with
// paddings on every side of every dimension (the kernel writes the interior runs and fills
// only the gaps between them), with its pad value from the zero point, from a constant and
// from a tensor given at run time.
import test from 'ava';
import { createModel } from '../dist/runtime/index.js';
import { rng } from './conv-cases.mjs';

const ARRAYS = { int8: Int8Array, int16: Int16Array, int32: Int32Array };

function transposeGraph(dtype, shape, perm) {
  const out = perm.map((p) => shape[p]);
  const T = (index, name, shp, dt, data = null) => ({
    index, name, shape: shp, shapeSignature: null, dtype: dt, data, isVariable: false,
    quant: dt === 'int32' && data ? null : { scale: [0.05], zeroPoint: [0], quantizedDimension: 0 },
  });
  return {
    source: 'transpose', description: '', version: 3, metadata: {},
    tensors: [T(0, 'x', shape, dtype), T(1, 'perm', [perm.length], 'int32', new Uint8Array(Int32Array.from(perm).buffer)), T(2, 'y', out, dtype)],
    inputs: [0], outputs: [2],
    ops: [{ index: 0, opcode: 'TRANSPOSE', customCode: '', version: 1, inputs: [0, 1], outputs: [2], intermediates: [], options: {} }],
  };
}

/** out[j] = x[i] with i the source index of output index j under perm. */
function reference(x, shape, perm) {
  const out = perm.map((p) => shape[p]);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const y = new x.constructor(x.length);
  const idx = new Array(out.length).fill(0);
  for (let j = 0; j < y.length; j++) {
    let src = 0;
    for (let d = 0; d < out.length; d++) src += idx[d] * strides[perm[d]];
    y[j] = x[src];
    for (let d = out.length - 1; d >= 0 && ++idx[d] === out[d]; d--) idx[d] = 0;
  }
  return y;
}

const CASES = [
  // The interleave: 16-pixel steps only, steps and a tail, a tail only, a 224x224 image, two images.
  ['int8', [1, 3, 4, 4], [0, 2, 3, 1]],
  ['int8', [1, 3, 5, 7], [0, 2, 3, 1]],
  ['int8', [1, 3, 3, 5], [0, 2, 3, 1]],
  ['int8', [1, 3, 224, 224], [0, 2, 3, 1]],
  ['int8', [2, 3, 9, 11], [0, 2, 3, 1]],
  ['int8', [3, 50], [1, 0]],
  // Not the interleave: other plane counts, wider elements, a strided pixel walk.
  ['int8', [1, 4, 6, 6], [0, 2, 3, 1]],
  ['int8', [1, 2, 9, 9], [0, 2, 3, 1]],
  ['int16', [1, 3, 5, 7], [0, 2, 3, 1]],
  ['int32', [1, 3, 6, 6], [0, 2, 3, 1]],
  ['int8', [1, 3, 5, 7], [0, 3, 2, 1]],
  ['int8', [1, 5, 7, 3], [0, 3, 1, 2]],
];

// (The relaxed build runs the same shape kernels; its conformance run covers the published
// MobileNet v2, whose NCHW input goes through the interleave.)
for (const backend of ['simd', 'scalar']) {
  test(`TRANSPOSE matches the reference permutation (${backend} build)`, async (t) => {
    const r = rng(11);
    for (const [dtype, shape, perm] of CASES) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = ARRAYS[dtype].from({ length: n }, () => (r() % 60001) - 30000);
      const m = await createModel(transposeGraph(dtype, shape, perm), { backend });
      const [y] = m.run([x]);
      t.deepEqual(Array.from(y), Array.from(reference(x, shape, perm)), `${dtype} [${shape}] perm [${perm}]`);
      m.dispose();
    }
  });
}

function padGraph(dtype, shape, pads, value) {
  const out = shape.map((d, i) => d + pads[2 * i] + pads[2 * i + 1]);
  const q = dtype === 'int8' ? { scale: [0.05], zeroPoint: [5], quantizedDimension: 0 } : null;
  const T = (index, name, shp, dt, data = null, quant = q) => ({ index, name, shape: shp, shapeSignature: null, dtype: dt, data, isVariable: false, quant });
  const tensors = [T(0, 'x', shape, dtype), T(1, 'paddings', [shape.length, 2], 'int32', new Uint8Array(Int32Array.from(pads).buffer), null), T(2, 'y', out, dtype)];
  const inputs = [0];
  const opInputs = [0, 1];
  if (value !== undefined) {
    const runtime = value === 'runtime';
    tensors.push(T(3, 'value', [1], dtype, runtime ? null : new Uint8Array(ARRAYS[dtype].of(value).buffer)));
    if (runtime) inputs.push(3);
    opInputs.push(3);
  }
  return {
    source: 'pad', description: '', version: 3, metadata: {}, tensors, inputs, outputs: [2],
    ops: [{ index: 0, opcode: value === undefined ? 'PAD' : 'PADV2', customCode: '', version: 1, inputs: opInputs, outputs: [2], intermediates: [], options: {} }],
  };
}

function padReference(x, shape, pads, v) {
  const out = shape.map((d, i) => d + pads[2 * i] + pads[2 * i + 1]);
  const y = new x.constructor(out.reduce((a, b) => a * b, 1)).fill(v);
  const idx = new Array(shape.length).fill(0);
  for (let i = 0; i < x.length; i++) {
    let j = 0;
    for (let d = 0; d < shape.length; d++) j = j * out[d] + idx[d] + pads[2 * d];
    y[j] = x[i];
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
  return y;
}

const PADS = [
  // MobileNet's explicit padding of an image (H and W by one on each side).
  ['int8', [1, 12, 12, 8], [0, 0, 1, 1, 1, 1, 0, 0]],
  // Only after, only before, the channels too, the batch too, uneven amounts.
  ['int8', [1, 5, 6, 3], [0, 0, 0, 1, 0, 1, 0, 0]],
  ['int8', [1, 5, 6, 3], [0, 0, 2, 0, 3, 0, 0, 0]],
  ['int8', [2, 4, 3, 5], [1, 2, 0, 3, 2, 1, 1, 4]],
  ['int8', [7], [3, 5]],
  ['int8', [3, 4], [0, 0, 0, 0]],
  ['int16', [1, 4, 5, 3], [0, 0, 1, 2, 2, 1, 0, 1]],
  ['int32', [2, 3, 4], [1, 0, 0, 2, 3, 1]],
];

for (const backend of ['simd', 'scalar']) {
  test(`PAD and PADV2 match the reference (${backend} build)`, async (t) => {
    const r = rng(23);
    for (const [dtype, shape, pads] of PADS) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = ARRAYS[dtype].from({ length: n }, () => (r() % 201) - 100);
      for (const value of [undefined, -7, 'runtime']) {
        const m = await createModel(padGraph(dtype, shape, pads, value), { backend });
        // Twice, with other values: the second run finds the first one's output in place.
        for (let run = 0; run < 2; run++) {
          const xr = run === 0 ? x : ARRAYS[dtype].from(x, (e) => -e);
          const given = run === 0 ? 42 : -13;
          const v = value === undefined ? (dtype === 'int8' ? 5 : 0) : value === 'runtime' ? given : value;
          const [y] = m.run(value === 'runtime' ? [xr, ARRAYS[dtype].of(given)] : [xr]);
          const want = padReference(xr, shape, pads, v);
          t.deepEqual(Array.from(y), Array.from(want), `${dtype} [${shape}] paddings [${pads}] value ${value ?? 'zero point'} run ${run}`);
        }
        m.dispose();
      }
    }
  });
}
