/**
 * WebAssembly feature detection by validating tiny modules (works in Node and browsers).
 */
import { hasSimd } from '../runtime/wasm.js';

const HEADER = [0, 97, 115, 109, 1, 0, 0, 0];

// (module (func (result v128) v128.const 0 v128.const 0 i8x16.relaxed_swizzle))
const RELAXED_SIMD_PROBE = new Uint8Array([
  ...HEADER, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 43, 1, 41, 0,
  253, 12, ...new Array(16).fill(0), 253, 12, ...new Array(16).fill(0), 253, 128, 2, 11,
]);

// (module (memory 1 1 shared))
const THREADS_PROBE = new Uint8Array([...HEADER, 5, 4, 1, 3, 1, 1]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try { return WebAssembly.validate(bytes); } catch { return false; }
}

export interface WasmFeatures {
  wasm_simd: boolean;
  wasm_relaxed_simd: boolean;
  /** Shared memory validates and SharedArrayBuffer exists (threads could be used). */
  wasm_threads: boolean;
}

export function wasmFeatures(): WasmFeatures {
  return {
    wasm_simd: hasSimd(),
    wasm_relaxed_simd: validates(RELAXED_SIMD_PROBE),
    wasm_threads: validates(THREADS_PROBE) && typeof SharedArrayBuffer !== 'undefined',
  };
}
