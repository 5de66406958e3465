/**
 * kestrel/runtime — the device-side entry point. It imports no training or
 * quantization dependency.
 */
export { loadModel, createModel, Model, quantizeValues, dequantizeValues } from './model.js';
export type { LoadOptions, ModelSource, TensorInfo, TypedArray } from './model.js';
export { loadCompiled, loadAnyModel, CompiledModel, isWasm, COMPILED_ABI_VERSION } from './compiled.js';
export type { CompiledSource, CompiledLoadOptions, CompiledExports, RunnableModel } from './compiled.js';
export { hasSimd, relaxedSupport } from './wasm.js';
export { loadModelInWorker, WorkerModel } from './worker-client.js';
export type { WorkerLoadOptions } from './worker-client.js';
export { threadSupport } from './threads.js';
export type { ThreadsOption } from './threads.js';
export type { Backend, WasmOptions } from './wasm.js';
export type { RelaxedDotOption } from './relaxed-dot.js';
export { KestrelError, isKestrelError } from '../errors.js';
export type { KestrelErrorCode } from '../errors.js';
export { readTflite } from '../tflite/reader.js';
export { supportedOps } from './ops/index.js';
export { summarize } from "./inspect.js";
export type { ModelSummary, TensorSummary } from "./inspect.js";
