/**
 * Float graph + activation ranges -> fully-integer graph, per the TFLite int8 quantization
 * specification:
 *
 * - weights: int8, symmetric (zero point 0), range [-127, 127], per output channel
 *   (quantized_dimension 0 for CONV_2D and FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D) or,
 *   with `perTensor`, one scale;
 * - bias: int32, scale = input scale × weight scale (per channel), zero point 0;
 * - activations: int8, asymmetric, per tensor, from the calibrated range;
 * - fixed output parameters: SOFTMAX and LOGISTIC 1/256 and −128, TANH 1/128 and 0;
 * - ops whose int8 kernels require equal input and output parameters (MAX_POOL_2D,
 *   AVERAGE_POOL_2D, RESHAPE, SQUEEZE, EXPAND_DIMS, STRIDED_SLICE, PAD, PADV2, MINIMUM,
 *   MAXIMUM, CONCATENATION) share one set: the union of the ranges; where that is not
 *   possible (two fixed sets meet) a requantizing QUANTIZE is inserted.
 *
 * Named ops can run wider: `int16Layers` (16x8: int16 symmetric activations, int8 weights,
 * int64 bias; CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) or `floatLayers` (left float32).
 * Where a tensor's producer and consumer use different types, QUANTIZE or DEQUANTIZE ops
 * convert it. Graph inputs and outputs are int8 (`io: 'int8'`) or float32 (`io: 'float'`).
 */
import { KestrelError } from '../errors.js';
import type { DType, Graph, Op, Quantization, Tensor } from '../graph/types.js';
import { opVersion } from '../tflite/writer.js';
import type { Range } from './calibrate.js';
import { channelLayout, constFloat, encode, makeOp } from './tensor-data.js';

export type Precision = 'int8' | 'int16' | 'float';

export interface QuantizeGraphOptions {
  io?: 'int8' | 'float';
  perTensor?: boolean;
  /** Ops (by output tensor name, a prefix of it ending at '/', or '#index') kept 16x8. */
  int16Layers?: string[];
  /** Ops kept float32. */
  floatLayers?: string[];
}

export interface QuantizeGraphResult {
  graph: Graph;
  /** Float graph tensor index -> the quantized graph's tensor carrying it as produced. */
  tensorMap: Map<number, number>;
  /** Precision of each float op (by float op index). */
  precision: Precision[];
  /** Tensors whose bias values saturated int32 (names). */
  warnings: string[];
}

/** Ops the quantizer turns into int8 kernels. */
export const QUANTIZABLE_OPS = new Set([
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'MEAN',
  'RESHAPE', 'SQUEEZE', 'EXPAND_DIMS', 'SOFTMAX', 'LOGISTIC', 'TANH', 'RELU', 'RELU6', 'ADD',
  'SUB', 'MUL', 'MINIMUM', 'MAXIMUM', 'CONCATENATION', 'PAD', 'PADV2', 'STRIDED_SLICE',
  'UNIDIRECTIONAL_SEQUENCE_LSTM',
]);
const INT16_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);
const SAME_PARAMS = new Set(['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'RESHAPE', 'SQUEEZE', 'EXPAND_DIMS', 'STRIDED_SLICE', 'PAD', 'PADV2', 'MINIMUM', 'MAXIMUM', 'CONCATENATION']);
const FIXED: Record<string, Quantization> = {
  SOFTMAX: { scale: [1 / 256], zeroPoint: [-128], quantizedDimension: 0 },
  LOGISTIC: { scale: [1 / 256], zeroPoint: [-128], quantizedDimension: 0 },
  TANH: { scale: [1 / 128], zeroPoint: [0], quantizedDimension: 0 },
};
/** Inputs that are weights (quantized symmetric int8), by op. */
const WEIGHT_INPUT: Record<string, number> = { CONV_2D: 1, DEPTHWISE_CONV_2D: 1, FULLY_CONNECTED: 1 };

/** Asymmetric int8 parameters for a range (which includes 0), as TFLite's converter nudges them. */
export function int8Params(r: Range): Quantization {
  const lo = Math.min(r.min, 0), hi = Math.max(r.max, 0);
  if (!(hi - lo > 1e-30)) return { scale: [1 / 255], zeroPoint: [-128], quantizedDimension: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zp = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale: [scale], zeroPoint: [zp], quantizedDimension: 0 };
}

export function int16Params(r: Range): Quantization {
  const m = Math.max(Math.abs(r.min), Math.abs(r.max));
  return { scale: [Math.fround(m > 1e-30 ? m / 32767 : 1 / 32767)], zeroPoint: [0], quantizedDimension: 0 };
}

const sameQ = (a: Quantization | null, b: Quantization | null) =>
  !!a && !!b && a.scale.length === b.scale.length && a.scale.every((s, i) => s === b.scale[i]) && a.zeroPoint.every((z, i) => z === b.zeroPoint[i]);

const roundHalfAway = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));

