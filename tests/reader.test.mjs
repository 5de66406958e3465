// The TFLite reader rejects malformed files with a KestrelError naming the problem.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTflite, loadModel, KestrelError } from '../dist/runtime/index.js';
import { CONFORMANCE, ROOT } from './helpers.mjs';

const person = new Uint8Array(readFileSync(join(ROOT, 'assets', 'person_detect.tflite')));
const hello = new Uint8Array(readFileSync(join(CONFORMANCE, 'real', 'hello_world_int8_random_0', 'model.tflite')));

test('reads the real models: ops, tensors, quantization and quirks', (t) => {
  const g = readTflite(person, { source: 'person_detect.tflite' });
  t.is(g.ops.length, 31);
  const counts = {};
  for (const op of g.ops) counts[op.opcode] = (counts[op.opcode] ?? 0) + 1;
  t.deepEqual(counts, { CONV_2D: 14, DEPTHWISE_CONV_2D: 14, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 });
  // Rank-1 per-channel biases declare quantized_dimension 3; the reader maps them to axis 0.
  const bias = g.tensors.find((x) => x.dtype === 'int32' && x.shape.length === 1 && x.quant && x.quant.scale.length > 1);
  t.truthy(bias);
  t.is(bias.quant.quantizedDimension, 0);
  t.is(bias.quant.scale.length, bias.shape[0]);
  const conv = g.ops.find((o) => o.opcode === 'CONV_2D');
  t.true(['SAME', 'VALID'].includes(conv.options.padding));
  t.true(conv.options.strideW >= 1);
  // hello_world declares a dynamic batch in shape_signature but a static shape.
  const h = readTflite(hello);
  const input = h.tensors[h.inputs[0]];
  t.deepEqual(input.shape, [1, 1]);
  t.deepEqual(input.shapeSignature, [-1, 1]);
});

const expectError = (t, bytes, code, pattern) => {
  const e = t.throws(() => readTflite(bytes, { source: 'm.tflite' }), { instanceOf: KestrelError });
  t.is(e.code, code, e.message);
  if (pattern) t.regex(e.message, pattern);
  t.regex(e.message, /^m\.tflite: /);
};

test('empty and tiny files', (t) => {
  expectError(t, new Uint8Array(0), 'E_MODEL_TRUNCATED', /too small/);
  expectError(t, new Uint8Array(7), 'E_MODEL_TRUNCATED');
});

test('a file that is not TFLite names the identifier it found', (t) => {
  const b = person.slice();
  b.set([0x50, 0x4b, 0x03, 0x04], 4);
  expectError(t, b, 'E_MODEL_INVALID', /identifier is 'PK/);
});

test('truncated models fail cleanly', (t) => {
  // Every cut that removes data the model refers to is an error; a cut of trailing
  // padding may still read, which is fine.
  for (let len = 0; len < hello.length; len += 7) {
    try {
      readTflite(hello.subarray(0, len), { source: 'm.tflite' });
      t.true(len > hello.length - 64, `length ${len} of ${hello.length} read without error`);
    } catch (e) {
      t.true(e instanceof KestrelError, `length ${len}: ${e}`);
    }
  }
});

test('a tensor whose buffer does not match its shape is rejected', (t) => {
  // Find the data length field of the largest buffer and shrink it.
  const b = person.slice();
  const dv = new DataView(b.buffer);
  const g = readTflite(person);
  const big = g.tensors.filter((x) => x.data).sort((a, c) => c.data.length - a.data.length)[0];
  const pos = big.data.byteOffset - 4;
  t.is(dv.getUint32(pos, true), big.data.length);
  dv.setUint32(pos, big.data.length - 1, true);
  expectError(t, b, 'E_BUFFER_INVALID', new RegExp(`tensor #${big.index} '`));
});

test('a huge vector length is caught before any read', (t) => {
  const b = person.slice();
  const g = readTflite(person);
  const big = g.tensors.filter((x) => x.data).sort((a, c) => c.data.length - a.data.length)[0];
  new DataView(b.buffer).setUint32(big.data.byteOffset - 4, 0x7fffffff, true);
  expectError(t, b, 'E_MODEL_TRUNCATED');
});

test('loadModel reports a missing file with E_IO naming the path', async (t) => {
  const e = await t.throwsAsync(loadModel('/nonexistent/model.tflite'), { instanceOf: KestrelError });
  t.is(e.code, 'E_IO');
  t.regex(e.message, /\/nonexistent\/model\.tflite/);
});

test('int64 zero points: int32 values (negative too) are read exactly, larger ones refused', async (t) => {
  const { writeTflite } = await import('../dist/tflite/writer.js');
  const src = readTflite(new Uint8Array(readFileSync(join(CONFORMANCE, 'real', 'person_detect_random_0', 'model.tflite'))));
  const pick = src.tensors.find((x) => x.quant && x.quant.zeroPoint.length === 1 && !x.data);
  const variant = (zp) => {
    const tensors = src.tensors.map((x) => (x === pick ? { ...x, quant: { ...x.quant, zeroPoint: [zp] } } : x));
    return writeTflite({ ...src, tensors });
  };
  for (const zp of [-128, -1, 0, 127, 2147483647, -2147483648]) {
    t.is(readTflite(variant(zp)).tensors[pick.index].quant.zeroPoint[0], zp, `zero point ${zp}`);
  }
  for (const zp of [2147483648, -2147483649, 2 ** 40]) {
    const e = t.throws(() => readTflite(variant(zp), { source: 'zp.tflite' }), { instanceOf: KestrelError });
    t.is(e.code, 'E_QUANT_INVALID');
    t.true(e.message.includes(`out-of-range zero point ${zp}`), e.message);
  }
});

test('a scale that is negative, infinite or NaN is rejected naming the tensor and the value', (t) => {
  const g = readTflite(person);
  // A per-channel scale vector: its length word, then the float32 scales.
  const tensor = g.tensors.find((x) => x.quant && x.quant.scale.length > 4);
  const n = tensor.quant.scale.length;
  const f = new Float32Array(tensor.quant.scale);
  const pattern = new Uint8Array(4 + 4 * n);
  new DataView(pattern.buffer).setUint32(0, n, true);
  pattern.set(new Uint8Array(f.buffer), 4);
  let at = -1;
  for (let i = 0; i + pattern.length <= person.length && at < 0; i += 4) {
    let same = true;
    for (let j = 0; j < pattern.length && same; j++) same = person[i + j] === pattern[j];
    if (same) at = i;
  }
  t.true(at >= 0, 'found the scale vector in the file');
  for (const [value, shown] of [[-0.5, '-0.5'], [Infinity, 'Infinity'], [NaN, 'NaN']]) {
    const bytes = person.slice();
    // The third scale of the vector.
    new DataView(bytes.buffer).setFloat32(at + 4 + 8, value, true);
    const e = t.throws(() => readTflite(bytes, { source: 'p.tflite' }), { instanceOf: KestrelError });
    t.is(e.code, 'E_QUANT_INVALID');
    t.true(e.message.includes(`p.tflite: tensor #${tensor.index} '${tensor.name}' has invalid scale ${shown}`), e.message);
  }
});
