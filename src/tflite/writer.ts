/**
 * TFLite flatbuffer writer: Graph -> .tflite bytes (schema version 3).
 *
 * The file is what TFLite's converter produces for one subgraph: operator codes
 * (deprecated 8-bit and 32-bit builtin code), tensors with quantization, operators with
 * their builtin options (the inverse of src/tflite/options.ts), buffer 0 empty and one
 * 16-byte-aligned buffer per constant tensor, the description, metadata (the graph's
 * entries plus `min_runtime_version`) and a signature def naming inputs and outputs.
 *
 * Field slots follow tensorflow/lite/schema/schema.fbs: slot n of a table is field id n.
 */
import { Builder, type Offset } from 'flatbuffers';
import { KestrelError } from '../errors.js';
import type { Graph, Op, Tensor } from '../graph/types.js';
import { DTYPE_BY_CODE, byteLength } from '../graph/types.js';
import { OPTIONS_FOR_OP } from './options.js';
import { ACTIVATIONS, BUILTIN_OPS, OPT, PADDINGS } from './schema.js';

export interface WriteOptions {
  /** Model description; defaults to the graph's. */
  description?: string;
  /** Value of the `min_runtime_version` metadata; computed from the op versions if absent. */
  minRuntimeVersion?: string;
  /** Signature key of the one signature def; 'serving_default' if absent. */
  signatureKey?: string;
}

// ---------------------------------------------------------------------------
// Builtin options: one field list per union tag, mirroring options.ts.

type FieldKind = 'padding' | 'activation' | 'i8' | 'i32' | 'bool' | 'f32' | 'i32s';
/** [options key, field id, kind, schema default] */
type FieldSpec = readonly [string, number, FieldKind, number | boolean | null];

const OPTION_FIELDS: Record<number, readonly FieldSpec[]> = {
  [OPT.Conv2DOptions]: [
    ['padding', 0, 'padding', 0], ['strideW', 1, 'i32', 0], ['strideH', 2, 'i32', 0],
    ['activation', 3, 'activation', 0], ['dilationW', 4, 'i32', 1], ['dilationH', 5, 'i32', 1],
    ['quantizedBiasType', 6, 'i8', 0],
  ],
  [OPT.DepthwiseConv2DOptions]: [
    ['padding', 0, 'padding', 0], ['strideW', 1, 'i32', 0], ['strideH', 2, 'i32', 0],
    ['depthMultiplier', 3, 'i32', 0], ['activation', 4, 'activation', 0],
    ['dilationW', 5, 'i32', 1], ['dilationH', 6, 'i32', 1],
  ],
  [OPT.Pool2DOptions]: [
    ['padding', 0, 'padding', 0], ['strideW', 1, 'i32', 0], ['strideH', 2, 'i32', 0],
    ['filterW', 3, 'i32', 0], ['filterH', 4, 'i32', 0], ['activation', 5, 'activation', 0],
  ],
  [OPT.SVDFOptions]: [['rank', 0, 'i32', 0], ['activation', 1, 'activation', 0], ['asymmetricQuantizeInputs', 2, 'bool', false]],
  [OPT.FullyConnectedOptions]: [
    ['activation', 0, 'activation', 0], ['weightsFormat', 1, 'i8', 0], ['keepNumDims', 2, 'bool', false],
    ['asymmetricQuantizeInputs', 3, 'bool', false], ['quantizedBiasType', 4, 'i8', 0],
  ],
  [OPT.SoftmaxOptions]: [['beta', 0, 'f32', 0]],
  [OPT.ConcatenationOptions]: [['axis', 0, 'i32', 0], ['activation', 1, 'activation', 0]],
  [OPT.AddOptions]: [['activation', 0, 'activation', 0], ['potScaleInt16', 1, 'bool', true]],
  [OPT.ReshapeOptions]: [['newShape', 0, 'i32s', null]],
  [OPT.MulOptions]: [['activation', 0, 'activation', 0]],
  [OPT.ReducerOptions]: [['keepDims', 0, 'bool', false]],
  [OPT.SubOptions]: [['activation', 0, 'activation', 0], ['potScaleInt16', 1, 'bool', true]],
  [OPT.StridedSliceOptions]: [
    ['beginMask', 0, 'i32', 0], ['endMask', 1, 'i32', 0], ['ellipsisMask', 2, 'i32', 0],
    ['newAxisMask', 3, 'i32', 0], ['shrinkAxisMask', 4, 'i32', 0], ['offset', 5, 'bool', false],
  ],
  [OPT.TransposeConvOptions]: [
    ['padding', 0, 'padding', 0], ['strideW', 1, 'i32', 0], ['strideH', 2, 'i32', 0], ['activation', 3, 'activation', 0],
  ],
  [OPT.UnidirectionalSequenceLSTMOptions]: [
    ['activation', 0, 'activation', 0], ['cellClip', 1, 'f32', 0], ['projClip', 2, 'f32', 0],
    ['timeMajor', 3, 'bool', false], ['asymmetricQuantizeInputs', 4, 'bool', false],
    ['diagonalRecurrentTensors', 5, 'bool', false],
  ],
  [OPT.LeakyReluOptions]: [['alpha', 0, 'f32', 0]],
};

