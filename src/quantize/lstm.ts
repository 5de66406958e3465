/**
 * Unrolls a float UNIDIRECTIONAL_SEQUENCE_LSTM into per-timestep ops that every int8 TFLite
 * runtime runs: one FULLY_CONNECTED for the input side of all gates and all steps, then per
 * step STRIDED_SLICE, one FULLY_CONNECTED for the recurrent side of all gates, ADD, LOGISTIC
 * (the three sigmoid gates together), TANH, MUL, and MINIMUM/MAXIMUM for a cell clip. The state starts at zero on
 * every invocation (Keras semantics; the variable state tensors disappear), so the first step
 * has no recurrent term. See docs/quantization.md for why the op is unrolled.
 *
 * Supported: time_major false, any batch, sigmoid gates (TFLite's only choice), tanh cell
 * activation, separate input gate (no CIFG), no peephole, projection or layer norm.
 */
import { KestrelError } from '../errors.js';
import type { Graph, Op } from '../graph/types.js';
import { addTensor, constFloat, constTensor, makeOp } from './tensor-data.js';

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
  const slice = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false };
  const bh = [B, H];
  // One weight matrix per gate set, gates stacked as [input, forget, output, cell]: the three
  // sigmoid gates are contiguous, so one LOGISTIC covers them. Every step reads these same
  // constants (one copy in the file); the gate biases live in the input-side product only.
  const order = [0, 1, 3, 2];
  const stack = (base: number, cols: number) => {
    const v = new Float32Array(4 * H * cols);
    order.forEach((k, j) => v.set(constFloat(g.tensors[inp(base + k)]!).subarray(0, H * cols), j * H * cols));
    return v;
  };
  const wx = constTensor(g, `${name}/wx`, [4 * H, I], 'float32', stack(1, I));
  const wh = constTensor(g, `${name}/wh`, [4 * H, H], 'float32', stack(5, H));
  const bias = constTensor(g, `${name}/b`, [4 * H], 'float32', stack(12, 1));
  // The input-side products of all steps at once: [B*T, 4H], row b*T + t.
  const zx = emit('FULLY_CONNECTED', [x.index, wx, bias], [B * T, 4 * H], 'zx', fc);
  // Step t's rows: begin [t, 0], stride [T, 1]; the end and strides are shared by all steps.
  const zxEnd = constTensor(g, `${name}/zx_end`, [2], 'int32', [B * T, 4 * H]);
  const zxStride = constTensor(g, `${name}/zx_step`, [2], 'int32', [T, 1]);
  const gateSlice = (from: number, to: number) => ({
    begin: constTensor(g, `${name}/g${from}`, [2], 'int32', [0, from * H]),
    end: constTensor(g, `${name}/g${to}e`, [2], 'int32', [B, to * H]),
  });
  const unit = constTensor(g, `${name}/s1`, [2], 'int32', [1, 1]);
  const sigAll = gateSlice(0, 3), cellZ = gateSlice(3, 4), iS = gateSlice(0, 1), fS = gateSlice(1, 2), oS = gateSlice(2, 3);
  const cut = (src: number, s: { begin: number; end: number }, w: number, n: string) => emit('STRIDED_SLICE', [src, s.begin, s.end, unit], [B, w], n, slice);
  const clip = o.cellClip > 0 ? o.cellClip : 0;
  let clipHi = -1, clipLo = -1;
  if (clip) {
    clipHi = constTensor(g, `${name}/clip_max`, [1], 'float32', [clip]);
    clipLo = constTensor(g, `${name}/clip_min`, [1], 'float32', [-clip]);
  }
  const hs: number[] = [];
  let h = -1, c = -1;
  for (let t = 0; t < T; t++) {
    const begin = constTensor(g, `${name}/${t}/b`, [2], 'int32', [t, 0]);
    let z = emit('STRIDED_SLICE', [zx, begin, zxEnd, zxStride], [B, 4 * H], `${t}/zx`, slice);
    if (h >= 0) {
      const r = emit('FULLY_CONNECTED', [h, wh, -1], [B, 4 * H], `${t}/zh`, fc);
      z = emit('ADD', [z, r], [B, 4 * H], `${t}/z`, { activation: 'NONE', potScaleInt16: true });
    }
    const s = emit('LOGISTIC', [cut(z, sigAll, 3 * H, `${t}/zs`)], [B, 3 * H], `${t}/s`);
    const cg = emit('TANH', [cut(z, cellZ, H, `${t}/zg`)], bh, `${t}/g`);
    const ig = emit('MUL', [cut(s, iS, H, `${t}/i`), cg], bh, `${t}/ig`, { activation: 'NONE' });
    if (c < 0) c = ig;
    else {
      const fc_ = emit('MUL', [cut(s, fS, H, `${t}/f`), c], bh, `${t}/fc`, { activation: 'NONE' });
      c = emit('ADD', [fc_, ig], bh, `${t}/c`, { activation: 'NONE', potScaleInt16: true });
    }
    if (clip) {
      c = emit('MINIMUM', [c, clipHi], bh, `${t}/cmin`);
      c = emit('MAXIMUM', [c, clipLo], bh, `${t}/cclip`);
    }
    const tc = emit('TANH', [c], bh, `${t}/tc`);
    h = emit('MUL', [cut(s, oS, H, `${t}/o`), tc], bh, `${t}/h`, { activation: 'NONE' });
    hs.push(h);
  }
  const seqOut = op.outputs[0]!;
  const readers = g.ops.filter((r) => r.inputs.includes(seqOut));
  if (readers.length && readers.every((r) => r.opcode === 'STRIDED_SLICE') && !g.outputs.includes(seqOut)) {
    // Only slices read the sequence (e.g. Keras's last step): every h_t as [B, 1, H],
    // concatenated along time, so that clean-up replaces each slice by the step it takes.
    const shapeC = constTensor(g, `${name}/h3_shape`, [3], 'int32', [B, 1, H]);
    const parts = hs.map((ht, t) => emit('RESHAPE', [ht, shapeC], [B, 1, H], `${t}/h3`, { newShape: [B, 1, H] }));
    out.push(makeOp('CONCATENATION', parts, [seqOut], { axis: 1, activation: 'NONE' }));
  } else {
    // The whole sequence [B, T, H]: the h_t side by side ([B, T*H], row b is h_0[b] h_1[b] ...),
    // then one RESHAPE.
    const flat = emit('CONCATENATION', hs, [B, T * H], 'seq', { axis: 1, activation: 'NONE' });
    const shapeS = constTensor(g, `${name}/seq_shape`, [3], 'int32', [B, T, H]);
    out.push(makeOp('RESHAPE', [flat, shapeS], [seqOut], { newShape: [B, T, H] }));
  }
  // The state tensors are no longer read; compact() drops them.
  return out;
}
