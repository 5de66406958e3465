/**
 * A float32 reference interpreter over the Graph IR. It gives the float activations that
 * calibration measures and that the report compares the int8 model with.
 *
 * With `simulate: true` it also runs a quantized graph approximately: quantized constants are
 * dequantized, and every int8/int16 tensor an op writes is rounded to its grid (scale, zero
 * point, saturation). That is how the report evaluates graphs with float islands, which
 * Kestrel's integer runtime does not run.
 */
import { KestrelError } from '../errors.js';
import type { Graph, Op, Tensor } from '../graph/types.js';
import { numElements } from '../graph/types.js';
import { constFloat, constValues } from './tensor-data.js';

export interface RunOptions {
  /** Called with every tensor an op writes (and the graph inputs), in execution order. */
  onTensor?: (tensorIndex: number, values: Float32Array) => void;
  /** Round int8/int16 tensors to their quantization grid (see the file comment). */
  simulate?: boolean;
}

/** Float ops the interpreter (and so calibration) understands. */
export const FLOAT_OPS = new Set([
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'MEAN',
  'RESHAPE', 'SQUEEZE', 'EXPAND_DIMS', 'SOFTMAX', 'LOGISTIC', 'TANH', 'RELU', 'RELU6', 'ADD',
  'SUB', 'MUL', 'MINIMUM', 'MAXIMUM', 'CONCATENATION', 'PAD', 'PADV2', 'STRIDED_SLICE',
  'QUANTIZE', 'DEQUANTIZE', 'UNIDIRECTIONAL_SEQUENCE_LSTM',
]);

const fail = (g: Graph, op: Op, msg: string): never => {
  throw new KestrelError('E_QUANTIZE', `${g.source}: op #${op.index} ${op.opcode}: ${msg}`);
};

function activate(v: Float32Array, act: string | undefined): void {
  switch (act ?? 'NONE') {
    case 'NONE': return;
    case 'RELU': for (let i = 0; i < v.length; i++) v[i] = Math.max(0, v[i]!); return;
    case 'RELU6': for (let i = 0; i < v.length; i++) v[i] = Math.min(6, Math.max(0, v[i]!)); return;
    case 'RELU_N1_TO_1': for (let i = 0; i < v.length; i++) v[i] = Math.min(1, Math.max(-1, v[i]!)); return;
    case 'TANH': for (let i = 0; i < v.length; i++) v[i] = Math.tanh(v[i]!); return;
    case 'SIGN_BIT': for (let i = 0; i < v.length; i++) v[i] = v[i]! < 0 ? 1 : 0; return;
    default: throw new KestrelError('E_QUANTIZE', `unknown fused activation ${act}`);
  }
}

function padBefore(inSize: number, outSize: number, k: number, stride: number, dil: number, padding: string): number {
  if (padding !== 'SAME') return 0;
  const eff = (k - 1) * dil + 1;
  const total = Math.max((outSize - 1) * stride + eff - inSize, 0);
  return Math.floor(total / 2);
}

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]!; }
  return s;
}

/** numpy-style broadcast of a binary op into the output shape. */
function broadcast(a: Float32Array, as: number[], b: Float32Array, bs: number[], os: number[], f: (x: number, y: number) => number): Float32Array {
  const n = numElements(os);
  const out = new Float32Array(n);
  if (a.length === n && b.length === n) { for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!); return out; }
  if (b.length === 1) { const y = b[0]!; for (let i = 0; i < n; i++) out[i] = f(a[i % a.length]!, y); if (a.length === n) return out; }
  const r = os.length;
  const pad = (s: number[]) => [...new Array(r - s.length).fill(1), ...s];
  const A = pad(as), B = pad(bs);
  const sa = stridesOf(A).map((s, i) => (A[i] === 1 ? 0 : s));
  const sb = stridesOf(B).map((s, i) => (B[i] === 1 ? 0 : s));
  const so = stridesOf(os);
  for (let i = 0; i < n; i++) {
    let rem = i, ia = 0, ib = 0;
    for (let d = 0; d < r; d++) { const c = Math.floor(rem / so[d]!); rem -= c * so[d]!; ia += c * sa[d]!; ib += c * sb[d]!; }
    out[i] = f(a[ia]!, b[ib]!);
  }
  return out;
}

