// Payload sizes: a model compiled by `kestrel compile` against what the interpreter ships
// (model file + generic kernel module + runtime JS) and against the rivals' payloads.
//
//   npm run build && node bench/size.mjs [--json]
//
// Raw and gzip (level 9) bytes. LiteRT.js: the files its compat (non-relaxed-SIMD) build
// loads, measured from node_modules/@litertjs/core. tfjs-tflite is not installed here: its
// figure is the documented one (5.3 MB raw / 1.5 MB gzip with tfjs-core), not measured.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { compileModel } from '../dist/compile/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const json = process.argv.includes('--json');
const gz = (b) => gzipSync(b, { level: 9 }).length;
const measure = (parts) => ({ raw: parts.reduce((s, b) => s + b.length, 0), gzip: parts.reduce((s, b) => s + gz(b), 0) });
const file = (p) => readFileSync(p);

const runtimeWasm = file(join(ROOT, 'dist/wasm/kestrel-simd.wasm'));
const runtimeJs = file(join(ROOT, 'dist/browser/kestrel.mjs'));

function litert() {
  try {
    const req = createRequire(join(ROOT, 'package.json'));
    const core = dirname(dirname(req.resolve('@litertjs/core')));
    const parts = [join(core, 'dist/index.js'), join(core, 'wasm/litert_wasm_compat_internal.js'), join(core, 'wasm/litert_wasm_compat_internal.wasm')];
    const utils = join(dirname(req.resolve('@litertjs/wasm-utils', { paths: [core] })));
    const utilsEntry = ['index.js', 'dist/index.js'].map((p) => join(utils, p)).find(existsSync);
    if (utilsEntry) parts.push(utilsEntry);
    return measure(parts.map(file));
  } catch {
    return null;
  }
}

const rows = [];
for (const [name, path] of [['person_detect', 'assets/person_detect.tflite'], ['micro_speech', 'assets/micro_speech.tflite']]) {
  const model = file(join(ROOT, path));
  const simd = await compileModel(new Uint8Array(model), { name });
  const scalar = await compileModel(new Uint8Array(model), { name, scalar: true });
  rows.push({
    model: name,
    compiledSimd: measure([simd.wasm]),
    compiledScalar: measure([scalar.wasm]),
    codeBytes: simd.codeBytes,
    modelFile: measure([model]),
    modelPlusRuntimeWasm: measure([model, runtimeWasm]),
    modelPlusRuntimeWasmJs: measure([model, runtimeWasm, runtimeJs]),
  });
}
const rivals = {
  litertjs: litert(),
  tfjsTflite: { raw: 5.3e6, gzip: 1.5e6, note: 'documented figure (shared/docs/rivals.md), not installed here' },
};

if (json) {
  console.log(JSON.stringify({ rows, runtimeWasm: measure([runtimeWasm]), runtimeJs: measure([runtimeJs]), rivals }, null, 2));
} else {
  const f = (m) => (m ? `${m.raw.toLocaleString('en')} / ${m.gzip.toLocaleString('en')}` : 'n/a');
  console.log('bytes raw / gzip');
  console.log(`generic runtime: kestrel-simd.wasm ${f(measure([runtimeWasm]))}; browser bundle kestrel.mjs ${f(measure([runtimeJs]))}`);
  for (const r of rows) {
    console.log(`\n${r.model}`);
    console.log(`  compiled .wasm (simd)           ${f(r.compiledSimd)}   (code ${r.codeBytes.toLocaleString('en')})`);
    console.log(`  compiled .wasm (scalar)         ${f(r.compiledScalar)}`);
    console.log(`  model file                      ${f(r.modelFile)}`);
    console.log(`  model + runtime wasm            ${f(r.modelPlusRuntimeWasm)}   compiled/this: ${(r.compiledSimd.raw / r.modelPlusRuntimeWasm.raw).toFixed(2)} raw, ${(r.compiledSimd.gzip / r.modelPlusRuntimeWasm.gzip).toFixed(2)} gzip`);
    console.log(`  model + runtime wasm + JS       ${f(r.modelPlusRuntimeWasmJs)}`);
    console.log(`  LiteRT.js payload (compat) + model ${f(rivals.litertjs && { raw: rivals.litertjs.raw + r.modelFile.raw, gzip: rivals.litertjs.gzip + r.modelFile.gzip })}`);
    console.log(`  tfjs-tflite payload + model     ~${f({ raw: rivals.tfjsTflite.raw + r.modelFile.raw, gzip: rivals.tfjsTflite.gzip + r.modelFile.gzip })} (documented runtime figure, not measured)`);
  }
  console.log(`\nLiteRT.js runtime alone: ${f(rivals.litertjs)}; tfjs-tflite runtime: ~${f(rivals.tfjsTflite)} (${rivals.tfjsTflite.note})`);
}
