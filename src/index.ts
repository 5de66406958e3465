/** kestrel — the SDK entry point. */
export * from './runtime/index.js';
export type { Graph, Tensor, Op, DType, Quantization } from './graph/types.js';
export { writeTflite, opVersion, minRuntimeVersion } from './tflite/writer.js';
export type { WriteOptions } from './tflite/writer.js';
export { layersModelToGraph, readLayersModelDir, SUPPORTED_LAYERS } from './convert/tfjs-layers.js';
export type { LayersConvertOptions } from './convert/tfjs-layers.js';
