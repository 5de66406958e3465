/**
 * Multi-threaded inference: one plan in one shared WebAssembly.Memory, run by N threads
 * that each instantiate the threads build of the kernel module (kestrel-*-mt.wasm) over
 * it. The calling thread is thread 0 and keeps `run()` synchronous; threads 1..N-1 are
 * Node worker_threads or Web Workers that sit in the module's threadLoop.
 *
 * Conv, depthwise, fully-connected and (unbroadcast) elementwise ops big enough to pay
 * for the hand-off have their output rows cut into chunks that the threads claim
 * (assembly/index.ts, invokeThreaded); every output element is computed whole by one
 * thread, so results are bit-exact with one thread.
 *
 * Thread 0 has to block while the others finish (synchronous run(), atomics), which
 * Node's main thread and workers may do and a browser page's main thread may not:
 * in browsers threads are used inside the Worker mode (./worker-client.ts).
 */
import { KestrelError } from '../errors.js';
import type { Graph } from '../graph/types.js';
import { buildPlan, writeImage, type Plan, type PlannedOp } from './plan.js';
import { kernelHelpers, type Backend, type KernelExports } from './wasm.js';
import { pickRelaxedDot, type RelaxedDotOption } from './relaxed-dot.js';

export type ThreadsOption = number | 'auto';

export interface ThreadedExports extends KernelExports {
  setThread(index: number, stride: number): void;
  threads(): number;
  invokeThreaded(plan: number, count: number, tid: number, nthreads: number, ctrl: number, table: number, timeoutMs: number): number;
  threadLoop(plan: number, count: number, tid: number, nthreads: number, ctrl: number, table: number): number;
  invokeOneThreaded(rec: number, chunks: number, ctrl: number, timeoutMs: number): number;
}

/** Kernel ids whose output rows can be split (assembly/index.ts splitRows). */
const SPLIT_KERNELS = new Set([101, 102, 103, 111, 112, 201, 202]);
/** Elementwise kernels (ADD SUB MUL MAXIMUM MINIMUM): split in blocks of output elements when not broadcasting. */
const SPLIT_ELEMENTWISE = new Set([301, 302, 303, 304, 305, 306, 307, 308, 309]);
/** Ops smaller than this stay on thread 0: handing out work costs about as much as this many MACs. */
export const MIN_SPLIT_MACS = 16 * 1024;
/** Elementwise ops with fewer output elements stay on thread 0. */
export const MIN_SPLIT_ELEMENTS = 32 * 1024;

/** Work per chunk worth a hand-off between threads (a claim costs about a microsecond). */
const CHUNK_MACS = 256 * 1024;
const CHUNK_ELEMENTS = 16 * 1024;

/**
 * How many chunks op `p` is cut into for `threads` threads: 0 (not split: runs on thread
 * 0) or between `threads` and 4 × `threads`, about one per CHUNK_MACS of work.
 */
export function chunksFor(graph: Graph, p: PlannedOp, threads: number): number {
  let work: number, per: number;
  if (SPLIT_KERNELS.has(p.kernel)) {
    if (p.macs < MIN_SPLIT_MACS) return 0;
    work = p.macs; per = CHUNK_MACS;
  } else if (SPLIT_ELEMENTWISE.has(p.kernel)) {
    const out = graph.tensors[p.op.outputs[0]!];
    work = out ? out.shape.reduce((a, b) => a * b, 1) : 0;
    if (work < MIN_SPLIT_ELEMENTS) return 0;
    per = CHUNK_ELEMENTS;
  } else {
    return 0;
  }
  return Math.min(4 * threads, Math.max(threads, Math.round(work / per)));
}
/** Most threads a model may use. */
export const MAX_THREADS = 64;
const CTRL_BYTES = 192;
const WORK = 0, EXIT = 8 / 4;

const isNode = typeof process !== 'undefined' && !!(process as any).versions?.node;

/** Whether this context can run threads: shared memory exists and this thread may block. */
export function threadSupport(): { ok: true } | { ok: false; reason: string } {
  if (typeof SharedArrayBuffer === 'undefined') {
    return { ok: false, reason: 'SharedArrayBuffer is not available: a page needs cross-origin isolation, i.e. the headers "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" (or credentialless)' };
  }
  const g = globalThis as any;
  if (!isNode && g.crossOriginIsolated === false) {
    return { ok: false, reason: 'the page is not cross-origin isolated: serve it with "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" (or credentialless)' };
  }
  if (!isNode && typeof g.document !== 'undefined') {
    return { ok: false, reason: "a page's main thread may not block; use the Worker mode (loadModelInWorker), which runs threads inside a Web Worker" };
  }
  return { ok: true };
}

/** Number of logical cores, at least 1. */
export async function coreCount(): Promise<number> {
  if (isNode) {
    const os = await import('node:os');
    return Math.max(1, (os as any).availableParallelism?.() ?? os.cpus().length);
  }
  return Math.max(1, (globalThis as any).navigator?.hardwareConcurrency ?? 1);
}

