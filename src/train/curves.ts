/**
 * Training curves as a self-contained SVG: loss per epoch (left) and the metric per epoch
 * (right), training and validation lines, with axes, ticks and a legend.
 */
export interface CurveSeries {
  name: string;
  values: number[];
  color: string;
  dashed?: boolean;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

function panel(x0: number, title: string, series: CurveSeries[]): string {
  const w = 340, h = 270, left = 52, top = 30, pw = w - left - 16, ph = h - top - 70;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = all.length ? Math.min(...all) : 0, hi = all.length ? Math.max(...all) : 1;
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const pad = (hi - lo) * 0.05;
  lo -= pad; hi += pad;
  const epochs = Math.max(1, ...series.map((s) => s.values.length));
  const px = (i: number): number => x0 + left + (epochs === 1 ? pw / 2 : (i / (epochs - 1)) * pw);
  const py = (v: number): number => top + ph - ((v - lo) / (hi - lo)) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + left + pw / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  out.push(`<rect x="${x0 + left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    const y = py(v);
    out.push(`<line x1="${x0 + left - 4}" y1="${y.toFixed(1)}" x2="${x0 + left + pw}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 + left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(v)}</text>`);
  }
  const step = Math.max(1, Math.ceil(epochs / 10));
  for (let i = 0; i < epochs; i += step) {
    out.push(`<text x="${px(i).toFixed(1)}" y="${top + ph + 14}" text-anchor="middle" font-size="10">${i + 1}</text>`);
  }
  out.push(`<text x="${x0 + left + pw / 2}" y="${top + ph + 30}" text-anchor="middle" font-size="11">epoch</text>`);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${px(i).toFixed(1)},${py(v).toFixed(1)}` : null)).filter((p) => p !== null);
    if (pts.length === 0) return;
    const dash = s.dashed ? ' stroke-dasharray="5,3"' : '';
    out.push(`<polyline class="curve" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
    for (const p of pts) { const [cx, cy] = p.split(','); out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"/>`); }
    // Legend under the axis label, one entry per series.
    const ly = top + ph + 52, lx = x0 + left + k * 140;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 22}" y="${ly}" font-size="10">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** The SVG document for per-epoch history (validation arrays may be empty). */
export function curvesSvg(title: string, h: { loss: number[]; valLoss: number[]; metric: number[]; valMetric: number[]; metricName: string }): string {
  const train = '#1f77b4', val = '#d62728';
  const lossSeries: CurveSeries[] = [{ name: 'train loss', values: h.loss, color: train }];
  if (h.valLoss.length) lossSeries.push({ name: 'validation loss', values: h.valLoss, color: val, dashed: true });
  const metricSeries: CurveSeries[] = [{ name: `train ${h.metricName}`, values: h.metric, color: train }];
  if (h.valMetric.length) metricSeries.push({ name: `validation ${h.metricName}`, values: h.valMetric, color: val, dashed: true });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="700" height="270" viewBox="0 0 700 270" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="700" height="270" fill="white"/>`,
    panel(0, 'loss', lossSeries),
    panel(350, h.metricName, metricSeries),
    '</svg>',
    '',
  ].join('\n');
}
