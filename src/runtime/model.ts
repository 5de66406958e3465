/**
 * loadModel and the Model object: one wasm instance and memory per model, the plan
 * written into it once, and run() = copy inputs in, one call into wasm, read outputs.
 */
import { KestrelError } from '../errors.js';
import type { DType, Graph, Tensor } from '../graph/types.js';
import { byteLength, numElements } from '../graph/types.js';
import { readTflite } from '../tflite/reader.js';
import { buildPlan, writeImage, type Plan } from './plan.js';
import { compileKernels, hasSimd, instantiateKernels, kernelHelpers, relaxedSupport, type Backend, type KernelExports, type WasmOptions } from './wasm.js';
import { pickRelaxedDot, type RelaxedDotOption } from './relaxed-dot.js';
import { resolveThreads, ThreadGroup, type ThreadSpawner, type ThreadsOption } from './threads.js';

export type TypedArray = Int8Array | Uint8Array | Int16Array | Int32Array | Float32Array;

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: DType;
  /** First quantization scale, or 0 for a tensor without quantization. */
  scale: number;
  zeroPoint: number;
  /** Byte length of the tensor's data. */
  bytes: number;
  /** Index of the tensor in the model file. */
  index: number;
}

export interface LoadOptions extends WasmOptions {
  /** 'auto' picks SIMD when the engine supports it; 'relaxed' is opt-in (see Backend). Default 'auto'. */
  backend?: 'auto' | Backend;
  /** Name used in messages; defaults to the path or URL, or 'model'. */
  name?: string;
  /** Refuse models whose wasm memory would exceed this many bytes. Default 1 GiB. */
  maxMemoryBytes?: number;
  /**
   * Threads that run each inference together (docs/threads.md): a whole number, or
   * 'auto' for the number of cores (up to 8; 1 where threads are not possible). Default 1.
   * run() stays synchronous: the calling thread is thread 0.
   */
  threads?: ThreadsOption;
  /** How long thread 0 waits for another thread's part of an op (and, at least 10 s, for threads to start) before E_THREADS. Default 30000 ms. */
  threadTimeoutMs?: number;
  /** Starts threads 1..N-1 (used by the Web Worker mode); Node uses worker_threads. */
  threadSpawner?: ThreadSpawner;
  /**
   * Backend 'relaxed' only: how its convolutions use the relaxed dot product. 'auto'
   * (default) measures this engine once per kernel module: 'unsigned' or 'signed' where it
   * computes the direct product exactly (x86 with AVX-VNNI, arm64 with the dot-product
   * instructions), else 'split' (exact on every engine, two products per one). Forcing a
   * direct one elsewhere stays exact but slow: its kernel checks the engine at every call
   * and falls back to baseline SIMD (src/runtime/relaxed-dot.ts).
   */
  relaxedDot?: RelaxedDotOption;
}

export type ModelSource = Uint8Array | ArrayBuffer | string | URL;

export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<Model> {
  const { bytes, name } = await readSource(source, options.name);
  const graph = readTflite(bytes, { source: name });
  return createModel(graph, options);
}

/** Creates a runnable model from a graph (from the reader or built in memory). */
export async function createModel(graph: Graph, options: LoadOptions = {}): Promise<Model> {
  const backend = resolveBackend(options.backend ?? 'auto');
  const threads = await resolveThreads(options.threads, graph.source);
  const module = await compileKernels(backend, options, threads > 1);
  const model = new Model(graph, backend, module, { ...options, threads });
  if (model.threadGroup) await model.threadGroup.start(options.threadSpawner);
  return model;
}

/**
 * 'auto' is SIMD where the engine has it, else scalar. It never picks 'relaxed', which is
 * faster only on some machines (see Backend).
 */
