// Interop of the quantizer's int8 files with LiteRT.js (XNNPACK): a LeNet trained with the
// training module on the bundled Fashion-MNIST subset, quantized, then run by both engines on
// held-out images.
//
// Kestrel reproduces TFLite's reference integer kernels bit for bit; LiteRT.js's XNNPACK
// kernels round some products the other way (±1 on CONV_2D and FULLY_CONNECTED). So the two
// agree within 1 LSB at every layer up to the logits. A softmax then turns a 1-LSB change of
// a logit (Δz = the logits' scale) into a change of p·(1−p)·Δz in probability, several LSB
// of the 1/256 output scale, so the whole model is checked by that bound and by the top class.
import test from 'ava';
import { join } from 'node:path';
import { loadModel } from '../dist/runtime/model.js';
import { readTflite } from '../dist/tflite/reader.js';
import { writeTflite } from '../dist/tflite/writer.js';
import { layersModelToGraph } from '../dist/convert/tfjs-layers.js';
import { loadDataset } from '../dist/data/index.js';
import { quantizeModel } from '../dist/quantize/index.js';
import { trainRecipe, serializeLayersModel } from '../dist/train/index.js';
import { loadLiteRtNode } from '../dist/bench/litert.js';
import { ROOT } from './helpers.mjs';

const DATA = `fashion-mnist:${join(ROOT, 'assets', 'fashion-mnist-subset')}`;
const N = 400;

test('a quantized LeNet runs in LiteRT.js and Kestrel: logits within 1 LSB, same top class', async (t) => {
  const train = loadDataset(DATA, { split: 'train' });
  const testSet = loadDataset(DATA, { split: 'test' });
  const r = await trainRecipe({ recipe: 'lenet', data: train, testData: null, epochs: 1, seed: 3 });
  const saved = await serializeLayersModel(r.model, {});
  const floatGraph = layersModelToGraph(saved.modelJson, saved.weights);
  const q = await quantizeModel(floatGraph, { x: train.x.subarray(0, 300 * 784), xShape: [300, 28, 28, 1] }, { evalData: testSet, evalCount: 200 });
  const g = readTflite(q.bytes);
  t.deepEqual(g.ops.map((o) => o.opcode), ['CONV_2D', 'MAX_POOL_2D', 'CONV_2D', 'MAX_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'FULLY_CONNECTED', 'FULLY_CONNECTED', 'SOFTMAX']);
  // The same file cut after the last FULLY_CONNECTED: its int8 logits.
  const last = g.ops.length - 1;
  const logitsBytes = writeTflite({ ...g, ops: g.ops.slice(0, last), outputs: [g.ops[last].inputs[0]] });
  const logitT = g.tensors[g.ops[last].inputs[0]];
  const inT = g.tensors[g.inputs[0]];

  const { lib } = await loadLiteRtNode();
  const engines = [];
  for (const bytes of [q.bytes, logitsBytes]) {
    const k = await loadModel(bytes);
    const lr = await lib.loadAndCompile(bytes, { accelerator: 'wasm' });
    engines.push({ k, lr });
  }
  const run = async (e, x) => {
    const a = e.k.run([x])[0];
    const tin = new lib.Tensor(x, inT.shape);
    const outs = await e.lr.run([tin]);
    const b = outs[0].toTypedArray();
    outs.forEach((o) => o.delete()); tin.delete();
    return [a, b];
  };
  const argmax = (v) => v.indexOf(Math.max(...v));
  let logitsMax = 0, logitsSame = 0, probExcess = 0, topSame = 0;
  for (let i = 0; i < N; i++) {
    const x = Int8Array.from(testSet.x.subarray(i * 784, (i + 1) * 784), (v) => Math.max(-128, Math.min(127, Math.round(v / inT.quant.scale[0]) + inT.quant.zeroPoint[0])));
    const [la, lb] = await run(engines[1], x);
    let m = 0;
    for (let j = 0; j < la.length; j++) m = Math.max(m, Math.abs(la[j] - lb[j]));
    logitsMax = Math.max(logitsMax, m);
    if (m === 0) logitsSame++;
    const [pa, pb] = await run(engines[0], x);
    // Softmax sensitivity: |Δp_j| <= Σ_k |∂p_j/∂z_k|·|Δz_k| <= 2·p_j·max|Δz| (+1 LSB of rounding).
    const dz = m * logitT.quant.scale[0];
    for (let j = 0; j < pa.length; j++) {
      const p = (pa[j] + 128) / 256;
      const bound = 256 * 2 * p * dz + 1;
      probExcess = Math.max(probExcess, Math.abs(pa[j] - pb[j]) - bound);
    }
    if (argmax(Array.from(pa)) === argmax(Array.from(pb)) || argmax(Array.from(la)) !== argmax(Array.from(lb))) topSame++;
  }
  t.log(`logits: max |Kestrel − LiteRT.js| ${logitsMax} LSB, identical on ${logitsSame}/${N} images`);
  t.true(logitsMax <= 1, `logits differ by ${logitsMax} LSB`);
  t.true(logitsSame >= N * 0.3, `identical logits on only ${logitsSame}/${N}`);
  t.true(probExcess <= 0, `softmax outputs differ beyond the sensitivity bound by ${probExcess} LSB`);
  t.is(topSame, N, 'the top class differs where the logits agree on it');
  // And the int8 model is a faithful copy of the float one.
  t.true(q.report.quality.int8_accuracy >= q.report.quality.float_accuracy - 0.02, JSON.stringify(q.report.quality));
});
