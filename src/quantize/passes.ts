/**
 * Clean-up passes on a float graph before calibration. Each keeps the graph's float results
 * (up to float rounding) and makes the int8 graph smaller or more accurate:
 *
 * - fold MUL/ADD/SUB by a per-channel or scalar constant (batch normalization) into the
 *   preceding CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED weights and bias;
 * - fuse standalone RELU / RELU6 / RELU_N1_TO_1 into their producer;
 * - split fused activations int8 kernels do not implement (TANH, SIGN_BIT) into their own op;
 * - replace a STRIDED_SLICE that takes one whole part of a CONCATENATION by that part;
 * - collapse RESHAPE chains, drop identity RESHAPE / SQUEEZE / EXPAND_DIMS;
 * - evaluate RESHAPE / SQUEEZE / EXPAND_DIMS of constants;
 * - drop ops and tensors no output depends on.
 */
import type { Graph, Op, Tensor } from '../graph/types.js';
import { numElements } from '../graph/types.js';
import { addTensor, compact, constFloat, constValues, constTensor, consumers, encode, makeOp, producers } from './tensor-data.js';

export interface CleanupStats {
  foldedBatchNorm: number;
  fusedActivations: number;
  splitActivations: number;
  removedIdentity: number;
  foldedConstants: number;
  slicesOfConcat: number;
}

const FUSABLE = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'SUB', 'MUL']);
const WEIGHTED = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);
const SHAPE_ONLY = new Set(['RESHAPE', 'SQUEEZE', 'EXPAND_DIMS']);
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export function cleanupGraph(graph: Graph): { graph: Graph; stats: CleanupStats } {
  let g = graph;
  const stats: CleanupStats = { foldedBatchNorm: 0, fusedActivations: 0, splitActivations: 0, removedIdentity: 0, foldedConstants: 0, slicesOfConcat: 0 };
  stats.splitActivations += splitActivations(g);
  for (let round = 0; round < 50; round++) {
    let changed = 0;
    changed += count(stats, 'foldedConstants', foldShapeOfConstants(g));
    changed += count(stats, 'slicesOfConcat', sliceOfConcat(g));
    changed += count(stats, 'removedIdentity', identities(g));
    changed += count(stats, 'foldedBatchNorm', foldBatchNorm(g));
    changed += count(stats, 'fusedActivations', fuseRelu(g));
    g = compact(g);
    if (!changed) break;
  }
  return { graph: g, stats };
}

function count(s: CleanupStats, k: keyof CleanupStats, n: number): number {
  s[k] += n;
  return n;
}

/** Makes readers of `from` read `to` instead (graph outputs included). */
function rewire(g: Graph, from: number, to: number): void {
  for (const op of g.ops) op.inputs = op.inputs.map((i) => (i === from ? to : i));
  g.outputs = g.outputs.map((i) => (i === from ? to : i));
}

/** Removes `op`, whose output carries the same values as tensor `same`. */
function bypass(g: Graph, op: Op, same: number): boolean {
  const out = op.outputs[0]!;
  if (g.outputs.includes(out)) {
    // Keep the output tensor (its name and place): let the producer of `same` write it.
    const p = producers(g).get(same);
    if (!p || g.inputs.includes(same) || g.outputs.includes(same) || (consumers(g).get(same)?.length ?? 0) > 1) return false;
    p.outputs = p.outputs.map((i) => (i === same ? out : i));
    g.ops = g.ops.filter((o) => o !== op);
    return true;
  }
  rewire(g, out, same);
  g.ops = g.ops.filter((o) => o !== op);
  return true;
}

