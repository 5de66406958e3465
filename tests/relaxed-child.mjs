// Run by tests/relaxed.test.mjs in a Node process started with relaxed SIMD switched on:
// every conformance and reference-extra case and every case of tests/conv-cases.mjs on the
// relaxed-SIMD build (the conformance cases on one and on two threads), each compared with
// its reference; then all of them again with each direct layout forced (relaxedDot
// 'unsigned' and 'signed', one thread), which on an engine that does not compute that
// layout's product exactly runs its kernel's exact fallback. Prints one JSON line:
// { support, picked, cases, threadedCases, forcedCases, failures: [...], convCases, relaxedOps,
// directOps, int16Ops, floatOps }, where picked is the layout 'auto' chose here, relaxedOps
// counts the GEMM records (of the 'auto' runs) on the split layout (record word 32 = 1),
// directOps those on a direct one (2 or 3), floatOps those with the float32 output stage
// (word 33 a constant).
import { createModel, loadModel, relaxedSupport } from '../dist/runtime/index.js';
import { conformanceCases, firstDifference as describe, readCase, REFERENCE_EXTRA } from './helpers.mjs';
import { allCases, firstDifference } from './conv-cases.mjs';

const support = relaxedSupport();
const out = { support, picked: null, cases: 0, threadedCases: 0, forcedCases: 0, failures: [], convCases: 0, relaxedOps: 0, directOps: 0, int16Ops: 0, floatOps: 0 };

/** Counts the GEMM records (kernel 101 with 35 words) by their layout and output stage. */
function countLayouts(model) {
  out.picked = model.relaxedDot;
  for (const p of model.plan.ops) {
    const words = p.builder.words;
    if (p.kernel !== 101 || words.length !== 35) continue;
    if (words[32].v === 1) out.relaxedOps++;
    else if (words[32].v >= 2) out.directOps++;
    else out.int16Ops++;
    if (words[33].k === 'const') out.floatOps++;
  }
}

/** Runs case c on the relaxed build with these load options; failures go to out.failures. */
async function checkCase(c, label, options, seen) {
  const { meta, model, inputs, outputs } = readCase(c.dir);
  try {
    const m = await loadModel(model, { ...options, backend: 'relaxed', name: label });
    seen?.(m);
    m.run(inputs).forEach((g, k) => {
      const d = describe(meta.outputs[k].dtype, outputs[k], g);
      if (d) out.failures.push(`${label} output ${k}: ${d}`);
    });
    m.dispose();
  } catch (e) {
    out.failures.push(`${label}: ${e.message}`);
  }
}

if (support.ok) {
  const cases = [...conformanceCases(), ...conformanceCases(REFERENCE_EXTRA)];
  for (const c of cases) {
    // One thread, then two (the relaxed threads build: split ops give every output element
    // to one thread, so the bits stay the same).
    out.cases++;
    await checkCase(c, `${c.suite}/${c.name}`, { threads: 1 }, countLayouts);
    out.threadedCases++;
    await checkCase(c, `${c.suite}/${c.name} (2 threads)`, { threads: 2 });
  }
  for (const spec of allCases()) {
    out.convCases++;
    const at = await firstDifference(createModel, spec, 'relaxed');
    if (at !== -1) out.failures.push(`${spec.name}: first difference at ${at}`);
  }
  for (const relaxedDot of ['unsigned', 'signed']) {
    for (const c of cases) {
      out.forcedCases++;
      const label = `${c.suite}/${c.name} (relaxedDot ${relaxedDot})`;
      await checkCase(c, label, { relaxedDot }, (m) => {
        if (m.relaxedDot !== relaxedDot) out.failures.push(`${label}: the model reports relaxedDot ${m.relaxedDot}`);
      });
    }
    for (const spec of allCases()) {
      const at = await firstDifference(createModel, spec, 'relaxed', 7, { relaxedDot });
      if (at !== -1) out.failures.push(`${spec.name} (relaxedDot ${relaxedDot}): first difference at ${at}`);
    }
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