/** Matches a layer name given by the user to ops of the graph. */
export function matchLayers(g: Graph, names: string[], what: string): Set<Op> {
  const out = new Set<Op>();
  for (const n of names) {
    const hits = g.ops.filter((op) => {
      const t = g.tensors[op.outputs[0]!]!.name;
      return n === `#${op.index}` || t === n || t.startsWith(`${n}/`) || t.split(';').includes(n);
    });
    if (!hits.length) {
      const known = g.ops.slice(0, 12).map((op) => g.tensors[op.outputs[0]!]!.name).join(', ');
      throw new KestrelError('E_USAGE', `${what}: no layer named '${n}' (layers: ${known}${g.ops.length > 12 ? ', …' : ''})`);
    }
    hits.forEach((h) => out.add(h));
  }
  return out;
}

export function quantizeGraph(fg: Graph, ranges: Map<number, Range>, opts: QuantizeGraphOptions = {}): QuantizeGraphResult {
  const io = opts.io ?? 'int8';
  const src = fg.source;
  const fail = (msg: string): never => { throw new KestrelError('E_QUANTIZE', `${src}: ${msg}`); };

  // ---- checks: supported ops, float model, finite weights.
  checkSupportedOps(fg);
  for (const i of fg.inputs) if (fg.tensors[i]!.dtype !== 'float32') fail(`input '${fg.tensors[i]!.name}' is ${fg.tensors[i]!.dtype}; expected a float32 model`);
  checkFiniteWeights(fg);
  const int16 = matchLayers(fg, opts.int16Layers ?? [], 'int16Layers');
  const floats = matchLayers(fg, opts.floatLayers ?? [], 'floatLayers');
  for (const op of int16) {
    if (!INT16_OPS.has(op.opcode)) throw new KestrelError('E_USAGE', `int16Layers: '${fg.tensors[op.outputs[0]!]!.name}' is a ${op.opcode}; 16x8 is offered for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED only`);
    if (floats.has(op)) throw new KestrelError('E_USAGE', `'${fg.tensors[op.outputs[0]!]!.name}' is named in both int16Layers and floatLayers`);
  }
  const precision: Precision[] = fg.ops.map((op) => (floats.has(op) ? 'float' : int16.has(op) ? 'int16' : 'int8'));

  // ---- int8 parameters of every activation tensor, shared where kernels need it.
  const isAct = (i: number) => i >= 0 && !fg.tensors[i]!.data;
  const parent = new Map<number, number>();
  const find = (x: number): number => { let r = x; while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!; return r; };
  const fixedOf = new Map<number, Quantization>();
  fg.ops.forEach((op, k) => { if (precision[k] === 'int8' && FIXED[op.opcode]) fixedOf.set(op.outputs[0]!, FIXED[op.opcode]!); });
  const groupFixed = (root: number): Quantization | null => {
    for (const [t, q] of fixedOf) if (find(t) === root) return q;
    return null;
  };
  const union = (a: number, b: number) => {
    const ra = find(a), rb = find(b);
    if (ra === rb) return;
    const fa = groupFixed(ra), fb = groupFixed(rb);
    if (fa && fb && !sameQ(fa, fb)) return; // met by a requantizing QUANTIZE below
    parent.set(ra, rb);
  };
  fg.ops.forEach((op, k) => {
    if (precision[k] !== 'int8' || !SAME_PARAMS.has(op.opcode)) return;
    const multi = op.opcode === 'CONCATENATION' || op.opcode === 'MINIMUM' || op.opcode === 'MAXIMUM';
    const ins = multi ? op.inputs.slice(0, op.opcode === 'CONCATENATION' ? op.inputs.length : 2) : [op.inputs[0]!];
    for (const i of ins) {
      if (!isAct(i)) continue;
      // A fixed-parameter input (e.g. a TANH output) must not impose its narrow range on the
      // other inputs of a concatenation: it is requantized instead.
      if (multi && groupFixed(find(i))) continue;
      union(i, op.outputs[0]!);
    }
  });
  const rangeOf = (i: number): Range => {
    const r = ranges.get(i);
    if (!r) fail(`no calibration range for tensor #${i} '${fg.tensors[i]!.name}'`);
    return r!;
  };
  const groupRange = new Map<number, Range>();
  for (let i = 0; i < fg.tensors.length; i++) {
    if (!isAct(i) || !ranges.has(i)) continue;
    const root = find(i), r = ranges.get(i)!;
    const g = groupRange.get(root);
    if (!g) groupRange.set(root, { ...r }); else { g.min = Math.min(g.min, r.min); g.max = Math.max(g.max, r.max); }
  }
  const q8 = (i: number): Quantization => {
    const root = find(i);
    const f = groupFixed(root);
    if (f) return f;
    rangeOf(i);
    return int8Params(groupRange.get(root)!);
  };
  const q16 = (i: number): Quantization => int16Params(rangeOf(i));

  // ---- the new graph.
  const g: Graph = { ...fg, tensors: [], ops: [], inputs: [], outputs: [], metadata: { ...fg.metadata } };
  const warnings: string[] = [];
  const rep = new Map<string, number>(); // `${floatIndex}:${dtype}` -> new index
  const home = new Map<number, DType>();
  const tensorMap = new Map<number, number>();
  const add = (t: Omit<Tensor, 'index'>): number => { const index = g.tensors.length; g.tensors.push({ ...t, index }); return index; };
  const actTensor = (i: number, dtype: DType, nameSuffix = ''): number => {
    const ft = fg.tensors[i]!;
    const quant = dtype === 'int8' ? q8(i) : dtype === 'int16' ? q16(i) : null;
    return add({ name: ft.name + nameSuffix, shape: [...ft.shape], shapeSignature: null, dtype, data: null, quant: quant && { ...quant, scale: [...quant.scale], zeroPoint: [...quant.zeroPoint] }, isVariable: false });
  };
  /** The float tensor `i` as `dtype`, converting from its home representation if needed. */
  const need = (i: number, dtype: DType): number => {
    const key = `${i}:${dtype}`;
    const have = rep.get(key);
    if (have !== undefined) return have;
    const h = home.get(i);
    if (h === undefined) fail(`tensor #${i} '${fg.tensors[i]!.name}' is read before it is written`);
    const from = rep.get(`${i}:${h}`)!;
    const to = actTensor(i, dtype, `/${dtype}`);
    g.ops.push(makeOp(dtype === 'float32' ? 'DEQUANTIZE' : 'QUANTIZE', [from], [to]));
    rep.set(key, to);
    return to;
  };

  fg.inputs.forEach((i) => {
    const dt: DType = io === 'float' ? 'float32' : 'int8';
    const n = actTensor(i, dt);
    rep.set(`${i}:${dt}`, n);
    home.set(i, dt);
    g.inputs.push(n);
    tensorMap.set(i, n);
  });

  const constCache = new Map<string, number>();
  const plainConst = (i: number): number => {
    const key = `${i}:plain`;
    let n = constCache.get(key);
    if (n === undefined) { const ft = fg.tensors[i]!; constCache.set(key, n = add({ ...ft, shape: [...ft.shape], quant: null })); }
    return n;
  };
  const quantConst = (i: number, q: Quantization, dtype: DType, tag: string): number => {
    const ft = fg.tensors[i]!;
    const v = constFloat(ft);
    const [lo, hi] = dtype === 'int8' ? [-128, 127] : [-32768, 32767];
    const out = new Int32Array(v.length);
    for (let k = 0; k < v.length; k++) out[k] = Math.max(lo, Math.min(hi, roundHalfAway(v[k]! / q.scale[0]!) + q.zeroPoint[0]!));
    return add({ name: `${ft.name}${tag}`, shape: [...ft.shape], shapeSignature: null, dtype, data: encode(out, dtype), quant: q, isVariable: false });
  };

  fg.ops.forEach((op, k) => {
    const p = precision[k]!;
    const adt: DType = p === 'float' ? 'float32' : p;
    const outF = op.outputs[0]!;
    if (op.opcode === 'UNIDIRECTIONAL_SEQUENCE_LSTM') {
      if (p !== 'int8') fail(`op #${op.index} UNIDIRECTIONAL_SEQUENCE_LSTM '${fg.tensors[outF]!.name}' can only be quantized int8`);
      const out = fusedLstm(fg, op, g, need(op.inputs[0]!, 'int8'), q8(outF), rangeOf(op.inputs[19]!), add, fail);
      rep.set(`${outF}:int8`, out);
      home.set(outF, 'int8');
      tensorMap.set(outF, out);
      return;
    }
    // Output tensor first (bias scales and shared parameters depend on it).
    let outQ: Quantization | null = null;
    if (adt === 'int8') outQ = q8(outF);
    else if (adt === 'int16') outQ = q16(outF);
    const inputs: number[] = [];
    let inScale = 0, wScales: number[] = [];
    op.inputs.forEach((i, slot) => {
      if (i < 0) { inputs.push(-1); return; }
      const ft = fg.tensors[i]!;
      if (!ft.data) {
        let n = need(i, adt);
        if (adt === 'int8' && SAME_PARAMS.has(op.opcode) && !sameQ(g.tensors[n]!.quant, outQ)) {
          // Kernel needs equal parameters: requantize this input.
          const t = add({ ...g.tensors[n]!, name: `${ft.name}/requantized`, quant: outQ, data: null });
          g.ops.push(makeOp('QUANTIZE', [n], [t]));
          n = t;
        }
        if (slot === 0) inScale = g.tensors[n]!.quant?.scale[0] ?? 0;
        inputs.push(n);
        return;
      }
      if (ft.dtype !== 'float32' || adt === 'float32') { inputs.push(plainConst(i)); return; }
      if (WEIGHT_INPUT[op.opcode] === slot) {
        const key = `${i}:weights:${op.opcode === 'DEPTHWISE_CONV_2D' ? 3 : 0}`;
        let n = constCache.get(key);
        if (n === undefined) {
          const r = quantizeWeights(ft, op.opcode === 'DEPTHWISE_CONV_2D' ? 3 : 0, !!opts.perTensor);
          constCache.set(key, n = add({ name: ft.name, shape: [...ft.shape], shapeSignature: null, dtype: 'int8', data: r.data, quant: r.quant, isVariable: false }));
        }
        wScales = g.tensors[n]!.quant!.scale;
        inputs.push(n);
        return;
      }
      if (WEIGHT_INPUT[op.opcode] !== undefined && slot === 2) {
        const bdt: DType = adt === 'int16' ? 'int64' : 'int32';
        const v = constFloat(ft);
        const scales = Array.from(v, (_, c) => Math.fround(inScale * (wScales.length > 1 ? wScales[c]! : wScales[0]!)));
        const key = `${i}:bias:${bdt}:${scales.join(',')}`;
        const cached = constCache.get(key);
        if (cached !== undefined) { inputs.push(cached); return; }
        const lim = bdt === 'int32' ? 2147483647 : Number.MAX_SAFE_INTEGER;
        let sat = false;
        const qv = Array.from(v, (x, c) => {
          const q = roundHalfAway(x / scales[c]!);
          if (Math.abs(q) > lim) sat = true;
          return Math.max(-lim, Math.min(lim, q));
        });
        if (sat) warnings.push(`bias '${ft.name}' saturated ${bdt}`);
        let bn: number;
        constCache.set(key, bn = add({
          name: ft.name, shape: [...ft.shape], shapeSignature: null, dtype: bdt, data: encode(qv, bdt),
          quant: { scale: wScales.length > 1 ? scales : [scales[0]!], zeroPoint: (wScales.length > 1 ? scales : [0]).map(() => 0), quantizedDimension: 0 }, isVariable: false,
        }));
        inputs.push(bn);
        return;
      }
      // Other float constants read by an integer op: operands of ADD/MUL/SUB (own range),
      // MINIMUM/MAXIMUM/CONCATENATION/PADV2 values (the output's parameters).
      if (SAME_PARAMS.has(op.opcode)) { inputs.push(quantConst(i, outQ!, adt, '')); return; }
      const v = constFloat(ft);
      let lo = 0, hi = 0;
      for (const x of v) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
      inputs.push(quantConst(i, adt === 'int16' ? int16Params({ min: lo, max: hi }) : int8Params({ min: lo, max: hi }), adt, ''));
    });
    if (adt !== 'float32' && WEIGHT_INPUT[op.opcode] !== undefined && !(inScale > 0)) fail(`op #${op.index} ${op.opcode}: input has no scale`);
    const out = actTensor(outF, adt);
    rep.set(`${outF}:${adt}`, out);
    home.set(outF, adt);
    tensorMap.set(outF, out);
    const nop: Op = { ...op, inputs, outputs: [out], intermediates: [], options: { ...op.options } };
    g.ops.push(nop);
  });

  // ---- outputs in the requested type; the graph output keeps the float model's name.
  fg.outputs.forEach((i) => {
    const dt: DType = io === 'float' ? 'float32' : 'int8';
    const n = need(i, dt);
    const h = rep.get(`${i}:${home.get(i)}`)!;
    if (n !== h) {
      g.tensors[h]!.name = `${fg.tensors[i]!.name}/${home.get(i)}`;
      g.tensors[n]!.name = fg.tensors[i]!.name;
    }
    g.outputs.push(n);
  });
  g.ops.forEach((op, k) => { op.index = k; });
  for (const op of g.ops) op.version = opVersion(op, g);
  return { graph: g, tensorMap, precision, warnings };
}

