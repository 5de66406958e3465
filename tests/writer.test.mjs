// The TFLite writer: every model Kestrel reads is written back and must read back
// identically (tensors, ops, inputs, outputs, metadata); the rewritten conformance
// models must still give TFLite Micro's reference outputs byte for byte; LiteRT.js must
// load and run a rewritten float model with the original's outputs.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readTflite } from '../dist/tflite/reader.js';
import { writeTflite, opVersion } from '../dist/tflite/writer.js';
import { loadModel } from '../dist/runtime/index.js';
import { loadLiteRtNode } from '../dist/bench/litert.js';
import { repairForLiteRt } from '../dist/bench/tflite-patch.js';
import { CONFORMANCE, FIXTURES, REFERENCE_EXTRA, ROOT, conformanceCases, firstDifference, readCase } from './helpers.mjs';

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.tflite')) out.push(p);
  }
  return out;
}

const files = [
  ...walk(CONFORMANCE),
  ...walk(REFERENCE_EXTRA),
  ...readdirSync(join(FIXTURES, 'models', 'float')).filter((f) => f.endsWith('.tflite')).map((f) => join(FIXTURES, 'models', 'float', f)),
  ...readdirSync(join(ROOT, 'assets')).filter((f) => f.endsWith('.tflite')).map((f) => join(ROOT, 'assets', f)),
];

const bytesEqual = (a, b) => (a === null || b === null ? a === b : Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0);
const f32 = (x) => Math.fround(x);

/** Compares two graphs field by field; returns the first difference or null. */
function graphDifference(a, b) {
  if (a.version !== b.version) return `version ${b.version} vs ${a.version}`;
  if (a.description !== b.description) return `description '${b.description}' vs '${a.description}'`;
  if (a.tensors.length !== b.tensors.length) return `${b.tensors.length} tensors vs ${a.tensors.length}`;
  for (let i = 0; i < a.tensors.length; i++) {
    const x = a.tensors[i], y = b.tensors[i], w = `tensor #${i} '${x.name}'`;
    if (x.index !== y.index || x.name !== y.name) return `${w}: index/name ${y.index} '${y.name}'`;
    if (x.dtype !== y.dtype) return `${w}: dtype ${y.dtype} vs ${x.dtype}`;
    if (JSON.stringify(x.shape) !== JSON.stringify(y.shape)) return `${w}: shape ${y.shape} vs ${x.shape}`;
    if (JSON.stringify(x.shapeSignature) !== JSON.stringify(y.shapeSignature)) return `${w}: shape_signature ${y.shapeSignature} vs ${x.shapeSignature}`;
    if (x.isVariable !== y.isVariable) return `${w}: is_variable`;
    if (!bytesEqual(x.data, y.data)) return `${w}: data differs`;
    if ((x.quant === null) !== (y.quant === null)) return `${w}: quantization present in one only`;
    if (x.quant) {
      if (x.quant.scale.length !== y.quant.scale.length || x.quant.scale.some((s, k) => !Object.is(f32(s), y.quant.scale[k]))) return `${w}: scales differ`;
      if (JSON.stringify(x.quant.zeroPoint) !== JSON.stringify(y.quant.zeroPoint)) return `${w}: zero points differ`;
      if (x.quant.quantizedDimension !== y.quant.quantizedDimension) return `${w}: quantized_dimension differs`;
    }
  }
  if (a.ops.length !== b.ops.length) return `${b.ops.length} ops vs ${a.ops.length}`;
  for (let i = 0; i < a.ops.length; i++) {
    const x = a.ops[i], y = b.ops[i], w = `op #${i} ${x.opcode}`;
    for (const k of ['index', 'opcode', 'customCode', 'version']) if (x[k] !== y[k]) return `${w}: ${k} ${y[k]} vs ${x[k]}`;
    for (const k of ['inputs', 'outputs', 'intermediates']) if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) return `${w}: ${k} [${y[k]}] vs [${x[k]}]`;
    const kx = Object.keys(x.options).sort(), ky = Object.keys(y.options).sort();
    if (JSON.stringify(kx) !== JSON.stringify(ky)) return `${w}: option keys ${ky} vs ${kx}`;
    for (const k of kx) {
      const u = x.options[k], v = y.options[k];
      const same = typeof u === 'number' ? Object.is(f32(u), v) : JSON.stringify(u) === JSON.stringify(v);
      if (!same) return `${w}: option ${k} ${JSON.stringify(v)} vs ${JSON.stringify(u)}`;
    }
  }
  if (JSON.stringify(a.inputs) !== JSON.stringify(b.inputs)) return `inputs [${b.inputs}] vs [${a.inputs}]`;
  if (JSON.stringify(a.outputs) !== JSON.stringify(b.outputs)) return `outputs [${b.outputs}] vs [${a.outputs}]`;
  for (const [k, v] of Object.entries(a.metadata)) {
    if (k === 'min_runtime_version') continue;
    if (!b.metadata[k] || !bytesEqual(v, b.metadata[k])) return `metadata '${k}' differs`;
  }
  for (const k of Object.keys(b.metadata)) {
    if (k !== 'min_runtime_version' && !(k in a.metadata)) return `metadata '${k}' gained`;
  }
  return null;
}

