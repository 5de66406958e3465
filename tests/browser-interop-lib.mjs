// Shared by the tfjs-tflite interop tests (tests/browser-interop*.test.mjs): a Chromium page
// with @tensorflow/tfjs-tflite 0.0.1-alpha.10 loaded, and the comparison of Kestrel (Node) with
// it — whole models, and op by op where a whole model's outputs are more than 1 LSB apart.
//
// tfjs-tflite facts these rely on (all observed with this version):
//  - int8/int16/uint8 inputs go in as int32 tfjs tensors (tfjs-core has no int8 dtype;
//    TFLiteModel.predict converts them, with a console warning); outputs come back as int32.
//  - It refuses person_detect's rank-1 biases with quantized_dimension 3; those files get the
//    same semantically neutral repair as for LiteRT.js (repairForLiteRt, src/bench/tflite-patch.ts).
//  - After some models its heap is corrupted (later loads in the same page fail with "memory
//    access out of bounds", also when models are released with modelRunner.cleanUp); each of
//    those models runs in a fresh page.
import { readTflite } from '../dist/tflite/reader.js';
import { writeTflite } from '../dist/tflite/writer.js';
import { loadModel } from '../dist/runtime/index.js';
import { repairForLiteRt } from '../dist/bench/tflite-patch.js';
import { readCase } from './helpers.mjs';
import { BLANK, launchChromium, serveRoot, withTimeout } from './browser-lib.mjs';

const TFJS = '/node_modules/@tensorflow';
export const b64 = (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');

/** The browser, server and current page the functions below use (set by start()). */
export const ctx = {};

/** A page with tfjs-core, its CPU backend and tfjs-tflite loaded, and functions on window to load, run and compare models. */
export async function tflitePage(browser, base) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base + BLANK);
  for (const s of [`${TFJS}/tfjs-core/dist/tf-core.min.js`, `${TFJS}/tfjs-backend-cpu/dist/tf-backend-cpu.min.js`, `${TFJS}/tfjs-tflite/dist/tf-tflite.min.js`]) await page.addScriptTag({ url: s });
  const env = await page.evaluate(async (wasmPath) => {
    tflite.setWasmPath(wasmPath);
    // Load a model into tfjs-tflite and run it: int8/int16/uint8 inputs go in as int32
    // tensors (tfjs-core has no int8 dtype; TFLiteModel.predict converts them), outputs come
    // back as int32 (or float32) tensors.
    const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    const C = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };
    const models = new Map();
    window.tfliteLoad = async (id, modelB64) => {
      const m = await tflite.loadTFLiteModel(bytes(modelB64).buffer, { numThreads: 1 });
      models.set(id, m);
      return { inputs: m.inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })), outputs: m.outputs.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype })) };
    };
    window.tfliteRun = (id, inputs) => {
      const m = models.get(id);
      const xs = inputs.map(({ dtype, shape, data }) => {
        const a = new C[dtype](bytes(data).buffer);
        return dtype === 'float32' ? tf.tensor(a, shape, 'float32') : tf.tensor(Int32Array.from(a), shape, 'int32');
      });
      const out = m.predict(xs.length === 1 ? xs[0] : xs);
      // One output comes back as a tensor, several as a map keyed by output name.
      const list = out instanceof tf.Tensor ? [out] : m.outputs.map((t) => out[t.name]);
      const r = list.map((t) => Array.from(t.dataSync()));
      tf.dispose([...xs, ...list]);
      return r;
    };
    // Runs and compares in the page, for large activations: per run { n, exact, max } against
    // `expected`. It fills and reads TFLite's own input and output buffers (the runner under
    // TFLiteModel.predict) to skip the int32 tensors in between.
    window.tfliteCompare = (id, runs) => runs.map(({ inputs, expected }) => {
      const runner = models.get(id).modelRunner;
      runner.getInputs().forEach((t, i) => t.data().set(new C[inputs[i].dtype](bytes(inputs[i].data).buffer)));
      if (!runner.infer()) throw new Error('tfjs-tflite: inference failed');
      const outs = runner.getOutputs();
      let n = 0, exact = 0, max = 0;
      expected.forEach(({ dtype, data }, k) => {
        const w = new C[dtype](bytes(data).buffer);
        const g = outs[k].data();
        if (w.length !== g.length) throw new Error(`output ${k}: ${g.length} elements, expected ${w.length}`);
        for (let i = 0; i < w.length; i++) { const d = Math.abs(w[i] - g[i]); n++; if (!d) exact++; else if (d > max) max = d; }
      });
      return { n, exact, max };
    });
    // Models stay loaded until the page goes: releasing them (modelRunner.cleanUp) does not
    // keep tfjs-tflite's heap sound either, and once crashed in the destructor.
    window.tfliteFree = (id) => { models.delete(id); };
    return { tf: tf.version_core, features: await tflite.getWasmFeatures(), backend: tf.getBackend() };
  }, `${TFJS}/tfjs-tflite/wasm/`);
  // tfjs-tflite warns on every int32 → int8 input conversion; that is expected.
  return { page, errors, env };
}

