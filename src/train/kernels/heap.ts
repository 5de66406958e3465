// Access to the tfjs wasm backend's heap and to its own kernels, for Kestrel's kernels.
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm that the kernels use. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
}

export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** A float32 view of a tensor in the heap. Views go stale when the heap grows: take them after every allocation. */
export function f32(backend: WasmBackend, t: tf.TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`Kestrel training kernels take float32 tensors, got ${t.dtype}`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** The same data under another shape (no copy): for handing reshaped problems to stock kernels. */
export function view(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}