test('the model list covers every fixture model', (t) => {
  t.true(files.length >= 150 + 11 + 2 + 2, `${files.length} models`);
});

test('every fixture model reads back identically after writing', (t) => {
  for (const f of files) {
    const g = readTflite(new Uint8Array(readFileSync(f)), { source: f });
    const out = writeTflite(g);
    const g2 = readTflite(out, { source: f });
    t.is(graphDifference(g, g2), null, relative(ROOT, f));
    // Constant data starts on a 16-byte boundary of the file.
    const misaligned = g2.tensors.filter((x) => x.data && x.data.byteOffset % 16 !== 0);
    t.is(misaligned.length, 0, `${relative(ROOT, f)}: ${misaligned.length} misaligned buffers`);
    t.true(/^\d+\.\d+\.\d+$/.test(new TextDecoder().decode(g2.metadata.min_runtime_version).replace(/\0+$/, '')), relative(ROOT, f));
    t.is(g2.metadata.min_runtime_version.length, 16);
  }
});

const cases = [...conformanceCases(), ...conformanceCases(REFERENCE_EXTRA)];
test('rewritten conformance models give the reference outputs byte for byte', async (t) => {
  t.true(cases.length >= 160);
  for (const c of cases) {
    const { meta, model, inputs, outputs } = readCase(c.dir);
    const rewritten = writeTflite(readTflite(model, { source: c.dir }));
    const m = await loadModel(rewritten, { name: c.name });
    const got = m.run(inputs);
    t.is(got.length, meta.outputs.length);
    got.forEach((o, k) => {
      const diff = firstDifference(meta.outputs[k].dtype, outputs[k], o);
      t.is(diff, null, `${c.suite}/${c.name} output ${k}: ${diff}`);
    });
    m.dispose();
  }
});

/** Reads the one signature def of a written file by walking the flatbuffer directly. */
function signatureOf(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ind = (p) => p + dv.getUint32(p, true);
  const field = (pos, id) => {
    const vt = pos - dv.getInt32(pos, true);
    const o = 4 + 2 * id;
    if (o >= dv.getUint16(vt, true)) return 0;
    const f = dv.getUint16(vt + o, true);
    return f ? pos + f : 0;
  };
  const str = (p) => { const s = ind(p); return new TextDecoder().decode(bytes.subarray(s + 4, s + 4 + dv.getUint32(s, true))); };
  const tables = (p) => { const v = ind(p); return Array.from({ length: dv.getUint32(v, true) }, (_, i) => ind(v + 4 + 4 * i)); };
  const root = ind(0);
  const sigs = tables(field(root, 7));
  return sigs.map((s) => ({
    key: str(field(s, 2)),
    inputs: tables(field(s, 0)).map((m) => [str(field(m, 0)), field(m, 1) ? dv.getUint32(field(m, 1), true) : 0]),
    outputs: tables(field(s, 1)).map((m) => [str(field(m, 0)), field(m, 1) ? dv.getUint32(field(m, 1), true) : 0]),
  }));
}

