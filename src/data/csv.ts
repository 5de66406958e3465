/**
 * CSV tables of numeric features, one sample a row. The header line is optional (a first
 * row with any non-numeric field is taken as the header). One column may hold the label.
 */
import { dataError } from './errors.js';

export interface CsvOptions {
  /** Label column: a header name or a 0-based index; 'none' for no labels. Default: a column
   * named label, class, target or y when there is a header, otherwise none. */
  labelColumn?: string | number;
}

export interface CsvTable {
  rows: number;
  featureNames: string[];
  features: Float32Array;
  /** The label column's raw text per row, or null. */
  labels: string[] | null;
  labelName: string | null;
}

const LABEL_NAMES = ['label', 'class', 'target', 'y'];

function splitLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',').map((s) => s.trim());
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur.trim()); cur = ''; }
    else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

const isNumber = (s: string): boolean => s !== '' && Number.isFinite(Number(s));

export function readCsv(text: string, name: string, opts: CsvOptions = {}, limit?: number): CsvTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw dataError(name, 'empty dataset: the CSV file has no rows');
  let first = splitLine(lines[0]!);
  const hasHeader = first.some((f) => !isNumber(f));
  const cols = first.length;
  const names = hasHeader ? first : first.map((_, i) => `c${i}`);
  let labelIdx = -1;
  const lc = opts.labelColumn;
  if (lc === 'none') labelIdx = -1;
  else if (typeof lc === 'number' || (typeof lc === 'string' && /^\d+$/.test(lc))) {
    labelIdx = Number(lc);
    if (labelIdx >= cols) throw dataError(name, `label column ${labelIdx} does not exist (the CSV has ${cols} columns)`);
  } else if (typeof lc === 'string') {
    labelIdx = names.indexOf(lc);
    if (labelIdx < 0) throw dataError(name, `no column named '${lc}' (columns: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`);
  } else if (hasHeader) {
    labelIdx = names.findIndex((n) => LABEL_NAMES.includes(n.toLowerCase()));
  }
  const body = hasHeader ? lines.slice(1) : lines;
  const rows = Math.min(body.length, limit ?? Infinity);
  if (rows === 0) throw dataError(name, 'empty dataset: the CSV file has a header but no rows');
  const nf = labelIdx >= 0 ? cols - 1 : cols;
  const features = new Float32Array(rows * nf);
  const labels: string[] | null = labelIdx >= 0 ? [] : null;
  for (let r = 0; r < rows; r++) {
    first = splitLine(body[r]!);
    const line = r + (hasHeader ? 2 : 1);
    if (first.length !== cols) throw dataError(name, `line ${line} has ${first.length} fields, the first row has ${cols}`);
    let k = 0;
    for (let c = 0; c < cols; c++) {
      if (c === labelIdx) { labels!.push(first[c]!); continue; }
      const v = Number(first[c]);
      if (!isNumber(first[c]!)) throw dataError(name, `line ${line}, column '${names[c]}': '${first[c]}' is not a number`);
      features[r * nf + k++] = v;
    }
  }
  return {
    rows,
    featureNames: names.filter((_, i) => i !== labelIdx),
    features,
    labels,
    labelName: labelIdx >= 0 ? names[labelIdx]! : null,
  };
}
