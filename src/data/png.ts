/**
 * A small PNG decoder for training images: 8-bit greyscale, grey+alpha, RGB, RGBA and
 * palette images, non-interlaced. Everything else (16-bit or 1/2/4-bit samples, Adam7
 * interlacing) is refused with a clear message rather than decoded wrongly.
 */
import { inflateSync } from 'node:zlib';
import { dataError } from './errors.js';

export interface PngImage {
  width: number;
  height: number;
  /** 1 (grey), 2 (grey+alpha), 3 (RGB; palette images expand to RGB) or 4 (RGBA). */
  channels: number;
  /** Row-major samples, `channels` per pixel. */
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function decodePng(bytes: Uint8Array, name: string): PngImage {
  if (bytes.length < 8 || SIGNATURE.some((s, i) => bytes[i] !== s)) throw dataError(name, 'not a PNG file (bad signature)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (pos < bytes.length) {
    if (pos + 12 > bytes.length) throw dataError(name, 'corrupt PNG: truncated chunk');
    const len = dv.getUint32(pos, false);
    const type = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!, bytes[pos + 6]!, bytes[pos + 7]!);
    const body = pos + 8;
    if (body + len + 4 > bytes.length) throw dataError(name, `corrupt PNG: chunk ${type} runs past the end of the file`);
    if (crc32(bytes, pos + 4, body + len) !== dv.getUint32(body + len, false)) throw dataError(name, `corrupt PNG: CRC mismatch in chunk ${type}`);
    if (type === 'IHDR') {
      if (len !== 13) throw dataError(name, 'corrupt PNG: IHDR is not 13 bytes');
      width = dv.getUint32(body, false);
      height = dv.getUint32(body + 4, false);
      depth = bytes[body + 8]!;
      colorType = bytes[body + 9]!;
      interlace = bytes[body + 12]!;
    } else if (type === 'PLTE') {
      palette = bytes.slice(body, body + len);
    } else if (type === 'IDAT') {
      idat.push(bytes.subarray(body, body + len));
    } else if (type === 'IEND') {
      ended = true;
      break;
    }
    pos = body + len + 4;
  }
  if (colorType < 0) throw dataError(name, 'corrupt PNG: no IHDR chunk');
  if (!ended) throw dataError(name, 'corrupt PNG: no IEND chunk (truncated file?)');
  const channelsOf: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const samples = channelsOf[colorType];
  if (samples === undefined) throw dataError(name, `corrupt PNG: colour type ${colorType}`);
  if (depth !== 8) throw dataError(name, `unsupported PNG: ${depth}-bit samples (only 8-bit images are read)`);
  if (interlace !== 0) throw dataError(name, 'unsupported PNG: interlaced (Adam7) images are not read; save it non-interlaced');
  if (width === 0 || height === 0) throw dataError(name, `corrupt PNG: size ${width}x${height}`);
  if (colorType === 3 && !palette) throw dataError(name, 'corrupt PNG: palette image without a PLTE chunk');
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  } catch (e) {
    throw dataError(name, `corrupt PNG: image data does not inflate (${(e as Error).message})`);
  }
  const stride = width * samples;
  if (raw.length < (stride + 1) * height) throw dataError(name, `corrupt PNG: ${raw.length} bytes of image data, ${(stride + 1) * height} needed`);
  const px = new Uint8Array(stride * height);
  const bpp = samples;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i]!;
      const a = i >= bpp ? px[row + i - bpp]! : 0;
      const b = y > 0 ? px[prev + i]! : 0;
      const c = i >= bpp && y > 0 ? px[prev + i - bpp]! : 0;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw dataError(name, `corrupt PNG: unknown filter type ${filter} in row ${y}`);
      }
      px[row + i] = v & 0xff;
    }
  }
  if (colorType !== 3) return { width, height, channels: samples, data: px };
  const pal = palette!;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const k = px[i]!;
    if (3 * k + 2 >= pal.length) throw dataError(name, `corrupt PNG: palette index ${k} outside the ${pal.length / 3}-entry palette`);
    out[3 * i] = pal[3 * k]!;
    out[3 * i + 1] = pal[3 * k + 1]!;
    out[3 * i + 2] = pal[3 * k + 2]!;
  }
  return { width, height, channels: 3, data: out };
}