/**
 * Validates a `threads` option: a whole number 1..64 or 'auto' (the number of cores, up
 * to 8). Returns the count to use; 'auto' falls back to 1 where threads are not possible.
 */
export async function resolveThreads(v: ThreadsOption | undefined, label: string): Promise<number> {
  if (v === undefined || v === 1) return 1;
  if (v === 'auto') {
    if (!threadSupport().ok) return 1;
    return Math.min(8, await coreCount());
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_THREADS) {
    throw new KestrelError('E_USAGE', `${label}: threads must be 'auto' or a whole number from 1 to ${MAX_THREADS} (got ${typeof v === 'string' ? `'${v}'` : String(v)})`);
  }
  const s = threadSupport();
  if (!s.ok) throw new KestrelError('E_THREADS', `${label}: threads: ${v} is not possible here: ${s.reason}`);
  return v;
}

/** Starts thread `tid` (1..n-1) over the shared memory; resolves when it is ready. */
export type ThreadSpawner = (init: ThreadInit) => ThreadHandle;
export interface ThreadInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  tid: number;
  stride: number;
  /** threadLoop's arguments. */
  args: [plan: number, count: number, tid: number, nthreads: number, ctrl: number, table: number];
}
export interface ThreadHandle {
  ready: Promise<void>;
  /** Called after the exit flag is set; `force`: the thread stopped answering, end it. */
  terminate(force?: boolean): void;
}

// The Node thread: a worker_threads script run with eval (no file to locate, so it works
// the same from the ESM build, the CommonJS bundle and bundlers). It serves one model at
// a time: instantiates the module over the model's memory, sits in threadLoop until the
// model is disposed, then says so and waits for the next model.
// import() rather than require: the eval code is a module when the process runs with
// --input-type=module (workers inherit it).
const NODE_THREAD = `
import('node:worker_threads').then(({ parentPort }) => parentPort.on('message', (d) => {
  let k;
  try {
    k = new WebAssembly.Instance(d.module, { env: { memory: d.memory, nowMs: Date.now } }).exports;
    k.setThread(d.tid, d.stride);
  } catch (e) { parentPort.postMessage({ error: String(e && e.message || e) }); return; }
  parentPort.postMessage({ ready: true });
  k.threadLoop(...d.args);
  parentPort.postMessage({ idle: true });
}));
`;

// Idle Node threads, kept for the next model (a new worker_threads Worker takes tens of
// milliseconds to start). They are unref'd: they never keep a process alive.
const idleNodeThreads: any[] = [];

async function nodeSpawner(): Promise<ThreadSpawner> {
  const { Worker } = await import('node:worker_threads');
  return (init) => {
    const w: any = idleNodeThreads.pop() ?? new Worker(NODE_THREAD, { eval: true, stdout: false, stderr: false });
    w.removeAllListeners('message');
    w.removeAllListeners('error');
    w.removeAllListeners('exit');
    let state: 'starting' | 'running' | 'done' = 'starting';
    const ready = new Promise<void>((resolve, reject) => {
      w.on('message', (m: any) => {
        if (m?.ready) { state = 'running'; resolve(); }
        else if (m?.idle) { if (state !== 'done') { state = 'done'; idleNodeThreads.push(w); } }
        else { state = 'done'; reject(new Error(m?.error ?? 'thread failed to start')); void w.terminate(); }
      });
      w.once('error', (e: Error) => { state = 'done'; reject(e); });
      w.once('exit', (c: number) => { state = 'done'; reject(new Error(`thread exited with code ${c}`)); });
    });
    ready.catch(() => {});
    w.postMessage(init);
    // After the listeners: adding a 'message' listener refs the worker again.
    w.unref();
    return {
      ready,
      // After the exit flag a healthy thread leaves threadLoop by itself and goes back to
      // the idle list; `force` ends one that stopped answering.
      terminate: (force?: boolean) => { if (force && state !== 'done') { state = 'done'; void w.terminate(); } },
    };
  };
}

/**
 * The threaded part of a Model: the shared memory, thread 0's instance, the control
 * block and the other threads.
 */
export class ThreadGroup {
  readonly kernels: ThreadedExports;
  readonly plan: Plan;
  readonly ctrl: number;
  readonly table: number;
  private handles: ThreadHandle[] = [];
  private broken: string | null = null;

