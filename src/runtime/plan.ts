/**
 * From a validated graph to an executable plan: checks the op list, runs every op's
 * prepare step, plans tensor lifetimes into one arena and lays out wasm memory:
 *
 *   [module static data | records | constants | variables | arena]
 *
 * The plan is independent of any wasm instance; `writePlan` copies it into memory.
 */
import { KestrelError } from '../errors.js';
import type { Graph, Op, Tensor } from '../graph/types.js';
import { byteLength, dtypeSize } from '../graph/types.js';
import { OPS } from './ops/index.js';
import { RecordBuilder, type DeferredBlob, type OpContext, type Prepared, type PrepareHelpers } from './ops/types.js';
import { align, ArenaPlanner } from './planner.js';
import type { RelaxedDot } from './relaxed-dot.js';

export interface PlannedOp {
  op: Op;
  kernel: number;
  macs: number;
  builder: RecordBuilder;
  /** Absolute address of the record in wasm memory. */
  address: number;
}

/** One range of the memory image: bytes to copy, or a blob written in place (see DeferredBlob). */
export type ImageEntry = { offset: number; bytes: Uint8Array } | { offset: number; deferred: DeferredBlob };

/** Writes the image into wasm memory `mem`; deferred blobs get a zeroed view of their range. */
export function writeImage(mem: Uint8Array, image: readonly ImageEntry[]): void {
  for (const e of image) {
    if ('bytes' in e) mem.set(e.bytes, e.offset);
    else {
      const dst = mem.subarray(e.offset, e.offset + e.deferred.size);
      dst.fill(0);
      e.deferred.fill(dst);
    }
  }
}

/** An image entry's bytes (a deferred blob written into a fresh buffer): for tools that need them all at once. */
export function imageBytes(e: ImageEntry): Uint8Array {
  if ('bytes' in e) return e.bytes;
  const out = new Uint8Array(e.deferred.size);
  e.deferred.fill(out);
  return out;
}

export interface Region {
  offset: number;
  bytes: number;
}

export interface Plan {
  graph: Graph;
  ops: PlannedOp[];
  /** Absolute address of every tensor that has memory. */
  tensorAddress: Map<number, number>;
  records: Region;
  constants: Region;
  variables: Region;
  arena: Region;
  /** Bytes of wasm memory the model needs. */
  memoryBytes: number;
  /** The encoded plan records and constants (writeImage puts them in memory). */
  image: ImageEntry[];
  variableInit: { address: number; bytes: Uint8Array }[];
  macs: number;
  /** The relaxed build's GEMM weight layout the plan was made for (PlanOptions.relaxedDot; 1 otherwise). */
  relaxedDot: RelaxedDot;
  /**
   * Multi-threaded plans only (see ThreadLayout): which ops are split, and the region
   * holding their scratch, one copy per thread `stride` bytes apart (thread 0 first).
   */
  threads?: { count: number; split: boolean[]; scratch: Region; stride: number };
}

/**
 * Asks buildPlan for a plan that `count` threads run together (src/runtime/threads.ts):
 * `split(op)` says which ops have their output rows shared out; their scratch buffers
 * leave the arena for a region with one copy per thread (the kernels offset scratch
 * addresses by thread index × stride, assembly/thread.ts).
 */
export interface ThreadLayout {
  count: number;
  split(op: PlannedOp): boolean;
}

const ALIGN = 16;

/** Checks that every op is supported; reports all missing ones in one error. */
export function checkSupported(graph: Graph): void {
  const missing = new Map<string, number>();
  const versions: string[] = [];
  for (const op of graph.ops) {
    const def = OPS.get(op.opcode);
    const name = op.opcode === 'CUSTOM' ? `CUSTOM(${op.customCode})` : op.opcode;
    if (!def) missing.set(name, (missing.get(name) ?? 0) + 1);
    else if (op.version > def.maxVersion) versions.push(`op #${op.index} ${op.opcode} version ${op.version} (up to ${def.maxVersion} supported)`);
  }
  if (missing.size) {
    const list = [...missing].map(([n, c]) => `${n} ×${c}`).join(', ');
    throw new KestrelError('E_UNSUPPORTED_OP', `${graph.source}: unsupported operators: ${list}`);
  }
  if (versions.length) {
    throw new KestrelError('E_UNSUPPORTED_OP', `${graph.source}: unsupported operator versions: ${versions.join('; ')}`);
  }
}

