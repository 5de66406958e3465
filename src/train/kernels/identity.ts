// Identity without a copy. The stock wasm kernel copies the whole tensor; tfjs tensors are
// immutable (a variable's assign swaps in another buffer, it never writes into one), so
// the output can share the input's buffer with one more reference, as the cpu backend's
// Identity and the wasm backend's own Reshape do. The optimizer and tfjs-layers call
// Identity dozens of times per training step (tf.clone, keep, variable updates).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs } from './heap.js';
import { runStock } from './stock.js';

export function identity(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return runStock('Identity', { x }, args.backend);
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig = { kernelName: 'Identity', kernelFunc: identity as unknown as tf.KernelFunc };
