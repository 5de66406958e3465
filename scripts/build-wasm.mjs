// Builds the kernel module twice from the same assembly/ sources: with SIMD and without
// (ASC_FEATURE_SIMD selects the path in each kernel), once more with relaxed SIMD as well
// (kestrel-relaxed.wasm: the GEMM convolution's relaxed dot products, opt-in, see
// src/runtime/wasm.ts), all three again as threads builds
// (kestrel-simd-mt / kestrel-scalar-mt: shared imported memory and atomics, for
// src/runtime/threads.ts), and the training-kernel module
// (assembly/train/, SIMD), which runs on the tfjs wasm backend's heap: it imports its
// memory instead of owning one.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist/wasm'), { recursive: true });
const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
const targets = process.argv.slice(2).length ? process.argv.slice(2) : ['simd', 'scalar', 'relaxed', 'simd-mt', 'scalar-mt', 'relaxed-mt', 'train'];
if (targets.includes('train')) {
  execFileSync(process.execPath, [asc, 'assembly/train/index.ts', '--outFile', 'dist/wasm/kestrel-train.wasm', '--runtime', 'stub', '--noAssert', '-O3', '--enable', 'simd', '--importMemory', '--use', 'abort='], { cwd: root, stdio: 'inherit' });
  console.log(`built dist/wasm/kestrel-train.wasm (${statSync(join(root, 'dist/wasm/kestrel-train.wasm')).size} bytes)`);
}
for (const target of targets.filter((t) => t !== 'train')) {
  execFileSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
  const size = statSync(join(root, `dist/wasm/kestrel-${target}.wasm`)).size;
  console.log(`built dist/wasm/kestrel-${target}.wasm (${size} bytes)`);
}
