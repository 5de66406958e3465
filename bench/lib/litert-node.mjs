// Loads LiteRT.js (@litertjs/core) inside Node for bench/vs-litert.mjs. The loader lives
// in src/bench/litert.ts (shared with `kestrel bench --compare litert`); this wrapper keeps
// the harness's private patched copy in bench/.cache/ as before. Needs `npm run build:ts`.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = resolve(HERE, '..', '.cache');

async function impl() {
  try {
    return await import(new URL('../../dist/bench/litert.js', import.meta.url).href);
  } catch (e) {
    throw new Error(`Kestrel is not built (${String(e?.message ?? e).split('\n')[0]}); run: npm run build:ts`);
  }
}

/**
 * Loads the LiteRT.js runtime. Returns { lib, version, wasmDir, glue, loadMs, copy, relaxedSimd }
 * where lib is the patched module's namespace (loadAndCompile, Tensor, ...).
 */
export async function loadLiteRtNode({ log } = {}) {
  return (await impl()).loadLiteRtNode({ log, cacheDir: CACHE_DIR });
}
