// Writes person.png and no_person.png (96×96 8-bit grayscale, no colour profile or gamma
// chunk, so browsers decode the exact pixel values) from assets/person.gray and
// assets/no_person.gray. Those hold the upstream example's int8 input bytes (pixel − 128 as
// two's complement), so the pixel is the byte with its top bit flipped.
// Run from the repository root: node targets/browser/samples/make-samples.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC = new Int32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });
const crc32 = (b) => { let c = -1; for (const x of b) c = CRC[(c ^ x) & 255] ^ (c >>> 8); return (c ^ -1) >>> 0; };

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function grayPng(pixels, w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 0;                        // 8 bits, grayscale
  const raw = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) pixels.copy(raw, y * (w + 1) + 1, y * w, (y + 1) * w);   // filter 0 per row
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

for (const name of ['person', 'no_person']) {
  const px = readFileSync(`assets/${name}.gray`);
  if (px.length !== 96 * 96) throw new Error(`assets/${name}.gray: expected 9216 bytes, got ${px.length}`);
  writeFileSync(`targets/browser/samples/${name}.png`, grayPng(px.map((b) => b ^ 0x80), 96, 96));
}
