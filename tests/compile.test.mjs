// kestrel compile: the module's interface, the C header, the command line, compile-time
// refusals, the compressed memory image. Bit-exactness over all conformance cases is in
// compiled-conformance-*.test.mjs and, on SpiderMonkey and JavaScriptCore, engines.test.mjs.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../dist/compile/index.js';
import { lzCompress, lzDecompress, inPlaceMargin } from '../dist/compile/lz.js';
import { KestrelError, loadAnyModel, loadCompiled, loadModel } from '../dist/runtime/index.js';
import { CONFORMANCE, FIXTURES, ROOT, patchOpcodes, readCase, kestrel } from './helpers.mjs';

const tmp = () => mkdtempSync(join(tmpdir(), 'kestrel-compile-'));
const micro = join(CONFORMANCE, 'real', 'micro_speech_quantized_yes_features');
const person = join(CONFORMANCE, 'real', 'person_detect_person_image_raw');

test('a compiled module instantiates with no imports and describes its tensors through exports', async (t) => {
  const c = readCase(person);
  const r = await compileModel(c.model, { name: 'person_detect' });
  const mod = await WebAssembly.compile(r.wasm);
  t.deepEqual(WebAssembly.Module.imports(mod), []);
  const { instance } = await WebAssembly.instantiate(r.wasm, {});
  const x = instance.exports;
  t.true(x.memory instanceof WebAssembly.Memory);
  t.is(x.memory.buffer.byteLength, r.pages * 65536);
  t.is(x.abi_version(), 1);
  t.is(x.simd(), 1);
  t.is(x.input_count(), 1);
  t.is(x.output_count(), 1);
  const interp = await loadModel(c.model, { backend: 'simd' });
  const [tin] = interp.inputs, [tout] = interp.outputs;
  t.is(x.input_bytes(0), tin.bytes);
  t.is(x.input_type(0), 9);
  t.is(x.input_rank(0), 4);
  t.deepEqual([0, 1, 2, 3].map((i) => x.input_dim(0, i)), tin.shape);
  t.is(x.input_dim(0, 4), -1);
  t.is(x.input_scale(0), Math.fround(tin.scale));
  t.is(x.input_zero_point(0), tin.zeroPoint);
  t.is(x.output_zero_point(0), tout.zeroPoint);
  const nameAt = x.input_name(0);
  const bytes = new Uint8Array(x.memory.buffer, nameAt, 256);
  t.is(new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0))), tin.name);
  t.is(x.input_ptr(1), 0);
  t.is(x.output_bytes(5), 0);
  t.is(x.input_type(-1), -1);
  // Run through the raw exports.
  new Int8Array(x.memory.buffer, x.input_ptr(0), tin.bytes).set(c.inputs[0]);
  t.is(x.invoke(), 0);
  t.deepEqual(Buffer.from(new Uint8Array(x.memory.buffer, x.output_ptr(0), x.output_bytes(0))), c.outputs[0]);
  t.is(x.arena_bytes(), interp.arenaBytes);
});

test('only the kernels the model uses are linked: a compiled module has less code than the generic kernel module', async (t) => {
  const generic = readFileSync(join(ROOT, 'dist', 'wasm', 'kestrel-simd.wasm')).length;
  const r = await compileModel(readCase(micro).model);
  t.deepEqual(r.meta.kernels, [111, 201, 409, 501]);
  t.true(r.codeBytes < generic / 2, `code ${r.codeBytes} vs generic ${generic}`);
});

test('compiled person_detect and micro_speech are smaller than the model file plus the generic kernel module', async (t) => {
  const generic = readFileSync(join(ROOT, 'dist', 'wasm', 'kestrel-simd.wasm')).length;
  for (const name of ['person_detect', 'micro_speech']) {
    const model = readFileSync(join(ROOT, 'assets', `${name}.tflite`));
    const r = await compileModel(new Uint8Array(model));
    t.true(r.wasm.length < model.length + generic, `${name}: ${r.wasm.length} >= ${model.length} + ${generic}`);
  }
});

test('state: reset() restores the initial state of a compiled LSTM model', async (t) => {
  const c = readCase(join(CONFORMANCE, 'ops', 'lstm_00_b1_t8_i12_h16'));
  const m = await loadCompiled((await compileModel(c.model)).wasm);
  const first = m.run(c.inputs)[0];
  t.deepEqual(Buffer.from(first.buffer), c.outputs[0]);
  t.notDeepEqual(Array.from(m.run(c.inputs)[0]), Array.from(first));
  m.resetState();
  t.deepEqual(Buffer.from(m.run(c.inputs)[0].buffer), c.outputs[0]);
});

