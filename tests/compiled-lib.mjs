// Conformance for ahead-of-time compiled modules (kestrel compile): every conformance
// case's model is compiled into its own standalone module, instantiated with no imports,
// run on the case's inputs and compared byte for byte with the reference outputs and with
// the interpreter (loadModel) on the same inputs.
//
// The AssemblyScript compiler takes a few seconds per model and runs one compilation at a
// time per process, so the cases are split into shards, one test file per shard, which
// ava runs in parallel processes. New conformance cases are picked up automatically.
import test from 'ava';
import { compileModel } from '../dist/compile/index.js';
import { loadCompiled, loadModel } from '../dist/runtime/index.js';
import { conformanceCases, firstDifference, readCase, REFERENCE_EXTRA } from './helpers.mjs';

export const SHARDS = 2;

export function allCases() {
  const cases = conformanceCases();
  const extra = conformanceCases(REFERENCE_EXTRA).map((c) => ({ ...c, suite: `extra-${c.suite}` }));
  return [...cases, ...extra];
}

/** Registers the compiled-module conformance tests of one shard. */
export function registerShard(shard) {
  const mine = allCases().filter((_, i) => i % SHARDS === shard);
  for (const c of mine) for (const backend of ['simd', 'scalar']) {
    test(`compiled ${c.suite}/${c.name} [${backend}]`, async (t) => {
      const { meta, model, inputs, outputs } = readCase(c.dir);
      const r = await compileModel(model, { name: `${c.suite}/${c.name}`, scalar: backend === 'scalar' });
      t.is(r.meta.backend, backend);
      // No imports: any standards-compliant engine can instantiate it.
      const { instance } = await WebAssembly.instantiate(r.wasm, {});
      t.is(instance.exports.abi_version(), 1);
      const m = await loadCompiled(r.wasm, { name: c.name });
      t.is(m.backend, backend);
      t.is(m.inputs.length, meta.inputs.length);
      t.is(m.outputs.length, meta.outputs.length);
      const got = m.run(inputs);
      const interp = await loadModel(model, { backend });
      const want = interp.run(inputs);
      got.forEach((o, k) => {
        const diff = firstDifference(meta.outputs[k].dtype, outputs[k], o);
        t.is(diff, null, `output ${k} vs reference: ${diff}`);
        t.deepEqual(Buffer.from(o.buffer), Buffer.from(want[k].buffer), `output ${k} vs interpreter`);
      });
      t.is(m.arenaBytes, interp.arenaBytes);
      interp.dispose();
      m.dispose();
    });
  }
}