export function resolveBackend(b: 'auto' | Backend): Backend {
  if (b === 'auto') return hasSimd() ? 'simd' : 'scalar';
  if (b !== 'simd' && b !== 'scalar' && b !== 'relaxed') throw new KestrelError('E_USAGE', `unknown backend '${b}' (expected auto, simd, scalar or relaxed)`);
  if (b === 'simd' && !hasSimd()) throw new KestrelError('E_BACKEND', 'this WebAssembly engine does not support SIMD; use backend "scalar" or "auto"');
  if (b === 'relaxed') {
    const r = relaxedSupport();
    if (!r.ok) throw new KestrelError('E_BACKEND', `backend "relaxed": ${r.reason}; use backend "simd" or "auto"`);
  }
  return b;
}

/** Reads model bytes from bytes, a path (Node) or a URL. */
export async function readSource(source: ModelSource, name?: string): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: name ?? 'model' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: name ?? 'model' };
  const isNode = typeof process !== 'undefined' && !!(process as any).versions?.node;
  const str = source instanceof URL ? source.href : source;
  if (typeof str !== 'string') throw new KestrelError('E_USAGE', 'loadModel expects bytes, a path or a URL');
  if (isNode && (str.startsWith('file:') || !/^[a-z][a-z0-9+.-]*:/i.test(str))) {
    const fs = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const path = str.startsWith('file:') ? fileURLToPath(str) : str;
    try {
      return { bytes: new Uint8Array(await fs.readFile(path)), name: name ?? path };
    } catch (e) {
      throw new KestrelError('E_IO', `${path}: cannot read model: ${(e as Error).message}`);
    }
  }
  const res = await fetch(str);
  if (!res.ok) throw new KestrelError('E_IO', `${str}: cannot fetch model: HTTP ${res.status}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), name: name ?? str };
}

const ARRAY_FOR: Partial<Record<DType, { new (b: ArrayBuffer, o: number, n: number): TypedArray; name: string }>> = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array,
};

function info(t: Tensor): TensorInfo {
  return {
    name: t.name, shape: [...t.shape], dtype: t.dtype,
    scale: t.quant?.scale[0] ?? 0, zeroPoint: t.quant?.zeroPoint[0] ?? 0,
    bytes: byteLength(t), index: t.index,
  };
}

export class Model {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  readonly backend: Backend;
  readonly plan: Plan;
  /** Threads that run each inference (1: single-threaded). */
  readonly threads: number;
  /** @internal The other threads and the shared memory, when threads > 1. */
  readonly threadGroup: ThreadGroup | null = null;
  private kernels: KernelExports | null;
  /** Single-thread models: the kernel module, and the bytes of its instance's memory ever used. */
  private module: WebAssembly.Module | null = null;
  private used = 0;
  private readonly inputAddr: number[];
  private readonly outputAddr: number[];

  constructor(readonly graph: Graph, backend: Backend, module: WebAssembly.Module, options: LoadOptions = {}) {
    this.backend = backend;
    this.inputs = graph.inputs.map((i) => info(graph.tensors[i]!));
    this.outputs = graph.outputs.map((i) => info(graph.tensors[i]!));
    const limit = options.maxMemoryBytes ?? 1 << 30;
    const threads = typeof options.threads === 'number' ? options.threads : 1;
    this.threads = threads;
    if (threads > 1) {
      // Plan, memory and thread 0's instance live in the ThreadGroup (src/runtime/threads.ts).
      const group = new ThreadGroup(graph, threads, module, backend, options.threadTimeoutMs ?? 30000, limit, options.relaxedDot);
      this.threadGroup = group;
      this.plan = group.plan;
      this.kernels = group.kernels;
    } else {
      const reused = takePooled(module);
      let k = reused?.k ?? instantiateKernels(module);
      try {
        const relaxed = backend === 'relaxed';
        this.plan = buildPlan(graph, k.heapBase(), backend !== 'scalar', {
          relaxed, relaxedDot: relaxed ? pickRelaxedDot(options.relaxedDot, module, k, k.memory) : 1,
          helpers: kernelHelpers(k, k.memory),
        });
      } catch (e) {
        // A model that cannot be planned leaves the pooled instance for the next one.
        if (reused) releasePooled(module, reused.k, reused.used);
        throw e;
      }
      if (this.plan.memoryBytes > limit) {
        if (reused) releasePooled(module, reused.k, reused.used);
        throw new KestrelError('E_MEMORY_LIMIT', `${graph.source}: model needs ${this.plan.memoryBytes} bytes of wasm memory, over the limit of ${limit}`);
      }
      if (reused) {
        if (k.memory.buffer.byteLength > Math.max(4 * this.plan.memoryBytes, this.plan.memoryBytes + POOL_SLACK)) {
          // Far larger than this model needs: let it go rather than hold it.
          k = instantiateKernels(module);
        } else {
          // As a fresh instance: everything the earlier models wrote back to zero.
          const base = k.heapBase();
          new Uint8Array(k.memory.buffer, base, Math.max(0, reused.used - base)).fill(0);
          this.used = reused.used;
        }
      }
      this.module = module;
      this.used = Math.max(this.used, this.plan.memoryBytes);
      const pages = Math.ceil(this.plan.memoryBytes / 65536);
      const have = k.memory.buffer.byteLength / 65536;
      if (pages > have) k.memory.grow(pages - have);
      const mem = new Uint8Array(k.memory.buffer);
      writeImage(mem, this.plan.image);
      this.kernels = k;
    }
    this.resetState();
    this.inputAddr = graph.inputs.map((i) => this.plan.tensorAddress.get(i)!);
    this.outputAddr = graph.outputs.map((i) => this.plan.tensorAddress.get(i)!);
  }

  /**
   * Backend 'relaxed': how its convolutions use the relaxed dot product ('split',
   * 'unsigned' or 'signed'; LoadOptions.relaxedDot); null on the other backends.
   */
  get relaxedDot(): Exclude<RelaxedDotOption, 'auto'> | null {
    return this.backend === 'relaxed' ? (['split', 'unsigned', 'signed'] as const)[this.plan.relaxedDot - 1]! : null;
  }

  /** Bytes of the activation arena (activations, inputs, outputs, scratch). */
  get arenaBytes(): number { return this.plan.arena.bytes; }
  /** Total bytes of wasm memory in use by this model. */
  get memoryBytes(): number { return this.plan.memoryBytes; }
  /** Multiply-accumulates per inference. */
  get macs(): number { return this.plan.macs; }
  /** Bytes of the model's WebAssembly.Memory as allocated (whole 64 KiB pages). */
  get wasmMemoryBytes(): number { return this.k().memory.buffer.byteLength; }

  private k(): KernelExports {
    if (!this.kernels) throw new KestrelError('E_DISPOSED', `${this.graph.source}: model was disposed`);
    return this.kernels;
  }

  /** Sets variable (state) tensors back to their initial value (real zero). */
  resetState(): void {
    const mem = new Uint8Array(this.k().memory.buffer);
    for (const { address, bytes } of this.plan.variableInit) mem.set(bytes, address);
  }

  /**
   * Runs the model. `inputs` is an array (in model input order) or an object keyed by
   * input name, of typed arrays matching each input's dtype and element count.
   * Returns fresh typed arrays, one per output.
   */
  run(inputs: TypedArray[] | Record<string, TypedArray>): TypedArray[] {
    const k = this.writeInputs(inputs);
    const status = this.threadGroup ? this.threadGroup.invoke() : k.invoke(this.plan.records.offset, this.plan.ops.length);
    if (status !== -1) this.missingKernel(status);
    return this.readOutputs(k);
  }

  /**
   * Runs the model like `run`, one op at a time, and returns the milliseconds each op
   * took (in plan order, `timer` defaults to performance.now) with the outputs. The
   * outputs are the same as `run`'s; only the timing around each op is added. With
   * threads, a split op runs split across the threads here, as in run().
   */
  profile(inputs: TypedArray[] | Record<string, TypedArray>, timer: () => number = () => performance.now()): { opMs: Float64Array; outputs: TypedArray[] } {
    const k = this.writeInputs(inputs);
    const ops = this.plan.ops;
    const opMs = new Float64Array(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const t0 = timer();
      const ok = this.threadGroup ? this.threadGroup.invokeOne(i) : k.invokeOne(ops[i]!.address) === 1;
      opMs[i] = timer() - t0;
      if (!ok) this.missingKernel(i);
    }
    return { opMs, outputs: this.readOutputs(k) };
  }

  private writeInputs(inputs: TypedArray[] | Record<string, TypedArray>): KernelExports {
    const k = this.k();
    const list = this.orderInputs(inputs);
    const buf = k.memory.buffer;
    list.forEach((arr, i) => {
      const t = this.inputs[i]!;
      new Uint8Array(buf, this.inputAddr[i]!, t.bytes).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    });
    return k;
  }

  private missingKernel(i: number): never {
    const op = this.plan.ops[i]?.op;
    throw new KestrelError('E_KERNEL', `${this.graph.source}: kernel for op #${op?.index} ${op?.opcode} is missing from the ${this.backend} module`);
  }

  private readOutputs(k: KernelExports): TypedArray[] {
    const buf = k.memory.buffer;
    return this.outputs.map((t, i) => {
      const Ctor = ARRAY_FOR[t.dtype];
      // A copy in a plain ArrayBuffer (a threaded model's memory is a SharedArrayBuffer).
      const copy = new Uint8Array(buf, this.outputAddr[i]!, t.bytes).slice().buffer;
      return Ctor ? new Ctor(copy, 0, numElements(t.shape)) : new Uint8Array(copy);
    });
  }

  private orderInputs(inputs: TypedArray[] | Record<string, TypedArray>): TypedArray[] {
    return checkInputs(this.graph.source, this.inputs, inputs);
  }

  /** Quantizes real values into a typed array for input `i` (round half away, clamp). */
  quantizeInput(i: number, values: ArrayLike<number>): TypedArray {
    const t = this.inputs[i];
    if (!t) throw new KestrelError('E_INPUT_COUNT', `${this.graph.source}: no input ${i}`);
    return quantizeValues(t, values);
  }

  /** Real values of output `k`'s integer data. */
  dequantizeOutput(k: number, data: TypedArray): Float32Array {
    const t = this.outputs[k];
    if (!t) throw new KestrelError('E_USAGE', `${this.graph.source}: no output ${k}`);
    return dequantizeValues(t, data);
  }

  dispose(): void {
    this.threadGroup?.dispose();
    if (this.kernels && this.module) releasePooled(this.module, this.kernels, this.used);
    this.kernels = null;
  }
}

