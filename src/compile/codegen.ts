/**
 * Code generation for ahead-of-time compiled models: from a plan to the AssemblyScript
 * entry file of a model-specific module and the memory image it starts with.
 *
 * Memory of a compiled module (all addresses fixed at compile time):
 *
 *   [0, 64)            unused (keeps address 0 free)
 *   [64, …)            tensor descriptors: inputs then outputs, 64 bytes each
 *   […]                tensor names, NUL-terminated UTF-8
 *   [planBase, …)      the plan: records | constants | state | arena (src/runtime/plan.ts)
 *   [memoryBase, …)    the compiler's own static data (none for the kernels today)
 *
 * The descriptors, records, constants and initial state are active data segments; the
 * arena starts zeroed. `invoke()` calls each op's kernel directly with the constant
 * address of its record, so only kernels the model uses end up in the module.
 */
import type { Graph, Tensor } from '../graph/types.js';
import { byteLength, DTYPE_BY_CODE } from '../graph/types.js';
import type { Plan } from '../runtime/plan.js';
import type { DataSegment } from './wasm-binary.js';

/** Version of the exported interface; bumped on any incompatible change. */
export const ABI_VERSION = 1;

export const DESC_BASE = 64;
export const DESC_BYTES = 64;
export const MAX_RANK = 8;

/** Where the kernels of one family live and how the dispatcher calls them. */
export interface FamilySource {
  family: number;
  /** Path relative to the assembly folder, without extension: 'ops/conv'. */
  file: string;
  /** The family's dispatcher: runConv(id, p). */
  runFn: string;
  /** kernel id -> statement calling the kernel, taken from the dispatcher's switch. */
  cases: Map<number, string>;
}

/**
 * Reads the family routing from assembly/index.ts (import and `case n: return runX(id, p)`)
 * and each family's kernel switch, so the generated code follows the kernel sources.
 */
export function readFamilies(indexSource: string, readSource: (file: string) => string): Map<number, FamilySource> {
  const fileOf = new Map<string, string>();
  for (const m of indexSource.matchAll(/import\s*\{\s*(\w+)\s*\}\s*from\s*'\.\/(ops\/[\w-]+)'/g)) fileOf.set(m[1]!, m[2]!);
  const out = new Map<number, FamilySource>();
  for (const m of indexSource.matchAll(/case\s+(\d+)\s*:\s*return\s+(\w+)\(id,\s*p\)/g)) {
    const family = Number(m[1]);
    const runFn = m[2]!;
    const file = fileOf.get(runFn);
    if (!file) continue;
    out.set(family, { family, file, runFn, cases: parseSwitch(readSource(file), runFn) });
  }
  return out;
}

/** `case 101: conv(p, 0); break;` lines of `export function runX(id: i32, p: usize): bool`. */
export function parseSwitch(source: string, runFn: string): Map<number, string> {
  const cases = new Map<number, string>();
  const start = source.search(new RegExp(`export function ${runFn}\\(id: i32, p: usize\\): bool \\{`));
  if (start < 0) return cases;
  const end = source.indexOf('\n}', start);
  const body = source.slice(start, end < 0 ? undefined : end);
  for (const m of body.matchAll(/((?:case\s+\d+\s*:\s*)+)([^;{}]+;)\s*break;/g)) {
    for (const id of m[1]!.matchAll(/\d+/g)) cases.set(Number(id[0]), m[2]!.trim());
  }
  return cases;
}

/** Wrapper name for kernel `id`, appended to its family file at compile time. */
export const wrapperName = (id: number) => `__kestrel_kernel_${id}`;

/** Source appended (in memory only) to a family file: one exported wrapper per used kernel id. */
export function familyWrappers(fam: FamilySource, ids: number[]): string {
  const lines = ['', '// Added by kestrel compile: one entry point per kernel id the model uses.'];
  for (const id of ids) {
    const stmt = fam.cases.get(id);
    if (!stmt) continue;
    lines.push(`export function ${wrapperName(id)}(p: usize): void { const id: i32 = ${id}; ${stmt} }`);
  }
  return lines.join('\n') + '\n';
}

export interface Layout {
  planBase: number;
  inputsDesc: number;
  outputsDesc: number;
  images: DataSegment[];
}

