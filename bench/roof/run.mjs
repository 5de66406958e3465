#!/usr/bin/env node
// The int8 MAC/s roof of this machine's wasm SIMD, one thread (see roof.ts for what each
// variant does). Compiles bench/roof/roof.ts with asc into bench/.roof/ when the .wasm is
// missing or older than the source, then times every variant (best of several rounds of
// about --secs/rounds seconds each) and reports GMAC/s.
//
// Usage: node bench/roof/run.mjs [--json] [--secs S]
// As a module: measureRoof({ secs }) -> { roofGmacs, l1RoofGmacs, variants: [...] }.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeRoof } from './core.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const SRC = join(HERE, 'roof.ts');
const OUT_DIR = join(ROOT, 'bench', '.roof');
const WASM = join(OUT_DIR, 'roof.wasm');

export { VARIANTS } from './core.mjs';

/** Compiles roof.ts when needed; returns the wasm path. */
export function buildRoof() {
  if (existsSync(WASM) && statSync(WASM).mtimeMs >= statSync(SRC).mtimeMs) return WASM;
  mkdirSync(OUT_DIR, { recursive: true });
  const asc = join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  // Run from bench/roof so that the project's asconfig.json (the kernel module) is not picked up.
  execFileSync(process.execPath, [asc, 'roof.ts', '--outFile', WASM, '-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--use', 'abort='], { cwd: HERE, stdio: ['ignore', 'ignore', 'inherit'] });
  return WASM;
}

export async function measureRoof({ secs = 1.5, rounds = 5, log = () => {} } = {}) {
  const { instance } = await WebAssembly.instantiate(readFileSync(buildRoof()), {});
  return timeRoof(instance.exports, { secs, rounds, log });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const si = args.indexOf('--secs');
  const secs = si >= 0 ? Number(args[si + 1]) : 3;
  const r = await measureRoof({ secs, log: (s) => process.stderr.write(s + '\n') });
  if (json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    process.stdout.write('int8 wasm SIMD roof, one thread (int8 -> i16 widen, i32x4.dot_i16x8_s)\n');
    for (const v of r.variants) process.stdout.write(`  ${v.name.padEnd(6)} ${v.family.padEnd(10)} ${String(v.accumulators).padStart(2)} acc  ${v.gmacs.toFixed(1).padStart(6)} GMAC/s\n`);
    process.stdout.write(`roof: ${r.roofGmacs.toFixed(1)} GMAC/s (${r.roofVariant}); best with loads from L1: ${r.l1RoofGmacs.toFixed(1)} GMAC/s (${r.l1RoofVariant})\n`);
  }
}
