/**
 * A small LZ77 byte format for the memory image of a compiled module, decoded in place by
 * the module's start function (see DECODER in codegen.ts), so the file carries the
 * prepared weights and tables compressed and memory holds them once.
 *
 * Stream: sequences of
 *   token u8           high nibble: literal count (15 = more follows), low: match length - 4
 *   [255…, n]          literal count extension bytes, added while a byte is 255
 *   literals
 *   then, unless the stream ends here:
 *   offset u16 LE      distance back into the output (1…65535)
 *   [255…, n]          match length extension bytes, when the low nibble is 15
 */

const MIN_MATCH = 4;
const MAX_OFFSET = 65535;

function pushLength(out: number[], n: number): void {
  while (n >= 255) { out.push(255); n -= 255; }
  out.push(n);
}

export function lzCompress(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  const HASH_BITS = 16;
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  const hash = (i: number) => ((((src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0) * 2654435761) >>> 0) >>> (32 - HASH_BITS);
  let anchor = 0;
  let i = 0;
  const emit = (litEnd: number, matchLen: number, offset: number) => {
    const lit = litEnd - anchor;
    const ml = matchLen ? matchLen - MIN_MATCH : 0;
    out.push((Math.min(lit, 15) << 4) | Math.min(ml, 15));
    if (lit >= 15) pushLength(out, lit - 15);
    for (let k = anchor; k < litEnd; k++) out.push(src[k]!);
    if (matchLen) {
      out.push(offset & 0xff, offset >> 8);
      if (ml >= 15) pushLength(out, ml - 15);
    }
  };
  while (i + MIN_MATCH <= src.length) {
    const h = hash(i);
    const cand = table[h]!;
    table[h] = i;
    if (cand >= 0 && i - cand <= MAX_OFFSET && src[cand] === src[i] && src[cand + 1] === src[i + 1] && src[cand + 2] === src[i + 2] && src[cand + 3] === src[i + 3]) {
      let len = MIN_MATCH;
      while (i + len < src.length && src[cand + len] === src[i + len]) len++;
      emit(i, len, i - cand);
      const end = i + len;
      for (let k = i + 1; k < end && k + MIN_MATCH <= src.length; k += k < i + 16 ? 1 : 4) table[hash(k)] = k;
      i = end;
      anchor = i;
    } else {
      i++;
    }
  }
  emit(src.length, 0, 0);
  return new Uint8Array(out);
}

/** Reference decoder (the module's start function does the same); for tests. */
export function lzDecompress(src: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let i = 0, o = 0;
  for (;;) {
    const token = src[i++]!;
    let lit = token >> 4;
    if (lit === 15) { let b; do { b = src[i++]!; lit += b; } while (b === 255); }
    out.set(src.subarray(i, i + lit), o); i += lit; o += lit;
    if (i >= src.length) break;
    const off = src[i]! | (src[i + 1]! << 8); i += 2;
    let ml = (token & 15);
    if (ml === 15) { let b; do { b = src[i++]!; ml += b; } while (b === 255); }
    ml += MIN_MATCH;
    for (let k = 0; k < ml; k++, o++) out[o] = out[o - off]!;
  }
  return out;
}

/**
 * Margin needed to decode in place when the compressed bytes end `margin` bytes after the
 * end of the output region: the write position must never pass the read position.
 */
export function inPlaceMargin(src: Uint8Array, n: number): number {
  let i = 0, o = 0, worst = 0;
  const check = () => { worst = Math.max(worst, o - i); };
  for (;;) {
    const token = src[i++]!;
    let lit = token >> 4;
    if (lit === 15) { let b; do { b = src[i++]!; lit += b; } while (b === 255); }
    i += lit; o += lit; check();
    if (i >= src.length) break;
    i += 2;
    let ml = token & 15;
    if (ml === 15) { let b; do { b = src[i++]!; ml += b; } while (b === 255); }
    o += ml + MIN_MATCH; check();
  }
  // Output starts at A, input at A + n + margin - C: need A + o <= A + n + margin - C + i.
  return Math.max(0, worst + src.length - n);
}
