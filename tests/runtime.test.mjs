// The runtime API: loading, validation of inputs, outputs, memory plan, real models.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, readTflite, KestrelError, summarize, supportedOps, hasSimd } from '../dist/runtime/index.js';
import { CONFORMANCE, REFERENCE_EXTRA, ROOT, conformanceCases, patchOpcodes, readCase, typed } from './helpers.mjs';

const real = (name) => join(CONFORMANCE, 'real', name);

test('wasm SIMD is available on this engine (the SIMD build is exercised)', (t) => {
  t.true(hasSimd());
});

test('loadModel accepts a path, a file URL, bytes and an ArrayBuffer', async (t) => {
  const path = join(real('hello_world_int8_random_0'), 'model.tflite');
  const bytes = new Uint8Array(readFileSync(path));
  for (const src of [path, new URL(`file://${path}`), bytes, bytes.slice().buffer]) {
    const m = await loadModel(src);
    t.deepEqual(m.inputs.map((i) => [i.dtype, i.shape]), [['int8', [1, 1]]]);
    m.dispose();
  }
});

test('inputs and outputs describe name, shape, dtype, scale and zero point', async (t) => {
  const m = await loadModel(join(ROOT, 'assets', 'person_detect.tflite'));
  t.is(m.inputs.length, 1);
  t.deepEqual(m.inputs[0].shape, [1, 96, 96, 1]);
  t.is(m.inputs[0].dtype, 'int8');
  t.true(m.inputs[0].scale > 0);
  t.is(typeof m.inputs[0].zeroPoint, 'number');
  t.deepEqual(m.outputs[0].shape, [1, 2]);
});

test('person_detect ranks person above no-person on person.bmp and the reverse on no_person.bmp', async (t) => {
  for (const backend of ['simd', 'scalar']) {
    const m = await loadModel(join(ROOT, 'assets', 'person_detect.tflite'), { backend });
    const img = (f) => typed('int8', readFileSync(join(ROOT, 'assets', f)));
    const [person] = m.run([img('person.gray')]);
    const [noPerson] = m.run([img('no_person.gray')]);
    // Output index 1 = person score, 0 = no-person score.
    t.true(person[1] > person[0], `${backend}: person image scores ${Array.from(person)}`);
    t.true(noPerson[0] > noPerson[1], `${backend}: no-person image scores ${Array.from(noPerson)}`);
  }
});

test('run() checks input count, dtype and byte length with clear errors', async (t) => {
  const m = await loadModel(join(real('hello_world_int8_random_0'), 'model.tflite'));
  const e1 = t.throws(() => m.run([]), { instanceOf: KestrelError });
  t.is(e1.code, 'E_INPUT_COUNT');
  const e2 = t.throws(() => m.run([new Float32Array(1)]), { instanceOf: KestrelError });
  t.is(e2.code, 'E_INPUT_DTYPE');
  t.regex(e2.message, /Int8Array/);
  const e3 = t.throws(() => m.run([new Int8Array(2)]), { instanceOf: KestrelError });
  t.is(e3.code, 'E_INPUT_SHAPE');
  const e4 = t.throws(() => m.run({ nope: new Int8Array(1) }), { instanceOf: KestrelError });
  t.is(e4.code, 'E_INPUT_MISSING');
  const name = m.inputs[0].name;
  t.is(m.run({ [name]: new Int8Array(1) }).length, 1);
  m.dispose();
  t.is(t.throws(() => m.run([new Int8Array(1)]), { instanceOf: KestrelError }).code, 'E_DISPOSED');
});

test('run() returns fresh arrays; repeated runs give identical results', async (t) => {
  const c = readCase(real('micro_speech_quantized_yes_features'));
  const m = await loadModel(c.model);
  const a = m.run(c.inputs)[0];
  const b = m.run(c.inputs)[0];
  t.not(a, b);
  t.deepEqual(Array.from(a), Array.from(b));
  t.deepEqual(Buffer.from(a.buffer), Buffer.from(c.outputs[0]));
});

