/**
 * TensorFlow.js LayersModel (model.json + weight files) -> float Graph.
 *
 * The graph uses TFLite's builtin ops and layouts (NHWC activations, OHWI conv filters,
 * [1,kh,kw,in*mult] depthwise filters, [out,in] fully-connected weights), so it can be
 * written with writeTflite and run by any TFLite runtime, or quantized by Kestrel.
 * Supported layers are listed in SUPPORTED_LAYERS; anything else is refused with one
 * line naming the layer.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KestrelError } from '../errors.js';
import type { DType, Graph, Op, Tensor } from '../graph/types.js';
import { opVersion } from '../tflite/writer.js';

export interface LayersConvertOptions {
  /** Name of the model (a directory or file) used in messages and as Graph.source. */
  source?: string;
  /** Batch size of the graph's input (the saved model's batch dimension is usually open). Default 1. */
  batch?: number;
}

export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'Dense', 'MaxPooling2D', 'AveragePooling2D',
  'GlobalAveragePooling2D', 'Flatten', 'Reshape', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D',
  'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'Activation', 'ReLU', 'BatchNormalization',
  'Add', 'Concatenate', 'LSTM',
] as const;

/** Layers that are the identity at inference time. */
const IDENTITY_LAYERS = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

interface WeightSpec { name: string; shape: number[]; dtype: string; quantization?: unknown; offset: number; }

interface LayerNode {
  name: string;
  className: string;
  config: any;
  /** Names of the layers whose outputs feed this layer, in order. */
  inbound: string[];
}