/**
 * Ops whose options table has no fields Kestrel keeps; TFLite's converter still writes
 * an empty table of the right union type for them, and so does this writer.
 */
const EMPTY_OPTIONS_FOR_OP: Record<string, number> = {
  PAD: OPT.PadOptions,
  TRANSPOSE: OPT.TransposeOptions,
  DEQUANTIZE: OPT.DequantizeOptions,
  MAXIMUM: OPT.MaximumMinimumOptions,
  MINIMUM: OPT.MaximumMinimumOptions,
  QUANTIZE: OPT.QuantizeOptions,
  HARD_SWISH: OPT.HardSwishOptions,
};

function enumIndex(table: readonly string[], v: unknown, what: string, op: Op, source: string): number {
  const i = table.indexOf(String(v));
  if (i < 0) throw new KestrelError('E_OP_INVALID', `${source}: op #${op.index} ${op.opcode}: ${what} '${String(v)}' is not one of ${table.join(', ')}`);
  return i;
}

function writeOptions(b: Builder, tag: number, op: Op, source: string): Offset {
  const fields = OPTION_FIELDS[tag] ?? [];
  const o = op.options ?? {};
  // Vectors are written before the table that refers to them.
  const vectors = new Map<number, Offset>();
  for (const [key, id, kind] of fields) {
    if (kind === 'i32s' && Array.isArray(o[key])) vectors.set(id, i32Vector(b, o[key]));
  }
  b.startObject(fields.length);
  for (const [key, id, kind, def] of fields) {
    const v = o[key];
    if (v === undefined || v === null) continue; // absent: reads back as the schema default
    switch (kind) {
      case 'padding': b.addFieldInt8(id, enumIndex(PADDINGS, v, 'padding', op, source), 0); break;
      case 'activation': b.addFieldInt8(id, enumIndex(ACTIVATIONS, v, 'fused activation', op, source), 0); break;
      case 'i8': b.addFieldInt8(id, Number(v), def as number); break;
      case 'i32': b.addFieldInt32(id, Number(v), def as number); break;
      case 'bool': b.addFieldInt8(id, v ? 1 : 0, def ? 1 : 0); break;
      case 'f32': b.addFieldFloat32(id, Number(v), def as number); break;
      case 'i32s': { const off = vectors.get(id); if (off !== undefined) b.addFieldOffset(id, off, 0); break; }
    }
  }
  return b.endObject();
}

// ---------------------------------------------------------------------------
// Vectors.

function i32Vector(b: Builder, xs: readonly number[]): Offset {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]!);
  return b.endVector();
}