/** Starts the server, Chromium and a tfjs-tflite page. */
export async function start() {
  ctx.srv = await serveRoot();
  ctx.browser = await launchChromium();
  Object.assign(ctx, await tflitePage(ctx.browser, ctx.srv.base));
  ctx.current = ctx.page;   // the page tfliteOutputs runs in
}

export async function stop() {
  await ctx.browser?.close();
  await ctx.srv?.close();
}

/** Element-wise comparison: { n, exact, max } over all outputs. */
export function agreement(want, got) {
  let n = 0, diff = 0, max = 0;
  want.forEach((w, k) => {
    if (w.length !== got[k].length) throw new Error(`output ${k}: ${got[k].length} elements, expected ${w.length}`);
    for (let i = 0; i < w.length; i++) { const d = Math.abs(w[i] - got[k][i]); n++; if (d) diff++; max = Math.max(max, d); }
  });
  return { n, exact: n - diff, max };
}

/** Runs `bytes` on each input list in tfjs-tflite (browser); returns the outputs per input list. */
export async function tfliteOutputs(id, bytes, inputInfos, inputLists) {
  const got = await withTimeout(ctx.current.evaluate(async ({ id, m, runs }) => {
    try { await window.tfliteLoad(id, m); return runs.map((ins) => window.tfliteRun(id, ins)); } catch (e) { return { error: String(e?.message ?? e) }; } finally { window.tfliteFree(id); }
  }, { id, m: b64(repairForLiteRt(bytes).bytes), runs: inputLists.map((ins) => inputInfos.map((ti, i) => ({ dtype: ti.dtype, shape: ti.shape, data: b64(ins[i]) }))) }), 60_000, `tfjs-tflite on ${id}`);
  if (got.error) throw new Error(`${id}: tfjs-tflite failed: ${got.error}`);
  return got;
}

/** A file holding only `ops` of graph `g` and the tensors they use, with the given inputs and outputs. */
export function subgraphFile(g, ops, inputs, outputs) {
  const used = [...new Set([...inputs, ...outputs, ...ops.flatMap((o) => [...o.inputs, ...o.outputs, ...o.intermediates])])].filter((i) => i >= 0).sort((a, b) => a - b);
  const at = new Map(used.map((ti, i) => [ti, i]));
  const re = (ti) => (ti < 0 ? ti : at.get(ti));
  return writeTflite({
    ...g,
    tensors: used.map((ti, i) => ({ ...g.tensors[ti], index: i })),
    ops: ops.map((o, n) => ({ ...o, index: n, inputs: o.inputs.map(re), outputs: o.outputs.map(re), intermediates: o.intermediates.map(re) })),
    inputs: inputs.map(re),
    outputs: outputs.map(re),
  });
}