/** Rounds values to a tensor's quantization grid (per tensor or per channel). */
export function fakeQuantize(t: Tensor, v: Float32Array): Float32Array {
  const q = t.quant;
  if (!q || q.scale.length === 0 || t.dtype === 'float32') return v;
  const [lo, hi] = t.dtype === 'int8' ? [-128, 127] : t.dtype === 'int16' ? [-32768, 32767] : t.dtype === 'uint8' ? [0, 255] : [-2147483648, 2147483647];
  const s = q.scale[0]!, z = q.zeroPoint[0] ?? 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]! / s;
    const r = x < 0 ? -Math.round(-x) : Math.round(x);
    out[i] = (Math.min(hi, Math.max(lo, r + z)) - z) * s;
  }
  return out;
}

/**
 * Runs `graph` on float inputs (one Float32Array per graph input, in the input's shape) and
 * returns the graph outputs as Float32Arrays.
 */
export function runFloat(graph: Graph, inputs: Float32Array[], opts: RunOptions = {}): Float32Array[] {
  const g = graph;
  const vals: (Float32Array | null)[] = new Array(g.tensors.length).fill(null);
  const consts = new Map<number, Float32Array>();
  if (inputs.length !== g.inputs.length) {
    throw new KestrelError('E_INPUT_COUNT', `${g.source}: model has ${g.inputs.length} input(s), got ${inputs.length}`);
  }
  g.inputs.forEach((ti, k) => {
    const t = g.tensors[ti]!;
    const x = inputs[k]!;
    if (x.length !== numElements(t.shape)) {
      throw new KestrelError('E_INPUT_SHAPE', `${g.source}: input ${k} '${t.name}' has shape [${t.shape}] (${numElements(t.shape)} values), got ${x.length} values`);
    }
    vals[ti] = opts.simulate ? fakeQuantize(t, x) : x;
    opts.onTensor?.(ti, vals[ti]!);
  });
  const get = (i: number): Float32Array => {
    const v = vals[i];
    if (v) return v;
    const t = g.tensors[i]!;
    if (t.data) {
      let c = consts.get(i);
      if (!c) consts.set(i, c = constFloat(t));
      return c;
    }
    if (t.isVariable) return new Float32Array(numElements(t.shape));
    throw new KestrelError('E_QUANTIZE', `${g.source}: tensor #${i} '${t.name}' is read before it is written`);
  };
  const ints = (i: number): number[] => Array.from(constValues(g.tensors[i]!));

  for (const op of g.ops) {
    const T = (i: number) => g.tensors[op.inputs[i]!]!;
    const out = g.tensors[op.outputs[0]!]!;
    const os = out.shape;
    const o = op.options;
    let y: Float32Array;
    switch (op.opcode) {
      case 'CONV_2D': case 'DEPTHWISE_CONV_2D': {
        const x = get(op.inputs[0]!), w = get(op.inputs[1]!);
        const b = op.inputs[2] !== undefined && op.inputs[2]! >= 0 ? get(op.inputs[2]!) : null;
        const [N, H, W, C] = T(0).shape as [number, number, number, number];
        const ws = T(1).shape;
        const [, Ho, Wo, Co] = os as [number, number, number, number];
        const Kh = ws[1]!, Kw = ws[2]!;
        const sh = o.strideH || 1, sw = o.strideW || 1, dh = o.dilationH || 1, dw = o.dilationW || 1;
        const pt = padBefore(H, Ho, Kh, sh, dh, o.padding), pl = padBefore(W, Wo, Kw, sw, dw, o.padding);
        const dwise = op.opcode === 'DEPTHWISE_CONV_2D';
        const Ci = dwise ? C : ws[3]!;
        if (!dwise && C % Ci !== 0) fail(g, op, `input has ${C} channels but the filter expects ${Ci}`);
        const mult = dwise ? Co / C : 1;
        y = new Float32Array(numElements(os));
        for (let n = 0; n < N; n++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) for (let co = 0; co < Co; co++) {
          let acc = b ? b[co]! : 0;
          for (let ky = 0; ky < Kh; ky++) {
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < Kw; kx++) {
              const ix = ox * sw - pl + kx * dw;
              if (ix < 0 || ix >= W) continue;
              const base = ((n * H + iy) * W + ix) * C;
              if (dwise) {
                acc += x[base + Math.floor(co / mult)]! * w[(ky * Kw + kx) * Co + co]!;
              } else {
                const wb = ((co * Kh + ky) * Kw + kx) * Ci;
                for (let ci = 0; ci < Ci; ci++) acc += x[base + ci]! * w[wb + ci]!;
              }
            }
          }
          y[((n * Ho + oy) * Wo + ox) * Co + co] = acc;
        }
        activate(y, o.activation);
        break;
      }
      case 'FULLY_CONNECTED': {
        const x = get(op.inputs[0]!), w = get(op.inputs[1]!);
        const b = op.inputs[2] !== undefined && op.inputs[2]! >= 0 ? get(op.inputs[2]!) : null;
        const [U, I] = T(1).shape as [number, number];
        if (x.length % I !== 0) fail(g, op, `input of ${x.length} values is not a multiple of the ${I} weight columns`);
        const rows = x.length / I;
        y = new Float32Array(rows * U);
        for (let r = 0; r < rows; r++) for (let u = 0; u < U; u++) {
          let acc = b ? b[u]! : 0;
          const xb = r * I, wb = u * I;
          for (let i = 0; i < I; i++) acc += x[xb + i]! * w[wb + i]!;
          y[r * U + u] = acc;
        }
        activate(y, o.activation);
        break;
      }
      case 'MAX_POOL_2D': case 'AVERAGE_POOL_2D': {
        const x = get(op.inputs[0]!);
        const [N, H, W, C] = T(0).shape as [number, number, number, number];
        const [, Ho, Wo] = os as [number, number, number, number];
        const fh = o.filterH, fw = o.filterW, sh = o.strideH || 1, sw = o.strideW || 1;
        const pt = padBefore(H, Ho, fh, sh, 1, o.padding), pl = padBefore(W, Wo, fw, sw, 1, o.padding);
        const avg = op.opcode === 'AVERAGE_POOL_2D';
        y = new Float32Array(numElements(os));
        for (let n = 0; n < N; n++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) for (let c = 0; c < C; c++) {
          let acc = avg ? 0 : -Infinity, cnt = 0;
          for (let ky = 0; ky < fh; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < fw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= W) continue;
              const v = x[((n * H + iy) * W + ix) * C + c]!;
              if (avg) acc += v; else if (v > acc) acc = v;
              cnt++;
            }
          }
          y[((n * Ho + oy) * Wo + ox) * C + c] = avg ? (cnt ? acc / cnt : 0) : acc;
        }
        activate(y, o.activation);
        break;
      }
      case 'MEAN': {
        const x = get(op.inputs[0]!);
        const is = T(0).shape;
        const axes = new Set(ints(op.inputs[1]!).map((a) => (a < 0 ? a + is.length : a)));
        const keptShape = is.map((d, i) => (axes.has(i) ? 1 : d));
        const ks = stridesOf(keptShape), xs = stridesOf(is);
        const n = numElements(keptShape);
        const sum = new Float64Array(n);
        let count = 1;
        for (const a of axes) count *= is[a]!;
        for (let i = 0; i < x.length; i++) {
          let rem = i, k = 0;
          for (let d = 0; d < is.length; d++) { const c = Math.floor(rem / xs[d]!); rem -= c * xs[d]!; if (!axes.has(d)) k += c * ks[d]!; }
          sum[k] = sum[k]! + x[i]!;
        }
        y = new Float32Array(n);
        for (let i = 0; i < n; i++) y[i] = sum[i]! / count;
        break;
      }
      case 'RESHAPE': case 'SQUEEZE': case 'EXPAND_DIMS': case 'QUANTIZE': case 'DEQUANTIZE':
        y = Float32Array.from(get(op.inputs[0]!));
        break;
      case 'SOFTMAX': {
        const x = get(op.inputs[0]!);
        const beta = o.beta ?? 1;
        const D = os[os.length - 1]!;
        y = new Float32Array(x.length);
        for (let r = 0; r < x.length; r += D) {
          let m = -Infinity;
          for (let i = 0; i < D; i++) m = Math.max(m, x[r + i]!);
          let s = 0;
          for (let i = 0; i < D; i++) { const e = Math.exp((x[r + i]! - m) * beta); y[r + i] = e; s += e; }
          for (let i = 0; i < D; i++) y[r + i] = y[r + i]! / s;
        }
        break;
      }
      case 'LOGISTIC': { const x = get(op.inputs[0]!); y = x.map((v) => 1 / (1 + Math.exp(-v))); break; }
      case 'TANH': { const x = get(op.inputs[0]!); y = x.map((v) => Math.tanh(v)); break; }
      case 'RELU': { y = Float32Array.from(get(op.inputs[0]!)); activate(y, 'RELU'); break; }
      case 'RELU6': { y = Float32Array.from(get(op.inputs[0]!)); activate(y, 'RELU6'); break; }
      case 'ADD': case 'SUB': case 'MUL': case 'MINIMUM': case 'MAXIMUM': {
        const f = op.opcode === 'ADD' ? (a: number, b: number) => a + b
          : op.opcode === 'SUB' ? (a: number, b: number) => a - b
            : op.opcode === 'MUL' ? (a: number, b: number) => a * b
              : op.opcode === 'MINIMUM' ? Math.min : Math.max;
        y = broadcast(get(op.inputs[0]!), T(0).shape, get(op.inputs[1]!), T(1).shape, os, f);
        activate(y, o.activation);
        break;
      }
      case 'CONCATENATION': {
        const r = os.length;
        const axis = o.axis < 0 ? o.axis + r : o.axis;
        let outer = 1, inner = 1;
        for (let i = 0; i < axis; i++) outer *= os[i]!;
        for (let i = axis + 1; i < r; i++) inner *= os[i]!;
        y = new Float32Array(numElements(os));
        const rowOut = os[axis]! * inner;
        let off = 0;
        for (let k = 0; k < op.inputs.length; k++) {
          const x = get(op.inputs[k]!);
          const rowIn = T(k).shape[axis]! * inner;
          for (let q = 0; q < outer; q++) y.set(x.subarray(q * rowIn, (q + 1) * rowIn), q * rowOut + off);
          off += rowIn;
        }
        activate(y, o.activation);
        break;
      }
      case 'PAD': case 'PADV2': {
        const x = get(op.inputs[0]!);
        const is = T(0).shape;
        const p = ints(op.inputs[1]!);
        const fill = op.opcode === 'PADV2' && op.inputs[2] !== undefined && op.inputs[2]! >= 0 ? get(op.inputs[2]!)[0]! : 0;
        y = new Float32Array(numElements(os)).fill(fill);
        const xs = stridesOf(is), ys = stridesOf(os);
        for (let i = 0; i < x.length; i++) {
          let rem = i, k = 0;
          for (let d = 0; d < is.length; d++) { const c = Math.floor(rem / xs[d]!); rem -= c * xs[d]!; k += (c + p[2 * d]!) * ys[d]!; }
          y[k] = x[i]!;
        }
        break;
      }
      case 'STRIDED_SLICE': {
        const x = get(op.inputs[0]!);
        const is = T(0).shape;
        if (o.ellipsisMask || o.newAxisMask) fail(g, op, 'ellipsis and new-axis masks are not supported');
        const begin = ints(op.inputs[1]!), end = ints(op.inputs[2]!);
        const st = op.inputs[3] !== undefined && op.inputs[3]! >= 0 ? ints(op.inputs[3]!) : begin.map(() => 1);
        const r = is.length;
        const starts: number[] = [], counts: number[] = [], steps: number[] = [];
        for (let d = 0; d < r; d++) {
          const D = is[d]!;
          const s = d < st.length ? st[d]! : 1;
          if (s === 0) fail(g, op, 'stride 0');
          const clampIdx = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + D : v));
          let b = d < begin.length ? begin[d]! : 0, e = d < end.length ? end[d]! : D;
          const shrink = (o.shrinkAxisMask >> d) & 1;
          if (shrink) {
            b = b < 0 ? b + D : b;
            starts.push(b); counts.push(1); steps.push(1);
            continue;
          }
          if ((o.beginMask >> d) & 1) b = s > 0 ? 0 : D - 1; else b = s > 0 ? clampIdx(b, 0, D) : clampIdx(b, -1, D - 1);
          if ((o.endMask >> d) & 1) e = s > 0 ? D : -1; else e = s > 0 ? clampIdx(e, 0, D) : clampIdx(e, -1, D - 1);
          const c = s > 0 ? Math.max(0, Math.ceil((e - b) / s)) : Math.max(0, Math.ceil((b - e) / -s));
          starts.push(b); counts.push(c); steps.push(s);
        }
        const n = numElements(counts);
        if (n !== numElements(os)) fail(g, op, `slice has ${n} values but the output shape [${os}] holds ${numElements(os)}`);
        y = new Float32Array(n);
        const xs = stridesOf(is), cs = stridesOf(counts);
        for (let i = 0; i < n; i++) {
          let rem = i, k = 0;
          for (let d = 0; d < r; d++) { const c = Math.floor(rem / cs[d]!); rem -= c * cs[d]!; k += (starts[d]! + c * steps[d]!) * xs[d]!; }
          y[i] = x[k]!;
        }
        break;
      }
      case 'UNIDIRECTIONAL_SEQUENCE_LSTM': {
        y = lstmFloat(g, op, get, opts);
        break;
      }
      default:
        fail(g, op, 'not supported by the float interpreter');
        y = new Float32Array(0);
    }
    if (y.length !== numElements(os)) fail(g, op, `computed ${y.length} values for output shape [${os}]`);
    if (opts.simulate) y = fakeQuantize(out, y);
    vals[op.outputs[0]!] = y;
    opts.onTensor?.(op.outputs[0]!, y);
  }
  return g.outputs.map((i) => get(i));
}

