/** kestrel — the SDK entry point. */
export * from './runtime/index.js';
export type { Graph, Tensor, Op, DType, Quantization } from './graph/types.js';
export { writeTflite, opVersion, minRuntimeVersion } from './tflite/writer.js';
export type { WriteOptions } from './tflite/writer.js';
export { layersModelToGraph, readLayersModelDir, SUPPORTED_LAYERS } from './convert/tfjs-layers.js';
export type { LayersConvertOptions } from './convert/tfjs-layers.js';
export {
  loadDataset, readIdx, readNpy, readCsv, decodePng, generateDrivingGrid, shuffleDataset, splitDataset, subsetDataset,
  takeSamples, checkSampleShape, hasTestSplit, mulberry32, shuffledIndices, FASHION_MNIST_CLASSES,
} from './data/index.js';
export type { Dataset, LoadOptions } from './data/index.js';
export type { TrainOptions, TrainResult, TrainHistory, TrainProgress, RecipeName, RecipeMeta } from './train/index.js';
export { quantizeModel, quantizeGraph, calibrate, runFloat, cleanupGraph, unrollLstms, CALIBRATION_METHODS } from './quantize/index.js';
export type { QuantizeOptions, QuantizeResult, QuantizeReport, LayerReport, CalibrationData, SampleSet, CalibrationMethod } from './quantize/index.js';
