// Long fuzz run: node scripts/fuzz.mjs [--count N] [--seed S] [--backend simd|scalar]
import { fuzz } from '../tests/fuzz-run.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const count = Number(arg('count', 2000));
const seed = Number(arg('seed', 1));
const backend = arg('backend', 'simd');
const t0 = Date.now();
const r = await fuzz({
  count, seed, backend,
  onProgress: (i, n) => { if (process.stderr.isTTY && (i % 20 === 0 || i === n)) process.stderr.write(`\r${i}/${n}`); },
});
if (process.stderr.isTTY) process.stderr.write('\n');
console.log(JSON.stringify({ count, seed, backend, seconds: (Date.now() - t0) / 1000, loadedAndRan: r.loadedAndRan, rejected: r.rejected, slowest: r.slowest, failures: r.failures.length }, null, 1));
for (const f of r.failures.slice(0, 30)) console.log('FAIL', f);
process.exit(r.failures.length ? 1 : 0);
