// Kestrel's SIMD data-movement loops (assembly/train/, dist/wasm/kestrel-train.wasm),
// instantiated on the tfjs wasm backend's own memory so they work on tensors in place.
// When the module or the backend's memory cannot be reached, the kernels use their
// JavaScript loops instead (same results, slower).
import { readFileSync } from 'node:fs';
import type { WasmBackend } from './heap.js';

export interface TrainLoops {
  im2colT(x: number, p: number, N: number, H: number, W: number, CI: number, OH: number, OW: number, sh: number, sw: number, KH: number, KW: number, pt: number, pl: number): void;
  col2im(cols: number, dx: number, N: number, H: number, W: number, CI: number, OH: number, OW: number, sh: number, sw: number, KH: number, KW: number, pt: number, pl: number): void;
  maxPoolGrad(x: number, dy: number, dx: number, N: number, H: number, W: number, C: number, OH: number, OW: number, sh: number, sw: number, FH: number, FW: number, pt: number, pl: number): void;
  transposeLast2(src: number, dst: number, B: number, R: number, C: number): void;
  tanh(x: number, y: number, n: number): void;
}

/** Switch for measurements and tests: false makes every kernel use its JavaScript loops. */
export const loopTuning = { useWasm: true };

let module: WebAssembly.Module | null | undefined;
const instances = new WeakMap<WebAssembly.Memory, TrainLoops>();

function compiled(): WebAssembly.Module | null {
  if (module !== undefined) return module;
  try {
    module = new WebAssembly.Module(readFileSync(new URL('../../wasm/kestrel-train.wasm', import.meta.url)));
  } catch {
    module = null;
  }
  return module;
}

/** The loops bound to this backend's heap, or null (then the caller runs its JS loops). */
export function loops(backend: WasmBackend): TrainLoops | null {
  if (!loopTuning.useWasm) return null;
  const memory = (backend as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  let inst = instances.get(memory);
  if (!inst) {
    const m = compiled();
    if (!m) return null;
    inst = new WebAssembly.Instance(m, { env: { memory } }).exports as unknown as TrainLoops;
    instances.set(memory, inst);
  }
  return inst;
}

/** Byte offset of a tensor in the backend's heap. */
export function ptr(backend: WasmBackend, t: { dataId: object }): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}
