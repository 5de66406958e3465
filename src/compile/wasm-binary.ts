/**
 * The few edits `kestrel compile` makes to the module the AssemblyScript compiler emits:
 * adding active data segments (the plan image) and a custom section (tensor metadata).
 * Everything else in the binary is kept byte for byte.
 */

const SECTION_DATA = 11;
const SECTION_DATACOUNT = 12;

export interface DataSegment {
  offset: number;
  bytes: Uint8Array;
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb32(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

function readUleb(buf: Uint8Array, at: number): [number, number] {
  let v = 0, mul = 1, i = at;
  for (;;) {
    const b = buf[i++]!;
    v += (b & 0x7f) * mul;
    if (!(b & 0x80)) return [v, i];
    mul *= 128;
  }
}

interface Section { id: number; body: Uint8Array }

function sections(wasm: Uint8Array): Section[] {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
    throw new Error('not a WebAssembly binary');
  }
  const out: Section[] = [];
  let i = 8;
  while (i < wasm.length) {
    const id = wasm[i++]!;
    const [size, at] = readUleb(wasm, i);
    out.push({ id, body: wasm.subarray(at, at + size) });
    i = at + size;
  }
  return out;
}

function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function section(id: number, body: Uint8Array): Uint8Array {
  return concat([[id], uleb(body.length), body]);
}

/**
 * Splits memory images into data segments, leaving out runs of at least `gap` zero bytes
 * (memory starts zeroed), so large zero-filled constants cost nothing in the file.
 */
export function segmentsFrom(images: DataSegment[], gap = 32): DataSegment[] {
  const out: DataSegment[] = [];
  for (const { offset, bytes } of images) {
    let i = 0;
    while (i < bytes.length) {
      while (i < bytes.length && bytes[i] === 0) i++;
      if (i >= bytes.length) break;
      let j = i, zeros = 0;
      for (; j < bytes.length; j++) {
        if (bytes[j] === 0) { if (++zeros >= gap) break; } else zeros = 0;
      }
      const end = j < bytes.length ? j - zeros + 1 : j - zeros;
      out.push({ offset: offset + i, bytes: bytes.subarray(i, end) });
      i = end;
    }
  }
  return out;
}

/** Returns `wasm` with `segments` added as active data segments of memory 0 and `custom` sections appended. */
export function patchModule(wasm: Uint8Array, segments: DataSegment[], custom: Record<string, Uint8Array> = {}): Uint8Array {
  const secs = sections(wasm);
  const encoded = segments.map((s) => concat([[0, 0x41], sleb32(s.offset), [0x0b], uleb(s.bytes.length), s.bytes]));
  let count = encoded.length;
  const dataIdx = secs.findIndex((s) => s.id === SECTION_DATA);
  const prior: Uint8Array[] = [];
  if (dataIdx >= 0) {
    const body = secs[dataIdx]!.body;
    const [n, at] = readUleb(body, 0);
    count += n;
    prior.push(body.subarray(at));
  }
  const dataSection = section(SECTION_DATA, concat([uleb(count), ...prior, ...encoded]));
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  let placed = false;
  for (const s of secs) {
    if (s.id === SECTION_DATACOUNT) { parts.push(section(SECTION_DATACOUNT, new Uint8Array(uleb(count)))); continue; }
    if (s.id === SECTION_DATA) { parts.push(dataSection); placed = true; continue; }
    parts.push(section(s.id, s.body));
    if (s.id === 10 && dataIdx < 0) { parts.push(dataSection); placed = true; }
  }
  if (!placed) parts.push(dataSection);
  const enc = new TextEncoder();
  for (const [name, body] of Object.entries(custom)) {
    const n = enc.encode(name);
    parts.push(section(0, concat([uleb(n.length), n, body])));
  }
  return concat(parts);
}
