// Minimal TFLite reader/patcher for bench/vs-litert.mjs: describeModel, repairForLiteRt and
// describeRepairs now live in src/bench/tflite-patch.ts (shared with `kestrel bench
// --compare litert`). Needs `npm run build:ts`.
let mod;
try {
  mod = await import(new URL('../../dist/bench/tflite-patch.js', import.meta.url).href);
} catch (e) {
  throw new Error(`Kestrel is not built (${String(e?.message ?? e).split('\n')[0]}); run: npm run build:ts`);
}

export const { describeModel, repairForLiteRt, describeRepairs } = mod;
