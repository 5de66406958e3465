// Bundles built from tsc's ESM output in dist/:
//   dist/cjs/index.cjs, dist/cjs/runtime.cjs — CommonJS for require() users in Node;
//   dist/esm/index.js, dist/esm/runtime.js    — the same as ES modules, the package's Node `import`
//                                               entries: a fresh process imports the runtime from
//                                               one file in ~20 ms instead of ~55 ms for tsc's
//                                               29 modules (the two entries share their chunks, so
//                                               importing both gives one copy of every class);
//   dist/browser/kestrel.mjs                  — one ES module for browsers (runtime only);
//   dist/browser/bench.mjs                    — runtime + benchmark engine (targets/browser/bench.html);
//   dist/browser/kestrel-worker.js            — the Worker mode's worker script (loaded by URL from
//                                               kestrel.mjs: new URL('./kestrel-worker.js', import.meta.url)).
// All of them load the kernel modules from dist/wasm/ (../wasm relative to the bundle).
import { rmSync } from 'node:fs';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const external = (id) => id.startsWith('node:');
// Empties a chunked bundle's folder first: chunk names carry a content hash, so the chunks
// of earlier builds would otherwise pile up there (and in the published package).
const fresh = (dir) => ({ name: 'fresh-output', buildStart() { rmSync(dir, { recursive: true, force: true }); } });

export default [
  {
    input: { index: 'dist/index.js', runtime: 'dist/runtime/index.js' },
    external: (id) => external(id) || id === 'flatbuffers',
    plugins: [fresh('dist/cjs')],
    output: { dir: 'dist/cjs', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'kestrel-[hash].cjs', exports: 'named', sourcemap: true },
  },
  {
    input: { index: 'dist/index.js', runtime: 'dist/runtime/index.js' },
    external,
    // flatbuffers goes in (its own ESM entry is another dozen files to load); the
    // dependencies of the training and conversion code stay imports.
    plugins: [fresh('dist/esm'), nodeResolve({ resolveOnly: ['flatbuffers'] })],
    output: { dir: 'dist/esm', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'kestrel-[hash].js', sourcemap: true },
  },
  {
    input: 'dist/runtime/index.js',
    external,
    plugins: [nodeResolve({ browser: true })],
    output: { file: 'dist/browser/kestrel.mjs', format: 'es', sourcemap: true },
  },
  {
    input: 'dist/runtime/kestrel-worker.js',
    external,
    plugins: [nodeResolve({ browser: true })],
    output: { file: 'dist/browser/kestrel-worker.js', format: 'es', sourcemap: true },
  },
  {
    input: 'dist/bench/browser.js',
    external,
    plugins: [nodeResolve({ browser: true })],
    output: { file: 'dist/browser/bench.mjs', format: 'es', sourcemap: true },
  },
];
