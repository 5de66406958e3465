// Kestrel kernel module: walks a plan of kernel records in linear memory.
//
// A plan is a sequence of records [kernelId: i32, wordCount: i32, words...]. Kernel
// ids are family * 100 + n (src/runtime/kernels.ts); each family file decodes its
// own records. The whole graph runs in one call to invoke(); nothing is allocated.
import { runConv } from './ops/conv';
import { runMatmul } from './ops/matmul';
import { runElementwise } from './ops/elementwise';
import { runActivation } from './ops/activation';
import { runShape } from './ops/shape';
import { runLstm } from './ops/lstm';
import { runSvdf } from './ops/svdf';

// Runs one record; returns false for an unknown kernel id.
function runRecord(rec: usize): bool {
  const id = load<i32>(rec);
  const p = rec + 8;
  switch (id / 100) {
    case 1: return runConv(id, p);
    case 2: return runMatmul(id, p);
    case 3: return runElementwise(id, p);
    case 4: return runActivation(id, p);
    case 5: return runShape(id, p);
    case 6: return runLstm(id, p);
    case 7: return runSvdf(id, p);
    default: return false;
  }
}

// Runs `count` records starting at `plan`. Returns -1 on success, else the index of
// the record whose kernel id was not recognised.
export function invoke(plan: usize, count: i32): i32 {
  let rec = plan;
  for (let i = 0; i < count; i++) {
    if (!runRecord(rec)) return i;
    rec += 8 + (<usize>load<i32>(rec, 4) << 2);
  }
  return -1;
}

// Runs the single record at `rec` (used by the per-op profiler). Returns 1 on success.
export function invokeOne(rec: usize): i32 {
  return runRecord(rec) ? 1 : 0;
}

// First free byte after the module's static data.
export function heapBase(): usize {
  return __heap_base;
}

// 1 when built with SIMD.
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
