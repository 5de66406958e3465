/**
 * The in-memory graph: the meeting point of the tflite reader, the quantizer,
 * the tflite writer and the planner. Shapes are NHWC as in TFLite; tensor data
 * is little-endian bytes.
 */

export type DType =
  | 'float32' | 'float16' | 'int32' | 'uint8' | 'int64' | 'string' | 'bool'
  | 'int16' | 'complex64' | 'int8' | 'float64' | 'complex128' | 'uint64'
  | 'resource' | 'variant' | 'uint32' | 'uint16' | 'int4' | 'bfloat16'
  | 'int2' | 'uint4' | 'float8_e4m3fn' | 'float8_e5m2';

/** TFLite's TensorType enum order. */
export const DTYPE_BY_CODE: readonly DType[] = [
  'float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16',
  'complex64', 'int8', 'float64', 'complex128', 'uint64', 'resource', 'variant',
  'uint32', 'uint16', 'int4', 'bfloat16', 'int2', 'uint4', 'float8_e4m3fn', 'float8_e5m2',
];

/** Bytes per element, or 0 where a tensor of that type has no fixed element size. */
export function dtypeSize(d: DType): number {
  switch (d) {
    case 'float32': case 'int32': case 'uint32': return 4;
    case 'float16': case 'int16': case 'uint16': case 'bfloat16': return 2;
    case 'int64': case 'uint64': case 'float64': case 'complex64': return 8;
    case 'complex128': return 16;
    case 'uint8': case 'int8': case 'bool': case 'float8_e4m3fn': case 'float8_e5m2': return 1;
    default: return 0;
  }
}

export interface Quantization {
  /** float32 scales (as exact JS numbers). One for per-tensor, one per channel otherwise. */
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface Tensor {
  index: number;
  name: string;
  shape: number[];
  /** shape_signature as stored (-1 marks a dynamic dimension), or null. */
  shapeSignature: number[] | null;
  dtype: DType;
  /** Constant contents (exactly numElements × dtypeSize bytes), or null for activations. */
  data: Uint8Array | null;
  quant: Quantization | null;
  isVariable: boolean;
}

export type Activation = 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH' | 'SIGN_BIT';
export type Padding = 'SAME' | 'VALID';

export interface Op {
  index: number;
  /** Builtin operator name, e.g. 'CONV_2D'; custom ops are 'CUSTOM'. */
  opcode: string;
  /** Custom operator name for CUSTOM ops, else ''. */
  customCode: string;
  version: number;
  /** Tensor indices; -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  intermediates: number[];
  /** Parsed builtin options (see src/tflite/options.ts for the fields per op). */
  options: Record<string, any>;
}

export interface Graph {
  /** Name of the file or source this graph came from, used in messages. */
  source: string;
  description: string;
  version: number;
  tensors: Tensor[];
  ops: Op[];
  inputs: number[];
  outputs: number[];
  /** Metadata entries by name (raw bytes). */
  metadata: Record<string, Uint8Array>;
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

export function byteLength(t: Tensor): number {
  return numElements(t.shape) * dtypeSize(t.dtype);
}

export function describeTensor(t: Tensor): string {
  return `tensor #${t.index} '${t.name}'`;
}
