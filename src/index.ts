/** kestrel — the SDK entry point. */
export * from './runtime/index.js';
export type { Graph, Tensor, Op, DType, Quantization } from './graph/types.js';
