/**
 * Prepare steps of the shape family: data movement and reductions.
 * Kernels: assembly/ops/shape.ts (record layouts are documented there, above each kernel).
 *
 * RESHAPE, SQUEEZE, EXPAND_DIMS        -> COPY
 * TRANSPOSE, STRIDED_SLICE             -> WALK (6-D strided copy)
 * PAD, PADV2                           -> PAD (fill + 6-D strided copy)
 * CONCATENATION                        -> CONCAT
 * MEAN, AVERAGE_POOL_2D, MAX_POOL_2D   -> see shape-reduce.ts
 */
import { byteLength, dtypeSize, numElements, type Tensor } from '../../graph/types.js';
import type { OpContext, OpDef } from './types.js';
import {
  constInts, contiguousStrides, K, moveElemSize, qparams, resolveAxis, sameShape, walkDescriptor,
} from './shape-common.js';
import { averagePool, maxPool, mean } from './shape-reduce.js';

export { K };

function checkCounts(ctx: OpContext, minIn: number, maxIn: number, outs = 1): void {
  const n = ctx.op.inputs.length;
  if (n < minIn || n > maxIn) {
    ctx.fail(`has ${n} inputs (expected ${minIn === maxIn ? minIn : `${minIn} to ${maxIn}`})`);
  }
  if (ctx.op.outputs.length !== outs) ctx.fail(`has ${ctx.op.outputs.length} outputs (expected ${outs})`);
}

/** Element size for a data-movement op, failing on dtypes it does not move. */
function elemSize(ctx: OpContext, t: Tensor, allowed: readonly string[]): number {
  const es = moveElemSize(t.dtype);
  if (!es || !allowed.includes(t.dtype)) ctx.unsupported(`type ${t.dtype} is not supported (supported: ${allowed.join(', ')})`);
  return es;
}

/** Record for a plain copy of the whole input into the output: [src, dst, bytes]. */
function copyRecord(ctx: OpContext, input: Tensor, output: Tensor) {
  if (input.dtype !== output.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
  if (dtypeSize(input.dtype) === 0) ctx.unsupported(`type ${input.dtype} is not supported`);
  if (numElements(input.shape) !== numElements(output.shape)) {
    ctx.fail(`input shape [${input.shape}] and output shape [${output.shape}] have different element counts`);
  }
  const bytes = byteLength(output);
  if (bytes !== byteLength(input)) ctx.fail(`input and output sizes differ`);
  ctx.b.tensor(input).tensor(output).i32(bytes);
  return { kernel: K.COPY };
}

/** A requested shape (with at most one -1) resolved against an element count, or null if it cannot be. */
function resolveShape(values: number[], count: number): number[] | null {
  let stretch = -1;
  let known = 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === -1) {
      if (stretch >= 0) return null;
      stretch = i;
    } else if (v < 0) {
      return null;
    } else {
      known *= v;
    }
  }
  const out = values.slice();
  if (stretch >= 0) {
    if (known === 0 || count % known !== 0) return null;
    out[stretch] = count / known;
  }
  return out;
}

const reshape: OpDef = {
  name: 'RESHAPE',
  maxVersion: 1,
  prepare(ctx) {
    checkCounts(ctx, 1, 2);
    const input = ctx.requireInput(0, 'input');
    const output = ctx.output(0);
    const count = numElements(input.shape);
    // The requested shape: the shape input when it is an int32 vector (checked only when
    // constant), else a non-empty new_shape option.
    let requested: number[] | null = null;
    let source = '';
    const shapeT = ctx.input(1);
    if (shapeT && shapeT.dtype === 'int32' && shapeT.shape.length === 1) {
      if (shapeT.data) {
        requested = constInts(ctx, shapeT, 'shape');
        source = 'shape input';
      }
    } else if (Array.isArray(ctx.op.options.newShape) && ctx.op.options.newShape.length > 0) {
      requested = (ctx.op.options.newShape as number[]).slice();
      source = 'new_shape option';
      // Legacy form: [0] with a single input means a scalar.
      if (!shapeT && requested.length === 1 && requested[0] === 0) requested = [];
    }
    if (requested) {
      const resolved = resolveShape(requested, count);
      if (!resolved || !sameShape(resolved, output.shape)) {
        ctx.fail(`${source} [${requested}] does not match output shape [${output.shape}] for ${count} elements`);
      }
    }
    return copyRecord(ctx, input, output);
  },
};

