// Robustness: mutated models (bit flips, truncation, huge dimensions, out-of-range
// offsets and indices, bad quantization arrays) either load and run or fail with a
// KestrelError — never another exception, a crash, or a run over 2 s.
// `node scripts/fuzz.mjs --count 2000` runs the long version.
import test from 'ava';
import { fuzz } from './fuzz-run.mjs';

const COUNT = Number(process.env.KESTREL_FUZZ_COUNT ?? 2000);

for (const backend of ['simd', 'scalar']) {
  test(`${COUNT} mutants of the conformance models fail cleanly or run [${backend}]`, async (t) => {
    const r = await fuzz({ count: COUNT, seed: backend === 'simd' ? 7 : 11, backend });
    t.log(`ran ${r.loadedAndRan}, rejected ${JSON.stringify(r.rejected)}, slowest ${r.slowest.ms.toFixed(0)} ms`);
    t.deepEqual(r.failures, []);
    t.is(r.total, COUNT);
  });
}