function f32Vector(b: Builder, xs: readonly number[]): Offset {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addFloat32(xs[i]!);
  return b.endVector();
}

function i64Vector(b: Builder, xs: readonly number[]): Offset {
  b.startVector(8, xs.length, 8);
  for (let i = xs.length - 1; i >= 0; i--) b.addInt64(BigInt(xs[i]!));
  return b.endVector();
}

function offsetVector(b: Builder, xs: readonly Offset[]): Offset {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addOffset(xs[i]!);
  return b.endVector();
}

/** A byte vector whose first byte lands on a 16-byte boundary of the finished file. */
function alignedBytes(b: Builder, data: Uint8Array): Offset {
  b.prep(16, data.length);
  return b.createByteVector(data);
}

// ---------------------------------------------------------------------------
// Versions.

function builtinCode(opcode: string, source: string, index: number): number {
  const i = BUILTIN_OPS.indexOf(opcode);
  if (i >= 0) return i;
  const m = /^BUILTIN_(\d+)$/.exec(opcode);
  if (m) return Number(m[1]);
  throw new KestrelError('E_OP_INVALID', `${source}: op #${index} has unknown builtin operator '${opcode}'`);
}

/**
 * Minimum TFLite runtime per (op, version), as TFLite's converter records it
 * (tensorflow/lite/tools/versioning/runtime_version.cc), for the ops Kestrel runs.
 */
