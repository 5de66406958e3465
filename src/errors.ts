/**
 * The one error type Kestrel throws on purpose. `code` is stable and meant for
 * programs; `message` is meant for people and names the file, tensor or op.
 */
export type KestrelErrorCode =
  | 'E_MODEL_TRUNCATED'
  | 'E_MODEL_INVALID'
  | 'E_MODEL_UNSUPPORTED'
  | 'E_UNSUPPORTED_OP'
  | 'E_OP_INVALID'
  | 'E_TENSOR_INVALID'
  | 'E_QUANT_INVALID'
  | 'E_BUFFER_INVALID'
  | 'E_INPUT_COUNT'
  | 'E_INPUT_DTYPE'
  | 'E_INPUT_SHAPE'
  | 'E_INPUT_MISSING'
  | 'E_MEMORY_LIMIT'
  | 'E_BACKEND'
  | 'E_DISPOSED'
  | 'E_IO'
  | 'E_USAGE'
  | 'E_KERNEL'
  /** Threads cannot be used here, did not start, or stopped answering. */
  | 'E_THREADS'
  /** The Worker mode's worker could not start, failed or did not answer in time. */
  | 'E_WORKER'
  | 'E_COMPILE'
  | 'E_COMPILER_MISSING'
  | 'E_NOT_COMPILED'
  /** A dataset or calibration set is missing, malformed or does not fit the model. */
  | 'E_DATA'
  /** A model cannot be converted (unsupported layer, NaN/Inf weights, bad topology). */
  | 'E_CONVERT'
  /** Quantization cannot proceed (no calibration data, degenerate ranges). */
  | 'E_QUANTIZE'
  /** Training cannot start or failed (unknown recipe, bad options). */
  | 'E_TRAIN';

export class KestrelError extends Error {
  readonly code: KestrelErrorCode;
  constructor(code: KestrelErrorCode, message: string) {
    super(message);
    this.name = 'KestrelError';
    this.code = code;
  }
}

export function isKestrelError(e: unknown): e is KestrelError {
  return e instanceof KestrelError;
}
