/**
 * The contract between an operator's prepare step (TypeScript, runs once at load)
 * and its kernel (AssemblyScript, runs every inference).
 *
 * prepare() validates the op, does all quantization arithmetic once (multipliers,
 * shifts, clamps, lookup tables, packed weights) and writes a *record*: a list of
 * 32-bit words that the kernel reads in the same order. Words are plain i32 values,
 * f32 bit patterns, or addresses in wasm memory of tensors, constant blobs and scratch
 * buffers, which the planner fills in after it has placed everything.
 *
 * In wasm memory a record is [kernelId, wordCount, word0, word1, ...]; the kernel
 * receives the address of word0. Each kernel's file documents its word layout.
 */
import { KestrelError } from '../../errors.js';
import type { Graph, Op, Tensor } from '../../graph/types.js';
import type { RelaxedDot } from '../relaxed-dot.js';

/**
 * A constant written straight into its place in wasm memory when the model's memory is
 * filled (packed weights), instead of being built in a JavaScript buffer at prepare and
 * copied: `fill` writes `size` bytes into `dst`, a zeroed view of exactly that size. One
 * object handed to several ops is placed once.
 */
export interface DeferredBlob {
  readonly size: number;
  fill(dst: Uint8Array): void;
}

export type Word =
  | { k: 'i32'; v: number }
  | { k: 'tensor'; t: number }
  | { k: 'const'; c: number }
  | { k: 'scratch'; s: number };

export class RecordBuilder {
  readonly words: Word[] = [];
  /**
   * Blobs to place; `zeroed` ones are `size` bytes of memory left zero (not in the image),
   * `deferred` ones `size` bytes their DeferredBlob writes at load.
   */
  readonly constants: { bytes: Uint8Array; align: number; size?: number; deferred?: DeferredBlob }[] = [];
  readonly scratch: number[] = [];
  /** Tensors whose data the kernel reads or writes through a `tensor` word. */
  readonly tensorsUsed = new Set<number>();

  i32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
      throw new KestrelError('E_KERNEL', `record word ${v} is not a 32-bit integer`);
    }
    this.words.push({ k: 'i32', v: v | 0 });
    return this;
  }
  /** Several i32 words. */
  i32s(vs: ArrayLike<number>): this {
    for (let i = 0; i < vs.length; i++) this.i32(vs[i]!);
    return this;
  }
  /** A float32 value, stored as its bit pattern (read with load<f32> on the kernel side). */
  f32(v: number): this {
    F32[0] = v;
    this.words.push({ k: 'i32', v: I32[0]! });
    return this;
  }
  /** Address of a tensor's data (activation, input, output, variable or constant). */
  tensor(t: Tensor | number): this {
    const index = typeof t === 'number' ? t : t.index;
    this.tensorsUsed.add(index);
    this.words.push({ k: 'tensor', t: index });
    return this;
  }
  /**
   * Address of a constant blob copied into wasm memory once at load (packed weights,
   * tables), or of one a DeferredBlob writes there.
   */
  constant(bytes: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | DeferredBlob, align = 16): this {
    if (!ArrayBuffer.isView(bytes)) {
      this.constants.push({ bytes: EMPTY, align, size: bytes.size, deferred: bytes });
    } else {
      this.constants.push({ bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), align });
    }
    this.words.push({ k: 'const', c: this.constants.length - 1 });
    return this;
  }
  /**
   * Address of `bytes` bytes of memory that start zeroed and keep what the kernel writes
   * there from run to run (a table the kernel fills on its first run): placed with the
   * constants, but nothing is copied in at load.
   */
  zeroed(bytes: number, align = 16): this {
    this.constants.push({ bytes: new Uint8Array(0), align, size: Math.max(0, Math.ceil(bytes)) });
    this.words.push({ k: 'const', c: this.constants.length - 1 });
    return this;
  }
  /** Address of a scratch buffer of `bytes` bytes, valid only while this op runs. */
  scratchBuffer(bytes: number): this {
    this.scratch.push(Math.max(0, Math.ceil(bytes)));
    this.words.push({ k: 'scratch', s: this.scratch.length - 1 });
    return this;
  }
}

const EMPTY = new Uint8Array(0);
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

export interface OpContext {
  readonly graph: Graph;
  readonly op: Op;
  /** 'model.tflite: op #3 CONV_2D' — prefix for messages. */
  readonly label: string;
  /** Input i, or null when omitted (-1) or not present. */
  input(i: number): Tensor | null;
  /** Input i; fails with a clear error when missing. */
  requireInput(i: number, what: string): Tensor;
  output(i: number): Tensor;
  /** Fails with E_OP_INVALID: the op is malformed. */
  fail(msg: string): never;
  /** Fails with E_UNSUPPORTED_OP: a valid op in a form Kestrel does not run (dtype, option). */
  unsupported(msg: string): never;
  readonly b: RecordBuilder;
  /**
   * Whether the plan is for the SIMD build. A prepare step may leave out (address 0)
   * blobs that only one build's kernel reads, or pick a kernel that only that build runs
   * fast (FULLY_CONNECTED int8 takes the GEMM convolution's record on SIMD).
   */
  readonly simd: boolean;
  /** Whether the plan is for the relaxed-SIMD build (simd is then true as well). */
  readonly relaxed: boolean;
  /** On the relaxed build: the GEMM weight layout this engine's relaxed dot allows (src/runtime/relaxed-dot.ts). */
  readonly relaxedDot: RelaxedDot;
  /** Load-time work the kernel instance does faster than JavaScript (PrepareHelpers), when the plan is made next to one. */
  readonly helpers: PrepareHelpers | null;
}

/**
 * Prepare work run in the kernel module (precompiled wasm, fast from the first load,
 * where the same JavaScript runs unoptimized and allocates a number per operation).
 * Every helper gives the same result as the JavaScript it replaces; plans made without a
 * kernel instance (the ahead-of-time compiler) use the JavaScript.
 */
export interface PrepareHelpers {
  /** The 256-byte int8 LOGISTIC (kind 0) or TANH (kind 1) table (src/runtime/ops/activation.ts, sigmoidTable8). */
  sigmoidTable8(kind: 0 | 1, zp: number, multiplier: number, shift: number, radius: number): Uint8Array;
}

export interface Prepared {
  /** Kernel id (see src/runtime/kernels.ts and assembly/kernels.ts). */
  kernel: number;
  /** Multiply-accumulates per inference, for `inspect` and benchmarks. */
  macs?: number;
}

export interface OpDef {
  /** Builtin operator name, as in the schema. */
  name: string;
  /** Highest op version this implementation understands. */
  maxVersion: number;
  prepare(ctx: OpContext): Prepared;
}
