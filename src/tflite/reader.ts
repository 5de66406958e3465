/**
 * TFLite flatbuffer reader: bytes -> Graph, validating everything it reads.
 *
 * Field offsets follow tensorflow/lite/schema/schema.fbs (vtable slot n is at 4 + 2n).
 * A malformed file gives a KestrelError naming what is wrong; no read leaves the buffer.
 */
import { KestrelError } from '../errors.js';
import type { DType, Graph, Op, Quantization, Tensor } from '../graph/types.js';
import { DTYPE_BY_CODE, dtypeSize } from '../graph/types.js';
import { FbReader, Table } from './fb.js';
import { OPTIONS_FOR_OP, parseOptions } from './options.js';
import { builtinOpName } from './schema.js';

/** Largest tensor Kestrel accepts, in bytes (wasm32 memory is at most 4 GiB). */
export const MAX_TENSOR_BYTES = 1 << 30;
export const MAX_DIMS = 8;

export interface ReadOptions {
  /** Name used in error messages (a file path, URL or 'model'). */
  source?: string;
}

export function readTflite(bytes: Uint8Array, opts: ReadOptions = {}): Graph {
  const source = opts.source ?? 'model';
  const bad = (code: 'E_MODEL_INVALID' | 'E_TENSOR_INVALID' | 'E_QUANT_INVALID' | 'E_BUFFER_INVALID' | 'E_MODEL_UNSUPPORTED', msg: string): never => {
    throw new KestrelError(code, `${source}: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array)) bad('E_MODEL_INVALID', 'model bytes must be a Uint8Array');
  if (bytes.length < 8) throw new KestrelError('E_MODEL_TRUNCATED', `${source}: file has ${bytes.length} bytes, too small to be a TFLite model`);
  const ident = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
  if (ident !== 'TFL3') {
    bad('E_MODEL_INVALID', `not a TFLite model (file identifier is '${printable(ident)}', expected 'TFL3')`);
  }
  const r = new FbReader(bytes, source);
  const model = r.table(r.root(), 'model');

  const version = model.u32(4, 0, 'version');
  if (version !== 3) bad('E_MODEL_UNSUPPORTED', `schema version ${version} is not supported (expected 3)`);

  // Operator codes.
  const opcodes = model.tables(6, 'operator_codes').map((t, i) => {
    const deprecated = t.i8(4, 0, 'deprecated_builtin_code');
    const builtin = t.i32(10, 0, 'builtin_code');
    const code = Math.max(deprecated, builtin);
    if (code < 0) bad('E_MODEL_INVALID', `operator_codes[${i}] has negative builtin code ${code}`);
    const opVersion = t.i32(8, 1, 'version');
    return { code, name: builtinOpName(code), custom: t.string(6, 'custom_code'), version: opVersion };
  });

  // Buffers.
  const bufferTables = model.tables(12, 'buffers');
  const buffers: (Uint8Array | null)[] = bufferTables.map((t, i) => {
    const data = t.bytes(4, 'data');
    if (data && data.length > 0) return data;
    const offset = t.u64(6, 0n, 'offset');
    const size = t.u64(8, 0n, 'size');
    if (offset > 1n && size > 0n) {
      if (offset + size > BigInt(bytes.length)) {
        throw new KestrelError('E_BUFFER_INVALID', `${source}: buffers[${i}] points at bytes ${offset}..${offset + size}, past the end of the ${bytes.length}-byte file`);
      }
      return bytes.subarray(Number(offset), Number(offset + size));
    }
    return null;
  });

  const subgraphs = model.tables(8, 'subgraphs');
  if (subgraphs.length === 0) bad('E_MODEL_INVALID', 'model has no subgraph');
  const sg = subgraphs[0]!;

  const metadata: Record<string, Uint8Array> = {};
  for (const m of model.tables(16, 'metadata')) {
    const name = m.string(4, 'name');
    const b = m.u32(6, 0, 'buffer');
    if (b < buffers.length && buffers[b]) metadata[name] = buffers[b]!;
  }

  // Tensors.
  const tensorTables = sg.tables(4, 'subgraphs[0].tensors');
  const tensors: Tensor[] = tensorTables.map((t, index) => readTensor(t, index));

  function readTensor(t: Table, index: number): Tensor {
    const name = t.string(10, 'name');
    const label = `tensor #${index} '${name}'`;
    const typeCode = t.i8(6, 0, 'type');
    const dtype: DType | undefined = DTYPE_BY_CODE[typeCode];
    if (!dtype) bad('E_TENSOR_INVALID', `${label} has unknown type code ${typeCode}`);
    const shape = t.i32s(4, 'shape') ?? [];
    if (shape.length > MAX_DIMS) bad('E_TENSOR_INVALID', `${label} has rank ${shape.length} (at most ${MAX_DIMS} supported)`);
    const shapeSignature = t.i32s(18, 'shape_signature');
    for (let j = 0; j < shape.length; j++) {
      if (shape[j]! < 0) bad('E_TENSOR_INVALID', `${label} has negative dimension in shape [${shape.join(',')}] (dynamic shapes are not supported)`);
    }
    const elemSize = dtypeSize(dtype!);
    let bytesNeeded = elemSize;
    for (let j = 0; j < shape.length; j++) {
      bytesNeeded *= shape[j]!;
      if (bytesNeeded > MAX_TENSOR_BYTES) bad('E_TENSOR_INVALID', `${label} shape [${shape.join(',')}] is too large (over ${MAX_TENSOR_BYTES} bytes)`);
    }
    const bufferIndex = t.u32(8, 0, 'buffer');
    if (bufferIndex >= buffers.length && !(bufferIndex === 0 && buffers.length === 0)) {
      throw new KestrelError('E_BUFFER_INVALID', `${source}: ${label} refers to buffer ${bufferIndex}, but the model has ${buffers.length} buffers`);
    }
    let data = buffers[bufferIndex] ?? null;
    if (data) {
      if (elemSize === 0) bad('E_MODEL_UNSUPPORTED', `${label} holds constant data of type ${dtype}, which is not supported`);
      if (data.length !== bytesNeeded) {
        throw new KestrelError('E_BUFFER_INVALID', `${source}: ${label} has shape [${shape.join(',')}] of ${dtype} (${bytesNeeded} bytes) but its buffer ${bufferIndex} holds ${data.length} bytes`);
      }
    }
    const isVariable = t.bool(14, false, 'is_variable');
    if (t.has(16)) bad('E_MODEL_UNSUPPORTED', `${label} is sparse; sparse tensors are not supported`);
    const q = t.table(12, 'quantization');
    const quant = q ? readQuant(q, label, shape) : null;
    return { index, name, shape, shapeSignature, dtype: dtype!, data, quant, isVariable };
  }

  function readQuant(q: Table, label: string, shape: number[]): Quantization | null {
    if (q.u8(12, 0, 'details_type') !== 0) bad('E_MODEL_UNSUPPORTED', `${label} uses custom quantization details, which are not supported`);
    const read = q.scales(8, 'scale');
    const scale = read ? read.values : [];
    const zp64 = zeroPoints(q, label);
    const quantizedDimension = q.i32(16, 0, 'quantized_dimension');
    if (scale.length === 0 && zp64.length === 0) return null;
    if (scale.length === 0) bad('E_QUANT_INVALID', `${label} has zero points but no scales`);
    if (zp64.length !== 0 && zp64.length !== scale.length) {
      bad('E_QUANT_INVALID', `${label} has ${scale.length} scales but ${zp64.length} zero points`);
    }
    if (read && read.bad >= 0) bad('E_QUANT_INVALID', `${label} has invalid scale ${scale[read.bad]}`);
    const zeroPoint = zp64.length ? zp64 : scale.map(() => 0);
    if (quantizedDimension < 0) bad('E_QUANT_INVALID', `${label} has negative quantized_dimension ${quantizedDimension}`);
    if (scale.length > 1) {
      if (quantizedDimension < shape.length) {
        if (shape[quantizedDimension] !== scale.length) {
          bad('E_QUANT_INVALID', `${label} has ${scale.length} per-channel scales but dimension ${quantizedDimension} of shape [${shape.join(',')}] is ${shape[quantizedDimension]}`);
        }
      } else if (!(shape.length === 1 && shape[0] === scale.length)) {
        // A rank-1 tensor whose quantized_dimension names a channel axis of another
        // tensor (seen in published models' biases) is accepted as axis 0, like TFLite Micro.
        bad('E_QUANT_INVALID', `${label} has quantized_dimension ${quantizedDimension} but rank ${shape.length}`);
      }
    }
    const qd = quantizedDimension < shape.length ? quantizedDimension : 0;
    return { scale, zeroPoint, quantizedDimension: qd };
  }

  /**
   * The int64 zero points as numbers. Each is read as two int32 halves instead of a BigInt
   * (per-channel models hold thousands); a value outside int32 is refused.
   */
  function zeroPoints(q: Table, label: string): number[] {
    const v = q.vector(10, 8, 'zero_point');
    if (!v) return [];
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) {
      const lo = q.r.bb.readInt32(v.start + 8 * i);
      const hi = q.r.bb.readInt32(v.start + 8 * i + 4);
      if (hi !== lo >> 31) {
        const z = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
        bad('E_QUANT_INVALID', `${label} has out-of-range zero point ${z}`);
      }
      out[i] = lo;
    }
    return out;
  }

  // Operators.
  /** Checks tensor index `i` of op #op's `role` list (op -1: the subgraph's); the message is built only on failure. */
  const checkIndex = (i: number, op: number, role: string, allowOmitted: boolean): number => {
    if (i === -1 && allowOmitted) return -1;
    if (!Number.isInteger(i) || i < 0 || i >= tensors.length) {
      const what = op < 0 ? `subgraph ${role}` : `op #${op} ${opcodes[ops0[op]!]!.name} ${role}`;
      bad('E_MODEL_INVALID', `${what} refers to tensor ${i}, but the subgraph has ${tensors.length} tensors`);
    }
    return i;
  };
  const indexList = (v: number[] | null, op: number, role: string, allowOmitted: boolean): number[] => {
    if (!v) return [];
    for (let j = 0; j < v.length; j++) checkIndex(v[j]!, op, role, allowOmitted);
    return v;
  };
  // Opcode index of each op, for messages (set before the op's lists are checked).
  const ops0: number[] = [];
  const ops: Op[] = sg.tables(10, 'subgraphs[0].operators').map((t, index) => {
    const opcodeIndex = t.u32(4, 0, 'opcode_index');
    const oc = opcodes[opcodeIndex];
    if (!oc) bad('E_MODEL_INVALID', `operator #${index} has opcode_index ${opcodeIndex}, but the model has ${opcodes.length} operator codes`);
    ops0[index] = opcodeIndex;
    const inputs = indexList(t.i32s(6, 'inputs'), index, 'input', true);
    const outputs = indexList(t.i32s(8, 'outputs'), index, 'output', false);
    const intermediates = indexList(t.i32s(20, 'intermediates'), index, 'intermediate', true);
    const optType = t.u8(10, 0, 'builtin_options_type');
    const expected = OPTIONS_FOR_OP[oc!.name];
    let options: Record<string, any> = {};
    if (optType !== 0) {
      if (expected !== undefined && optType !== expected) {
        bad('E_MODEL_INVALID', `op #${index} ${oc!.name} carries builtin options of union type ${optType}, expected ${expected}`);
      }
      options = parseOptions(optType, t.table(12, 'builtin_options'));
    } else if (expected !== undefined) {
      options = parseOptions(expected, null);
    }
    return { index, opcode: oc!.name, customCode: oc!.custom, version: oc!.version, inputs, outputs, intermediates, options };
  });

  const inputs = indexList(sg.i32s(6, 'subgraphs[0].inputs'), -1, 'input', false);
  const outputs = indexList(sg.i32s(8, 'subgraphs[0].outputs'), -1, 'output', false);

  return {
    source,
    description: model.string(10, 'description'),
    version,
    tensors,
    ops,
    inputs,
    outputs,
    metadata,
  };
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
