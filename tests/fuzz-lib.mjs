// Seeded mutations of model files for the robustness tests (tests/fuzz.test.mjs) and
// the long fuzz run (scripts/fuzz.mjs).

/** xorshift32: a small seeded PRNG. */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  return { next, int: (n) => next() % n, pick: (a) => a[next() % a.length] };
}

const SPECIAL32 = [0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x40000000, 1000000, 65536 * 64];

/**
 * Returns a mutant of `bytes` and a description. Kinds: bit flips, byte overwrites,
 * truncation, special 32-bit values at aligned positions (huge dimensions, out-of-range
 * offsets and indices), int8 field changes, and float32 specials (bad scales).
 */
export function mutate(bytes, r) {
  const b = bytes.slice();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const kind = r.int(7);
  switch (kind) {
    case 0: { // bit flips
      const n = 1 + r.int(8);
      for (let i = 0; i < n; i++) { const p = r.int(b.length); b[p] ^= 1 << r.int(8); }
      return { bytes: b, what: `${n} bit flip(s)` };
    }
    case 1: { // truncation
      const len = r.int(b.length);
      return { bytes: b.slice(0, len), what: `truncated to ${len} bytes` };
    }
    case 2: case 3: { // special 32-bit value at an aligned position (offsets, lengths, dims, indices)
      const p = (r.int(b.length >> 2)) << 2;
      const v = r.pick(SPECIAL32);
      if (p + 4 <= b.length) dv.setUint32(p, v, true);
      return { bytes: b, what: `u32 ${v} at ${p}` };
    }
    case 4: { // small signed change near the start (tables, vtables, enums live there)
      const p = r.int(Math.min(b.length, 4096));
      b[p] = (b[p] + 1 + r.int(255)) & 0xff;
      return { bytes: b, what: `byte change at ${p}` };
    }
    case 5: { // float specials at an aligned position (scales)
      const p = (r.int(b.length >> 2)) << 2;
      const v = r.pick([NaN, Infinity, -1, 0, 1e-45, 1e30, -0]);
      if (p + 4 <= b.length) dv.setFloat32(p, v, true);
      return { bytes: b, what: `f32 ${v} at ${p}` };
    }
    default: { // byte range overwrite
      const p = r.int(b.length);
      const n = 1 + r.int(16);
      for (let i = 0; i < n && p + i < b.length; i++) b[p + i] = r.int(256);
      return { bytes: b, what: `${n} random bytes at ${p}` };
    }
  }
}

/**
 * Positions of the structural fields of a model, found with the bounds-checked reader:
 * tensor shapes, types, buffer indices, quantization arrays, operator indices and option
 * scalars. Targeted mutants overwrite these with hostile values.
 */
export async function locateFields(bytes) {
  const { FbReader } = await import('../dist/tflite/fb.js');
  const r = new FbReader(bytes, 'model');
  const out = { i32: [], u32: [], i8: [], f32: [], i64: [] };
  const vec = (t, slot, size, kind) => {
    const v = t.vector(4 + 2 * slot, size, 'v');
    if (v) for (let i = 0; i < v.length; i++) out[kind].push(v.start + size * i);
  };
  const scalar = (t, slot, kind) => { const p = t.field(4 + 2 * slot); if (p) out[kind].push(p); };
  const model = r.table(r.root(), 'model');
  for (const sg of model.tables(8, 'subgraphs')) {
    vec(sg, 1, 4, 'i32'); vec(sg, 2, 4, 'i32');
    for (const t of sg.tables(4, 'tensors')) {
      vec(t, 0, 4, 'i32'); scalar(t, 1, 'i8'); scalar(t, 2, 'u32'); vec(t, 7, 4, 'i32');
      const q = t.table(12, 'quantization');
      if (q) { vec(q, 2, 4, 'f32'); vec(q, 3, 8, 'i64'); scalar(q, 6, 'i32'); }
    }
    for (const op of sg.tables(10, 'operators')) {
      scalar(op, 0, 'u32'); vec(op, 1, 4, 'i32'); vec(op, 2, 4, 'i32'); vec(op, 8, 4, 'i32');
      const o = op.table(12, 'options');
      if (o) for (let slot = 0; slot < 8; slot++) scalar(o, slot, 'i32');
    }
  }
  for (const b of model.tables(12, 'buffers')) { const v = b.vector(4, 1, 'data'); if (v) out.u32.push(v.start - 4); }
  return out;
}

const HOSTILE_I32 = [-1, -2, 0, 1, 2, 3, 5, 7, 64, 255, 1000, 65535, 1 << 20, 0x7fffffff, -0x80000000];
const HOSTILE_F32 = [0, -0, -1, NaN, Infinity, 1e-40, 1e-20, 1e20, 3.4e38];

/** A targeted mutant: one structural field set to a hostile value. */
export function mutateField(bytes, fields, r) {
  const b = bytes.slice();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const kinds = Object.keys(fields).filter((k) => fields[k].length);
  const kind = r.pick(kinds);
  const pos = r.pick(fields[kind]);
  let v;
  switch (kind) {
    case 'i8': v = r.pick([-1, 0, 1, 2, 3, 7, 9, 10, 17, 25, 127]); if (pos < b.length) dv.setInt8(pos, v); break;
    case 'f32': v = r.pick(HOSTILE_F32); if (pos + 4 <= b.length) dv.setFloat32(pos, v, true); break;
    case 'i64': v = r.pick([-129, 128, -32769, 1 << 20, -1, 0, 255]); if (pos + 8 <= b.length) dv.setBigInt64(pos, BigInt(v), true); break;
    default: {
      const old = dv.getInt32(pos, true);
      v = r.next() % 3 === 0 ? old + r.pick([-1, 1, 2, -2]) : r.pick(HOSTILE_I32);
      if (pos + 4 <= b.length) dv.setInt32(pos, v, true);
    }
  }
  return { bytes: b, what: `${kind} field at ${pos} set to ${v}` };
}