const MIN_RUNTIME: Record<string, readonly (string | undefined)[]> = {
  // index = version; index 0 unused
  ADD: [, '1.5.0', '1.14.0', '2.4.0', '2.6.0'],
  AVERAGE_POOL_2D: [, '1.5.0', '1.14.0', '2.3.0'],
  CONCATENATION: [, '1.5.0', '1.14.0', '2.3.0'],
  CONV_2D: [, '1.5.0', '1.14.0', '1.14.0', '2.3.0', '2.4.0', '2.9.0'],
  DEPTHWISE_CONV_2D: [, '1.5.0', '1.12.0', '1.14.0', '2.2.0', '2.3.0', '2.3.0'],
  DEQUANTIZE: [, '1.13.1', '1.14.0', '1.15.0', '2.2.0', '2.7.0'],
  EXPAND_DIMS: [, '1.10.0'],
  FULLY_CONNECTED: [, '1.5.0', '1.10.0', '1.14.0', '1.14.0', '2.0.0', '2.1.0', '2.3.0', '2.3.0', '2.3.0'],
  HARD_SWISH: [, '1.15.0'],
  LEAKY_RELU: [, '1.13.1', '2.3.0'],
  LOGISTIC: [, '1.14.0', '1.14.0', '2.3.0'],
  MAXIMUM: [, '1.14.0', '1.14.0', '2.3.0', '2.3.0'],
  MAX_POOL_2D: [, '1.5.0', '1.14.0', '2.3.0'],
  MEAN: [, '1.6.0', '1.14.0', '2.4.0'],
  MINIMUM: [, '1.14.0', '1.14.0', '2.3.0', '2.3.0'],
  MUL: [, '1.5.0', '1.14.0', '1.15.0', '2.3.0', '2.6.0'],
  PAD: [, '1.5.0', '1.14.0', '2.4.0', '2.6.0'],
  PADV2: [, '1.9.0', '1.14.0', '2.4.0', '2.6.0'],
  QUANTIZE: [, '1.14.0', '1.15.0', '2.7.0'],
  RELU: [, '1.5.0', '2.1.0', '2.5.0'],
  RELU6: [, '1.5.0', '1.14.0', '2.5.0'],
  RESHAPE: [, '1.5.0'],
  SOFTMAX: [, '1.5.0', '1.14.0', '2.3.0'],
  SQUEEZE: [, '1.6.0', '2.5.0'],
  STRIDED_SLICE: [, '1.6.0', '1.14.0', '2.1.0', '2.2.0', '2.5.0', '2.6.0'],
  SUB: [, '1.6.0', '1.14.0', '2.3.0', '2.4.0', '2.4.0'],
  SVDF: [, '1.5.0', '1.14.0', '2.2.0', '2.3.0'],
  TANH: [, '1.14.0', '1.14.0', '2.3.0'],
  TRANSPOSE: [, '1.6.0', '1.14.0', '1.15.0', '2.3.0', '2.4.0'],
  TRANSPOSE_CONV: [, '1.9.0', '2.2.0', '2.3.0'],
  UNIDIRECTIONAL_SEQUENCE_LSTM: [, '1.13.1', '1.14.0', '2.3.0'],
  // Other common ops, so graphs passing through Kestrel keep a truthful value.
  ARG_MAX: [, '1.9.0', '1.14.0', '2.9.0'],
  BATCH_MATMUL: [, '2.3.0', '2.3.0', '2.4.0', '2.5.0'],
  CAST: [, '1.5.0', '2.7.0', '2.8.0', '2.9.0'],
  DIV: [, '1.6.0', '2.3.0'],
  EXP: [, '1.7.0'],
  GATHER: [, '1.6.0', '1.14.0', '1.15.0', '2.4.0', '2.5.0'],
  GELU: [, '2.9.0', '2.9.0'],
  LOG_SOFTMAX: [, '1.14.0', '1.14.0'],
  PACK: [, '1.11.0', '1.14.0', '2.3.0'],
  PRELU: [, '1.8.0'],
  RESIZE_BILINEAR: [, '1.7.0', '1.14.0', '2.2.0', '2.5.0'],
  RESIZE_NEAREST_NEIGHBOR: [, '1.13.1', '1.14.0', '2.3.0', '2.4.0'],
  RSQRT: [, '1.10.0', '2.5.0'],
  SHAPE: [, '1.10.0'],
  SLICE: [, '1.14.0', '1.14.0', '1.14.0', '2.4.0', '2.5.0'],
  SPLIT: [, '1.5.0', '1.14.0', '1.14.0', '2.3.0'],
  SQUARED_DIFFERENCE: [, '1.13.1', '2.5.0'],
  SUM: [, '1.10.0', '1.15.0'],
  UNPACK: [, '1.11.0', '1.14.0', '2.2.0', '2.3.0'],
};

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The smallest TFLite runtime that has every (op, version) of the graph, or null if none is known. */
export function minRuntimeVersion(graph: Graph): string | null {
  let best: string | null = null;
  for (const op of graph.ops) {
    const v = MIN_RUNTIME[op.opcode]?.[op.version];
    if (v && (best === null || compareVersions(v, best) > 0)) best = v;
  }
  return best;
}

/**
 * The builtin version TFLite's converter assigns to `op` (its rules in
 * tensorflow/lite/tools/versioning/op_version.cc), from the types and quantization of
 * the op's tensors in `graph`, for the float and int8 (and int16-activation) variants of
 * the ops Kestrel's quantizer emits. Other ops keep their recorded version (at least 1).
 */
