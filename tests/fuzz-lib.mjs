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
