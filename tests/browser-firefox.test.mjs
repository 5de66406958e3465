// A second browser engine: Firefox ESR (SpiderMonkey), headless, driven over WebDriver BiDi
// (tests/browser-lib.mjs). Every conformance case (tests/fixtures/conformance and
// tests/fixtures/reference-extra) runs through the browser bundle on the simd and scalar
// builds; each output must equal the reference output_<k>.bin byte for byte (compared in the
// page) and Node's output (SHA-256). Without firefox-esr this fails under CI and is skipped
// elsewhere; KESTREL_FIREFOX names another binary. The demo page runs there too.
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFORMANCE } from './helpers.mjs';
import { ARTIFACTS, allConformanceCases, BLANK, checkAgainstNode, launchFirefox, nodeConformance, runFirefoxTests, serveRoot } from './browser-lib.mjs';

const firefoxTest = runFirefoxTests ? test.serial : test.skip;
const BACKENDS = ['simd', 'scalar'];

let srv, ff;
test.before(async () => {
  if (!runFirefoxTests) return;
  srv = await serveRoot();
  ff = await launchFirefox();
});
test.after.always(async () => {
  await ff?.close();
  await srv?.close();
});

firefoxTest('every conformance case runs bit-exact in Firefox (simd and scalar), equal to the reference and to Node', async (t) => {
  const cases = allConformanceCases();
  t.true(cases.length >= 160, `${cases.length} cases`);
  const node = await nodeConformance(cases, BACKENDS);
  await ff.navigate(srv.base + BLANK);
  const engine = JSON.parse(await ff.evaluate(`import('/tests/browser-conformance-page.mjs').then(async (h) => JSON.stringify({ ...h.engineInfo(), simd: (await import('/dist/browser/kestrel.mjs')).hasSimd() }))`));
  t.regex(engine.userAgent, /Firefox\//);
  t.true(engine.simd, 'Firefox runs wasm SIMD');
  const t0 = Date.now();
  const arg = JSON.stringify({ bundle: '/dist/browser/kestrel.mjs', cases: cases.map(({ id, url }) => ({ id, url })), backends: BACKENDS });
  const results = JSON.parse(await ff.evaluate(`import('/tests/browser-conformance-page.mjs').then(async (h) => JSON.stringify(await h.runCases(${arg})))`, 240_000));
  const { problems, count } = checkAgainstNode(results, node, cases, BACKENDS);
  t.deepEqual(problems, []);
  t.is(count, cases.length * BACKENDS.length);
  t.deepEqual(ff.logs.filter((l) => /^error/.test(l)), []);
  t.log(`${ff.version}: ${count - problems.length}/${cases.length * BACKENDS.length} case × build results bit-exact (${cases.length} cases; ${((Date.now() - t0) / 1000).toFixed(1)} s in the page)`);
});

firefoxTest('the relaxed-SIMD build in Firefox: bit-exact on every conformance case where it runs, else one clear refusal', async (t) => {
  const cases = allConformanceCases();
  await ff.navigate(srv.base + BLANK);
  const support = JSON.parse(await ff.evaluate(`import('/dist/browser/kestrel.mjs').then((k) => JSON.stringify(k.relaxedSupport()))`));
  if (!support.ok) {
    // The refusal names the reason and the way out, before any module is fetched.
    const e = JSON.parse(await ff.evaluate(`import('/dist/browser/kestrel.mjs').then((k) => k.loadModel(new Uint8Array(8), { backend: 'relaxed' }).then(() => '{}', (e) => JSON.stringify({ code: e.code, message: e.message })))`));
    t.is(e.code, 'E_BACKEND');
    t.regex(e.message, /backend "relaxed": this WebAssembly engine does not support relaxed SIMD; use backend "simd" or "auto"/);
    t.log(`${ff.version}: no relaxed SIMD (${support.reason}); the relaxed build is refused with E_BACKEND`);
    return;
  }
  const simd = await nodeConformance(cases, ['simd']);
  const node = new Map([...simd].map(([k, v]) => [k.replace(/\|simd$/, '|relaxed'), v]));
  const arg = JSON.stringify({ bundle: '/dist/browser/kestrel.mjs', cases: cases.map(({ id, url }) => ({ id, url })), backends: ['relaxed'] });
  const results = JSON.parse(await ff.evaluate(`import('/tests/browser-conformance-page.mjs').then(async (h) => JSON.stringify(await h.runCases(${arg})))`, 240_000));
  const { problems, count } = checkAgainstNode(results, node, cases, ['relaxed']);
  t.deepEqual(problems, []);
  t.is(count, cases.length);
  t.log(`${ff.version}: ${count - problems.length}/${cases.length} cases bit-exact on the relaxed build`);
});

firefoxTest('the demo page classifies the person sample in Firefox as the reference does', async (t) => {
  await ff.navigate(`${srv.base}/targets/browser/index.html`);
  // Click the sample button, wait for the image, click Run, wait for the result; all in the page.
  const r = JSON.parse(await ff.evaluate(`(async () => {
    const $ = (id) => document.getElementById(id);
    const until = async (f, what) => { for (let i = 0; i < 600; i++) { if (f()) return; await new Promise((r) => setTimeout(r, 50)); } throw new Error('timed out waiting for ' + what + ' (state ' + document.body.dataset.state + ', error: ' + $('error').textContent + ')'); };
    await until(() => document.body.dataset.state !== 'loading', 'the model');
    $('sample-person').click();
    await until(() => $('source-caption').textContent.startsWith('person.png'), 'the sample image');
    $('run').click();
    await until(() => ['done', 'error'].includes(document.body.dataset.state), 'the run');
    const d = window.kestrelDemo;
    return JSON.stringify({ error: $('error').textContent, prediction: $('prediction').textContent, top: $('prediction').dataset.class,
      input: d && Array.from(d.input), outputs: d && Array.from(d.outputs[0]), first: $('latency-first').textContent, steady: $('latency-steady').textContent, kernels: $('kernels').textContent });
  })()`, 60_000));
  t.is(r.error, '');
  const ref = join(CONFORMANCE, 'real', 'person_detect_person_image_raw');
  t.deepEqual(r.input, Array.from(new Int8Array(Uint8Array.from(readFileSync(join(ref, 'input_0.bin'))).buffer)), 'decoded, grayed and quantized in Firefox as in the reference input');
  t.deepEqual(r.outputs, Array.from(new Int8Array(Uint8Array.from(readFileSync(join(ref, 'output_0.bin'))).buffer)));
  t.is(r.top, '1');
  t.regex(r.prediction, /^person \(0\.9\d+\)$/);
  t.regex(r.kernels, /^simd/);
  t.log(`${ff.version}: ${r.prediction}; first ${r.first}, steady ${r.steady}`);
  const png = await ff.screenshot();
  t.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'demo-page-firefox.png'), png);
});
