// Kestrel kernel module: walks a plan of kernel records in linear memory.
//
// A plan is a sequence of records [kernelId: i32, wordCount: i32, words...]. Kernel
// ids are family * 100 + n (src/runtime/kernels.ts); each family file decodes its
// own records. The whole graph runs in one call to invoke(); nothing is allocated.
import { runConv, runConvRows, convRowCount } from './ops/conv';
import { runMatmul, runMatmulRows, fcRowCount } from './ops/matmul';
import { runElementwise } from './ops/elementwise';
import { runActivation } from './ops/activation';
import { runShape } from './ops/shape';
import { runLstm } from './ops/lstm';
import { runSvdf } from './ops/svdf';
import { setThread } from './thread';
export { setThread };

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

// 1 when built with threads (shared memory, atomics): the kestrel-*-mt.wasm builds.
export function threads(): i32 {
  return ASC_FEATURE_THREADS ? 1 : 0;
}

// ---------------------------------------------------------------------------------
// Multi-threaded runs (threads build only).
//
// Every thread runs the same plan with its own instance of this module over one shared
// memory. For each record a table word (written by src/runtime/threads.ts) says whether
// the op is split: then its output rows (splitRows) are cut into nthreads contiguous
// ranges and thread t computes range t, so every output element is computed whole by
// one thread and the result is bit-exact with one thread. Other ops run on thread 0.
// A barrier follows every split op and every op that a split op follows; consecutive
// thread-0 ops run without one.
//
// Control block (ctrl, 128 bytes, written by the runtime as zeros):
//   0 barrier generation  4 threads arrived  8 threads asleep in a barrier
//   64 run sequence number  68 threads asleep waiting for a run  72 exit flag
// Waits spin on atomic loads first (a sleeping thread takes tens of microseconds to wake,
// longer than many ops) and then sleep with memory.atomic.wait32.

const GEN: usize = 0, ARRIVED: usize = 4, BSLEEP: usize = 8;
const SEQ: usize = 64, ISLEEP: usize = 68, EXIT: usize = 72;
// Atomic loads a waiting thread spins for before it sleeps (setSpin).
let spins = 1 << 14;

// Sets the spin count of this instance's waits.
export function setSpin(n: i32): void {
  spins = n;
}
const TIMED_OUT = 2;

// Output rows of a split kernel, 0 for a kernel that is never split.
export function splitRows(rec: usize): i32 {
  const id = load<i32>(rec);
  const p = rec + 8;
  if ((id >= 101 && id <= 103) || id == 111 || id == 112) return convRowCount(id, p);
  if (id == 201 || id == 202) return fcRowCount(p);
  return 0;
}

function runRows(rec: usize, r0: i32, r1: i32): void {
  const id = load<i32>(rec);
  if (id / 100 == 1) runConvRows(id, rec + 8, r0, r1);
  else runMatmulRows(id, rec + 8, r0, r1);
}

// Waits until the i32 at addr is no longer `old`. Thread 0 gives up after about
// timeoutMs of sleeping (returns false); other threads wait until the exit flag is set.
function waitChange(ctrl: usize, addr: usize, sleepers: usize, old: i32, tid: i32, timeoutMs: i32): bool {
  if (ASC_FEATURE_THREADS) {
    for (let i = 0; i < spins; i++) {
      if (atomic.load<i32>(addr) != old) return true;
    }
    atomic.add<i32>(sleepers, 1);
    let slept = 0;
    let ok = true;
    while (atomic.load<i32>(addr) == old) {
      if (atomic.load<i32>(ctrl + EXIT) != 0) { ok = false; break; }
      const r = memory.atomic.wait32(addr, old, tid == 0 ? 1000000 : -1);
      if (r == TIMED_OUT && tid == 0) {
        if (++slept >= timeoutMs) { ok = false; break; }
      }
    }
    atomic.sub<i32>(sleepers, 1);
    return ok;
  }
  return false;
}

function wake(addr: usize, sleepers: usize): void {
  if (ASC_FEATURE_THREADS) {
    if (atomic.load<i32>(sleepers) != 0) atomic.notify(addr, -1);
  }
}

function barrier(ctrl: usize, nthreads: i32, tid: i32, timeoutMs: i32): bool {
  if (ASC_FEATURE_THREADS) {
    const g = atomic.load<i32>(ctrl + GEN);
    if (atomic.add<i32>(ctrl + ARRIVED, 1) == nthreads - 1) {
      atomic.store<i32>(ctrl + ARRIVED, 0);
      atomic.add<i32>(ctrl + GEN, 1);
      wake(ctrl + GEN, ctrl + BSLEEP);
      return true;
    }
    return waitChange(ctrl, ctrl + GEN, ctrl + BSLEEP, g, tid, timeoutMs);
  }
  return false;
}

// One run of the plan by thread `tid` of `nthreads`. Returns -1 on success, the index of
// a record with an unknown kernel id, or -2 when a barrier wait failed (thread 0: another
// thread did not arrive within timeoutMs; other threads: the exit flag was set).
export function invokeThreaded(plan: usize, count: i32, tid: i32, nthreads: i32, ctrl: usize, table: usize, timeoutMs: i32): i32 {
  if (!ASC_FEATURE_THREADS) return -2;
  if (tid == 0) {
    atomic.add<i32>(ctrl + SEQ, 1);
    wake(ctrl + SEQ, ctrl + ISLEEP);
  }
  let failed = -1;
  let rec = plan;
  let split = count > 0 && load<i32>(table) != 0;
  for (let i = 0; i < count; i++) {
    const next = rec + 8 + (<usize>load<i32>(rec, 4) << 2);
    const nextSplit = i + 1 < count && load<i32>(table + (<usize>(i + 1) << 2)) != 0;
    if (split) {
      const rows = splitRows(rec);
      const r0 = <i32>(<i64>rows * tid / nthreads), r1 = <i32>(<i64>rows * (tid + 1) / nthreads);
      if (r1 > r0) runRows(rec, r0, r1);
    } else if (tid == 0) {
      if (!runRecord(rec) && failed < 0) failed = i;
    }
    if (split || nextSplit) {
      if (!barrier(ctrl, nthreads, tid, timeoutMs)) return -2;
    }
    split = nextSplit;
    rec = next;
  }
  return failed;
}

// The loop of threads 1..nthreads-1: waits for thread 0 to start a run (invokeThreaded
// bumps the sequence number), takes its part, and returns when the exit flag is set.
export function threadLoop(plan: usize, count: i32, tid: i32, nthreads: i32, ctrl: usize, table: usize): i32 {
  if (!ASC_FEATURE_THREADS) return -2;
  let seen = 0;
  while (true) {
    if (!waitChange(ctrl, ctrl + SEQ, ctrl + ISLEEP, seen, tid, 0)) return 0;
    if (atomic.load<i32>(ctrl + EXIT) != 0) return 0;
    seen = atomic.load<i32>(ctrl + SEQ);
    if (invokeThreaded(plan, count, tid, nthreads, ctrl, table, 0) == -2) return 0;
  }
  return 0;
}
