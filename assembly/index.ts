// Kestrel kernel module: walks a plan of kernel records in linear memory.
//
// A plan is a sequence of records [kernelId: i32, wordCount: i32, words...]. Kernel
// ids are family * 100 + n (src/runtime/kernels.ts); each family file decodes its
// own records. The whole graph runs in one call to invoke(); nothing is allocated.
// One run function per import line: kestrel compile (src/compile/codegen.ts) reads them.
import { runConv } from './ops/conv';
import { runMatmul } from './ops/matmul';
import { runElementwise } from './ops/elementwise';
import { runActivation } from './ops/activation';
import { runShape } from './ops/shape';
import { runLstm } from './ops/lstm';
import { runSvdf } from './ops/svdf';
import { setThread } from './thread';
import { runConvRows, convRowCount } from './ops/conv';
import { convGemmPixels, convGemmChannels } from './ops/conv-gemm';
import { runMatmulRows, fcRowCount } from './ops/matmul';
import { runElementwiseRows, elementwiseRowCount } from './ops/elementwise';
export { setThread };
// The relaxed build's dot-product probe (src/runtime/relaxed-dot.ts, relaxedDotLayout).
export { relaxedDot } from './ops/conv-gemm';
// The int8 LOGISTIC / TANH tables, built at load (src/runtime/ops/activation.ts).
export { sigmoidTable8 } from './ops/act-table';

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
// Every thread has its own instance of this module over one shared memory. Thread 0
// walks the plan (invokeThreaded) and runs every op; for an op whose table word
// (written by src/runtime/threads.ts) is a chunk count rather than 0, it cuts the op's
// output rows (splitRows) into that many chunks (at most one per row) and publishes them, and every thread, thread 0 included,
// claims chunks until none is left; thread 0 then waits until all claimed chunks are
// done. Each chunk is a range of whole output rows computed by one thread, so the
// result is bit-exact with one thread. The other threads only help (threadLoop): one
// that is descheduled or slow to wake claims nothing and thread 0 does the work itself,
// so a busy machine costs at most the chunks already claimed, never a full barrier.
//
// Control block (ctrl, 192 bytes, zeroed by the runtime):
//   0 work word: op epoch << 12 | chunks not yet claimed   4 helpers asleep on it
//   8 exit flag
//   64 chunks done
//   128 record of the current op  132 its units (splitRows)  136 its chunk count
//   144 its grain (splitGrain)
// A claim is a compare-and-swap of the work word that takes one chunk; a thread that
// holds a claim can read the record words, because thread 0 does not move on before
// the claimed chunk is done. Helpers waiting for work spin on atomic loads first (a
// sleeping thread takes tens of microseconds to wake, longer than many ops) and then
// sleep in memory.atomic.wait32; thread 0 waiting for claimed chunks only spins (see
// runSplit), with a deadline from the host's clock (env.nowMs).

const WORK: usize = 0, WSLEEP: usize = 4, EXIT: usize = 8;
const DONE: usize = 64;
const REC: usize = 128, ROWS: usize = 132, NCHUNK: usize = 136, GRAIN: usize = 144;
const CHUNK_BITS = 12;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
// Most chunks one op is cut into (the table word asks for a number: src/runtime/threads.ts
// chunksFor, between nthreads and 4 × nthreads by the op's work; more balance the rows
// better, each costs one claim).
const MAX_CHUNKS = CHUNK_MASK;

// Thread 0 runs the next `solo` split ops without help after a helper kept it waiting
// for a claimed chunk more than STALL_MS and 4 times thread 0's own time per chunk of
// that op (the helper's core is busy with other work).
const STALL_MS: f64 = 1;
const SOLO_OPS = 32;
let solo = 0;

// Milliseconds from the host (performance.now or Date.now), for thread 0's timeout.
@external("env", "nowMs") declare function nowMs(): f64;

// Atomic loads a waiting thread spins for before it sleeps (setSpin).
let spins = 1 << 14;

// Sets the spin count of this instance's waits.
export function setSpin(n: i32): void {
  spins = n;
}

