/**
 * Locating, compiling and caching the kernel modules (SIMD, scalar and relaxed-SIMD builds).
 *
 * In Node the .wasm files are read from the package's dist/wasm folder. In browsers
 * they are fetched from `wasmPaths` (a folder URL) or from next to this module.
 * `wasmBinary` hands in the bytes directly (bundlers, extensions, strict CSPs).
 */
import { KestrelError } from '../errors.js';
import type { PrepareHelpers } from './ops/types.js';

/**
 * Kernel builds: 'simd' (wasm SIMD128), 'scalar' (no SIMD) and 'relaxed' (SIMD plus relaxed
 * SIMD's int8 dot product in the GEMM convolution, bit-exact like the others; faster only
 * where the engine maps that dot product to a dot-product instruction, such as x86 with
 * AVX-VNNI in Chromium: docs/performance.md, "Relaxed SIMD"). 'relaxed' is opt-in.
 */
export type Backend = 'simd' | 'scalar' | 'relaxed';

export interface WasmOptions {
  /** Folder (URL or path) holding kestrel-simd.wasm, kestrel-scalar.wasm, kestrel-relaxed.wasm (and the -mt threads builds). */
  wasmPaths?: string;
  /** The kernel module's bytes (or a compiled module) for the chosen backend (its -mt build when threads > 1). */
  wasmBinary?: Uint8Array | ArrayBuffer | WebAssembly.Module;
}

export interface KernelExports {
  memory: WebAssembly.Memory;
  invoke(plan: number, count: number): number;
  invokeOne(rec: number): number;
  heapBase(): number;
  /** The relaxed dot product of the vectors at p, p + 16, p + 32 -> p + 48 (src/runtime/relaxed-dot.ts). */
  relaxedDot?(p: number): void;
  /** The int8 LOGISTIC (kind 0) or TANH (kind 1) table at the returned address (assembly/ops/act-table.ts). */
  sigmoidTable8?(kind: number, zp: number, multiplier: number, shift: number, radius: number): number;
  simd(): number;
}

const cache = new Map<string, Promise<WebAssembly.Module>>();

// (module (func (result v128) v128.const i32x4 0 0 0 0))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

let simdSupported: boolean | undefined;
/** Whether this engine runs wasm SIMD128. */
export function hasSimd(): boolean {
  if (simdSupported === undefined) {
    try { simdSupported = WebAssembly.validate(SIMD_PROBE); } catch { simdSupported = false; }
  }
  return simdSupported;
}

const isNode = typeof process !== 'undefined' && !!(process as any).versions?.node;

// (module (func (result v128) (i32x4.relaxed_dot_i8x16_i7x16_add_s
//   (i32x4.splat (i32.const 0)) (i32x4.splat (i32.const 0)) (i32x4.splat (i32.const 0)))))
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0,
  253, 17, 65, 0, 253, 17, 65, 0, 253, 17, 253, 147, 2, 11,
]);

/**
 * Whether the relaxed build can run here, or why not: the engine must accept relaxed SIMD,
 * and compute its int8 dot product correctly. Node before 22 has it only behind
 * --experimental-wasm-relaxed-simd, and its baseline compiler (Liftoff) gets the dot
 * product wrong, so there it also takes --no-liftoff.
 */
export function relaxedSupport(): { ok: true } | { ok: false; reason: string } {
  let valid = false;
  try { valid = hasSimd() && WebAssembly.validate(RELAXED_PROBE); } catch { valid = false; }
  if (!valid) return { ok: false, reason: 'this WebAssembly engine does not support relaxed SIMD' };
  if (isNode) {
    const major = Number(String((process as any).versions.node).split('.')[0]);
    const argv: string[] = [...((process as any).execArgv ?? []), ...String((process as any).env?.NODE_OPTIONS ?? '').split(/\s+/)];
    if (major < 22 && !argv.includes('--no-liftoff')) {
      return { ok: false, reason: `Node ${(process as any).versions.node}'s baseline wasm compiler computes relaxed dot products wrongly; use Node 22 or newer, or run Node with --no-liftoff` };
    }
  }
  return { ok: true };
}