/** Reads model.json (a file, or a directory holding one) and its weight files, concatenated in manifest order. */
export function readLayersModelDir(pathOrModelJson: string): { modelJson: any; weights: Uint8Array } {
  let jsonPath = pathOrModelJson;
  try {
    if (statSync(jsonPath).isDirectory()) jsonPath = join(jsonPath, 'model.json');
  } catch {
    throw new KestrelError('E_IO', `${pathOrModelJson}: no such file or directory`);
  }
  let text: string;
  try {
    text = readFileSync(jsonPath, 'utf8');
  } catch {
    throw new KestrelError('E_IO', `${jsonPath}: cannot read the model file (missing or unreadable)`);
  }
  let modelJson: any;
  try {
    modelJson = JSON.parse(text);
  } catch (e) {
    throw new KestrelError('E_CONVERT', `${jsonPath}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology) {
    throw new KestrelError('E_CONVERT', `${jsonPath}: not a TensorFlow.js LayersModel (no modelTopology)`);
  }
  const groups: any[] = Array.isArray(modelJson.weightsManifest) ? modelJson.weightsManifest : [];
  const parts: Uint8Array[] = [];
  const dir = dirname(jsonPath);
  for (const g of groups) {
    for (const p of (Array.isArray(g?.paths) ? g.paths : [])) {
      const file = join(dir, String(p));
      try {
        parts.push(new Uint8Array(readFileSync(file)));
      } catch {
        throw new KestrelError('E_IO', `${file}: weight file named in ${jsonPath} is missing or unreadable`);
      }
    }
  }
  const total = parts.reduce((s, x) => s + x.length, 0);
  const weights = new Uint8Array(total);
  let o = 0;
  for (const x of parts) { weights.set(x, o); o += x.length; }
  return { modelJson, weights };
}

/** Converts a parsed model.json and its weight bytes into a float32 Graph. */
export function layersModelToGraph(modelJson: any, weights: Uint8Array, opts: LayersConvertOptions = {}): Graph {
  const source = opts.source ?? 'model.json';
  const fail = (msg: string): never => { throw new KestrelError('E_CONVERT', `${source}: ${msg}`); };
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) fail(`batch must be a positive integer, got ${batch}`);
  if (!(weights instanceof Uint8Array)) fail('weights must be a Uint8Array');
  const topology = modelJson?.modelTopology;
  if (!topology || typeof topology !== 'object') fail('not a TensorFlow.js LayersModel (no modelTopology)');
  const modelConfig = topology.model_config ?? topology; // Keras-style files nest it once more

  // ---- weights: name -> float32 values, checked against the manifest.
  const specs: WeightSpec[] = [];
  let offset = 0;
  for (const g of (Array.isArray(modelJson.weightsManifest) ? modelJson.weightsManifest : [])) {
    for (const w of (Array.isArray(g?.weights) ? g.weights : [])) {
      const shape: number[] = Array.isArray(w.shape) ? w.shape.map(Number) : [];
      const dtype = String(w.dtype ?? 'float32');
      if (w.quantization) fail(`weight '${w.name}' is stored quantized (${JSON.stringify(w.quantization.dtype ?? w.quantization)}); only float32 weights can be converted`);
      if (dtype !== 'float32') fail(`weight '${w.name}' has dtype ${dtype}; only float32 weights can be converted`);
      specs.push({ name: String(w.name), shape, dtype, offset });
      offset += shape.reduce((a, b) => a * b, 1) * 4;
    }
  }
  if (offset !== weights.length) {
    fail(`the weights manifest describes ${offset} bytes of weights but the weight data holds ${weights.length} bytes`);
  }
  const weightView = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);

  // ---- the layer graph (Sequential or functional).
  const { layers, inputNames, outputNames } = parseTopology(modelConfig, fail);

  // ---- graph under construction.
  const tensors: Tensor[] = [];
  const ops: Op[] = [];
  const usedNames = new Set<string>();
  const uniqueName = (name: string) => {
    let n = name, k = 1;
    while (usedNames.has(n)) n = `${name}_${k++}`;
    usedNames.add(n);
    return n;
  };
  const addTensor = (name: string, shape: number[], dtype: DType = 'float32', data: Uint8Array | null = null, isVariable = false): number => {
    const index = tensors.length;
    tensors.push({ index, name: uniqueName(name), shape, shapeSignature: null, dtype, data, quant: null, isVariable });
    return index;
  };
  const addF32 = (name: string, shape: number[], values: Float32Array | number[]) =>
    addTensor(name, shape, 'float32', new Uint8Array(Float32Array.from(values).buffer));
  const addI32 = (name: string, values: number[]) =>
    addTensor(name, [values.length], 'int32', new Uint8Array(Int32Array.from(values).buffer));
  const addOp = (opcode: string, inputs: number[], outputs: number[], options: Record<string, any> = {}) => {
    ops.push({ index: ops.length, opcode, customCode: '', version: 1, inputs, outputs, intermediates: [], options });
  };
  const shapeOf = (t: number) => tensors[t]!.shape;

  /** The layer's weight `short` (e.g. 'kernel'), checked for shape and finite values. */
  const weight = (layer: LayerNode, short: string, shape: number[]): Float32Array => {
    const re = new RegExp(`^${escapeRe(layer.name)}/(?:.*/)?${escapeRe(short)}(?:_\\d+)?$`);
    const spec = specs.find((s) => s.name === `${layer.name}/${short}`) ?? specs.find((s) => re.test(s.name));
    if (!spec) fail(`layer '${layer.name}' (${layer.className}): weight '${short}' is not in the weights manifest`);
    if (spec!.shape.length !== shape.length || spec!.shape.some((d, i) => d !== shape[i])) {
      fail(`layer '${layer.name}' (${layer.className}): weight '${spec!.name}' has shape [${spec!.shape.join(',')}], expected [${shape.join(',')}]`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = weightView.getFloat32(spec!.offset + 4 * i, true);
      if (!Number.isFinite(v)) fail(`layer '${layer.name}' (${layer.className}): weight '${spec!.name}' holds ${v} at element ${i}`);
      out[i] = v;
    }
    return out;
  };

  // ---- inputs.
  const outputOf = new Map<string, number>(); // layer name -> tensor holding its output
  for (const name of inputNames) {
    const layer = layers.get(name)!;
    const bis = layer.config?.batch_input_shape ?? layer.config?.batch_shape ?? layer.config?.batchInputShape ?? (layer.config?.input_shape ? [null, ...layer.config.input_shape] : null);
    if (!Array.isArray(bis) || bis.length < 2) fail(`input layer '${name}' has no batch_input_shape`);
    const dims = (bis as any[]).slice(1);
    if (dims.some((d) => !Number.isInteger(d) || d <= 0)) fail(`input layer '${name}' has an open dimension in [${(bis as any[]).map((d) => d ?? 'null').join(',')}]; only the batch dimension may be open`);
    const dt = layer.config?.dtype ?? 'float32';
    if (dt !== 'float32') fail(`input layer '${name}' has dtype ${dt}; only float32 inputs are supported`);
    outputOf.set(name, addTensor(layer.className === 'InputLayer' ? name : `${name}_input`, [batch, ...dims]));
  }
  const graphInputs = inputNames.map((n) => outputOf.get(n)!);

  // ---- layers in dependency order.
  const done = new Set<string>(inputNames.filter((n) => layers.get(n)!.className === 'InputLayer'));
  const pending = [...layers.values()].filter((l) => !done.has(l.name));
  while (pending.length) {
    const i = pending.findIndex((l) => l.inbound.every((n) => outputOf.has(n)) && (l.inbound.length > 0 || outputOf.has(l.name)));
    if (i < 0) fail(`layer '${pending[0]!.name}' depends on layers that are not in the model (or on itself)`);
    const layer = pending.splice(i, 1)[0]!;
    const ins = layer.inbound.length ? layer.inbound.map((n) => outputOf.get(n)!) : [outputOf.get(layer.name)!];
    outputOf.set(layer.name, convertLayer(layer, ins));
  }
  const graphOutputs = outputNames.map((n) => {
    const t = outputOf.get(n);
    if (t === undefined) fail(`output layer '${n}' is not in the model`);
    return t!;
  });

  /** Emits the ops of one layer; returns the tensor holding its output. */
  function convertLayer(layer: LayerNode, ins: number[]): number {
    const { name, className: cls, config: c } = layer;
    const what = `layer '${name}' (${cls})`;
    const one = (): number => {
      if (ins.length !== 1) fail(`${what} has ${ins.length} inputs, expected 1`);
      return ins[0]!;
    };
    const rankIs = (t: number, r: number, label: string) => {
      if (shapeOf(t).length !== r) fail(`${what}: input has shape [${shapeOf(t).join(',')}], expected a rank-${r} ${label}`);
    };
    const channelsLast = () => {
      const df = c?.data_format ?? 'channels_last';
      if (df !== 'channels_last') fail(`${what}: data_format ${df} is not supported (channels_last only)`);
    };
    const pair = (v: any, dflt: number[]): number[] => (v == null ? dflt : Array.isArray(v) ? v.map(Number) : [Number(v), Number(v)]);
    const padding = (): 'SAME' | 'VALID' => {
      const p = String(c?.padding ?? 'valid');
      if (p !== 'valid' && p !== 'same') fail(`${what}: padding '${p}' is not supported (valid or same)`);
      return p === 'same' ? 'SAME' : 'VALID';
    };
    const outSize = (inp: number, k: number, s: number, d: number, pad: string) =>
      pad === 'SAME' ? Math.ceil(inp / s) : Math.floor((inp - (k - 1) * d - 1) / s) + 1;

    /** Applies `activation` after an op whose own fused activation is set by `fuse` when TFLite allows. */
    const finish = (pre: number, act: string, canFuse: ((a: 'RELU' | 'RELU6') => void) | null): number => {
      return applyActivation(what, name, pre, act, canFuse);
    };

    /** Input, kernel, strides, dilation, padding and output size of a 2-D convolution layer. */
    const convGeometry = () => {
      channelsLast();
      const x = one();
      rankIs(x, 4, 'NHWC tensor');
      const [, h, w, cin] = shapeOf(x) as [number, number, number, number];
      const [kh, kw] = pair(c.kernel_size, [1, 1]) as [number, number];
      const [sh, sw] = pair(c.strides, [1, 1]) as [number, number];
      const [dh, dw] = pair(c.dilation_rate, [1, 1]) as [number, number];
      const pad = padding();
      const oh = outSize(h, kh, sh, dh, pad), ow = outSize(w, kw, sw, dw, pad);
      if (oh <= 0 || ow <= 0) fail(`${what}: output would be empty for input [${shapeOf(x).join(',')}]`);
      return { x, cin, kh, kw, sh, sw, dh, dw, pad, oh, ow };
    };

    if (IDENTITY_LAYERS.has(cls)) return one();
    switch (cls) {
      case 'InputLayer':
        return one();
      case 'Conv2D': {
        const { x, cin, kh, kw, sh, sw, dh, dw, pad, oh, ow } = convGeometry();
        const groups = c.groups ?? 1;
        if (groups !== 1) fail(`${what}: grouped convolution (groups ${groups}) is not supported`);
        const cout = Number(c.filters);
        const k = weight(layer, 'kernel', [kh, kw, cin, cout]);
        const filter = new Float32Array(k.length);
        for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) {
          filter[((o * kh + y) * kw + xx) * cin + i] = k[((y * kw + xx) * cin + i) * cout + o]!;
        }
        const bias = c.use_bias === false ? new Float32Array(cout) : weight(layer, 'bias', [cout]);
        const fT = addF32(`${name}/kernel`, [cout, kh, kw, cin], filter);
        const bT = addF32(`${name}/bias`, [cout], bias);
        const act = String(c.activation ?? 'linear');
        const out = addTensor(fusable(act) ? name : `${name}/conv`, [batch, oh, ow, cout]);
        const options = { padding: pad, strideW: sw, strideH: sh, activation: 'NONE', dilationW: dw, dilationH: dh, quantizedBiasType: 0 };
        addOp('CONV_2D', [x, fT, bT], [out], options);
        return finish(out, act, (a) => { options.activation = a; });
      }
      case 'DepthwiseConv2D': {
        const { x, cin, kh, kw, sh, sw, dh, dw, pad, oh, ow } = convGeometry();
        const mult = Number(c.depth_multiplier ?? 1);
        // [kh,kw,in,mult] and [1,kh,kw,in*mult] are the same bytes: output channel c*mult+m.
        const k = weight(layer, 'depthwise_kernel', [kh, kw, cin, mult]);
        const bias = c.use_bias === false ? new Float32Array(cin * mult) : weight(layer, 'bias', [cin * mult]);
        const fT = addF32(`${name}/depthwise_kernel`, [1, kh, kw, cin * mult], k);
        const bT = addF32(`${name}/bias`, [cin * mult], bias);
        const act = String(c.activation ?? 'linear');
        const out = addTensor(fusable(act) ? name : `${name}/depthwise`, [batch, oh, ow, cin * mult]);
        const options = { padding: pad, strideW: sw, strideH: sh, depthMultiplier: mult, activation: 'NONE', dilationW: dw, dilationH: dh };
        addOp('DEPTHWISE_CONV_2D', [x, fT, bT], [out], options);
        return finish(out, act, (a) => { options.activation = a; });
      }
      case 'Dense': {
        const x = one();
        if (shapeOf(x).length !== 2) fail(`${what}: input has shape [${shapeOf(x).join(',')}]; only rank-2 inputs [batch, features] are supported (add a Flatten first)`);
        const [, nin] = shapeOf(x) as [number, number];
        const units = Number(c.units);
        const k = weight(layer, 'kernel', [nin, units]);
        const wt = new Float32Array(k.length);
        for (let i = 0; i < nin; i++) for (let o = 0; o < units; o++) wt[o * nin + i] = k[i * units + o]!;
        const bias = c.use_bias === false ? new Float32Array(units) : weight(layer, 'bias', [units]);
        const wT = addF32(`${name}/kernel`, [units, nin], wt);
        const bT = addF32(`${name}/bias`, [units], bias);
        const act = String(c.activation ?? 'linear');
        const out = addTensor(fusable(act) ? name : `${name}/matmul`, [batch, units]);
        const options = { activation: 'NONE', weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false, quantizedBiasType: 0 };
        addOp('FULLY_CONNECTED', [x, wT, bT], [out], options);
        return finish(out, act, (a) => { options.activation = a; });
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        channelsLast();
        const x = one();
        rankIs(x, 4, 'NHWC tensor');
        const [, h, w, ch] = shapeOf(x) as [number, number, number, number];
        const [ph, pw] = pair(c.pool_size, [2, 2]) as [number, number];
        const [sh, sw] = pair(c.strides, [ph, pw]) as [number, number];
        const pad = padding();
        const oh = outSize(h, ph, sh, 1, pad), ow = outSize(w, pw, sw, 1, pad);
        if (oh <= 0 || ow <= 0) fail(`${what}: output would be empty for input [${shapeOf(x).join(',')}]`);
        const out = addTensor(name, [batch, oh, ow, ch]);
        addOp(cls === 'MaxPooling2D' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', [x], [out],
          { padding: pad, strideW: sw, strideH: sh, filterW: pw, filterH: ph, activation: 'NONE' });
        return out;
      }
      case 'GlobalAveragePooling2D': {
        channelsLast();
        const x = one();
        rankIs(x, 4, 'NHWC tensor');
        const keep = !!c.keepdims;
        const [, , , ch] = shapeOf(x) as [number, number, number, number];
        const axes = addI32(`${name}/reduction_indices`, [1, 2]);
        const out = addTensor(name, keep ? [batch, 1, 1, ch] : [batch, ch]);
        addOp('MEAN', [x, axes], [out], { keepDims: keep });
        return out;
      }
      case 'Flatten': {
        const x = one();
        const n = shapeOf(x).slice(1).reduce((a, b) => a * b, 1);
        return reshape(x, [batch, n], name);
      }
      case 'Reshape': {
        const x = one();
        const target: number[] = Array.isArray(c.target_shape) ? c.target_shape.map((d: any) => (d == null ? -1 : Number(d))) : fail(`${what}: no target_shape`);
        const n = shapeOf(x).slice(1).reduce((a, b) => a * b, 1);
        const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const unknown = target.filter((d) => d === -1).length;
        if (unknown > 1 || (unknown === 1 && n % known !== 0) || (unknown === 0 && known !== n)) {
          fail(`${what}: cannot reshape [${shapeOf(x).join(',')}] to [batch,${target.join(',')}]`);
        }
        return reshape(x, [batch, ...target.map((d) => (d === -1 ? n / known : d))], name);
      }
      case 'Activation':
        return finish(one(), String(c.activation ?? 'linear'), null);
      case 'ReLU': {
        const x = one();
        const maxValue = c.max_value ?? c.maxValue ?? null;
        if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) fail(`${what}: negative_slope/threshold are not supported`);
        if (maxValue === null || maxValue === undefined) return finish(x, 'relu', null);
        if (Number(maxValue) === 6) return finish(x, 'relu6', null);
        return fail(`${what}: max_value ${maxValue} is not supported (none or 6)`);
      }
      case 'BatchNormalization': {
        const x = one();
        const shape = shapeOf(x);
        const axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? Number(c.axis[0]) : NaN) : Number(c.axis ?? -1);
        if (axis !== -1 && axis !== shape.length - 1) fail(`${what}: axis ${JSON.stringify(c.axis)} is not supported (the last axis only)`);
        const ch = shape[shape.length - 1]!;
        const eps = Number(c.epsilon ?? 1e-3);
        const gamma = c.scale === false ? new Float32Array(ch).fill(1) : weight(layer, 'gamma', [ch]);
        const beta = c.center === false ? new Float32Array(ch) : weight(layer, 'beta', [ch]);
        const mean = weight(layer, 'moving_mean', [ch]);
        const variance = weight(layer, 'moving_variance', [ch]);
        const scale = new Float32Array(ch), shift = new Float32Array(ch);
        for (let i = 0; i < ch; i++) {
          const s = gamma[i]! / Math.sqrt(variance[i]! + eps);
          scale[i] = s;
          shift[i] = beta[i]! - mean[i]! * s;
        }
        const sT = addF32(`${name}/scale`, [ch], scale);
        const oT = addF32(`${name}/offset`, [ch], shift);
        const mid = addTensor(`${name}/mul`, [...shape]);
        addOp('MUL', [x, sT], [mid], { activation: 'NONE' });
        const out = addTensor(name, [...shape]);
        addOp('ADD', [mid, oT], [out], { activation: 'NONE', potScaleInt16: true });
        return out;
      }
      case 'Add': {
        if (ins.length < 2) fail(`${what} has ${ins.length} inputs, expected at least 2`);
        const s0 = shapeOf(ins[0]!);
        for (const t of ins) {
          if (shapeOf(t).join(',') !== s0.join(',')) fail(`${what}: inputs have different shapes [${s0.join(',')}] and [${shapeOf(t).join(',')}]`);
        }
        let acc = ins[0]!;
        for (let k = 1; k < ins.length; k++) {
          const out = addTensor(k === ins.length - 1 ? name : `${name}/add${k}`, [...s0]);
          addOp('ADD', [acc, ins[k]!], [out], { activation: 'NONE', potScaleInt16: true });
          acc = out;
        }
        return acc;
      }
      case 'Concatenate': {
        if (ins.length < 2) fail(`${what} has ${ins.length} inputs, expected at least 2`);
        const s0 = shapeOf(ins[0]!);
        const rank = s0.length;
        let axis = Number(c.axis ?? -1);
        if (axis < 0) axis += rank;
        if (axis <= 0 || axis >= rank) fail(`${what}: axis ${c.axis} is not supported for rank ${rank}`);
        const outShape = [...s0];
        outShape[axis] = 0;
        for (const t of ins) {
          const s = shapeOf(t);
          if (s.length !== rank || s.some((d, i) => i !== axis && d !== s0[i])) fail(`${what}: input shapes [${s0.join(',')}] and [${s.join(',')}] do not concatenate on axis ${axis}`);
          outShape[axis] = outShape[axis]! + s[axis]!;
        }
        const out = addTensor(name, outShape);
        addOp('CONCATENATION', [...ins], [out], { axis, activation: 'NONE' });
        return out;
      }
      case 'LSTM':
        return lstm(layer, one());
      default:
        return fail(`${what} is not supported (supported: ${SUPPORTED_LAYERS.join(', ')})`);
    }
  }

  function fusable(act: string): boolean {
    return act === 'relu' || act === 'relu6';
  }

  /** `act` applied to tensor `pre`; fused into the producing op when `fuse` is given and TFLite allows it. */
  function applyActivation(what: string, name: string, pre: number, act: string, fuse: ((a: 'RELU' | 'RELU6') => void) | null): number {
    switch (act) {
      case 'linear':
        return pre;
      case 'relu':
      case 'relu6': {
        const a = act === 'relu' ? 'RELU' : 'RELU6';
        if (fuse) { fuse(a); return pre; }
        const out = addTensor(name, [...shapeOf(pre)]);
        addOp(a, [pre], [out]);
        return out;
      }
      case 'tanh':
      case 'sigmoid': {
        const out = addTensor(name, [...shapeOf(pre)]);
        addOp(act === 'tanh' ? 'TANH' : 'LOGISTIC', [pre], [out]);
        return out;
      }
      case 'softmax': {
        const out = addTensor(name, [...shapeOf(pre)]);
        addOp('SOFTMAX', [pre], [out], { beta: 1 });
        return out;
      }
      default:
        return fail(`${what}: activation '${act}' is not supported (linear, relu, relu6, tanh, sigmoid, softmax)`);
    }
  }

  function reshape(x: number, shape: number[], name: string): number {
    const shapeT = addI32(`${name}/shape`, shape);
    const out = addTensor(name, shape);
    addOp('RESHAPE', [x, shapeT], [out], { newShape: [...shape] });
    return out;
  }

  /** One float UNIDIRECTIONAL_SEQUENCE_LSTM in TFLite's 24-input layout (+ last-step slice). */
  function lstm(layer: LayerNode, x: number): number {
    const { name, config: c } = layer;
    const what = `layer '${name}' (LSTM)`;
    const shape = shapeOf(x);
    if (shape.length !== 3) fail(`${what}: input has shape [${shape.join(',')}], expected [batch, time, features]`);
    const [, steps, nin] = shape as [number, number, number];
    const units = Number(c.units);
    const ra = String(c.recurrent_activation ?? 'hard_sigmoid');
    if (ra !== 'sigmoid') fail(`${what}: recurrent_activation '${ra}' is not supported (TFLite's LSTM gates use sigmoid)`);
    const actName = String(c.activation ?? 'tanh');
    const act = ({ tanh: 'TANH', relu: 'RELU', relu6: 'RELU6' } as Record<string, string>)[actName];
    if (!act) fail(`${what}: activation '${actName}' is not supported (tanh, relu, relu6)`);
    for (const k of ['return_state', 'go_backwards', 'stateful']) {
      if (c[k]) fail(`${what}: ${k} is not supported`);
    }
    const kernel = weight(layer, 'kernel', [nin, 4 * units]);
    const rec = weight(layer, 'recurrent_kernel', [units, 4 * units]);
    const bias = c.use_bias === false ? new Float32Array(4 * units) : weight(layer, 'bias', [4 * units]);
    const gates = ['input', 'forget', 'cell', 'output'];
    // Gate g of the Keras kernel is columns [g*units, (g+1)*units); TFLite wants [units, in].
    const gateMatrix = (m: Float32Array, rows: number, g: number) => {
      const out = new Float32Array(units * rows);
      for (let u = 0; u < units; u++) for (let r = 0; r < rows; r++) out[u * rows + r] = m[r * 4 * units + g * units + u]!;
      return out;
    };
    const inW = gates.map((gn, g) => addF32(`${name}/input_to_${gn}_weights`, [units, nin], gateMatrix(kernel, nin, g)));
    const recW = gates.map((gn, g) => addF32(`${name}/recurrent_to_${gn}_weights`, [units, units], gateMatrix(rec, units, g)));
    const biases = gates.map((gn, g) => addF32(`${name}/${gn}_gate_bias`, [units], bias.subarray(g * units, (g + 1) * units)));
    const outState = addTensor(`${name}/output_state`, [batch, units], 'float32', null, true);
    const cellState = addTensor(`${name}/cell_state`, [batch, units], 'float32', null, true);
    const returnSeq = !!c.return_sequences;
    const seq = addTensor(returnSeq ? name : `${name}/sequence`, [batch, steps, units]);
    addOp('UNIDIRECTIONAL_SEQUENCE_LSTM', [
      x, ...inW, ...recW, -1, -1, -1, ...biases, -1, -1, outState, cellState, -1, -1, -1, -1,
    ], [seq], {
      activation: act, cellClip: 0, projClip: 0, timeMajor: false, asymmetricQuantizeInputs: false, diagonalRecurrentTensors: false,
    });
    if (returnSeq) return seq;
    // The last time step: [B,T,U] -> [B,1,U] -> [B,U].
    const begin = addI32(`${name}/last_step/begin`, [0, steps - 1, 0]);
    const end = addI32(`${name}/last_step/end`, [batch, steps, units]);
    const strides = addI32(`${name}/last_step/strides`, [1, 1, 1]);
    const last = addTensor(`${name}/last_step`, [batch, 1, units]);
    addOp('STRIDED_SLICE', [seq, begin, end, strides], [last], {
      beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false,
    });
    return reshape(last, [batch, units], name);
  }

  const graph: Graph = {
    source,
    description: `Converted by Kestrel from TensorFlow.js LayersModel ${String(modelConfig?.config?.name ?? '')}`.trim(),
    version: 3,
    tensors,
    ops,
    inputs: graphInputs,
    outputs: graphOutputs,
    metadata: {},
  };
  for (const op of ops) op.version = opVersion(op, graph);
  return graph;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Layers by name with their inbound layer names, plus the model's input and output layers. */
function parseTopology(modelConfig: any, fail: (msg: string) => never): { layers: Map<string, LayerNode>; inputNames: string[]; outputNames: string[] } {
  const cls = String(modelConfig?.class_name ?? '');
  const cfg = modelConfig?.config;
  const layers = new Map<string, LayerNode>();
  const add = (l: any): LayerNode => {
    const name = String(l?.config?.name ?? l?.name ?? '');
    if (!name) fail(`a layer of class ${l?.class_name} has no name`);
    if (layers.has(name)) fail(`layer name '${name}' appears twice`);
    const node: LayerNode = { name, className: String(l?.class_name ?? ''), config: l?.config ?? {}, inbound: [] };
    layers.set(name, node);
    return node;
  };
  if (cls === 'Sequential') {
    const list: any[] = Array.isArray(cfg) ? cfg : Array.isArray(cfg?.layers) ? cfg.layers : fail('Sequential model has no layers');
    if (list.length === 0) fail('Sequential model has no layers');
    let prev: string | null = null;
    for (const l of list) {
      const node = add(l);
      if (prev !== null) node.inbound = [prev];
      prev = node.name;
    }
    const first = layers.get(String(list[0]?.config?.name))!;
    return { layers, inputNames: [first.name], outputNames: [prev!] };
  }
  if (cls === 'Model' || cls === 'Functional') {
    const list: any[] = Array.isArray(cfg?.layers) ? cfg.layers : fail(`${cls} model has no layers`);
    for (const l of list) {
      const node = add(l);
      const nodes: any[] = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
      if (nodes.length > 1) fail(`layer '${node.name}' (${node.className}) is called ${nodes.length} times; shared layers are not supported`);
      if (nodes.length === 1) {
        const n = nodes[0];
        const entries: any[] = Array.isArray(n) ? n : Array.isArray(n?.args) ? n.args : [];
        node.inbound = entries.map((e) => {
          if (!Array.isArray(e)) fail(`layer '${node.name}' has an inbound node format that is not understood`);
          if ((e[1] ?? 0) !== 0 || (e[2] ?? 0) !== 0) fail(`layer '${node.name}' takes output ${e[2]} of node ${e[1]} of layer '${e[0]}'; only single-output layers called once are supported`);
          return String(e[0]);
        });
      }
    }
    const ref = (xs: any, what: string): string[] => {
      if (!Array.isArray(xs) || xs.length === 0) fail(`${cls} model has no ${what}`);
      const arr = Array.isArray(xs[0]) ? xs : [xs];
      return arr.map((e: any) => String(e[0]));
    };
    const inputNames = ref(cfg.input_layers, 'input_layers');
    const outputNames = ref(cfg.output_layers, 'output_layers');
    for (const n of [...inputNames, ...outputNames]) if (!layers.has(n)) fail(`layer '${n}' named as model input/output is not in the model`);
    return { layers, inputNames, outputNames };
  }
  return fail(`model class '${cls || '(none)'}' is not supported (Sequential or Model)`);
}
