/** Seeded random model inputs, so every run (and every engine) sees the same data. */
import type { TensorInfo, TypedArray } from '../runtime/model.js';

// The same generator as the data loaders' shuffles (one implementation for the project).
import { mulberry32 } from '../data/random.js';
export { mulberry32 };

// [lowest value, number of values − 1], as in bench/vs-litert.mjs.
const RANGE: Record<string, [number, number] | undefined> = {
  int8: [-128, 255], uint8: [0, 255], int16: [-32768, 65535], int32: [-1000, 2000],
};

const CTOR: Record<string, { new (n: number): TypedArray } | undefined> = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array,
};

/**
 * One typed array per input, uniformly random over the dtype's full range (int32:
 * −1000…999, float32: −1…1), from one mulberry32 stream seeded with `seed`, inputs in order.
 */
export function randomInputs(inputs: TensorInfo[], seed: number): TypedArray[] {
  const rand = mulberry32(seed);
  return inputs.map((t) => {
    const C = CTOR[t.dtype];
    if (!C) throw new Error(`input '${t.name}' has type ${t.dtype}, for which no random input can be made`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const a = new C(n);
    const r = RANGE[t.dtype];
    for (let i = 0; i < n; i++) a[i] = r ? r[0] + Math.floor(rand() * (r[1] + 1)) : rand() * 2 - 1;
    return a;
  });
}
