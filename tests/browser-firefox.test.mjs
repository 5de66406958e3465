// A second browser engine: Firefox ESR (SpiderMonkey), headless, driven over WebDriver BiDi
// (tests/browser-lib.mjs). Every conformance case (tests/fixtures/conformance and
// tests/fixtures/reference-extra) runs through the browser bundle on the simd and scalar
// builds; each output must equal the reference output_<k>.bin byte for byte (compared in the
// page) and Node's output (SHA-256). Without firefox-esr this fails under CI and is skipped
// elsewhere; KESTREL_FIREFOX names another binary.
import test from 'ava';
import { allConformanceCases, BLANK, checkAgainstNode, launchFirefox, nodeConformance, runFirefoxTests, serveRoot } from './browser-lib.mjs';

const firefoxTest = runFirefoxTests ? test.serial : test.skip;
const BACKENDS = ['simd', 'scalar'];

firefoxTest('every conformance case runs bit-exact in Firefox (simd and scalar), equal to the reference and to Node', async (t) => {
  const cases = allConformanceCases();
  t.true(cases.length >= 160, `${cases.length} cases`);
  const node = await nodeConformance(cases, BACKENDS);
  const srv = await serveRoot();
  const ff = await launchFirefox();
  try {
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
  } finally {
    await ff.close();
    await srv.close();
  }
});