export function opVersion(op: Op, graph: Graph): number {
  const t = (i: number | undefined): Tensor | null => (i === undefined || i < 0 ? null : graph.tensors[i] ?? null);
  const inT = (k: number) => t(op.inputs[k])?.dtype ?? null;
  const outT = (k: number) => t(op.outputs[k])?.dtype ?? null;
  const in0 = inT(0), in1 = inT(1), out0 = outT(0);
  const rank0 = t(op.inputs[0])?.shape.length ?? 0;
  const o = op.options ?? {};
  const perChannel = (x: Tensor | null) => !!x?.quant && x.quant.scale.length > 1;
  const int8or16 = (int8: number, int16: number, dflt = 1) => (in0 === 'int16' ? int16 : in0 === 'int8' ? int8 : dflt);
  switch (op.opcode) {
    case 'CONV_2D': {
      if (in0 === 'int16' && in1 === 'int8' && out0 === 'int16' && o.quantizedBiasType) return 8;
      const input = t(op.inputs[0]), filter = t(op.inputs[1]);
      if (input && filter && input.shape.length === 4 && filter.shape.length === 4 && input.shape[3] !== filter.shape[3]) return 6;
      if (in0 === 'int16' && in1 === 'int16' && out0 === 'int16') return 4;
      if (in0 === 'int8' && in1 === 'int8' && out0 === 'int8') return 3;
      if (in0 === 'int8' && in1 === 'int4' && out0 === 'int8') return 7;
      if (in0 === 'float32' && in1 === 'int8' && out0 === 'float32') return perChannel(filter) ? 5 : 2;
      return 1;
    }
    case 'DEPTHWISE_CONV_2D': {
      if (in0 === 'int16' && in1 === 'int16' && out0 === 'int16') return 5;
      if (in0 === 'float32' && in1 === 'int8' && out0 === 'float32') return perChannel(t(op.inputs[1])) ? 6 : 4;
      if (in0 === 'int8' && in1 === 'int8' && out0 === 'int8') return 3;
      if (in0 === 'int8' && in1 === 'int4' && out0 === 'int8') return 7;
      if ((o.dilationW ?? 1) !== 1 || (o.dilationH ?? 1) !== 1) return 2;
      return 1;
    }
    case 'FULLY_CONNECTED': {
      if (in0 === 'float32' && in1 === 'int8' && out0 === 'float32' && perChannel(t(op.inputs[1]))) return 12;
      if (in0 === 'int16' && in1 === 'int8' && out0 === 'int16' && o.quantizedBiasType) return 11;
      if (in0 === 'int16' && in1 === 'int16' && out0 === 'int16') return 7;
      if (op.inputs.length === 2) return 6;
      if (o.keepNumDims) return 5;
      if (in0 === 'int8' && in1 === 'int8' && out0 === 'int8') return 4;
      if (in0 === 'int8' && in1 === 'int4' && out0 === 'int8') return 10;
      if (in0 === 'float32' && in1 === 'int8' && out0 === 'float32') return o.asymmetricQuantizeInputs ? 9 : 3;
      if (o.weightsFormat) return 2;
      return 1;
    }
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D':
    case 'TANH':
    case 'LOGISTIC':
      if (in0 === 'int16' && out0 === 'int16') return 3;
      return in0 === 'int8' ? 2 : 1;
    case 'RESHAPE':
      return 1;
    case 'SOFTMAX':
    case 'MEAN':
    case 'RELU6':
      return int8or16(2, 3);
    case 'RELU':
      if (in0 === 'int16') return 3;
      return in0 === 'int8' || in0 === 'uint8' ? 2 : 1;
    case 'ADD':
      if (in0 === 'int16' && !t(op.inputs[0])?.quant) return 5;
      if (in0 === 'int64') return 4;
      if (in0 === 'int16' && out0 === 'int16' && o.potScaleInt16 === false) return 3;
      return in0 === 'int8' ? 2 : 1;
    case 'SUB': {
      if (in0 === 'int16' && out0 === 'int16' && o.potScaleInt16 === false) return 5;
      if (in0 === 'int64') return 4;
      if (broadcastOver4(op, graph)) return 3;
      return in0 === 'int8' ? 2 : 1;
    }
    case 'MUL': {
      if ((in0 === 'int16' && !t(op.inputs[0])?.quant) || in0 === 'uint32') return 7;
      if (in0 === 'complex64') return 6;
      if (in0 === 'int64') return 5;
      if (in0 === 'int16') return 4;
      const s1 = t(op.inputs[0])?.quant?.scale[0] ?? 0, s2 = t(op.inputs[1])?.quant?.scale[0] ?? 0;
      const so = t(op.outputs[0])?.quant?.scale[0] ?? 0;
      if (s1 !== 0 && s2 !== 0 && so !== 0 && (s1 * s2) / so >= 1) return 3;
      return in0 === 'int8' ? 2 : 1;
    }
    case 'CONCATENATION':
      if (in0 === 'uint32') return 4;
      return int8or16(2, 3);
    case 'QUANTIZE':
      if (in0 === 'int4' || out0 === 'int4') return 4;
      if (perChannel(t(op.outputs[0]))) return 3;
      return out0 === 'int16' ? 2 : 1;
    case 'DEQUANTIZE':
      if (in0 === 'int4') return 6;
      if (in0 === 'int16' || in0 === 'float16') return 3;
      if (in0 === 'int8') return perChannel(t(op.inputs[0])) ? 5 : 2;
      return 1;
    case 'STRIDED_SLICE':
      if (o.offset) return 8;
      if (in0 === 'uint32') return 7;
      if ((o.ellipsisMask ?? 0) !== 0 || (o.newAxisMask ?? 0) !== 0) return 6;
      if (in0 === 'string') return 5;
      if (rank0 > 4) return 4;
      if (in0 === 'bool') return 3;
      return in0 === 'int8' ? 2 : 1;
    case 'PAD':
    case 'PADV2':
      if (rank0 > 4) return 4;
      return int8or16(2, 3);
    default:
      return Math.max(1, op.version | 0);
  }
}

