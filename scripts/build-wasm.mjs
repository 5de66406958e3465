// Builds the kernel module twice from the same assembly/ sources: with SIMD and without
// (ASC_FEATURE_SIMD selects the path in each kernel).
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist/wasm'), { recursive: true });
const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
for (const target of process.argv.slice(2).length ? process.argv.slice(2) : ['simd', 'scalar']) {
  execFileSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
  const size = statSync(join(root, `dist/wasm/kestrel-${target}.wasm`)).size;
  console.log(`built dist/wasm/kestrel-${target}.wasm (${size} bytes)`);
}