/** operator_codes entries (deprecated_builtin_code, builtin_code, version) read from the raw file. */
function opcodesOf(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ind = (p) => p + dv.getUint32(p, true);
  const field = (pos, id) => {
    const vt = pos - dv.getInt32(pos, true);
    const o = 4 + 2 * id;
    if (o >= dv.getUint16(vt, true)) return 0;
    const f = dv.getUint16(vt + o, true);
    return f ? pos + f : 0;
  };
  const v = ind(field(ind(0), 1));
  return Array.from({ length: dv.getUint32(v, true) }, (_, i) => {
    const c = ind(v + 4 + 4 * i);
    const [d, b, ver] = [field(c, 0), field(c, 3), field(c, 2)];
    return { deprecated: d ? dv.getInt8(d) : 0, builtin: b ? dv.getInt32(b, true) : 0, version: ver ? dv.getInt32(ver, true) : 1 };
  });
}

test('the signature def names inputs and outputs by tensor name', (t) => {
  const f = join(FIXTURES, 'models', 'float', 'hello_world_float.tflite');
  const g = readTflite(new Uint8Array(readFileSync(f)));
  const sigs = signatureOf(writeTflite(g, { signatureKey: 'infer' }));
  t.is(sigs.length, 1);
  t.is(sigs[0].key, 'infer');
  t.deepEqual(sigs[0].inputs, g.inputs.map((i) => [g.tensors[i].name, i]));
  t.deepEqual(sigs[0].outputs, g.outputs.map((i) => [g.tensors[i].name, i]));
  t.is(signatureOf(writeTflite(g))[0].key, 'serving_default');
});

test('description and min_runtime_version options are written', (t) => {
  const g = readTflite(new Uint8Array(readFileSync(join(FIXTURES, 'models', 'float', 'hello_world_float.tflite'))));
  const g2 = readTflite(writeTflite(g, { description: 'sine model', minRuntimeVersion: '2.3.0' }));
  t.is(g2.description, 'sine model');
  t.deepEqual([...g2.metadata.min_runtime_version], [...new TextEncoder().encode('2.3.0'), ...new Array(11).fill(0)]);
});

// A float graph built by hand: x[1,3] -> FC(4, relu) -> FC(2) -> y.
function handGraph() {
  const f32bytes = (xs) => new Uint8Array(new Float32Array(xs).buffer);
  const tensor = (index, name, shape, data = null) => ({ index, name, shape, shapeSignature: null, dtype: 'float32', data, quant: null, isVariable: false });
  const w1 = [0.5, -1, 2, 1, 1, 1, -0.25, 0.75, 0, 3, -2, 1];
  const b1 = [0.1, -0.2, 0.3, 0];
  const w2 = [1, -1, 0.5, 2, -0.5, 0.25, 1, -1];
  const b2 = [0.05, -0.05];
  const tensors = [
    tensor(0, 'x', [1, 3]), tensor(1, 'w1', [4, 3], f32bytes(w1)), tensor(2, 'b1', [4], f32bytes(b1)), tensor(3, 'h', [1, 4]),
    tensor(4, 'w2', [2, 4], f32bytes(w2)), tensor(5, 'b2', [2], f32bytes(b2)), tensor(6, 'y', [1, 2]),
  ];
  const fc = (index, inputs, outputs, activation) => ({
    index, opcode: 'FULLY_CONNECTED', customCode: '', version: 1, inputs, outputs, intermediates: [],
    options: { activation, weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false, quantizedBiasType: 0 },
  });
  const graph = {
    source: 'hand-built', description: 'two dense layers', version: 3, tensors,
    ops: [fc(0, [0, 1, 2], [3], 'RELU'), fc(1, [3, 4, 5], [6], 'NONE')], inputs: [0], outputs: [6], metadata: {},
  };
  const expect = (x) => {
    const h = [0, 1, 2, 3].map((o) => Math.max(0, b1[o] + x.reduce((s, v, i) => s + v * w1[o * 3 + i], 0)));
    return [0, 1].map((o) => b2[o] + h.reduce((s, v, i) => s + v * w2[o * 4 + i], 0));
  };
  return { graph, expect };
}

test('a hand-built float graph written by Kestrel reads back identically', (t) => {
  const { graph } = handGraph();
  const back = readTflite(writeTflite(graph));
  t.is(graphDifference(graph, back), null);
  t.deepEqual(back.ops.map((o) => o.options), graph.ops.map((o) => o.options));
  t.is(new TextDecoder().decode(back.metadata.min_runtime_version).replace(/\0+$/, ''), '1.5.0');
});

