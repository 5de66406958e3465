// Tanh with Kestrel's SIMD approximation (assembly/train/index.ts): an LSTM applies tanh
// twice per step, and the stock kernel evaluates it one element at a time with libm.
// Without the wasm loops, or for other dtypes, the stock kernel runs.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs, WasmBackend } from './heap.js';
import { loops, ptr } from './loops.js';
import { runStock } from './stock.js';

export function tanh(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const L = loops(backend);
  if (!L || x.dtype !== 'float32') return runStock('Tanh', { x }, backend);
  const out = backend.makeOutput(x.shape, 'float32');
  L.tanh(ptr(backend, x), ptr(backend, out), tf.util.sizeFromShape(x.shape));
  return out;
}

export const tanhConfig = { kernelName: 'Tanh', kernelFunc: tanh as unknown as tf.KernelFunc };
