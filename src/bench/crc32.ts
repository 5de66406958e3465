/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib and PNG compute it. */

let table: Uint32Array | null = null;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Continues `crc` (start with 0) over `bytes`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = (table ??= makeTable());
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 over the bytes of several typed arrays, in order, as 8 lowercase hex digits. */
export function crc32Hex(arrays: ArrayBufferView[]): string {
  let c = 0;
  for (const a of arrays) c = crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), c);
  return c.toString(16).padStart(8, '0');
}
