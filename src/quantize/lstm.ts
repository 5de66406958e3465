/**
 * Unrolls a float UNIDIRECTIONAL_SEQUENCE_LSTM into per-timestep ops that every int8 TFLite
 * runtime runs: STRIDED_SLICE (x_t), FULLY_CONNECTED (input and recurrent parts, per gate),
 * ADD, LOGISTIC, TANH, MUL, and MINIMUM/MAXIMUM for a cell clip. The state starts at zero on
 * every invocation (Keras semantics; the variable state tensors disappear), so the first step
 * has no recurrent term. See docs/quantization.md for why the op is unrolled.
 *
 * Supported: time_major false, any batch, sigmoid gates (TFLite's only choice), tanh cell
 * activation, separate input gate (no CIFG), no peephole, projection or layer norm.
 */
import { KestrelError } from '../errors.js';
import type { Graph, Op } from '../graph/types.js';
import { addTensor, constFloat, constTensor, makeOp } from './tensor-data.js';

const GATES = ['input', 'forget', 'cell', 'output'] as const;

function refuse(g: Graph, op: Op, why: string): never {
  throw new KestrelError('E_QUANTIZE', `${g.source}: op #${op.index} UNIDIRECTIONAL_SEQUENCE_LSTM '${g.tensors[op.outputs[0]!]?.name}': ${why}; only plain LSTMs (sigmoid gates, tanh cell, no CIFG/peephole/projection/layer norm, batch-major) can be unrolled`);
}

/** Replaces every UNIDIRECTIONAL_SEQUENCE_LSTM of a float graph in place; returns how many. */
export function unrollLstms(g: Graph): number {
  let count = 0;
  const ops: Op[] = [];
  for (const op of g.ops) {
    if (op.opcode !== 'UNIDIRECTIONAL_SEQUENCE_LSTM') { ops.push(op); continue; }
    ops.push(...unrollOne(g, op));
    count++;
  }
  g.ops = ops;
  g.ops.forEach((o, k) => { o.index = k; });
  return count;
}

function unrollOne(g: Graph, op: Op): Op[] {
  const inp = (k: number) => (op.inputs[k] !== undefined ? op.inputs[k]! : -1);
  const o = op.options;
  const x = g.tensors[inp(0)]!;
  if (x.dtype !== 'float32') refuse(g, op, `input is ${x.dtype}, expected a float32 model`);
  if (o.timeMajor) refuse(g, op, 'time_major is true');
  if (o.activation !== 'TANH') refuse(g, op, `cell activation is ${o.activation}`);
  if (inp(1) < 0 || inp(5) < 0 || inp(12) < 0) refuse(g, op, 'it couples the input and forget gates (CIFG)');
  for (const k of [9, 10, 11]) if (inp(k) >= 0) refuse(g, op, 'it has peephole weights');
  if (inp(16) >= 0 || inp(17) >= 0) refuse(g, op, 'it has a projection');
  for (const k of [20, 21, 22, 23]) if (inp(k) >= 0) refuse(g, op, 'it has layer normalization');
  if (x.shape.length !== 3) refuse(g, op, `input has shape [${x.shape}], expected [batch, time, features]`);
  for (const k of [18, 19]) {
    const s = g.tensors[inp(k)];
    if (s?.data && constFloat(s).some((v) => v !== 0)) refuse(g, op, `initial state '${s.name}' is not zero`);
  }
  const [B, T, I] = x.shape as [number, number, number];
  const H = g.tensors[inp(2)]!.shape[0]!;
  // Short names keep the unrolled file small: the last path part of the LSTM's output name.
  const full = g.tensors[op.outputs[0]!]!.name;
  const name = (full.split(';')[0]!.split('/').filter(Boolean).pop() ?? '').replace(/^tfl\.unidirectional_sequence_/, '').slice(0, 12) || `lstm${op.index}`;
  const out: Op[] = [];
  const act = (shape: number[], n: string) => addTensor(g, { name: `${name}/${n}`, shape, dtype: 'float32' });
  const emit = (opcode: string, ins: number[], shape: number[], n: string, options: Record<string, any> = {}) => {
    const t = act(shape, n);
    out.push(makeOp(opcode, ins, [t], options));
    return t;
  };
  const fc = { activation: 'NONE', weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false, quantizedBiasType: 0 };
  const bh = [B, H];
  const clip = o.cellClip > 0 ? o.cellClip : 0;
  let clipHi = -1, clipLo = -1;
  if (clip) {
    clipHi = constTensor(g, `${name}/cell_clip_max`, [1], 'float32', [clip]);
    clipLo = constTensor(g, `${name}/cell_clip_min`, [1], 'float32', [-clip]);
  }
  const hs: number[] = [];
  let h = -1, c = -1;
  const strides = constTensor(g, `${name}/strides`, [3], 'int32', [1, 1, 1]);
  for (let t = 0; t < T; t++) {
    const begin = constTensor(g, `${name}/t${t}/begin`, [3], 'int32', [0, t, 0]);
    const end = constTensor(g, `${name}/t${t}/end`, [3], 'int32', [B, t + 1, I]);
    const xt = emit('STRIDED_SLICE', [x.index, begin, end, strides], [B, I], `t${t}/x`, {
      beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 2, offset: false,
    });
    const z: number[] = [];
    GATES.forEach((gate, k) => {
      const a = emit('FULLY_CONNECTED', [xt, inp(1 + k), inp(12 + k)], bh, `t${t}/${gate}_x`, fc);
      if (h < 0) { z.push(a); return; }
      const r = emit('FULLY_CONNECTED', [h, inp(5 + k), -1], bh, `t${t}/${gate}_h`, fc);
      z.push(emit('ADD', [a, r], bh, `t${t}/${gate}_pre`, { activation: 'NONE', potScaleInt16: true }));
    });
    const ig = emit('LOGISTIC', [z[0]!], bh, `t${t}/i`);
    const fg = emit('LOGISTIC', [z[1]!], bh, `t${t}/f`);
    const cg = emit('TANH', [z[2]!], bh, `t${t}/g`);
    const og = emit('LOGISTIC', [z[3]!], bh, `t${t}/o`);
    const icg = emit('MUL', [ig, cg], bh, `t${t}/ig`, { activation: 'NONE' });
    if (c < 0) c = icg;
    else {
      const fc_ = emit('MUL', [fg, c], bh, `t${t}/fc`, { activation: 'NONE' });
      c = emit('ADD', [fc_, icg], bh, `t${t}/c`, { activation: 'NONE', potScaleInt16: true });
    }
    if (clip) {
      c = emit('MINIMUM', [c, clipHi], bh, `t${t}/c_min`);
      c = emit('MAXIMUM', [c, clipLo], bh, `t${t}/c_clip`);
    }
    const tc = emit('TANH', [c], bh, `t${t}/tanh_c`);
    h = emit('MUL', [og, tc], bh, `t${t}/h`, { activation: 'NONE' });
    hs.push(h);
  }
  // The sequence output [B, T, H]: every h_t as [B, 1, H], concatenated along time.
  const seqOut = op.outputs[0]!;
  const shapeC = constTensor(g, `${name}/h3_shape`, [3], 'int32', [B, 1, H]);
  const parts = hs.map((ht, t) => {
    return emit('RESHAPE', [ht, shapeC], [B, 1, H], `t${t}/h3`, { newShape: [B, 1, H] });
  });
  out.push(makeOp('CONCATENATION', parts, [seqOut], { axis: 1, activation: 'NONE' }));
  // The state tensors are no longer read; compact() drops them.
  return out;
}
