/**
 * Loader for modules made by `kestrel compile`: a standalone .wasm per model, with the
 * same interface as a Model from loadModel (inputs, outputs, run, resetState, dispose).
 * Needs no kernel module and no .tflite file: everything is inside the .wasm.
 */
import { KestrelError } from '../errors.js';
import type { DType } from '../graph/types.js';
import { numElements } from '../graph/types.js';
import { checkInputs, dequantizeValues, loadModel, quantizeValues, readSource, type LoadOptions, type TensorInfo, type TypedArray } from './model.js';

/** Exports of a compiled module (targets/embedded/README.md documents each). */
export interface CompiledExports {
  memory: WebAssembly.Memory;
  invoke(): number;
  reset(): void;
  abi_version(): number;
  input_count(): number;
  output_count(): number;
  input_ptr(k: number): number;
  output_ptr(k: number): number;
  input_bytes(k: number): number;
  output_bytes(k: number): number;
  arena_bytes(): number;
  memory_bytes(): number;
  simd(): number;
}

/** The interface version this loader understands. */
export const COMPILED_ABI_VERSION = 1;

export type CompiledSource = Uint8Array | ArrayBuffer | WebAssembly.Module | string | URL;

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Whether `bytes` start with the WebAssembly magic number (a compiled model, not a .tflite). */
export function isWasm(bytes: Uint8Array | ArrayBuffer): boolean {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return b.length >= 8 && WASM_MAGIC.every((v, i) => b[i] === v);
}

const ARRAY_FOR: Partial<Record<DType, { new (b: ArrayBuffer, o: number, n: number): TypedArray; name: string }>> = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array,
};


export interface CompiledLoadOptions {
  /** Name used in messages; defaults to the path or URL, or 'model'. */
  name?: string;
}

/** Loads a module made by `kestrel compile` (bytes, a compiled WebAssembly.Module, a path or a URL). */
export async function loadCompiled(source: CompiledSource, options: CompiledLoadOptions = {}): Promise<CompiledModel> {
  let module: WebAssembly.Module;
  let name = options.name ?? 'model';
  if (source instanceof WebAssembly.Module) {
    module = source;
  } else {
    let bytes: Uint8Array;
    if (source instanceof Uint8Array) bytes = source;
    else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
    else ({ bytes, name } = await readSource(source, options.name));
    if (!isWasm(bytes)) throw new KestrelError('E_NOT_COMPILED', `${name}: not a WebAssembly module (expected the output of kestrel compile)`);
    try {
      module = await WebAssembly.compile(bytes as BufferSource);
    } catch (e) {
      throw new KestrelError('E_NOT_COMPILED', `${name}: this engine cannot compile the module: ${(e as Error).message}`);
    }
  }
  const instance = await WebAssembly.instantiate(module, {});
  return new CompiledModel(module, instance, name);
}

function readMeta(module: WebAssembly.Module, name: string): { inputs: TensorInfo[]; outputs: TensorInfo[]; backend: 'simd' | 'scalar'; ops: number; macs: number } {
  const sections = WebAssembly.Module.customSections(module, 'kestrel');
  if (!sections.length) throw new KestrelError('E_NOT_COMPILED', `${name}: not a compiled Kestrel model (no 'kestrel' section)`);
  try {
    return JSON.parse(new TextDecoder().decode(sections[0]!));
  } catch {
    throw new KestrelError('E_NOT_COMPILED', `${name}: the module's 'kestrel' section is not valid`);
  }
}

export class CompiledModel {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  readonly backend: 'simd' | 'scalar';
  /** Operators in the compiled graph. */
  readonly opCount: number;
  readonly macs: number;
  private exports: CompiledExports | null;
  private readonly inputAddr: number[];
  private readonly outputAddr: number[];

