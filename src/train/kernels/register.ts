// Registers Kestrel's training kernels into the tfjs wasm backend.
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from './conv.js';

type Config = { kernelName: string; kernelFunc: tf.KernelFunc };

export const KERNELS: Config[] = [conv2DBackpropFilterConfig, conv2DBackpropInputConfig];

/** Registers every kernel (replacing the stock one where the backend has it) and returns their names. */
export async function registerKestrelKernels(): Promise<string[]> {
  const names: string[] = [];
  for (const k of KERNELS) {
    if (tf.getKernel(k.kernelName, 'wasm')) tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({ kernelName: k.kernelName, backendName: 'wasm', kernelFunc: k.kernelFunc });
    names.push(k.kernelName);
  }
  return names;
}