/**
 * Op by op: every op of `bytes` alone, fed in both engines with Kestrel's values of its
 * inputs (Kestrel's run of the file with every activation made an output). Returns, per op
 * type, the largest difference and how many output elements were compared / identical.
 * Ops that agree within 1 LSB from the same inputs explain larger whole-model differences
 * as one-step rounding differences carried through the layers.
 */
export async function opByOp(id, bytes, inputLists) {
  const g = readTflite(bytes);
  const produced = [...new Set(g.ops.flatMap((o) => o.outputs))];
  const all = await loadModel(writeTflite({ ...g, outputs: produced }), { name: `${id} activations` });
  const acts = inputLists.map((ins) => {
    const outs = all.run(ins);
    const m = new Map(g.inputs.map((ti, i) => [ti, ins[i]]));
    produced.forEach((ti, i) => m.set(ti, outs[i]));
    return m;
  });
  const perType = {};
  const problems = [];
  for (const [n, op] of g.ops.entries()) {
    const ins = op.inputs.filter((ti) => ti >= 0 && !g.tensors[ti].data && !g.tensors[ti].isVariable);
    const one = subgraphFile(g, [op], ins, op.outputs);
    const dt = (ti) => g.tensors[ti].dtype;
    const runs = acts.map((a) => ({
      inputs: ins.map((ti) => ({ dtype: dt(ti), shape: g.tensors[ti].shape, data: b64(a.get(ti)) })),
      expected: op.outputs.map((ti) => ({ dtype: dt(ti), data: b64(a.get(ti)) })),
    }));
    const what = `${id} op ${n} ${op.opcode}`;
    const got = await withTimeout(ctx.current.evaluate(async ({ id, m, runs }) => {
      try { await window.tfliteLoad(id, m); return window.tfliteCompare(id, runs); } catch (e) { return { error: String(e?.message ?? e) }; } finally { window.tfliteFree(id); }
    }, { id: what, m: b64(one), runs }), 60_000, `tfjs-tflite on ${what}`);
    if (got.error) throw new Error(`${what}: tfjs-tflite failed: ${got.error}`);
    const st = (perType[op.opcode] ??= { ops: 0, max: 0, elements: 0, exact: 0 });
    st.ops++;
    got.forEach((r) => {
      st.max = Math.max(st.max, r.max); st.elements += r.n; st.exact += r.exact;
      if (r.max > 1) problems.push(`${id} op ${n} ${op.opcode}: ${r.max} LSB apart from the same inputs`);
    });
  }
  return { perType, problems };
}

/**
 * Compares Kestrel (Node) and tfjs-tflite (Chromium) on one model and a list of input lists.
 * Where an output differs by more than 1 LSB, every op is checked alone from identical
 * inputs (opByOp); each must agree within 1 LSB.
 */
export async function compareEngines(id, bytes, inputInfos, inputLists) {
  const k = await loadModel(bytes, { name: id });
  const want = inputLists.map((ins) => k.run(ins).map((o) => Array.from(o)));
  const got = await tfliteOutputs(id, bytes, inputInfos, inputLists);
  const r = { runs: inputLists.length, runsExact: 0, max: 0, elements: 0, elementsExact: 0, wide: 0, perOp: null, problems: [] };
  const wide = [];
  want.forEach((w, j) => {
    const a = agreement(w, got[j]);
    r.elements += a.n; r.elementsExact += a.exact; r.max = Math.max(r.max, a.max);
    if (a.max === 0) r.runsExact++;
    if (a.max > 1) wide.push(j);
  });
  r.wide = wide.length;
  if (!wide.length) return r;
  const ops = await opByOp(id, bytes, wide.map((j) => inputLists[j]));
  r.perOp = ops.perType;
  r.problems.push(...ops.problems);
  return r;
}

export const fmtOps = (perType) => Object.entries(perType).map(([op, s]) => `${op}×${s.ops} max ${s.max} (${s.exact}/${s.elements} identical)`).join(', ');

