// Sum over leading axes: the bias gradient of a conv or dense layer sums dy over every
// axis but the channel axis. The stock kernel first transposes the reduced axes to the
// end (a full copy of dy) and then reduces; here the rows are added straight into one
// accumulator row (in double precision, as the tfjs cpu backend adds). Other reductions go
// to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import { f32, type KernelArgs, type WasmBackend } from './heap.js';
import { runStock } from './stock.js';

export function sum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).slice().sort((p, q) => p - q);
  const leading = axes.length > 0 && axes.length < rank && axes.every((v, i) => v === i);
  if (x.dtype !== 'float32' || !leading) return runStock('Sum', { x }, backend, attrs);
  const k = axes.length;
  const rows = x.shape.slice(0, k).reduce((p, q) => p * q, 1);
  const inner = x.shape.slice(k).reduce((p, q) => p * q, 1);
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
  const out = backend.makeOutput(outShape, 'float32');
  const src = f32(backend, x);
  const dst = f32(backend, out);
  // One column at a time keeps the running sum in a register (a double, as the cpu backend adds).
  const n = rows * inner;
  for (let j = 0; j < inner; j++) {
    let s = 0;
    for (let i = j; i < n; i += inner) s += src[i]!;
    dst[j] = s;
  }
  return out;
}

export const sumConfig = { kernelName: 'Sum', kernelFunc: sum as unknown as tf.KernelFunc };
