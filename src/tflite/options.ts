/**
 * Builtin options of the operators Kestrel runs, parsed into plain objects.
 * Field names are camelCase versions of the schema's; defaults are the schema's.
 */
import { KestrelError } from '../errors.js';
import type { Table } from './fb.js';
import { ACTIVATIONS, OPT, PADDINGS } from './schema.js';

type Parser = (t: Table) => Record<string, any>;

function activation(t: Table, vt: number): string {
  const v = t.i8(vt, 0, 'fused_activation_function');
  const name = ACTIVATIONS[v];
  if (!name) throw new KestrelError('E_OP_INVALID', `${t.r.source}: ${t.what}: unknown fused activation ${v}`);
  return name;
}

function padding(t: Table, vt: number): string {
  const v = t.i8(vt, 0, 'padding');
  const name = PADDINGS[v];
  if (!name) throw new KestrelError('E_OP_INVALID', `${t.r.source}: ${t.what}: unknown padding ${v}`);
  return name;
}

const PARSERS: Record<number, Parser> = {
  [OPT.Conv2DOptions]: (t) => ({
    padding: padding(t, 4), strideW: t.i32(6, 0, 'stride_w'), strideH: t.i32(8, 0, 'stride_h'),
    activation: activation(t, 10), dilationW: t.i32(12, 1, 'dilation_w_factor'), dilationH: t.i32(14, 1, 'dilation_h_factor'),
    quantizedBiasType: t.i8(16, 0, 'quantized_bias_type'),
  }),
  [OPT.DepthwiseConv2DOptions]: (t) => ({
    padding: padding(t, 4), strideW: t.i32(6, 0, 'stride_w'), strideH: t.i32(8, 0, 'stride_h'),
    depthMultiplier: t.i32(10, 0, 'depth_multiplier'), activation: activation(t, 12),
    dilationW: t.i32(14, 1, 'dilation_w_factor'), dilationH: t.i32(16, 1, 'dilation_h_factor'),
  }),
  [OPT.Pool2DOptions]: (t) => ({
    padding: padding(t, 4), strideW: t.i32(6, 0, 'stride_w'), strideH: t.i32(8, 0, 'stride_h'),
    filterW: t.i32(10, 0, 'filter_width'), filterH: t.i32(12, 0, 'filter_height'), activation: activation(t, 14),
  }),
  [OPT.SVDFOptions]: (t) => ({
    rank: t.i32(4, 0, 'rank'), activation: activation(t, 6), asymmetricQuantizeInputs: t.bool(8, false, 'asymmetric_quantize_inputs'),
  }),
  [OPT.FullyConnectedOptions]: (t) => ({
    activation: activation(t, 4), weightsFormat: t.i8(6, 0, 'weights_format'), keepNumDims: t.bool(8, false, 'keep_num_dims'),
    asymmetricQuantizeInputs: t.bool(10, false, 'asymmetric_quantize_inputs'),
    quantizedBiasType: t.i8(12, 0, 'quantized_bias_type'),
  }),
  [OPT.SoftmaxOptions]: (t) => ({ beta: t.f32(4, 0, 'beta') }),
  [OPT.ConcatenationOptions]: (t) => ({ axis: t.i32(4, 0, 'axis'), activation: activation(t, 6) }),
  [OPT.AddOptions]: (t) => ({ activation: activation(t, 4), potScaleInt16: t.bool(6, true, 'pot_scale_int16') }),
  [OPT.ReshapeOptions]: (t) => ({ newShape: t.i32s(4, 'new_shape') }),
  [OPT.MulOptions]: (t) => ({ activation: activation(t, 4) }),
  [OPT.ReducerOptions]: (t) => ({ keepDims: t.bool(4, false, 'keep_dims') }),
  [OPT.SubOptions]: (t) => ({ activation: activation(t, 4), potScaleInt16: t.bool(6, true, 'pot_scale_int16') }),
  [OPT.StridedSliceOptions]: (t) => ({
    beginMask: t.i32(4, 0, 'begin_mask'), endMask: t.i32(6, 0, 'end_mask'), ellipsisMask: t.i32(8, 0, 'ellipsis_mask'),
    newAxisMask: t.i32(10, 0, 'new_axis_mask'), shrinkAxisMask: t.i32(12, 0, 'shrink_axis_mask'), offset: t.bool(14, false, 'offset'),
  }),
  [OPT.TransposeConvOptions]: (t) => ({
    padding: padding(t, 4), strideW: t.i32(6, 0, 'stride_w'), strideH: t.i32(8, 0, 'stride_h'), activation: activation(t, 10),
  }),
  [OPT.UnidirectionalSequenceLSTMOptions]: (t) => ({
    activation: activation(t, 4), cellClip: t.f32(6, 0, 'cell_clip'), projClip: t.f32(8, 0, 'proj_clip'),
    timeMajor: t.bool(10, false, 'time_major'), asymmetricQuantizeInputs: t.bool(12, false, 'asymmetric_quantize_inputs'),
    diagonalRecurrentTensors: t.bool(14, false, 'diagonal_recurrent_tensors'),
  }),
  [OPT.LeakyReluOptions]: (t) => ({ alpha: t.f32(4, 0, 'alpha') }),
};

/** The options object for a union tag; unknown tags give {} (ops that need them validate). */
export function parseOptions(type: number, table: Table | null): Record<string, any> {
  const p = PARSERS[type];
  if (!p) return {};
  return p(table ?? (ABSENT as unknown as Table));
}

/** Stands in for an omitted options table: every field reads as its default. */
const ABSENT = {
  what: 'options', r: { source: '' },
  i8: (_v: number, d: number) => d, u8: (_v: number, d: number) => d, i32: (_v: number, d: number) => d,
  u32: (_v: number, d: number) => d, f32: (_v: number, d: number) => d, bool: (_v: number, d: boolean) => d,
  i32s: () => null,
};

/** Which options union tag each op is expected to carry (when it carries one). */
export const OPTIONS_FOR_OP: Record<string, number> = {
  CONV_2D: OPT.Conv2DOptions,
  DEPTHWISE_CONV_2D: OPT.DepthwiseConv2DOptions,
  AVERAGE_POOL_2D: OPT.Pool2DOptions,
  MAX_POOL_2D: OPT.Pool2DOptions,
  SVDF: OPT.SVDFOptions,
  FULLY_CONNECTED: OPT.FullyConnectedOptions,
  SOFTMAX: OPT.SoftmaxOptions,
  CONCATENATION: OPT.ConcatenationOptions,
  ADD: OPT.AddOptions,
  RESHAPE: OPT.ReshapeOptions,
  MUL: OPT.MulOptions,
  MEAN: OPT.ReducerOptions,
  SUB: OPT.SubOptions,
  STRIDED_SLICE: OPT.StridedSliceOptions,
  TRANSPOSE_CONV: OPT.TransposeConvOptions,
  UNIDIRECTIONAL_SEQUENCE_LSTM: OPT.UnidirectionalSequenceLSTMOptions,
  LEAKY_RELU: OPT.LeakyReluOptions,
};
