/**
 * LiteRT.js (@litertjs/core, a browser package) in Node, single-threaded, CPU/wasm path
 * (XNNPACK), with int8 support in its JS Tensor — for `kestrel bench --compare litert` and
 * bench/vs-litert.mjs (through bench/lib/litert-node.mjs).
 *
 * * A PRIVATE COPY of its dist/index.js is written to a cache folder with one change: an
 *   int8 (and int16) entry added to its dtype table, whose stock version holds only
 *   float32/int32/uint8 and so rejects int8 model inputs/outputs. node_modules is never
 *   modified. The bare import of @litertjs/wasm-utils is rewritten to the resolved
 *   absolute URL so the copy does not depend on where it sits.
 * * The browser globals its loader needs are provided: `self` (= globalThis) and
 *   `importScripts`, which evaluates the emscripten glue script in the global scope
 *   (vm.runInThisContext) with `require`, `__dirname` and `__filename` set so the glue's
 *   own Node branch finds and reads its .wasm file.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import type { TensorInfo, TypedArray } from '../runtime/model.js';
import { RivalUnavailable, type BenchTarget, type Rival } from './engine.js';
import { describeRepairs, repairForLiteRt } from './tflite-patch.js';

/** Default folder for the patched private copy. */
export const DEFAULT_CACHE_DIR = join(os.tmpdir(), 'kestrel-litert-cache');

const DTYPE_ANCHOR = `  {
    dtype: "uint8",
    typedArrayConstructor: Uint8Array,
    elementType: ElementType.UINT8
  }
]);`;
const DTYPE_PATCH = `  {
    dtype: "uint8",
    typedArrayConstructor: Uint8Array,
    elementType: ElementType.UINT8
  },
  // added by Kestrel's benchmark (private copy): int8/int16 typed arrays
  {
    dtype: "int8",
    typedArrayConstructor: Int8Array,
    elementType: ElementType.INT8
  },
  {
    dtype: "int16",
    typedArrayConstructor: Int16Array,
    elementType: ElementType.INT16
  }
]);`;
const IMPORT_ANCHOR = 'from "@litertjs/wasm-utils";';

function resolvePackages(): { coreEntry: string; coreDir: string; version: string; wasmDir: string; utilsUrl: string } {
  const coreEntry = fileURLToPath(import.meta.resolve('@litertjs/core'));
  const coreDir = resolve(dirname(coreEntry), '..');
  const pkg = JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8'));
  // wasm-utils is core's dependency: resolve it from core's location.
  const req = createRequire(coreEntry);
  let utilsUrl: string;
  try {
    utilsUrl = import.meta.resolve('@litertjs/wasm-utils', pathToFileURL(coreEntry).href);
  } catch {
    utilsUrl = pathToFileURL(req.resolve('@litertjs/wasm-utils')).href;
  }
  return { coreEntry, coreDir, version: pkg.version, wasmDir: join(coreDir, 'wasm'), utilsUrl };
}

/** Writes (once per content hash) and returns the path of the patched private copy. */
function privateCopy(coreEntry: string, utilsUrl: string, cacheDir: string): string {
  const src = readFileSync(coreEntry, 'utf8');
  if (!src.includes(DTYPE_ANCHOR)) {
    throw new Error(`${coreEntry}: its dtype table no longer looks as expected; the int8 patch cannot be applied (LiteRT.js version changed?)`);
  }
  if (!src.includes(IMPORT_ANCHOR)) throw new Error(`${coreEntry}: import of @litertjs/wasm-utils not found`);
  const patched = src
    .replace(DTYPE_ANCHOR, DTYPE_PATCH)
    .replace(IMPORT_ANCHOR, `from ${JSON.stringify(utilsUrl)};`)
    .replace(/^\/\/# sourceMappingURL=.*$/m, '');
  const hash = createHash('sha256').update(patched).digest('hex').slice(0, 12);
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, `litert-core-${hash}.mjs`);
  if (!existsSync(out)) writeFileSync(out, patched);
  return out;
}

function installBrowserShims(log?: (s: string) => void): string[] {
  const loaded: string[] = [];
  const g = globalThis as any;
  if (typeof g.self === 'undefined') g.self = globalThis;
  g.importScripts = (...urls: string[]) => {
    for (const url of urls) {
      const file = url.startsWith('file:') ? fileURLToPath(url) : url;
      g.require = createRequire(file);
      g.__dirname = dirname(file);
      g.__filename = file;
      vm.runInThisContext(readFileSync(file, 'utf8'), { filename: file });
      loaded.push(file);
      log?.(`litert: evaluated ${file}`);
    }
  };
  return loaded;
}