test('quantize and dequantize helpers follow the tensor parameters', async (t) => {
  const m = await loadModel(join(real('hello_world_int8_random_0'), 'model.tflite'));
  const { scale, zeroPoint } = m.inputs[0];
  const q = m.quantizeInput(0, [1.0]);
  t.true(q instanceof Int8Array);
  t.is(q[0], Math.max(-128, Math.min(127, Math.round(1.0 / scale) + zeroPoint)));
  const out = m.run([q])[0];
  const y = m.dequantizeOutput(0, out)[0];
  t.true(Math.abs(y - Math.sin(1.0)) < 0.1, `sin(1) ≈ ${y}`);
});

test('the planned arena is no larger than TFLite Micro\'s for the real models', async (t) => {
  const dirs = ['hello_world_int8_random_0', 'person_detect_random_0', 'micro_speech_quantized_random_0'].map(real)
    .concat(conformanceCases(REFERENCE_EXTRA).map((c) => c.dir));
  for (const dir of dirs) {
    const name = dir.split('/').pop();
    const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
    const m = await loadModel(join(dir, 'model.tflite'));
    const s = summarize(m);
    t.true(s.arenaBytes <= meta.arena_bytes, `${name}: arena ${s.arenaBytes} > TFLM ${meta.arena_bytes}`);
    t.true(s.macs > 0);
  }
});

test('the supported-op list covers the issue\'s operator set', (t) => {
  const need = ['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'AVERAGE_POOL_2D', 'MAX_POOL_2D', 'ADD', 'SUB', 'MUL',
    'SOFTMAX', 'LOGISTIC', 'TANH', 'RELU', 'RELU6', 'LEAKY_RELU', 'HARD_SWISH', 'RESHAPE', 'CONCATENATION', 'PAD', 'MEAN',
    'QUANTIZE', 'DEQUANTIZE', 'TRANSPOSE', 'STRIDED_SLICE', 'MAXIMUM', 'MINIMUM', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'TRANSPOSE_CONV'];
  const have = new Set(supportedOps());
  t.deepEqual(need.filter((n) => !have.has(n)), []);
});

test('LSTM state persists across runs and resetState() restores it', async (t) => {
  const c = readCase(join(CONFORMANCE, 'ops', 'lstm_00_b1_t8_i12_h16'));
  const m = await loadModel(c.model);
  const first = m.run(c.inputs)[0];
  t.deepEqual(Buffer.from(first.buffer), Buffer.from(c.outputs[0]));
  const second = m.run(c.inputs)[0];
  t.notDeepEqual(Array.from(second), Array.from(first), 'the second run starts from the state the first left');
  m.resetState();
  t.deepEqual(Buffer.from(m.run(c.inputs)[0].buffer), Buffer.from(c.outputs[0]));
});

test('a model with several unsupported operators is reported in one error with counts', async (t) => {
  // Turn every operator code of person_detect into builtin codes Kestrel does not run.
  const bytes = new Uint8Array(readFileSync(join(ROOT, 'assets', 'person_detect.tflite')));
  const g = readTflite(bytes);
  const names = new Set(g.ops.map((o) => o.opcode));
  const patched = patchOpcodes(bytes, { CONV_2D: 8 /* FLOOR */, DEPTHWISE_CONV_2D: 104 /* CEIL */ });
  const e = await t.throwsAsync(loadModel(patched), { instanceOf: KestrelError });
  t.is(e.code, 'E_UNSUPPORTED_OP');
  t.regex(e.message, /FLOOR ×14/);
  t.regex(e.message, /CEIL ×14/);
  t.true(names.has('CONV_2D'));
});