function dtypeCode(t: Tensor): number {
  return DTYPE_BY_CODE.indexOf(t.dtype);
}

/** Descriptor table and names; returns the first free address after them. */
export function descriptorLayout(graph: Graph): { end: number; inputsDesc: number; outputsDesc: number } {
  const n = graph.inputs.length + graph.outputs.length;
  let end = DESC_BASE + n * DESC_BYTES;
  const enc = new TextEncoder();
  for (const i of [...graph.inputs, ...graph.outputs]) end += enc.encode(graph.tensors[i]!.name).length + 1;
  return { end: align(end, 16), inputsDesc: DESC_BASE, outputsDesc: DESC_BASE + graph.inputs.length * DESC_BYTES };
}

export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** The descriptor table and names as memory images. */
export function descriptorImages(graph: Graph, plan: Plan): DataSegment[] {
  const ids = [...graph.inputs, ...graph.outputs];
  const table = new DataView(new ArrayBuffer(ids.length * DESC_BYTES));
  const enc = new TextEncoder();
  let namePtr = DESC_BASE + ids.length * DESC_BYTES;
  const names: DataSegment[] = [];
  ids.forEach((ti, k) => {
    const t = graph.tensors[ti]!;
    const o = k * DESC_BYTES;
    table.setUint32(o, plan.tensorAddress.get(ti)!, true);
    table.setUint32(o + 4, byteLength(t), true);
    table.setInt32(o + 8, dtypeCode(t), true);
    table.setInt32(o + 12, t.shape.length, true);
    t.shape.slice(0, MAX_RANK).forEach((d, j) => table.setInt32(o + 16 + 4 * j, d, true));
    table.setFloat32(o + 48, t.quant?.scale[0] ?? 0, true);
    table.setInt32(o + 52, t.quant?.zeroPoint[0] ?? 0, true);
    table.setUint32(o + 56, namePtr, true);
    table.setInt32(o + 60, t.index, true);
    const name = enc.encode(t.name);
    const bytes = new Uint8Array(name.length + 1);
    bytes.set(name);
    names.push({ offset: namePtr, bytes });
    namePtr += bytes.length;
  });
  return [{ offset: DESC_BASE, bytes: new Uint8Array(table.buffer) }, ...names];
}

function ioFunctions(kind: 'input' | 'output', base: number, count: number): string {
  const d = `desc(${base}, ${count}, k)`;
  return `
export function ${kind}_count(): i32 { return ${count}; }
export function ${kind}_ptr(k: i32): usize { const d = ${d}; return d ? load<u32>(d) : 0; }
export function ${kind}_bytes(k: i32): u32 { const d = ${d}; return d ? load<u32>(d, 4) : 0; }
export function ${kind}_type(k: i32): i32 { const d = ${d}; return d ? load<i32>(d, 8) : -1; }
export function ${kind}_rank(k: i32): i32 { const d = ${d}; return d ? load<i32>(d, 12) : -1; }
export function ${kind}_dim(k: i32, i: i32): i32 {
  const d = ${d};
  return d && <u32>i < load<u32>(d, 12) ? load<i32>(d + (<usize>i << 2), 16) : -1;
}
export function ${kind}_scale(k: i32): f32 { const d = ${d}; return d ? load<f32>(d, 48) : 0; }
export function ${kind}_zero_point(k: i32): i32 { const d = ${d}; return d ? load<i32>(d, 52) : 0; }
export function ${kind}_name(k: i32): usize { const d = ${d}; return d ? load<u32>(d, 56) : 0; }
`;
}

/** Where the start function decodes a compressed memory image (see lz.ts). */
export interface Packed {
  /** Address of the compressed bytes (a data segment). */
  src: number;
  bytes: number;
  /** Output region [dst, dst + n). */
  dst: number;
  n: number;
  /** Bytes after the output region that held compressed data, zeroed after decoding. */
  margin: number;
}

