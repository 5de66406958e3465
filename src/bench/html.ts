/**
 * The HTML report: one self-contained page (inline CSS and SVG, no executable script, nothing
 * fetched) with the figures, a latency histogram, the per-op profile chart and the
 * environment; the report itself rides along as JSON (#bench-data). `reportBody` is also
 * what targets/browser/bench.html shows.
 */
import type { BackendResult, BenchReport, ProfileReport } from './engine.js';
import { environmentLines, fmtBytes, fmtInt, fmtMs } from './format.js';
import type { Histogram } from './stats.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const COLORS = ['#2f6fdf', '#e07b28', '#2a9d5b', '#b8418b', '#7a5cd6', '#c9a227', '#3aa3b5', '#d2463c', '#6b8e23', '#8a6d5a'];

/** Inline SVG bar chart of a latency histogram. */
export function histogramSvg(h: Histogram, id: string, label: string, marks: { name: string; ms: number }[] = []): string {
  const W = 640, H = 220, L = 48, R = 12, T = 14, B = 36;
  const n = h.counts.length;
  const maxC = Math.max(1, ...h.counts);
  const bw = (W - L - R) / Math.max(1, n);
  const x = (ms: number) => L + ((ms - h.lo_ms) / Math.max(1e-12, h.hi_ms - h.lo_ms)) * (W - L - R);
  const parts: string[] = [];
  parts.push(`<svg id="${esc(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)}">`);
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#888"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#888"/>`);
  h.counts.forEach((c, i) => {
    const bh = (c / maxC) * (H - T - B);
    const lo = h.lo_ms + i * h.bin_ms;
    parts.push(`<rect class="bar" x="${(L + i * bw + 0.5).toFixed(2)}" y="${(H - B - bh).toFixed(2)}" width="${Math.max(0.5, bw - 1).toFixed(2)}" height="${bh.toFixed(2)}" fill="#2f6fdf"><title>${esc(fmtMs(lo))}–${esc(fmtMs(lo + h.bin_ms))} ms: ${c} runs</title></rect>`);
  });
  for (let i = 0; i <= 4; i++) {
    const ms = h.lo_ms + ((h.hi_ms - h.lo_ms) * i) / 4;
    parts.push(`<text x="${x(ms).toFixed(1)}" y="${H - B + 14}" font-size="11" text-anchor="middle">${esc(fmtMs(ms))}</text>`);
  }
  parts.push(`<text x="${(W + L) / 2}" y="${H - 4}" font-size="11" text-anchor="middle">latency (ms)</text>`);
  parts.push(`<text x="${L - 6}" y="${T + 8}" font-size="11" text-anchor="end">${maxC}</text><text x="${L - 6}" y="${H - B}" font-size="11" text-anchor="end">0</text>`);
  marks.forEach((m, i) => {
    if (!(m.ms >= h.lo_ms && m.ms <= h.hi_ms)) return;
    const px = x(m.ms).toFixed(1);
    parts.push(`<line x1="${px}" y1="${T}" x2="${px}" y2="${H - B}" stroke="${COLORS[(i + 1) % COLORS.length]}" stroke-dasharray="4 3"/><text x="${px}" y="${T + 10 + 12 * i}" font-size="11" ${x(m.ms) > W - R - 40 ? 'dx="-3" text-anchor="end"' : 'dx="3"'}>${esc(m.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Horizontal bars: time per op type (top 10, share of total), then every op in order. */
export function profileSvg(p: ProfileReport, id: string): string {
  const W = 640, L = 170, R = 90, row = 20;
  const types = p.by_type.slice(0, 10);
  const maxT = Math.max(1e-12, ...types.map((t) => t.ms));
  const opsH = 120;
  const H = 24 + types.length * row + 40 + opsH + 24;
  const parts: string[] = [];
  parts.push(`<svg id="${esc(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="time per op">`);
  parts.push(`<text x="0" y="14" font-size="12" font-weight="bold">time per op type (top ${types.length}, share of ${esc(fmtMs(p.total_ms))} ms)</text>`);
  const color = new Map(types.map((t, i) => [t.opcode, COLORS[i % COLORS.length]!]));
  types.forEach((t, i) => {
    const y = 24 + i * row;
    const w = (t.ms / maxT) * (W - L - R);
    parts.push(`<text x="${L - 6}" y="${y + 13}" font-size="11" text-anchor="end">${esc(t.opcode)} ×${t.count}</text>`);
    parts.push(`<rect class="bar" x="${L}" y="${y + 2}" width="${Math.max(1, w).toFixed(2)}" height="${row - 5}" fill="${color.get(t.opcode)}"><title>${esc(t.opcode)}: ${esc(fmtMs(t.ms))} ms</title></rect>`);
    parts.push(`<text x="${(L + Math.max(1, w) + 4).toFixed(1)}" y="${y + 13}" font-size="11">${esc(fmtMs(t.ms))} ms · ${(t.share * 100).toFixed(1)}%</text>`);
  });
  const y0 = 24 + types.length * row + 30;
  parts.push(`<text x="0" y="${y0 - 8}" font-size="12" font-weight="bold">time per op, in execution order (${p.ops.length} ops)</text>`);
  const maxO = Math.max(1e-12, ...p.ops.map((o) => o.ms));
  const bw = (W - 10) / Math.max(1, p.ops.length);
  p.ops.forEach((o, i) => {
    const h = (o.ms / maxO) * opsH;
    parts.push(`<rect class="bar op" x="${(5 + i * bw).toFixed(2)}" y="${(y0 + opsH - h).toFixed(2)}" width="${Math.max(0.5, bw - 1).toFixed(2)}" height="${h.toFixed(2)}" fill="${color.get(o.opcode) ?? '#999'}"><title>#${o.index} ${esc(o.opcode)}: ${esc(fmtMs(o.ms))} ms (${(o.share * 100).toFixed(1)}%)</title></rect>`);
  });
  parts.push(`<line x1="5" y1="${y0 + opsH}" x2="${W - 5}" y2="${y0 + opsH}" stroke="#888"/>`);
  parts.push(`<text x="5" y="${y0 + opsH + 16}" font-size="11">op 0</text><text x="${W - 5}" y="${y0 + opsH + 16}" font-size="11" text-anchor="end">op ${p.ops.length - 1} · tallest ${esc(fmtMs(maxO))} ms</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function table(rows: [string, string][], cls = 'kv'): string {
  return `<table class="${cls}">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

function resultRows(r: BackendResult): [string, string][] {
  const f = (ms: number | null) => `${esc(fmtMs(ms))} ms`;
  return [
    ['init (load + prepare)', f(r.init_ms)],
    ['first inference', f(r.first_ms)],
    ['warm-up mean', r.warmup_runs ? `${f(r.warmup_mean_ms)} (${r.warmup_runs} runs)` : 'none'],
    ['timed runs', `${r.runs} in ${r.timed_secs.toFixed(2)} s`],
    ['min / mean / max', `${esc(fmtMs(r.min_ms))} / ${esc(fmtMs(r.mean_ms))} / ${esc(fmtMs(r.max_ms))} ms`],
    ['p50 / p90 / p99', `<span data-field="p50_ms">${esc(fmtMs(r.p50_ms))}</span> / <span data-field="p90_ms">${esc(fmtMs(r.p90_ms))}</span> / <span data-field="p99_ms">${esc(fmtMs(r.p99_ms))}</span> ms`],
    ['stddev', f(r.stddev_ms)],
    ['throughput', `${esc(r.throughput_per_s.toFixed(1))} inferences/s`],
    ['arena', `<span data-field="arena_bytes">${esc(fmtInt(r.arena_bytes))}</span> bytes`],
    ['wasm memory', `${esc(fmtInt(r.wasm_memory_bytes))} bytes`],
    ['MACs, GMAC/s', `${esc(fmtInt(r.macs))}, ${esc(r.gmacs_per_s.toFixed(2))}`],
    ['output CRC32', `<code data-field="output_crc32">${esc(r.output_crc32)}</code>`],
  ];
}

export const REPORT_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:980px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
table.kv th{font-weight:600;color:#444;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{max-width:100%;height:auto;background:#fafafa;border:1px solid #eee}.warn{color:#a04000}`;

/** The report's sections as an HTML fragment. */
export function reportBody(r: BenchReport): string {
  const out: string[] = [];
  out.push(`<h1>kestrel bench — ${esc(r.model)}</h1>`);
  out.push(`<p>${esc(fmtBytes(r.model_size_bytes))} (${esc(fmtInt(r.model_size_bytes))} bytes), ${r.ops} ops, ${esc((r.macs / 1e6).toFixed(2))} M MACs per inference. Inputs: ${esc(r.inputs.map((i) => `${i.name} ${i.dtype}[${i.shape}] from ${i.source}`).join(', '))}. Settings: ${r.settings.warmup} warm-up runs, then ≥ ${r.settings.runs} runs and ≥ ${r.settings.min_secs} s (at most ${r.settings.max_secs} s); nearest-rank percentiles. Kestrel ${esc(r.kestrel_version)}, ${esc(r.created)}.</p>`);
  for (const res of r.results) {
    out.push(`<section class="backend" data-backend="${esc(res.backend)}"><h2>Backend ${esc(res.backend)}, ${res.threads} thread${res.threads === 1 ? '' : 's'}</h2>`);
    out.push(table(resultRows(res)));
    const marks = [{ name: 'p50', ms: res.p50_ms }, { name: 'p99', ms: res.p99_ms }];
    out.push(`<h3>Latency histogram (${res.runs} runs)</h3>`);
    out.push(histogramSvg(res.histogram, `latency-histogram-${res.backend}`, `latency histogram, ${res.backend}`, marks));
    if (res.profile) {
      const p = res.profile;
      out.push(`<h3>Per-op profile</h3><p>${p.passes} op-by-op passes; per-op sum ${esc(fmtMs(p.total_ms))} ms vs whole run ${esc(fmtMs(p.run_ms))} ms; outputs ${p.outputs_unchanged ? 'unchanged' : '<b class="warn">differ</b>'}.</p>`);
      out.push(profileSvg(p, `op-profile-chart-${res.backend}`));
      out.push('<table class="ops"><tr><th>op type</th><th>count</th><th>ms</th><th>share</th><th>MACs</th></tr>');
      for (const t of p.by_type.slice(0, 10)) out.push(`<tr><td>${esc(t.opcode)}</td><td class="num">${t.count}</td><td class="num">${esc(fmtMs(t.ms))}</td><td class="num">${(t.share * 100).toFixed(1)}%</td><td class="num">${esc(fmtInt(t.macs))}</td></tr>`);
      out.push('</table>');
    }
    out.push('</section>');
  }
  if (r.backends_agree != null) out.push(`<p>${r.backends_agree ? 'All backends gave the same outputs (CRC32).' : '<b class="warn">Backends gave different outputs.</b>'}</p>`);
  if (r.compare.length) {
    out.push('<h2>Compared engines</h2><table class="compare"><tr><th>engine</th><th>status</th><th>init ms</th><th>p50 ms</th><th>p90 ms</th><th>Kestrel/rival p50</th><th>max |diff|</th><th>notes</th></tr>');
    for (const c of r.compare) {
      out.push(`<tr><td>${esc(c.name)}${c.version ? ` ${esc(c.version)}` : ''}</td><td>${esc(c.status)}</td><td class="num">${esc(fmtMs(c.init_ms))}</td><td class="num">${esc(fmtMs(c.p50_ms))}</td><td class="num">${esc(fmtMs(c.p90_ms))}</td><td class="num">${c.ratio_p50 != null ? esc(c.ratio_p50.toFixed(2)) : '—'}</td><td class="num">${esc(c.max_abs_diff ?? '—')}</td><td>${esc([c.reason, ...(c.notes ?? [])].filter(Boolean).join('; '))}</td></tr>`);
    }
    out.push('</table>');
  }
  out.push('<h2>Environment</h2>');
  out.push(`<ul class="env">${environmentLines(r.environment).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`);
  out.push(table(Object.entries(r.environment).map(([k, v]) => [k, esc(typeof v === 'object' ? JSON.stringify(v) : v)]), 'kv env-table'));
  for (const w of r.warnings) out.push(`<p class="warn">warning: ${esc(w)}</p>`);
  return out.join('\n');
}

/** A whole, self-contained HTML document. */
export function reportHtml(r: BenchReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>kestrel bench — ${esc(r.model)}</title>
<style>${REPORT_CSS}</style></head>
<body>
${reportBody(r)}
<script type="application/json" id="bench-data">${JSON.stringify(r).replace(/</g, '\\u003c')}</script>
</body></html>
`;
}