  constructor(readonly module: WebAssembly.Module, instance: WebAssembly.Instance, readonly name: string) {
    const x = instance.exports as unknown as CompiledExports;
    if (typeof x.invoke !== 'function' || typeof x.abi_version !== 'function' || !(x.memory instanceof WebAssembly.Memory)) {
      throw new KestrelError('E_NOT_COMPILED', `${name}: not a compiled Kestrel model (missing exports)`);
    }
    if (x.abi_version() !== COMPILED_ABI_VERSION) {
      throw new KestrelError('E_NOT_COMPILED', `${name}: compiled for interface version ${x.abi_version()}, this runtime reads version ${COMPILED_ABI_VERSION}`);
    }
    const meta = readMeta(module, name);
    this.inputs = meta.inputs;
    this.outputs = meta.outputs;
    this.backend = x.simd() ? 'simd' : 'scalar';
    this.opCount = meta.ops;
    this.macs = meta.macs;
    if (x.input_count() !== this.inputs.length || x.output_count() !== this.outputs.length) {
      throw new KestrelError('E_NOT_COMPILED', `${name}: metadata and exports disagree on the number of tensors`);
    }
    this.inputAddr = this.inputs.map((t, k) => x.input_ptr(k) >>> 0);
    this.outputAddr = this.outputs.map((t, k) => x.output_ptr(k) >>> 0);
    this.exports = x;
  }

  /** Bytes of the activation arena (activations, inputs, outputs, scratch). */
  get arenaBytes(): number { return this.x().arena_bytes() >>> 0; }
  /** Bytes of the module's linear memory in use (weights, records, state, arena). */
  get memoryBytes(): number { return this.x().memory_bytes() >>> 0; }
  /** Size of the module's WebAssembly.Memory. */
  get wasmMemoryBytes(): number { return this.x().memory.buffer.byteLength; }

  private x(): CompiledExports {
    if (!this.exports) throw new KestrelError('E_DISPOSED', `${this.name}: model was disposed`);
    return this.exports;
  }

  /** Sets state tensors back to their initial value (real zero). */
  resetState(): void {
    this.x().reset();
  }

  /** Runs the model; same contract as Model.run. */
  run(inputs: TypedArray[] | Record<string, TypedArray>): TypedArray[] {
    const x = this.x();
    const list = this.orderInputs(inputs);
    const buf = x.memory.buffer;
    list.forEach((arr, i) => {
      new Uint8Array(buf, this.inputAddr[i]!, this.inputs[i]!.bytes).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    });
    const status = x.invoke();
    if (status !== 0) throw new KestrelError('E_KERNEL', `${this.name}: invoke() returned ${status}`);
    return this.outputs.map((t, k) => {
      const Ctor = ARRAY_FOR[t.dtype];
      const copy = buf.slice(this.outputAddr[k]!, this.outputAddr[k]! + t.bytes);
      return Ctor ? new Ctor(copy, 0, numElements(t.shape)) : new Uint8Array(copy);
    });
  }

  private orderInputs(inputs: TypedArray[] | Record<string, TypedArray>): TypedArray[] {
    return checkInputs(this.name, this.inputs, inputs);
  }

  quantizeInput(i: number, values: ArrayLike<number>): TypedArray {
    const t = this.inputs[i];
    if (!t) throw new KestrelError('E_INPUT_COUNT', `${this.name}: no input ${i}`);
    return quantizeValues(t, values);
  }

  dequantizeOutput(k: number, data: TypedArray): Float32Array {
    const t = this.outputs[k];
    if (!t) throw new KestrelError('E_USAGE', `${this.name}: no output ${k}`);
    return dequantizeValues(t, data);
  }

  dispose(): void {
    this.exports = null;
  }
}

/** What Model and CompiledModel have in common: enough to run and describe either. */
export interface RunnableModel {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  readonly backend: 'simd' | 'scalar' | 'relaxed';
  readonly arenaBytes: number;
  run(inputs: TypedArray[] | Record<string, TypedArray>): TypedArray[];
  resetState(): void;
  quantizeInput(i: number, values: ArrayLike<number>): TypedArray;
  dequantizeOutput(k: number, data: TypedArray): Float32Array;
  dispose(): void;
}

/**
 * Loads either a .tflite model (through loadModel, with `options`) or a module made by
 * kestrel compile (through loadCompiled), told apart by the WebAssembly magic number.
 */
export async function loadAnyModel(source: Uint8Array | ArrayBuffer | string | URL, options: LoadOptions = {}): Promise<RunnableModel> {
  let bytes: Uint8Array;
  let name = options.name;
  if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else ({ bytes, name } = await readSource(source, options.name));
  if (isWasm(bytes)) return loadCompiled(bytes, name !== undefined ? { name } : {});
  return loadModel(bytes, { ...options, ...(name !== undefined ? { name } : {}) });
}
