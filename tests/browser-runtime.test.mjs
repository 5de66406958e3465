// The browser bundle (dist/browser/kestrel.mjs) in headless Chromium:
//  - every conformance case (tests/fixtures/conformance: real, seanet, ops, and
//    tests/fixtures/reference-extra) on the simd and scalar builds, each output byte-equal to
//    the reference output_<k>.bin (compared in the page) and to Node's Kestrel (SHA-256);
//  - the demo page targets/browser/index.html end to end, its prediction checked against
//    Node's on the same image decoded and preprocessed here;
//  - the wasmPaths / wasmBinary options.
// Without Chromium these tests fail under CI and are skipped elsewhere (KESTREL_CHROMIUM
// names another binary).
import test from 'ava';
import { mkdirSync, mkdtempSync, copyFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../dist/runtime/index.js';
import { ROOT, CONFORMANCE } from './helpers.mjs';
import {
  ARTIFACTS, BLANK, allConformanceCases, checkAgainstNode, launchChromium, nodeConformance, runChromiumTests, serveRoot, sha256, withTimeout,
} from './browser-lib.mjs';

const browserTest = runChromiumTests ? test.serial : test.skip;
const BACKENDS = ['simd', 'scalar'];
const BUNDLE = '/dist/browser/kestrel.mjs';

let ctx;
test.before(async () => {
  if (!runChromiumTests) return;
  const dirs = { '/alt-kernels/': mkAltKernels(), '/tampered/': mkTampered() };
  const srv = await serveRoot({ mounts: dirs });
  const browser = await launchChromium();
  ctx = { srv, browser, dirs };
});
test.after.always(async () => {
  await ctx?.browser.close();
  await ctx?.srv.close();
  for (const d of Object.values(ctx?.dirs ?? {})) rmSync(d, { recursive: true, force: true });
});

/** A folder with copies of the kernel modules, served at /alt-kernels/. */
function mkAltKernels() {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-kernels-'));
  for (const b of BACKENDS) copyFileSync(join(ROOT, 'dist', 'wasm', `kestrel-${b}.wasm`), join(dir, `kestrel-${b}.wasm`));
  return dir;
}

/** A copy of one conformance case with one reference output byte changed, served at /tampered/. */
function mkTampered() {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-tampered-'));
  const from = join(CONFORMANCE, 'real', 'person_detect_person_image_raw');
  for (const f of ['case.json', 'model.tflite', 'input_0.bin', 'output_0.bin']) copyFileSync(join(from, f), join(dir, f));
  const out = readFileSync(join(dir, 'output_0.bin'));
  out[1] ^= 1;
  writeFileSync(join(dir, 'output_0.bin'), out);
  return dir;
}

async function blankPage() {
  const page = await ctx.browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(ctx.srv.base + BLANK);
  return { page, errors };
}

browserTest('every conformance case runs bit-exact in Chromium (simd and scalar), equal to the reference and to Node', async (t) => {
  const cases = allConformanceCases();
  t.true(cases.length >= 160, `${cases.length} cases`);
  const node = await nodeConformance(cases, BACKENDS);
  const { page, errors } = await blankPage();
  const t0 = Date.now();
  const results = await withTimeout(
    page.evaluate(async ({ harness, bundle, cases, backends }) => (await import(harness)).runCases({ bundle, cases, backends }),
      { harness: '/tests/browser-conformance-page.mjs', bundle: BUNDLE, cases: cases.map(({ id, url }) => ({ id, url })), backends: BACKENDS }),
    240_000, 'the conformance run in Chromium did not finish');
  const { problems, count } = checkAgainstNode(results, node, cases, BACKENDS);
  t.deepEqual(problems, []);
  t.is(count, cases.length * BACKENDS.length);
  t.deepEqual(errors, []);
  t.log(`${count - problems.length}/${cases.length * BACKENDS.length} case × build results bit-exact in Chromium (${cases.length} cases; ${((Date.now() - t0) / 1000).toFixed(1)} s in the page)`);
  // The comparison sees a one-bit change: a reference output with one byte altered fails.
  const bad = await page.evaluate(async (a) => (await import(a.harness)).runCases(a), { harness: '/tests/browser-conformance-page.mjs', bundle: BUNDLE, cases: [{ id: 'tampered', url: '/tampered/' }], backends: ['simd'] });
  t.is(bad.length, 1);
  t.false(bad[0].ok);
  t.regex(bad[0].outputs[0].detail, /^1\/2 elements differ \(max \|diff\| 1\); first at 1/);
  await page.close();
});

browserTest('the relaxed-SIMD build runs every conformance case bit-exact in Chromium, equal to the reference and to Node', async (t) => {
  const cases = allConformanceCases();
  // Node 20 runs the relaxed build only behind flags (tests/relaxed.test.mjs); its simd
  // build's outputs, equal to the reference, stand for Node here.
  const simd = await nodeConformance(cases, ['simd']);
  const node = new Map([...simd].map(([k, v]) => [k.replace(/\|simd$/, '|relaxed'), v]));
  const { page, errors } = await blankPage();
  const support = await page.evaluate(async (bundle) => (await import(bundle)).relaxedSupport(), BUNDLE);
  t.true(support.ok, `Chromium cannot run the relaxed build: ${support.reason}`);
  // The layout Chromium's relaxed dot allows here ('auto'), then each layout forced: a
  // direct one the engine does not compute exactly runs its kernel's fallback, which must
  // be exact too.
  for (const relaxedDot of ['auto', 'split', 'unsigned', 'signed']) {
    const results = await withTimeout(
      page.evaluate(async ({ harness, bundle, cases, backends, loadOptions }) => (await import(harness)).runCases({ bundle, cases, backends, loadOptions }),
        { harness: '/tests/browser-conformance-page.mjs', bundle: BUNDLE, cases: cases.map(({ id, url }) => ({ id, url })), backends: ['relaxed'], loadOptions: { relaxedDot } }),
      240_000, `the relaxed conformance run in Chromium (relaxedDot ${relaxedDot}) did not finish`);
    const { problems, count } = checkAgainstNode(results, node, cases, ['relaxed']);
    t.deepEqual(problems, [], `relaxedDot ${relaxedDot}`);
    t.is(count, cases.length);
    const picked = [...new Set(results.map((r) => r.relaxedDot))];
    t.is(picked.length, 1);
    if (relaxedDot !== 'auto') t.is(picked[0], relaxedDot);
    t.log(`relaxedDot ${relaxedDot}${relaxedDot === 'auto' ? ` (picked ${picked[0]})` : ''}: ${count - problems.length}/${cases.length} cases bit-exact on the relaxed build in Chromium`);
  }
  t.deepEqual(errors, []);
  await page.close();
});

/** The independent side of the demo check: decode the PNG here, gray it, int8 = pixel − 128, run Node's Kestrel. */
async function nodeDemoPrediction(png) {
  const { PNG } = await import('playwright-core/lib/utilsBundle');
  const img = PNG.sync.read(readFileSync(png));
  if (img.width !== 96 || img.height !== 96) throw new Error(`${png}: ${img.width}×${img.height}, expected 96×96`);
  const input = new Int8Array(96 * 96);
  for (let i = 0; i < input.length; i++) {
    const [r, g, b] = img.data.subarray(4 * i, 4 * i + 3);
    input[i] = ((77 * r + 150 * g + 29 * b + 128) >> 8) - 128;
  }
  const m = await loadModel(join(ROOT, 'assets', 'person_detect.tflite'));
  const out = m.run([input])[0];
  const top = out[1] > out[0] ? 1 : 0;
  return { input, out, top };
}

browserTest('the demo page classifies the sample images as Node does', async (t) => {
  const page = await ctx.browser.newPage({ viewport: { width: 1100, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${ctx.srv.base}/targets/browser/index.html`);
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 30_000 });
  t.is(await page.textContent('#error'), '');
  t.regex(await page.textContent('#input-shape-0'), /\[1×96×96×1\] int8/);
  t.regex(await page.textContent('#output-shape-0'), /\[1×2\] int8/);
  for (const [file, refCase] of [['person.png', 'person_detect_person_image_raw'], ['no_person.png', 'person_detect_no_person_image_raw']]) {
    const png = join(ROOT, 'targets', 'browser', 'samples', file);
    const want = await nodeDemoPrediction(png);
    // The samples are the upstream example images, whose reference outputs the conformance set holds.
    t.is(Buffer.compare(Buffer.from(want.input.buffer), readFileSync(join(CONFORMANCE, 'real', refCase, 'input_0.bin'))), 0, `${file}: same input as ${refCase}`);
    t.is(Buffer.compare(Buffer.from(want.out.buffer), readFileSync(join(CONFORMANCE, 'real', refCase, 'output_0.bin'))), 0);
    await page.setInputFiles('#image', png);
    await page.waitForFunction((f) => document.body.dataset.state === 'ready' && document.getElementById('source-caption').textContent.startsWith(f), file, { timeout: 30_000 });
    await page.click('#run');
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 60_000 });
    t.is(await page.textContent('#error'), '');
    const got = await page.evaluate(() => ({ input: Array.from(window.kestrelDemo.input), outputs: Array.from(window.kestrelDemo.outputs[0]) }));
    t.is(sha256(Int8Array.from(got.input)), sha256(want.input), `${file}: the page's input equals the one computed here`);
    t.deepEqual(got.outputs, Array.from(want.out));
    t.is(await page.getAttribute('#prediction', 'data-class'), String(want.top));
    t.regex(await page.textContent('#prediction'), want.top === 1 ? /^person \(0\.\d+\)/ : /^no person \(0\.\d+\)/);
    t.is(await page.getAttribute('#scores tbody tr:first-child', 'data-class'), String(want.top));
    for (const id of ['latency-first', 'latency-steady', 'latency-load']) t.regex(await page.textContent(`#${id}`), /^\d+(\.\d+)? ms/, id);
    t.true(Number(await page.getAttribute('#latency-steady', 'data-ms')) >= 0);
    t.regex(await page.textContent('#kernels'), /^simd/);
    t.log(`${file}: ${await page.textContent('#prediction')}; first ${await page.textContent('#latency-first')}, steady ${await page.textContent('#latency-steady')}`);
  }
  // Dropping an image on the drop zone works like picking it.
  await page.evaluate(async () => {
    const blob = await (await fetch('samples/no_person.png')).blob();
    const dt = new DataTransfer();
    dt.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
    document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => document.getElementById('source-caption').textContent.startsWith('dropped.png') && document.body.dataset.state === 'ready', null, { timeout: 30_000 });
  await page.click('#run');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 60_000 });
  t.is(await page.getAttribute('#prediction', 'data-class'), '0', 'the dropped no_person sample');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'demo-page.png'), fullPage: true });
  t.true(statSync(join(ARTIFACTS, 'demo-page.png')).size > 1000);

  // The model picker: another model's tensors are shown; a non-image input is refused in words.
  await page.setInputFiles('#model', join(ROOT, 'assets', 'micro_speech.tflite'));
  await page.waitForFunction(() => document.getElementById('model-name')?.textContent === 'micro_speech.tflite' && document.body.dataset.state !== 'loading', null, { timeout: 30_000 });
  t.regex(await page.textContent('#input-shape-0'), /\[1×1960\] int8/);
  t.regex(await page.textContent('#output-shape-0'), /labels_softmax \[1×4\] int8/);
  t.regex(await page.textContent('#error'), /micro_speech\.tflite: input \[1,1960\] is not an image/);
  t.deepEqual(errors, []);
  await page.close();
});

