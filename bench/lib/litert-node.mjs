// Loads LiteRT.js (@litertjs/core, a browser package) inside Node, single-threaded,
// CPU/wasm path, with int8 support in its JS Tensor.
//
// * A PRIVATE COPY of its dist/index.js is written to bench/.cache/ with one change:
//   an int8 (and int16) entry added to its dtype table, whose stock version holds only
//   float32/int32/uint8 and so rejects int8 model inputs/outputs. node_modules is
//   never modified. The bare import of @litertjs/wasm-utils is rewritten to the
//   resolved absolute URL so the copy does not depend on where it sits.
// * The browser globals its loader needs are provided: `self` (= globalThis) and
//   `importScripts`, which evaluates the emscripten glue script in the global scope
//   (vm.runInThisContext) with `require`, `__dirname` and `__filename` set so the
//   glue's own Node branch finds and reads its .wasm file.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = resolve(HERE, '..', '.cache');

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
  // added by Kestrel's bench harness (private copy): int8/int16 typed arrays
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

function resolvePackages() {
  const coreEntry = fileURLToPath(import.meta.resolve('@litertjs/core'));
  const coreDir = resolve(dirname(coreEntry), '..');
  const pkg = JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8'));
  // wasm-utils is core's dependency: resolve it from core's location.
  const req = createRequire(coreEntry);
  let utilsUrl;
  try {
    utilsUrl = import.meta.resolve('@litertjs/wasm-utils', pathToFileURL(coreEntry).href);
  } catch {
    utilsUrl = pathToFileURL(req.resolve('@litertjs/wasm-utils')).href;
  }
  return { coreEntry, coreDir, version: pkg.version, wasmDir: join(coreDir, 'wasm'), utilsUrl };
}

/** Writes (once per content hash) and returns the path of the patched private copy. */
function privateCopy(coreEntry, utilsUrl) {
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
  mkdirSync(CACHE_DIR, { recursive: true });
  const out = join(CACHE_DIR, `litert-core-${hash}.mjs`);
  if (!existsSync(out)) writeFileSync(out, patched);
  return out;
}

function installBrowserShims(log) {
  const loaded = [];
  if (typeof globalThis.self === 'undefined') globalThis.self = globalThis;
  globalThis.importScripts = (...urls) => {
    for (const url of urls) {
      const file = url.startsWith('file:') ? fileURLToPath(url) : url;
      globalThis.require = createRequire(file);
      globalThis.__dirname = dirname(file);
      globalThis.__filename = file;
      vm.runInThisContext(readFileSync(file, 'utf8'), { filename: file });
      loaded.push(file);
      log?.(`litert: evaluated ${file}`);
    }
  };
  return loaded;
}

/**
 * Loads the LiteRT.js runtime. Returns { lib, version, wasmDir, glue, loadMs, copy }
 * where lib is the patched module's namespace (loadAndCompile, Tensor, ...).
 */
export async function loadLiteRtNode({ log } = {}) {
  const { coreEntry, version, wasmDir, utilsUrl } = resolvePackages();
  const copy = privateCopy(coreEntry, utilsUrl);
  const loaded = installBrowserShims(log);
  const lib = await import(pathToFileURL(copy).href);
  // LiteRT probes WebGPU while creating its environment and logs the (harmless)
  // failure in Node through console.*; keep it off the benchmark's output.
  const saved = { warn: console.warn, error: console.error, log: console.log, info: console.info };
  const swallowed = [];
  for (const k of Object.keys(saved)) console[k] = (...a) => swallowed.push(a.map(String).join(' '));
  const t0 = performance.now();
  try {
    await lib.loadLiteRt(wasmDir);
  } finally {
    Object.assign(console, saved);
  }
  const loadMs = performance.now() - t0;
  for (const line of swallowed) log?.(`litert (console): ${line}`);
  return { lib, version, wasmDir, glue: loaded[0] ?? null, loadMs, copy, relaxedSimd: await lib.supportsFeature?.('relaxedSimd') };
}
