/**
 * NumPy .npy files (format versions 1, 2 and 3): magic `\x93NUMPY`, a version, a header
 * length (16-bit in v1, 32-bit later), a Python dict literal with `descr`, `fortran_order`
 * and `shape`, then the values. Only C order is read; Fortran order is refused.
 */
import { dataError } from './errors.js';

export type NpyArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

export interface NpyTensor {
  /** The file's dtype (e.g. float32, uint8, int64); 64-bit integers are returned as float64 values. */
  dtype: string;
  shape: number[];
  data: NpyArray;
}

const KINDS: Record<string, { dtype: string; size: number }> = {
  f4: { dtype: 'float32', size: 4 }, f8: { dtype: 'float64', size: 8 },
  i1: { dtype: 'int8', size: 1 }, u1: { dtype: 'uint8', size: 1 }, b1: { dtype: 'bool', size: 1 },
  i2: { dtype: 'int16', size: 2 }, u2: { dtype: 'uint16', size: 2 },
  i4: { dtype: 'int32', size: 4 }, u4: { dtype: 'uint32', size: 4 },
  i8: { dtype: 'int64', size: 8 }, u8: { dtype: 'uint64', size: 8 },
};

export function readNpy(bytes: Uint8Array, name: string): NpyTensor {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw dataError(name, 'not a .npy file: missing the \\x93NUMPY magic string');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number, start: number;
  if (major === 1) { headerLen = dv.getUint16(8, true); start = 10; }
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw dataError(name, 'corrupt .npy header: truncated');
    headerLen = dv.getUint32(8, true); start = 12;
  } else throw dataError(name, `unsupported .npy format version ${major}.${bytes[7]} (1, 2 and 3 are read)`);
  if (start + headerLen > bytes.length) throw dataError(name, `corrupt .npy header: ${headerLen} header bytes announced, the file has ${bytes.length - start}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw dataError(name, `corrupt .npy header: expected descr, fortran_order and shape in ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') throw dataError(name, 'Fortran-order .npy arrays are not read; save the array in C order (numpy.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(n) || n < 0) throw dataError(name, `corrupt .npy header: bad shape (${shapeText})`);
    return n;
  });
  const order = descr[0];
  const kind = KINDS[descr.slice(1)];
  if (!kind || !(order === '<' || order === '>' || order === '|' || order === '=')) {
    throw dataError(name, `unsupported .npy dtype '${descr}' (float32/64, signed/unsigned 8 to 64-bit integers and bool are read)`);
  }
  const little = order !== '>';
  let count = 1;
  for (const d of shape) count *= d;
  const off = start + headerLen;
  if (bytes.length - off !== count * kind.size) {
    throw dataError(name, `corrupt .npy file: shape (${shape.join(', ')}) of ${kind.dtype} needs ${count * kind.size} data bytes, the file has ${bytes.length - off}`);
  }
  return { dtype: kind.dtype, shape, data: decode(dv, off, count, kind.dtype, little) };
}

function decode(dv: DataView, off: number, n: number, dtype: string, le: boolean): NpyArray {
  const fill = <T extends NpyArray>(a: T, get: (p: number) => number, size: number): T => {
    for (let i = 0; i < n; i++) a[i] = get(off + size * i);
    return a;
  };
  switch (dtype) {
    case 'float32': return fill(new Float32Array(n), (p) => dv.getFloat32(p, le), 4);
    case 'float64': return fill(new Float64Array(n), (p) => dv.getFloat64(p, le), 8);
    case 'int8': return fill(new Int8Array(n), (p) => dv.getInt8(p), 1);
    case 'uint8': case 'bool': return fill(new Uint8Array(n), (p) => dv.getUint8(p), 1);
    case 'int16': return fill(new Int16Array(n), (p) => dv.getInt16(p, le), 2);
    case 'uint16': return fill(new Uint16Array(n), (p) => dv.getUint16(p, le), 2);
    case 'int32': return fill(new Int32Array(n), (p) => dv.getInt32(p, le), 4);
    case 'uint32': return fill(new Uint32Array(n), (p) => dv.getUint32(p, le), 4);
    case 'int64': return fill(new Float64Array(n), (p) => Number(dv.getBigInt64(p, le)), 8);
    default: return fill(new Float64Array(n), (p) => Number(dv.getBigUint64(p, le)), 8);
  }
}