// CONV_2D int8 without groups on the SIMD build is a GEMM over output pixels
// (conv-gemm.ts). It is split by pixels, at multiples of its 4-pixel register block
// (a 12 x 12 output: 72 + 72), or, under GEMM_CHANNELS_BELOW pixels, by blocks of 8
// output channels (a 6 x 6 output is 6 rows but 36 pixels: 20 + 16 by pixels, 64 + 64
// channels by channel blocks; 3 x 3: rows 1 + 2, pixels 4 + 5, channels even).
// 0: not the GEMM conv, 1: by pixels, 2: by channel blocks.
const GEMM_CHANNELS_BELOW = 64;
function gemmSplit(rec: usize): i32 {
  if (!ASC_FEATURE_SIMD || load<i32>(rec) != 101 || load<i32>(rec + 8 + (17 << 2)) != 1) return 0;
  const p = rec + 8;
  return load<i32>(p + (7 << 2)) * load<i32>(p + (11 << 2)) * load<i32>(p + (12 << 2)) < GEMM_CHANNELS_BELOW ? 2 : 1;
}

// Chunk borders of a split op are multiples of this many of its units (splitRows).
function splitGrain(rec: usize): i32 {
  return gemmSplit(rec) == 1 ? 4 : 1;
}

// Start of chunk c of n over `units` units: about units * c / n, rounded down to a
// multiple of the grain (the last chunk ends at `units`).
@inline function chunkStart(units: i32, c: i32, n: i32, grain: i32): i32 {
  if (c >= n) return units;
  const b = <i32>(<i64>units * c / n);
  return b - b % grain;
}

// Units a split kernel's work is cut in (output rows; for the GEMM conv output pixels or
// blocks of 8 output channels), 0 for a kernel that is never split.
export function splitRows(rec: usize): i32 {
  const id = load<i32>(rec);
  const p = rec + 8;
  const g = gemmSplit(rec);
  if (g == 1) return convRowCount(id, p) * load<i32>(p + (12 << 2));
  if (g == 2) return (load<i32>(p + (13 << 2)) + 7) >> 3;
  if ((id >= 101 && id <= 103) || id == 111 || id == 112) return convRowCount(id, p);
  if (id == 201 || id == 202) return fcRowCount(p);
  if (id >= 301 && id <= 309) return elementwiseRowCount(id, p);
  return 0;
}

function runRows(rec: usize, r0: i32, r1: i32): void {
  const id = load<i32>(rec);
  const fam = id / 100;
  if (ASC_FEATURE_SIMD) {
    const g = gemmSplit(rec);
    if (g == 1) { convGemmPixels(rec + 8, r0, r1); return; }
    if (g == 2) { convGemmChannels(rec + 8, r0, r1); return; }
  }
  if (fam == 1) runConvRows(id, rec + 8, r0, r1);
  else if (fam == 2) runMatmulRows(id, rec + 8, r0, r1);
  else runElementwiseRows(id, rec + 8, r0, r1);
}

// Claims and runs chunks of the current op until none is left. Returns how many it ran.
function helpOut(ctrl: usize): i32 {
  let ran = 0;
  if (ASC_FEATURE_THREADS) {
    while (true) {
      const w = atomic.load<i32>(ctrl + WORK);
      const left = w & CHUNK_MASK;
      if (left == 0) return ran;
      if (atomic.cmpxchg<i32>(ctrl + WORK, w, w - 1) != w) continue;
      const rec = <usize>atomic.load<i32>(ctrl + REC);
      const rows = atomic.load<i32>(ctrl + ROWS), n = atomic.load<i32>(ctrl + NCHUNK), grain = atomic.load<i32>(ctrl + GRAIN);
      const c = left - 1;
      const r0 = chunkStart(rows, c, n, grain), r1 = chunkStart(rows, c + 1, n, grain);
      if (r1 > r0) runRows(rec, r0, r1);
      atomic.add<i32>(ctrl + DONE, 1);
      ran++;
    }
  }
  return 0;
}

