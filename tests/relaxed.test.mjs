// The relaxed-SIMD build (kestrel-relaxed.wasm, backend 'relaxed'): bit-exact with the
// reference on every conformance case and every kernel case of tests/conv-cases.mjs. Node
// 20 runs relaxed SIMD only behind a flag, and its baseline compiler computes the relaxed
// dot product wrongly, so the cases run in a child Node with both switched
// (tests/relaxed-child.mjs), on one thread and on two; Chromium and Firefox run them in
// tests/browser-runtime.test.mjs and tests/browser-firefox.test.mjs.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { loadModel, relaxedSupport, KestrelError } from '../dist/runtime/index.js';
import { conformanceCases, REFERENCE_EXTRA, ROOT } from './helpers.mjs';
import { allCases } from './conv-cases.mjs';

const exec = promisify(execFile);
const major = Number(process.versions.node.split('.')[0]);
const FLAGS = major < 22 ? ['--experimental-wasm-relaxed-simd', '--no-liftoff'] : [];

test('relaxed build: every conformance case and kernel case is bit-exact with the reference', async (t) => {
  const { stdout } = await exec(process.execPath, [...FLAGS, join(ROOT, 'tests', 'relaxed-child.mjs')], { cwd: ROOT, maxBuffer: 16 << 20, timeout: 240_000 });
  const r = JSON.parse(stdout.trim().split('\n').pop());
  t.true(r.support.ok, `relaxed SIMD not available in the child: ${r.support.reason}`);
  t.deepEqual(r.failures, []);
  // Nothing skipped: as many cases as the fixtures and the case list hold.
  t.is(r.cases, conformanceCases().length + conformanceCases(REFERENCE_EXTRA).length);
  t.is(r.threadedCases, r.cases);
  t.is(r.convCases, allCases().length);
  t.is(r.forcedCases, 2 * r.cases);
  // The relaxed path ran (and so did the int16 fallback for weights of -128, in the kernel
  // cases, where the split layout was picked).
  t.true(r.relaxedOps + r.directOps >= 100, `${r.relaxedOps} GEMM ops on the split layout, ${r.directOps} on a direct one`);
  // Both output stages ran: float32 where its bound admits it, the integer one elsewhere.
  const all = r.relaxedOps + r.directOps + r.int16Ops;
  t.true(r.floatOps >= 50 && r.floatOps < all, `${r.floatOps} of ${all} GEMM ops with the float32 output stage`);
  t.log(`${r.cases} conformance cases (on 1 and 2 threads) and ${r.convCases} kernel cases bit-exact on the relaxed build, relaxedDot ${r.picked} here (${r.relaxedOps} GEMM ops on the split layout, ${r.directOps} on a direct one, ${r.int16Ops} on the int16 one; ${r.floatOps} with the float32 output stage); bit-exact again with each direct layout forced`);
});

// Only where this process cannot run the relaxed build (plain Node 20, as in CI).
(relaxedSupport().ok ? test.skip : test)('backend "relaxed" where the engine cannot run it: one clear E_BACKEND error', async (t) => {
  const model = join(ROOT, 'assets', 'person_detect.tflite');
  const e = await t.throwsAsync(() => loadModel(model, { backend: 'relaxed' }), { instanceOf: KestrelError });
  t.is(e.code, 'E_BACKEND');
  t.regex(e.message, /backend "relaxed": .*(relaxed SIMD|--no-liftoff)/);
});
