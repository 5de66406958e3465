// MaxPoolGrad for the wasm backend: each output's gradient goes to the first maximum of its
// window (row-major scan, strict '>', as the tfjs cpu backend picks it). One pass over
// the outputs, reading each window once, instead of the stock kernel's pass over every
// input pixel and every window that covers it.
import * as tf from '@tensorflow/tfjs-core';
import { f32, type KernelArgs, type WasmBackend } from './heap.js';
import { loops, ptr } from './loops.js';

export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = args.attrs ?? {};
  const c = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize as [number, number] | number,
    a.strides as [number, number] | number,
    1,
    a.pad as 'same' | 'valid' | number,
    a.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const dxT = backend.makeOutput(input.shape, 'float32');
  const L = loops(backend);
  if (L) {
    L.maxPoolGrad(ptr(backend, input), ptr(backend, dy), ptr(backend, dxT), c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.strideHeight, c.strideWidth, c.effectiveFilterHeight, c.effectiveFilterWidth, c.padInfo.top, c.padInfo.left);
    return dxT;
  }
  const x = f32(backend, input);
  const g = f32(backend, dy);
  const dx = f32(backend, dxT);
  dx.fill(0);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = c;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: FH, effectiveFilterWidth: FW } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;
  let o = 0;
  for (let b = 0; b < N; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const r0 = oh * sh - pt;
      const rLo = Math.max(0, r0);
      const rHi = Math.min(H, r0 + FH);
      for (let ow = 0; ow < OW; ow++) {
        const c0 = ow * sw - pl;
        const cLo = Math.max(0, c0);
        const cHi = Math.min(W, c0 + FW);
        for (let ch = 0; ch < C; ch++, o++) {
          let best = -Infinity;
          let at = -1;
          for (let r = rLo; r < rHi; r++) {
            let i = ((b * H + r) * W + cLo) * C + ch;
            for (let q = cLo; q < cHi; q++, i += C) {
              const v = x[i]!;
              if (v > best) {
                best = v;
                at = i;
              }
            }
          }
          if (at >= 0) dx[at]! += g[o]!;
        }
      }
    }
  }
  return dxT;
}

export const maxPoolGradConfig = { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad as unknown as tf.KernelFunc };