  constructor(readonly graph: Graph, readonly count: number, readonly module: WebAssembly.Module, backend: Backend, readonly timeoutMs: number, maxMemoryBytes: number,
    relaxedDot?: RelaxedDotOption) {
    // heapBase is a constant of the module: ask a throwaway instance (which also measures
    // the relaxed dot product for the relaxed build).
    const probeMemory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    const probe = instantiateShared(module, probeMemory, graph.source);
    const relaxed = backend === 'relaxed';
    const plan = buildPlan(graph, probe.heapBase(), backend !== 'scalar', {
      threadLayout: { count, split: (p: PlannedOp) => chunksFor(graph, p, count) > 0 },
      relaxed, relaxedDot: relaxed ? pickRelaxedDot(relaxedDot, module, probe, probeMemory) : 1,
      helpers: kernelHelpers(probe, probeMemory),
    });
    this.plan = plan;
    this.ctrl = align(plan.memoryBytes, 64);
    this.table = this.ctrl + CTRL_BYTES;
    const total = this.table + 4 * plan.ops.length;
    if (total > maxMemoryBytes) {
      throw new KestrelError('E_MEMORY_LIMIT', `${graph.source}: model needs ${total} bytes of wasm memory with ${count} threads, over the limit of ${maxMemoryBytes}`);
    }
    const pages = Math.ceil(total / 65536);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true } as WebAssembly.MemoryDescriptor);
    } catch (e) {
      throw new KestrelError('E_THREADS', `${graph.source}: cannot allocate ${pages * 64} KiB of shared memory: ${(e as Error).message}`);
    }
    const k = instantiateShared(module, memory, graph.source);
    k.setThread(0, plan.threads!.stride);
    const mem = new Uint8Array(memory.buffer);
    writeImage(mem, plan.image);
    const tab = new Int32Array(memory.buffer, this.table, plan.ops.length);
    plan.threads!.split.forEach((s, i) => { tab[i] = s ? chunksFor(graph, plan.ops[i]!, count) : 0; });
    this.kernels = k;
  }

  /** Starts threads 1..count-1 and waits until each has its instance. */
  async start(spawner?: ThreadSpawner): Promise<void> {
    const spawn = spawner ?? (isNode ? await nodeSpawner() : null);
    if (!spawn) throw new KestrelError('E_THREADS', `${this.graph.source}: no way to start threads in this context`);
    const args = (tid: number): ThreadInit['args'] => [this.plan.records.offset, this.plan.ops.length, tid, this.count, this.ctrl, this.table];
    for (let tid = 1; tid < this.count; tid++) {
      this.handles.push(spawn({ module: this.module, memory: this.kernels.memory, tid, stride: this.plan.threads!.stride, args: args(tid) }));
    }
    // Starting a worker can take seconds on a busy machine: at least 10 s for that.
    const startMs = Math.max(this.timeoutMs, 10000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KestrelError('E_THREADS', `${this.graph.source}: threads did not start within ${startMs} ms`)), startMs);
    });
    try {
      await Promise.race([Promise.all(this.handles.map((h) => h.ready)), timeout]);
    } catch (e) {
      this.dispose(true);
      if (e instanceof KestrelError) throw e;
      throw new KestrelError('E_THREADS', `${this.graph.source}: a thread failed to start: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One run on all threads; returns invoke()'s status (-1 or a record index). */
  invoke(): number {
    if (this.broken) throw new KestrelError('E_THREADS', this.broken);
    return this.checked(this.kernels.invokeThreaded(this.plan.records.offset, this.plan.ops.length, 0, this.count, this.ctrl, this.table, this.timeoutMs));
  }

  /** Runs op `i` alone (split across the threads when it is split), for the profiler; false for an unknown kernel id. */
  invokeOne(i: number): boolean {
    if (this.broken) throw new KestrelError('E_THREADS', this.broken);
    const chunks = new Int32Array(this.kernels.memory.buffer, this.table, this.plan.ops.length)[i]!;
    return this.checked(this.kernels.invokeOneThreaded(this.plan.ops[i]!.address, chunks, this.ctrl, this.timeoutMs)) === 1;
  }

  /** A wasm status of -2 (a thread missed the timeout) stops the threads and throws E_THREADS. */
  private checked(status: number): number {
    if (status !== -2) return status;
    this.broken = `${this.graph.source}: a thread did not finish its part of an op within ${this.timeoutMs} ms; the model's threads are stopped (dispose it and load it again)`;
    this.dispose(true);
    throw new KestrelError('E_THREADS', this.broken);
  }

  /** Tells the threads to leave their loop; `force` also ends them. */
  dispose(force = false): void {
    const ctl = new Int32Array(this.kernels.memory.buffer, this.ctrl, CTRL_BYTES / 4);
    Atomics.store(ctl, EXIT, 1);
    Atomics.notify(ctl, WORK);
    for (const h of this.handles) h.terminate(force);
    this.handles = [];
  }
}

/** What the threads build imports besides its memory. */
export const threadImports = { nowMs: (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now()) };

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function instantiateShared(module: WebAssembly.Module, memory: WebAssembly.Memory, source: string): ThreadedExports {
  let k: ThreadedExports;
  try {
    k = new WebAssembly.Instance(module, { env: { memory, nowMs: threadImports.nowMs } }).exports as unknown as ThreadedExports;
  } catch (e) {
    throw new KestrelError('E_BACKEND', `${source}: the kernel module is not a threads build (kestrel-simd-mt.wasm / kestrel-scalar-mt.wasm): ${(e as Error).message}`);
  }
  if (typeof k.invokeThreaded !== 'function' || k.threads() !== 1) {
    throw new KestrelError('E_BACKEND', `${source}: the kernel module is not a threads build (kestrel-simd-mt.wasm / kestrel-scalar-mt.wasm)`);
  }
  return k;
}
