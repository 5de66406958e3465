// Times the variants of roof.ts on an instantiated module (no Node imports: used by
// bench/roof/run.mjs in Node and by the Chromium page of bench/perf.mjs --browser).

// name -> MACs per unit of the function's count argument (see roof.ts).
export const VARIANTS = [
  { name: 'regs2', family: 'registers', accumulators: 2, macsPerUnit: 2 * 2 * 16 },
  { name: 'regs4', family: 'registers', accumulators: 4, macsPerUnit: 2 * 4 * 16 },
  { name: 'regs6', family: 'registers', accumulators: 6, macsPerUnit: 2 * 6 * 16 },
  { name: 'l1_2', family: 'L1 loads', accumulators: 2, macsPerUnit: 256 * 2 },
  { name: 'l1_4', family: 'L1 loads', accumulators: 4, macsPerUnit: 256 * 4 },
  { name: 'l1_8', family: 'L1 loads', accumulators: 8, macsPerUnit: 256 * 8 },
];

/**
 * Best-of-`rounds` GMAC/s of every variant, about secs seconds in all. Returns
 * { roofGmacs, roofVariant, l1RoofGmacs, l1RoofVariant, variants }: the roof is the best
 * variant, the realistic roof the best L1-load variant.
 */
export function timeRoof(x, { secs = 1.5, rounds = 5, log = () => {} } = {}) {
  x.fill(12345);
  const perCall = (secs * 1000) / VARIANTS.length / rounds;
  const variants = [];
  for (const v of VARIANTS) {
    const fn = x[v.name];
    // A count that takes about perCall ms.
    let n = 1000;
    for (;;) {
      const t0 = performance.now();
      fn(n, 3);
      const ms = performance.now() - t0;
      if (ms > perCall / 4 || n > 1e9) { n = Math.max(1, Math.round((n * perCall) / Math.max(ms, 1e-3))); break; }
      n *= 4;
    }
    let best = Infinity, sink = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      sink ^= fn(n, r + 3);
      best = Math.min(best, performance.now() - t0);
    }
    const gmacs = (n * v.macsPerUnit) / (best / 1000) / 1e9;
    variants.push({ ...v, count: n, bestMs: +best.toFixed(3), gmacs: +gmacs.toFixed(2), sink });
    log(`  roof ${v.name}: ${gmacs.toFixed(1)} GMAC/s`);
  }
  const best = (fam) => variants.filter((v) => !fam || v.family === fam).reduce((a, b) => (b.gmacs > a.gmacs ? b : a));
  // The roof is the best variant of either family: reusing each widened input vector for
  // 8 channels (l1_8) can beat the register variants, which widen for at most 6.
  const r = best(), l = best('L1 loads');
  return { roofGmacs: r.gmacs, roofVariant: r.name, l1RoofGmacs: l.gmacs, l1RoofVariant: l.name, variants };
}