export interface LiteRtRuntime {
  /** The patched module's namespace (loadAndCompile, Tensor, …). */
  lib: any;
  version: string;
  wasmDir: string;
  /** The emscripten glue script that was loaded (names the wasm build). */
  glue: string | null;
  loadMs: number;
  copy: string;
  relaxedSimd: boolean;
}

/** Whether @litertjs/core can be resolved from here. */
export function liteRtInstalled(): boolean {
  try { resolvePackages(); return true; } catch { return false; }
}

let runtime: Promise<LiteRtRuntime> | null = null;

/** Loads the LiteRT.js runtime (once per process). */
export function loadLiteRtNode({ log, cacheDir = DEFAULT_CACHE_DIR }: { log?: (s: string) => void; cacheDir?: string } = {}): Promise<LiteRtRuntime> {
  runtime ??= (async () => {
    const { coreEntry, version, wasmDir, utilsUrl } = resolvePackages();
    const copy = privateCopy(coreEntry, utilsUrl, cacheDir);
    const loaded = installBrowserShims(log);
    const lib = await import(pathToFileURL(copy).href);
    // LiteRT probes WebGPU while creating its environment and logs the (harmless)
    // failure in Node through console.*; keep it off the benchmark's output.
    const c = console as any;
    const keys = ['warn', 'error', 'log', 'info'];
    const saved = keys.map((k) => c[k]);
    const swallowed: string[] = [];
    for (const k of keys) c[k] = (...a: unknown[]) => swallowed.push(a.map(String).join(' '));
    const t0 = performance.now();
    try {
      await lib.loadLiteRt(wasmDir);
    } finally {
      keys.forEach((k, i) => { c[k] = saved[i]; });
    }
    const loadMs = performance.now() - t0;
    for (const line of swallowed) log?.(`litert (console): ${line}`);
    return { lib, version, wasmDir, glue: loaded[0] ?? null, loadMs, copy, relaxedSimd: !!(await lib.supportsFeature?.('relaxedSimd')) };
  })();
  runtime.catch(() => { runtime = null; });
  return runtime;
}

const oneLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');

/**
 * The LiteRT.js rival for the benchmark engine: the model is loaded with
 * loadAndCompile(bytes, { accelerator: 'wasm' }); a run is JS typed arrays in (new
 * Tensor per input), `await model.run`, fresh typed arrays out, tensors deleted — the
 * same work Kestrel's run() does. Models LiteRT.js refuses only for a rank-1
 * quantized_dimension or a dynamic batch run on an in-memory repaired copy (noted).
 */
export function liteRtRival(opts: { log?: (s: string) => void; cacheDir?: string } = {}): Rival {
  return {
    engine: 'litert',
    name: 'LiteRT.js',
    async load(bytes: Uint8Array, inputs: TensorInfo[]) {
      if (!liteRtInstalled()) throw new RivalUnavailable('@litertjs/core is not installed (npm install @litertjs/core to compare with it)');
      let rt: LiteRtRuntime;
      try {
        rt = await loadLiteRtNode(opts);
      } catch (e) {
        throw new RivalUnavailable(`LiteRT.js could not be loaded: ${oneLine(e)}`);
      }
      const notes: string[] = [`wasm (XNNPACK), 1 thread, ${rt.glue ? rt.glue.split(/[\\/]/).pop() : '?'}; runtime load ${rt.loadMs.toFixed(1)} ms (not in init)`];
      const r = repairForLiteRt(bytes);
      if (r.repaired) notes.push(`ran an in-memory copy repaired for LiteRT.js (${describeRepairs(r.repairs)}); same computation for batch 1`);
      const { Tensor, loadAndCompile } = rt.lib;
      const t0 = performance.now();
      let model: any;
      try {
        model = await loadAndCompile(r.bytes, { accelerator: 'wasm' });
      } catch (e) {
        throw new Error(`LiteRT.js refused the model: ${oneLine(e)}`);
      }
      const initMs = performance.now() - t0;
      const details = model.getInputDetails();
      if (details.length !== inputs.length) {
        model.delete?.();
        throw new Error(`LiteRT.js sees ${details.length} inputs, the model has ${inputs.length}`);
      }
      const shapes = details.map((d: any) => Array.from(d.shape as ArrayLike<number>));
      const target: BenchTarget & { version: string; notes: string[] } = {
        label: 'litert', initMs, version: rt.version, notes,
        async run(xs: TypedArray[]) {
          const ts = xs.map((a, i) => new Tensor(a, shapes[i]));
          const outs = await model.run(ts);
          const arrays = outs.map((o: any) => o.toTypedArray());
          for (const o of outs) o.delete();
          for (const t of ts) t.delete();
          return arrays;
        },
        dispose() { model.delete?.(); },
      };
      return target;
    },
  };
}
