// The HTML report of `kestrel bench --report` and targets/browser/bench.html, in headless
// Chromium (Debian's `chromium`, driven by playwright-core; .ci/run installs it). Screenshots
// go to ci-artifacts/ (kept by CI). Without Chromium these tests fail under CI and are
// skipped elsewhere; set KESTREL_CHROMIUM to use another binary.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ROOT } from './helpers.mjs';
import { ARTIFACTS, launchChromium as launch, runChromiumTests, serveRoot } from './browser-lib.mjs';

const exec = promisify(execFile);
const browserTest = runChromiumTests ? test.serial : test.skip;

browserTest('the --report HTML page opens in Chromium and its charts are drawn', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-report-'));
  const file = join(dir, 'report.html');
  await exec(process.execPath, [join(ROOT, 'bin', 'kestrel.js'), 'bench', join(ROOT, 'assets', 'person_detect.tflite'), '--report', file, '--warmup', '2', '--runs', '30', '--min-secs', '0', '--json'], { cwd: ROOT, maxBuffer: 64 << 20 });
  const html = readFileSync(file, 'utf8');
  t.notRegex(html, /<script(?![^>]*application\/json)/, 'no executable script');
  t.notRegex(html, /(src|href)="https?:/, 'nothing fetched');
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    const hist = await page.$$eval('#latency-histogram-simd rect.bar', (rs) => rs.map((r) => r.getBoundingClientRect().height));
    t.true(hist.length >= 5, 'histogram bins');
    t.true(hist.some((h) => h > 10), 'histogram bars have height');
    const types = await page.$$eval('#op-profile-chart-simd rect.bar:not(.op)', (rs) => rs.map((r) => r.getBoundingClientRect().width));
    t.true(types.length >= 3 && types.some((w) => w > 100), 'per-op-type bars drawn');
    const ops = await page.$$eval('#op-profile-chart-simd rect.op', (rs) => rs.length);
    t.is(ops, 31);
    const env = await page.textContent('ul.env');
    t.regex(env, /wasm SIMD (yes|no)/);
    const data = JSON.parse(await page.textContent('#bench-data'));
    t.is(data.schema_version, 1);
    t.is(await page.textContent('[data-field=output_crc32]'), data.output_crc32);
    t.deepEqual(errors, []);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'bench-report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
  t.true(statSync(join(ARTIFACTS, 'bench-report.png')).size > 1000);
});

browserTest('targets/browser/bench.html runs the sample model and shows the figures', async (t) => {
  const { server, base } = await serveRoot();
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/targets/browser/bench.html?autorun=1&warmup=2&runs=20&minSecs=0&backend=all`);
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout: 120_000 });
    t.is(await page.textContent('#error'), '');
    const r = await page.evaluate(() => window.benchReport);
    t.is(r.schema_version, 1);
    t.is(r.model, 'assets/person_detect.tflite');
    t.deepEqual(r.results.map((x) => x.backend), ['simd', 'scalar']);
    t.true(r.backends_agree);
    t.is(r.environment.runtime, 'browser');
    t.is(r.environment.wasm_simd, true);
    t.true(r.p50_ms > 0 && r.arena_bytes > 0);
    t.truthy(r.results[0].profile);
    // Same model, inputs and kernels as in Node: same outputs.
    const node = JSON.parse((await exec(process.execPath, [join(ROOT, 'bin', 'kestrel.js'), 'bench', join(ROOT, 'assets', 'person_detect.tflite'), '--json', '--warmup', '0', '--runs', '1', '--min-secs', '0'], { cwd: ROOT })).stdout);
    t.is(r.output_crc32, node.output_crc32);
    t.is(await page.textContent('[data-backend=simd] [data-field=output_crc32]'), r.output_crc32);
    t.regex(await page.textContent('[data-backend=simd] [data-field=p50_ms]'), /^\d/);
    t.true((await page.$$('#latency-histogram-simd rect.bar')).length >= 5);
    t.true((await page.$$('#op-profile-chart-simd rect.op')).length === 31);
    t.regex(await page.textContent('#text'), /output CRC32\s+[0-9a-f]{8}/);
    t.deepEqual(errors, []);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'bench-page.png'), fullPage: true });
  } finally {
    await browser.close();
    server.close();
  }
});

browserTest('bench/profile-browser.mjs prints every op of a model, timed in Chromium and in Node', async (t) => {
  const model = join(ROOT, 'assets', 'person_detect.tflite');
  const { stdout } = await exec(process.execPath, [join(ROOT, 'bench', 'profile-browser.mjs'), '--runs', '3', '--warmup', '2', '--min-ms', '0', model], { cwd: ROOT, maxBuffer: 16 << 20, timeout: 240_000 });
  t.regex(stdout, /page isolated: yes, 5 µs timer/);
  t.regex(stdout, /whole run p50: Chromium +[\d.]+ µs, Node +[\d.]+ µs, ratio ([\d.]+|—)/);
  // person_detect's 31 ops, each on its own line (--min-ms 0 folds none away).
  const rows = stdout.split('\n').filter((l) => /^\s+\d+\s+[A-Z_0-9]+\s+\d+\s+[\d.]+\s+[\d.]+\s+([\d.]+|—)$/.test(l));
  t.is(rows.length, 31);
  t.regex(stdout, /by op type[^\n]*\n\s+(CONV_2D|DEPTHWISE_CONV_2D)/);
});
