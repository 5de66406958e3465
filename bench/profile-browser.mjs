// Per-op profile of one model in headless Chromium, next to the same profile in this Node
// process: where Kestrel's time goes in the browser, op by op.
//
// Usage: node bench/profile-browser.mjs [--backend simd|relaxed] [--runs N] [--warmup N]
//          [--no-liftoff] [--min-ms MS] MODEL.tflite
//
// The page is cross-origin isolated (5 µs timer). After --warmup plain runs it takes --runs
// profile runs (Model.profile: each op timed on its own) and as many plain runs, in
// alternation, and reports each op's median; Node does the same with the same inputs. Ops
// under --min-ms in both are summed into one line. --no-liftoff starts Chromium with
// --js-flags=--no-liftoff (optimized wasm from the first call; see bench/README.md).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArgs, usageError } from './lib/args.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';
const HELP = `Usage: node bench/profile-browser.mjs [options] MODEL.tflite

Per-op medians of one model in headless Chromium and in Node, side by side.

  --backend B     Kestrel's kernel build: simd (default) or relaxed (Chromium only; Node
                  then runs simd)
  --runs N        profile runs, alternated with as many plain runs (default 40)
  --warmup N      plain runs first (default 30)
  --no-liftoff    start Chromium with --js-flags=--no-liftoff
  --min-ms MS     ops under this in both engines are summed into one line (default 0.02)
  -h, --help      this text
`;

const opt = { backend: 'simd', runs: 40, warmup: 30, noLiftoff: false, minMs: 0.02, model: null };
readArgs(process.argv.slice(2), 'profile-browser', HELP, (flag, r) => {
  switch (flag) {
    case '--backend': {
      const b = r.val();
      if (b !== 'simd' && b !== 'relaxed') r.usage('--backend is simd or relaxed');
      opt.backend = b;
      break;
    }
    case '--runs': opt.runs = r.int(1); break;
    case '--warmup': opt.warmup = r.int(0); break;
    case '--no-liftoff': opt.noLiftoff = true; break;
    case '--min-ms': opt.minMs = r.num(0); break;
    default:
      if (r.arg.startsWith('-') || opt.model) r.usage(`unknown argument ${r.arg}`);
      opt.model = r.arg;
  }
});
if (!opt.model) usageError('profile-browser', HELP, 'which model? (a .tflite path)');
if (!existsSync(opt.model)) usageError('profile-browser', HELP, `${opt.model}: no such file`);
if (!existsSync(CHROMIUM)) usageError('profile-browser', HELP, `${CHROMIUM} not found: install Debian's chromium or set KESTREL_CHROMIUM`);
if (!existsSync(join(ROOT, 'dist', 'browser', 'kestrel.mjs'))) usageError('profile-browser', HELP, 'dist/browser/kestrel.mjs is missing; run: npm run build');

const bytes = new Uint8Array(readFileSync(opt.model));

