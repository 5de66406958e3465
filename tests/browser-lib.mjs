// Shared pieces of the browser tests: finding and launching headless Chromium (Debian's
// `chromium`, driven by playwright-core) and a tiny static server for the repository root.
//
// Browser tests run when the browser binary exists. Without it they fail under CI (CI set)
// and are skipped elsewhere, so a missing browser never counts as a pass on CI.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, relative, sep } from 'node:path';
import { conformanceCases, readCase, REFERENCE_EXTRA, ROOT } from './helpers.mjs';

export const ARTIFACTS = join(ROOT, 'ci-artifacts');
export const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
/** Whether Chromium tests run: when it is there, or under CI (where its absence fails them). */
export const runChromiumTests = haveChromium || !!process.env.CI;

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches headless Chromium; playwright gives every launch a fresh, temporary user-data-dir. */
export async function launchChromium() {
  if (!haveChromium) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set KESTREL_CHROMIUM`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export const TYPES = {
  '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.map': 'application/json', '.json': 'application/json', '.tflite': 'application/octet-stream',
  '.png': 'image/png', '.bmp': 'image/bmp', '.css': 'text/css', '.bin': 'application/octet-stream',
};

/**
 * A static server on 127.0.0.1 and a random port. Serves the repository root; `mounts` maps
 * URL prefixes ('/alt/') to other folders. Only files below the served folders are answered.
 * `requests` records every path asked for (tests check what a page fetched). BLANK is an
 * empty page, an origin for pages that only import modules.
 */
export const BLANK = '/__blank.html';
export async function serveRoot({ mounts = {} } = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(url);
    if (url === BLANK) { res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><title>blank</title>'); return; }
    let base = ROOT, rest = url;
    for (const [prefix, dir] of Object.entries(mounts)) if (url.startsWith(prefix)) { base = dir; rest = url.slice(prefix.length); break; }
    const path = normalize(join(base, rest));
    if (!path.startsWith(base + sep) || !existsSync(path) || !statSync(path).isFile()) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(path));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

/** SHA-256 (hex) of a typed array's bytes — the pages hash with crypto.subtle, Node with node:crypto. */
export function sha256(view) {
  return createHash('sha256').update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).digest('hex');
}

/** Rejects with `message` after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${message} (no answer within ${Math.round(ms / 1000)} s)`)), ms); }),
  ]);
}

/**
 * Every conformance case (tests/fixtures/conformance and reference-extra) as
 * { id, dir, url } — url is the case folder on the static server of serveRoot().
 */
export function allConformanceCases() {
  const conf = conformanceCases().map((c) => ({ id: `${c.suite}/${c.name}`, dir: c.dir }));
  const extra = conformanceCases(REFERENCE_EXTRA).map((c) => ({ id: `extra-${c.suite}/${c.name}`, dir: c.dir }));
  return [...conf, ...extra].map((c) => ({ ...c, url: '/' + relative(ROOT, c.dir).split(sep).join('/') + '/' }));
}

/**
 * Node's Kestrel on the same cases: Map `${id}|${backend}` → SHA-256 of each output, and
 * whether every output equals the reference (so a browser/Node agreement is never an
 * agreement on a wrong answer).
 */
export async function nodeConformance(cases, backends) {
  const { loadModel } = await import('../dist/runtime/index.js');
  const out = new Map();
  for (const c of cases) {
    const { model, inputs, outputs } = readCase(c.dir);
    for (const backend of backends) {
      const m = await loadModel(model, { backend, name: c.id });
      const got = m.run(inputs);
      out.set(`${c.id}|${backend}`, { sha256: got.map(sha256), reference: got.every((g, k) => Buffer.compare(Buffer.from(g.buffer, g.byteOffset, g.byteLength), outputs[k]) === 0) });
      m.dispose();
    }
  }
  return out;
}

/**
 * Checks a page's runCases() results against Node's; returns the failures as lines (empty =
 * all bit-exact with the reference and with Node) and the number of case × build results.
 */
export function checkAgainstNode(results, node, cases, backends) {
  const problems = [];
  const seen = new Set();
  for (const r of results) {
    const key = `${r.id}|${r.backend}`;
    seen.add(key);
    const n = node.get(key);
    if (r.error) { problems.push(`${key}: ${r.error}`); continue; }
    r.outputs.forEach((o, k) => { if (!o.equal) problems.push(`${key} output ${k} differs from the reference: ${o.detail}`); });
    if (!n) { problems.push(`${key}: no Node result`); continue; }
    if (!n.reference) problems.push(`${key}: Node's output differs from the reference`);
    if (r.outputs.length !== n.sha256.length) problems.push(`${key}: ${r.outputs.length} outputs in the browser, ${n.sha256.length} in Node`);
    r.outputs.forEach((o, k) => { if (o.sha256 !== n.sha256[k]) problems.push(`${key} output ${k}: browser and Node outputs differ (SHA-256 ${o.sha256.slice(0, 12)} vs ${String(n.sha256[k]).slice(0, 12)})`); });
  }
  for (const c of cases) for (const b of backends) if (!seen.has(`${c.id}|${b}`)) problems.push(`${c.id}|${b}: not run in the browser`);
  return { problems, count: seen.size };
}
