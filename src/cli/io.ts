/** File helpers for the CLI: typed views of raw tensor files, safe output writing. */
import { readFileSync } from 'node:fs';
import { KestrelError } from '../errors.js';
import type { TensorInfo, TypedArray } from '../runtime/model.js';
import { numElements } from '../graph/types.js';

const CTORS: Record<string, { new (b: ArrayBuffer): TypedArray }> = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array,
};

/** Reads a raw tensor file (the tensor's bytes, nothing else) as input `t`. */
export function readTensorFile(path: string, t: TensorInfo, k: number): TypedArray {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    throw new KestrelError('E_IO', `${path}: cannot read input ${k}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (b.length !== t.bytes) {
    throw new KestrelError('E_INPUT_SHAPE', `${path}: input ${k} '${t.name}' is ${t.dtype} [${t.shape}] = ${t.bytes} bytes, but the file has ${b.length} bytes`);
  }
  const C = CTORS[t.dtype];
  if (!C) throw new KestrelError('E_INPUT_DTYPE', `${path}: input ${k} '${t.name}' has type ${t.dtype}, which the CLI cannot read`);
  return new C(new Uint8Array(b).buffer);
}

export function describeValues(t: TensorInfo, data: TypedArray): string {
  const n = numElements(t.shape);
  let min = Infinity, max = -Infinity, argmax = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) { max = v; argmax = i; }
  }
  const head = Array.from(data.slice(0, 8)).join(' ') + (n > 8 ? ' …' : '');
  return `${t.dtype}[${t.shape.join(',')}] min ${min} max ${max} argmax ${argmax}: ${head}`;
}