test('the loader checks inputs like Model.run and refuses what is not a compiled model', async (t) => {
  const c = readCase(micro);
  const m = await loadCompiled((await compileModel(c.model)).wasm, { name: 'micro' });
  t.is(t.throws(() => m.run([new Int8Array(3)]), { instanceOf: KestrelError }).code, 'E_INPUT_SHAPE');
  t.is(t.throws(() => m.run([new Uint8Array(1960)]), { instanceOf: KestrelError }).code, 'E_INPUT_DTYPE');
  t.is(t.throws(() => m.run([]), { instanceOf: KestrelError }).code, 'E_INPUT_COUNT');
  t.deepEqual(Buffer.from(m.run({ [m.inputs[0].name]: c.inputs[0] })[0].buffer), c.outputs[0]);
  m.dispose();
  t.is(t.throws(() => m.run(c.inputs), { instanceOf: KestrelError }).code, 'E_DISPOSED');
  const e = await t.throwsAsync(loadCompiled(c.model), { instanceOf: KestrelError });
  t.is(e.code, 'E_NOT_COMPILED');
  const generic = readFileSync(join(ROOT, 'dist', 'wasm', 'kestrel-scalar.wasm'));
  t.is((await t.throwsAsync(loadCompiled(generic), { instanceOf: KestrelError })).code, 'E_NOT_COMPILED');
  // loadAnyModel tells the two apart.
  const any1 = await loadAnyModel(c.model), any2 = await loadAnyModel((await compileModel(c.model)).wasm);
  t.deepEqual(any1.outputs, any2.outputs);
  t.deepEqual(Buffer.from(any2.run(c.inputs)[0].buffer), c.outputs[0]);
});

test('the memory image round-trips through the compressor, also decoded in place', (t) => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  const samples = [new Uint8Array(0), new Uint8Array(5), new Uint8Array(70000), Uint8Array.from({ length: 5000 }, rnd),
    Uint8Array.from({ length: 300000 }, (_, i) => (i % 97 < 40 ? 0 : rnd() & 3)), readFileSync(join(ROOT, 'assets', 'person_detect.tflite'))];
  for (const s of samples) {
    const z = lzCompress(s);
    t.deepEqual(lzDecompress(z, s.length), new Uint8Array(s));
    // Simulate the module's in-place decode: compressed bytes end `margin` after the output.
    const margin = inPlaceMargin(z, s.length);
    const mem = new Uint8Array(s.length + margin + 16);
    const src = s.length + margin - z.length;
    if (src < 0) continue;
    mem.set(z, src);
    let i = src, o = 0;
    const end = src + z.length;
    for (;;) {
      const token = mem[i++];
      let lit = token >> 4;
      if (lit === 15) { let b; do { b = mem[i++]; lit += b; } while (b === 255); }
      mem.copyWithin(o, i, i + lit); i += lit; o += lit;
      if (i >= end) break;
      const off = mem[i] | (mem[i + 1] << 8); i += 2;
      let ml = token & 15;
      if (ml === 15) { let b; do { b = mem[i++]; ml += b; } while (b === 255); }
      ml += 4;
      t.true(o + ml <= i, 'write overtakes read');
      for (let k = 0; k < ml; k++, o++) mem[o] = mem[o - off];
    }
    t.deepEqual(mem.subarray(0, s.length), new Uint8Array(s));
  }
});