browserTest('the demo page honours ?wasmPaths= and ?backend=scalar', async (t) => {
  const page = await ctx.browser.newPage();
  const before = ctx.srv.requests.length;
  await page.goto(`${ctx.srv.base}/targets/browser/index.html?backend=scalar&wasmPaths=/alt-kernels/`);
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 30_000 });
  await page.setInputFiles('#image', join(ROOT, 'targets', 'browser', 'samples', 'person.png'));
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 30_000 });
  await page.click('#run');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 60_000 });
  t.is(await page.textContent('#error'), '');
  t.regex(await page.textContent('#kernels'), /^scalar/);
  t.is(await page.getAttribute('#prediction', 'data-class'), '1');
  const asked = ctx.srv.requests.slice(before).filter((u) => u.endsWith('.wasm'));
  t.deepEqual(asked, ['/alt-kernels/kestrel-scalar.wasm']);
  await page.close();
});

browserTest('wasmPaths loads the kernels from another folder; wasmBinary works with every .wasm request failing', async (t) => {
  const { page, errors } = await blankPage();
  const model = readFileSync(join(ROOT, 'assets', 'person_detect.tflite'));
  const input = readFileSync(join(CONFORMANCE, 'real', 'person_detect_person_image_raw', 'input_0.bin'));
  const want = Array.from(new Int8Array(Uint8Array.from(readFileSync(join(CONFORMANCE, 'real', 'person_detect_person_image_raw', 'output_0.bin'))).buffer));
  t.is(want.length, 2);
  const b64 = (buf) => Buffer.from(buf).toString('base64');
  const runIn = (opts) => page.evaluate(async ({ bundle, model, input, opts }) => {
    const k = await import(bundle);
    const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    const o = { ...opts };
    if (o.wasmBinary === 'module') o.wasmBinary = await WebAssembly.compile(bytes(o.wasmBytes));
    else if (o.wasmBinary) o.wasmBinary = bytes(o.wasmBinary);
    delete o.wasmBytes;
    try {
      const m = await k.loadModel(bytes(model), o);
      return { out: Array.from(m.run([new Int8Array(bytes(input).buffer)])[0]), backend: m.backend };
    } catch (e) { return { error: String(e.message), code: e.code }; }
  }, { bundle: BUNDLE, model: b64(model), input: b64(input), opts });

  // wasmPaths: a folder of its own.
  let before = ctx.srv.requests.length;
  for (const backend of BACKENDS) {
    const r = await runIn({ backend, wasmPaths: `${ctx.srv.base}/alt-kernels/` });
    t.deepEqual(r, { out: want, backend });
  }
  t.deepEqual(ctx.srv.requests.slice(before).filter((u) => u.endsWith('.wasm')), ['/alt-kernels/kestrel-simd.wasm', '/alt-kernels/kestrel-scalar.wasm']);

  // Every .wasm URL answers 404: fetching fails with a clear error, wasmBinary needs no fetch.
  let wasmRequests = 0;
  await page.route('**/*.wasm', (route) => { wasmRequests++; return route.fulfill({ status: 404, body: 'blocked' }); });
  before = ctx.srv.requests.length;
  const failed = await runIn({ backend: 'scalar', wasmPaths: `${ctx.srv.base}/elsewhere/` });
  t.is(failed.code, 'E_BACKEND');
  t.regex(failed.error, /cannot fetch kernel module .*\/elsewhere\/kestrel-scalar\.wasm: HTTP 404/);
  t.is(wasmRequests, 1);
  for (const backend of BACKENDS) {
    const wasm = readFileSync(join(ROOT, 'dist', 'wasm', `kestrel-${backend}.wasm`));
    t.deepEqual(await runIn({ backend, wasmBinary: b64(wasm) }), { out: want, backend }, `${backend} from bytes`);
    t.deepEqual(await runIn({ backend, wasmBinary: 'module', wasmBytes: b64(wasm) }), { out: want, backend }, `${backend} from a WebAssembly.Module`);
  }
  t.is(wasmRequests, 1, 'no kernel module was fetched');
  t.deepEqual(ctx.srv.requests.slice(before).filter((u) => u.endsWith('.wasm')), []);
  t.deepEqual(errors, []);
  await page.close();
});
