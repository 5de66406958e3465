/**
 * Minimal, bounds-checked TFLite flatbuffer reader and in-place patcher, just enough for
 * running rival engines: list subgraph-0 inputs/outputs (dtype, shape, quantization) and
 * repair the two things LiteRT.js refuses in otherwise valid models.
 * Field slots follow tensorflow/lite/schema/schema.fbs (vtable slot n is at 4 + 2n).
 * (Also used by bench/vs-litert.mjs through bench/lib/tflite-min.mjs.)
 */
// @ts-nocheck -- a direct, self-checking byte walker; its JS shape is kept on purpose.
const TENSOR_TYPES = {
  0: 'float32', 1: 'float16', 2: 'int32', 3: 'uint8', 4: 'int64', 5: 'string', 6: 'bool',
  7: 'int16', 8: 'complex64', 9: 'int8', 10: 'float64', 11: 'complex128', 12: 'uint64',
  13: 'resource', 14: 'variant', 15: 'uint32', 16: 'uint16', 17: 'int4',
};

// Slots (field ids) used below.
const MODEL = { subgraphs: 2 };
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2 };
const TENSOR = { shape: 0, type: 1, name: 3, quantization: 4, is_variable: 5, shape_signature: 7 };
const QUANT = { scale: 2, zero_point: 3, quantized_dimension: 6 };

