// The Worker mode in headless Chromium (Debian's `chromium` via playwright-core, launched
// as in tests/bench-browser.test.mjs): dist/browser/kestrel.mjs's loadModelInWorker runs
// the model in a Web Worker loaded by URL. On a page without cross-origin isolation,
// threads: 2 falls back to one thread after one console warning naming the COOP/COEP
// headers; on an isolated page (served with those headers) it runs on two threads.
// Outputs are compared byte for byte with TFLite Micro's reference outputs. Without
// Chromium these tests fail under CI and are skipped elsewhere; set KESTREL_CHROMIUM to
// use another binary.
import test from 'ava';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, relative, sep } from 'node:path';
import { CONFORMANCE, firstDifference, readCase, ROOT } from './helpers.mjs';

const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const browserTest = haveChromium || process.env.CI ? test.serial : test.skip;

async function launch() {
  if (!haveChromium) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set KESTREL_CHROMIUM`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json', '.tflite': 'application/octet-stream', '.bin': 'application/octet-stream' };

/** A static server for the repository root; `isolated` adds the COOP/COEP headers. */
async function serveRoot(isolated) {
  const headers = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/blank.html') { res.writeHead(200, { 'content-type': 'text/html', ...headers }).end('<!doctype html><title>kestrel</title>'); return; }
    const path = normalize(join(ROOT, decodeURIComponent(url.pathname)));
    if (!path.startsWith(ROOT + sep) || !existsSync(path) || !statSync(path).isFile()) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', ...headers }).end(readFileSync(path));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

const CASES = ['real/person_detect_person_image_minus128', 'real/person_detect_random_0', 'ops/conv2d_21_k3_s2_same_d1_none_c12_20', 'ops/dwconv_12_k3_s2_dm1_same_d1_none_c24', 'ops/fc_02_in4x20_o7_bias_relu_perch'];

// In the page: loads each case into a worker with `threads` (and more load options),
// runs it twice and returns the output bytes with the worker's thread count.
async function runInPage(page, threads, options = {}) {
  const cases = CASES.map((c) => {
    const dir = join(CONFORMANCE, c);
    const { meta, inputs } = readCase(dir);
    return { name: c, model: `/${relative(ROOT, join(dir, 'model.tflite')).split(sep).join('/')}`, inputs: inputs.map((x, i) => ({ dtype: meta.inputs[i].dtype, bytes: [...new Uint8Array(x.buffer, x.byteOffset, x.byteLength)] })) };
  });
  return page.evaluate(async ({ cases, threads, options }) => {
    const k = await import('/dist/browser/kestrel.mjs');
    const Ctors = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };
    const out = [];
    for (const c of cases) {
      const m = await k.loadModelInWorker(c.model, { ...options, threads });
      const inputs = c.inputs.map((x) => new Ctors[x.dtype](new Uint8Array(x.bytes).buffer));
      // Two runs in flight at once: the worker answers them in order.
      const runs = await Promise.all([m.run(inputs), m.run(inputs)]);
      out.push({ name: c.name, threads: m.threads, backend: m.backend, isolated: self.crossOriginIsolated, runs: runs.map((r) => r.map((o) => [...new Uint8Array(o.buffer, o.byteOffset, o.byteLength)])) });
      m.dispose();
    }
    return out;
  }, { cases, threads, options });
}

function checkOutputs(t, results, wantThreads, wantBackend = 'simd') {
  t.is(results.length, CASES.length);
  for (const r of results) {
    t.is(r.threads, wantThreads, r.name);
    t.is(r.backend, wantBackend, r.name);
    const { meta, outputs } = readCase(join(CONFORMANCE, r.name));
    for (const run of r.runs) {
      run.forEach((bytes, k) => t.is(firstDifference(meta.outputs[k].dtype, outputs[k], Uint8Array.from(bytes)), null, `${r.name} output ${k}`));
    }
  }
}

browserTest('Worker mode without cross-origin isolation: one warning, one thread, reference outputs', async (t) => {
  const { server, base } = await serveRoot(false);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const warnings = [], errors = [];
    page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/blank.html`);
    t.false(await page.evaluate(() => self.crossOriginIsolated));
    const results = await runInPage(page, 2);
    checkOutputs(t, results, 1);
    const ours = warnings.filter((w) => w.startsWith('kestrel:'));
    t.is(ours.length, 1, 'one warning for all loads');
    t.regex(ours[0], /Cross-Origin-Opener-Policy: same-origin/);
    t.regex(ours[0], /Cross-Origin-Embedder-Policy: require-corp/);
    t.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

browserTest('Worker mode on a cross-origin isolated page runs on 2 threads, bit-exact', async (t) => {
  const { server, base } = await serveRoot(true);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const warnings = [], errors = [];
    page.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/blank.html`);
    t.true(await page.evaluate(() => self.crossOriginIsolated));
    const results = await runInPage(page, 2);
    checkOutputs(t, results, 2);
    // The relaxed build on two threads too (its GEMM's direct relaxed dot products where
    // Chromium computes them exactly, each thread with its own flipped rows).
    checkOutputs(t, await runInPage(page, 2, { backend: 'relaxed' }), 2, 'relaxed');
    t.deepEqual(warnings.filter((w) => w.startsWith('kestrel:')), []);
    t.deepEqual(errors, []);
    // A wrong workerUrl is one clear error, not a hang.
    const err = await page.evaluate(async () => {
      const k = await import('/dist/browser/kestrel.mjs');
      try { await k.loadModelInWorker('/assets/person_detect.tflite', { workerUrl: '/nope/worker.js', timeoutMs: 10000 }); return null; } catch (e) { return { code: e.code, message: e.message }; }
    });
    t.is(err?.code, 'E_WORKER');
    t.regex(err.message, /worker/);
  } finally {
    await browser.close();
    server.close();
  }
});
