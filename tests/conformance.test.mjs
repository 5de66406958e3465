// Bit-exactness against TFLite Micro's reference kernels.
//
// Walks tests/fixtures/conformance (a copy of the project's conformance suites: real,
// seanet, ops) and runs every case on both kernel builds; every output must match the
// reference byte for byte. A case that cannot load or run fails; nothing is skipped.
//
// tests/fixtures/reference-extra holds more published models with TFLite Micro outputs
// (SVDF, stacked LSTMs, MobileNet v2); they run the same way.
//
// To add a case: put a folder with model.tflite, input_<k>.bin, output_<k>.bin and
// case.json (see tests/fixtures/conformance/README.md) under a suite folder and list
// its name in index.json. The test picks it up.
import test from 'ava';
import { loadModel } from '../dist/runtime/index.js';
import { conformanceCases, firstDifference, readCase, REFERENCE_EXTRA } from './helpers.mjs';

const cases = conformanceCases();
const extra = conformanceCases(REFERENCE_EXTRA).map((c) => ({ ...c, suite: `extra-${c.suite}` }));

test('the conformance index lists the three suites', (t) => {
  const suites = new Set(cases.map((c) => c.suite));
  t.deepEqual([...suites].sort(), ['ops', 'real', 'seanet']);
  t.true(cases.length >= 150);
});

for (const c of [...cases, ...extra]) {
  for (const backend of ['simd', 'scalar']) {
    test(`${c.suite}/${c.name} [${backend}]`, async (t) => {
      const { meta, model, inputs, outputs } = readCase(c.dir);
      const m = await loadModel(model, { backend, name: `${c.suite}/${c.name}` });
      t.is(m.inputs.length, meta.inputs.length);
      t.is(m.outputs.length, meta.outputs.length);
      const got = m.run(inputs);
      got.forEach((o, k) => {
        const diff = firstDifference(meta.outputs[k].dtype, outputs[k], o);
        t.is(diff, null, `output ${k}: ${diff}`);
      });
      m.dispose();
    });
  }
}
