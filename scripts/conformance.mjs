// Runs every conformance and extra reference case and compares outputs byte for byte,
// without the test runner (for other engines and emulated CPUs, e.g. ARM64 Node under qemu).
// Usage: node [--expose-gc] scripts/conformance.mjs [--backend simd|scalar|relaxed|all] [--require-relaxed]
//          [--relaxed-dot auto|split|unsigned|signed] [--quiet]
// `all` is simd and scalar, and relaxed where this engine runs the relaxed-SIMD build;
// --require-relaxed fails when it cannot; --relaxed-dot forces the relaxed build's dot
// layout (LoadOptions.relaxedDot; default auto).
import { loadModel, relaxedSupport } from '../dist/runtime/index.js';
import { conformanceCases, firstDifference, readCase, REFERENCE_EXTRA } from '../tests/helpers.mjs';

const args = process.argv.slice(2);
const which = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'all';
const relaxed = relaxedSupport();
if (args.includes('--require-relaxed') && !relaxed.ok) {
  console.log(`${process.arch} node ${process.version}: the relaxed build cannot run here: ${relaxed.reason}`);
  process.exit(1);
}
const backends = which === 'all' ? ['simd', 'scalar', ...(relaxed.ok ? ['relaxed'] : [])] : [which];
const quiet = args.includes('--quiet');
const dotAt = args.indexOf('--relaxed-dot');
const relaxedDotOption = dotAt >= 0 ? args[dotAt + 1] : 'auto';
const cases = [...conformanceCases(), ...conformanceCases(REFERENCE_EXTRA).map((c) => ({ ...c, suite: `extra-${c.suite}` }))];
let passed = 0, failed = 0;
// The layout the relaxed build's convolutions took here (src/runtime/relaxed-dot.ts).
const relaxedDot = new Set();
const t0 = Date.now();
for (const c of cases) {
  const { meta, model, inputs, outputs } = readCase(c.dir);
  for (const backend of backends) {
    let problem = null;
    try {
      const m = await loadModel(model, { backend, name: c.name, relaxedDot: relaxedDotOption });
      if (m.relaxedDot) relaxedDot.add(m.relaxedDot);
      const got = m.run(inputs);
      got.forEach((o, k) => { const d = firstDifference(meta.outputs[k].dtype, outputs[k], o); if (d && !problem) problem = `output ${k}: ${d}`; });
      m.dispose();
    } catch (e) {
      problem = String(e?.message ?? e);
    }
    if (problem) { failed++; console.log(`FAIL ${c.suite}/${c.name} [${backend}]: ${problem}`); }
    else { passed++; if (!quiet) console.log(`ok   ${c.suite}/${c.name} [${backend}]`); }
  }
  // A disposed model's WebAssembly.Memory is freed only by garbage collection. Under
  // qemu-user every live memory's address-space reservation also costs the emulator real
  // memory, so with --expose-gc the memories are collected after every case.
  globalThis.gc?.();
}
console.log(`${process.arch} node ${process.version}: ${cases.length} cases × ${backends.length} backend(s) (${backends.join(', ')}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed${relaxedDot.size ? ` (relaxed build's dot layout: ${[...relaxedDot].join(', ')})` : ''}`);
process.exit(failed ? 1 : 0);