// Thread 0: runs a split op with the help of the other threads. False when a claimed
// chunk was not done within about timeoutMs.
function runSplit(rec: usize, ctrl: usize, chunks: i32, timeoutMs: i32): bool {
  if (ASC_FEATURE_THREADS) {
    const rows = splitRows(rec), grain = splitGrain(rec);
    let n = min(chunks, MAX_CHUNKS);
    if (n > rows / grain) n = rows / grain;
    if (n <= 1) { runRecord(rec); return true; }
    atomic.store<i32>(ctrl + DONE, 0);
    atomic.store<i32>(ctrl + REC, <i32>rec);
    atomic.store<i32>(ctrl + ROWS, rows);
    atomic.store<i32>(ctrl + NCHUNK, n);
    atomic.store<i32>(ctrl + GRAIN, grain);
    // Thread 0 keeps the last chunk (one of the largest: rows * c / n rounds down) and
    // publishes the others. Without this reservation a spinning helper usually claims
    // first and takes it; with it, the same rows go to the same thread op after op (the
    // helper gets the first rows, thread 0 the last), so each thread mostly reads rows
    // it wrote itself and that are still in its own cache.
    const epoch = (atomic.load<i32>(ctrl + WORK) >>> CHUNK_BITS) + 1;
    atomic.store<i32>(ctrl + WORK, (epoch << CHUNK_BITS) | (n - 1));
    if (atomic.load<i32>(ctrl + WSLEEP) != 0) atomic.notify(ctrl + WORK, -1);
    const t0 = nowMs();
    runRows(rec, chunkStart(rows, n - 1, n, grain), rows);
    const mine = 1 + helpOut(ctrl);
    // A helper is late when it takes several times as long as thread 0 took per chunk.
    const stallMs = max(STALL_MS, 4 * (nowMs() - t0) / <f64>max(mine, 1));
    // Wait for the chunks other threads claimed (they are running). Thread 0 spins and
    // does not sleep here: V8 (Node 20) lets a helper that is compiling or tiering up its
    // code stall while the isolate that compiled the module sleeps in atomic.wait, which
    // would turn every such wait into a timeout.
    let i = 0;
    let start: f64 = 0;
    while (atomic.load<i32>(ctrl + DONE) != n - 1) {
      if ((++i & 0xfff) == 0) {
        const t = nowMs();
        if (start == 0) start = t;
        else if (t - start > <f64>timeoutMs) return false;
        // A helper holding a chunk this long has lost its core (a busy machine): run
        // the next ops alone rather than wait for it again and again.
        if (t - start > stallMs) solo = SOLO_OPS;
      }
    }
    return true;
  }
  return false;
}

// One run of the plan by thread 0 of `nthreads` (the others are in threadLoop).
// Returns -1 on success, the index of a record with an unknown kernel id, or -2 when
// a chunk another thread claimed was not done within timeoutMs.
export function invokeThreaded(plan: usize, count: i32, tid: i32, nthreads: i32, ctrl: usize, table: usize, timeoutMs: i32): i32 {
  if (!ASC_FEATURE_THREADS || tid != 0) return -2;
  let failed = -1;
  let rec = plan;
  for (let i = 0; i < count; i++) {
    const chunks = load<i32>(table + (<usize>i << 2));
    if (chunks != 0 && solo > 0) {
      solo--;
      if (!runRecord(rec) && failed < 0) failed = i;
    } else if (chunks != 0) {
      if (!runSplit(rec, ctrl, chunks, timeoutMs)) return -2;
    } else if (!runRecord(rec) && failed < 0) {
      failed = i;
    }
    rec += 8 + (<usize>load<i32>(rec, 4) << 2);
  }
  return failed;
}

// Runs the single record at `rec` as invokeThreaded would (split into `chunks` when not
// 0), for the per-op profiler. Returns 1 on success, 0 for an unknown kernel id, -2 when
// a claimed chunk was not done within timeoutMs.
export function invokeOneThreaded(rec: usize, chunks: i32, ctrl: usize, timeoutMs: i32): i32 {
  if (!ASC_FEATURE_THREADS) return -2;
  if (chunks != 0 && solo > 0) solo--;
  else if (chunks != 0) return runSplit(rec, ctrl, chunks, timeoutMs) ? 1 : -2;
  return runRecord(rec) ? 1 : 0;
}

// The loop of threads 1..nthreads-1: waits for published chunks, claims and runs them,
// and returns when the exit flag is set.
export function threadLoop(plan: usize, count: i32, tid: i32, nthreads: i32, ctrl: usize, table: usize): i32 {
  if (!ASC_FEATURE_THREADS) return -2;
  while (atomic.load<i32>(ctrl + EXIT) == 0) {
    helpOut(ctrl);
    // Nothing left to claim: wait for the next op's chunks.
    const w = atomic.load<i32>(ctrl + WORK);
    if ((w & CHUNK_MASK) != 0) continue;
    let changed = false;
    for (let i = 0; i < spins; i++) {
      if (atomic.load<i32>(ctrl + WORK) != w) { changed = true; break; }
    }
    if (changed) continue;
    atomic.add<i32>(ctrl + WSLEEP, 1);
    while (atomic.load<i32>(ctrl + WORK) == w && atomic.load<i32>(ctrl + EXIT) == 0) {
      memory.atomic.wait32(ctrl + WORK, w, -1);
    }
    atomic.sub<i32>(ctrl + WSLEEP, 1);
  }
  return 0;
}
