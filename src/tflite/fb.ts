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

/**
 * Where a read is, for its error message: a table (its path, built when first asked) or
 * a fixed text. Reads pass this and literal names instead of composed strings: a model
 * has thousands of fields, read at load before the engine has optimized anything, and a
 * composed path per read was a large part of what reading a model allocated.
 */
export type Where = Table | string;

/** `where` + `.name` + `[index]` + suffix, as error messages name a structure. */
function describe(where: Where, name: string, index: number, suffix: string): string {
  let s = typeof where === 'string' ? where : where.what;
  if (name) s += `.${name}`;
  if (index >= 0) s += `[${index}]`;
  return s + suffix;
}

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

  /** Throws unless bytes pos..pos+len lie in the file; the message names where + name + [index] + suffix. */
  check(pos: number, len: number, where: Where, name = '', index = -1, suffix = ''): void {
    if (!Number.isInteger(pos) || pos < 0 || len < 0 || pos + len > this.size) {
      this.fail(describe(where, name, index, suffix), `reads bytes ${pos}..${pos + len} of a ${this.size}-byte file`);
    }
  }

  u8(pos: number, where: Where, name = '', index = -1, suffix = ''): number { this.check(pos, 1, where, name, index, suffix); return this.bb.readUint8(pos); }
  i8(pos: number, where: Where, name = ''): number { this.check(pos, 1, where, name); return this.bb.readInt8(pos); }
  u16(pos: number, where: Where, name = '', index = -1, suffix = ''): number { this.check(pos, 2, where, name, index, suffix); return this.bb.readUint16(pos); }
  i16(pos: number, where: Where, name = ''): number { this.check(pos, 2, where, name); return this.bb.readInt16(pos); }
  i32(pos: number, where: Where, name = '', index = -1, suffix = ''): number { this.check(pos, 4, where, name, index, suffix); return this.bb.readInt32(pos); }
  u32(pos: number, where: Where, name = '', index = -1, suffix = ''): number { this.check(pos, 4, where, name, index, suffix); return this.bb.readUint32(pos); }
  f32(pos: number, where: Where, name = ''): number { this.check(pos, 4, where, name); return this.bb.readFloat32(pos); }
  i64(pos: number, where: Where, name = ''): bigint { this.check(pos, 8, where, name); return this.bb.readInt64(pos); }
  u64(pos: number, where: Where, name = ''): bigint { this.check(pos, 8, where, name); return this.bb.readUint64(pos); }

  /** Follows a uoffset stored at `pos`. */
  indirect(pos: number, where: Where, name = '', index = -1): number {
    const target = pos + this.u32(pos, where, name, index);
    this.check(target, 0, where, name, index);
    return target;
  }

  /** Root table position. */
  root(): number {
    if (this.size < 8) this.fail('model', 'file is too small to be a TFLite flatbuffer');
    return this.indirect(0, 'root table offset');
  }

  /** The table at `pos`, named where + name + [index] in messages. */
  table(pos: number, where: Where, name = '', index = -1): Table {
    const t = new Table(this, pos, where, name, index);
    const vt = pos - this.i32(pos, where, name, index, ' vtable offset');
    const vtSize = this.u16(vt, where, name, index, ' vtable');
    if (vtSize < 4 || vtSize % 2 !== 0) this.fail(t.what, `bad vtable size ${vtSize}`);
    this.check(vt, vtSize, where, name, index, ' vtable');
    const objSize = this.u16(vt + 2, where, name, index, ' vtable');
    this.check(pos, objSize, where, name, index);
    t.setVtable(vt, vtSize);
    return t;
  }
}

