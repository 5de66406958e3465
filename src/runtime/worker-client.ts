/**
 * The Worker mode for browsers: the model lives in a Web Worker (./kestrel-worker.ts)
 * and the page talks to it through an async proxy, so inference never blocks the page.
 * With `threads` > 1 the worker is thread 0 and starts the others; that needs shared
 * memory, i.e. a cross-origin isolated page. Without isolation the model runs on one
 * thread in the worker, after one console warning naming the headers.
 *
 * The worker script is loaded by URL (no blob: workers, which strict CSPs refuse):
 * by default kestrel-worker.js next to this module; bundlers that move files pass
 * `workerUrl`.
 */
import { KestrelError } from '../errors.js';
import { checkInputs, type LoadOptions, type ModelSource, type TensorInfo, type TypedArray } from './model.js';
import type { Backend } from './wasm.js';

export interface WorkerLoadOptions extends Omit<LoadOptions, 'threadSpawner'> {
  /** URL of kestrel-worker.js (default: next to this module). */
  workerUrl?: string | URL;
  /** How long loading and each run may take before E_WORKER. Default 60000 ms. */
  timeoutMs?: number;
}

const ISOLATION_HEADERS = '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" (or credentialless)';
let warned = false;

function canShareMemory(): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && (globalThis as any).crossOriginIsolated !== false;
}

/** Resolves a relative URL against the page (the worker's own base is its script URL). */
function absolute(u: string): string {
  const base = (globalThis as any).location?.href;
  try { return base ? new URL(u, base).href : u; } catch { return u; }
}

/** A model running in a Web Worker. Same information as Model; run() is async. */
export class WorkerModel {
  private pending = new Map<number, { resolve(v: any): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }>();
  private nextId = 1;
  private closed = false;
  inputs: TensorInfo[] = [];
  outputs: TensorInfo[] = [];
  backend: Backend = 'simd';
  /** Threads used for each inference (1 when shared memory was not available). */
  threads = 1;
  macs = 0;
  arenaBytes = 0;

  constructor(readonly worker: Worker, readonly name: string, private readonly timeoutMs: number) {
    worker.onmessage = (ev: MessageEvent) => {
      const m = ev.data ?? {};
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.type === 'error') p.reject(new KestrelError(m.code ?? 'E_WORKER', m.message));
      else p.resolve(m);
    };
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault?.();
      this.failAll(new KestrelError('E_WORKER', `${this.name}: the model's worker failed: ${ev.message || 'the worker script could not be loaded (check workerUrl)'}`));
    };
  }

  /** @internal */
  call(msg: Record<string, unknown>, transfer: Transferable[] = [], what = 'answer'): Promise<any> {
    if (this.closed) return Promise.reject(new KestrelError('E_DISPOSED', `${this.name}: model was disposed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new KestrelError('E_WORKER', `${this.name}: the model's worker did not ${what} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  private failAll(e: Error): void {
    for (const [, p] of this.pending) { clearTimeout(p.timer); p.reject(e); }
    this.pending.clear();
  }

  /**
   * Runs the model in the worker. Inputs as for Model.run (checked here, then copied to
   * the worker); resolves to fresh typed arrays, one per output.
   */
  async run(inputs: TypedArray[] | Record<string, TypedArray>): Promise<TypedArray[]> {
    if (this.closed) throw new KestrelError('E_DISPOSED', `${this.name}: model was disposed`);
    const list = checkInputs(this.name, this.inputs, inputs);
    const r = await this.call({ type: 'run', inputs: list }, [], 'finish a run');
    return r.outputs as TypedArray[];
  }

  /** Ends the worker (and its threads). */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new KestrelError('E_DISPOSED', `${this.name}: model was disposed`));
    this.worker.terminate();
  }
}

/**
 * Loads a model into a Web Worker. `source`: bytes, or a URL (relative URLs are
 * resolved against the page). Browsers only (in Node use loadModel with `threads`).
 */
export async function loadModelInWorker(source: ModelSource, options: WorkerLoadOptions = {}): Promise<WorkerModel> {
  const WorkerCtor = (globalThis as any).Worker as typeof Worker | undefined;
  if (!WorkerCtor) throw new KestrelError('E_USAGE', 'loadModelInWorker needs Web Workers (browsers); in Node use loadModel(source, { threads })');
  const { workerUrl, timeoutMs = 60000, ...load } = options;
  const name = options.name ?? (typeof source === 'string' ? source : source instanceof URL ? source.href : 'model');
  let threads = load.threads ?? 1;
  if (threads !== 1 && !canShareMemory()) {
    if (!warned) {
      warned = true;
      console.warn(`kestrel: threads: ${String(threads)} needs SharedArrayBuffer, which this page does not have because it is not cross-origin isolated; running on one thread in the worker. Serve the page with ${ISOLATION_HEADERS} to use threads.`);
    }
    threads = 1;
  }
  const url = workerUrl ? absolute(String(workerUrl)) : new URL('./kestrel-worker.js', import.meta.url).href;
  let worker: Worker;
  try {
    worker = new WorkerCtor(url, { type: 'module', name: `kestrel ${name}` });
  } catch (e) {
    throw new KestrelError('E_WORKER', `${name}: cannot start the worker ${url}: ${(e as Error).message}`);
  }
  const model = new WorkerModel(worker, name, timeoutMs);
  let src: unknown = source;
  if (typeof source === 'string') src = absolute(source);
  else if (source instanceof URL) src = source.href;
  const opts: Record<string, unknown> = { ...load, threads, name };
  if (typeof load.wasmPaths === 'string') opts.wasmPaths = absolute(load.wasmPaths);
  try {
    const r = await model.call({ type: 'load', source: src, options: opts }, [], 'load the model');
    Object.assign(model, { inputs: r.inputs, outputs: r.outputs, backend: r.backend, threads: r.threads, macs: r.macs, arenaBytes: r.arenaBytes });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
