// BatchMatMul with a transposed operand. The stock kernel multiplies transposed operands in
// a plain loop, several times slower than its XNNPACK path for untransposed ones (a dense
// layer's weight gradient x^T @ dy and input gradient dy @ W^T are both transposed). Here
// the transposed operand is first written out transposed (cache-blocked, in the heap) and
// the product then goes to the stock kernel untransposed.
import * as tf from '@tensorflow/tfjs-core';
import { f32, view, type KernelArgs, type WasmBackend } from './heap.js';
import { runStock } from './stock.js';
import { loops, ptr } from './loops.js';

/** Transposes the last two axes of t ([..., R, C] -> [B, C, R] with B the product of the rest). */
function transposeLast2(backend: WasmBackend, t: tf.TensorInfo): tf.TensorInfo {
  const rank = t.shape.length;
  const R = t.shape[rank - 2]!;
  const C = t.shape[rank - 1]!;
  const B = t.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([B, C, R], 'float32');
  const L = loops(backend);
  if (L) {
    L.transposeLast2(ptr(backend, t), ptr(backend, out), B, R, C);
    return out;
  }
  const src = f32(backend, t);
  const dst = f32(backend, out);
  const T = 32;
  for (let b = 0; b < B; b++) {
    const o = b * R * C;
    for (let r0 = 0; r0 < R; r0 += T) {
      const r1 = Math.min(R, r0 + T);
      for (let c0 = 0; c0 < C; c0 += T) {
        const c1 = Math.min(C, c0 + T);
        for (let r = r0; r < r1; r++) {
          let s = o + r * C + c0;
          let d = o + c0 * R + r;
          for (let c = c0; c < c1; c++, s++, d += R) dst[d] = src[s]!;
        }
      }
    }
  }
  return out;
}

export function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const ta = !!attrs.transposeA;
  const tb = !!attrs.transposeB;
  if ((!ta && !tb) || a.dtype !== 'float32' || b.dtype !== 'float32') return runStock('BatchMatMul', { a, b }, backend, attrs);
  const aBatch = a.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  const bBatch = b.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  if (!ta && tb && aBatch === 1 && bBatch === 1) {
    // a @ b^T: the stock kernel repacks its right operand on every call, so when b is the
    // big one (a dense layer's input gradient dy @ W^T) compute (b @ a^T)^T instead.
    const M = a.shape[a.shape.length - 2]!;
    const K = a.shape[a.shape.length - 1]!;
    const N = b.shape[b.shape.length - 2]!;
    if (M * K + M * N < K * N) {
      const at = transposeLast2(backend, a);
      const ct = runStock('BatchMatMul', { a: view(b, [1, N, K]), b: at }, backend, { transposeA: false, transposeB: false });
      backend.disposeData(at.dataId);
      const c = transposeLast2(backend, ct);
      backend.disposeData(ct.dataId);
      return view(c, [...a.shape.slice(0, -2), M, N]);
    }
  }
  const a2 = ta ? transposeLast2(backend, a) : a;
  const b2 = tb ? transposeLast2(backend, b) : b;
  // Keep the callers' batch dimensions (for broadcasting); only the last two axes changed.
  const aIn = ta ? view(a2, [...a.shape.slice(0, -2), a2.shape[1]!, a2.shape[2]!]) : a;
  const bIn = tb ? view(b2, [...b.shape.slice(0, -2), b2.shape[1]!, b2.shape[2]!]) : b;
  const out = runStock('BatchMatMul', { a: aIn, b: bIn }, backend, { transposeA: false, transposeB: false });
  if (ta) backend.disposeData(a2.dataId);
  if (tb) backend.disposeData(b2.dataId);
  return out;
}

export const batchMatMulConfig = { kernelName: 'BatchMatMul', kernelFunc: batchMatMul as unknown as tf.KernelFunc };