/**
 * Kernel instances of disposed single-thread models, at most one per kernel module, for
 * the next model to load. Memory a model has touched once is cheap to use again, while a
 * fresh instance's pages are faulted in on first use: on the hosts measured that was most
 * of a large model's load (MobileNet v2: 20 of 45 ms for its 5 MB). The next model gets
 * the memory back zeroed, as a fresh instance's. An instance whose memory is larger than
 * POOL_MAX_BYTES is not kept.
 */
const pool = new WeakMap<WebAssembly.Module, { k: KernelExports; used: number }>();
const POOL_MAX_BYTES = 256 << 20;
/** A pooled memory this much above a model's need (and over 4x it) is dropped instead. */
const POOL_SLACK = 16 << 20;

function takePooled(module: WebAssembly.Module): { k: KernelExports; used: number } | undefined {
  const e = pool.get(module);
  if (e) pool.delete(module);
  return e;
}

function releasePooled(module: WebAssembly.Module, k: KernelExports, used: number): void {
  if (k.memory.buffer.byteLength > POOL_MAX_BYTES) return;
  pool.set(module, { k, used });
}

export function quantizeValues(t: TensorInfo, values: ArrayLike<number>): TypedArray {
  const Ctor = ARRAY_FOR[t.dtype];
  if (!Ctor) throw new KestrelError('E_INPUT_DTYPE', `tensor '${t.name}' has type ${t.dtype}, which cannot be quantized into`);
  const n = numElements(t.shape);
  if (values.length !== n) throw new KestrelError('E_INPUT_SHAPE', `tensor '${t.name}' of shape [${t.shape}] needs ${n} values, got ${values.length}`);
  const out = new Ctor(new ArrayBuffer(n * (t.bytes / n || 1)), 0, n);
  if (t.dtype === 'float32') { (out as Float32Array).set(Array.from(values)); return out; }
  if (!(t.scale > 0)) throw new KestrelError('E_INPUT_DTYPE', `tensor '${t.name}' has no quantization scale`);
  const [lo, hi] = t.dtype === 'int8' ? [-128, 127] : t.dtype === 'uint8' ? [0, 255] : t.dtype === 'int16' ? [-32768, 32767] : [-2147483648, 2147483647];
  for (let i = 0; i < n; i++) {
    const x = values[i]! / t.scale;
    const r = (x < 0 ? -Math.round(-x) : Math.round(x)) + t.zeroPoint;
    out[i] = Math.min(hi, Math.max(lo, r));
  }
  return out;
}

