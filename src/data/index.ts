/**
 * Dataset loading for training and calibration. `loadDataset(spec)` reads Fashion-MNIST /
 * MNIST IDX files (gzip or not), .npy arrays, CSV tables, folders of PNG images (one folder
 * per class) and the synthetic `driving-grid` set into one float32 `Dataset`.
 *
 * Specs:
 *   fashion-mnist[:DIR]        IDX files in DIR (default /usr/share/datasets/fashion-mnist)
 *   mnist:DIR                  the same layout, digit classes
 *   DIR                        IDX files (train-images-idx3-ubyte[.gz] …) or class folders of PNGs;
 *                              DIR/train and DIR/test class folders give the two splits
 *   FILE.npy[,LABELS.npy]      samples [N, ...] and optional labels [N] / [N, 1]
 *   FILE.csv[:label=COLUMN]    one sample a row; COLUMN is a header name or 0-based index, or none
 *   driving-grid[:N]           N synthetic 10x10 occupancy grids (default 6000; test split 1000)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv } from './csv.js';
import { generateDrivingGrid } from './driving-grid.js';
import { dataError } from './errors.js';
import { readIdx } from './idx.js';
import { readNpy, type NpyArray } from './npy.js';
import { decodePng, type PngImage } from './png.js';
import { shuffledIndices } from './random.js';

export { readIdx, maybeGunzip, type IdxTensor } from './idx.js';
export { readNpy, type NpyTensor } from './npy.js';
export { readCsv, type CsvOptions, type CsvTable } from './csv.js';
export { decodePng, type PngImage } from './png.js';
export { generateDrivingGrid, GRID as DRIVING_GRID_SIZE, LOOKAHEAD as DRIVING_LOOKAHEAD } from './driving-grid.js';
export { mulberry32, shuffledIndices } from './random.js';

export interface Dataset {
  /** Samples, float32, C order, already normalized. */
  x: Float32Array;
  /** [N, ...sample shape]; images are NHWC [N, H, W, C]. */
  xShape: number[];
  /** Class indices (Int32Array) or real targets (Float32Array); null when unlabelled. */
  y: Int32Array | Float32Array | null;
  /** [N] or [N, k]; [] when there are no labels. */
  yShape: number[];
  /** Class names by index, or null (regression / unlabelled). */
  classes: string[] | null;
  /** What was read (file or directory and split), for messages and reports. */
  source: string;
  /** How x was made from the raw values: x = raw * scale + offset. */
  normalization: { scale: number; offset: number };
}

