/**
 * Helpers shared by the shape family's prepare steps: reading constant index tensors,
 * element sizes, and the 6-D strided walk descriptor that the data-movement and
 * reduction kernels iterate with.
 */
import type { DType, Tensor } from '../../graph/types.js';
import type { OpContext } from './types.js';

/** Dimensions of the strided walk the kernels run (leading dimensions padded with 1). */
export const WALK_DIMS = 6;
/** Words in a walk descriptor: [elemBytes, count×6, srcStride×6, dstStride×6]. */
export const WALK_WORDS = 1 + 3 * WALK_DIMS;

/** Bytes per element of the dtypes the pure data-movement ops accept. */
export function moveElemSize(d: DType): number {
  switch (d) {
    case 'int8': case 'uint8': case 'bool': return 1;
    case 'int16': return 2;
    case 'int32': case 'float32': return 4;
    case 'int64': return 8;
    default: return 0;
  }
}

/** Row-major element strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The values of a constant integer tensor (int32, or int64 when allowed), as numbers.
 * Fails when the tensor is not constant or its values do not fit in int32.
 */
export function constInts(ctx: OpContext, t: Tensor, what: string, allowInt64 = false): number[] {
  if (!t.data) ctx.unsupported(`${what} tensor #${t.index} is not constant (only constant ${what} is supported)`);
  const data = t.data!;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: number[] = [];
  if (t.dtype === 'int32') {
    for (let i = 0; i + 4 <= data.byteLength; i += 4) out.push(view.getInt32(i, true));
  } else if (t.dtype === 'int64' && allowInt64) {
    for (let i = 0; i + 8 <= data.byteLength; i += 8) {
      const v = view.getBigInt64(i, true);
      if (v < -0x80000000n || v > 0x7fffffffn) ctx.fail(`${what} value ${v} is out of range`);
      out.push(Number(v));
    }
  } else {
    ctx.fail(`${what} tensor #${t.index} has type ${t.dtype} (expected int32${allowInt64 ? ' or int64' : ''})`);
  }
  return out;
}

/** Per-tensor (first) scale and zero point, as TFLite's params would hold them (0 when absent). */
export function qparams(t: Tensor): { scale: number; zp: number } {
  return { scale: t.quant?.scale[0] ?? 0, zp: t.quant?.zeroPoint[0] ?? 0 };
}

/**
 * Builds a walk descriptor: for every index of `counts` (row-major order), element
 * src[Σ i·srcStride] goes to dst[Σ i·dstStride]. Strides are in elements here and
 * bytes in the descriptor. Size-1 dimensions are dropped and dimensions that are
 * contiguous in both source and destination are merged (`dstElemBytes` scales the
 * destination strides when the destination is not of the source's type), so the kernel's innermost
 * dimension is as long as possible (it becomes one memory.copy when contiguous).
 * Fails (unsupported) when more than 6 dimensions remain.
 */
export function walkDescriptor(
  ctx: OpContext, elemBytes: number, counts: readonly number[],
  srcStrides: readonly number[], dstStrides: readonly number[], dstElemBytes = elemBytes,
): number[] {
  let c: number[] = [];
  let s: number[] = [];
  let d: number[] = [];
  if (counts.some((n) => n === 0)) {
    c = [0]; s = [0]; d = [0];
  } else {
    // Walk from the innermost dimension outwards, merging where possible.
    for (let k = counts.length - 1; k >= 0; k--) {
      const n = counts[k]!;
      if (n === 1) continue;
      const top = c.length - 1;
      if (top >= 0 && srcStrides[k] === s[top]! * c[top]! && dstStrides[k] === d[top]! * c[top]!) {
        c[top] = c[top]! * n;
      } else {
        c.push(n); s.push(srcStrides[k]!); d.push(dstStrides[k]!);
      }
    }
    c.reverse(); s.reverse(); d.reverse();
  }
  if (c.length > WALK_DIMS) ctx.unsupported(`the data movement needs ${c.length} dimensions after merging (at most ${WALK_DIMS} supported)`);
  while (c.length < WALK_DIMS) { c.unshift(1); s.unshift(0); d.unshift(0); }
  // Index loops, not spreads: this runs per op at load, before the engine has optimized it.
  const words = [elemBytes];
  for (let j = 0; j < WALK_DIMS; j++) words.push(c[j]!);
  for (let j = 0; j < WALK_DIMS; j++) words.push(s[j]! * elemBytes);
  for (let j = 0; j < WALK_DIMS; j++) words.push(d[j]! * dstElemBytes);
  for (let j = 0; j < words.length; j++) {
    const x = words[j]!;
    if (!Number.isInteger(x) || x < -0x80000000 || x > 0x7fffffff) ctx.fail(`tensor too large for a strided walk`);
  }
  return words;
}

/** Resolves a possibly negative axis against a rank; fails when out of range. */
export function resolveAxis(ctx: OpContext, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) ctx.fail(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Kernel ids of the shape family (must match assembly/ops/shape.ts and shape-reduce.ts). */
export const K = {
  COPY: 501,
  WALK: 502,
  PAD: 503,
  CONCAT: 504,
  MEAN: 505,
  AVERAGE_POOL: 506,
  MAX_POOL: 507,
} as const;
