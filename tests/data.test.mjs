// Dataset readers: IDX (plain and gzip), .npy, CSV, PNG class folders, the synthetic
// driving grid, seeded utilities and one-line E_DATA errors. Files are written by the test.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import {
  loadDataset, readIdx, readNpy, decodePng, readCsv, generateDrivingGrid, shuffleDataset,
  splitDataset, subsetDataset, takeSamples, checkSampleShape, hasTestSplit, shuffledIndices, mulberry32,
} from '../dist/data/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-data-'));
const FMNIST = '/usr/share/datasets/fashion-mnist';

function idx(type, shape, values) {
  const size = { 8: 1, 9: 1, 0x0c: 4, 0x0d: 4 }[type];
  const b = Buffer.alloc(4 + 4 * shape.length + values.length * size);
  b[2] = type; b[3] = shape.length;
  shape.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  const off = 4 + 4 * shape.length;
  values.forEach((v, i) => {
    if (type === 8) b.writeUInt8(v, off + i);
    else if (type === 9) b.writeInt8(v, off + i);
    else if (type === 0x0c) b.writeInt32BE(v, off + 4 * i);
    else b.writeFloatBE(v, off + 4 * i);
  });
  return b;
}

function npy(descr, shape, values, { version = 1, fortran = false } = {}) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  while ((pre + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const size = Number(descr.slice(2));
  const data = Buffer.alloc(values.length * size);
  const le = descr[0] !== '>';
  values.forEach((v, i) => {
    const k = descr.slice(1);
    if (k === 'f4') le ? data.writeFloatLE(v, 4 * i) : data.writeFloatBE(v, 4 * i);
    else if (k === 'f8') data.writeDoubleLE(v, 8 * i);
    else if (k === 'u1') data.writeUInt8(v, i);
    else if (k === 'i4') data.writeInt32LE(v, 4 * i);
    else if (k === 'i8') data.writeBigInt64LE(BigInt(v), 8 * i);
  });
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(header.length, 8); else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

const CRC = (() => { const t = []; for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t.push(c >>> 0); } return t; })();
function crc(buf) { let c = 0xffffffff; for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; }
function chunk(type, body) {
  const len = Buffer.alloc(4); len.writeUInt32BE(body.length);
  const tb = Buffer.concat([Buffer.from(type, 'latin1'), body]);
  const c = Buffer.alloc(4); c.writeUInt32BE(crc(tb));
  return Buffer.concat([len, tb, c]);
}
// PNG encoder written from the specification; row y uses filter type y % 5 so the decoder's
// every unfilter path is exercised.
function png(w, h, colorType, samples, pixels, { depth = 8, interlace = 0, palette = null } = {}) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = depth; ihdr[9] = colorType; ihdr[12] = interlace;
  const stride = w * samples;
  const raw = Buffer.alloc((stride + 1) * h);
  const at = (y, i) => (y < 0 || i < 0 ? 0 : pixels[y * stride + i]);
  for (let y = 0; y < h; y++) {
    const f = y % 5;
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = at(y, i), a = at(y, i - samples), b = at(y - 1, i), c = at(y - 1, i - samples);
      let pred = 0;
      if (f === 1) pred = a; else if (f === 2) pred = b; else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      raw[y * (stride + 1) + 1 + i] = (x - pred) & 0xff;
    }
  }
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (palette) parts.push(chunk('PLTE', Buffer.from(palette)));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
const noise = (n, seed) => { const r = mulberry32(seed); return Array.from({ length: n }, () => Math.floor(r() * 256)); };

function oneLine(t, fn, code, ...mustContain) {
  const e = t.throws(fn);
  t.is(e.code, code, e.message);
  t.false(e.message.includes('\n'), e.message);
  for (const s of mustContain) t.true(e.message.includes(s), `'${e.message}' should mention ${s}`);
  return e;
}

function writeIdxDir(dir, n, { gz = false, labels = n } = {}) {
  mkdirSync(dir, { recursive: true });
  const px = Array.from({ length: n * 4 * 3 }, (_, i) => (i * 37) % 256);
  const lab = Array.from({ length: labels }, (_, i) => i % 3);
  const put = (name, b) => writeFileSync(join(dir, gz ? name + '.gz' : name), gz ? gzipSync(b) : b);
  put('train-images-idx3-ubyte', idx(8, [n, 4, 3], px));
  put('train-labels-idx1-ubyte', idx(8, [labels], lab));
  put('t10k-images-idx3-ubyte', idx(8, [2, 4, 3], px.slice(0, 24)));
  put('t10k-labels-idx1-ubyte', idx(8, [2], [2, 1]));
  return { px, lab };
}