export interface LoadOptions {
  split?: 'train' | 'test';
  /** Read at most this many samples. */
  limit?: number;
  /** CSV label column (overrides `:label=` in the spec). */
  labelColumn?: string | number;
  /** Seed of the synthetic driving-grid set (train uses seed, test seed + 1000003). */
  seed?: number;
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const DRIVING_DEFAULT = 6000;
const DRIVING_TEST = 1000;

/** Samples per dimension 0 of a dataset. */
export function sampleCount(ds: Dataset): number {
  return ds.xShape[0] ?? 0;
}

/** The shape of one sample ([H, W, C] for images). */
export function sampleShape(ds: Dataset): number[] {
  return ds.xShape.slice(1);
}

/** Whether `spec` names a dataset that has a separate test split. */
export function hasTestSplit(spec: string): boolean {
  const s = parseSpec(spec);
  if (s.kind === 'driving') return true;
  if (s.kind === 'idx') return isDir(s.dir) && idxFiles(s.dir, 'test') !== null;
  if (s.kind === 'path' && existsSync(s.path) && statSync(s.path).isDirectory()) {
    return idxFiles(s.path, 'test') !== null || isDir(join(s.path, 'test'));
  }
  return false;
}

type Spec =
  | { kind: 'idx'; dir: string; classes: string[]; label: string }
  | { kind: 'driving'; n: number }
  | { kind: 'npy'; x: string; y: string | null }
  | { kind: 'csv'; path: string; label?: string }
  | { kind: 'path'; path: string };

function parseSpec(spec: string): Spec {
  if (spec === 'fashion-mnist' || spec.startsWith('fashion-mnist:')) {
    return { kind: 'idx', dir: spec.slice('fashion-mnist:'.length) || FASHION_MNIST_DIR, classes: FASHION_MNIST_CLASSES, label: 'fashion-mnist' };
  }
  if (spec === 'mnist') throw dataError('mnist', 'needs a directory: mnist:DIR (with train-images-idx3-ubyte[.gz] and the other IDX files)');
  if (spec.startsWith('mnist:')) return { kind: 'idx', dir: spec.slice(6), classes: DIGITS, label: 'mnist' };
  if (spec === 'driving-grid' || spec.startsWith('driving-grid:')) {
    const raw = spec.slice('driving-grid:'.length);
    const n = raw ? Number(raw) : DRIVING_DEFAULT;
    if (!Number.isInteger(n) || n < 1) throw dataError(spec, `driving-grid:N needs a whole number of samples ≥ 1 (got '${raw}')`);
    return { kind: 'driving', n };
  }
  const npy = /^([^,]+\.npy)(?:,([^,]+\.npy))?$/i.exec(spec);
  if (npy) return { kind: 'npy', x: npy[1]!, y: npy[2] ?? null };
  const csv = /^(.+\.csv)(?::label=(.*))?$/i.exec(spec);
  if (csv) return csv[2] === undefined ? { kind: 'csv', path: csv[1]! } : { kind: 'csv', path: csv[1]!, label: csv[2] };
  return { kind: 'path', path: spec };
}

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw dataError(path, 'no such file');
    if (code === 'EISDIR') throw dataError(path, 'is a directory, expected a file');
    throw dataError(path, `cannot read: ${code ?? (e as Error).message}`);
  }
}

function mustExist(path: string): void {
  if (!existsSync(path)) throw dataError(path, 'no such file or directory');
}

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

/** Loads a dataset; every problem is an E_DATA error naming the file. */
export function loadDataset(spec: string, opts: LoadOptions = {}): Dataset {
  const split = opts.split ?? 'train';
  const limit = opts.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw dataError(spec, `limit must be a whole number ≥ 1 (got ${limit})`);
  const s = parseSpec(spec);
  let ds: Dataset;
  switch (s.kind) {
    case 'idx':
      mustExist(s.dir);
      ds = loadIdxDir(s.dir, split, limit, s.classes, `${s.label}:${s.dir}`);
      break;
    case 'driving': {
      const seed = opts.seed ?? 1;
      const n = split === 'train' ? s.n : DRIVING_TEST;
      const count = Math.min(n, limit ?? n);
      const g = generateDrivingGrid(count, split === 'train' ? seed : seed + 1000003);
      ds = {
        x: g.x, xShape: [count, 10, 10, 1], y: g.y, yShape: [count], classes: ['clear', 'obstacle ahead'],
        source: `driving-grid:${n} (${split}, seed ${seed})`, normalization: { scale: 1, offset: 0 },
      };
      break;
    }
    case 'npy':
      if (split === 'test') throw dataError(s.x, 'a .npy dataset has no test split');
      ds = loadNpy(s.x, s.y, limit);
      break;
    case 'csv':
      if (split === 'test') throw dataError(s.path, 'a CSV dataset has no test split');
      ds = loadCsv(s.path, opts.labelColumn ?? s.label, limit);
      break;
    case 'path': {
      mustExist(s.path);
      if (!isDir(s.path)) throw dataError(s.path, 'is not a dataset: expected a directory, a .npy or a .csv file');
      if (idxFiles(s.path, 'train') || idxFiles(s.path, 'test')) {
        ds = loadIdxDir(s.path, split, limit, null, s.path);
      } else {
        const hasSplits = isDir(join(s.path, 'train'));
        if (split === 'test' && !isDir(join(s.path, 'test'))) throw dataError(s.path, 'has no test/ folder, so there is no test split');
        ds = loadImageFolders(hasSplits ? join(s.path, split) : s.path, limit);
      }
      break;
    }
  }
  if (sampleCount(ds) === 0) throw dataError(ds.source, 'empty dataset: no samples');
  return ds;
}

