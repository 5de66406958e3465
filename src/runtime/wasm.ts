/**
 * Locating, compiling and caching the kernel modules (SIMD and scalar builds).
 *
 * In Node the .wasm files are read from the package's dist/wasm folder. In browsers
 * they are fetched from `wasmPaths` (a folder URL) or from next to this module.
 * `wasmBinary` hands in the bytes directly (bundlers, extensions, strict CSPs).
 */
import { KestrelError } from '../errors.js';

export type Backend = 'simd' | 'scalar';

export interface WasmOptions {
  /** Folder (URL or path) holding kestrel-simd.wasm and kestrel-scalar.wasm. */
  wasmPaths?: string;
  /** The kernel module's bytes (or a compiled module) for the chosen backend. */
  wasmBinary?: Uint8Array | ArrayBuffer | WebAssembly.Module;
}

export interface KernelExports {
  memory: WebAssembly.Memory;
  invoke(plan: number, count: number): number;
  invokeOne(rec: number): number;
  heapBase(): number;
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

async function readWasm(backend: Backend, opts: WasmOptions): Promise<Uint8Array | ArrayBuffer> {
  const file = `kestrel-${backend}.wasm`;
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
  const res = await fetchWasm(backend, opts);
  return res.arrayBuffer();
}

function wasmUrl(backend: Backend, opts: WasmOptions): URL {
  const file = `kestrel-${backend}.wasm`;
  const base = opts.wasmPaths;
  return base ? new URL(file, base.endsWith('/') ? base : base + '/') : new URL(`../wasm/${file}`, import.meta.url);
}

async function fetchWasm(backend: Backend, opts: WasmOptions): Promise<Response> {
  const url = wasmUrl(backend, opts);
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
async function compileFetched(backend: Backend, opts: WasmOptions): Promise<WebAssembly.Module> {
  const res = await fetchWasm(backend, opts);
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

export function compileKernels(backend: Backend, opts: WasmOptions = {}): Promise<WebAssembly.Module> {
  if (opts.wasmBinary instanceof WebAssembly.Module) return Promise.resolve(opts.wasmBinary);
  if (opts.wasmBinary) return WebAssembly.compile(opts.wasmBinary as BufferSource);
  const key = `${backend}|${opts.wasmPaths ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = isNode && isLocalPath(opts.wasmPaths)
      ? readWasm(backend, opts).then((bytes) => WebAssembly.compile(bytes as BufferSource))
      : compileFetched(backend, opts);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

export function instantiateKernels(module: WebAssembly.Module): KernelExports {
  const instance = new WebAssembly.Instance(module, {});
  return instance.exports as unknown as KernelExports;
}
