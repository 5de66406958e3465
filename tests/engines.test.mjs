// Compiled modules on WebAssembly engines other than V8: SpiderMonkey (gjs) and
// JavaScriptCore (jsc), both from Debian (`apt-get install gjs libjavascriptcoregtk-4.0-bin`;
// .ci/run installs them). Each case's model is compiled here, then
// targets/embedded/shell-host.js runs it in the shell through the module's exports only
// (instantiate with no imports, copy inputs to input_ptr(k), invoke(), read output_ptr(k))
// and prints the outputs, which must equal the reference bytes.
//
// Every conformance case runs on both engines with the SIMD build; the real-model cases
// also with the scalar build. Set KESTREL_ENGINES=skip to leave this file out on a machine
// without the two shells (CI never does).
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileModel } from '../dist/compile/index.js';
import { ROOT } from './helpers.mjs';
import { allCases } from './compiled-lib.mjs';

const exec = promisify(execFile);
const HOST = join(ROOT, 'targets', 'embedded', 'shell-host.js');
const ENGINES = {
  spidermonkey: { bin: '/usr/bin/gjs', args: (wasm, inputs) => [HOST, wasm, ...inputs] },
  javascriptcore: { bin: '/usr/bin/jsc', args: (wasm, inputs) => [HOST, '--', wasm, ...inputs] },
};
const skip = process.env.KESTREL_ENGINES === 'skip';
const dir = mkdtempSync(join(tmpdir(), 'kestrel-engines-'));

// At most two shells at a time (CI has two cores).
let running = 0;
const waiting = [];
async function limited(fn) {
  if (running >= 2) await new Promise((r) => waiting.push(r));
  running++;
  try { return await fn(); } finally { running--; waiting.shift()?.(); }
}

async function runShell(engine, wasm, inputs) {
  const e = ENGINES[engine];
  const { stdout } = await limited(() => exec(e.bin, e.args(wasm, inputs), { maxBuffer: 64 << 20 }));
  const outputs = [];
  let status = null;
  for (const line of stdout.split('\n')) {
    const m = /^output (\d+) (-?\d+) (\d+) ([0-9a-f]*)$/.exec(line);
    if (m) outputs[Number(m[1])] = Buffer.from(m[4], 'hex');
    const s = /^status (-?\d+)$/.exec(line);
    if (s) status = Number(s[1]);
  }
  return { outputs, status };
}

if (!skip) {
  test('gjs and jsc are installed', (t) => {
    for (const [name, e] of Object.entries(ENGINES)) {
      t.true(existsSync(e.bin), `${name}: ${e.bin} is missing (apt-get install -y gjs libjavascriptcoregtk-4.0-bin)`);
    }
  });

  for (const c of allCases()) {
    const builds = c.suite === 'real' || c.suite.startsWith('extra') ? ['simd', 'scalar'] : ['simd'];
    for (const backend of builds) {
      test(`engines ${c.suite}/${c.name} [${backend}]`, async (t) => {
        const meta = JSON.parse(readFileSync(join(c.dir, 'case.json'), 'utf8'));
        const r = await compileModel(new Uint8Array(readFileSync(join(c.dir, 'model.tflite'))), { scalar: backend === 'scalar' });
        const wasm = join(dir, `${c.suite}-${c.name}-${backend}.wasm`);
        writeFileSync(wasm, r.wasm);
        const inputs = meta.inputs.map((_, k) => join(c.dir, `input_${k}.bin`));
        const want = meta.outputs.map((_, k) => readFileSync(join(c.dir, `output_${k}.bin`)));
        for (const engine of Object.keys(ENGINES)) {
          const got = await runShell(engine, wasm, inputs);
          t.is(got.status, 0, `${engine}: invoke() status`);
          t.is(got.outputs.length, want.length, `${engine}: output count`);
          want.forEach((w, k) => t.true(Buffer.compare(w, got.outputs[k] ?? Buffer.alloc(0)) === 0, `${engine}: output ${k} differs from the reference`));
        }
      });
    }
  }
}