export function dequantizeValues(t: TensorInfo, data: TypedArray): Float32Array {
  const out = new Float32Array(data.length);
  if (t.dtype === 'float32') { out.set(data); return out; }
  for (let i = 0; i < data.length; i++) out[i] = (data[i]! - t.zeroPoint) * t.scale;
  return out;
}

/**
 * Puts run() inputs in model order and checks count, dtype and byte length against
 * `infos`, with errors naming `src`. Shared by every runnable model type.
 */
export function checkInputs(src: string, infos: TensorInfo[], inputs: TypedArray[] | Record<string, TypedArray>): TypedArray[] {
  let list: (TypedArray | undefined)[];
  if (Array.isArray(inputs)) {
    if (inputs.length !== infos.length) {
      throw new KestrelError('E_INPUT_COUNT', `${src}: model has ${infos.length} input(s) (${infos.map((t) => t.name).join(', ')}), got ${inputs.length}`);
    }
    list = inputs;
  } else if (inputs && typeof inputs === 'object' && !ArrayBuffer.isView(inputs)) {
    const extra = Object.keys(inputs).filter((n) => !infos.some((t) => t.name === n));
    if (extra.length) throw new KestrelError('E_INPUT_MISSING', `${src}: no input named ${extra.map((e) => `'${e}'`).join(', ')}; inputs are ${infos.map((t) => `'${t.name}'`).join(', ')}`);
    list = infos.map((t) => (inputs as Record<string, TypedArray>)[t.name]);
  } else if (ArrayBuffer.isView(inputs) && infos.length === 1) {
    list = [inputs as unknown as TypedArray];
  } else {
    throw new KestrelError('E_USAGE', `${src}: run() expects an array of typed arrays or an object keyed by input name`);
  }
  return list.map((arr, i) => {
    const t = infos[i]!;
    if (!arr) throw new KestrelError('E_INPUT_MISSING', `${src}: input ${i} '${t.name}' is missing`);
    const Ctor = ARRAY_FOR[t.dtype];
    if (!Ctor || !(arr instanceof Ctor)) {
      throw new KestrelError('E_INPUT_DTYPE', `${src}: input ${i} '${t.name}' is ${t.dtype} and needs a ${Ctor?.name ?? 'typed array'}, got ${arr?.constructor?.name ?? typeof arr}`);
    }
    if (arr.byteLength !== t.bytes) {
      throw new KestrelError('E_INPUT_SHAPE', `${src}: input ${i} '${t.name}' of shape [${t.shape}] needs ${numElements(t.shape)} elements (${t.bytes} bytes), got ${arr.length} elements`);
    }
    return arr;
  });
}
