/** kestrel — the SDK entry point. */
export * from './runtime/index.js';
export type { Graph, Tensor, Op, DType, Quantization } from './graph/types.js';
export { writeTflite, opVersion, minRuntimeVersion } from './tflite/writer.js';
export type { WriteOptions } from './tflite/writer.js';
export { quantizeModel, quantizeGraph, calibrate, runFloat, cleanupGraph, unrollLstms, CALIBRATION_METHODS } from './quantize/index.js';
export type { QuantizeOptions, QuantizeResult, QuantizeReport, LayerReport, CalibrationData, SampleSet, CalibrationMethod } from './quantize/index.js';
