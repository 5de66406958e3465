/**
 * Bounds-checked flatbuffer accessors over the `flatbuffers` runtime's ByteBuffer.
 *
 * The generated accessors of the flatbuffers project trust the file; a model file
 * is untrusted input here, so every read goes through these helpers, which check the
 * position first and throw a KestrelError that names the structure being read.
 */
import { ByteBuffer } from 'flatbuffers';
import { KestrelError } from '../errors.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One decoder for every string of every model (names: hundreds per model). */
const UTF8 = new TextDecoder('utf-8', { fatal: false });

export class FbReader {
  readonly bb: ByteBuffer;
  readonly size: number;
  constructor(readonly bytes: Uint8Array, readonly source: string) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  fail(what: string, detail: string): never {
    throw new KestrelError('E_MODEL_TRUNCATED', `${this.source}: ${what}: ${detail}`);
  }

  check(pos: number, len: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || len < 0 || pos + len > this.size) {
      this.fail(what, `reads bytes ${pos}..${pos + len} of a ${this.size}-byte file`);
    }
  }

  u8(pos: number, what: string): number { this.check(pos, 1, what); return this.bb.readUint8(pos); }
  i8(pos: number, what: string): number { this.check(pos, 1, what); return this.bb.readInt8(pos); }
  u16(pos: number, what: string): number { this.check(pos, 2, what); return this.bb.readUint16(pos); }
  i16(pos: number, what: string): number { this.check(pos, 2, what); return this.bb.readInt16(pos); }
  i32(pos: number, what: string): number { this.check(pos, 4, what); return this.bb.readInt32(pos); }
  u32(pos: number, what: string): number { this.check(pos, 4, what); return this.bb.readUint32(pos); }
  f32(pos: number, what: string): number { this.check(pos, 4, what); return this.bb.readFloat32(pos); }
  i64(pos: number, what: string): bigint { this.check(pos, 8, what); return this.bb.readInt64(pos); }
  u64(pos: number, what: string): bigint { this.check(pos, 8, what); return this.bb.readUint64(pos); }

  /** Follows a uoffset stored at `pos`. */
  indirect(pos: number, what: string): number {
    const target = pos + this.u32(pos, what);
    this.check(target, 0, what);
    return target;
  }

  /** Root table position. */
  root(): number {
    if (this.size < 8) this.fail('model', 'file is too small to be a TFLite flatbuffer');
    return this.indirect(0, 'root table offset');
  }

  table(pos: number, what: string): Table {
    const vt = pos - this.i32(pos, `${what} vtable offset`);
    const vtSize = this.u16(vt, `${what} vtable`);
    if (vtSize < 4 || vtSize % 2 !== 0) this.fail(what, `bad vtable size ${vtSize}`);
    this.check(vt, vtSize, `${what} vtable`);
    const objSize = this.u16(vt + 2, `${what} vtable`);
    this.check(pos, objSize, what);
    return new Table(this, pos, vt, vtSize, what);
  }
}

export class Table {
  constructor(
    readonly r: FbReader,
    readonly pos: number,
    private readonly vt: number,
    private readonly vtSize: number,
    readonly what: string,
  ) {}

  /** Position of field `vtOffset` (4, 6, 8, ...), or 0 when absent. */
  field(vtOffset: number): number {
    if (vtOffset >= this.vtSize) return 0;
    const off = this.r.u16(this.vt + vtOffset, this.what);
    return off === 0 ? 0 : this.pos + off;
  }

  has(vtOffset: number): boolean { return this.field(vtOffset) !== 0; }

  i8(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.i8(p, `${this.what}.${name}`) : dflt; }
  u8(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.u8(p, `${this.what}.${name}`) : dflt; }
  bool(vt: number, dflt: boolean, name: string): boolean { const p = this.field(vt); return p ? this.r.u8(p, `${this.what}.${name}`) !== 0 : dflt; }
  i32(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.i32(p, `${this.what}.${name}`) : dflt; }
  u32(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.u32(p, `${this.what}.${name}`) : dflt; }
  f32(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.f32(p, `${this.what}.${name}`) : dflt; }
  u64(vt: number, dflt: bigint, name: string): bigint { const p = this.field(vt); return p ? this.r.u64(p, `${this.what}.${name}`) : dflt; }

  table(vt: number, name: string): Table | null {
    const p = this.field(vt);
    if (!p) return null;
    const what = `${this.what}.${name}`;
    return this.r.table(this.r.indirect(p, what), what);
  }

  string(vt: number, name: string): string {
    const v = this.vector(vt, 1, name);
    if (!v) return '';
    const bytes = this.r.bytes.subarray(v.start, v.start + v.length);
    return UTF8.decode(bytes);
  }

  /** A vector field: start of elements and element count, bounds-checked for `elemSize`. */
  vector(vt: number, elemSize: number, name: string): { start: number; length: number } | null {
    const p = this.field(vt);
    if (!p) return null;
    const what = `${this.what}.${name}`;
    const v = this.r.indirect(p, what);
    const length = this.r.u32(v, `${what} length`);
    this.r.check(v + 4, length * elemSize, what);
    return { start: v + 4, length };
  }

  i32s(vt: number, name: string): number[] | null {
    const v = this.vector(vt, 4, name);
    if (!v) return null;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readInt32(v.start + 4 * i);
    return out;
  }

  f32s(vt: number, name: string): number[] | null {
    const v = this.vector(vt, 4, name);
    if (!v) return null;
    // Per-channel models hold tens of thousands of scales, read at load before the engine
    // has optimized anything: an aligned vector is copied by the engine in one call (the
    // file's floats are little-endian, as typed arrays are on every platform Kestrel runs on).
    const at = this.r.bytes.byteOffset + v.start;
    if (at % 4 === 0 && LITTLE_ENDIAN) {
      // An index loop, not Array.from: before optimization, Array.from walks the typed
      // array through the iterator protocol, one result object per element.
      const f = new Float32Array(this.r.bytes.buffer, at, v.length);
      const out = new Array<number>(v.length);
      for (let i = 0; i < f.length; i++) out[i] = f[i]!;
      return out;
    }
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readFloat32(v.start + 4 * i);
    return out;
  }

  i64s(vt: number, name: string): bigint[] | null {
    const v = this.vector(vt, 8, name);
    if (!v) return null;
    const out = new Array<bigint>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readInt64(v.start + 8 * i);
    return out;
  }

  bytes(vt: number, name: string): Uint8Array | null {
    const v = this.vector(vt, 1, name);
    if (!v) return null;
    return this.r.bytes.subarray(v.start, v.start + v.length);
  }

  tables(vt: number, name: string): Table[] {
    const v = this.vector(vt, 4, name);
    if (!v) return [];
    const out: Table[] = [];
    for (let i = 0; i < v.length; i++) {
      const what = `${this.what}.${name}[${i}]`;
      out.push(this.r.table(this.r.indirect(v.start + 4 * i, what), what));
    }
    return out;
  }
}
