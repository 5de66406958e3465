// The package's Node `import` entries (package.json exports, `node` condition): the ES
// module bundle dist/esm/ built by rollup.config.mjs. Checks that `kestrel` and
// `kestrel/runtime` resolve to it, export the same names as tsc's modules, share one copy
// of every class, and run real models bit-exactly against TFLite Micro's reference outputs.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { conformanceCases, firstDifference, readCase, REFERENCE_EXTRA } from './helpers.mjs';

test('kestrel and kestrel/runtime resolve to the ES module bundle in Node', (t) => {
  t.regex(fileURLToPath(import.meta.resolve('kestrel/runtime')), /dist[\\/]esm[\\/]runtime\.js$/);
  t.regex(fileURLToPath(import.meta.resolve('kestrel')), /dist[\\/]esm[\\/]index\.js$/);
});

test('the bundled entries export what the unbundled modules export, with one copy of each class', async (t) => {
  const [sdk, runtime, sdkTsc, runtimeTsc] = await Promise.all([
    import('kestrel'), import('kestrel/runtime'), import('../dist/index.js'), import('../dist/runtime/index.js'),
  ]);
  t.deepEqual(Object.keys(runtime).sort(), Object.keys(runtimeTsc).sort());
  t.deepEqual(Object.keys(sdk).sort(), Object.keys(sdkTsc).sort());
  t.is(sdk.KestrelError, runtime.KestrelError);
  t.is(sdk.loadModel, runtime.loadModel);
  const err = await runtime.loadModel(new Uint8Array(16)).catch((e) => e);
  t.true(err instanceof sdk.KestrelError);
  t.true(sdk.isKestrelError(err));
});

const picked = [
  ...conformanceCases().filter((c) => c.suite === 'real' && /^person_detect/.test(c.name)).slice(0, 1),
  ...conformanceCases(REFERENCE_EXTRA).filter((c) => /lstm/i.test(c.name)).slice(0, 1),
];

test('the bundle finds real cases to run', (t) => { t.is(picked.length, 2); });

for (const c of picked) {
  for (const backend of ['simd', 'scalar']) {
    test(`kestrel/runtime runs ${c.suite}/${c.name} [${backend}] bit-exactly`, async (t) => {
      const { loadModel } = await import('kestrel/runtime');
      const { meta, model, inputs, outputs } = readCase(c.dir);
      const m = await loadModel(model, { backend, name: c.name });
      const got = m.run(inputs);
      t.is(got.length, meta.outputs.length);
      got.forEach((o, k) => t.is(firstDifference(meta.outputs[k].dtype, outputs[k], o), null, `output ${k}`));
      m.dispose();
    });
  }
}
