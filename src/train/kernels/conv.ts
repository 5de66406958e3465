// Convolution gradients for the wasm backend, as im2col / col2im around the backend's
// XNNPACK matrix multiply.
//
// Conv2DBackpropFilter: dW[kh,kw,ci,co] = sum over (b,oh,ow) of x[b, oh*sh+kh-pt, ow*sw+kw-pl, ci]
// * dy[b,oh,ow,co]. With P the patch matrix, rows (kh,kw,ci), columns (b,oh,ow), that is
// dW = P @ dy2d where dy2d is dy seen as [N*OH*OW, CO]. P is built already transposed so
// the multiply needs no transposition: the stock BatchMatMul transposes slowly, while the
// untransposed product goes to XNNPACK.
//
// Conv2DBackpropInput: cols = dy2d @ Wt, with Wt the filter as [CO, KH*KW*CI], gives every
// output pixel's contribution to its input patch; col2im adds the patches into dx.
import * as tf from '@tensorflow/tfjs-core';
import { f32, view, type KernelArgs, type WasmBackend } from './heap.js';
import { runStock } from './stock.js';
import { loops, ptr } from './loops.js';

/** Measurement switch: false sends stride-1 input gradients through the matmul + col2im path too. */
export const convTuning = { inputGradViaConv: true };

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

function isNCHW(attrs: Record<string, unknown>): boolean {
  return tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC') !== 'channelsLast';
}

function convInfoOf(xShape: number[], filterShape: number[], attrs: Record<string, unknown>, what: string): ConvInfo {
  const fmt = 'channelsLast' as const;
  const dil = attrs.dilations as number | [number, number] | undefined;
  if (dil !== undefined && !(dil === 1 || (Array.isArray(dil) && dil[0] === 1 && dil[1] === 1))) {
    throw new Error(`${what}: dilations other than 1 are not supported`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    fmt,
  );
}

/** Writes the transposed patch matrix [KH*KW*CI, N*OH*OW] of x into p (zeros where the window leaves x). */
function im2colT(x: Float32Array, p: Float32Array, c: ConvInfo): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = c;
  const { strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;
  const M = N * OH * OW;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // Output columns whose input column iw = ow*sw + kw - pl lies inside [0, W).
      const owLo = Math.min(OW, Math.max(0, Math.ceil((pl - kw) / sw)));
      const owHi = Math.max(owLo, Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1));
      for (let ci = 0; ci < CI; ci++) {
        let o = ((kh * KW + kw) * CI + ci) * M;
        for (let b = 0; b < N; b++) {
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh + kh - pt;
            if (ih < 0 || ih >= H) {
              p.fill(0, o, o + OW);
              o += OW;
              continue;
            }
            if (owLo > 0) p.fill(0, o, o + owLo);
            let xi = ((b * H + ih) * W + (owLo * sw + kw - pl)) * CI + ci;
            const step = sw * CI;
            for (let ow = owLo; ow < owHi; ow++, xi += step) p[o + ow] = x[xi]!;
            if (owHi < OW) p.fill(0, o + owHi, o + OW);
            o += OW;
          }
        }
      }
    }
  }
}

export function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const filterShape = attrs.filterShape as number[];
  if (isNCHW(attrs)) {
    // Channels-first data: the same computation on NHWC copies (the filter is HWIO either way).
    const xt = runStock('Transpose', { x }, backend, { perm: [0, 2, 3, 1] });
    const dyt = runStock('Transpose', { x: dy }, backend, { perm: [0, 2, 3, 1] });
    // Explicit padding is listed in the data's axis order: [N, C, H, W] -> [N, H, W, C].
    const pad = Array.isArray(attrs.pad) ? [attrs.pad[0], attrs.pad[2], attrs.pad[3], attrs.pad[1]] : attrs.pad;
    const out = conv2DBackpropFilter({ inputs: { x: xt, dy: dyt }, backend, attrs: { ...attrs, pad, dataFormat: 'NHWC' } });
    backend.disposeData(xt.dataId);
    backend.disposeData(dyt.dataId);
    return out;
  }
  const c = convInfoOf(x.shape, filterShape, attrs, 'Conv2DBackpropFilter');
  const K = c.filterHeight * c.filterWidth * c.inChannels;
  const M = c.batchSize * c.outHeight * c.outWidth;
  if (K === 0 || M === 0 || c.outChannels === 0) {
    const out = backend.makeOutput(filterShape, 'float32');
    f32(backend, out).fill(0);
    return out;
  }
  const p = backend.makeOutput([1, K, M], 'float32');
  const L = loops(backend);
  if (L) {
    L.im2colT(ptr(backend, x), ptr(backend, p), c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.strideHeight, c.strideWidth, c.filterHeight, c.filterWidth, c.padInfo.top, c.padInfo.left);
  } else {
    im2colT(f32(backend, x), f32(backend, p), c);
  }
  const dw = runStock('BatchMatMul', { a: p, b: view(dy, [1, M, c.outChannels]) }, backend, { transposeA: false, transposeB: false });
  backend.disposeData(p.dataId);
  return view(dw, filterShape);
}