test('kestrel compile writes the module and a C header; kestrel run runs the module', async (t) => {
  const dir = tmp();
  const wasm = join(dir, 'micro_speech.wasm'), h = join(dir, 'micro_speech.h');
  const r = await kestrel('compile', join(micro, 'model.tflite'), '--out', wasm, '--header', h, '--name', 'micro_speech');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /micro_speech\.wasm: \d+ bytes \(simd; code \d+/);
  const hdr = readFileSync(h, 'utf8');
  const m = await loadCompiled(wasm);
  const { instance } = await WebAssembly.instantiate(readFileSync(wasm), {});
  t.regex(hdr, /#define MICRO_SPEECH_ABI_VERSION 1/);
  t.regex(hdr, /#define MICRO_SPEECH_INPUT_COUNT 1/);
  t.regex(hdr, /#define MICRO_SPEECH_INPUT0_SHAPE \{ 1, 1960 \}/);
  t.regex(hdr, /#define MICRO_SPEECH_INPUT0_DTYPE KESTREL_DTYPE_INT8/);
  t.regex(hdr, new RegExp(`#define MICRO_SPEECH_INPUT0_ZERO_POINT ${m.inputs[0].zeroPoint}\\b`));
  t.regex(hdr, new RegExp(`#define MICRO_SPEECH_INPUT0_OFFSET ${instance.exports.input_ptr(0)}\\b`));
  t.regex(hdr, new RegExp(`#define MICRO_SPEECH_OUTPUT0_OFFSET ${instance.exports.output_ptr(0)}\\b`));
  t.regex(hdr, /#define MICRO_SPEECH_OUTPUT0_BYTES 4\b/);
  t.regex(hdr, new RegExp(`#define MICRO_SPEECH_WASM_BYTES ${readFileSync(wasm).length}\\b`));
  const scale = Number(/#define MICRO_SPEECH_OUTPUT0_SCALE ([0-9.e+-]+)f/.exec(hdr)[1]);
  t.is(Math.fround(scale), Math.fround(m.outputs[0].scale));
  t.regex(hdr, /static const kestrel_tensor_info micro_speech_inputs\[1\]/);
  const out = join(dir, 'out');
  const run = await kestrel('run', wasm, '--input', join(micro, 'input_0.bin'), '--out', out);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(readFileSync(join(out, 'output_0.bin')), readFileSync(join(micro, 'output_0.bin')));
  // Refuses to overwrite.
  const again = await kestrel('compile', join(micro, 'model.tflite'), '--out', wasm);
  t.is(again.code, 1);
  t.regex(again.stderr, /already exists \(use --force/);
});

test('kestrel compile --scalar builds a module without SIMD', async (t) => {
  const dir = tmp();
  const wasm = join(dir, 'm.wasm');
  const r = await kestrel('compile', join(micro, 'model.tflite'), '--out', wasm, '--scalar', '--json');
  t.is(r.code, 0, r.stderr);
  t.is(JSON.parse(r.stdout).backend, 'scalar');
  const m = await loadCompiled(wasm);
  t.is(m.backend, 'scalar');
});

const oneLine = (t, r, code) => {
  t.is(r.code, 1);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, new RegExp(`^kestrel compile: .*\\[${code}\\]\\n?$`));
};

test('an unsupported op fails at compile time with one line', async (t) => {
  const dir = tmp();
  const bad = join(dir, 'bad.tflite');
  writeFileSync(bad, patchOpcodes(new Uint8Array(readFileSync(join(ROOT, 'assets', 'person_detect.tflite'))), { CONV_2D: 8, DEPTHWISE_CONV_2D: 104 }));
  const r = await kestrel('compile', bad, '--out', join(dir, 'x.wasm'));
  oneLine(t, r, 'E_UNSUPPORTED_OP');
  t.regex(r.stderr, /CEIL ×14/);
  t.regex(r.stderr, /FLOOR ×14/);
});

test('a float model fails at compile time with one line', async (t) => {
  const dir = tmp();
  const r = await kestrel('compile', join(FIXTURES, 'models', 'float', 'hello_world_float.tflite'), '--out', join(dir, 'x.wasm'));
  oneLine(t, r, 'E_MODEL_UNSUPPORTED');
  t.regex(r.stderr, /float model/);
});

test('a model over the --max-memory budget fails at compile time with one line', async (t) => {
  const dir = tmp();
  const r = await kestrel('compile', join(ROOT, 'assets', 'person_detect.tflite'), '--out', join(dir, 'x.wasm'), '--max-memory', '256K');
  oneLine(t, r, 'E_MEMORY_LIMIT');
  t.regex(r.stderr, /arena \d+.*over the budget of 262144/);
  const ok = await kestrel('compile', join(ROOT, 'assets', 'person_detect.tflite'), '--out', join(dir, 'y.wasm'), '--max-memory', '1M');
  t.is(ok.code, 0, ok.stderr);
  const bad = await kestrel('compile', join(ROOT, 'assets', 'person_detect.tflite'), '--out', join(dir, 'z.wasm'), '--max-memory', 'lots');
  t.is(bad.code, 2);
});

test('kestrel compile without --out is a usage error', async (t) => {
  const r = await kestrel('compile', join(micro, 'model.tflite'));
  t.is(r.code, 2);
  t.regex(r.stderr, /missing --out/);
});
