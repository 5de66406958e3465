/**
 * The Web Worker script of the Worker mode (./worker-client.ts, docs/threads.md). One
 * script plays two parts, chosen by the first message:
 *
 * - 'load': holds one Model and answers 'run' / 'dispose'. With threads > 1 it is
 *   thread 0 (a worker may block in memory.atomic.wait32, a page may not) and starts
 *   the other threads as more workers from this same script;
 * - 'thread': one of those other threads: instantiates the kernel module over the
 *   model's shared memory and sits in threadLoop until the model is disposed.
 *
 * Loaded by URL (dist/browser/kestrel-worker.js next to dist/browser/kestrel.mjs, or
 * dist/runtime/kestrel-worker.js next to the ESM build); bundlers pass their own URL
 * with the workerUrl option.
 */
import { isKestrelError } from '../errors.js';
import { loadModel, type LoadOptions, type Model, type TypedArray } from './model.js';
import { threadImports, type ThreadHandle, type ThreadInit, type ThreadSpawner } from './threads.js';

declare const self: any;

let model: Model | null = null;
const subWorkers: any[] = [];

function reply(msg: Record<string, unknown>, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function fail(id: number, e: unknown): void {
  reply({ type: 'error', id, code: isKestrelError(e) ? e.code : 'E_WORKER', message: String((e as Error)?.message ?? e) });
}

// Threads 1..N-1 as workers running this script.
const browserSpawner: ThreadSpawner = (init: ThreadInit): ThreadHandle => {
  const w = new self.Worker(self.location.href, { type: 'module', name: `kestrel thread ${init.tid}` });
  subWorkers.push(w);
  const ready = new Promise<void>((resolve, reject) => {
    w.onmessage = (ev: MessageEvent) => {
      if (ev.data?.type === 'ready') resolve();
      else if (ev.data?.type === 'error') reject(new Error(ev.data.message));
    };
    w.onerror = (ev: ErrorEvent) => reject(new Error(`thread ${init.tid} failed: ${ev.message ?? 'script error'}`));
  });
  ready.catch(() => {});
  w.postMessage({ type: 'thread', init });
  return { ready, terminate: () => w.terminate() };
};

self.onmessage = async (ev: MessageEvent) => {
  const msg = ev.data ?? {};
  if (msg.type === 'thread') {
    const d = msg.init as ThreadInit;
    let k: any;
    try {
      k = new WebAssembly.Instance(d.module, { env: { memory: d.memory, ...threadImports } }).exports;
      k.setThread(d.tid, d.stride);
    } catch (e) {
      reply({ type: 'error', id: -1, message: String((e as Error)?.message ?? e) });
      return;
    }
    reply({ type: 'ready' });
    k.threadLoop(...d.args);
    self.close();
    return;
  }
  if (msg.type === 'load') {
    try {
      const options: LoadOptions = { ...(msg.options as LoadOptions), threadSpawner: browserSpawner };
      model = await loadModel(msg.source, options);
      reply({ type: 'loaded', id: msg.id, inputs: model.inputs, outputs: model.outputs, backend: model.backend, threads: model.threads, macs: model.macs, arenaBytes: model.arenaBytes });
    } catch (e) {
      fail(msg.id, e);
    }
    return;
  }
  if (msg.type === 'run') {
    try {
      if (!model) throw new Error('no model loaded');
      const outputs: TypedArray[] = model.run(msg.inputs);
      reply({ type: 'result', id: msg.id, outputs }, outputs.map((o) => o.buffer as ArrayBuffer));
    } catch (e) {
      fail(msg.id, e);
    }
    return;
  }
  if (msg.type === 'dispose') {
    model?.dispose();
    model = null;
    for (const w of subWorkers) w.terminate();
    reply({ type: 'disposed', id: msg.id });
    self.close();
  }
};
