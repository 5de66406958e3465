// Loads and runs mutants handed over by the parent; reports each outcome.
import { parentPort } from 'node:worker_threads';
import { loadModel, KestrelError } from '../dist/runtime/index.js';

const CTORS = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };

parentPort.on('message', async ({ id, bytes, backend }) => {
  const t0 = performance.now();
  let outcome;
  try {
    const m = await loadModel(bytes, { backend, name: `mutant ${id}` });
    const inputs = m.inputs.map((t) => new (CTORS[t.dtype] ?? Uint8Array)(t.bytes / (CTORS[t.dtype]?.BYTES_PER_ELEMENT ?? 1)));
    m.run(inputs);
    m.dispose();
    outcome = { ok: true };
  } catch (e) {
    outcome = e instanceof KestrelError ? { ok: true, code: e.code } : { ok: false, error: String(e?.stack ?? e) };
  }
  parentPort.postMessage({ id, ...outcome, ms: performance.now() - t0 });
});