test('the Node example classifies both bundled frames through the package entry point', async (t) => {
  const { execFile } = await import('node:child_process');
  const run = (arg) => new Promise((resolve) => execFile(process.execPath, [join(ROOT, 'targets', 'node', 'classify.mjs'), arg], (e, stdout) => resolve(stdout)));
  t.regex(await run(join(ROOT, 'assets', 'person.gray')), /^person \(/);
  t.regex(await run(join(ROOT, 'assets', 'no_person.gray')), /^no person \(/);
});

test('a disposed model\'s kernel instance serves the next model, zeroed: the same outputs as a fresh one', async (t) => {
  // Two different models in turn, each run on inputs that leave the arena full of values.
  const cases = conformanceCases().filter((c) => c.name.startsWith('person_detect') || c.name.startsWith('micro_speech'));
  t.true(cases.length >= 2);
  const fresh = [];
  for (const c of cases) {
    const { model, inputs } = readCase(c.dir);
    const m = await loadModel(model, { backend: 'simd' });
    fresh.push(m.run(inputs));
    // Not disposed: the next load gets a fresh instance.
  }
  let prevMemory = null;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < cases.length; i++) {
      const { model, inputs } = readCase(cases[i].dir);
      const m = await loadModel(model, { backend: 'simd' });
      const mem = m['kernels'].memory;
      if (prevMemory) t.is(mem, prevMemory, 'the disposed model\'s instance is used again');
      // Junk in every input first, so what the arena held differs from a clean run.
      m.run(inputs.map((x) => x.map((_, j) => (j * 37) % 100)));
      const got = m.run(inputs);
      got.forEach((o, k) => t.deepEqual(Buffer.from(o.buffer), Buffer.from(fresh[i][k].buffer), `${cases[i].name} output ${k}`));
      prevMemory = mem;
      m.dispose();
    }
  }
});

test('packed weights are written straight into memory at load: the deferred image entries hold the same bytes as imageBytes gives tools', async (t) => {
  const { imageBytes } = await import('../dist/runtime/plan.js');
  const m = await loadModel(join(ROOT, 'assets', 'person_detect.tflite'), { backend: 'simd' });
  const deferred = m.plan.image.filter((e) => !('bytes' in e));
  t.true(deferred.length > 0, 'the GEMM convolutions pack their weights in place');
  const mem = new Uint8Array(m.kernels.memory.buffer);
  for (const e of deferred) {
    const bytes = imageBytes(e);
    t.is(bytes.length, e.deferred.size);
    t.deepEqual(mem.subarray(e.offset, e.offset + bytes.length), bytes);
    // Some weight of the packed filter is not zero (the blob did write).
    t.true(bytes.some((b) => b !== 0));
  }
  m.dispose();
});

test('ops out of execution order, or writing a constant or a graph input, are refused naming the op and the tensor', async (t) => {
  const { createModel } = await import('../dist/runtime/index.js');
  const bytes = new Uint8Array(readFileSync(join(real('hello_world_int8_random_0'), 'model.tflite')));
  const base = () => readTflite(bytes, { source: 'hw.tflite' });
  // The first two ops swapped: the second op's input is not written yet.
  const swapped = base();
  t.true(swapped.ops.length >= 2);
  [swapped.ops[0], swapped.ops[1]] = [swapped.ops[1], swapped.ops[0]];
  const e1 = await t.throwsAsync(() => createModel(swapped), { instanceOf: KestrelError });
  t.is(e1.code, 'E_MODEL_INVALID');
  t.regex(e1.message, /^hw\.tflite: op #\d+ FULLY_CONNECTED reads tensor #\d+ '[^']*' before any op writes it$/);
  // The first op's output replaced by one of its constant inputs.
  const constant = base();
  const weights = constant.ops[0].inputs.find((i) => i >= 0 && constant.tensors[i].data);
  constant.ops[0].outputs = [weights];
  const e2 = await t.throwsAsync(() => createModel(constant), { instanceOf: KestrelError });
  t.regex(e2.message, new RegExp(`^hw\\.tflite: op #0 FULLY_CONNECTED writes constant tensor #${weights} `));
  // The first op writing the graph input.
  const input = base();
  input.ops[0].outputs = [input.inputs[0]];
  const e3 = await t.throwsAsync(() => createModel(input), { instanceOf: KestrelError });
  t.regex(e3.message, /^hw\.tflite: op #0 FULLY_CONNECTED writes graph input tensor #\d+ /);
});