const squeeze: OpDef = {
  name: 'SQUEEZE',
  maxVersion: 2,
  prepare(ctx) {
    checkCounts(ctx, 1, 1);
    const input = ctx.requireInput(0, 'input');
    const output = ctx.output(0);
    if (input.shape.length > 8) ctx.unsupported(`input rank ${input.shape.length} (at most 8)`);
    // The output must be the input with some size-1 dimensions removed.
    let j = 0;
    for (const d of input.shape) {
      if (j < output.shape.length && output.shape[j] === d) j++;
      else if (d !== 1) j = -1;
      if (j < 0) break;
    }
    if (j !== output.shape.length) ctx.fail(`output shape [${output.shape}] is not input shape [${input.shape}] with size-1 dimensions removed`);
    return copyRecord(ctx, input, output);
  },
};

const expandDims: OpDef = {
  name: 'EXPAND_DIMS',
  maxVersion: 2,
  prepare(ctx) {
    checkCounts(ctx, 2, 2);
    const input = ctx.requireInput(0, 'input');
    const axisT = ctx.requireInput(1, 'axis');
    const output = ctx.output(0);
    if (axisT.shape.length > 1) ctx.fail(`axis must be a scalar or 1-element vector`);
    const axes = constInts(ctx, axisT, 'axis');
    if (axes.length !== 1) ctx.fail(`axis has ${axes.length} elements (expected 1)`);
    const rank = input.shape.length;
    let axis = axes[0]!;
    if (axis < 0) axis += rank + 1;
    if (axis < 0 || axis > rank) ctx.fail(`axis ${axes[0]} out of range for input rank ${rank}`);
    const expected = [...input.shape.slice(0, axis), 1, ...input.shape.slice(axis)];
    if (!sameShape(expected, output.shape)) ctx.fail(`output shape [${output.shape}] should be [${expected}]`);
    return copyRecord(ctx, input, output);
  },
};

const concatenation: OpDef = {
  name: 'CONCATENATION',
  maxVersion: 4,
  prepare(ctx) {
    const n = ctx.op.inputs.length;
    if (n < 1) ctx.fail(`has no inputs`);
    checkCounts(ctx, 1, n);
    const output = ctx.output(0);
    const es = elemSize(ctx, output, ['int8', 'int16', 'int32', 'float32', 'int64', 'bool']);
    const act = ctx.op.options.activation ?? 'NONE';
    if (act !== 'NONE') ctx.unsupported(`fused activation ${act} is not supported`);
    const rank = output.shape.length;
    if (rank === 0) ctx.fail(`output is a scalar`);
    const axis = resolveAxis(ctx, ctx.op.options.axis ?? 0, rank);
    const inputs: Tensor[] = [];
    for (let i = 0; i < n; i++) inputs.push(ctx.requireInput(i, `input ${i}`));
    const oq = qparams(output);
    if (output.dtype === 'int16' && oq.zp !== 0) ctx.fail(`int16 output zero point must be 0`);
    let sum = 0;
    for (const [i, t] of inputs.entries()) {
      if (t.dtype !== output.dtype) ctx.fail(`input ${i} is ${t.dtype} but output is ${output.dtype}`);
      if (t.shape.length !== rank) ctx.fail(`input ${i} has rank ${t.shape.length} but output has rank ${rank}`);
      for (let d = 0; d < rank; d++) {
        if (d !== axis && t.shape[d] !== output.shape[d]) {
          ctx.fail(`input ${i} shape [${t.shape}] does not match output shape [${output.shape}] outside axis ${axis}`);
        }
      }
      sum += t.shape[axis]!;
      const q = qparams(t);
      if (t.dtype === 'int8' && (q.scale !== oq.scale || q.zp !== oq.zp)) {
        ctx.unsupported(`int8 input ${i} quantization (scale ${q.scale}, zero point ${q.zp}) differs from the output's (scale ${oq.scale}, zero point ${oq.zp}); requantizing concatenation is not supported`);
      }
      if (t.dtype === 'int16' && q.zp !== 0) ctx.fail(`int16 input ${i} zero point must be 0`);
    }
    if (sum !== output.shape[axis]) ctx.fail(`inputs sum to ${sum} along axis ${axis} but output has ${output.shape[axis]}`);
    const outer = numElements(output.shape.slice(0, axis));
    const inner = numElements(output.shape.slice(axis + 1));
    ctx.b.tensor(output).i32(outer).i32(n);
    for (const t of inputs) ctx.b.tensor(t).i32(t.shape[axis]! * inner * es);
    return { kernel: K.CONCAT };
  },
};

