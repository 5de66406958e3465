/**
 * IDX files (the MNIST / Fashion-MNIST container): a big-endian header
 * `0 0 <type> <rank>`, `rank` 32-bit dimensions, then the values in C order.
 * Gzip-compressed files are inflated transparently.
 */
import { gunzipSync } from 'node:zlib';
import { dataError } from './errors.js';

export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxTensor {
  dtype: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  shape: number[];
  data: IdxArray;
}

const TYPES: Record<number, { dtype: IdxTensor['dtype']; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** Inflates gzip data (magic 1f 8b); returns other bytes unchanged. */
export function maybeGunzip(bytes: Uint8Array, name: string): Uint8Array {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return new Uint8Array(gunzipSync(bytes));
    } catch (e) {
      throw dataError(name, `corrupt gzip data (${(e as Error).message})`);
    }
  }
  return bytes;
}

/**
 * Parses an IDX file. `limit` reads only the first `limit` entries of dimension 0.
 * Throws E_DATA naming `name` for a bad magic number, type, rank or length.
 */
export function readIdx(raw: Uint8Array, name: string, limit?: number): IdxTensor {
  const bytes = maybeGunzip(raw, name);
  if (bytes.length < 4) throw dataError(name, `not an IDX file: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw dataError(name, `not an IDX file: magic number starts ${hex(bytes[0]!)} ${hex(bytes[1]!)}, expected 00 00`);
  }
  const t = TYPES[bytes[2]!];
  if (!t) throw dataError(name, `corrupt IDX header: unknown value type ${hex(bytes[2]!)} (expected 08, 09, 0b, 0c, 0d or 0e)`);
  const rank = bytes[3]!;
  if (rank < 1 || rank > 8) throw dataError(name, `corrupt IDX header: ${rank} dimensions (expected 1 to 8)`);
  const headerLen = 4 + 4 * rank;
  if (bytes.length < headerLen) throw dataError(name, `corrupt IDX header: ${rank} dimensions need ${headerLen} header bytes, the file has ${bytes.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const d = dv.getUint32(4 + 4 * i, false);
    if (d === 0 || d > 0x7fffffff) throw dataError(name, `corrupt IDX header: dimension ${i} is ${d}`);
    shape.push(d);
  }
  let count = 1;
  for (const d of shape) count *= d;
  const expected = headerLen + count * t.size;
  if (bytes.length !== expected) {
    throw dataError(name, `corrupt IDX file: header [${shape.join(', ')}] of ${t.dtype} needs ${expected} bytes, the file has ${bytes.length}`);
  }
  if (limit !== undefined && limit < shape[0]!) {
    count = (count / shape[0]!) * limit;
    shape[0] = limit;
  }
  return { dtype: t.dtype, shape, data: decode(dv, headerLen, count, t.dtype) };
}

function decode(dv: DataView, off: number, n: number, dtype: IdxTensor['dtype']): IdxArray {
  switch (dtype) {
    case 'uint8': return new Uint8Array(dv.buffer.slice(dv.byteOffset + off, dv.byteOffset + off + n));
    case 'int8': return new Int8Array(dv.buffer.slice(dv.byteOffset + off, dv.byteOffset + off + n));
    case 'int16': { const a = new Int16Array(n); for (let i = 0; i < n; i++) a[i] = dv.getInt16(off + 2 * i, false); return a; }
    case 'int32': { const a = new Int32Array(n); for (let i = 0; i < n; i++) a[i] = dv.getInt32(off + 4 * i, false); return a; }
    case 'float32': { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = dv.getFloat32(off + 4 * i, false); return a; }
    case 'float64': { const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = dv.getFloat64(off + 8 * i, false); return a; }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
