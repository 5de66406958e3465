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

// ---------------------------------------------------------------------------------------
// Firefox ESR over WebDriver BiDi. playwright-core's Firefox driver needs its own patched
// build, and its BiDi mode sends commands this ESR lacks, so a small BiDi client drives
// Debian's firefox-esr: start it with --remote-debugging-port=0, read the WebSocket address
// it prints, connect (BiDi "session.new"), navigate, evaluate scripts (awaiting promises), close.
// ---------------------------------------------------------------------------------------
export const FIREFOX = process.env.KESTREL_FIREFOX ?? '/usr/bin/firefox-esr';
export const haveFirefox = existsSync(FIREFOX);
export const runFirefoxTests = haveFirefox || !!process.env.CI;

const FIREFOX_PREFS = {
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.aboutwelcome.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'app.update.disabledForTesting': true,
  'extensions.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'remote.prefs.recommended': true,
};

async function webSocketClass() {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  // Node 20 has no WebSocket client without a flag; playwright-core ships the `ws` package.
  return (await import('playwright-core/lib/utilsBundle')).ws;
}

/**
 * Starts headless Firefox and connects over BiDi. Returns { version, navigate(url),
 * evaluate(expression), logs, close() }. Every step has a timeout and says what it waited for.
 */
export async function launchFirefox({ timeoutMs = 60_000 } = {}) {
  if (!haveFirefox) throw new Error(`${FIREFOX} not found: install Debian's firefox-esr (apt-get install firefox-esr) or set KESTREL_FIREFOX`);
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const profile = mkdtempSync(join(tmpdir(), 'kestrel-firefox-'));
  writeFileSync(join(profile, 'user.js'), Object.entries(FIREFOX_PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n');
  const proc = spawn(FIREFOX, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1' },
  });
  // If the test process dies first, Firefox goes with it.
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  let output = '';
  const exited = new Promise((r) => proc.once('exit', (code, signal) => { process.off('exit', killOnExit); r({ code, signal }); }));
  const endpoint = await withTimeout(new Promise((resolve, reject) => {
    const onData = (d) => {
      output += d;
      const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('error', reject);
    exited.then(({ code, signal }) => reject(new Error(`${FIREFOX} exited (${signal ?? code}) before offering WebDriver BiDi:\n${output.slice(-2000)}`)));
  }), timeoutMs, `${FIREFOX} did not announce its WebDriver BiDi endpoint`).catch((e) => { proc.kill('SIGKILL'); rmSync(profile, { recursive: true, force: true }); throw e; });

  const WS = await webSocketClass();
  const ws = new WS(endpoint.replace(/\/?$/, '/session'));
  const pending = new Map();
  const logs = [];
  let nextId = 1;
  ws.onmessage = (ev) => {
    const msg = JSON.parse(typeof ev.data === 'string' ? ev.data : ev.data.toString());
    if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve, reject, method } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.type === 'error') reject(new Error(`Firefox BiDi ${method}: ${msg.error}: ${msg.message}`));
      else resolve(msg.result);
    } else if (msg.method === 'log.entryAdded') {
      logs.push(`${msg.params.level} ${msg.params.type}: ${msg.params.text}`);
    }
  };
  const closed = new Promise((r) => { ws.onclose = () => { for (const p of pending.values()) p.reject(new Error(`Firefox BiDi ${p.method}: connection closed`)); pending.clear(); r(); }; });
  await withTimeout(new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = (e) => reject(new Error(`cannot connect to ${endpoint}: ${e.message ?? e}`)); }), timeoutMs, `connecting to Firefox at ${endpoint}`);
  const send = (method, params = {}, ms = timeoutMs) => withTimeout(new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject, method });
    ws.send(JSON.stringify({ id, method, params }));
  }), ms, `Firefox BiDi ${method}`);

  const close = async () => {
    try { await send('browser.close', {}, 10_000); } catch { /* killed below */ }
    try { ws.close(); } catch { /* already closed */ }
    await withTimeout(exited, 15_000, 'Firefox exit').catch(() => proc.kill('SIGKILL'));
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const opened = await send('session.new', { capabilities: {} });
    await send('session.subscribe', { events: ['log.entryAdded'] });
    const tree = await send('browsingContext.getTree', {});
    const context = tree.contexts[0].context;
    return {
      version: `${opened.capabilities.browserName} ${opened.capabilities.browserVersion}`,
      logs,
      navigate: (url, ms = timeoutMs) => send('browsingContext.navigate', { context, url, wait: 'complete' }, ms),
      /** Evaluates `expression` (awaiting a promise) in the page; returns its value, which must be a string. */
      async evaluate(expression, ms = timeoutMs) {
        const r = await send('script.evaluate', { expression, target: { context }, awaitPromise: true, resultOwnership: 'none' }, ms);
        if (r.type === 'exception') throw new Error(`in Firefox: ${r.exceptionDetails.text}`);
        if (r.result.type !== 'string') throw new Error(`in Firefox: expected a string result, got ${JSON.stringify(r.result).slice(0, 200)}`);
        return r.result.value;
      },
      /** A PNG of the page's viewport (or of the whole document with `origin: 'document'`). */
      async screenshot(origin = 'document') {
        return Buffer.from((await send('browsingContext.captureScreenshot', { context, origin })).data, 'base64');
      },
      close,
      closed,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
