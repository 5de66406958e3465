// Registers Kestrel's training kernels into the tfjs wasm backend.
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from './conv.js';
import { batchMatMulConfig } from './matmul.js';
import { maxPoolGradConfig } from './pool.js';
import { sumConfig } from './reduce.js';
import { identityConfig } from './identity.js';
import { tanhConfig } from './tanh.js';
import { saveStock } from './stock.js';

type Config = { kernelName: string; kernelFunc: tf.KernelFunc };

export const KERNELS: Config[] = [conv2DBackpropFilterConfig, conv2DBackpropInputConfig, maxPoolGradConfig, sumConfig, batchMatMulConfig, identityConfig, tanhConfig];

/**
 * Registers every kernel, replacing the stock one where the backend has it, and returns
 * their names. A replaced kernel's setup step (it binds the backend's exported C
 * functions) still runs when the backend starts, so Kestrel's kernel can fall back to it.
 */
export async function registerKestrelKernels(): Promise<string[]> {
  const names: string[] = [];
  for (const k of KERNELS) {
    const stock = saveStock(k.kernelName);
    if (stock) tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({ kernelName: k.kernelName, backendName: 'wasm', kernelFunc: k.kernelFunc, setupFunc: stock?.setupFunc });
    names.push(k.kernelName);
  }
  return names;
}
