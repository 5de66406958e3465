#!/usr/bin/env node
// A focused check of the runtime entry point on one engine, without the test runner: for
// boards and emulated CPUs (ARM64 Node under qemu, a Jetson), where the full test suite is
// too slow or its development dependencies are not installed.
//
//   node scripts/runtime-check.mjs [--compiled DIR] [--require-simd]
//       loading (path, file URL, bytes, ArrayBuffer), the real models against TensorFlow Lite
//       Micro's outputs on both builds, LSTM state, input and model errors, the CommonJS
//       entry, and, with --compiled, modules written by --write-compiled on another machine.
//       --require-simd fails when the engine has no wasm SIMD.
//   node scripts/runtime-check.mjs --write-compiled DIR
//       compiles the COMPILED cases below into DIR (needs the AssemblyScript compiler; run it
//       where the project is built; the modules are portable).
//
// Prints one line per check and a summary; exits 1 when any check fails.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KestrelError, hasSimd, loadAnyModel, loadCompiled, loadModel } from '../dist/runtime/index.js';
import { CONFORMANCE, REFERENCE_EXTRA, ROOT, firstDifference, patchOpcodes, readCase } from '../tests/helpers.mjs';

const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

/** Cases compiled ahead of time by --write-compiled and run by --compiled. */
const COMPILED = [
  { dir: join(CONFORMANCE, 'real', 'person_detect_person_image_raw'), backend: 'simd' },
  { dir: join(CONFORMANCE, 'real', 'person_detect_no_person_image_raw'), backend: 'scalar' },
  { dir: join(CONFORMANCE, 'real', 'micro_speech_quantized_yes_features'), backend: 'simd' },
  { dir: join(REFERENCE_EXTRA, 'real', 'trained_lstm_int8_range0'), backend: 'simd' },
];
const compiledFile = (c) => `${c.dir.split('/').pop()}.${c.backend}.wasm`;

