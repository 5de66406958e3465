/**
 * How this engine computes the relaxed build's int8 dot product
 * (`i32x4.relaxed_dot_i8x16_i7x16_add_s`) when its second operand has the top bit set,
 * which the relaxed-SIMD proposal leaves to the engine: x86 engines read it as unsigned
 * (pairs of products summed with 16-bit saturation unless the CPU has AVX-VNNI), arm64
 * engines as signed (V8 22 sums pairs of products in 16 bits there, wrapping: exact
 * unless both products of a pair are -128 * -128). The relaxed build's GEMM picks its
 * weight layout from the answer (assembly/ops/conv-gemm.ts):
 *  - 1: split quads, two dot products per 16 products, exact on every engine;
 *  - 2: direct, second operand read as unsigned, exactly (pixels taken as x + 128);
 *  - 3: direct, second operand read as signed, exactly while no weight is -128 (so no
 *    pair of products leaves int16); an op with such a weight takes layout 1 or 0.
 * Layouts 2 and 3 take one dot product per 16 products. Their kernel reruns the probe at
 * every call, in the code that computes the sums, and falls back to an exact baseline
 * computation if the engine then answers otherwise (another compiler tier), so a wrong
 * choice here costs speed, never correctness.
 */
import type { KernelExports } from './wasm.js';

/** Layouts of the relaxed build's GEMM weights (word 32 of its record). */
export type RelaxedDot = 1 | 2 | 3;

/**
 * The probe: A (first operand, signed; no pair of -128 * -128 products, which layout 3
 * never meets), B (second operand: bytes with the top bit set, whose products saturate
 * 16-bit pairs when read as unsigned), C (accumulator; lanes 2 and 3 wrap past 2^31 under
 * the signed and the unsigned reading, as the kernels' int32 sums must).
 */
const PROBE = new Int8Array([
  127, 127, 127, 127, -128, -128, 127, 127, 127, -128, 127, -128, -128, 127, -1, 5,
  -1, -1, -1, -1, -1, -1, -128, -128, -128, -1, -1, -128, -128, -128, 7, -56,
]);
const PROBE_ACC = new Int32Array([5, -9, 0x7ffffff0, 0x7fffff00]);

/** The exact result of the probe with B read as unsigned (true) or signed (false). */
function exactProbe(unsigned: boolean): Int32Array {
  const out = new Int32Array(4);
  for (let lane = 0; lane < 4; lane++) {
    let s = PROBE_ACC[lane]!;
    for (let j = 0; j < 4; j++) {
      const b = PROBE[16 + lane * 4 + j]!;
      s = (s + PROBE[lane * 4 + j]! * (unsigned ? b & 255 : b)) | 0;
    }
    out[lane] = s;
  }
  return out;
}

const blobs = new Map<number, Uint8Array>();
/** A | B | C | the exact result for `layout` (2 or 3): 64 bytes, word 34 of a direct GEMM record. */
export function dotProbeBlob(layout: number): Uint8Array {
  let b = blobs.get(layout);
  if (!b) {
    b = new Uint8Array(64);
    b.set(new Uint8Array(PROBE.buffer), 0);
    b.set(new Uint8Array(PROBE_ACC.buffer), 32);
    b.set(new Uint8Array(exactProbe(layout === 2).buffer), 48);
    blobs.set(layout, b);
  }
  return b;
}

const measured = new WeakMap<WebAssembly.Module, RelaxedDot>();
/**
 * The layout this engine allows, measured once per kernel module on an instance of it
 * (`k` on `memory`, whose 64 bytes from heapBase are free; they are left as they were).
 */
export function relaxedDotLayout(module: WebAssembly.Module, k: Pick<KernelExports, 'heapBase' | 'relaxedDot'>, memory: WebAssembly.Memory): RelaxedDot {
  let m = measured.get(module);
  if (m === undefined) {
    m = 1;
    const at = (k.heapBase() + 15) & ~15;
    if (k.relaxedDot && at + 64 <= memory.buffer.byteLength) {
      const mem = new Uint8Array(memory.buffer, at, 64);
      const saved = mem.slice();
      mem.set(dotProbeBlob(2).subarray(0, 48));
      k.relaxedDot(at);
      const got = new Int32Array(memory.buffer, at + 48, 4);
      const same = (e: Int32Array) => e.every((v, i) => v === got[i]);
      if (same(exactProbe(true))) m = 2;
      else if (same(exactProbe(false))) m = 3;
      mem.set(saved);
    }
    measured.set(module, m);
  }
  return m;
}

/** The layout for a load option: 'auto' measures the engine; the others force one (tests, benchmarks). */
export function pickRelaxedDot(option: RelaxedDotOption | undefined, module: WebAssembly.Module,
  k: Pick<KernelExports, 'heapBase' | 'relaxedDot'>, memory: WebAssembly.Memory): RelaxedDot {
  switch (option ?? 'auto') {
    case 'split': return 1;
    case 'unsigned': return 2;
    case 'signed': return 3;
    default: return relaxedDotLayout(module, k, memory);
  }
}

export type RelaxedDotOption = 'auto' | 'split' | 'unsigned' | 'signed';