/**
 * Checks that ops are in execution order and write only activations. Index loops, and
 * messages built only on failure: this runs once per op at load, before the engine has
 * optimized it (for...of allocates an iterator result per step there).
 */
function checkTopology(graph: Graph): void {
  const n = graph.tensors.length;
  const ready = new Uint8Array(n);
  const label = (t: Tensor) => `tensor #${t.index} '${t.name}'`;
  const where = (op: Op) => `${graph.source}: op #${op.index} ${op.opcode}`;
  for (const i of graph.inputs) {
    const t = graph.tensors[i]!;
    if (t.data) throw new KestrelError('E_MODEL_INVALID', `${graph.source}: graph input ${label(t)} is a constant`);
    ready[i] = 1;
  }
  const tensors = graph.tensors;
  for (let j = 0; j < tensors.length; j++) {
    const t = tensors[j]!;
    if (t.data || t.isVariable) ready[t.index] = 1;
  }
  const ops = graph.ops;
  for (let j = 0; j < ops.length; j++) {
    const op = ops[j]!;
    const ins = op.inputs, outs = op.outputs;
    for (let k = 0; k < ins.length; k++) {
      const i = ins[k]!;
      if (i >= 0 && !ready[i]) {
        throw new KestrelError('E_MODEL_INVALID', `${where(op)} reads ${label(graph.tensors[i]!)} before any op writes it`);
      }
    }
    for (let k = 0; k < outs.length; k++) {
      const o = outs[k]!;
      const t = graph.tensors[o]!;
      if (t.data) throw new KestrelError('E_MODEL_INVALID', `${where(op)} writes constant ${label(t)}`);
      if (graph.inputs.includes(o)) throw new KestrelError('E_MODEL_INVALID', `${where(op)} writes graph input ${label(t)}`);
      if (ready[o] && !t.isVariable) throw new KestrelError('E_MODEL_INVALID', `${where(op)} writes ${label(t)}, which an earlier op already wrote`);
      ready[o] = 1;
    }
  }
  for (const o of graph.outputs) {
    if (!ready[o]) throw new KestrelError('E_MODEL_INVALID', `${graph.source}: graph output ${label(graph.tensors[o]!)} is never written`);
  }
  for (const i of [...graph.inputs, ...graph.outputs]) {
    const t = graph.tensors[i]!;
    if (dtypeSize(t.dtype) === 0) throw new KestrelError('E_MODEL_UNSUPPORTED', `${graph.source}: graph input/output ${label(t)} has type ${t.dtype}, which is not supported`);
  }
}

/**
 * An op's OpContext. A class, not an object of closures: buildPlan makes one per op, mostly
 * before the engine has optimized it, and the unrolled sequence models have hundreds of ops.
 * The label is built when a message needs it.
 */
class Context implements OpContext {
  private text: string | null = null;
  constructor(
    readonly graph: Graph, readonly op: Op, readonly b: RecordBuilder, readonly simd: boolean,
    readonly relaxed: boolean, readonly relaxedDot: RelaxedDot, readonly helpers: PrepareHelpers | null,
  ) {}

  get label(): string {
    if (this.text === null) this.text = `${this.graph.source}: op #${this.op.index} ${this.op.opcode}`;
    return this.text;
  }

  input(i: number): Tensor | null {
    const idx = this.op.inputs[i];
    return idx === undefined || idx < 0 ? null : this.graph.tensors[idx]!;
  }

  requireInput(i: number, what: string): Tensor {
    const t = this.input(i);
    if (!t) this.fail(`missing input ${i} (${what})`);
    return t!;
  }

  output(i: number): Tensor {
    const idx = this.op.outputs[i];
    if (idx === undefined) this.fail(`missing output ${i}`);
    return this.graph.tensors[idx!]!;
  }

  fail(msg: string): never {
    throw new KestrelError('E_OP_INVALID', `${this.label}: ${msg}`);
  }

  unsupported(msg: string): never {
    throw new KestrelError('E_UNSUPPORTED_OP', `${this.label}: ${msg}`);
  }
}

/** What else buildPlan needs to know. */
export interface PlanOptions {
  /** The threads' layout (src/runtime/threads.ts), for a threaded model. */
  threadLayout?: ThreadLayout;
  /** The plan is for the relaxed-SIMD build, whose GEMM records carry its own weight layout. */
  relaxed?: boolean;
  /** With relaxed: the layout this engine's relaxed dot allows (src/runtime/relaxed-dot.ts); default 1, exact everywhere. */
  relaxedDot?: RelaxedDot;
  /** Prepare work the kernel instance can do (kernelHelpers); without it, prepare uses JavaScript. */
  helpers?: PrepareHelpers | null;
}