function padPrepare(ctx: OpContext) {
  checkCounts(ctx, 2, 3);
  const input = ctx.requireInput(0, 'input');
  const paddingsT = ctx.requireInput(1, 'paddings');
  const constT = ctx.input(2);
  const output = ctx.output(0);
  if (input.dtype !== output.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
  const es = elemSize(ctx, input, ['int8', 'int16', 'int32', 'float32']);
  const rank = output.shape.length;
  if (input.shape.length !== rank) ctx.fail(`input rank ${input.shape.length} differs from output rank ${rank}`);
  if (rank > 5) ctx.unsupported(`rank ${rank} (at most 5 supported)`);
  const pads = constInts(ctx, paddingsT, 'paddings', true);
  if (pads.length !== 2 * rank) ctx.fail(`paddings has ${pads.length} values (expected ${2 * rank})`);
  for (let i = 0; i < rank; i++) {
    const l = pads[2 * i]!, r = pads[2 * i + 1]!;
    if (l < 0 || r < 0) ctx.unsupported(`negative paddings are not supported`);
    if (output.shape[i] !== input.shape[i]! + l + r) {
      ctx.fail(`output dimension ${i} is ${output.shape[i]} but input ${input.shape[i]} + paddings ${l} + ${r} = ${input.shape[i]! + l + r}`);
    }
  }
  // Pad value: constant_values when given, else the output zero point for int8, else 0.
  let value = 0;
  let runtimeValue: Tensor | null = null;
  const oq = qparams(output);
  if (constT) {
    if (constT.dtype !== input.dtype) ctx.fail(`constant_values is ${constT.dtype} but input is ${input.dtype}`);
    if (numElements(constT.shape) !== 1) ctx.fail(`constant_values must hold exactly one element`);
    if (input.dtype === 'int8') {
      const cq = qparams(constT);
      if (cq.zp !== oq.zp || cq.scale !== oq.scale) ctx.fail(`constant_values quantization differs from the output's`);
    }
    if (constT.data) {
      const v = new DataView(constT.data.buffer, constT.data.byteOffset, constT.data.byteLength);
      value = es === 1 ? v.getInt8(0) : es === 2 ? v.getInt16(0, true) : v.getInt32(0, true);
    } else {
      runtimeValue = constT;
    }
  } else if (input.dtype === 'int8') {
    if (oq.zp < -128 || oq.zp > 127) ctx.fail(`output zero point ${oq.zp} is outside int8 range`);
    value = oq.zp;
  }
  const outStrides = contiguousStrides(output.shape);
  let dstOffset = 0;
  for (let i = 0; i < rank; i++) dstOffset += pads[2 * i]! * outStrides[i]!;
  const desc = walkDescriptor(ctx, es, input.shape, contiguousStrides(input.shape), outStrides);
  ctx.b.tensor(input).tensor(output).i32(numElements(output.shape)).i32(value);
  if (runtimeValue) ctx.b.tensor(runtimeValue); else ctx.b.i32(0);
  ctx.b.i32(dstOffset * es).i32s(desc);
  return { kernel: K.PAD };
}

const pad: OpDef = { name: 'PAD', maxVersion: 4, prepare: padPrepare };
const padV2: OpDef = { name: 'PADV2', maxVersion: 4, prepare: padPrepare };

const transpose: OpDef = {
  name: 'TRANSPOSE',
  maxVersion: 6,
  prepare(ctx) {
    checkCounts(ctx, 2, 2);
    const input = ctx.requireInput(0, 'input');
    const permT = ctx.requireInput(1, 'perm');
    const output = ctx.output(0);
    if (input.dtype !== output.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    const es = elemSize(ctx, input, ['int8', 'int16', 'int32', 'float32', 'int64', 'bool']);
    const rank = input.shape.length;
    if (rank > 6) ctx.unsupported(`rank ${rank} (at most 6 supported)`);
    if (permT.shape.length !== 1) ctx.fail(`perm must be a vector`);
    const perm = constInts(ctx, permT, 'perm', true);
    if (perm.length !== rank) ctx.fail(`perm has ${perm.length} entries for rank ${rank}`);
    const seen = new Set<number>();
    for (const p of perm) {
      if (p < 0 || p >= rank || seen.has(p)) ctx.fail(`perm [${perm}] is not a permutation of 0..${rank - 1}`);
      seen.add(p);
    }
    const expected = perm.map((p) => input.shape[p]!);
    if (!sameShape(expected, output.shape)) ctx.fail(`output shape [${output.shape}] should be [${expected}]`);
    const inStrides = contiguousStrides(input.shape);
    const desc = walkDescriptor(ctx, es, expected, perm.map((p) => inStrides[p]!), contiguousStrides(expected));
    ctx.b.tensor(input).tensor(output).i32(0).i32s(desc);
    return { kernel: K.WALK };
  },
};

const INT_MIN = -0x80000000;
const INT_MAX = 0x7fffffff;
const clampInt = (v: number, lo: number, hi: number) => (hi < v ? hi : v < lo ? lo : v);

const stridedSlice: OpDef = {
  name: 'STRIDED_SLICE',
  maxVersion: 8,
  prepare(ctx) {
    checkCounts(ctx, 4, 4);
    const input = ctx.requireInput(0, 'input');
    const output = ctx.output(0);
    if (input.dtype !== output.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    const es = elemSize(ctx, input, ['int8', 'int16', 'int32', 'float32', 'int64', 'bool']);
    const rank = input.shape.length;
    if (rank > 5) ctx.unsupported(`rank ${rank} (at most 5 supported)`);
    const begin = constInts(ctx, ctx.requireInput(1, 'begin'), 'begin', true);
    const end = constInts(ctx, ctx.requireInput(2, 'end'), 'end', true);
    const strides = constInts(ctx, ctx.requireInput(3, 'strides'), 'strides', true);
    if (begin.length < rank || end.length < rank || strides.length < rank) {
      ctx.fail(`begin/end/strides have ${begin.length}/${end.length}/${strides.length} values for rank ${rank}`);
    }
    // TFLite Micro reads only begin, end and shrink-axis masks; the ellipsis and
    // new-axis masks and the offset option do not take part in its computation.
    const o = ctx.op.options;
    const beginMask = o.beginMask ?? 0, endMask = o.endMask ?? 0, shrinkMask = o.shrinkAxisMask ?? 0;
    const bit = (m: number, i: number) => (m & (1 << i)) !== 0;

    // Output shape, as the reference's size check computes it.
    const expected: number[] = [];
    for (let i = 0; i < rank; i++) {
      const size = input.shape[i]!;
      const stride = strides[i]!;
      if (stride === 0) ctx.fail(`stride ${i} is 0`);
      let b = 0, e = 0;
      if (size !== 0) {
        b = begin[i]!;
        if (bit(beginMask, i)) b = stride > 0 ? INT_MIN : INT_MAX;
        if (b < 0) b += size;
        b = stride > 0 ? clampInt(b, 0, size) : clampInt(b, -1, size - 1);
        if (bit(shrinkMask, i)) {
          e = b + 1;
        } else {
          e = end[i]!;
          if (bit(endMask, i)) e = stride > 0 ? INT_MAX : INT_MIN;
          if (e < 0) e += size;
          e = stride > 0 ? clampInt(e, 0, size) : clampInt(e, -1, size - 1);
        }
      }
      if (bit(shrinkMask, i)) continue;
      let dim = Math.ceil(Math.fround(Math.fround(e - b) / Math.fround(stride)));
      if (dim < 0) dim = 0;
      expected.push(dim);
    }
    if (!sameShape(expected, output.shape)) ctx.fail(`output shape [${output.shape}] should be [${expected}]`);

    // The elements the reference's evaluation visits, axis by axis.
    const inStrides = contiguousStrides(input.shape);
    const counts: number[] = [];
    const srcStrides: number[] = [];
    let srcOffset = 0;
    for (let i = 0; i < rank; i++) {
      const size = input.shape[i]!;
      const stride = strides[i]!;
      let start = begin[i]!;
      if (start < 0) start += size;
      start = stride > 0 ? clampInt(start, 0, size) : clampInt(start, -1, size - 1);
      if (bit(beginMask, i)) start = stride > 0 ? 0 : size - 1;
      let stop: number;
      if (bit(shrinkMask, i)) {
        stop = start >= size ? start : start + 1;
      } else {
        stop = end[i]!;
        if (stop < 0) stop += size;
        stop = stride > 0 ? clampInt(stop, 0, size) : clampInt(stop, -1, size - 1);
        if (bit(endMask, i)) stop = stride > 0 ? size : -1;
      }
      let n = 0;
      if (stride > 0 && start < stop) n = Math.ceil((stop - start) / stride);
      if (stride < 0 && start > stop) n = Math.ceil((start - stop) / -stride);
      counts.push(n);
      srcStrides.push(inStrides[i]! * stride);
      if (n > 0) srcOffset += start * inStrides[i]!;
    }
    if (numElements(counts) !== numElements(output.shape)) {
      ctx.unsupported(`this slice writes ${numElements(counts)} elements into an output of ${numElements(output.shape)} (the reference leaves the rest undefined)`);
    }
    const desc = walkDescriptor(ctx, es, counts, srcStrides, contiguousStrides(counts));
    ctx.b.tensor(input).tensor(output).i32(srcOffset * es).i32s(desc);
    return { kernel: K.WALK };
  },
};

export const shapeOps: OpDef[] = [
  reshape, squeeze, expandDims, concatenation, pad, padV2, transpose, stridedSlice,
  mean, averagePool, maxPool,
];
