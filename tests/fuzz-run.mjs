// Runs mutants in a worker thread, one at a time, with a per-mutant time limit.
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateFields, mutate, mutateField, rng } from './fuzz-lib.mjs';
import { conformanceCases } from './helpers.mjs';

/**
 * Mutates the conformance models (round robin) `count` times from `seed`. Returns
 * { total, loadedAndRan, rejected: {code: n}, failures: [..], slowest }.
 */
export async function fuzz({ count, seed = 1, limitMs = 2000, backend = 'simd', onProgress }) {
  const models = [];
  const seen = new Set();
  for (const c of conformanceCases()) {
    const bytes = new Uint8Array(readFileSync(join(c.dir, 'model.tflite')));
    const key = `${bytes.length}:${bytes[100]}:${bytes[bytes.length >> 1]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    models.push({ name: `${c.suite}/${c.name}`, bytes, fields: await locateFields(bytes) });
  }
  const r = rng(seed);
  const result = { total: 0, loadedAndRan: 0, rejected: {}, failures: [], slowest: { ms: 0 } };
  let worker = null;
  const start = () => { worker = new Worker(new URL('./fuzz-worker.mjs', import.meta.url)); worker.unref(); };
  start();
  for (let i = 0; i < count; i++) {
    const src = models[i % models.length];
    // Half the mutants are blind byte-level changes, half target structural fields.
    const m = i % 2 === 0 ? mutate(src.bytes, r) : mutateField(src.bytes, src.fields, r);
    const what = `${src.name}: ${m.what}`;
    const outcome = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, error: `took over ${limitMs} ms`, timeout: true }), limitMs);
      const onMsg = (msg) => { if (msg.id === i) { clearTimeout(timer); cleanup(); resolve(msg); } };
      const onErr = (e) => { clearTimeout(timer); cleanup(); resolve({ ok: false, error: `worker died: ${e}` }); };
      const onExit = (code) => { clearTimeout(timer); cleanup(); resolve({ ok: false, error: `worker exited with ${code}` }); };
      const cleanup = () => { worker.off('message', onMsg); worker.off('error', onErr); worker.off('exit', onExit); };
      worker.on('message', onMsg); worker.on('error', onErr); worker.on('exit', onExit);
      worker.postMessage({ id: i, bytes: m.bytes, backend });
    });
    result.total++;
    if (!outcome.ok) {
      result.failures.push(`${what}: ${outcome.error}`);
      if (outcome.timeout) { await worker.terminate(); }
      start();
    } else if (outcome.code) {
      result.rejected[outcome.code] = (result.rejected[outcome.code] ?? 0) + 1;
    } else {
      result.loadedAndRan++;
    }
    if (outcome.ms > result.slowest.ms) result.slowest = { ms: outcome.ms, what };
    onProgress?.(i + 1, count);
  }
  await worker.terminate();
  return result;
}
