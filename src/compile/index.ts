/**
 * Ahead-of-time compilation: one int8 .tflite model into one standalone WebAssembly module
 * (no imports) that holds the model's kernels, records, weights and arena layout.
 *
 * The plan is the interpreter's (buildPlan), laid out at a fixed base; the code is the
 * interpreter's kernel sources (assembly/), compiled by the AssemblyScript compiler with a
 * generated entry file that calls each op's kernel in order. The compiler is loaded when
 * `compileModel` runs (it is an optional peer dependency of kestrel).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KestrelError } from '../errors.js';
import type { Graph } from '../graph/types.js';
import { readTflite } from '../tflite/reader.js';
import { buildPlan, checkSupported, imageBytes, type Plan } from '../runtime/plan.js';
import type { TensorInfo } from '../runtime/model.js';
import { byteLength } from '../graph/types.js';
import { align, descriptorImages, descriptorLayout, entrySource, familyWrappers, readFamilies, ABI_VERSION, DESC_BASE, type Packed } from './codegen.js';
import { inPlaceMargin, lzCompress } from './lz.js';
import { patchModule, segmentsFrom } from './wasm-binary.js';
import { cHeader } from './header.js';

export { ABI_VERSION } from './codegen.js';
export { cHeader } from './header.js';

export interface CompileOptions {
  /** Build without SIMD (for engines without SIMD128). Default false. */
  scalar?: boolean;
  /** Refuse models whose module memory (weights, records, state, arena) exceeds this many bytes. */
  maxMemoryBytes?: number;
  /** Name used in messages and as the C identifier prefix; defaults to 'model'. */
  name?: string;
  /** Folder holding the kernel sources (index.ts, fixedpoint.ts, ops/); default: the package's assembly/. */
  assemblyDir?: string;
  /**
   * Store the memory image LZ-compressed and decode it in place at instantiation, when that
   * makes the file smaller. Default true.
   */
  compress?: boolean;
  /** Also return the generated AssemblyScript entry source. */
  keepSource?: boolean;
}

/** Metadata stored in the module's `kestrel` custom section. */
export interface CompiledMeta {
  abi: number;
  name: string;
  backend: 'simd' | 'scalar';
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  arenaBytes: number;
  memoryBytes: number;
  ops: number;
  macs: number;
  kernels: number[];
}

export interface CompileResult {
  wasm: Uint8Array;
  meta: CompiledMeta;
  /** Bytes of code the compiler emitted (before the plan's data was added). */
  codeBytes: number;
  /** Bytes of data segments (descriptors, records, constants, initial state). */
  dataBytes: number;
  pages: number;
  /** Whether the memory image is stored compressed (decoded by the start function). */
  compressed: boolean;
  /** The generated entry source, when `keepSource` was set. */
  source?: string;
  /** Builds the C header for this module under `prefix` (default: from the name). */
  header(prefix?: string): string;
}

/** Custom section name holding CompiledMeta as JSON. */
export const META_SECTION = 'kestrel';

const defaultAssemblyDir = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'assembly');

let ascPromise: Promise<any> | null = null;
async function loadAsc(): Promise<any> {
  if (!ascPromise) {
    ascPromise = import('assemblyscript/asc' as string).then((m) => m.default ?? m).catch(() => {
      ascPromise = null;
      throw new KestrelError('E_COMPILER_MISSING', 'kestrel compile needs the AssemblyScript compiler: npm install --save-dev assemblyscript@0.28');
    });
  }
  return ascPromise;
}

// The AssemblyScript compiler keeps global state: run one compilation at a time.
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

/** Refuses float models up front with one line (Kestrel runs full-integer models). */
function checkInteger(graph: Graph): void {
  for (const op of graph.ops) {
    if (op.opcode === 'QUANTIZE' || op.opcode === 'DEQUANTIZE') continue;
    for (const i of op.inputs) {
      const t = i >= 0 ? graph.tensors[i]! : null;
      if (t && !t.data && t.dtype === 'float32') {
        throw new KestrelError('E_MODEL_UNSUPPORTED', `${graph.source}: float model (op #${op.index} ${op.opcode} computes on float32 tensor '${t.name}'); kestrel compile takes full-integer int8/int16 models`);
      }
    }
  }
}

function info(graph: Graph, i: number): TensorInfo {
  const t = graph.tensors[i]!;
  return {
    name: t.name, shape: [...t.shape], dtype: t.dtype,
    scale: t.quant?.scale[0] ?? 0, zeroPoint: t.quant?.zeroPoint[0] ?? 0,
    bytes: byteLength(t), index: t.index,
  };
}

