// The int8 LOGISTIC / TANH tables: the kernel module builds them at load
// (assembly/ops/act-table.ts, export sigmoidTable8) and must give exactly the tables of
// the JavaScript fixed-point emulation (src/runtime/ops/activation.ts), which the
// conformance cases check against the reference kernels; plans made without an instance
// (the ahead-of-time compiler) still use the JavaScript.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFORMANCE, ROOT } from './helpers.mjs';
import { sigmoidRescale8, sigmoidTable8 } from '../dist/runtime/ops/activation.js';
import { loadModel } from '../dist/runtime/index.js';
import { hasSimd } from '../dist/runtime/wasm.js';

function instance(build) {
  const module = new WebAssembly.Module(readFileSync(join(ROOT, 'dist', 'wasm', `kestrel-${build}.wasm`)));
  return new WebAssembly.Instance(module, {}).exports;
}

// A deterministic generator (xorshift32), so a failure names a reproducible case.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

// Input scales over the whole supported range (log-uniform from 2^-30 to 2^4; the
// LSTM and sigmoid-head models here use 0.005–0.5), and every zero point.
function cases(n, seed) {
  const r = rng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const scale = Math.fround(2 ** (-30 + 34 * r()));
    const p = sigmoidRescale8(scale);
    if (!p) continue;
    out.push({ scale, zp: Math.floor(r() * 256) - 128, ...p });
  }
  // Edges: the smallest and largest shifts, multipliers at both ends, zero points at the ends.
  for (const scale of [2 ** -27, 2 ** -27 * 1.999999, 1 / 256, 1 / 128, 0.5, 15.9, 2 ** 4 - 2 ** -20]) {
    const p = sigmoidRescale8(Math.fround(scale));
    if (p) for (const zp of [-128, -1, 0, 1, 127]) out.push({ scale, zp, ...p });
  }
  return out;
}

for (const build of ['scalar', 'simd']) {
  (build === 'simd' && !hasSimd() ? test.skip : test)(`kestrel-${build}.wasm builds the same LOGISTIC and TANH tables as the JavaScript, on ${build === 'scalar' ? 3000 : 1500} quantization pairs`, (t) => {
    const k = instance(build);
    t.is(typeof k.sigmoidTable8, 'function');
    const all = cases(build === 'scalar' ? 3000 : 1500, build === 'scalar' ? 7 : 11);
    t.true(all.length > 1000);
    let saturatedOnly = 0;
    for (const c of all) {
      for (const kind of [0, 1]) {
        const want = sigmoidTable8(kind, c.zp, c.multiplier, c.shift, c.radius);
        const at = k.sigmoidTable8(kind, c.zp, c.multiplier, c.shift, c.radius);
        const got = new Uint8Array(k.memory.buffer, at, 256);
        for (let b = 0; b < 256; b++) {
          if (got[b] !== want[b]) {
            t.fail(`kind ${kind}, scale ${c.scale}, zp ${c.zp} (multiplier ${c.multiplier}, shift ${c.shift}): entry ${b} is ${got[b]}, JavaScript ${want[b]}`);
            return;
          }
        }
        if (new Set(want).size <= 2) saturatedOnly++;
      }
    }
    // Most cases exercise the fixed-point functions, not only the saturated ends.
    t.true(saturatedOnly < all.length, `${saturatedOnly} of ${2 * all.length} tables only saturate`);
  });
}

test('a model loaded next to a kernel instance gets its tables from the wasm: the same bytes as the JavaScript tables', async (t) => {
  let checked = 0;
  for (const name of ['logistic_00_1x16', 'logistic_03_1x7x3x5', 'tanh_00_1x16', 'tanh_01_1x4x4x8', 'tanh_03_1x7x3x5']) {
    const m = await loadModel(join(CONFORMANCE, 'ops', name, 'model.tflite'));
    for (const p of m.plan.ops) {
      const input = m.graph.tensors[p.op.inputs[0]];
      if ((p.op.opcode !== 'LOGISTIC' && p.op.opcode !== 'TANH') || input.dtype !== 'int8') continue;
      const r = sigmoidRescale8(input.quant.scale[0]);
      t.deepEqual(p.builder.constants[0].bytes, sigmoidTable8(p.op.opcode === 'LOGISTIC' ? 0 : 1, input.quant.zeroPoint[0], r.multiplier, r.shift, r.radius), name);
      checked++;
    }
    m.dispose();
  }
  t.true(checked >= 3, `${checked} int8 LOGISTIC / TANH ops checked`);
});