// In-place decoder of the lz.ts format, run once by the start function. The compressed
// bytes end `margin` bytes after the output region, and the encoder checked that writing
// never overtakes reading.
function unpackSource(p: Packed): string {
  return `
function unpack(src: usize, end: usize, dst: usize): void {
  let i = src, o = dst;
  while (true) {
    const token = <u32>load<u8>(i++);
    let lit = <usize>(token >> 4);
    if (lit == 15) { let b: u32 = 255; while (b == 255) { b = load<u8>(i++); lit += b; } }
    memory.copy(o, i, lit);
    i += lit; o += lit;
    if (i >= end) break;
    const off = <usize>load<u16>(i);
    i += 2;
    let ml = <usize>(token & 15);
    if (ml == 15) { let b: u32 = 255; while (b == 255) { b = load<u8>(i++); ml += b; } }
    ml += 4;
    if (off >= ml) {
      memory.copy(o, o - off, ml);
      o += ml;
    } else {
      for (let k: usize = 0; k < ml; k++, o++) store<u8>(o, load<u8>(o - off));
    }
  }
}
unpack(${p.src}, ${p.src + p.bytes}, ${p.dst});
${p.margin ? `memory.fill(${p.dst + p.n}, 0, ${p.margin});` : ''}
`;
}

export interface EntryInfo {
  /** Kernel ids per family file that need a wrapper. */
  wrappers: Map<number, number[]>;
  source: string;
}

/** The generated entry file. */
export function entrySource(graph: Graph, plan: Plan, families: Map<number, FamilySource>, modelName: string, packed: Packed | null = null): EntryInfo {
  const layout = descriptorLayout(graph);
  const wrappers = new Map<number, number[]>();
  const imports = new Map<string, Set<string>>();
  const body: string[] = [];
  const use = (file: string, fn: string) => {
    if (!imports.has(file)) imports.set(file, new Set());
    imports.get(file)!.add(fn);
  };
  plan.ops.forEach((p, i) => {
    const fam = families.get(Math.floor(p.kernel / 100));
    const rec = p.address + 8;
    const what = `op #${p.op.index} ${p.op.opcode}`;
    if (!fam) throw new Error(`no kernel family for kernel id ${p.kernel} (${what})`);
    if (fam.cases.has(p.kernel)) {
      const list = wrappers.get(fam.family) ?? [];
      if (!list.includes(p.kernel)) list.push(p.kernel);
      wrappers.set(fam.family, list);
      use(fam.file, wrapperName(p.kernel));
      body.push(`  ${wrapperName(p.kernel)}(${rec}); // ${what}`);
    } else {
      // Kernel not found in the family switch: go through the family dispatcher.
      use(fam.file, fam.runFn);
      body.push(`  if (!${fam.runFn}(${p.kernel}, ${rec})) return ${i + 1}; // ${what}`);
    }
  });
  const reset = plan.variableInit.map(({ address, bytes }) => `  memory.fill(${address}, ${bytes[0] ?? 0}, ${bytes.length});`);
  const src = [
    `// Generated by kestrel compile from ${JSON.stringify(modelName).slice(1, -1).replace(/\*\//g, '* /')}; do not edit.`,
    `// ${plan.ops.length} ops; plan at ${plan.records.offset}, arena ${plan.arena.offset}..${plan.arena.offset + plan.arena.bytes}.`,
    ...[...imports].map(([file, fns]) => `import { ${[...fns].join(', ')} } from './${file}';`),
    '',
    '@inline function desc(base: usize, n: i32, k: i32): usize {',
    `  return <u32>k < <u32>n ? base + (<usize>k << ${Math.log2(DESC_BYTES)}) : 0;`,
    '}',
    '',
    '// Runs the model once. Returns 0, or 1 + the index of an op whose kernel was not found.',
    'export function invoke(): i32 {',
    ...body,
    '  return 0;',
    '}',
    '',
    '// Puts state tensors (LSTM and SVDF state) back to their initial value.',
    'export function reset(): void {',
    ...reset,
    '}',
    '',
    `export function abi_version(): i32 { return ${ABI_VERSION}; }`,
    `export function arena_bytes(): u32 { return ${plan.arena.bytes}; }`,
    `export function memory_bytes(): u32 { return ${plan.memoryBytes}; }`,
    `export function simd(): i32 { return ASC_FEATURE_SIMD ? 1 : 0; }`,
    ioFunctions('input', layout.inputsDesc, graph.inputs.length),
    ioFunctions('output', layout.outputsDesc, graph.outputs.length),
    ...(packed ? ['// Start function: decodes the compressed memory image in place.', unpackSource(packed)] : []),
  ].join('\n');
  return { wrappers, source: src };
}