function splitActivations(g: Graph): number {
  let n = 0;
  const ops: Op[] = [];
  for (const op of g.ops) {
    ops.push(op);
    // An LSTM's activation option is its cell activation, not one applied to its output.
    if (op.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM') continue;
    const a = op.options.activation;
    if (a !== 'TANH' && a !== 'SIGN_BIT') continue;
    if (a === 'SIGN_BIT') continue; // left for the op check to refuse
    const out = g.tensors[op.outputs[0]!]!;
    const mid = addTensor(g, { name: `${out.name}/pre_tanh`, shape: out.shape, dtype: out.dtype });
    op.options = { ...op.options, activation: 'NONE' };
    op.outputs = [mid];
    ops.push(makeOp('TANH', [mid], [out.index]));
    n++;
  }
  g.ops = ops;
  return n;
}

function foldShapeOfConstants(g: Graph): number {
  let n = 0;
  for (const op of [...g.ops]) {
    if (!SHAPE_ONLY.has(op.opcode)) continue;
    const src = g.tensors[op.inputs[0]!]!;
    const out = g.tensors[op.outputs[0]!]!;
    if (!src.data || g.outputs.includes(out.index)) continue;
    out.data = src.data;
    out.dtype = src.dtype;
    out.quant = src.quant;
    g.ops = g.ops.filter((o) => o !== op);
    n++;
  }
  return n;
}

function identities(g: Graph): number {
  let n = 0;
  for (const op of [...g.ops]) {
    if (!SHAPE_ONLY.has(op.opcode)) continue;
    const src = g.tensors[op.inputs[0]!]!;
    const out = g.tensors[op.outputs[0]!]!;
    const prod = producers(g).get(src.index);
    // RESHAPE of a RESHAPE (whose result nobody else reads) is one RESHAPE.
    if (prod && SHAPE_ONLY.has(prod.opcode) && (consumers(g).get(src.index)?.length ?? 0) === 1 && !g.outputs.includes(src.index)) {
      const shapeT = constTensor(g, `${out.name}/shape`, [out.shape.length], 'int32', out.shape);
      op.opcode = 'RESHAPE';
      op.inputs = [prod.inputs[0]!, shapeT];
      op.options = { newShape: [...out.shape] };
      g.ops = g.ops.filter((o) => o !== prod);
      n++;
      continue;
    }
    if (sameShape(src.shape, out.shape) && !g.inputs.includes(out.index) && bypass(g, op, src.index)) n++;
  }
  return n;
}

/** STRIDED_SLICE taking exactly one input of a CONCATENATION along its axis -> RESHAPE of it. */
function sliceOfConcat(g: Graph): number {
  let n = 0;
  const prod = producers(g);
  for (const op of g.ops) {
    if (op.opcode !== 'STRIDED_SLICE') continue;
    const cat = prod.get(op.inputs[0]!);
    if (!cat || cat.opcode !== 'CONCATENATION' || cat.options.activation !== 'NONE') continue;
    const o = op.options;
    if (o.ellipsisMask || o.newAxisMask) continue;
    const ins = g.tensors[op.inputs[0]!]!;
    const r = ins.shape.length;
    const axis = cat.options.axis < 0 ? cat.options.axis + r : cat.options.axis;
    const cst = (k: number) => (op.inputs[k] !== undefined && op.inputs[k]! >= 0 && g.tensors[op.inputs[k]!]!.data ? Array.from(constValues(g.tensors[op.inputs[k]!]!)) : null);
    const begin = cst(1), end = cst(2), st = op.inputs.length > 3 ? cst(3) : begin?.map(() => 1);
    if (!begin || !end || !st || st.some((s) => s !== 1)) continue;
    let ok = true, lo = 0, hi = 0;
    for (let d = 0; d < r; d++) {
      const D = ins.shape[d]!;
      let b = (o.beginMask >> d) & 1 ? 0 : begin[d] ?? 0;
      let e = (o.shrinkAxisMask >> d) & 1 ? b + 1 : (o.endMask >> d) & 1 ? D : end[d] ?? D;
      if (b < 0) b += D;
      if (e < 0) e += D;
      e = Math.min(e, D);
      if (d === axis) { lo = b; hi = e; } else if (b !== 0 || e !== D) ok = false;
    }
    if (!ok) continue;
    let off = 0, part = -1;
    for (const [k, t] of cat.inputs.entries()) {
      const w = g.tensors[t]!.shape[axis]!;
      if (off === lo && off + w === hi) part = k;
      off += w;
    }
    if (part < 0) continue;
    const out = g.tensors[op.outputs[0]!]!;
    const shapeT = constTensor(g, `${out.name}/shape`, [out.shape.length], 'int32', out.shape);
    op.opcode = 'RESHAPE';
    op.inputs = [cat.inputs[part]!, shapeT];
    op.options = { newShape: [...out.shape] };
    n++;
  }
  return n;
}

/** Per-output-channel values of a constant operand, or null when it is not per-channel/scalar. */
function perChannel(t: Tensor, channels: number): Float32Array | null {
  if (!t.data || t.dtype !== 'float32') return null;
  const n = numElements(t.shape);
  const v = constFloat(t);
  if (n === 1) return new Float32Array(channels).fill(v[0]!);
  if (n !== channels || t.shape[t.shape.length - 1] !== channels) return null;
  return v;
}

function foldBatchNorm(g: Graph): number {
  let n = 0;
  const cons = consumers(g);
  const prod = producers(g);
  for (const m of [...g.ops]) {
    if (m.opcode !== 'MUL' && m.opcode !== 'ADD' && m.opcode !== 'SUB') continue;
    let k = -1;
    for (const side of [0, 1]) {
      const p = prod.get(m.inputs[side]!);
      if (p && WEIGHTED.has(p.opcode) && p.options.activation === 'NONE' && g.tensors[m.inputs[1 - side]!]!.data) k = side;
    }
    if (k < 0) continue;
    if (m.opcode === 'SUB' && k !== 0) continue;
    const mid = m.inputs[k]!;
    if ((cons.get(mid)?.length ?? 0) !== 1 || g.outputs.includes(mid)) continue;
    const p = prod.get(mid)!;
    const midT = g.tensors[mid]!, outT = g.tensors[m.outputs[0]!]!;
    if (!sameShape(midT.shape, outT.shape)) continue;
    const w = g.tensors[p.inputs[1]!]!;
    if (!w.data || w.dtype !== 'float32') continue;
    const C = midT.shape[midT.shape.length - 1]!;
    const cv = perChannel(g.tensors[m.inputs[1 - k]!]!, C);
    if (!cv) continue;
    const hasBias = p.inputs[2] !== undefined && p.inputs[2]! >= 0;
    const bias = hasBias ? Float32Array.from(constFloat(g.tensors[p.inputs[2]!]!)) : new Float32Array(C);
    if (bias.length !== C) continue;
    if (m.opcode === 'MUL') {
      const wv = Float32Array.from(constFloat(w));
      const depthwise = p.opcode === 'DEPTHWISE_CONV_2D';
      const inner = wv.length / C;
      for (let i = 0; i < wv.length; i++) wv[i] = wv[i]! * cv[depthwise ? i % C : Math.floor(i / inner)]!;
      for (let c = 0; c < C; c++) bias[c] = bias[c]! * cv[c]!;
      p.inputs[1] = addTensor(g, { name: `${w.name}/folded`, shape: w.shape, dtype: 'float32', data: encode(wv, 'float32') });
    } else {
      const sign = m.opcode === 'SUB' ? -1 : 1;
      for (let c = 0; c < C; c++) bias[c] = bias[c]! + sign * cv[c]!;
    }
    const biasName = hasBias ? g.tensors[p.inputs[2]!]!.name : `${outT.name}/bias`;
    const bi = addTensor(g, { name: `${biasName}/folded`, shape: [C], dtype: 'float32', data: encode(bias, 'float32') });
    p.inputs = [p.inputs[0]!, p.inputs[1]!, bi];
    p.outputs = [m.outputs[0]!];
    p.options = { ...p.options, activation: m.options.activation ?? 'NONE' };
    g.ops = g.ops.filter((o) => o !== m);
    return n + 1 + foldBatchNorm(g);
  }
  return n;
}

function fuseRelu(g: Graph): number {
  let n = 0;
  for (const r of [...g.ops]) {
    const act = r.opcode === 'RELU' ? 'RELU' : r.opcode === 'RELU6' ? 'RELU6' : r.opcode === 'RELU_N1_TO_1' ? 'RELU_N1_TO_1' : null;
    if (!act) continue;
    const mid = r.inputs[0]!;
    const p = producers(g).get(mid);
    if (!p || !FUSABLE.has(p.opcode) || (p.options.activation ?? 'NONE') !== 'NONE') continue;
    if ((consumers(g).get(mid)?.length ?? 0) !== 1 || g.outputs.includes(mid)) continue;
    p.options = { ...p.options, activation: act };
    p.outputs = [r.outputs[0]!];
    g.ops = g.ops.filter((o) => o !== r);
    n++;
  }
  return n;
}