/**
 * A float LSTM (batch-major [B, T, in], sigmoid gates i/f/o, tanh cell gate and cell
 * activation, optional cell clip), the math of the unrolled form in lstm.ts. The state starts
 * at zero on every run. Besides the op output (every hidden state), `onTensor` receives the
 * cell-state tensor (input 19) with every cell value and the output-state tensor (input 18)
 * with every hidden value, so that calibration measures their ranges.
 */
function lstmFloat(g: Graph, op: Op, get: (i: number) => Float32Array, opts: RunOptions): Float32Array {
  const inp = (k: number) => (op.inputs[k] !== undefined ? op.inputs[k]! : -1);
  const o = op.options;
  if (o.timeMajor) fail(g, op, 'time_major is true');
  if (o.activation !== 'TANH') fail(g, op, `cell activation ${o.activation} is not supported`);
  for (const k of [1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15]) if (inp(k) < 0) fail(g, op, `input ${k} is missing (CIFG is not supported)`);
  for (const k of [9, 10, 11, 16, 17, 20, 21, 22, 23]) if (inp(k) >= 0) fail(g, op, `input ${k} is set (peephole, projection and layer normalization are not supported)`);
  const xs = g.tensors[inp(0)]!.shape;
  if (xs.length !== 3) fail(g, op, `input has shape [${xs}], expected [batch, time, features]`);
  const [B, T, I] = xs as [number, number, number];
  const H = g.tensors[inp(2)]!.shape[0]!;
  const x = get(inp(0));
  const wx = [1, 2, 3, 4].map((k) => get(inp(k)));
  const wh = [5, 6, 7, 8].map((k) => get(inp(k)));
  const bias = [12, 13, 14, 15].map((k) => get(inp(k)));
  const clip = o.cellClip > 0 ? o.cellClip : 0;
  const y = new Float32Array(B * T * H);
  const cells = new Float32Array(B * T * H);
  const h = new Float32Array(H), c = new Float32Array(H), z = new Float32Array(4 * H);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  for (let b = 0; b < B; b++) {
    h.fill(0); c.fill(0);
    for (let t = 0; t < T; t++) {
      const xo = (b * T + t) * I;
      for (let gi = 0; gi < 4; gi++) {
        const W = wx[gi]!, R = wh[gi]!, bv = bias[gi]!;
        for (let r = 0; r < H; r++) {
          let acc = bv[r]!;
          for (let i = 0; i < I; i++) acc += W[r * I + i]! * x[xo + i]!;
          for (let j = 0; j < H; j++) acc += R[r * H + j]! * h[j]!;
          z[gi * H + r] = acc;
        }
      }
      const yo = (b * T + t) * H;
      for (let r = 0; r < H; r++) {
        const ig = sig(z[r]!), fg = sig(z[H + r]!), cg = Math.tanh(z[2 * H + r]!), og = sig(z[3 * H + r]!);
        let cv = fg * c[r]! + ig * cg;
        if (clip) cv = Math.min(clip, Math.max(-clip, cv));
        c[r] = cv;
        cells[yo + r] = cv;
      }
      for (let r = 0; r < H; r++) { h[r] = sig(z[3 * H + r]!) * Math.tanh(c[r]!); y[yo + r] = h[r]!; }
    }
  }
  if (inp(19) >= 0) opts.onTensor?.(inp(19), cells);
  if (inp(18) >= 0) opts.onTensor?.(inp(18), y);
  return y;
}