test('LiteRT.js runs a hand-built float graph written by Kestrel (hand-computed outputs)', async (t) => {
  const { graph, expect } = handGraph();
  const { lib } = await loadLiteRtNode();
  const model = await lib.loadAndCompile(writeTflite(graph), { accelerator: 'wasm' });
  const x = [0.7, -1.3, 2.1];
  const outs = await model.run([new lib.Tensor(new Float32Array(x), [1, 3])]);
  const y = outs[0].toTypedArray();
  const want = expect(x);
  t.is(y.length, 2);
  want.forEach((v, i) => t.true(Math.abs(y[i] - v) <= 1e-5 * (1 + Math.abs(v)), `y[${i}] = ${y[i]}, expected ${v}`));
});

test('LiteRT.js runs the rewritten hello_world_float with the original outputs', async (t) => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'models', 'float', 'hello_world_float.tflite')));
  const rewritten = writeTflite(readTflite(bytes));
  const { lib } = await loadLiteRtNode();
  // Both files have a dynamic batch (shape_signature [-1, 1]); LiteRT.js wants it fixed,
  // so both run through the benchmark's in-memory repair (the same change to each).
  const a = await lib.loadAndCompile(repairForLiteRt(bytes).bytes, { accelerator: 'wasm' });
  const b = await lib.loadAndCompile(repairForLiteRt(rewritten).bytes, { accelerator: 'wasm' });
  t.true(repairForLiteRt(rewritten).repaired);
  for (const x of [0, 0.5, 1.5707964, 3, 6.2]) {
    const ya = (await a.run([new lib.Tensor(new Float32Array([x]), [1, 1])]))[0].toTypedArray();
    const yb = (await b.run([new lib.Tensor(new Float32Array([x]), [1, 1])]))[0].toTypedArray();
    t.deepEqual([...yb], [...ya], `x = ${x}`);
    t.true(Math.abs(ya[0] - Math.sin(x)) < 0.2, `sin(${x}) ~ ${ya[0]}`);
  }
});