function broadcastOver4(op: Op, graph: Graph): boolean {
  const a = graph.tensors[op.inputs[0] ?? -1], b = graph.tensors[op.inputs[1] ?? -1];
  if (!a || !b) return false;
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  return !same && Math.max(a.shape.length, b.shape.length) > 4;
}

// ---------------------------------------------------------------------------
// The model.

export function writeTflite(graph: Graph, opts: WriteOptions = {}): Uint8Array {
  const source = graph.source || 'graph';
  const bad = (msg: string): never => { throw new KestrelError('E_MODEL_INVALID', `${source}: ${msg}`); };
  const nT = graph.tensors.length;
  const checkIndex = (i: number, what: string, allowOmitted: boolean) => {
    if (i === -1 && allowOmitted) return;
    if (!Number.isInteger(i) || i < 0 || i >= nT) bad(`${what} refers to tensor ${i}, but the graph has ${nT} tensors`);
  };

  // Validate everything before building, so a bad graph fails with a clear message.
  graph.tensors.forEach((t, i) => {
    if (DTYPE_BY_CODE.indexOf(t.dtype) < 0) bad(`tensor #${i} '${t.name}' has unknown dtype ${t.dtype}`);
    if (t.data && t.data.length !== byteLength(t)) {
      bad(`tensor #${i} '${t.name}' has shape [${t.shape.join(',')}] of ${t.dtype} (${byteLength(t)} bytes) but ${t.data.length} bytes of data`);
    }
    if (t.quant && t.quant.zeroPoint.length !== t.quant.scale.length) {
      bad(`tensor #${i} '${t.name}' has ${t.quant.scale.length} scales but ${t.quant.zeroPoint.length} zero points`);
    }
  });
  for (const op of graph.ops) {
    op.inputs.forEach((i) => checkIndex(i, `op #${op.index} ${op.opcode} input`, true));
    op.outputs.forEach((i) => checkIndex(i, `op #${op.index} ${op.opcode} output`, false));
    op.intermediates.forEach((i) => checkIndex(i, `op #${op.index} ${op.opcode} intermediate`, true));
  }
  graph.inputs.forEach((i) => checkIndex(i, 'graph input', false));
  graph.outputs.forEach((i) => checkIndex(i, 'graph output', false));

  // Operator codes: one per (builtin, custom name, version), in order of first use.
  const codeKey = (op: Op) => `${op.opcode}\u0000${op.customCode}\u0000${op.version}`;
  const codeIndex = new Map<string, number>();
  const codes: { code: number; custom: string; version: number }[] = [];
  const opCodeIndex = graph.ops.map((op) => {
    const k = codeKey(op);
    let i = codeIndex.get(k);
    if (i === undefined) {
      i = codes.length;
      codeIndex.set(k, i);
      codes.push({ code: builtinCode(op.opcode, source, op.index), custom: op.customCode ?? '', version: op.version || 1 });
    }
    return i;
  });

  // Buffers: 0 is the empty buffer; each constant tensor, then each metadata entry, gets its own.
  const buffers: (Uint8Array | null)[] = [null];
  const tensorBuffer = graph.tensors.map((t) => {
    if (!t.data) return 0;
    buffers.push(t.data);
    return buffers.length - 1;
  });
  const runtime = opts.minRuntimeVersion ?? minRuntimeVersion(graph) ?? textOf(graph.metadata['min_runtime_version']) ?? '1.5.0';
  const runtimeBytes = new Uint8Array(Math.max(16, runtime.length + 1));
  runtimeBytes.set(new TextEncoder().encode(runtime));
  const metadata: { name: string; buffer: number }[] = [];
  for (const [name, data] of Object.entries(graph.metadata)) {
    if (name === 'min_runtime_version') continue;
    buffers.push(data);
    metadata.push({ name, buffer: buffers.length - 1 });
  }
  buffers.push(runtimeBytes);
  metadata.push({ name: 'min_runtime_version', buffer: buffers.length - 1 });

  let dataBytes = 0;
  for (const d of buffers) dataBytes += (d?.length ?? 0) + 32;
  const b = new Builder(Math.min(2 ** 30, 1024 + dataBytes + 256 * (graph.tensors.length + graph.ops.length)));

  // Buffers go first (deepest in the file): big aligned blobs, then the small tables.
  const bufferOffsets = buffers.map((d) => {
    const data = d && d.length > 0 ? alignedBytes(b, d) : 0;
    b.startObject(3);
    if (data) b.addFieldOffset(0, data, 0);
    return b.endObject();
  });

  // Equal shapes, quantization parameters, index lists, option tables and names are written
  // once and referred to from every tensor or op that has them (an unrolled recurrent model
  // repeats the same few thousands of times).
  const shared = new Map<string, Offset>();
  const once = (key: string, make: () => Offset): Offset => {
    let off = shared.get(key);
    if (off === undefined) shared.set(key, off = make());
    return off;
  };
  const ints = (xs: readonly number[]) => once(`i:${xs.join(',')}`, () => i32Vector(b, xs));
  const tensorOffsets = graph.tensors.map((t, i) => {
    const name = b.createSharedString(t.name ?? '');
    const shape = ints(t.shape);
    const sig = t.shapeSignature ? ints(t.shapeSignature) : 0;
    let quant = 0;
    if (t.quant) {
      const q = t.quant;
      quant = once(`q:${q.scale.join(',')}:${q.zeroPoint.join(',')}:${q.quantizedDimension}`, () => {
        const scale = f32Vector(b, q.scale);
        const zp = i64Vector(b, q.zeroPoint);
        b.startObject(7);
        b.addFieldOffset(2, scale, 0);
        b.addFieldOffset(3, zp, 0);
        b.addFieldInt32(6, q.quantizedDimension, 0);
        return b.endObject();
      });
    }
    b.startObject(8);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, DTYPE_BY_CODE.indexOf(t.dtype), 0);
    b.addFieldInt32(2, tensorBuffer[i]!, 0);
    b.addFieldOffset(3, name, 0);
    if (quant) b.addFieldOffset(4, quant, 0);
    b.addFieldInt8(5, t.isVariable ? 1 : 0, 0);
    if (sig) b.addFieldOffset(7, sig, 0);
    return b.endObject();
  });

  const opOffsets = graph.ops.map((op, k) => {
    const inputs = ints(op.inputs);
    const outputs = ints(op.outputs);
    const intermediates = op.intermediates.length ? ints(op.intermediates) : 0;
    let tag = OPTIONS_FOR_OP[op.opcode] ?? EMPTY_OPTIONS_FOR_OP[op.opcode] ?? 0;
    if (op.opcode === 'CUSTOM') tag = 0;
    const options = tag ? once(`o:${tag}:${JSON.stringify(op.options ?? {})}`, () => writeOptions(b, tag, op, source)) : 0;
    b.startObject(9);
    b.addFieldInt32(0, opCodeIndex[k]!, 0);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (tag) {
      b.addFieldInt8(3, tag, 0);
      b.addFieldOffset(4, options, 0);
    }
    if (intermediates) b.addFieldOffset(8, intermediates, 0);
    return b.endObject();
  });

  const sgTensors = offsetVector(b, tensorOffsets);
  const sgInputs = i32Vector(b, graph.inputs);
  const sgOutputs = i32Vector(b, graph.outputs);
  const sgOps = offsetVector(b, opOffsets);
  const sgName = b.createString('main');
  b.startObject(6);
  b.addFieldOffset(0, sgTensors, 0);
  b.addFieldOffset(1, sgInputs, 0);
  b.addFieldOffset(2, sgOutputs, 0);
  b.addFieldOffset(3, sgOps, 0);
  b.addFieldOffset(4, sgName, 0);
  const subgraph = b.endObject();

  const codeOffsets = codes.map((c) => {
    const custom = c.custom ? b.createString(c.custom) : 0;
    b.startObject(4);
    b.addFieldInt8(0, Math.min(c.code, 127), 0);
    if (custom) b.addFieldOffset(1, custom, 0);
    b.addFieldInt32(2, c.version, 1);
    b.addFieldInt32(3, c.code, 0);
    return b.endObject();
  });

  const metaOffsets = metadata.map((m) => {
    const name = b.createString(m.name);
    b.startObject(2);
    b.addFieldOffset(0, name, 0);
    b.addFieldInt32(1, m.buffer, 0);
    return b.endObject();
  });

  // Signature def: inputs and outputs by tensor name.
  const tensorMaps = (ids: readonly number[]) => offsetVector(b, ids.map((i) => {
    const name = b.createString(graph.tensors[i]!.name ?? '');
    b.startObject(2);
    b.addFieldOffset(0, name, 0);
    b.addFieldInt32(1, i, 0);
    return b.endObject();
  }));
  const sigInputs = tensorMaps(graph.inputs);
  const sigOutputs = tensorMaps(graph.outputs);
  const sigKey = b.createString(opts.signatureKey ?? 'serving_default');
  b.startObject(5);
  b.addFieldOffset(0, sigInputs, 0);
  b.addFieldOffset(1, sigOutputs, 0);
  b.addFieldOffset(2, sigKey, 0);
  b.addFieldInt32(4, 0, 0);
  const signature = b.endObject();

  const operatorCodes = offsetVector(b, codeOffsets);
  const subgraphs = offsetVector(b, [subgraph]);
  const description = b.createString(opts.description ?? graph.description ?? '');
  const buffersVec = offsetVector(b, bufferOffsets);
  const metadataVec = offsetVector(b, metaOffsets);
  const signatures = offsetVector(b, [signature]);

  b.startObject(8);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, operatorCodes, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffersVec, 0);
  b.addFieldOffset(6, metadataVec, 0);
  b.addFieldOffset(7, signatures, 0);
  const model = b.endObject();
  b.finish(model, 'TFL3');
  return b.asUint8Array().slice();
}

function textOf(bytes: Uint8Array | undefined): string | null {
  if (!bytes) return null;
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  const s = new TextDecoder().decode(bytes.subarray(0, end));
  return /^\d+(\.\d+)*$/.test(s) ? s : null;
}
