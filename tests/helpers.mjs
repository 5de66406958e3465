// Shared helpers for the test suite.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'tests', 'fixtures');
export const CONFORMANCE = join(FIXTURES, 'conformance');

const CTORS = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };

/** A typed array of `dtype` over a copy of `bytes`. */
export function typed(dtype, bytes) {
  const C = CTORS[dtype];
  if (!C) throw new Error(`no typed array for ${dtype}`);
  return new C(new Uint8Array(bytes).buffer);
}

/** All conformance cases as { suite, name, dir }. */
export function conformanceCases(root = CONFORMANCE) {
  const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8'));
  const out = [];
  for (const suite of Object.keys(index)) for (const name of index[suite]) out.push({ suite, name, dir: join(root, suite, name) });
  return out;
}

/** Further reference cases (published models, TFLite Micro outputs) beside the conformance copy. */
export const REFERENCE_EXTRA = join(FIXTURES, 'reference-extra');

export function readCase(dir) {
  const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const model = readFileSync(join(dir, 'model.tflite'));
  const inputs = meta.inputs.map((t, i) => typed(t.dtype, readFileSync(join(dir, `input_${i}.bin`))));
  const outputs = meta.outputs.map((t, k) => readFileSync(join(dir, `output_${k}.bin`)));
  return { meta, model: new Uint8Array(model), inputs, outputs };
}

/** Describes the first difference between two byte buffers of dtype, or null when equal. */
export function firstDifference(dtype, want, gotTyped) {
  const got = Buffer.from(gotTyped.buffer, gotTyped.byteOffset, gotTyped.byteLength);
  if (Buffer.compare(Buffer.from(want), got) === 0) return null;
  if (want.length !== got.length) return `length ${got.length} bytes, expected ${want.length}`;
  const w = typed(dtype, want);
  let n = 0, first = -1, maxd = 0;
  for (let i = 0; i < w.length; i++) {
    const a = w[i], b = gotTyped[i];
    if (!Object.is(a, b)) { n++; if (first < 0) first = i; maxd = Math.max(maxd, Math.abs(a - b)); }
  }
  return `${n}/${w.length} elements differ (max |diff| ${maxd}); first at ${first}: expected ${w[first]}, got ${gotTyped[first]}`;
}

// Rewrites operator_codes entries in place (deprecated_builtin_code and builtin_code).
export function patchOpcodes(bytes, map) {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  const table = (pos) => {
    const vt = pos - dv.getInt32(pos, true);
    const vtSize = dv.getUint16(vt, true);
    return (slot) => { const o = 4 + 2 * slot; if (o >= vtSize) return 0; const f = dv.getUint16(vt + o, true); return f ? pos + f : 0; };
  };
  const ind = (p) => p + dv.getUint32(p, true);
  const root = table(ind(0));
  const codes = ind(root(1));
  const n = dv.getUint32(codes, true);
  const names = { CONV_2D: 3, DEPTHWISE_CONV_2D: 4 };
  for (let i = 0; i < n; i++) {
    const f = table(ind(codes + 4 + 4 * i));
    const dep = f(0), b = f(3);
    const code = Math.max(dep ? dv.getInt8(dep) : 0, b ? dv.getInt32(b, true) : 0);
    for (const [name, to] of Object.entries(map)) {
      if (code === names[name]) {
        if (dep) dv.setInt8(dep, Math.min(to, 127));
        if (b) dv.setInt32(b, to, true);
      }
    }
  }
  return out;
}

const execP = promisify(execFile);

/** Runs the kestrel command; resolves to { code, stdout, stderr } whatever the exit code. */
export async function kestrel(...args) {
  try {
    const { stdout, stderr } = await execP(process.execPath, [join(ROOT, 'bin', 'kestrel.js'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Asserts a failed command printed exactly one line on stderr, matching `pattern`. */
export function oneLineError(t, r, pattern) {
  t.not(r.code, 0);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, pattern);
}