/**
 * tfjs-tflite reads the result of a TRANSPOSE_CONV whose output shape is a model input from
 * a buffer TFLite did not write (the output tensor is dynamic then): zeros in a fresh
 * runtime, leftovers of earlier models otherwise. With the same shape as a constant it
 * computes the right values. For such a case
 * the shape input is folded into a constant holding the case's value — the same
 * computation for that input. Returns the folded { model, infos, inputs } or null.
 */
export function foldShapeInputs(model, infos, inputs) {
  const g = readTflite(model);
  const shapeInputs = g.ops.filter((o) => o.opcode === 'TRANSPOSE_CONV' && g.inputs.includes(o.inputs[0])).map((o) => g.inputs.indexOf(o.inputs[0]));
  if (!shapeInputs.length) return null;
  const keep = g.inputs.map((_, i) => i).filter((i) => !shapeInputs.includes(i));
  const tensors = g.tensors.map((t, ti) => {
    const i = g.inputs.indexOf(ti);
    return shapeInputs.includes(i) ? { ...t, data: new Uint8Array(inputs[i].buffer.slice(inputs[i].byteOffset, inputs[i].byteOffset + inputs[i].byteLength)) } : t;
  });
  return { model: writeTflite({ ...g, tensors, inputs: keep.map((i) => g.inputs[i]) }), infos: keep.map((i) => infos[i]), inputs: keep.map((i) => inputs[i]) };
}

/**
 * Runs cases through compareEngines. `isolate`: each case in a page of its own — after some
 * models tfjs-tflite's heap is corrupted and later loads in the same page fail ("memory access
 * out of bounds"), whereas each of them loads and runs in a fresh page.
 */
export async function runCaseSet(cases, { isolate = false } = {}) {
  const total = { cases: cases.length, exact: 0, within1: 0, within1Ids: [], wider: [], folded: [], elements: 0, elementsExact: 0, problems: [] };
  for (const c of cases) {
    let { meta, model, inputs } = readCase(c.dir);
    let infos = meta.inputs;
    const folded = foldShapeInputs(model, infos, inputs);
    if (folded) {
      // Evidence for the fold: the file as it is gives wrong values in tfjs-tflite, and the
      // folded file gives Kestrel the same output as the original.
      const k0 = (await loadModel(model)).run(inputs)[0];
      const k1 = (await loadModel(folded.model)).run(folded.inputs)[0];
      const [dyn] = await tfliteOutputs(`${c.id} (shape input)`, model, infos, [inputs]);
      if (agreement([Array.from(k0)], [Array.from(k1)]).max !== 0) total.problems.push(`${c.id}: folding the shape input changed Kestrel's output`);
      if (agreement([Array.from(k0)], [dyn[0]]).max <= 1) total.problems.push(`${c.id}: tfjs-tflite agrees with the shape as an input; the fold is not needed`);
      ({ model, infos, inputs } = folded);
      total.folded.push(c.id.replace(/^[^/]+\//, ''));
    }
    let r, fresh;
    try {
      if (isolate) ctx.current = (fresh = await tflitePage(ctx.browser, ctx.srv.base)).page;
      r = await compareEngines(c.id, model, infos, [inputs]);
    } catch (e) {
      total.problems.push(String(e.message)); continue;
    } finally {
      if (fresh) { ctx.errors.push(...fresh.errors); await fresh.page.close(); ctx.current = ctx.page; }
    }
    total.elements += r.elements; total.elementsExact += r.elementsExact;
    total.problems.push(...r.problems);
    if (r.max === 0) total.exact++; else if (r.max <= 1) { total.within1++; total.within1Ids.push(c.id.replace(/^[^/]+\//, '')); } else total.wider.push(`${c.id} (${r.max} LSB; op by op: ${fmtOps(r.perOp)})`);
  }
  return total;
}