/** Refuses a graph holding ops the quantizer does not handle, listing all of them. */
export function checkSupportedOps(fg: Graph): void {
  const unsupported = [...new Set(fg.ops.filter((o) => !QUANTIZABLE_OPS.has(o.opcode)).map((o) => o.opcode))];
  if (unsupported.length) {
    throw new KestrelError('E_QUANTIZE', `${fg.source}: cannot quantize op(s) ${unsupported.join(', ')} (supported: ${[...QUANTIZABLE_OPS].join(', ')})`);
  }
}

/** Refuses a float graph whose constants hold NaN or infinite values, naming the tensor. */
export function checkFiniteWeights(fg: Graph): void {
  for (const t of fg.tensors) {
    if (!t.data || t.dtype !== 'float32') continue;
    const v = constFloat(t);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) throw new KestrelError('E_CONVERT', `${fg.source}: tensor #${t.index} '${t.name}' has a ${Number.isNaN(v[i]!) ? 'NaN' : 'infinite'} value at element ${i}`);
    }
  }
}

/** Symmetric int8 weights, per channel along `axis` (or per tensor). */
export function quantizeWeights(t: Tensor, axis: number, perTensor: boolean): { data: Uint8Array; quant: Quantization } {
  const v = constFloat(t);
  const lay = channelLayout(t.shape, perTensor ? -1 : axis);
  const maxAbs = new Float64Array(lay.axis);
  for (let o = 0; o < lay.outer; o++) for (let c = 0; c < lay.axis; c++) for (let i = 0; i < lay.inner; i++) {
    maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(v[(o * lay.axis + c) * lay.inner + i]!));
  }
  const scale = Array.from(maxAbs, (m) => Math.fround(m > 0 ? m / 127 : 1));
  const q = new Int8Array(v.length);
  for (let o = 0; o < lay.outer; o++) for (let c = 0; c < lay.axis; c++) for (let i = 0; i < lay.inner; i++) {
    const k = (o * lay.axis + c) * lay.inner + i;
    q[k] = Math.max(-127, Math.min(127, roundHalfAway(v[k]! / scale[c]!)));
  }
  return { data: new Uint8Array(q.buffer), quant: { scale, zeroPoint: scale.map(() => 0), quantizedDimension: perTensor ? 0 : axis } };
}


