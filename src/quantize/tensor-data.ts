/**
 * Reading and writing constant tensor data of the Graph IR (little-endian bytes) as numbers,
 * and small graph-building helpers shared by the passes and the quantizer.
 */
import { KestrelError } from '../errors.js';
import type { DType, Graph, Op, Quantization, Tensor } from '../graph/types.js';
import { numElements } from '../graph/types.js';

/** The constant's values as float64 numbers (float32, int8/16/32/64, uint8). */
export function constValues(t: Tensor): Float64Array {
  if (!t.data) throw new KestrelError('E_QUANTIZE', `tensor #${t.index} '${t.name}' has no constant data`);
  const n = numElements(t.shape);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'float32': out[i] = dv.getFloat32(i * 4, true); break;
      case 'int32': out[i] = dv.getInt32(i * 4, true); break;
      case 'int8': out[i] = dv.getInt8(i); break;
      case 'uint8': out[i] = dv.getUint8(i); break;
      case 'int16': out[i] = dv.getInt16(i * 2, true); break;
      case 'int64': out[i] = Number(dv.getBigInt64(i * 8, true)); break;
      default: throw new KestrelError('E_QUANTIZE', `tensor #${t.index} '${t.name}': constant data of type ${t.dtype} is not supported`);
    }
  }
  return out;
}

/** The constant's values as float32, dequantized when it is quantized (per channel too). */
export function constFloat(t: Tensor): Float32Array {
  const v = constValues(t);
  if (t.dtype === 'float32' || !t.quant || t.quant.scale.length === 0) return Float32Array.from(v);
  const q = t.quant;
  const out = new Float32Array(v.length);
  const { outer, axis, inner } = channelLayout(t.shape, q.scale.length > 1 ? q.quantizedDimension : -1);
  for (let o = 0; o < outer; o++) for (let c = 0; c < axis; c++) for (let i = 0; i < inner; i++) {
    const k = (o * axis + c) * inner + i;
    const s = q.scale[q.scale.length > 1 ? c : 0]!, z = q.zeroPoint[q.scale.length > 1 ? c : 0] ?? 0;
    out[k] = (v[k]! - z) * s;
  }
  return out;
}

/** Splits a shape around a channel axis (axis -1: one channel covering everything). */
export function channelLayout(shape: readonly number[], axis: number): { outer: number; axis: number; inner: number } {
  if (axis < 0) return { outer: 1, axis: 1, inner: numElements(shape) };
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return { outer, axis: shape[axis]!, inner };
}

/** Little-endian bytes of `values` stored as `dtype`. */
export function encode(values: ArrayLike<number> | ArrayLike<bigint>, dtype: DType): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'float32': return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
    case 'int32': return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
    case 'int16': return new Uint8Array(Int16Array.from(values as ArrayLike<number>).buffer);
    case 'int8': return new Uint8Array(Int8Array.from(values as ArrayLike<number>).buffer);
    case 'int64': {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) { const x = values[i]!; a[i] = typeof x === 'bigint' ? x : BigInt(x); }
      return new Uint8Array(a.buffer);
    }
    default: throw new Error(`encode: ${dtype}`);
  }
}

/** A deep-enough copy of a graph: tensors and ops are new objects (data bytes are shared). */
export function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    tensors: g.tensors.map((t) => ({ ...t, shape: [...t.shape], shapeSignature: t.shapeSignature ? [...t.shapeSignature] : null, quant: t.quant ? cloneQuant(t.quant) : null })),
    ops: g.ops.map((o) => ({ ...o, inputs: [...o.inputs], outputs: [...o.outputs], intermediates: [...o.intermediates], options: { ...o.options } })),
    inputs: [...g.inputs],
    outputs: [...g.outputs],
    metadata: { ...g.metadata },
  };
}

export function cloneQuant(q: Quantization): Quantization {
  return { scale: [...q.scale], zeroPoint: [...q.zeroPoint], quantizedDimension: q.quantizedDimension };
}

/** Appends a tensor to the graph and returns its index. */
export function addTensor(g: Graph, t: Omit<Tensor, 'index' | 'shapeSignature' | 'isVariable' | 'quant' | 'data'> & Partial<Tensor>): number {
  const index = g.tensors.length;
  g.tensors.push({ shapeSignature: null, isVariable: false, quant: null, data: null, ...t, index, shape: [...t.shape] });
  return index;
}

export function constTensor(g: Graph, name: string, shape: number[], dtype: DType, values: ArrayLike<number>): number {
  return addTensor(g, { name, shape, dtype, data: encode(values, dtype) });
}

export function makeOp(opcode: string, inputs: number[], outputs: number[], options: Record<string, any> = {}): Op {
  return { index: -1, opcode, customCode: '', version: 1, inputs, outputs, intermediates: [], options };
}

/** Map from tensor index to the ops that read it. */
export function consumers(g: Graph): Map<number, Op[]> {
  const m = new Map<number, Op[]>();
  for (const op of g.ops) for (const i of op.inputs) if (i >= 0) {
    let l = m.get(i);
    if (!l) m.set(i, l = []);
    if (!l.includes(op)) l.push(op);
  }
  return m;
}

export function producers(g: Graph): Map<number, Op> {
  const m = new Map<number, Op>();
  for (const op of g.ops) for (const o of op.outputs) m.set(o, op);
  return m;
}

/**
 * Drops ops whose outputs no graph output depends on, then tensors no op or graph I/O
 * refers to, and renumbers everything (tensor.index, op.index) densely.
 */
export function compact(g: Graph): Graph {
  const prod = producers(g);
  const liveOps = new Set<Op>();
  const stack = [...g.outputs];
  const seen = new Set<number>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const op = prod.get(t);
    if (op && !liveOps.has(op)) {
      liveOps.add(op);
      for (const i of op.inputs) if (i >= 0) stack.push(i);
      for (const i of op.intermediates) if (i >= 0) stack.push(i);
      // A stateful op's variable inputs stay with it.
    }
  }
  const ops = g.ops.filter((o) => liveOps.has(o));
  const used = new Set<number>([...g.inputs, ...g.outputs]);
  for (const op of ops) for (const i of [...op.inputs, ...op.outputs, ...op.intermediates]) if (i >= 0) used.add(i);
  const remap = new Map<number, number>();
  const tensors: Tensor[] = [];
  g.tensors.forEach((t, i) => {
    if (!used.has(i)) return;
    remap.set(i, tensors.length);
    tensors.push({ ...t, index: tensors.length });
  });
  const r = (i: number) => (i < 0 ? i : remap.get(i)!);
  return {
    ...g,
    tensors,
    ops: ops.map((o, k) => ({ ...o, index: k, inputs: o.inputs.map(r), outputs: o.outputs.map(r), intermediates: o.intermediates.map(r) })),
    inputs: g.inputs.map(r),
    outputs: g.outputs.map(r),
  };
}

/** Ops in an order where every op comes after the producers of its inputs. */
export function topoSort(g: Graph): void {
  const prod = producers(g);
  const done = new Set<Op>();
  const order: Op[] = [];
  const visit = (op: Op, depth: number) => {
    if (done.has(op)) return;
    if (depth > 100000) throw new KestrelError('E_QUANTIZE', `${g.source}: the graph is too deep or has a cycle`);
    done.add(op);
    for (const i of op.inputs) {
      const p = i >= 0 ? prod.get(i) : undefined;
      if (p && p !== op) visit(p, depth + 1);
    }
    order.push(op);
  };
  for (const op of g.ops) visit(op, 0);
  g.ops = order;
  g.ops.forEach((o, k) => { o.index = k; });
}