class Fb {
  bytes; dv;
  constructor(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('model bytes must be a Uint8Array');
    if (bytes.length < 8) throw new Error(`file has ${bytes.length} bytes, too small for a TFLite model`);
    const id = String.fromCharCode(...bytes.subarray(4, 8));
    if (id !== 'TFL3') throw new Error(`not a TFLite model (file identifier '${id}')`);
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  check(pos, len, what) {
    if (!Number.isInteger(pos) || pos < 0 || pos + len > this.bytes.length) {
      throw new Error(`malformed flatbuffer: ${what} at ${pos}+${len} is outside the ${this.bytes.length}-byte file`);
    }
  }
  u16(p, w) { this.check(p, 2, w); return this.dv.getUint16(p, true); }
  u32(p, w) { this.check(p, 4, w); return this.dv.getUint32(p, true); }
  i32(p, w) { this.check(p, 4, w); return this.dv.getInt32(p, true); }
  root() { return this.u32(0, 'root offset'); }
  /** Absolute position of field `slot` of the table at `t`, or 0 when absent. */
  field(t, slot, what) {
    const vt = t - this.i32(t, `${what} vtable offset`);
    const vtSize = this.u16(vt, `${what} vtable`);
    const at = 4 + 2 * slot;
    if (at + 2 > vtSize) return 0;
    const off = this.u16(vt + at, `${what} field ${slot}`);
    return off ? t + off : 0;
  }
  /** Follows a uoffset field to a table or vector; 0 when the field is absent. */
  ref(t, slot, what) {
    const p = this.field(t, slot, what);
    return p ? p + this.u32(p, what) : 0;
  }
  /** [start, length] of a vector of 4-byte elements (or tables) at field `slot`. */
  vec(t, slot, what) {
    const v = this.ref(t, slot, what);
    if (!v) return [0, 0];
    const n = this.u32(v, `${what} length`);
    this.check(v + 4, n * 4, what);
    return [v + 4, n];
  }
  tables(t, slot, what) {
    const [s, n] = this.vec(t, slot, what);
    const out = [];
    for (let i = 0; i < n; i++) out.push(s + 4 * i + this.u32(s + 4 * i, `${what}[${i}]`));
    return out;
  }
  i32s(t, slot, what) {
    const [s, n] = this.vec(t, slot, what);
    const out = [];
    for (let i = 0; i < n; i++) out.push(this.i32(s + 4 * i, what));
    return out;
  }
  string(t, slot, what) {
    const v = this.ref(t, slot, what);
    if (!v) return '';
    const n = this.u32(v, what);
    this.check(v + 4, n, what);
    return new TextDecoder().decode(this.bytes.subarray(v + 4, v + 4 + n));
  }
  scalarI8(t, slot, def, what) { const p = this.field(t, slot, what); if (!p) return def; this.check(p, 1, what); return this.dv.getInt8(p); }
}

function subgraphs(fb) {
  return fb.tables(fb.root(), MODEL.subgraphs, 'model.subgraphs');
}

function tensorInfo(fb, t, index) {
  const w = `tensors[${index}]`;
  const q = fb.ref(t, TENSOR.quantization, `${w}.quantization`);
  let scale = 0, zeroPoint = 0;
  if (q) {
    const [ss, sn] = fb.vec(q, QUANT.scale, `${w}.scale`);
    if (sn) scale = fb.dv.getFloat32(ss, true);
    const zv = fb.ref(q, QUANT.zero_point, `${w}.zero_point`);
    if (zv && fb.u32(zv, w) > 0) { fb.check(zv + 4, 8, w); zeroPoint = Number(fb.dv.getBigInt64(zv + 4, true)); }
  }
  const code = fb.scalarI8(t, TENSOR.type, 0, `${w}.type`);
  return {
    index,
    name: fb.string(t, TENSOR.name, `${w}.name`),
    dtype: TENSOR_TYPES[code] ?? `type${code}`,
    shape: fb.i32s(t, TENSOR.shape, `${w}.shape`),
    scale, zeroPoint,
  };
}

/** Inputs and outputs of subgraph 0: {inputs:[{index,name,dtype,shape,scale,zeroPoint}], outputs:[...]} */
export function describeModel(bytes) {
  const fb = new Fb(bytes);
  const sgs = subgraphs(fb);
  if (!sgs.length) throw new Error('model has no subgraph');
  const sg = sgs[0];
  const tensors = fb.tables(sg, SUBGRAPH.tensors, 'subgraphs[0].tensors');
  const pick = (slot, what) => fb.i32s(sg, slot, what).map((i) => {
    if (i < 0 || i >= tensors.length) throw new Error(`${what} names tensor ${i}, but there are ${tensors.length}`);
    return tensorInfo(fb, tensors[i], i);
  });
  return { inputs: pick(SUBGRAPH.inputs, 'subgraphs[0].inputs'), outputs: pick(SUBGRAPH.outputs, 'subgraphs[0].outputs') };
}

/**
 * Returns { bytes, repairs } where bytes is a patched COPY (or the original when no
 * repair applies) and repairs lists what was changed. Repairs (all in place, no
 * size change, and semantically neutral for a batch-1 run):
 *  - quantized_dimension >= the tensor's rank (e.g. rank-1 bias with 3) -> 0;
 *  - shape_signature entries of -1 (dynamic dims) -> the static shape's value.
 */
export function repairForLiteRt(bytes) {
  const fb0 = new Fb(bytes);
  const copy = new Uint8Array(bytes);
  const fb = new Fb(copy);
  const repairs = { quantizedDimension: [], shapeSignature: [] };
  subgraphs(fb0).forEach((sg, s) => {
    fb.tables(sg, SUBGRAPH.tensors, `subgraphs[${s}].tensors`).forEach((t, i) => {
      const w = `subgraphs[${s}].tensors[${i}]`;
      const shape = fb.i32s(t, TENSOR.shape, `${w}.shape`);
      const q = fb.ref(t, TENSOR.quantization, `${w}.quantization`);
      if (q) {
        const p = fb.field(q, QUANT.quantized_dimension, `${w}.quantization`);
        if (p) {
          const qd = fb.i32(p, `${w}.quantized_dimension`);
          if (qd !== 0 && qd >= shape.length) {
            fb.dv.setInt32(p, 0, true);
            repairs.quantizedDimension.push({ subgraph: s, tensor: i, name: fb.string(t, TENSOR.name, w), rank: shape.length, from: qd, to: 0 });
          }
        }
      }
      const [ss, sn] = fb.vec(t, TENSOR.shape_signature, `${w}.shape_signature`);
      if (sn) {
        const before = [];
        let changed = false;
        for (let d = 0; d < sn; d++) {
          const v = fb.i32(ss + 4 * d, w);
          before.push(v);
          if (v === -1) {
            fb.dv.setInt32(ss + 4 * d, shape[d] > 0 ? shape[d] : 1, true);
            changed = true;
          }
        }
        if (changed) {
          repairs.shapeSignature.push({ subgraph: s, tensor: i, name: fb.string(t, TENSOR.name, w), from: before, to: fb.i32s(t, TENSOR.shape_signature, w) });
        }
      }
    });
  });
  const any = repairs.quantizedDimension.length + repairs.shapeSignature.length > 0;
  return { bytes: any ? copy : bytes, repairs, repaired: any };
}

/** One-line human summary of repairForLiteRt's result. */
export function describeRepairs(r) {
  const parts = [];
  if (r.quantizedDimension.length) {
    const from = [...new Set(r.quantizedDimension.map((x) => x.from))].join('/');
    parts.push(`${r.quantizedDimension.length} tensor(s) quantized_dimension ${from}->0 (rank < dim)`);
  }
  if (r.shapeSignature.length) {
    const first = r.shapeSignature[0];
    parts.push(`${r.shapeSignature.length} tensor(s) shape_signature -1 pinned to the static dim (e.g. [${first.from}]->[${first.to}])`);
  }
  return parts.join('; ');
}
