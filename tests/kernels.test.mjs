// Kernel ids declared by each prepare file are the ones its AssemblyScript family handles.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.mjs';

const opsDir = join(ROOT, 'src', 'runtime', 'ops');
const asmDir = join(ROOT, 'assembly', 'ops');

test('every kernel id in a prepare file has a case in its family\'s kernel switch', (t) => {
  const asmCases = new Set();
  for (const f of readdirSync(asmDir)) {
    for (const m of readFileSync(join(asmDir, f), 'utf8').matchAll(/case\s+(\d{3})\s*:/g)) asmCases.add(Number(m[1]));
  }
  let checked = 0;
  for (const f of readdirSync(opsDir).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(join(opsDir, f), 'utf8');
    const block = src.match(/export const K = \{([\s\S]*?)\}/);
    if (!block) continue;
    for (const m of block[1].matchAll(/([A-Z0-9_]+):\s*(\d+)/g)) {
      t.true(asmCases.has(Number(m[2])), `${f}: ${m[1]} = ${m[2]} has no kernel`);
      checked++;
    }
  }
  t.true(checked >= 40, `checked ${checked} ids`);
});