/** Adds every row of cols [N*OH*OW, KH*KW*CI] into its input patch of dx (dx zeroed first). */
function col2im(cols: Float32Array, dx: Float32Array, c: ConvInfo): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = c;
  const { strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;
  const KC = KH * KW * CI;
  dx.fill(0);
  let r = 0;
  for (let b = 0; b < N; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, r += KC) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw - pl;
            if (iw < 0 || iw >= W) continue;
            const d = ((b * H + ih) * W + iw) * CI;
            const s = r + (kh * KW + kw) * CI;
            for (let ci = 0; ci < CI; ci++) dx[d + ci]! += cols[s + ci]!;
          }
        }
      }
    }
  }
}

export function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const inputShape = attrs.inputShape as number[];
  // The stock kernel handles channels-first data itself.
  if (isNCHW(attrs)) return runStock('Conv2DBackpropInput', { dy, filter }, backend, attrs);
  const c = convInfoOf(inputShape, filter.shape, attrs, 'Conv2DBackpropInput');
  const K = c.filterHeight * c.filterWidth * c.inChannels;
  const CO = c.outChannels;
  const M = c.batchSize * c.outHeight * c.outWidth;
  const dx = backend.makeOutput(inputShape, 'float32');
  if (K === 0 || M === 0 || CO === 0) {
    f32(backend, dx).fill(0);
    return dx;
  }
  const { strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW, inChannels: CI } = c;
  const p = c.padInfo;
  const ft = KH - 1 - p.top;
  const fb = KH - 1 - p.bottom;
  const fl = KW - 1 - p.left;
  const fr = KW - 1 - p.right;
  if (convTuning.inputGradViaConv && sh === 1 && sw === 1 && ft >= 0 && fb >= 0 && fl >= 0 && fr >= 0) {
    // Stride 1: dx is the 'full' correlation of dy with the filter turned by 180 degrees and
    // its channel axes swapped, which the backend's XNNPACK Conv2D computes directly.
    backend.disposeData(dx.dataId);
    const rot = backend.makeOutput([KH, KW, CO, CI], 'float32');
    const w = f32(backend, filter);
    const r = f32(backend, rot);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CI * CO;
        const dst = (kh * KW + kw) * CO * CI;
        for (let ci = 0; ci < CI; ci++) for (let co = 0; co < CO; co++) r[dst + co * CI + ci] = w[src + ci * CO + co]!;
      }
    }
    const out = runStock('Conv2D', { x: dy, filter: rot }, backend, {
      strides: [1, 1],
      pad: [[0, 0], [ft, fb], [fl, fr], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined,
    });
    backend.disposeData(rot.dataId);
    return out;
  }
  // Filter [KH,KW,CI,CO] -> Wt [CO, KH*KW*CI].
  const wt = backend.makeOutput([1, CO, K], 'float32');
  {
    const w = f32(backend, filter);
    const t = f32(backend, wt);
    for (let k = 0; k < K; k++) for (let co = 0; co < CO; co++) t[co * K + k] = w[k * CO + co]!;
  }
  const cols = runStock('BatchMatMul', { a: view(dy, [1, M, CO]), b: wt }, backend, { transposeA: false, transposeB: false });
  backend.disposeData(wt.dataId);
  const L = loops(backend);
  if (L) {
    L.col2im(ptr(backend, cols), ptr(backend, dx), c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.strideHeight, c.strideWidth, c.filterHeight, c.filterWidth, c.padInfo.top, c.padInfo.left);
  } else {
    col2im(f32(backend, cols), f32(backend, dx), c);
  }
  backend.disposeData(cols.dataId);
  return dx;
}

export const conv2DBackpropFilterConfig = { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc };
export const conv2DBackpropInputConfig = { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc };
