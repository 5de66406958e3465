#!/usr/bin/env node
// Per-kernel comparison: each of Kestrel's training kernels against the stock wasm kernel
// it replaces, on shapes from the reference models, switching the registration back and
// forth in one process. Reports CPU milliseconds per call (best of 4 rounds of 30 calls),
// which a busy machine disturbs less than wall-clock time.
//
// Usage: node bench/train-kernels-ab.mjs      (after npm run build)
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { setupTrainingBackend } from '../dist/train/kernels/index.js';
import { saveStock } from '../dist/train/kernels/stock.js';
import { KERNELS } from '../dist/train/kernels/register.js';
await setupTrainingBackend();
const mine = Object.fromEntries(KERNELS.map(k => [k.kernelName, k.kernelFunc]));
function use(name, which) { const s = saveStock(name); tf.unregisterKernel(name,'wasm'); tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: which==='mine'? mine[name] : s.kernelFunc }); }
function cpuPer(f, n) { for (let i=0;i<3;i++) tf.dispose(f()); const c0=process.cpuUsage(); for (let i=0;i<n;i++) tf.dispose(f()); const c=process.cpuUsage(c0); return (c.user+c.system)/n/1000; }
const cases = {
  'MaxPoolGrad [64,24,24,6] 2x2': ['MaxPoolGrad', () => { const x=tf.randomNormal([64,24,24,6]); const o=tf.maxPool(x,2,2,'valid'); return () => tf.engine().runKernel('MaxPoolGrad',{dy:o,input:x,output:o},{filterSize:2,strides:2,pad:'valid'}); }],
  'Sum bias [64,24,24,6]': ['Sum', () => { const x=tf.randomNormal([64,24,24,6]); return () => tf.sum(x,[0,1,2]); }],
  'Conv2DBackpropInput LeNet conv2': ['Conv2DBackpropInput', () => { const dy=tf.randomNormal([64,8,8,16]), f=tf.randomNormal([5,5,6,16]); return () => tf.engine().runKernel('Conv2DBackpropInput',{dy,filter:f},{strides:1,pad:'valid',dataFormat:'NHWC',inputShape:[64,12,12,6]}); }],
  'Conv2DBackpropInput driving conv2': ['Conv2DBackpropInput', () => { const dy=tf.randomNormal([64,10,10,64]), f=tf.randomNormal([3,3,32,64]); return () => tf.engine().runKernel('Conv2DBackpropInput',{dy,filter:f},{strides:1,pad:'same',dataFormat:'NHWC',inputShape:[64,10,10,32]}); }],
  'BatchMatMul dense dW 256x64x120 (tA)': ['BatchMatMul', () => { const a=tf.randomNormal([64,256]), b=tf.randomNormal([64,120]); return () => tf.matMul(a,b,true,false); }],
  'BatchMatMul dense dx 64x120x256 (tB)': ['BatchMatMul', () => { const a=tf.randomNormal([64,120]), b=tf.randomNormal([256,120]); return () => tf.matMul(a,b,false,true); }],
  'BatchMatMul ae dx 64x256x784 (tB)': ['BatchMatMul', () => { const a=tf.randomNormal([64,256]), b=tf.randomNormal([784,256]); return () => tf.matMul(a,b,false,true); }],
  'Identity [64,24,24,6]': ['Identity', () => { const x=tf.randomNormal([64,24,24,6]); return () => tf.clone(x); }],
};
for (const [label, [name, make]] of Object.entries(cases)) {
  const f = make(); const r = { mine: [], stock: [] };
  for (let k=0;k<4;k++) for (const w of ['mine','stock']) { use(name, w); r[w].push(cpuPer(f, 30)); }
  use(name, 'mine');
  console.log(label.padEnd(40), 'stock', Math.min(...r.stock).toFixed(3), 'ms  kestrel', Math.min(...r.mine).toFixed(3), 'ms (CPU, best of 4x30)');
}
