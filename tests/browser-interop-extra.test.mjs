// tfjs-tflite interop (see tests/browser-interop.test.mjs) for the int16 SEANet layers of the
// conformance set and the further reference models of tests/fixtures/reference-extra (LSTMs,
// MobileNet v2 224): outputs within 1 LSB of Kestrel, or — MobileNet v2, whose outputs drift
// apart through 70 layers — every op within 1 LSB from identical inputs.
import test from 'ava';
import { allConformanceCases, runChromiumTests } from './browser-lib.mjs';
import { ctx, runCaseSet, start, stop } from './browser-interop-lib.mjs';

const browserTest = runChromiumTests ? test.serial : test.skip;
test.before(async () => { if (runChromiumTests) await start(); });
test.after.always(stop);

browserTest('the int16 SEANet layers in tfjs-tflite: within 1 LSB of Kestrel', async (t) => {
  const cases = allConformanceCases().filter((c) => c.id.startsWith('seanet/'));
  t.true(cases.length >= 40);
  const r = await runCaseSet(cases);
  t.deepEqual(r.problems, []);
  t.is(r.exact + r.within1, cases.length);
  t.log(`${cases.length} cases: ${r.exact} identical, ${r.within1} within 1 LSB (${r.within1Ids.join(', ') || 'none'}); elements identical ${r.elementsExact}/${r.elements}`);
  t.log(`  output shape folded into a constant (tfjs-tflite reads a dynamic TRANSPOSE_CONV output from the wrong buffer): ${r.folded.join(', ')}`);
  t.deepEqual(ctx.errors, []);
});

browserTest('the further reference models (LSTMs, MobileNet v2) in tfjs-tflite: within 1 LSB of Kestrel, or every op within 1 LSB', async (t) => {
  // dtln_noise_suppression is left out: tfjs-tflite's LSTM uses the hidden state's zero point
  // with the wrong sign there (its outputs match a float recomputation only with the sign
  // flipped; see the project's notes on rivals), so it is no oracle for that model.
  const cases = allConformanceCases().filter((c) => c.id.startsWith('extra-') && !c.id.includes('dtln'));
  t.true(cases.length >= 9);
  const r = await runCaseSet(cases, { isolate: true });
  t.deepEqual(r.problems, []);
  t.is(r.exact + r.within1 + r.wider.length, cases.length);
  t.log(`${cases.length} cases: ${r.exact} identical, ${r.within1} within 1 LSB, ${r.wider.length} further apart with every op within 1 LSB from the same inputs; elements identical ${r.elementsExact}/${r.elements}`);
  for (const w of r.wider) t.log(`  ${w}`);
  t.deepEqual(ctx.errors, []);
});
