// The wasm backend's own kernels, kept when Kestrel registers a kernel under the same name
// so that Kestrel's kernel can hand the cases it does not speed up back to them.
import * as tf from '@tensorflow/tfjs-core';

const saved = new Map<string, tf.KernelConfig>();

/** Remembers the stock kernel `name` (before it is unregistered). */
export function saveStock(name: string): tf.KernelConfig | undefined {
  const k = tf.getKernel(name, 'wasm');
  if (k && !saved.has(name)) saved.set(name, k);
  return saved.get(name);
}

/** Runs the stock wasm kernel `name`. */
export function runStock(name: string, inputs: Record<string, tf.TensorInfo>, backend: unknown, attrs: Record<string, unknown> = {}): tf.TensorInfo {
  const k = saved.get(name) ?? tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k.kernelFunc({ inputs, backend: backend as never, attrs: attrs as never }) as tf.TensorInfo;
}