if (opt('--write-compiled')) {
  const out = opt('--write-compiled');
  const { compileModel } = await import('../dist/compile/index.js');
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  for (const c of COMPILED) {
    const r = await compileModel(readCase(c.dir).model, { name: c.dir.split('/').pop(), scalar: c.backend === 'scalar' });
    writeFileSync(join(out, compiledFile(c)), r.wasm);
  }
  console.log(`${COMPILED.length} compiled modules written to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(0);
}

const real = (name) => join(CONFORMANCE, 'real', name);
const BACKENDS = hasSimd() ? ['simd', 'scalar'] : ['scalar'];
const results = [];

async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** Runs a case on `model` and throws on the first output that differs from the reference. */
function expectCase(model, c, label) {
  const got = model.run(c.inputs);
  assert(got.length === c.outputs.length, `${label}: ${got.length} outputs, expected ${c.outputs.length}`);
  got.forEach((o, k) => {
    const d = firstDifference(c.meta.outputs[k].dtype, c.outputs[k], o);
    assert(!d, `${label} output ${k}: ${d}`);
  });
  return got;
}

function expectError(fn, code) {
  try {
    fn();
  } catch (e) {
    assert(e instanceof KestrelError, `expected KestrelError ${code}, got ${e}`);
    assert(e.code === code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

async function expectRejection(promise, code) {
  try {
    await promise;
  } catch (e) {
    assert(e instanceof KestrelError && e.code === code, `expected ${code}, got ${e?.code ?? e}: ${e?.message}`);
    return e;
  }
  throw new Error(`expected ${code}, the promise resolved`);
}

await check(`backend 'auto' picks ${hasSimd() ? 'the SIMD' : 'the scalar'} build`, async () => {
  if (args.includes('--require-simd')) assert(hasSimd(), 'this engine has no wasm SIMD');
  const m = await loadModel(join(real('hello_world_int8_random_0'), 'model.tflite'));
  assert(m.backend === (hasSimd() ? 'simd' : 'scalar'), `backend ${m.backend}`);
  m.dispose();
});

await check('loadModel accepts a path, a file URL, bytes and an ArrayBuffer', async () => {
  const path = join(real('hello_world_int8_random_0'), 'model.tflite');
  const bytes = new Uint8Array(readFileSync(path));
  const c = readCase(real('hello_world_int8_random_0'));
  for (const src of [path, pathToFileURL(path), bytes, bytes.slice().buffer]) {
    const m = await loadModel(src);
    expectCase(m, c, String(src?.constructor?.name));
    m.dispose();
  }
});

await check('person_detect on the bundled frames equals TensorFlow Lite Micro (both builds)', async () => {
  const frames = { 'person.gray': 'person_detect_person_image_raw', 'no_person.gray': 'person_detect_no_person_image_raw' };
  for (const backend of BACKENDS) {
    const m = await loadModel(join(ROOT, 'assets', 'person_detect.tflite'), { backend });
    assert(m.backend === backend, `asked for ${backend}, got ${m.backend}`);
    for (const [frame, dir] of Object.entries(frames)) {
      const c = readCase(real(dir));
      const pixels = readFileSync(join(ROOT, 'assets', frame));
      const [scores] = m.run([new Int8Array(pixels.buffer, pixels.byteOffset, pixels.length)]);
      const d = firstDifference('int8', c.outputs[0], scores);
      assert(!d, `${backend} ${frame}: ${d}`);
    }
    m.dispose();
  }
});

await check('micro_speech, hello_world and an LSTM model equal the reference (both builds)', async () => {
  const dirs = [real('micro_speech_quantized_yes_features'), real('micro_speech_quantized_random_0'), real('hello_world_int8_random_1'),
    join(REFERENCE_EXTRA, 'real', 'trained_lstm_int8_range0')];
  for (const dir of dirs) for (const backend of BACKENDS) {
    const c = readCase(dir);
    const m = await loadModel(c.model, { backend });
    expectCase(m, c, `${dir.split('/').pop()} [${backend}]`);
    m.dispose();
  }
});

await check('LSTM state persists across runs and resetState() restores it', async () => {
  const c = readCase(join(CONFORMANCE, 'ops', 'lstm_00_b1_t8_i12_h16'));
  const m = await loadModel(c.model);
  const first = expectCase(m, c, 'first run')[0];
  const second = m.run(c.inputs)[0];
  assert(Buffer.compare(Buffer.from(first.buffer), Buffer.from(second.buffer)) !== 0, 'the second run should start from the first run\'s state');
  m.resetState();
  expectCase(m, c, 'after resetState');
  m.dispose();
});

await check('run() reports input problems with stable error codes', async () => {
  const m = await loadModel(join(real('hello_world_int8_random_0'), 'model.tflite'));
  expectError(() => m.run([]), 'E_INPUT_COUNT');
  const e = expectError(() => m.run([new Float32Array(1)]), 'E_INPUT_DTYPE');
  assert(/Int8Array/.test(e.message), `message names the expected array type: ${e.message}`);
  expectError(() => m.run([new Int8Array(2)]), 'E_INPUT_SHAPE');
  expectError(() => m.run({ nope: new Int8Array(1) }), 'E_INPUT_MISSING');
  assert(m.run({ [m.inputs[0].name]: new Int8Array(1) }).length === 1, 'inputs by name');
  m.dispose();
  expectError(() => m.run([new Int8Array(1)]), 'E_DISPOSED');
});

await check('malformed and unsupported models are refused with stable error codes', async () => {
  const bytes = new Uint8Array(readFileSync(join(ROOT, 'assets', 'person_detect.tflite')));
  await expectRejection(loadModel(bytes.subarray(0, 7)), 'E_MODEL_TRUNCATED');
  await expectRejection(loadModel(bytes.subarray(0, 5000)), 'E_MODEL_TRUNCATED');
  const e = await expectRejection(loadModel(patchOpcodes(bytes, { CONV_2D: 8, DEPTHWISE_CONV_2D: 104 })), 'E_UNSUPPORTED_OP');
  assert(/FLOOR ×14/.test(e.message) && /CEIL ×14/.test(e.message), `one error lists all unsupported ops: ${e.message}`);
});

await check('the CommonJS entry (require) gives the same outputs', async () => {
  const require = createRequire(import.meta.url);
  const cjs = require('../dist/cjs/runtime.cjs');
  assert(typeof cjs.loadModel === 'function' && typeof cjs.KestrelError === 'function', 'exports loadModel and KestrelError');
  const c = readCase(real('person_detect_person_image_raw'));
  const m = await cjs.loadModel(c.model);
  expectCase(m, c, `cjs [${m.backend}]`);
  m.dispose();
});

const compiledDir = opt('--compiled');
if (compiledDir) {
  for (const c of COMPILED) {
    const file = join(compiledDir, compiledFile(c));
    await check(`compiled module ${compiledFile(c)} equals the reference and the interpreter`, async () => {
      assert(existsSync(file), `${file} is missing (write it with --write-compiled)`);
      const wasm = new Uint8Array(readFileSync(file));
      const { instance } = await WebAssembly.instantiate(wasm, {});
      assert(instance.exports.abi_version() === 1, 'ABI version 1');
      const cs = readCase(c.dir);
      const m = await loadCompiled(wasm, { name: compiledFile(c) });
      assert(m.backend === c.backend, `backend ${m.backend}, expected ${c.backend}`);
      const got = expectCase(m, cs, 'compiled');
      const interp = await loadModel(cs.model, { backend: c.backend });
      const want = interp.run(cs.inputs);
      got.forEach((o, k) => assert(Buffer.compare(Buffer.from(o.buffer), Buffer.from(want[k].buffer)) === 0, `output ${k} differs from the interpreter`));
      assert(m.arenaBytes === interp.arenaBytes, `arena ${m.arenaBytes} vs interpreter ${interp.arenaBytes}`);
      const any = await loadAnyModel(wasm);
      expectCase(any, cs, 'loadAnyModel');
      for (const x of [m, interp, any]) x.dispose();
    });
  }
}

const failed = results.filter((r) => !r.ok).length;
console.log(`${process.arch} node ${process.version}: ${results.length - failed} of ${results.length} runtime checks passed`);
process.exit(failed ? 1 : 0);
