// Fast training on TensorFlow.js: the stock wasm backend (XNNPACK) plus the training
// kernels it lacks or runs slowly, registered into it under backendName 'wasm'.
//
// The wasm backend keeps every tensor in its own Emscripten heap. A kernel here reads its
// inputs straight out of that heap (backend.typedArrayFromHeap), allocates its output
// there (backend.makeOutput) and computes either in Kestrel's own SIMD module
// (dist/wasm/kestrel-train.wasm, see assembly/train/) or by handing a reshaped problem to
// one of the backend's own XNNPACK kernels.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { KestrelError } from '../../errors.js';
import { registerKestrelKernels } from './register.js';

export type TrainingBackendName = 'kestrel' | 'wasm' | 'cpu';

export interface TrainingBackendOptions {
  /** 'kestrel' (default): wasm + Kestrel's kernels; 'wasm': stock wasm; 'cpu': tfjs cpu. */
  backend?: TrainingBackendName;
  /** Worker threads for XNNPACK. Node builds of tfjs-backend-wasm 4.22 run single-threaded. */
  threads?: number;
}

export interface TrainingBackendInfo {
  /** 'kestrel', 'wasm' or 'cpu': what training actually runs on. */
  backend: string;
  /** Kernel names Kestrel registered into the wasm backend (empty unless 'kestrel'). */
  kernels: string[];
  /** Threads the wasm backend runs with (1 on Node; 1 for cpu). */
  threads: number;
}

let wasmPathsSet = false;
let registered: string[] | null = null;
let current: TrainingBackendInfo | null = null;

function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  // The package's main file lies in its dist/ folder, next to the .wasm binaries.
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
}

/**
 * Selects the backend training runs on. Idempotent: calling it again with the same choice
 * returns the same answer without redoing work. 'kestrel' registers Kestrel's kernels
 * into the wasm backend; once registered they stay for the life of the process, so a
 * later 'wasm' request gets the same kernels (reported as 'kestrel').
 */
export async function setupTrainingBackend(opts: TrainingBackendOptions = {}): Promise<TrainingBackendInfo> {
  const want = opts.backend ?? 'kestrel';
  if (want !== 'kestrel' && want !== 'wasm' && want !== 'cpu') {
    throw new KestrelError('E_USAGE', `unknown training backend '${String(want)}' (use kestrel, wasm or cpu)`);
  }
  if (current && (current.backend === want || (want === 'wasm' && current.backend === 'kestrel' && registered)) && tf.getBackend() === (want === 'cpu' ? 'cpu' : 'wasm')) {
    return current;
  }
  if (want === 'cpu') {
    await tf.setBackend('cpu');
    await tf.ready();
    current = { backend: 'cpu', kernels: [], threads: 1 };
    return current;
  }
  let ok = false;
  try {
    if (!wasmPathsSet) {
      tfwasm.setWasmPaths(wasmDistDir());
      if (opts.threads && opts.threads > 1) tfwasm.setThreadsCount(opts.threads);
      wasmPathsSet = true;
    }
    if (want === 'kestrel' && !registered) registered = await registerKestrelKernels();
    ok = await tf.setBackend('wasm');
    await tf.ready();
  } catch (e) {
    ok = false;
    process.stderr.write(`warning: the wasm training backend could not start (${(e as Error).message ?? e}); training falls back to the slower tfjs cpu backend\n`);
  }
  if (!ok) {
    if (tf.getBackend() !== 'wasm') {
      process.stderr.write('warning: the wasm training backend is unavailable; training runs on the slower tfjs cpu backend\n');
    }
    await tf.setBackend('cpu');
    await tf.ready();
    current = { backend: 'cpu', kernels: [], threads: 1 };
    return current;
  }
  const threads = Math.max(1, tfwasm.getThreadsCount());
  current = { backend: registered ? 'kestrel' : 'wasm', kernels: registered ? [...registered] : [], threads };
  return current;
}
