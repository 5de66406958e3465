// `bench/perf.mjs --browser`: the same table measured in headless Chromium (Debian's
// /usr/bin/chromium, or $KESTREL_CHROMIUM, driven by playwright-core). A small static
// server on 127.0.0.1 serves the repository (dist/browser/kestrel.mjs, dist/wasm/,
// bench/lib/perf-core.mjs, bench/.roof/roof.wasm, LiteRT.js from node_modules) plus the
// page, the model list and the model bytes; the page runs bench/lib/perf-core.mjs's
// measureModel on each model with Kestrel (dist/browser/kestrel.mjs) and LiteRT.js, which
// in Chromium loads its relaxed-SIMD build (litert_wasm_internal). Its JS is served with the
// same one change the Node loader makes: int8/int16 entries in its dtype table.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRoof } from '../roof/run.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';
const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json' };

/** LiteRT.js's dist/index.js with int8/int16 added to its dtype table (its stock table refuses int8 tensors). */
function patchedLiteRt() {
  const file = join(ROOT, 'node_modules', '@litertjs', 'core', 'dist', 'index.js');
  const src = readFileSync(file, 'utf8');
  const anchor = /(\{\s*dtype: "uint8",\s*typedArrayConstructor: Uint8Array,\s*elementType: ElementType\.UINT8\s*\})(\s*\]\);)/;
  if (!anchor.test(src)) throw new Error(`${file}: its dtype table no longer looks as expected (LiteRT.js version changed?)`);
  return src
    .replace(anchor, '$1,\n  { dtype: "int8", typedArrayConstructor: Int8Array, elementType: ElementType.INT8 },\n  { dtype: "int16", typedArrayConstructor: Int16Array, elementType: ElementType.INT16 }$2')
    .replace(/^\/\/# sourceMappingURL=.*$/m, '');
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>Kestrel vs LiteRT.js</title>
<script type="importmap">{"imports":{"@litertjs/wasm-utils":"/node_modules/@litertjs/wasm-utils/dist/index.js"}}</script>
<script type="module">
import { litertEngine, measureModel, maxAbsDiff, seededInputs } from '/bench/lib/perf-core.mjs';
import { timeRoof } from '/bench/roof/core.mjs';
const log = (s) => console.log('perf: ' + s);
try {
  const cfg = await (await fetch('/__perf/config.json')).json();
  let t = performance.now();
  const K = await import('/dist/browser/kestrel.mjs');
  const kImport = performance.now() - t;
  t = performance.now();
  await WebAssembly.compileStreaming(fetch('/dist/wasm/kestrel-' + cfg.kestrelBackend + '.wasm'));
  const kCompile = performance.now() - t;
  const L = await import('/__perf/litert-core.mjs');
  t = performance.now();
  await L.loadLiteRt('/node_modules/@litertjs/core/wasm/');
  const lLoad = performance.now() - t;
  const relaxed = !!(await L.supportsFeature?.('relaxedSimd'));
  log('LiteRT.js runtime loaded in ' + lLoad.toFixed(1) + ' ms (relaxed SIMD ' + relaxed + ')');
  let roof = null;
  if (cfg.roofSecs > 0) {
    const { instance } = await WebAssembly.instantiateStreaming(fetch('/bench/.roof/roof.wasm'), {});
    roof = timeRoof(instance.exports, { secs: cfg.roofSecs, rounds: 7, log });
  }
  let macs = 0, relaxedDot = null;
  const engines = {
    kestrel: {
      async init(bytes) { const m = await K.loadModel(bytes, { backend: cfg.kestrelBackend, wasmPaths: location.origin + '/dist/wasm/' }); macs = m.macs; relaxedDot = m.relaxedDot; return m; },
      run(m, xs) { return m.run(xs); },
      dispose(m) { m?.dispose(); },
    },
    litert: litertEngine(L.loadAndCompile, L.Tensor),
  };
  const rows = [];
  for (let i = 0; i < cfg.models.length; i++) {
    const m = cfg.models[i];
    log('[' + (i + 1) + '/' + cfg.models.length + '] ' + m.name);
    const bytes = new Uint8Array(await (await fetch('/__perf/model/' + i)).arrayBuffer());
    const inputs = seededInputs(m.inputs, m.seed);
    const res = await measureModel(engines, bytes, inputs, cfg, log);
    const maxDiff = maxAbsDiff(res.kestrel?.outputs, res.litert?.outputs);
    delete res.kestrel?.outputs; delete res.litert?.outputs;
    rows.push({ model: m.name, source: m.source, sizeBytes: m.sizeBytes, repaired: m.repaired, repairs: m.repairs, macs, kestrel: res.kestrel, litert: res.litert, maxAbsDiff: maxDiff });
  }
  const ua = navigator.userAgent;
  window.perfResult = {
    env: {
      runtime: 'browser', crossOriginIsolated: self.crossOriginIsolated, browser: (/(Chrome|Chromium)\\/[\\d.]+/.exec(ua) ?? [ua])[0] + ' (headless)', platform: navigator.platform, cpuCount: navigator.hardwareConcurrency,
      kestrel: { runtimeLoadMs: kImport + kCompile, importMs: kImport, kernelCompileMs: kCompile, simd: K.hasSimd(), backend: cfg.kestrelBackend, relaxedDot },
      litert: { version: cfg.litertVersion, runtimeLoadMs: lLoad, glue: relaxed ? 'litert_wasm_internal.js' : 'litert_wasm_compat_internal.js', relaxedSimd: relaxed },
    },
    roof, rows,
  };
} catch (e) {
  window.perfError = String(e?.stack ?? e);
}
</script>`;

async function serve(models, cfg) {
  const litert = patchedLiteRt();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    // Cross-origin isolated page: performance.now() at 5 µs instead of 100 µs resolution.
    const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };
    const send = (type, body) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...isolation }).end(body);
    if (url.pathname === '/__perf/' || url.pathname === '/__perf/index.html') return send('text/html', PAGE);
    if (url.pathname === '/__perf/config.json') return send('application/json', JSON.stringify(cfg));
    if (url.pathname === '/__perf/litert-core.mjs') return send('text/javascript', litert);
    const mm = /^\/__perf\/model\/(\d+)$/.exec(url.pathname);
    if (mm && models[+mm[1]]) return send('application/octet-stream', Buffer.from(models[+mm[1]].bytes));
    const path = normalize(join(ROOT, decodeURIComponent(url.pathname)));
    if (!path.startsWith(ROOT + sep) || !existsSync(path) || !statSync(path).isFile()) { res.writeHead(404, isolation).end('not found'); return; }
    send(TYPES[extname(path)] ?? 'application/octet-stream', readFileSync(path));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

export async function runBrowser(opts, { log, prepareModels, selectModels, inputSeed }) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium or set KESTREL_CHROMIUM`);
  if (!existsSync(join(ROOT, 'dist', 'browser', 'kestrel.mjs'))) throw new Error('dist/browser/kestrel.mjs is missing; run: npm run build');
  buildRoof();
  log('preparing models…');
  const models = await prepareModels(selectModels(opts.models), opts);
  const litertVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@litertjs', 'core', 'package.json'), 'utf8')).version;
  const cfg = {
    seed: opts.seed, kestrelBackend: opts.kestrelBackend, minSampleMs: 0.25, rounds: opts.rounds, minSecs: opts.minSecs, warmup: opts.warmup, warmupMs: opts.warmupMs, initReps: opts.initReps, roofSecs: opts.roofSecs, litertVersion,
    models: models.map(({ name, source, sizeBytes, repaired, repairs, inputs }) => ({ name, source, sizeBytes, repaired, repairs, inputs, seed: inputSeed(opts.seed, name) })),
  };
  const { server, base } = await serve(models, cfg);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...(opts.noLiftoff ? ['--js-flags=--no-liftoff'] : []),
      // Extra engine flags for experiments, e.g. KESTREL_CHROMIUM_FLAGS='--js-flags=--no-liftoff'.
      ...(process.env.KESTREL_CHROMIUM_FLAGS ?? '').split(' ').filter(Boolean)],
  });
  // Generous but finite: every model's timed seconds for both engines plus a minute each.
  const timeoutMs = (60 + opts.roofSecs * 2 + models.length * (2 * opts.minSecs + 60)) * 1000;
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { const t = m.text(); if (t.startsWith('perf: ')) log(t.slice(6)); });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/__perf/`);
    try {
      await page.waitForFunction(() => window.perfResult || window.perfError, null, { timeout: timeoutMs, polling: 500 });
    } catch {
      throw new Error(`the Chromium page did not finish within ${Math.round(timeoutMs / 1000)} s${errors.length ? ` (page errors: ${errors.join(' | ')})` : ''}`);
    }
    const err = await page.evaluate(() => window.perfError);
    if (err) throw new Error(`in Chromium: ${err}`);
    const result = await page.evaluate(() => window.perfResult);
    result.env.browser = `${result.env.browser}, Chromium ${browser.version()}${opts.noLiftoff ? ' with --js-flags=--no-liftoff' : ''}`;
    return result;
  } finally {
    await browser.close();
    server.close();
  }
}