/** ASCII bytes as a string without a TextDecoder call (most tensor names); null otherwise. */
function ascii(bytes: Uint8Array, start: number, end: number): string | null {
  if (end - start > 256) return null;
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return null;
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

export class Table {
  private vt = 0;
  private vtSize = 0;
  private path: string | null = null;
  constructor(
    readonly r: FbReader,
    readonly pos: number,
    private readonly where: Where,
    private readonly name: string,
    private readonly index: number,
  ) {}

  /** Set once by FbReader.table after the vtable is checked. */
  setVtable(vt: number, vtSize: number): void {
    this.vt = vt;
    this.vtSize = vtSize;
  }

  /** This table's path for messages (model.subgraphs[0].tensors[3]...), built on first use. */
  get what(): string {
    if (this.path === null) this.path = describe(this.where, this.name, this.index, '');
    return this.path;
  }

  /** Position of field `vtOffset` (4, 6, 8, ...), or 0 when absent. */
  field(vtOffset: number): number {
    if (vtOffset >= this.vtSize) return 0;
    const off = this.r.u16(this.vt + vtOffset, this);
    return off === 0 ? 0 : this.pos + off;
  }

  has(vtOffset: number): boolean { return this.field(vtOffset) !== 0; }

  i8(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.i8(p, this, name) : dflt; }
  u8(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.u8(p, this, name) : dflt; }
  bool(vt: number, dflt: boolean, name: string): boolean { const p = this.field(vt); return p ? this.r.u8(p, this, name) !== 0 : dflt; }
  i32(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.i32(p, this, name) : dflt; }
  u32(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.u32(p, this, name) : dflt; }
  f32(vt: number, dflt: number, name: string): number { const p = this.field(vt); return p ? this.r.f32(p, this, name) : dflt; }
  u64(vt: number, dflt: bigint, name: string): bigint { const p = this.field(vt); return p ? this.r.u64(p, this, name) : dflt; }

  table(vt: number, name: string): Table | null {
    const p = this.field(vt);
    if (!p) return null;
    return this.r.table(this.r.indirect(p, this, name), this, name);
  }

  string(vt: number, name: string): string {
    const v = this.vector(vt, 1, name);
    if (!v) return '';
    const end = v.start + v.length;
    return ascii(this.r.bytes, v.start, end) ?? UTF8.decode(this.r.bytes.subarray(v.start, end));
  }

  /** A vector field: start of elements and element count, bounds-checked for `elemSize`. */
  vector(vt: number, elemSize: number, name: string): { start: number; length: number } | null {
    const p = this.field(vt);
    if (!p) return null;
    const v = this.r.indirect(p, this, name);
    const length = this.r.u32(v, this, name, -1, ' length');
    this.r.check(v + 4, length * elemSize, this, name);
    return { start: v + 4, length };
  }

  i32s(vt: number, name: string): number[] | null {
    const v = this.vector(vt, 4, name);
    if (!v) return null;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readInt32(v.start + 4 * i);
    return out;
  }

  /**
   * A float32 vector of scales, with the index of the first one that is not a finite
   * number >= 0 (bad; -1 when all are), checked in the same pass: per-channel models hold
   * tens of thousands of scales, read at load before the engine has optimized anything,
   * where each read of a number out of an array allocates it again.
   */
  scales(vt: number, name: string): { values: number[]; bad: number } | null {
    const v = this.vector(vt, 4, name);
    if (!v) return null;
    const out = new Array<number>(v.length);
    let bad = -1;
    // An aligned vector is read through a Float32Array view (the file's floats are
    // little-endian, as typed arrays are on every platform Kestrel runs on). An index loop,
    // not Array.from: before optimization, Array.from walks the typed array through the
    // iterator protocol, one result object per element.
    const at = this.r.bytes.byteOffset + v.start;
    const f = at % 4 === 0 && LITTLE_ENDIAN ? new Float32Array(this.r.bytes.buffer, at, v.length) : null;
    for (let i = 0; i < v.length; i++) {
      const x = f ? f[i]! : this.r.bb.readFloat32(v.start + 4 * i);
      if (bad < 0 && !(x >= 0 && x < Infinity)) bad = i;
      out[i] = x;
    }
    return { values: out, bad };
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
    for (let i = 0; i < v.length; i++) out.push(this.r.table(this.r.indirect(v.start + 4 * i, this, name, i), this, name, i));
    return out;
  }
}
