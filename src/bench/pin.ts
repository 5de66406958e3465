/**
 * CPU affinity and scheduling priority for stable numbers on Linux boards, through libc
 * (sched_setaffinity, setpriority) called with koffi. koffi is an optional dependency and
 * is imported only here, only when --pin or --priority is used.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { KestrelError } from '../errors.js';

/** Parses a CPU list such as "0", "0,2" or "0-3,6" into sorted CPU numbers. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new KestrelError('E_USAGE', `--pin: '${text}' is not a CPU list (examples: 0, 0-3, 0,2,4-5)`);
    const a = Number(m[1]), b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a || b > 4095) throw new KestrelError('E_USAGE', `--pin: bad CPU range '${part.trim()}'`);
    for (let c = a; c <= b; c++) cpus.add(c);
  }
  return [...cpus].sort((x, y) => x - y);
}

/** Formats CPU numbers as a list with ranges, like the kernel's Cpus_allowed_list. */
export function formatCpuList(cpus: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    out.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j;
  }
  return out.join(',');
}

/** The process's Cpus_allowed_list from /proc/self/status, or null off Linux. */
export function cpusAllowed(): string | null {
  try {
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? m[1]!.trim() : null;
  } catch {
    return null;
  }
}

interface Libc {
  sched_setaffinity(pid: number, size: number, mask: Uint8Array): number;
  setpriority(which: number, who: number, prio: number): number;
  errno(): number;
  strerror(e: number): string;
}

let libc: Promise<Libc> | null = null;

async function loadLibc(): Promise<Libc> {
  const name = 'koffi';
  let koffi: any;
  try {
    const mod: any = await import(name);
    koffi = mod.default ?? mod;
  } catch (e) {
    throw new Error(`koffi (optional dependency) cannot be loaded: ${String((e as Error).message ?? e).split('\n')[0]}`);
  }
  const lib = koffi.load('libc.so.6');
  const setaff = lib.func('int sched_setaffinity(int pid, size_t cpusetsize, const uint8_t *mask)');
  const setprio = lib.func('int setpriority(int which, uint32_t who, int prio)');
  const strerror = lib.func('const char *strerror(int errnum)');
  return {
    sched_setaffinity: (pid, size, mask) => setaff(pid, size, mask),
    setpriority: (which, who, prio) => setprio(which, who, prio),
    errno: () => koffi.errno(),
    strerror: (e) => strerror(e),
  };
}

export interface PinResult {
  /** CPUs asked for, as a list ('0-3'); null when --pin was not used. */
  pinned_cpus: string | null;
  /** Nice value set; null when --priority was not used or could not be set. */
  priority: number | null;
  /** Cpus_allowed_list after pinning (Linux). */
  cpus_allowed: string | null;
  warnings: string[];
}

/**
 * Pins every thread of this process to `cpus` and sets the nice value of the calling
 * thread to `priority`. Failures (not Linux, koffi missing, not permitted) become
 * one-line warnings: the benchmark runs on unpinned.
 */
export async function applyPinning(cpus: number[] | null, priority: number | null): Promise<PinResult> {
  const res: PinResult = { pinned_cpus: null, priority: null, cpus_allowed: null, warnings: [] };
  if (!cpus && priority == null) { res.cpus_allowed = cpusAllowed(); return res; }
  const what = [cpus ? '--pin' : '', priority != null ? '--priority' : ''].filter(Boolean).join(' and ');
  if (process.platform !== 'linux') {
    res.warnings.push(`${what} ignored: only supported on Linux (this is ${process.platform}); running unpinned at normal priority`);
    return res;
  }
  let c: Libc;
  try {
    c = await (libc ??= loadLibc());
  } catch (e) {
    libc = null;
    res.warnings.push(`${what} ignored: ${(e as Error).message}`);
    res.cpus_allowed = cpusAllowed();
    return res;
  }
  if (cpus) {
    const max = cpus[cpus.length - 1]!;
    const mask = new Uint8Array(Math.max(128, Math.ceil((max + 1) / 64) * 8));
    for (const cpu of cpus) mask[cpu >> 3]! |= 1 << (cpu & 7);
    // Every existing thread (V8's and libuv's included); threads made later inherit it.
    let tids: number[];
    try { tids = readdirSync('/proc/self/task').map(Number).filter((n) => n > 0); } catch { tids = [0]; }
    let failed: string | null = null;
    for (const tid of tids) {
      if (c.sched_setaffinity(tid, mask.length, mask) !== 0) {
        const e = c.errno();
        failed ??= `sched_setaffinity(${tid}) failed: ${c.strerror(e)}`;
      }
    }
    if (failed) res.warnings.push(`--pin ${formatCpuList(cpus)}: ${failed}; ${tids.length > 1 ? 'some threads may be unpinned' : 'running unpinned'}`);
    else res.pinned_cpus = formatCpuList(cpus);
  }
  if (priority != null) {
    // PRIO_PROCESS = 0, who = 0: the calling thread (on Linux nice is per thread).
    if (c.setpriority(0, 0, priority) !== 0) {
      res.warnings.push(`--priority ${priority}: setpriority failed: ${c.strerror(c.errno())}${priority < 0 ? ' (negative values need CAP_SYS_NICE or root)' : ''}; running at normal priority`);
    } else {
      res.priority = priority;
    }
  }
  res.cpus_allowed = cpusAllowed();
  return res;
}
