/**
 * Unrolls a float UNIDIRECTIONAL_SEQUENCE_LSTM into per-timestep ops that every int8 TFLite
 * runtime runs. Two gate sets (the sigmoid gates input/forget/output stacked, and the cell
 * gate) each get one FULLY_CONNECTED computing the input side of all steps at once; per step
 * and set a STRIDED_SLICE takes the step's rows, a bias-free FULLY_CONNECTED adds the
 * recurrent side (ADD), then LOGISTIC or TANH; STRIDED_SLICE splits the sigmoid gates; MUL,
 * ADD and TANH update the cell and hidden state; MINIMUM/MAXIMUM clip the cell. All steps read
 * the same weight constants. The state starts at zero on
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
  // Short names keep the unrolled file small (the writer stores every tensor's name): the last
  // path part of the LSTM's output name that names an LSTM ('lstm' of 'lstm/sequence'), else
  // its last part.
  const full = g.tensors[op.outputs[0]!]!.name;
  const parts = full.split(';')[0]!.split('/').filter(Boolean).map((p) => p.replace(/^tfl\.unidirectional_sequence_/, ''));
  const name = ([...parts].reverse().find((p) => /lstm/i.test(p)) ?? parts.pop() ?? '').slice(0, 12) || `lstm${op.index}`;
  const out: Op[] = [];
  // Index constants (slice bounds, shapes) by value: equal ones are one tensor.
  const intCache = new Map<string, number>();
  const ints = (n: string, values: number[]) => {
    const key = values.join(',');
    let k = intCache.get(key);
    if (k === undefined) intCache.set(key, k = constTensor(g, `${name}/${n}`, [values.length], 'int32', values));
    return k;
  };
  const act = (shape: number[], n: string) => addTensor(g, { name: `${name}/${n}`, shape, dtype: 'float32' });
  const emit = (opcode: string, ins: number[], shape: number[], n: string, options: Record<string, any> = {}) => {
    const t = act(shape, n);
    out.push(makeOp(opcode, ins, [t], options));
    return t;
  };
  const fc = { activation: 'NONE', weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false, quantizedBiasType: 0 };
  const slice = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false };
  const bh = [B, H];
  // Gate sets: the three sigmoid gates stacked as [input, forget, output], and the cell gate.
  // Each set has one input-side and one recurrent weight matrix that every step reads (one
  // copy in the file), and its own int8 parameters for the pre-activations (the cell gate's
  // range differs from the sigmoid gates'). The gate biases live in the input-side product.
  const SETS = [[0, 1, 3], [2]];
  const stack = (base: number, gates: number[], cols: number) => {
    const v = new Float32Array(gates.length * H * cols);
    gates.forEach((k, j) => v.set(constFloat(g.tensors[inp(base + k)]!).subarray(0, H * cols), j * H * cols));
    return v;
  };
  const LETTER = ['i', 'f', 'g', 'o'];
  const unit = ints(`s1`, [1, 1]);
  // Step t's rows of an input-side product [B*T, n] (row b*T + t): begin [t, 0], stride
  // [T, 1]; the end and the strides are shared by all steps.
  const zxStride = ints(`zx_step`, [T, 1]);
  const sets = SETS.map((gates) => {
    const n = gates.length * H, tag = gates.map((k) => LETTER[k]).join('');
    const wx = constTensor(g, `${name}/wx_${tag}`, [n, I], 'float32', stack(1, gates, I));
    const wh = constTensor(g, `${name}/wh_${tag}`, [n, H], 'float32', stack(5, gates, H));
    const bias = constTensor(g, `${name}/b_${tag}`, [n], 'float32', stack(12, gates, 1));
    // The input-side products of all steps at once.
    const zx = emit('FULLY_CONNECTED', [x.index, wx, bias], [B * T, n], `zx_${tag}`, fc);
    const end = ints(`zx_end_${tag}`, [B * T, n]);
    // Where each gate of the set lies in the set's activation.
    const parts = gates.map((k, j) => ({
      gate: k,
      begin: ints(`${tag}${j}`, [0, j * H]),
      end: ints(`${tag}${j}e`, [B, (j + 1) * H]),
    }));
    return { gates, n, tag, wh, zx, end, parts, sigmoid: !gates.includes(2) };
  });
  const clip = o.cellClip > 0 ? o.cellClip : 0;
  let clipHi = -1, clipLo = -1;
  if (clip) {
    clipHi = constTensor(g, `${name}/clip_max`, [1], 'float32', [clip]);
    clipLo = constTensor(g, `${name}/clip_min`, [1], 'float32', [-clip]);
  }
  const hs: number[] = [];
  let h = -1, c = -1;
  for (let t = 0; t < T; t++) {
    const begin = ints(`${t}/b`, [t, 0]);
    const gate: number[] = [];
    for (const s of sets) {
      let z = emit('STRIDED_SLICE', [s.zx, begin, s.end, zxStride], [B, s.n], `${t}/zx_${s.tag}`, slice);
      if (h >= 0) {
        const r = emit('FULLY_CONNECTED', [h, s.wh, -1], [B, s.n], `${t}/zh_${s.tag}`, fc);
        z = emit('ADD', [z, r], [B, s.n], `${t}/z_${s.tag}`, { activation: 'NONE', potScaleInt16: true });
      }
      const a = emit(s.sigmoid ? 'LOGISTIC' : 'TANH', [z], [B, s.n], `${t}/${s.tag}`);
      for (const p of s.parts) {
        gate[p.gate] = s.gates.length === 1 ? a : emit('STRIDED_SLICE', [a, p.begin, p.end, unit], bh, `${t}/${LETTER[p.gate]}`, slice);
      }
    }
    const ig = emit('MUL', [gate[0]!, gate[2]!], bh, `${t}/ig`, { activation: 'NONE' });
    if (c < 0) c = ig;
    else {
      const fc_ = emit('MUL', [gate[1]!, c], bh, `${t}/fc`, { activation: 'NONE' });
      c = emit('ADD', [fc_, ig], bh, `${t}/c`, { activation: 'NONE', potScaleInt16: true });
    }
    if (clip) {
      c = emit('MINIMUM', [c, clipHi], bh, `${t}/cmin`);
      c = emit('MAXIMUM', [c, clipLo], bh, `${t}/cclip`);
    }
    const tc = emit('TANH', [c], bh, `${t}/tc`);
    h = emit('MUL', [gate[3]!, tc], bh, `${t}/h`, { activation: 'NONE' });
    hs.push(h);
  }
  const seqOut = op.outputs[0]!;
  const readers = g.ops.filter((r) => r.inputs.includes(seqOut));
  if (readers.length && readers.every((r) => r.opcode === 'STRIDED_SLICE') && !g.outputs.includes(seqOut)) {
    // Only slices read the sequence (e.g. Keras's last step): every h_t as [B, 1, H],
    // concatenated along time, so that clean-up replaces each slice by the step it takes.
    const shapeC = ints(`h3_shape`, [B, 1, H]);
    const parts = hs.map((ht, t) => emit('RESHAPE', [ht, shapeC], [B, 1, H], `${t}/h3`, { newShape: [B, 1, H] }));
    out.push(makeOp('CONCATENATION', parts, [seqOut], { axis: 1, activation: 'NONE' }));
  } else {
    // The whole sequence [B, T, H]: the h_t side by side ([B, T*H], row b is h_0[b] h_1[b] ...),
    // then one RESHAPE.
    const flat = emit('CONCATENATION', hs, [B, T * H], 'seq', { axis: 1, activation: 'NONE' });
    const shapeS = ints(`seq_shape`, [B, T, H]);
    out.push(makeOp('RESHAPE', [flat, shapeS], [seqOut], { newShape: [B, T, H] }));
  }
  // The state tensors are no longer read; compact() drops them.
  return out;
}
