// Per-thread state of a kernel module instance, and the scratch rule of split kernels.
//
// In the threads build (kestrel-*-mt.wasm) every thread instantiates the same module over
// one shared memory; module globals are per instance, so each thread has its own
// `threadIndex`. A kernel that is split across threads (see assembly/index.ts, splitRows)
// must take every scratch address it reads from its record through threadScratch():
// the plan gives each thread its own copy of a split op's scratch, `scratchStride`
// bytes after the previous thread's. Single-threaded, both are 0 and threadScratch is
// the identity.

export let threadIndex: i32 = 0;
export let scratchStride: usize = 0;

export function setThread(index: i32, stride: usize): void {
  threadIndex = index;
  scratchStride = stride;
}

@inline export function threadScratch(addr: usize): usize {
  return addr + <usize>threadIndex * scratchStride;
}