test('writeTflite rejects a graph whose op refers to a missing tensor, naming the op', (t) => {
  const { graph } = handGraph();
  graph.ops[1].inputs = [3, 4, 9];
  const e = t.throws(() => writeTflite(graph));
  t.is(e.code, 'E_MODEL_INVALID');
  t.regex(e.message, /hand-built: op #1 FULLY_CONNECTED input refers to tensor 9/);
});

test('opVersion: int8 and float variants', (t) => {
  const T = (dtype, shape, scale = null) => ({ index: 0, name: '', shape, shapeSignature: null, dtype, data: null, quant: scale ? { scale, zeroPoint: scale.map(() => 0), quantizedDimension: 0 } : null, isVariable: false });
  const g = (types) => ({ tensors: types.map((x, i) => ({ ...x, index: i })) });
  const op = (opcode, inputs, outputs, options = {}) => ({ index: 0, opcode, customCode: '', version: 1, inputs, outputs, intermediates: [], options });
  const f = g([T('float32', [1, 8, 8, 4]), T('float32', [6, 3, 3, 4]), T('float32', [6]), T('float32', [1, 8, 8, 6])]);
  const q = g([T('int8', [1, 8, 8, 4], [0.1]), T('int8', [6, 3, 3, 4], [0.1, 0.2, 0.1, 0.1, 0.1, 0.1]), T('int32', [6], [0.01]), T('int8', [1, 8, 8, 6], [0.2])]);
  t.is(opVersion(op('CONV_2D', [0, 1, 2], [3]), f), 1);
  t.is(opVersion(op('CONV_2D', [0, 1, 2], [3]), q), 3);
  t.is(opVersion(op('DEPTHWISE_CONV_2D', [0, 1, 2], [3], { dilationW: 1, dilationH: 1 }), q), 3);
  t.is(opVersion(op('DEPTHWISE_CONV_2D', [0, 1, 2], [3], { dilationW: 2, dilationH: 2 }), f), 2);
  t.is(opVersion(op('FULLY_CONNECTED', [0, 1, 2], [3], { keepNumDims: false }), q), 4);
  t.is(opVersion(op('FULLY_CONNECTED', [0, 1, 2], [3], { keepNumDims: false }), f), 1);
  t.is(opVersion(op('FULLY_CONNECTED', [0, 1], [3], {}), q), 6);
  t.is(opVersion(op('FULLY_CONNECTED', [0, 1, 2], [3], { keepNumDims: true }), q), 5);
  for (const name of ['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'SOFTMAX', 'LOGISTIC', 'TANH', 'ADD', 'SUB', 'CONCATENATION', 'MEAN', 'PAD', 'RELU', 'RELU6', 'STRIDED_SLICE']) {
    t.is(opVersion(op(name, [0], [3]), q), 2, name);
    t.is(opVersion(op(name, [0], [3]), f), 1, name);
  }
  t.is(opVersion(op('RESHAPE', [0], [3]), q), 1);
  t.is(opVersion(op('QUANTIZE', [0], [1]), g([T('float32', [4]), T('int8', [4], [0.1])])), 1);
  t.is(opVersion(op('QUANTIZE', [0], [1]), g([T('float32', [4]), T('int16', [4], [0.1])])), 2);
  t.is(opVersion(op('DEQUANTIZE', [0], [1]), g([T('int16', [4], [0.1]), T('float32', [4])])), 3);
  t.is(opVersion(op('DEQUANTIZE', [0], [1]), g([T('int8', [4], [0.1]), T('float32', [4])])), 2);
  // MUL: version 3 when input1_scale * input2_scale / output_scale >= 1.
  t.is(opVersion(op('MUL', [0, 1], [2]), g([T('int8', [4], [2]), T('int8', [4], [1]), T('int8', [4], [1])])), 3);
  t.is(opVersion(op('MUL', [0, 1], [2]), g([T('int8', [4], [0.1]), T('int8', [4], [0.1]), T('int8', [4], [0.1])])), 2);
  t.is(opVersion(op('MUL', [0, 1], [2]), f), 1);
});

test('LiteRT.js gives the same outputs for published int8 models and their rewritten copies', async (t) => {
  const { lib } = await loadLiteRtNode();
  const names = ['hello_world_int8_random_0', 'micro_speech_quantized_yes_features', 'person_detect_person_image_raw'];
  for (const name of names) {
    const { meta, model, inputs } = readCase(join(CONFORMANCE, 'real', name));
    const rewritten = writeTflite(readTflite(model, { source: name }));
    const run = async (bytes) => {
      const m = await lib.loadAndCompile(repairForLiteRt(bytes).bytes, { accelerator: 'wasm' });
      const outs = await m.run(inputs.map((x, i) => new lib.Tensor(x, meta.inputs[i].shape)));
      return outs.map((o) => [...o.toTypedArray()]);
    };
    t.deepEqual(await run(rewritten), await run(model), name);
  }
});

test('an operator with a builtin code above 127 (GELU) is written with both codes and runs in LiteRT.js', async (t) => {
  const tensor = (index, name) => ({ index, name, shape: [1, 5], shapeSignature: null, dtype: 'float32', data: null, quant: null, isVariable: false });
  const graph = {
    source: 'gelu', description: '', version: 3, tensors: [tensor(0, 'x'), tensor(1, 'y')],
    ops: [{ index: 0, opcode: 'GELU', customCode: '', version: 1, inputs: [0], outputs: [1], intermediates: [], options: {} }],
    inputs: [0], outputs: [1], metadata: {},
  };
  const bytes = writeTflite(graph);
  const back = readTflite(bytes);
  t.is(back.ops[0].opcode, 'GELU');
  t.deepEqual(opcodesOf(bytes), [{ deprecated: 127, builtin: 150, version: 1 }]);
  t.is(new TextDecoder().decode(back.metadata.min_runtime_version).replace(/\0+$/, ''), '2.9.0');
  const { lib } = await loadLiteRtNode();
  const m = await lib.loadAndCompile(bytes, { accelerator: 'wasm' });
  const x = [-2, -0.5, 0, 0.7, 3];
  const y = (await m.run([new lib.Tensor(new Float32Array(x), [1, 5])]))[0].toTypedArray();
  // GELU(x) = x * Phi(x); erf from Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7).
  const erf = (z) => {
    const s = Math.sign(z), a = Math.abs(z), u = 1 / (1 + 0.3275911 * a);
    return s * (1 - ((((1.061405429 * u - 1.453152027) * u + 1.421413741) * u - 0.284496736) * u + 0.254829592) * u * Math.exp(-a * a));
  };
  x.forEach((v, i) => t.true(Math.abs(y[i] - 0.5 * v * (1 + erf(v / Math.SQRT2))) < 1e-4, `gelu(${v}) = ${y[i]}`));
});
