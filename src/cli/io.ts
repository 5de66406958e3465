/** File helpers for the CLI: typed views of raw tensor files, safe output writing. */
import { existsSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/**
 * Writes `data` to `path` atomically: into a temporary file beside it, then renamed over the
 * target, so a reader never sees a half-written file. Refuses to write over any of `protect`
 * (the command's inputs) and, unless `force`, over an existing file.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, opts: { protect?: string[]; force?: boolean; what?: string } = {}): void {
  const what = opts.what ?? 'output';
  const target = resolve(path);
  for (const p of opts.protect ?? []) {
    if (sameFile(target, resolve(p))) throw new KestrelError('E_USAGE', `${path}: the ${what} would overwrite the input ${p}; choose another path`);
  }
  if (!opts.force && existsSync(target)) throw new KestrelError('E_USAGE', `${path}: exists; pass --force to overwrite it`);
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* nothing to clean */ }
    throw new KestrelError('E_IO', `${path}: cannot write the ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try { return realpathSync(a) === realpathSync(b); } catch { return false; }
}
