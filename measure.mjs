import { readFileSync } from 'node:fs';
import { readTflite } from '/work/wt/lstmshare/dist/tflite/reader.js';
import { loadDataset } from '/work/wt/lstmshare/dist/data/index.js';
import { quantizeModel } from '/work/wt/lstmshare/dist/quantize/index.js';
const p = '/work/wt/lstmshare/tests/fixtures/models/float/trained_lstm.tflite';
const g = readTflite(new Uint8Array(readFileSync(p)), { source: p });
const calib = await loadDataset('fashion-mnist', { split: 'train', limit: 200 });
const held = await loadDataset('fashion-mnist', { split: 'test', limit: 100 });
const r = await quantizeModel(g, calib, { evalData: held, calibCount: 200 });
const q = readTflite(r.bytes);
let constBytes = 0, nameBytes = 0, nq = 0;
for (const t of q.tensors) { if (t.data) constBytes += t.data.length; nameBytes += t.name.length; if (t.quant) nq += t.quant.scale.length; }
console.log({ bytes: r.bytes.length, float: r.report.float_bytes, ops: q.ops.length, tensors: q.tensors.length, constBytes, nameBytes, nq, opsBy: r.report.ops, ovf: r.report.output_vs_float, quality: r.report.quality });
const consts = q.tensors.filter(t=>t.data).map(t=>[t.name,t.dtype,t.shape.join('x'),t.data.length]);
console.log(consts.length, consts.slice(0,40));
