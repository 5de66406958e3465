// Fast training on TensorFlow.js: the stock wasm backend (XNNPACK) plus the training
// kernels it lacks or runs slowly, registered into it under backendName 'wasm'.
//
// The wasm backend keeps every tensor in its own Emscripten heap. A kernel here reads its
// inputs straight out of that heap (backend.typedArrayFromHeap), allocates its output
// there (backend.makeOutput) and computes either with Kestrel's own SIMD module
// (dist/wasm/kestrel-train.wasm from assembly/train/, instantiated on that same memory, so
// nothing is copied) or by handing a reshaped problem to one of the backend's own XNNPACK
// kernels. docs/training-speed.md lists the kernels, why each exists, and the speed-ups.
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
  /** Worker threads for XNNPACK (browsers with cross-origin isolation); Node runs single-threaded. */
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
let methodsInstalled = false;
let wasmFailed = false;
let threadsWarned = false;

/**
 * tfjs-layers' orthogonal initializer (the default recurrent initializer of LSTM and GRU
 * layers) calls tensor methods (flatten, stridedSlice, sign, transpose, reshape) that the
 * Node build of tfjs-core does not install on Tensor (only the @tensorflow/tfjs bundle
 * does). Install those that are absent, each as the tfjs op of the same name.
 */
function installTensorMethods(): void {
  if (methodsInstalled) return;
  methodsInstalled = true;
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = tf as unknown as Record<string, (...a: unknown[]) => tf.Tensor>;
  if (typeof proto.flatten !== 'function') {
    proto.flatten = function (this: tf.Tensor) {
      return tf.reshape(this, [this.size]);
    };
  }
  for (const name of ['stridedSlice', 'sign', 'transpose', 'reshape']) {
    if (typeof proto[name] === 'function') continue;
    const op = ops[name]!;
    proto[name] = function (this: tf.Tensor, ...args: unknown[]) {
      return op(this, ...args);
    };
  }
}

let registered: string[] | null = null;
let current: TrainingBackendInfo | null = null;

function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  // The package's main file lies in its dist/ folder, next to the .wasm binaries.
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
}

/**
 * Selects the backend training runs on and returns what it actually is.
 *
 * - 'kestrel' (default): the tfjs wasm backend (XNNPACK, SIMD) with Kestrel's training
 *   kernels registered into it; see KERNELS in register.ts for the list.
 * - 'wasm': the stock wasm backend. Once Kestrel's kernels are registered they stay for the
 *   life of the process, so 'wasm' after 'kestrel' reports 'kestrel'.
 * - 'cpu': the tfjs cpu backend.
 *
 * When the wasm backend cannot start, one warning line goes to stderr and training runs on
 * 'cpu'. Idempotent: repeated calls with the same choice return the same answer.
 * `threads` above 1 is ignored with a warning on Node: tfjs-backend-wasm 4.22 starts its
 * worker threads from blob: URLs, which Node's worker_threads cannot load.
 */
export async function setupTrainingBackend(opts: TrainingBackendOptions = {}): Promise<TrainingBackendInfo> {
  installTensorMethods();
  const want = opts.backend ?? 'kestrel';
  if (want !== 'kestrel' && want !== 'wasm' && want !== 'cpu') {
    throw new KestrelError('E_USAGE', `unknown training backend '${String(want)}' (use kestrel, wasm or cpu)`);
  }
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new KestrelError('E_USAGE', `threads must be a whole number >= 1, got ${opts.threads}`);
  }
  if (want !== 'cpu' && wasmFailed) return useCpu();
  const effective = want === 'wasm' && registered ? 'kestrel' : want;
  if (current && current.backend === effective && tf.getBackend() === (want === 'cpu' ? 'cpu' : 'wasm')) return current;
  if (want === 'cpu') return useCpu();
  if ((opts.threads ?? 1) > 1 && !threadsWarned && isNode()) {
    threadsWarned = true;
    process.stderr.write(`warning: ${opts.threads} threads requested, but the tfjs wasm backend runs single-threaded on Node\n`);
  }
  try {
    if (!wasmPathsSet) {
      tfwasm.setWasmPaths(wasmDistDir());
      if ((opts.threads ?? 1) > 1 && !isNode()) tfwasm.setThreadsCount(opts.threads!);
      wasmPathsSet = true;
    }
    if (want === 'kestrel' && !registered) registered = await registerKestrelKernels();
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    await tf.ready();
  } catch (e) {
    wasmFailed = true;
    process.stderr.write(`warning: the wasm training backend could not start (${(e as Error)?.message ?? String(e)}); training runs on the much slower tfjs cpu backend\n`);
    return useCpu();
  }
  const threads = Math.max(1, tfwasm.getThreadsCount());
  current = { backend: registered ? 'kestrel' : 'wasm', kernels: registered ? [...registered] : [], threads };
  return current;
}

async function useCpu(): Promise<TrainingBackendInfo> {
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  current = { backend: 'cpu', kernels: [], threads: 1 };
  return current;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}