/** The measurement, the same source in the page and in Node. */
const MEASURE = `async function measure(K, bytes, backend, runs, warmup, wasmPaths) {
  const m = await K.loadModel(bytes, { backend, ...(wasmPaths ? { wasmPaths } : {}) });
  const xs = m.inputs.map((t) => {
    const a = new Int8Array(t.bytes);
    for (let i = 0; i < a.length; i++) a[i] = ((i * 7919) % 256) - 128;
    return t.dtype === 'int8' ? a : new (t.dtype === 'int16' ? Int16Array : t.dtype === 'uint8' ? Uint8Array : t.dtype === 'int32' ? Int32Array : Float32Array)(a.buffer, 0, a.length / (t.bytes / a.length) | 0);
  });
  for (let i = 0; i < warmup; i++) m.run(xs);
  const per = m.plan.ops.map(() => []);
  const whole = [];
  for (let r = 0; r < runs; r++) {
    const { opMs } = m.profile(xs);
    for (let i = 0; i < opMs.length; i++) per[i].push(opMs[i]);
    const t = performance.now();
    m.run(xs);
    whole.push(performance.now() - t);
  }
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
  const ops = m.plan.ops.map((p, i) => ({ kernel: p.kernel, op: p.op.opcode, ms: med(per[i]) }));
  const out = { whole: med(whole), ops, backend: m.backend };
  m.dispose();
  return out;
}`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>Kestrel per-op profile</title>
<script type="module">
${MEASURE}
try {
  const cfg = await (await fetch('/__profile/config.json')).json();
  const K = await import('/dist/browser/kestrel.mjs');
  const bytes = new Uint8Array(await (await fetch('/__profile/model')).arrayBuffer());
  window.result = { ...(await measure(K, bytes, cfg.backend, cfg.runs, cfg.warmup, location.origin + '/dist/wasm/')), isolated: crossOriginIsolated, agent: navigator.userAgent };
} catch (e) {
  window.failure = String(e?.stack ?? e);
}
</script>`;

const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

async function inChromium() {
  const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (type, body) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...isolation }).end(body);
    if (url.pathname === '/__profile/') return send('text/html', PAGE);
    if (url.pathname === '/__profile/config.json') return send('application/json', JSON.stringify(opt));
    if (url.pathname === '/__profile/model') return send('application/octet-stream', Buffer.from(bytes));
    const path = normalize(join(ROOT, decodeURIComponent(url.pathname)));
    if (!path.startsWith(ROOT + sep) || !existsSync(path) || !statSync(path).isFile()) { res.writeHead(404, isolation).end('not found'); return; }
    send(TYPES[extname(path)] ?? 'application/octet-stream', readFileSync(path));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...(opt.noLiftoff ? ['--js-flags=--no-liftoff'] : []), ...(process.env.KESTREL_CHROMIUM_FLAGS ?? '').split(' ').filter(Boolean)],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/__profile/`);
    await page.waitForFunction(() => window.result || window.failure, null, { timeout: 600_000, polling: 250 });
    const failure = await page.evaluate(() => window.failure);
    if (failure) throw new Error(`in Chromium: ${failure}`);
    return { ...(await page.evaluate(() => window.result)), version: browser.version() };
  } finally {
    await browser.close();
    server.close();
  }
}

async function inNode() {
  const K = await import(join(ROOT, 'dist', 'runtime', 'index.js'));
  const measure = new Function(`return (${MEASURE})`)();
  return measure(K, bytes, opt.backend === 'relaxed' && !K.relaxedSupport().ok ? 'simd' : opt.backend, opt.runs, opt.warmup, null);
}

process.stderr.write(`profiling ${opt.model} (${opt.backend}) in Chromium…\n`);
const c = await inChromium();
process.stderr.write('…and in Node\n');
const n = await inNode();

const f = (ms) => (ms * 1000).toFixed(1).padStart(9);
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : '—');
console.log(`${opt.model}: Chromium ${c.version}${opt.noLiftoff ? ' (--no-liftoff)' : ''}, ${c.backend} build (page isolated: ${c.isolated ? 'yes, 5 µs timer' : 'no, 100 µs timer'}); Node ${process.versions.node}, ${n.backend} build`);
console.log(`whole run p50: Chromium ${f(c.whole)} µs, Node ${f(n.whole)} µs, ratio ${ratio(c.whole, n.whole)}`);
console.log(`${'#'.padStart(4)}  ${'op'.padEnd(20)} ${'kernel'.padStart(6)}  ${'Chromium µs'.padStart(12)}  ${'Node µs'.padStart(9)}  ratio`);
let restC = 0, restN = 0, rest = 0;
const byType = new Map();
c.ops.forEach((o, i) => {
  const no = n.ops[i];
  const t = byType.get(o.op) ?? [0, 0];
  byType.set(o.op, [t[0] + o.ms, t[1] + no.ms]);
  if (o.ms < opt.minMs && no.ms < opt.minMs) { restC += o.ms; restN += no.ms; rest++; return; }
  console.log(`${String(i).padStart(4)}  ${o.op.padEnd(20)} ${String(o.kernel).padStart(6)}  ${f(o.ms).padStart(12)}  ${f(no.ms)}  ${ratio(o.ms, no.ms)}`);
});
if (rest) console.log(`      ${`${rest} ops under ${opt.minMs} ms`.padEnd(27)}  ${f(restC).padStart(12)}  ${f(restN)}`);
console.log('by op type (sum of per-op medians):');
for (const [op, [cs, ns]] of [...byType].sort((a, b) => b[1][0] - a[1][0])) console.log(`      ${op.padEnd(27)}  ${f(cs).padStart(12)}  ${f(ns)}  ${ratio(cs, ns)}`);