/** Compiles a model (bytes or a graph) into a standalone module. */
export async function compileModel(model: Uint8Array | Graph, options: CompileOptions = {}): Promise<CompileResult> {
  const name = options.name ?? 'model';
  const graph = model instanceof Uint8Array ? readTflite(model, { source: name }) : model;
  checkSupported(graph);
  checkInteger(graph);
  const layout = descriptorLayout(graph);
  const plan: Plan = buildPlan(graph, layout.end, !options.scalar);
  const limit = options.maxMemoryBytes ?? 1 << 30;
  if (plan.memoryBytes > limit) {
    throw new KestrelError('E_MEMORY_LIMIT', `${graph.source}: model needs ${plan.memoryBytes} bytes of memory (arena ${plan.arena.bytes}, constants ${plan.constants.bytes}, state ${plan.variables.bytes}), over the budget of ${limit}`);
  }

  const asmDir = resolve(options.assemblyDir ?? defaultAssemblyDir());
  let indexSource: string;
  try {
    indexSource = readFileSync(join(asmDir, 'index.ts'), 'utf8');
  } catch {
    throw new KestrelError('E_IO', `cannot read the kernel sources in ${asmDir}`);
  }
  // The memory image: descriptors, records, constants, initial state, one contiguous range.
  const images = [...descriptorImages(graph, plan), ...plan.image.map((e) => ({ offset: e.offset, bytes: imageBytes(e) })), ...plan.variableInit.map((v) => ({ offset: v.address, bytes: v.bytes }))];
  const imageEnd = plan.variables.offset + plan.variables.bytes;
  const segments = segmentsFrom(images);
  const plainBytes = segments.reduce((s, g) => s + g.bytes.length + 8, 0);
  let packed: Packed | null = null;
  let dataSegments = segments;
  if (options.compress !== false) {
    const flat = new Uint8Array(imageEnd - DESC_BASE);
    for (const { offset, bytes } of images) flat.set(bytes, offset - DESC_BASE);
    const lz = lzCompress(flat);
    // Worth it when the stream plus the decoder (about 300 bytes of code) is smaller.
    if (lz.length + 400 < plainBytes) {
      const margin = inPlaceMargin(lz, flat.length);
      const src = imageEnd + margin - lz.length;
      packed = { src, bytes: lz.length, dst: DESC_BASE, n: flat.length, margin };
      dataSegments = [{ offset: src, bytes: lz }];
    }
  }
  const families = readFamilies(indexSource, (f) => readFileSync(join(asmDir, `${f}.ts`), 'utf8'));
  const entry = entrySource(graph, plan, families, graph.source, packed);
  const appended = new Map<string, string>();
  for (const [family, ids] of entry.wrappers) {
    const fam = families.get(family)!;
    appended.set(`${fam.file}.ts`, familyWrappers(fam, ids));
  }

  const memoryBase = align(Math.max(plan.memoryBytes, packed ? packed.dst + packed.n + packed.margin : 0), 16);
  const pages = Math.max(1, Math.ceil((memoryBase + 1024) / 65536));
  const backend = options.scalar ? 'scalar' : 'simd';
  const asc = await loadAsc();
  const ENTRY = '__kestrel_model__.ts';
  const code = await serial(async () => {
    let out: Uint8Array | null = null;
    const stderr = asc.createMemoryStream();
    const argv = [
      ENTRY, '--baseDir', asmDir, '--runtime', 'stub', '--noAssert', '--optimizeLevel', '3', '--shrinkLevel', '0',
      '--use', 'abort=', '--memoryBase', String(memoryBase),
      '--initialMemory', String(pages), '--maximumMemory', String(pages),
      '--outFile', 'model.wasm', '--noColors',
      ...(options.scalar ? [] : ['--enable', 'simd']),
    ];
    const result = await asc.main(argv, {
      stdout: asc.createMemoryStream(),
      stderr,
      readFile(file: string, baseDir: string) {
        const full = resolve(baseDir, file);
        const rel = relative(asmDir, full).split(sep).join('/');
        if (rel.startsWith('..')) return null;
        if (rel === ENTRY) return entry.source;
        try {
          return readFileSync(full, 'utf8') + (appended.get(rel) ?? '');
        } catch {
          return null;
        }
      },
      writeFile(file: string, contents: Uint8Array | string) {
        if (file.endsWith('.wasm')) out = contents as Uint8Array;
      },
      listFiles: () => [],
    });
    if (result.error || !out) {
      const msg = stderr.toString().split('\n').find((l: string) => /ERROR|error/.test(l)) ?? String(result.error?.message ?? 'no output');
      throw new KestrelError('E_COMPILE', `${graph.source}: the AssemblyScript compiler failed: ${msg.trim()}`);
    }
    return out as Uint8Array;
  });

  const meta: CompiledMeta = {
    abi: ABI_VERSION, name, backend,
    inputs: graph.inputs.map((i) => info(graph, i)),
    outputs: graph.outputs.map((i) => info(graph, i)),
    arenaBytes: plan.arena.bytes, memoryBytes: plan.memoryBytes,
    ops: plan.ops.length, macs: plan.macs,
    kernels: [...new Set(plan.ops.map((p) => p.kernel))].sort((a, b) => a - b),
  };
  const wasm = patchModule(code, dataSegments, { [META_SECTION]: new TextEncoder().encode(JSON.stringify(meta)) });
  const dataBytes = dataSegments.reduce((s, g) => s + g.bytes.length, 0);
  return {
    wasm, meta, codeBytes: code.length, dataBytes, pages, compressed: !!packed,
    ...(options.keepSource ? { source: entry.source } : {}),
    header: (prefix?: string) => cHeader(meta, { prefix: prefix ?? name, pages, wasmBytes: wasm.length, graph, plan }),
  };
}