test('readIdx: header, big-endian values, gzip transparency', (t) => {
  const b = idx(0x0c, [2, 2], [1, -2, 70000, 3]);
  const r = readIdx(b, 'a.idx');
  t.deepEqual(r.shape, [2, 2]);
  t.is(r.dtype, 'int32');
  t.deepEqual([...r.data], [1, -2, 70000, 3]);
  t.deepEqual([...readIdx(gzipSync(b), 'a.idx.gz').data], [1, -2, 70000, 3]);
  const f = readIdx(idx(0x0d, [3], [0.5, -1.25, 3]), 'f.idx');
  t.deepEqual([...f.data], [0.5, -1.25, 3]);
  t.deepEqual([...readIdx(idx(8, [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]), 'l', 2).data], [1, 2, 3, 4]);
});

test('readIdx: corrupt headers are one-line E_DATA errors naming the file', (t) => {
  const good = idx(8, [2, 2], [1, 2, 3, 4]);
  const badMagic = Buffer.from(good); badMagic[0] = 7;
  oneLine(t, () => readIdx(badMagic, 'm.idx'), 'E_DATA', 'm.idx', 'magic');
  const badType = Buffer.from(good); badType[2] = 0x42;
  oneLine(t, () => readIdx(badType, 't.idx'), 'E_DATA', 't.idx', 'type');
  oneLine(t, () => readIdx(good.subarray(0, good.length - 1), 'short.idx'), 'E_DATA', 'short.idx', 'bytes');
  oneLine(t, () => readIdx(Buffer.concat([good, Buffer.from([0])]), 'long.idx'), 'E_DATA', 'long.idx');
  const zeroRank = Buffer.from(good); zeroRank[3] = 0;
  oneLine(t, () => readIdx(zeroRank, 'r.idx'), 'E_DATA', 'r.idx', 'dimensions');
  oneLine(t, () => readIdx(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'z.gz'), 'E_DATA', 'z.gz', 'gzip');
});

