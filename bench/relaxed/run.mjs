#!/usr/bin/env node
// Times bench/relaxed/probe.ts (see there) in headless Chromium and in Node with relaxed
// SIMD switched on, and prints int8 GMAC/s of the baseline sequence, the exact (split)
// relaxed form and the direct, non-portable relaxed form.
//
// Usage: node bench/relaxed/run.mjs [--secs S] [--json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArgs } from '../lib/args.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const SRC = join(HERE, 'probe.ts');
const WASM = join(ROOT, 'bench', '.roof', 'relaxed.wasm');
const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';
/** Effective int8 multiply-accumulates per loop iteration of each variant. */
const MACS = { base: 128, split: 64, direct: 128 };

function build() {
  if (existsSync(WASM) && statSync(WASM).mtimeMs >= statSync(SRC).mtimeMs) return;
  mkdirSync(dirname(WASM), { recursive: true });
  const asc = join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  execFileSync(process.execPath, [asc, 'probe.ts', '--outFile', WASM, '-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd,relaxed-simd', '--initialMemory', '1', '--use', 'abort='], { cwd: HERE, stdio: ['ignore', 'ignore', 'inherit'] });
}

// Runs in the page or in Node: best of `rounds` timings of each variant, GMAC/s.
function timeAll(bytes, secs, macs) {
  const { exports: e } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  e.fill(3);
  const out = {};
  for (const name of Object.keys(macs)) {
    let iters = 1 << 16;
    for (;;) {
      const t = performance.now();
      e[name](iters, 5);
      if (performance.now() - t > 20) break;
      iters *= 2;
    }
    let best = 0;
    const end = performance.now() + secs * 1000;
    while (performance.now() < end) {
      const t = performance.now();
      e[name](iters, 5);
      const g = (iters * macs[name]) / ((performance.now() - t) * 1e6);
      if (g > best) best = g;
    }
    out[name] = best;
  }
  return out;
}

async function inChromium(bytes, secs) {
  if (!existsSync(CHROMIUM)) return { error: `${CHROMIUM} not found` };
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><title>relaxed</title>');
    return await page.evaluate(
      ({ src, b64, secs, macs }) => {
        const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        // eslint-disable-next-line no-new-func
        return new Function('return ' + src)()(bin, secs, macs);
      },
      { src: timeAll.toString(), b64: Buffer.from(bytes).toString('base64'), secs, macs: MACS },
    );
  } catch (e) {
    return { error: String(e.message ?? e).split('\n')[0] };
  } finally {
    await browser.close();
  }
}

function inNode(secs) {
  // Node 20 validates relaxed SIMD only behind a flag; --no-liftoff avoids its baseline
  // compiler's wrong relaxed dot (docs/performance.md).
  try {
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--no-liftoff', fileURLToPath(import.meta.url), '--child', String(secs)], { encoding: 'utf8' });
    return JSON.parse(out);
  } catch (e) {
    return { error: String(e.message ?? e).split('\n')[0] };
  }
}

if (process.argv[2] === '--child') {
  process.stdout.write(JSON.stringify(timeAll(readFileSync(WASM), Number(process.argv[3]), MACS)));
} else {
  const HELP = 'Usage: node bench/relaxed/run.mjs [--secs S] [--json]\n\nint8 GMAC/s of the baseline SIMD dot, the exact (split) relaxed dot and the direct\nrelaxed dot, in headless Chromium and in Node with relaxed SIMD switched on.\n';
  const opts = { secs: 1, json: false };
  readArgs(process.argv.slice(2), 'relaxed', HELP, (flag, r) => {
    if (flag === '--secs') opts.secs = r.num(0.05);
    else if (flag === '--json') opts.json = true;
    else r.usage(`unknown option ${r.arg}`);
  });
  build();
  const bytes = readFileSync(WASM);
  const res = { chromium: await inChromium(bytes, opts.secs), node: inNode(opts.secs) };
  if (opts.json) console.log(JSON.stringify(res, null, 2));
  else {
    console.log('int8 GMAC/s, one thread, operands in registers (best of repeated timings)');
    console.log('engine     base (i16 dot)  split (exact relaxed)  direct (non-portable relaxed)');
    for (const [eng, r] of Object.entries(res)) {
      if (r.error) console.log(`${eng.padEnd(10)} unavailable: ${r.error}`);
      else console.log(`${eng.padEnd(10)} ${r.base.toFixed(1).padStart(14)}  ${r.split.toFixed(1).padStart(21)}  ${r.direct.toFixed(1).padStart(29)}`);
    }
  }
}
