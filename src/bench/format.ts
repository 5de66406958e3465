/** Text rendering of a benchmark report (the CLI's default output; also used by the browser page). */
import type { BackendResult, BenchReport, ProfileReport, RivalResult } from './engine.js';

export function fmtMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toPrecision(3);
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

export function fmtBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

const yesNo = (b: unknown) => (b === true ? 'yes' : b === false ? 'no' : '?');

/** One line per environment fact. */
export function environmentLines(env: Record<string, any>): string[] {
  const lines = [
    `runtime: ${env.runtime ?? '?'} ${env.runtime_version ?? ''}${env.engine ? ` (${env.engine})` : ''}; ${env.platform ?? ''}`.trim(),
    `CPU: ${env.cpu_model ?? 'unknown'}${env.cpu_count ? ` × ${env.cpu_count}` : ''}`,
    `wasm SIMD ${yesNo(env.wasm_simd)}, relaxed SIMD ${yesNo(env.wasm_relaxed_simd)}, threads ${yesNo(env.wasm_threads)}; threads used: ${env.threads_used ?? 1}`,
  ];
  const pin: string[] = [];
  if (env.pinned_cpus != null) pin.push(`pinned to CPUs ${env.pinned_cpus}`);
  if (env.cpus_allowed != null) pin.push(`allowed CPUs ${env.cpus_allowed}`);
  if (env.priority != null) pin.push(`priority ${env.priority}`);
  if (pin.length) lines.push(pin.join('; '));
  return lines;
}

function backendLines(r: BackendResult): string[] {
  return [
    `  init (load + prepare)  ${fmtMs(r.init_ms)} ms`,
    `  first inference        ${fmtMs(r.first_ms)} ms`,
    `  warm-up                ${r.warmup_runs ? `${fmtMs(r.warmup_mean_ms)} ms mean of ${r.warmup_runs} runs` : 'none'}`,
    `  steady state           ${r.runs} runs in ${r.timed_secs.toFixed(2)} s${r.stop === 'max_secs' ? ' (stopped at --max-secs)' : ''}`,
    `    min ${fmtMs(r.min_ms)}  mean ${fmtMs(r.mean_ms)}  p50 ${fmtMs(r.p50_ms)}  p90 ${fmtMs(r.p90_ms)}  p99 ${fmtMs(r.p99_ms)}  max ${fmtMs(r.max_ms)}  stddev ${fmtMs(r.stddev_ms)}  (ms)`,
    `  throughput             ${r.throughput_per_s >= 100 ? fmtInt(r.throughput_per_s) : r.throughput_per_s.toFixed(2)} inferences/s`,
    `  memory                 arena ${fmtInt(r.arena_bytes)} bytes; wasm memory ${fmtInt(r.wasm_memory_bytes)} bytes`,
    `  compute                ${(r.macs / 1e6).toFixed(2)} M MACs per inference, ${r.gmacs_per_s.toFixed(2)} GMAC/s`,
    `  output CRC32           ${r.output_crc32}`,
  ];
}

export function profileLines(p: ProfileReport, top = 10): string[] {
  const lines = [
    `  ${p.passes} op-by-op passes: per-op sum ${fmtMs(p.total_ms)} ms, whole run ${fmtMs(p.run_ms)} ms (${((p.total_ms / p.run_ms - 1) * 100).toFixed(1)} %); outputs ${p.outputs_unchanged ? 'unchanged' : 'DIFFER'}`,
    `  ${'op type'.padEnd(28)} ${'count'.padStart(5)} ${'ms'.padStart(9)} ${'share'.padStart(7)} ${'GMAC/s'.padStart(7)}`,
  ];
  for (const t of p.by_type.slice(0, top)) {
    const g = t.ms > 0 && t.macs > 0 ? (t.macs / (t.ms * 1e6)).toFixed(2) : '';
    lines.push(`  ${t.opcode.padEnd(28)} ${String(t.count).padStart(5)} ${fmtMs(t.ms).padStart(9)} ${(t.share * 100).toFixed(1).padStart(6)}% ${g.padStart(7)}`);
  }
  if (p.by_type.length > top) lines.push(`  … ${p.by_type.length - top} more op types`);
  const slow = [...p.ops].sort((a, b) => b.ms - a.ms).slice(0, 5);
  lines.push(`  slowest ops: ${slow.map((o) => `#${o.index} ${o.opcode} ${fmtMs(o.ms)} ms`).join(', ')}`);
  return lines;
}

export function rivalLine(c: RivalResult, kestrelP50: number): string {
  if (c.status !== 'ok') return `  ${c.name}: ${c.status} — ${c.reason}`;
  const ratio = c.ratio_p50!;
  const verdict = ratio < 1 ? `Kestrel ${(1 / ratio).toFixed(2)}× faster` : `${c.name} ${ratio.toFixed(2)}× faster`;
  const lines = [
    `  ${c.name}${c.version ? ` ${c.version}` : ''}: init ${fmtMs(c.init_ms)} ms, first ${fmtMs(c.first_ms)} ms, p50 ${fmtMs(c.p50_ms)} ms, p90 ${fmtMs(c.p90_ms)} ms, p99 ${fmtMs(c.p99_ms)} ms (${c.runs} runs)`,
    `    Kestrel/${c.name} p50 = ${fmtMs(kestrelP50)} / ${fmtMs(c.p50_ms)} = ${ratio.toFixed(2)} (${verdict}); max |difference| of outputs ${c.max_abs_diff ?? '—'}; output CRC32 ${c.output_crc32}`,
  ];
  for (const n of c.notes ?? []) lines.push(`    note: ${n}`);
  return lines.join('\n');
}

/** The whole report as text, benchmark_model style. */
export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  out.push(`kestrel bench ${r.kestrel_version} — ${r.model}`);
  out.push(`model: ${fmtBytes(r.model_size_bytes)} (${fmtInt(r.model_size_bytes)} bytes), ${r.ops} ops, ${(r.macs / 1e6).toFixed(2)} M MACs; inputs ${r.inputs.map((i) => `${i.name} ${i.dtype}[${i.shape}] from ${i.source}`).join(', ')}`);
  for (const l of environmentLines(r.environment)) out.push(l);
  out.push(`settings: ${r.settings.warmup} warm-up runs, then ≥ ${r.settings.runs} runs and ≥ ${r.settings.min_secs} s (at most ${r.settings.max_secs} s); percentiles are nearest-rank`);
  for (const res of r.results) {
    out.push('', `backend ${res.backend}${res.relaxed_dot ? ` (relaxed dot products: ${res.relaxed_dot})` : ''}, ${res.threads} thread${res.threads === 1 ? '' : 's'}`);
    out.push(...backendLines(res));
    if (res.profile) {
      out.push(`profile (${res.backend}):`);
      out.push(...profileLines(res.profile));
    }
  }
  if (r.backends_agree != null) out.push('', r.backends_agree ? 'all backends gave the same outputs (CRC32)' : 'BACKENDS GAVE DIFFERENT OUTPUTS');
  if (r.compare.length) {
    out.push('', `compare (same inputs, same process; ratio = Kestrel ${r.backend} p50 / rival p50):`);
    for (const c of r.compare) out.push(rivalLine(c, r.p50_ms));
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}