/**
 * Builds the plan. `base` is the first free address of the kernel module (heapBase);
 * `simd` says whether the SIMD build will run it.
 */
export function buildPlan(graph: Graph, base: number, simd = true, options: PlanOptions = {}): Plan {
  const { threadLayout, relaxed = false, relaxedDot = 1, helpers = null } = options;
  checkSupported(graph);
  checkTopology(graph);
  const nOps = graph.ops.length;

  const ops: PlannedOp[] = graph.ops.map((op) => {
    const builder = new RecordBuilder();
    const ctx = new Context(graph, op, builder, simd, relaxed && simd, relaxedDot, helpers);
    let prepared: Prepared;
    try {
      prepared = OPS.get(op.opcode)!.prepare(ctx);
    } catch (e) {
      if (e instanceof KestrelError) throw e;
      throw new KestrelError('E_OP_INVALID', `${ctx.label}: ${(e as Error).message}`);
    }
    return { op, kernel: prepared.kernel, macs: prepared.macs ?? 0, builder, address: 0 };
  });

  // Which tensors need memory (in index order), and where. Index loops over typed arrays:
  // this runs before the engine has optimized it, where for...of allocates per step.
  const nT = graph.tensors.length;
  const isUsed = new Uint8Array(nT);
  for (const i of graph.inputs) isUsed[i] = 1;
  for (const o of graph.outputs) isUsed[o] = 1;
  for (let j = 0; j < ops.length; j++) ops[j]!.builder.tensorsUsed.forEach((t) => { isUsed[t] = 1; });
  let nUsed = 0;
  for (let t = 0; t < nT; t++) nUsed += isUsed[t]!;
  const usedSorted = new Int32Array(nUsed);
  for (let t = 0, j = 0; t < nT; t++) if (isUsed[t]) usedSorted[j++] = t;

  // First and last op of every tensor (-1: none).
  const first = new Int32Array(nT).fill(-1);
  const last = new Int32Array(nT).fill(-1);
  const touch = (t: number, i: number) => {
    if (first[t] === -1) first[t] = i;
    if (last[t]! < i) last[t] = i;
  };
  for (const i of graph.inputs) touch(i, 0);
  for (let i = 0; i < nOps; i++) {
    const op = graph.ops[i]!;
    for (let k = 0; k < op.inputs.length; k++) if (op.inputs[k]! >= 0) touch(op.inputs[k]!, i);
    for (let k = 0; k < op.outputs.length; k++) touch(op.outputs[k]!, i);
  }
  for (const o of graph.outputs) touch(o, Math.max(0, nOps - 1));

  // Records.
  let cursor = align(base, ALIGN);
  const records: Region = { offset: cursor, bytes: 0 };
  for (let j = 0; j < ops.length; j++) {
    const p = ops[j]!;
    p.address = cursor;
    cursor += 8 + 4 * p.builder.words.length;
  }
  cursor = align(cursor, ALIGN);
  records.bytes = cursor - records.offset;

  // Constants: constant tensors the kernels read directly, then prepared blobs.
  const tensorAddress = new Map<number, number>();
  const image: ImageEntry[] = [];
  const constants: Region = { offset: cursor, bytes: 0 };
  for (let j = 0; j < usedSorted.length; j++) {
    const t = usedSorted[j]!;
    const tensor = graph.tensors[t]!;
    if (!tensor.data) continue;
    tensorAddress.set(t, cursor);
    image.push({ offset: cursor, bytes: tensor.data });
    cursor = align(cursor + tensor.data.length, ALIGN);
  }
  // A blob handed to several ops (the same bytes of the same buffer, or the same deferred
  // blob: packed weights that ops share) is placed once.
  const placed = new Map<object, Map<string, number>>();
  const constAddress: number[][] = ops.map((p) => p.builder.constants.map((c) => {
    const owner: object = c.deferred ?? c.bytes.buffer;
    let inOwner = placed.get(owner);
    if (!inOwner) placed.set(owner, inOwner = new Map());
    const key = c.deferred ? '' : `${c.bytes.byteOffset}:${c.bytes.byteLength}`;
    const seen = inOwner.get(key);
    if (seen !== undefined && seen % c.align === 0) return seen;
    cursor = align(cursor, Math.max(ALIGN, c.align));
    const at = cursor;
    if (c.deferred) image.push({ offset: at, deferred: c.deferred });
    // A zeroed region (size without bytes): memory starts zeroed (and a reused instance's
    // is zeroed again), so nothing goes in the image.
    else if (c.size === undefined) image.push({ offset: at, bytes: c.bytes });
    cursor += c.size ?? c.bytes.length;
    inOwner.set(key, at);
    return at;
  }));
  cursor = align(cursor, ALIGN);
  constants.bytes = cursor - constants.offset;

  // Variables (state that persists across runs).
  const variables: Region = { offset: cursor, bytes: 0 };
  const variableInit: { address: number; bytes: Uint8Array }[] = [];
  for (let j = 0; j < usedSorted.length; j++) {
    const t = usedSorted[j]!;
    const tensor = graph.tensors[t]!;
    if (!tensor.isVariable || tensor.data) continue;
    tensorAddress.set(t, cursor);
    const bytes = new Uint8Array(byteLength(tensor));
    const zp = tensor.quant?.zeroPoint[0] ?? 0;
    // Real zero as TFLite Micro sets it: int8 state holds its zero point, everything else 0.
    if (tensor.dtype === 'int8' && zp !== 0) bytes.fill(zp & 0xff);
    variableInit.push({ address: cursor, bytes });
    cursor = align(cursor + bytes.length, ALIGN);
  }
  variables.bytes = cursor - variables.offset;

  // Arena: activations, inputs, outputs, scratch.
  const planner = new ArenaPlanner(ALIGN);
  const tensorBuf = new Map<number, number>();
  for (let j = 0; j < usedSorted.length; j++) {
    const t = usedSorted[j]!;
    const tensor = graph.tensors[t]!;
    if (tensor.data || tensorAddress.has(t)) continue;
    const f = first[t]! < 0 ? 0 : first[t]!;
    const l = last[t]! < 0 ? f : last[t]!;
    tensorBuf.set(t, planner.addBuffer(byteLength(tensor), f, l));
  }
  const split = ops.map((p) => !!threadLayout && threadLayout.count > 1 && threadLayout.split(p));
  const scratchBuf: number[][] = ops.map((p, i) => split[i] ? [] : p.builder.scratch.map((s) => planner.addBuffer(s, i, i)));
  const arena: Region = { offset: cursor, bytes: planner.totalBytes() };
  for (const [t, id] of tensorBuf) tensorAddress.set(t, arena.offset + planner.offsetOf(id));
  cursor += arena.bytes;

  // Per-thread scratch of split ops: each op's buffers from offset 0 of every thread's copy.
  let threads: Plan['threads'];
  const splitScratch: number[][] = ops.map(() => []);
  if (threadLayout && threadLayout.count > 1) {
    let stride = 0;
    ops.forEach((p, i) => {
      if (!split[i]) return;
      let at = 0;
      splitScratch[i] = p.builder.scratch.map((s) => { const o = at; at = align(at + s, ALIGN); return o; });
      stride = Math.max(stride, at);
    });
    cursor = align(cursor, 64);
    const scratch: Region = { offset: cursor, bytes: stride * threadLayout.count };
    cursor += scratch.bytes;
    threads = { count: threadLayout.count, split, scratch, stride };
  }

  // Encode records.
  const rec = new Int32Array(records.bytes / 4);
  ops.forEach((p, i) => {
    let k = (p.address - records.offset) / 4;
    rec[k++] = p.kernel;
    rec[k++] = p.builder.words.length;
    const words = p.builder.words;
    for (let j = 0; j < words.length; j++) {
      const wd = words[j]!;
      switch (wd.k) {
        case 'i32': rec[k++] = wd.v; break;
        case 'tensor': rec[k++] = tensorAddress.get(wd.t)!; break;
        case 'const': rec[k++] = constAddress[i]![wd.c]!; break;
        case 'scratch': rec[k++] = split[i] ? threads!.scratch.offset + splitScratch[i]![wd.s]! : arena.offset + planner.offsetOf(scratchBuf[i]![wd.s]!); break;
      }
    }
  });
  image.unshift({ offset: records.offset, bytes: new Uint8Array(rec.buffer) });

  return {
    graph, ops, tensorAddress, records, constants, variables, arena,
    memoryBytes: cursor, image, variableInit,
    macs: ops.reduce((s, p) => s + p.macs, 0),
    relaxedDot: relaxed && simd ? relaxedDot : 1,
    ...(threads ? { threads } : {}),
  };
}
