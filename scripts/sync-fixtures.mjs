// Keeps tests/fixtures/{conformance,models} equal to the project's shared copy.
// Usage: node scripts/sync-fixtures.mjs [--check] [--from ../shared]
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fromIdx = process.argv.indexOf('--from');
const shared = fromIdx > 0 ? process.argv[fromIdx + 1] : join(root, '..', 'shared');
const check = process.argv.includes('--check');

function files(dir) {
  const out = [];
  const walk = (d) => { for (const e of readdirSync(d)) { const p = join(d, e); statSync(p).isDirectory() ? walk(p) : out.push(relative(dir, p)); } };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

let differences = 0;
for (const part of ['conformance', 'models']) {
  const src = join(shared, part);
  const dst = join(root, 'tests', 'fixtures', part);
  if (!existsSync(src)) { console.error(`no ${src}; nothing to compare`); continue; }
  const a = files(src), b = files(dst);
  const diff = [...new Set([...a, ...b])].filter((f) => !a.includes(f) || !b.includes(f) || !readFileSync(join(src, f)).equals(readFileSync(join(dst, f))));
  if (diff.length) {
    differences += diff.length;
    console.log(`${part}: ${diff.length} file(s) differ, e.g. ${diff.slice(0, 5).join(', ')}`);
    if (!check) { rmSync(dst, { recursive: true, force: true }); cpSync(src, dst, { recursive: true }); console.log(`${part}: copied from ${src}`); }
  } else {
    console.log(`${part}: in sync (${a.length} files)`);
  }
}
process.exit(check && differences ? 1 : 0);
