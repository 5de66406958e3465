// Runs one conformance case folder and compares every output byte for byte.
// Usage: node scripts/run-case.mjs CASE_DIR [--backend simd|scalar] [--verbose]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../dist/runtime/index.js';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
const backend = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'simd';
const verbose = args.includes('--verbose');
const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const model = await loadModel(join(dir, 'model.tflite'), { backend });
const ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };
const inputs = meta.inputs.map((t, i) => {
  const b = readFileSync(join(dir, `input_${i}.bin`));
  const C = ctor[t.dtype];
  return new C(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
});
const outs = model.run(inputs);
let bad = 0;
outs.forEach((o, k) => {
  const want = readFileSync(join(dir, `output_${k}.bin`));
  const got = Buffer.from(o.buffer, o.byteOffset, o.byteLength);
  if (Buffer.compare(want, got) !== 0) {
    bad++;
    const C = ctor[meta.outputs[k].dtype];
    const w = new C(want.buffer.slice(want.byteOffset, want.byteOffset + want.byteLength));
    let n = 0, maxd = 0, first = -1;
    for (let i = 0; i < w.length; i++) if (w[i] !== o[i]) { n++; maxd = Math.max(maxd, Math.abs(w[i] - o[i])); if (first < 0) first = i; }
    console.log(`MISMATCH output ${k}: ${n}/${w.length} elements differ, max |diff| ${maxd}, first at ${first} (want ${w[first]}, got ${o[first]})`);
    if (verbose) console.log('want', Array.from(w.slice(0, 32)).join(' '), '\ngot ', Array.from(o.slice(0, 32)).join(' '));
  }
});
console.log(bad ? `FAIL ${dir} (${backend})` : `OK ${dir} (${backend}) arena ${model.arenaBytes}`);
process.exit(bad ? 1 : 0);
