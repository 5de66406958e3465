#!/usr/bin/env node
// Kernel timing: whole-model p50 latency and a per-op profile.
//
// Usage: node bench/kernels.mjs [--backend simd|scalar] [--runs N] [--no-profile]
//                               [--base DIST] [--only] [MODEL.tflite | CASE_DIR ...]
//
// With no model arguments it runs person_detect_random_0 and
// micro_speech_quantized_random_0 from tests/fixtures/conformance/real; any extra
// .tflite file or case folder is added to that list (--only: instead of them). Every model is first run once and,
// when its folder has output_<k>.bin, compared byte for byte with it (a mismatch is
// reported and the exit status is 1). Inputs come from input_<i>.bin when present,
// otherwise from a seeded generator over the dtype's full range.
//
// The per-op profile times each record on its own through the kernel module's
// invokeOne (the arena holds the activations of the last full run, so every op sees
// real data) and prints, per op: kernel id, shapes, p50 and min µs (of batches of 5
// calls) and GMAC/s at the min. On a busy machine the min is the steadier figure.
//
// --base DIST: A/B against another build of Kestrel (a copy of an earlier dist/ folder):
// the same model is loaded by both, the whole-model and per-op timings alternate between
// them in small batches (so machine noise hits both alike), and every line gets the base
// figure and the ratio new/base (< 1: faster now).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { loadModel } from '../dist/runtime/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REAL = join(ROOT, 'tests/fixtures/conformance/real');
const DEFAULTS = ['person_detect_random_0', 'micro_speech_quantized_random_0'].map((c) => join(REAL, c));

const args = process.argv.slice(2);
const opt = { backend: 'simd', runs: 300, profile: true, models: [], base: null, defaults: true };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--backend') opt.backend = args[++i];
  else if (a === '--runs') opt.runs = Number(args[++i]);
  else if (a === '--no-profile') opt.profile = false;
  else if (a === '--base') opt.base = resolve(args[++i]);
  else if (a === '--only') opt.defaults = false;
  else if (a === '-h' || a === '--help') {
    console.log('Usage: node bench/kernels.mjs [--backend simd|scalar] [--runs N] [--no-profile] [--base DIST] [--only] [MODEL.tflite | CASE_DIR ...]');
    process.exit(0);
  } else opt.models.push(a);
}
const models = [...(opt.defaults ? DEFAULTS : []), ...opt.models];
const baseRt = opt.base ? await import(pathToFileURL(join(opt.base, 'runtime/index.js')).href) : null;

const CTOR = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };

let seed = 12345;
function rnd() { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; }