function idxFiles(dir: string, split: 'train' | 'test'): { images: string; labels: string } | null {
  const prefix = split === 'train' ? 'train' : 't10k';
  const find = (base: string): string | null => {
    for (const n of [base, `${base}.gz`, base.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte'), `${base.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte')}.gz`]) {
      if (existsSync(join(dir, n))) return join(dir, n);
    }
    return null;
  };
  const images = find(`${prefix}-images-idx3-ubyte`);
  const labels = find(`${prefix}-labels-idx1-ubyte`);
  if (!images && !labels) return null;
  if (!images) throw dataError(join(dir, `${prefix}-images-idx3-ubyte.gz`), 'no such file (the labels file is there)');
  if (!labels) throw dataError(join(dir, `${prefix}-labels-idx1-ubyte.gz`), 'no such file (the images file is there)');
  return { images, labels };
}

function loadIdxDir(dir: string, split: 'train' | 'test', limit: number | undefined, classes: string[] | null, label: string): Dataset {
  if (!isDir(dir)) throw dataError(dir, 'is not a directory of IDX files');
  const files = idxFiles(dir, split);
  if (!files) throw dataError(join(dir, `${split === 'train' ? 'train' : 't10k'}-images-idx3-ubyte.gz`), 'no such file');
  const images = readIdx(readBytes(files.images), files.images);
  const labels = readIdx(readBytes(files.labels), files.labels);
  if (images.shape.length < 2 || images.shape.length > 4) {
    throw dataError(files.images, `expected images [N, H, W] or [N, H, W, C], the header says [${images.shape.join(', ')}]`);
  }
  if (labels.shape.length !== 1) throw dataError(files.labels, `expected labels [N], the header says [${labels.shape.join(', ')}]`);
  if (images.shape[0] !== labels.shape[0]) {
    throw dataError(files.labels, `image/label count mismatch: ${labels.shape[0]} labels for ${images.shape[0]} images in ${files.images}`);
  }
  const n = Math.min(images.shape[0]!, limit ?? Infinity);
  const per = images.data.length / images.shape[0]!;
  const x = new Float32Array(n * per);
  const scale = images.dtype === 'uint8' ? 1 / 255 : 1;
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! * scale;
  const y = new Int32Array(n);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) {
    const v = labels.data[i]!;
    if (!Number.isInteger(v) || v < 0) throw dataError(files.labels, `label ${i} is ${v}, expected a class index ≥ 0`);
    if (classes && v >= classes.length) throw dataError(files.labels, `label ${i} is ${v}, but there are ${classes.length} classes`);
    y[i] = v;
    if (v > maxLabel) maxLabel = v;
  }
  const hw = images.shape.slice(1);
  const xShape = hw.length === 2 ? [n, hw[0]!, hw[1]!, 1] : hw.length === 1 ? [n, hw[0]!] : [n, ...hw];
  return {
    x, xShape, y, yShape: [n],
    classes: classes ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i)),
    source: `${label} (${split})`,
    normalization: { scale, offset: 0 },
  };
}

/** Integer data within 0..255 with values above 1 is taken as 8-bit pixels and scaled to [0, 1]. */
function pixelScale(data: ArrayLike<number>): number {
  let max = -Infinity, min = Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isInteger(v)) return 1;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  return min >= 0 && max <= 255 && max > 1 ? 1 / 255 : 1;
}

function labelsFrom(values: ArrayLike<number>, name: string): { y: Int32Array | Float32Array; classes: string[] | null } {
  let integral = true, max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw dataError(name, `label ${i} is ${v}`);
    if (!Number.isInteger(v) || v < 0) integral = false;
    else if (v > max) max = v;
  }
  if (integral) return { y: Int32Array.from(values), classes: Array.from({ length: max + 1 }, (_, i) => String(i)) };
  return { y: Float32Array.from(values), classes: null };
}

function loadNpy(xPath: string, yPath: string | null, limit: number | undefined): Dataset {
  const xs = readNpy(readBytes(xPath), xPath);
  if (xs.shape.length < 1) throw dataError(xPath, 'expected samples [N, ...], the array is a scalar');
  const n = Math.min(xs.shape[0]!, limit ?? Infinity);
  const per = xs.shape[0]! ? xs.data.length / xs.shape[0]! : 0;
  const scale = xs.dtype.startsWith('float') ? 1 : pixelScale(xs.data);
  const x = new Float32Array(n * per);
  for (let i = 0; i < x.length; i++) x[i] = xs.data[i]! * scale;
  const xShape = [n, ...xs.shape.slice(1)];
  let y: Int32Array | Float32Array | null = null, yShape: number[] = [], classes: string[] | null = null;
  if (yPath) {
    const ys = readNpy(readBytes(yPath), yPath);
    if (ys.shape[0] !== xs.shape[0]) {
      throw dataError(yPath, `image/label count mismatch: ${ys.shape[0] ?? 0} labels for ${xs.shape[0]} samples in ${xPath}`);
    }
    const k = ys.shape.slice(1).reduce((a, b) => a * b, 1);
    const values = (ys.data as NpyArray).subarray(0, n * k);
    if (k === 1) {
      ({ y, classes } = labelsFrom(values, yPath));
      yShape = [n];
    } else {
      y = Float32Array.from(values);
      yShape = [n, ...ys.shape.slice(1)];
    }
  }
  return { x, xShape, y, yShape, classes, source: yPath ? `${xPath},${yPath}` : xPath, normalization: { scale, offset: 0 } };
}

function loadCsv(path: string, labelColumn: string | number | undefined, limit: number | undefined): Dataset {
  const t = readCsv(new TextDecoder().decode(readBytes(path)), path, labelColumn === undefined ? {} : { labelColumn }, limit);
  const nf = t.featureNames.length;
  if (nf === 0) throw dataError(path, 'no feature columns besides the label');
  const scale = pixelScale(t.features);
  if (scale !== 1) for (let i = 0; i < t.features.length; i++) t.features[i] = t.features[i]! * scale;
  let y: Int32Array | Float32Array | null = null, classes: string[] | null = null;
  if (t.labels) {
    if (t.labels.every((l) => l !== '' && Number.isFinite(Number(l)))) {
      ({ y, classes } = labelsFrom(t.labels.map(Number), path));
    } else {
      classes = [...new Set(t.labels)].sort();
      const index = new Map(classes.map((c, i) => [c, i]));
      y = Int32Array.from(t.labels, (l) => index.get(l)!);
    }
  }
  return { x: t.features, xShape: [t.rows, nf], y, yShape: y ? [t.rows] : [], classes, source: path, normalization: { scale, offset: 0 } };
}

function loadImageFolders(dir: string, limit: number | undefined): Dataset {
  if (!isDir(dir)) throw dataError(dir, 'no such directory');
  const classes = readdirSync(dir).filter((n) => !n.startsWith('.') && isDir(join(dir, n))).sort();
  if (classes.length === 0) throw dataError(dir, 'empty dataset: no class folders (expected one folder of PNG images per class)');
  const perClass = classes.map((c) => readdirSync(join(dir, c)).filter((f) => /\.png$/i.test(f)).sort().map((f) => join(dir, c, f)));
  // Interleave the classes so that a limit keeps every class represented.
  const order: { file: string; label: number }[] = [];
  for (let k = 0; order.length < perClass.reduce((a, l) => a + l.length, 0); k++) {
    perClass.forEach((files, label) => { if (k < files.length) order.push({ file: files[k]!, label }); });
  }
  const chosen = order.slice(0, limit ?? order.length);
  if (chosen.length === 0) throw dataError(dir, `empty dataset: no .png files in the class folders (${classes.join(', ')})`);
  const images: PngImage[] = [];
  let first: { file: string; img: PngImage } | null = null;
  for (const { file } of chosen) {
    const img = decodePng(readBytes(file), file);
    if (!first) first = { file, img };
    else if (img.width !== first.img.width || img.height !== first.img.height) {
      throw dataError(file, `wrong image size: ${img.width}x${img.height}, but ${first.file} is ${first.img.width}x${first.img.height}`);
    }
    images.push(img);
  }
  const colour = images.some((im) => im.channels >= 3);
  const c = colour ? 3 : 1;
  const { width: w, height: h } = first!.img;
  const n = images.length;
  const x = new Float32Array(n * h * w * c);
  const y = new Int32Array(n);
  images.forEach((im, i) => {
    y[i] = chosen[i]!.label;
    const base = i * h * w * c;
    for (let p = 0; p < h * w; p++) {
      for (let ch = 0; ch < c; ch++) {
        // Grey images in a colour set repeat their grey value; alpha is dropped.
        const src = im.channels >= 3 ? ch : 0;
        x[base + p * c + ch] = im.data[p * im.channels + src]! / 255;
      }
    }
  });
  return { x, xShape: [n, h, w, c], y, yShape: [n], classes, source: dir, normalization: { scale: 1 / 255, offset: 0 } };
}

/** The samples at `indices`, in that order. */
export function takeSamples(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  const per = sampleSize(ds);
  const x = new Float32Array(n * per);
  const yPer = ds.y ? ds.y.length / Math.max(1, sampleCount(ds)) : 0;
  const y = ds.y ? new (ds.y.constructor as Int32ArrayConstructor | Float32ArrayConstructor)(n * yPer) : null;
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    x.set(ds.x.subarray(j * per, (j + 1) * per), i * per);
    if (y && ds.y) y.set(ds.y.subarray(j * yPer, (j + 1) * yPer), i * yPer);
  }
  return { ...ds, x, xShape: [n, ...sampleShape(ds)], y, yShape: ds.y ? [n, ...ds.yShape.slice(1)] : [] };
}

/** Values per sample. */
export function sampleSize(ds: Dataset): number {
  return sampleShape(ds).reduce((a, b) => a * b, 1);
}

/** The dataset in a seeded random order. */
export function shuffleDataset(ds: Dataset, seed: number): Dataset {
  return takeSamples(ds, shuffledIndices(sampleCount(ds), seed));
}

/** `n` samples drawn without replacement in a seeded order (all of them when n ≥ N). */
export function subsetDataset(ds: Dataset, n: number, seed: number): Dataset {
  const idx = shuffledIndices(sampleCount(ds), seed);
  return takeSamples(ds, idx.subarray(0, Math.min(n, idx.length)));
}

/**
 * Seeded split into training and validation parts; `fraction` of the samples (at least one,
 * leaving at least one for training) go to validation.
 */
export function splitDataset(ds: Dataset, fraction: number, seed: number): { train: Dataset; validation: Dataset } {
  const n = sampleCount(ds);
  if (!(fraction > 0 && fraction < 1)) throw dataError(ds.source, `the validation fraction must be between 0 and 1 (got ${fraction})`);
  if (n < 2) throw dataError(ds.source, `${n} sample cannot be split into training and validation parts`);
  const nv = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  const idx = shuffledIndices(n, seed);
  return { train: takeSamples(ds, idx.subarray(nv)), validation: takeSamples(ds, idx.subarray(0, nv)) };
}

/**
 * Checks that every sample has `shape` (or the same number of values, when `reshape` is
 * allowed) and throws a one-line E_DATA error naming the dataset otherwise.
 */
export function checkSampleShape(ds: Dataset, shape: number[], what: string, reshape = true): void {
  const have = sampleShape(ds);
  const same = have.length === shape.length && have.every((d, i) => d === shape[i]);
  const size = shape.reduce((a, b) => a * b, 1);
  if (same || (reshape && sampleSize(ds) === size)) return;
  throw dataError(ds.source, `wrong image size: samples are [${have.join(', ')}], ${what} needs [${shape.join(', ')}]`);
}