async function readWasm(backend: Backend, opts: WasmOptions, threaded: boolean): Promise<Uint8Array | ArrayBuffer> {
  const file = `kestrel-${backend}${threaded ? '-mt' : ''}.wasm`;
  const base = opts.wasmPaths;
  if (isNode && isLocalPath(base)) {
    const fs = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const path = await import('node:path');
    const dir = base
      ? (base.startsWith('file:') ? fileURLToPath(base) : base)
      : path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'wasm');
    const full = path.join(dir, file);
    try {
      return await fs.readFile(full);
    } catch (e) {
      throw new KestrelError('E_BACKEND', `cannot read kernel module ${full}: ${(e as Error).message}`);
    }
  }
  const res = await fetchWasm(file, opts);
  return res.arrayBuffer();
}

/** The kernel file's URL: under wasmPaths (absolute, or relative to the page) or next to this module. */
function wasmUrl(file: string, opts: WasmOptions): URL {
  const base = opts.wasmPaths;
  if (!base) return new URL(`../wasm/${file}`, import.meta.url);
  const page = (globalThis as any).location?.href as string | undefined;
  const folder = new URL(base.endsWith('/') ? base : base + '/', page);
  return new URL(file, folder);
}

async function fetchWasm(file: string, opts: WasmOptions): Promise<Response> {
  const url = wasmUrl(file, opts);
  const res = await fetch(url);
  if (!res.ok) throw new KestrelError('E_BACKEND', `cannot fetch kernel module ${url}: HTTP ${res.status}`);
  return res;
}

const isLocalPath = (base: string | undefined): boolean => !base || !/^[a-z]+:\/\//i.test(base) || base.startsWith('file:');

/**
 * Browsers: compile while the module downloads (WebAssembly.compileStreaming) when the
 * server sends application/wasm; otherwise (or where streaming is missing) compile the
 * downloaded bytes.
 */
async function compileFetched(file: string, opts: WasmOptions): Promise<WebAssembly.Module> {
  const res = await fetchWasm(file, opts);
  const type = res.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && /^application\/wasm\b/i.test(type)) {
    // Keep a copy of the body for the fallback in case streaming compilation rejects the response.
    const copy = res.clone();
    try {
      return await WebAssembly.compileStreaming(res);
    } catch {
      return WebAssembly.compile(await copy.arrayBuffer());
    }
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

/** `threaded` selects the threads build (kestrel-<backend>-mt.wasm, src/runtime/threads.ts). */
export function compileKernels(backend: Backend, opts: WasmOptions = {}, threaded = false): Promise<WebAssembly.Module> {
  if (backend === 'relaxed') {
    const r = relaxedSupport();
    if (!r.ok) return Promise.reject(new KestrelError('E_BACKEND', `backend "relaxed": ${r.reason}; use backend "simd" or "auto"`));
  }
  if (opts.wasmBinary instanceof WebAssembly.Module) return Promise.resolve(opts.wasmBinary);
  if (opts.wasmBinary) return WebAssembly.compile(opts.wasmBinary as BufferSource);
  const key = `${backend}${threaded ? '-mt' : ''}|${opts.wasmPaths ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = isNode && isLocalPath(opts.wasmPaths)
      ? readWasm(backend, opts, threaded).then((bytes) => WebAssembly.compile(bytes as BufferSource))
      : compileFetched(`kestrel-${backend}${threaded ? '-mt' : ''}.wasm`, opts);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/**
 * The prepare helpers of a kernel instance on `memory` (OpContext.helpers): its
 * sigmoidTable8 export (older or custom builds without it: null, and prepare uses
 * JavaScript).
 */
export function kernelHelpers(k: Pick<KernelExports, 'sigmoidTable8'>, memory: WebAssembly.Memory): PrepareHelpers | null {
  const table = k.sigmoidTable8;
  if (!table) return null;
  return {
    sigmoidTable8(kind, zp, multiplier, shift, radius) {
      const at = table(kind, zp, multiplier, shift, radius);
      return new Uint8Array(memory.buffer, at, 256).slice();
    },
  };
}

export function instantiateKernels(module: WebAssembly.Module): KernelExports {
  const instance = new WebAssembly.Instance(module, {});
  return instance.exports as unknown as KernelExports;
}