test('IDX directories: mnist:DIR, gzip and plain, splits, limit, count mismatch', (t) => {
  const plain = join(tmp, 'idx-plain');
  const { px, lab } = writeIdxDir(plain, 5);
  const gz = join(tmp, 'idx-gz');
  writeIdxDir(gz, 5, { gz: true });
  for (const spec of [`mnist:${plain}`, `mnist:${gz}`, plain]) {
    const d = loadDataset(spec);
    t.deepEqual(d.xShape, [5, 4, 3, 1]);
    t.deepEqual([...d.y], lab);
    t.is(d.x.length, 60);
    for (let i = 0; i < 60; i++) t.is(d.x[i], Math.fround(px[i] / 255));
    t.deepEqual(d.normalization, { scale: 1 / 255, offset: 0 });
  }
  const test_ = loadDataset(`mnist:${plain}`, { split: 'test' });
  t.deepEqual([...test_.y], [2, 1]);
  t.true(hasTestSplit(`mnist:${plain}`));
  t.deepEqual(loadDataset(`fashion-mnist:${gz}`, { limit: 3 }).xShape, [3, 4, 3, 1]);
  const bad = join(tmp, 'idx-mismatch');
  writeIdxDir(bad, 5, { labels: 4 });
  oneLine(t, () => loadDataset(`mnist:${bad}`), 'E_DATA', 'train-labels-idx1-ubyte', 'mismatch', '4', '5');
  const missing = join(tmp, 'idx-missing-labels');
  mkdirSync(missing);
  writeFileSync(join(missing, 'train-images-idx3-ubyte'), idx(8, [1, 2, 2], [1, 2, 3, 4]));
  oneLine(t, () => loadDataset(missing), 'E_DATA', 'train-labels-idx1-ubyte');
  const corrupt = join(tmp, 'idx-corrupt');
  writeIdxDir(corrupt, 5);
  writeFileSync(join(corrupt, 'train-images-idx3-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0, 0, 5]));
  oneLine(t, () => loadDataset(corrupt), 'E_DATA', join(corrupt, 'train-images-idx3-ubyte'));
});

test('missing paths fail with one line naming the path', (t) => {
  const nope = join(tmp, 'does-not-exist');
  oneLine(t, () => loadDataset(`fashion-mnist:${nope}`), 'E_DATA', nope);
  oneLine(t, () => loadDataset(nope), 'E_DATA', nope);
  oneLine(t, () => loadDataset(`${nope}.npy`), 'E_DATA', `${nope}.npy`);
  oneLine(t, () => loadDataset(`${nope}.csv`), 'E_DATA', `${nope}.csv`);
  oneLine(t, () => loadDataset('mnist'), 'E_DATA', 'mnist');
  oneLine(t, () => loadDataset('driving-grid:abc'), 'E_DATA', 'driving-grid');
});

test('readNpy: dtypes, v1 and v2 headers, byte order; Fortran order refused', (t) => {
  const f = readNpy(npy('<f4', [2, 3], [1, 2, 3, 4.5, -5, 6]), 'f.npy');
  t.deepEqual(f.shape, [2, 3]);
  t.deepEqual([...f.data], [1, 2, 3, 4.5, -5, 6]);
  t.deepEqual([...readNpy(npy('>f4', [2], [1.5, -2]), 'be.npy').data], [1.5, -2]);
  t.deepEqual([...readNpy(npy('<f8', [2], [0.1, 2]), 'd.npy').data], [0.1, 2]);
  const u = readNpy(npy('|u1', [3], [0, 128, 255], { version: 2 }), 'u.npy');
  t.is(u.dtype, 'uint8');
  t.deepEqual([...u.data], [0, 128, 255]);
  t.deepEqual([...readNpy(npy('<i8', [3], [5, -1, 9]), 'l.npy').data], [5, -1, 9]);
  t.deepEqual([...readNpy(npy('<i4', [1], [-7]), 'i.npy').data], [-7]);
  oneLine(t, () => readNpy(npy('<f4', [2, 2], [1, 2, 3, 4], { fortran: true }), 'fo.npy'), 'E_DATA', 'fo.npy', 'Fortran');
  oneLine(t, () => readNpy(Buffer.from('hello world!'), 'x.npy'), 'E_DATA', 'x.npy');
  oneLine(t, () => readNpy(npy('<f4', [3], [1, 2, 3]).subarray(0, 70), 'cut.npy'), 'E_DATA', 'cut.npy');
  oneLine(t, () => readNpy(npy('<c8', [0], []), 'c.npy'), 'E_DATA', 'c.npy', 'dtype');
});

test('.npy datasets: samples with labels; pixel scaling; count mismatch', (t) => {
  const xs = join(tmp, 'x.npy'), ys = join(tmp, 'y.npy'), ys2 = join(tmp, 'y2.npy'), xf = join(tmp, 'xf.npy');
  writeFileSync(xs, npy('|u1', [3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8]));
  writeFileSync(ys, npy('<i8', [3], [1, 0, 1]));
  writeFileSync(ys2, npy('<i8', [2], [1, 0]));
  writeFileSync(xf, npy('<f4', [2, 2], [0.5, -3, 7, 1]));
  const d = loadDataset(`${xs},${ys}`);
  t.deepEqual(d.xShape, [3, 2, 2]);
  t.deepEqual([...d.x.slice(0, 4)], [0, 1, 0.2, 0.4].map(Math.fround));
  t.deepEqual([...d.y], [1, 0, 1]);
  t.deepEqual(d.classes, ['0', '1']);
  const f = loadDataset(xf);
  t.deepEqual([...f.x], [0.5, -3, 7, 1]);
  t.is(f.y, null);
  t.deepEqual(f.normalization, { scale: 1, offset: 0 });
  oneLine(t, () => loadDataset(`${xs},${ys2}`), 'E_DATA', ys2, 'mismatch');
});

test('CSV: header optional, label column by name or index, class names', (t) => {
  const a = join(tmp, 'a.csv');
  writeFileSync(a, 'f1,label,f2\n0.5,cat,1\n1.5,dog,2\n2.5,cat,3\n');
  const d = loadDataset(a);
  t.deepEqual(d.xShape, [3, 2]);
  t.deepEqual([...d.x], [0.5, 1, 1.5, 2, 2.5, 3]);
  t.deepEqual(d.classes, ['cat', 'dog']);
  t.deepEqual([...d.y], [0, 1, 0]);
  const b = join(tmp, 'b.csv');
  writeFileSync(b, '1,0.25,0.5\n0,0.75,1\n');
  t.is(loadDataset(b).y, null);
  const byIndex = loadDataset(`${b}:label=0`);
  t.deepEqual([...byIndex.y], [1, 0]);
  t.deepEqual([...byIndex.x], [0.25, 0.5, 0.75, 1]);
  const byName = loadDataset(b, { labelColumn: 'c2' });
  t.deepEqual([...byName.y], [0.5, 1]);
  t.is(byName.classes, null);
  oneLine(t, () => loadDataset(a, { labelColumn: 'f2' }), 'E_DATA', a, "'cat' is not a number");
  const px = join(tmp, 'px.csv');
  writeFileSync(px, 'label,p0,p1\n3,0,255\n1,51,0\n');
  const p = loadDataset(px);
  t.deepEqual([...p.x], [0, 1, 0.2, 0].map(Math.fround));
  t.is(p.normalization.scale, 1 / 255);
  const bad = join(tmp, 'bad.csv');
  writeFileSync(bad, 'a,b\n1,2\n3\n');
  oneLine(t, () => loadDataset(bad), 'E_DATA', bad, 'line 3');
  const nan = join(tmp, 'nan.csv');
  writeFileSync(nan, 'a,b\n1,2\n3,x\n');
  oneLine(t, () => loadDataset(nan), 'E_DATA', nan, 'not a number');
  const empty = join(tmp, 'empty.csv');
  writeFileSync(empty, 'a,b\n');
  oneLine(t, () => loadDataset(empty), 'E_DATA', empty, 'empty');
  t.is(readCsv('x,y\n1,2\n', 'n').rows, 1);
});

test('decodePng: grey, grey+alpha, RGB, RGBA and palette with all five filters', (t) => {
  const w = 7, h = 6;
  const cases = [[0, 1], [4, 2], [2, 3], [6, 4]];
  for (const [ct, s] of cases) {
    const px = noise(w * h * s, ct + 1);
    const img = decodePng(png(w, h, ct, s, px), `c${ct}.png`);
    t.deepEqual([img.width, img.height, img.channels], [w, h, s]);
    t.deepEqual([...img.data], px, `colour type ${ct}`);
  }
  const pal = [10, 20, 30, 40, 50, 60, 70, 80, 90];
  const ids = Array.from({ length: w * h }, (_, i) => i % 3);
  const pimg = decodePng(png(w, h, 3, 1, ids, { palette: pal }), 'p.png');
  t.is(pimg.channels, 3);
  t.deepEqual([...pimg.data], ids.flatMap((k) => pal.slice(3 * k, 3 * k + 3)));
  oneLine(t, () => decodePng(png(2, 2, 0, 1, [1, 2, 3, 4], { depth: 16 }), 'd16.png'), 'E_DATA', 'd16.png', '16-bit');
  oneLine(t, () => decodePng(png(2, 2, 0, 1, [1, 2, 3, 4], { interlace: 1 }), 'il.png'), 'E_DATA', 'il.png', 'interlaced');
  const broken = png(2, 2, 0, 1, [1, 2, 3, 4]); broken[20] ^= 1;
  oneLine(t, () => decodePng(broken, 'crc.png'), 'E_DATA', 'crc.png', 'CRC');
  oneLine(t, () => decodePng(Buffer.from('GIF89a'), 'g.png'), 'E_DATA', 'g.png');
});

test('PNG class folders: classes, channels, splits, wrong image size, empty', (t) => {
  const root = join(tmp, 'shapes');
  for (const split of ['train', 'test']) {
    for (const [k, cls] of ['circle', 'square'].entries()) {
      mkdirSync(join(root, split, cls), { recursive: true });
      for (let i = 0; i < 3; i++) writeFileSync(join(root, split, cls, `${i}.png`), png(4, 3, 0, 1, new Array(12).fill(k * 200 + i)));
    }
  }
  const d = loadDataset(root);
  t.deepEqual(d.classes, ['circle', 'square']);
  t.deepEqual(d.xShape, [6, 3, 4, 1]);
  t.deepEqual([...d.y], [0, 1, 0, 1, 0, 1]);
  t.is(d.x[12], Math.fround(200 / 255));
  t.true(hasTestSplit(root));
  t.deepEqual(loadDataset(root, { split: 'test', limit: 2 }).xShape, [2, 3, 4, 1]);
  const rgb = join(tmp, 'rgb');
  mkdirSync(join(rgb, 'a'), { recursive: true });
  mkdirSync(join(rgb, 'b'), { recursive: true });
  writeFileSync(join(rgb, 'a', '0.png'), png(2, 1, 2, 3, [255, 0, 0, 0, 255, 0]));
  writeFileSync(join(rgb, 'b', '0.png'), png(2, 1, 0, 1, [51, 102]));
  const c = loadDataset(rgb);
  t.deepEqual(c.xShape, [2, 1, 2, 3]);
  t.deepEqual([...c.x.slice(6)], [0.2, 0.2, 0.2, 0.4, 0.4, 0.4].map(Math.fround));
  writeFileSync(join(rgb, 'b', '1.png'), png(3, 1, 0, 1, [1, 2, 3]));
  oneLine(t, () => loadDataset(rgb), 'E_DATA', join(rgb, 'b', '1.png'), 'wrong image size', '3x1', '2x1');
  const empty = join(tmp, 'empty-classes');
  mkdirSync(join(empty, 'x'), { recursive: true });
  oneLine(t, () => loadDataset(empty), 'E_DATA', empty, 'empty');
  oneLine(t, () => loadDataset(root, { split: 'test', limit: 0 }), 'E_DATA');
});

test('driving-grid: seeded, balanced, label = obstacle in the ego lane within the look-ahead', (t) => {
  const a = generateDrivingGrid(400, 7), b = generateDrivingGrid(400, 7), c = generateDrivingGrid(400, 8);
  t.deepEqual(a.x, b.x);
  t.deepEqual(a.y, b.y);
  t.notDeepEqual(a.x, c.x);
  let pos = 0;
  for (let s = 0; s < 400; s++) {
    const g = (r, col) => a.x[s * 100 + r * 10 + col];
    // The ego lane is the 2-column lane (starting at 1, 4 or 7) whose rows 8-9 read about 0.5.
    const lane = [1, 4, 7].reduce((best, l) => {
      const score = (x) => Math.abs(g(8, x) - 0.5) + Math.abs(g(8, x + 1) - 0.5) + Math.abs(g(9, x) - 0.5) + Math.abs(g(9, x + 1) - 0.5);
      return score(l) < score(best) ? l : best;
    }, 1);
    let blocked = 0;
    for (let r = 2; r <= 7; r++) if (g(r, lane) > 0.6 || g(r, lane + 1) > 0.6) blocked = 1;
    t.is(a.y[s], blocked, `sample ${s}`);
    pos += blocked;
  }
  t.true(pos > 120 && pos < 280, `${pos} of 400 positive`);
  const d = loadDataset('driving-grid:50');
  t.deepEqual(d.xShape, [50, 10, 10, 1]);
  t.is(loadDataset('driving-grid:50', { split: 'test' }).xShape[0], 1000);
  t.notDeepEqual(loadDataset('driving-grid:50', { seed: 2 }).x, d.x);
});

test('utilities: seeded shuffle, split, subset, shape check', (t) => {
  const p = shuffledIndices(50, 3);
  t.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  t.deepEqual(p, shuffledIndices(50, 3));
  t.notDeepEqual(p, shuffledIndices(50, 4));
  const ds = {
    x: Float32Array.from({ length: 40 }, (_, i) => i), xShape: [20, 2], y: Int32Array.from({ length: 20 }, (_, i) => i),
    yShape: [20], classes: null, source: 'mem', normalization: { scale: 1, offset: 0 },
  };
  const s = shuffleDataset(ds, 5);
  for (let i = 0; i < 20; i++) t.deepEqual([...s.x.slice(2 * i, 2 * i + 2)], [2 * s.y[i], 2 * s.y[i] + 1]);
  const { train, validation } = splitDataset(ds, 0.25, 1);
  t.is(train.xShape[0], 15);
  t.is(validation.xShape[0], 5);
  t.deepEqual([...train.y, ...validation.y].sort((x, y) => x - y), [...ds.y]);
  t.deepEqual(splitDataset(ds, 0.25, 1).validation.y, validation.y);
  t.is(subsetDataset(ds, 7, 2).xShape[0], 7);
  t.deepEqual([...takeSamples(ds, [3, 1]).x], [6, 7, 2, 3]);
  checkSampleShape(ds, [2], 'm');
  checkSampleShape(ds, [1, 2], 'm');
  oneLine(t, () => checkSampleShape(ds, [28, 28, 1], 'lenet'), 'E_DATA', 'mem', 'wrong image size');
  oneLine(t, () => checkSampleShape(ds, [1, 2], 'm', false), 'E_DATA', 'mem');
});

test('Fashion-MNIST test split: 10,000 images 28x28, labels 0..9', (t) => {
  if (!existsSync(FMNIST)) {
    t.log(`${FMNIST} is not installed; the real-data check cannot run here`);
    t.fail('Fashion-MNIST is required for this test (Debian package dataset-fashion-mnist)');
    return;
  }
  const d = loadDataset('fashion-mnist', { split: 'test' });
  t.deepEqual(d.xShape, [10000, 28, 28, 1]);
  t.is(d.y.length, 10000);
  const counts = new Array(10).fill(0);
  for (const v of d.y) counts[v]++;
  t.deepEqual(counts, new Array(10).fill(1000));
  t.is(d.classes.length, 10);
  let min = Infinity, max = -Infinity;
  for (const v of d.x) { if (v < min) min = v; if (v > max) max = v; }
  t.is(min, 0);
  t.is(max, 1);
  t.true(hasTestSplit('fashion-mnist'));
});