/**
 * One float UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite's fully integer LSTM (8x8->16), laid out as
 * TFLite's converter writes it: int8 input and output; the eight weight matrices int8
 * symmetric with one scale each (the integer kernel takes no per-channel scales); the four
 * gate biases int32 with scale input scale × that gate's input-weight scale; the output
 * (hidden) state a variable int8 tensor with the output's parameters; the cell state a
 * variable int16 tensor, zero point 0, with a power-of-two scale covering the calibrated
 * |cell| range (and the cell clip); five intermediates: four float32 [0] tensors without
 * parameters (the gate pre-activations then use 2^-12) and an int8 [0] tensor holding the
 * hidden state's parameters. Returns the new output tensor.
 */
function fusedLstm(fg: Graph, op: Op, g: Graph, x: number, outQ: Quantization, cellRange: Range, add: (t: Omit<Tensor, 'index'>) => number, fail: (msg: string) => never): number {
  const inp = (k: number) => (op.inputs[k] !== undefined ? op.inputs[k]! : -1);
  const outF = op.outputs[0]!;
  const name = fg.tensors[outF]!.name;
  const why = (m: string) => fail(`op #${op.index} UNIDIRECTIONAL_SEQUENCE_LSTM '${name}': ${m}; the integer LSTM needs sigmoid gates, a tanh cell, all four gates, no peephole, projection or layer norm`);
  if (op.options.activation !== 'TANH') why(`cell activation is ${op.options.activation}`);
  for (const k of [1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15]) if (inp(k) < 0 || !fg.tensors[inp(k)]!.data) why(`input ${k} is missing or not constant`);
  for (const k of [9, 10, 11, 16, 17, 20, 21, 22, 23]) if (inp(k) >= 0) why(`input ${k} is set`);
  for (const k of [18, 19]) {
    const s = fg.tensors[inp(k)];
    if (!s) why(`state input ${k} is missing`);
    if (s!.data && constFloat(s!).some((v) => v !== 0)) why(`initial state '${s!.name}' is not zero`);
  }
  const inScale = g.tensors[x]!.quant!.scale[0]!;
  const q = (s: number): Quantization => ({ scale: [s], zeroPoint: [0], quantizedDimension: 0 });
  const weight = (k: number) => {
    const ft = fg.tensors[inp(k)]!;
    const r = quantizeWeights(ft, 0, true);
    return add({ name: ft.name, shape: [...ft.shape], shapeSignature: null, dtype: 'int8', data: r.data, quant: r.quant, isVariable: false });
  };
  const wx = [1, 2, 3, 4].map(weight);
  const wh = [5, 6, 7, 8].map(weight);
  const biases = [12, 13, 14, 15].map((k, gi) => {
    const ft = fg.tensors[inp(k)]!;
    const scale = Math.fround(inScale * g.tensors[wx[gi]!]!.quant!.scale[0]!);
    const v = Array.from(constFloat(ft), (b) => Math.max(-2147483647, Math.min(2147483647, roundHalfAway(b / scale))));
    return add({ name: ft.name, shape: [...ft.shape], shapeSignature: null, dtype: 'int32', data: encode(v, 'int32'), quant: q(scale), isVariable: false });
  });
  const hsF = fg.tensors[inp(18)]!, csF = fg.tensors[inp(19)]!;
  const hidden = add({ name: hsF.name, shape: [...hsF.shape], shapeSignature: null, dtype: 'int8', data: null, quant: { ...outQ, scale: [...outQ.scale], zeroPoint: [...outQ.zeroPoint] }, isVariable: true });
  // The smallest power of two whose int16 range holds every calibrated cell value and the clip.
  const clip = op.options.cellClip > 0 ? op.options.cellClip : 0;
  const m = Math.max(Math.abs(cellRange.min), Math.abs(cellRange.max), clip);
  const cellScale = 2 ** Math.min(0, Math.max(-15, Math.ceil(Math.log2(Math.max(m, 1e-30) / 32768))));
  const cell = add({ name: csF.name, shape: [...csF.shape], shapeSignature: null, dtype: 'int16', data: null, quant: q(cellScale), isVariable: true });
  const inputs = new Array<number>(24).fill(-1);
  inputs[0] = x;
  wx.forEach((t, i) => { inputs[1 + i] = t; });
  wh.forEach((t, i) => { inputs[5 + i] = t; });
  biases.forEach((t, i) => { inputs[12 + i] = t; });
  inputs[18] = hidden;
  inputs[19] = cell;
  const intermediates = ['input_to_input', 'input_to_forget', 'input_to_cell', 'input_to_output'].map((n) =>
    add({ name: `${n}_intermediate`, shape: [0], shapeSignature: null, dtype: 'float32', data: null, quant: null, isVariable: false }));
  intermediates.push(add({ name: 'effective_hidden_scale_intermediate', shape: [0], shapeSignature: null, dtype: 'int8', data: null, quant: { ...outQ, scale: [...outQ.scale], zeroPoint: [...outQ.zeroPoint] }, isVariable: false }));
  const ft = fg.tensors[outF]!;
  const out = add({ name: ft.name, shape: [...ft.shape], shapeSignature: null, dtype: 'int8', data: null, quant: { ...outQ, scale: [...outQ.scale], zeroPoint: [...outQ.zeroPoint] }, isVariable: false });
  g.ops.push({ ...op, inputs, outputs: [out], intermediates, options: { ...op.options } });
  return out;
}