function inputsFor(model, dir) {
  return model.inputs.map((t, i) => {
    const C = CTOR[t.dtype] ?? Uint8Array;
    const f = dir && join(dir, `input_${i}.bin`);
    if (f && existsSync(f)) {
      const b = readFileSync(f);
      return new C(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
    const bytes = new Uint8Array(t.bytes);
    for (let j = 0; j < bytes.length; j++) bytes[j] = rnd() & 255;
    if (t.dtype === 'float32') return new C(t.bytes / 4).fill(0);
    return new C(bytes.buffer);
  });
}

const p50 = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

function timeRuns(fn, runs, minMs) {
  const t = [];
  const start = performance.now();
  while (t.length < runs || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t;
}

// Times fns[j]() alternately in batches until each has `runs` samples and minMs passed;
// returns one array of per-call times (ms) per function.
function timeAlternating(fns, runs, minMs, batch = 1) {
  const ts = fns.map(() => []);
  const start = performance.now();
  while (ts[0].length < runs || performance.now() - start < minMs) {
    for (let j = 0; j < fns.length; j++) {
      const t0 = performance.now();
      for (let r = 0; r < batch; r++) fns[j]();
      ts[j].push((performance.now() - t0) / batch);
    }
  }
  return ts;
}

let failed = false;
for (const m of models) {
  const isDir = statSync(m).isDirectory();
  const file = isDir ? join(m, 'model.tflite') : m;
  const dir = isDir ? m : null;
  const model = await loadModel(file, { backend: opt.backend });
  const base = baseRt ? await baseRt.loadModel(file, { backend: opt.backend }) : null;
  const inputs = inputsFor(model, dir);
  const outs = model.run(inputs);
  let check = 'no reference';
  if (dir && existsSync(join(dir, 'output_0.bin'))) {
    let bad = 0;
    outs.forEach((o, k) => {
      const want = readFileSync(join(dir, `output_${k}.bin`));
      if (Buffer.compare(want, Buffer.from(o.buffer, o.byteOffset, o.byteLength)) !== 0) bad++;
    });
    check = bad ? `MISMATCH in ${bad} output(s)` : 'bit-exact vs reference';
    if (bad) failed = true;
  }
  if (base) {
    const bo = base.run(inputs);
    const same = bo.every((o, k) => Buffer.compare(Buffer.from(o.buffer, o.byteOffset, o.byteLength), Buffer.from(outs[k].buffer, outs[k].byteOffset, outs[k].byteLength)) === 0);
    check += same ? '; same outputs as base' : '; OUTPUTS DIFFER FROM BASE';
    if (!same) failed = true;
  }
  for (let i = 0; i < 30; i++) { model.run(inputs); base?.run(inputs); }
  const fns = [() => model.run(inputs)];
  if (base) fns.push(() => base.run(inputs));
  const [t, tb] = timeAlternating(fns, opt.runs, 1500);
  const name = isDir ? m.split('/').pop() : file.split('/').pop();
  const vs = tb ? ` (base p50 ${(p50(tb) * 1000).toFixed(1)} µs, min ${(Math.min(...tb) * 1000).toFixed(1)} µs; new/base p50 ${(p50(t) / p50(tb)).toFixed(3)})` : '';
  console.log(`\n${name} (${opt.backend}): p50 ${(p50(t) * 1000).toFixed(1)} µs, min ${(Math.min(...t) * 1000).toFixed(1)} µs over ${t.length} runs, ${(model.macs / 1e6).toFixed(2)} MMAC; ${check}${vs}`);
  if (!opt.profile) continue;
  const k = model.kernels;
  const ops = model.plan.ops;
  const tensors = model.graph.tensors;
  const shape = (i) => (i >= 0 ? `[${tensors[i].shape.join('x')}]` : '-');
  let total = 0, totalMin = 0, totalBase = 0;
  const rows = [];
  for (let i = 0; i < ops.length; i++) {
    const { op, kernel, macs, address } = ops[i];
    const reps = Math.max(20, Math.min(2000, Math.floor(3e6 / Math.max(macs, 1000))));
    const batch = 5;
    const one = [() => k.invokeOne(address)];
    if (base) {
      const bk = base.kernels, ba = base.plan.ops[i].address;
      one.push(() => bk.invokeOne(ba));
    }
    for (let r = 0; r < 5; r++) one.forEach((f) => f());
    const [ts, tsb] = timeAlternating(one, reps, 0, batch);
    const us = p50(ts) * 1000;
    const usMin = Math.min(...ts) * 1000;
    total += us;
    totalMin += usMin;
    let cmp = '';
    if (tsb) {
      const bMin = Math.min(...tsb) * 1000;
      totalBase += bMin;
      cmp = `  base min ${bMin.toFixed(1).padStart(7)}  new/base ${(usMin / bMin).toFixed(2)}`;
    }
    const extra = op.opcode === 'CONV_2D' || op.opcode === 'DEPTHWISE_CONV_2D'
      ? ` f${shape(op.inputs[1])} s${op.options.strideH}`
      : '';
    rows.push(`${String(i).padStart(3)} ${op.opcode.padEnd(18)} k${String(kernel).padEnd(4)} ${shape(op.inputs[0])}->${shape(op.outputs[0])}${extra}`.padEnd(86) +
      `${us.toFixed(1).padStart(8)} µs (min ${usMin.toFixed(1).padStart(7)}) ${macs ? (macs / usMin / 1000).toFixed(2).padStart(6) + ' GMAC/s at min' : ''.padStart(20)}${cmp}`);
  }
  console.log(rows.join('\n'));
  console.log(`sum of per-op p50: ${total.toFixed(1)} µs, of per-op min: ${totalMin.toFixed(1)} µs${base ? `; base sum of per-op min: ${totalBase.toFixed(1)} µs (new/base ${(totalMin / totalBase).toFixed(3)})` : ''}`);
}
process.exit(failed ? 1 : 0);
