/**
 * SVDF (singular value decomposition filter, as in keyword-spotting models), integer
 * path: int8 input, int8 feature weights, int16 or int8 time weights and state (same
 * type), int32 bias, int8 output. Follows TFLite Micro's svdf_common.cc.
 * Kernels: assembly/ops/svdf.ts.
 */
import type { Tensor } from '../../graph/types.js';
import { f32, quantizeMultiplier } from '../quant.js';
import type { OpContext, OpDef } from './types.js';

export const K = {
  SVDF_S16: 701,
  SVDF_S8: 702,
} as const;

function scale(ctx: OpContext, t: Tensor, what: string): number {
  const s = t.quant?.scale[0];
  if (!(s! > 0)) ctx.fail(`${what} tensor '${t.name}' needs a positive quantization scale`);
  return s!;
}

const svdf: OpDef = {
  name: 'SVDF',
  maxVersion: 4,
  prepare(ctx) {
    const { op } = ctx;
    if (op.inputs.length !== 5) ctx.fail(`expects 5 inputs, has ${op.inputs.length}`);
    if (op.outputs.length !== 1) ctx.fail(`expects 1 output, has ${op.outputs.length}`);
    const input = ctx.requireInput(0, 'input');
    const wf = ctx.requireInput(1, 'weights_feature');
    const wt = ctx.requireInput(2, 'weights_time');
    const bias = ctx.input(3);
    const state = ctx.requireInput(4, 'activation_state');
    const output = ctx.output(0);
    const rank = op.options.rank as number;
    if (input.dtype !== 'int8') ctx.unsupported(`input type ${input.dtype} (only the int8 integer path is supported)`);
    if (wf.dtype !== 'int8') ctx.unsupported(`weights_feature type ${wf.dtype}`);
    if (wt.dtype !== 'int16' && wt.dtype !== 'int8') ctx.unsupported(`weights_time type ${wt.dtype}`);
    if (state.dtype !== wt.dtype) ctx.unsupported(`activation_state type ${state.dtype} differs from weights_time type ${wt.dtype}`);
    if (output.dtype !== 'int8') ctx.unsupported(`output type ${output.dtype}`);
    if (bias && bias.dtype !== 'int32') ctx.unsupported(`bias type ${bias.dtype}`);
    if (!wf.data || !wt.data || (bias && !bias.data)) ctx.unsupported('weights and bias must be constant tensors');
    if (!state.isVariable) ctx.fail('activation_state must be a variable tensor');
    if (input.shape.length !== 2 || output.shape.length !== 2 || wf.shape.length !== 2 || wt.shape.length !== 2 || state.shape.length !== 2) {
      ctx.fail('input, output, weights and state must have rank 2');
    }
    const [nBatch, nInput] = input.shape as [number, number];
    const nFilter = wf.shape[0]!;
    const nMemory = wt.shape[1]!;
    if (!Number.isInteger(rank) || rank < 1 || nFilter % rank !== 0) ctx.fail(`rank ${rank} does not divide the ${nFilter} filters`);
    const nUnit = nFilter / rank;
    if (wf.shape[1] !== nInput) ctx.fail(`weights_feature shape [${wf.shape}] does not match input depth ${nInput}`);
    if (wt.shape[0] !== nFilter) ctx.fail(`weights_time shape [${wt.shape}] does not match ${nFilter} filters`);
    if (output.shape[0] !== nBatch || output.shape[1] !== nUnit) ctx.fail(`output shape [${output.shape}] should be [${nBatch},${nUnit}]`);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== nUnit)) ctx.fail(`bias shape [${bias.shape}] should be [${nUnit}]`);
    if (state.shape[0] !== nBatch || state.shape[1] !== nMemory * nFilter) ctx.fail(`activation_state shape [${state.shape}] should be [${nBatch},${nMemory * nFilter}]`);
    if (nMemory < 1) ctx.fail('weights_time has no memory columns');

    const sIn = scale(ctx, input, 'input'), sWf = scale(ctx, wf, 'weights_feature'), sWt = scale(ctx, wt, 'weights_time');
    const sState = scale(ctx, state, 'activation_state'), sOut = scale(ctx, output, 'output');
    // The reference forms both effective scales in float32, then widens to double.
    const e1 = quantizeMultiplier(f32(f32(sIn * sWf) / sState));
    const e2 = quantizeMultiplier(f32(f32(sState * sWt) / sOut));
    if (bias) {
      const sb = scale(ctx, bias, 'bias');
      if (Math.abs(sb - f32(sState * sWt)) >= 1e-5) ctx.fail(`bias scale ${sb} should equal activation_state scale × weights_time scale`);
    }
    const inZp = input.quant?.zeroPoint[0] ?? 0;
    // Row sums of the feature weights fold the input zero point out of the inner loop.
    const w = new Int8Array(wf.data!.buffer, wf.data!.byteOffset, wf.data!.length);
    const rowSums = new Int32Array(nFilter);
    for (let r = 0; r < nFilter; r++) {
      let s = 0;
      for (let c = 0; c < nInput; c++) s += w[r * nInput + c]!;
      rowSums[r] = Math.imul(s, inZp);
    }
    const wtElems = new Int32Array(nFilter);
    const wtArr = wt.dtype === 'int16' ? new Int16Array(wt.data!.slice().buffer) : new Int8Array(wt.data!.slice().buffer);
    const stZp = state.quant?.zeroPoint[0] ?? 0;
    for (let f = 0; f < nFilter; f++) {
      let s = 0;
      for (let j = 0; j < nMemory; j++) s += wtArr[f * nMemory + j]!;
      wtElems[f] = Math.imul(s, stZp);
    }
    const b = ctx.b;
    // Record: [input, wFeature, wTime, bias|0, state, output, scratch,
    //          nBatch, nInput, nFilter, nUnit, nMemory, rank, stateZp, outZp,
    //          m1, s1, m2, s2, featureZpTerms (int32[nFilter]), timeZpTerms (int32[nFilter])]
    b.tensor(input).tensor(wf).tensor(wt);
    if (bias) b.tensor(bias); else b.i32(0);
    b.tensor(state).tensor(output).scratchBuffer(nBatch * nFilter * 4);
    b.i32s([nBatch, nInput, nFilter, nUnit, nMemory, rank, stZp, output.quant?.zeroPoint[0] ?? 0, e1.multiplier, e1.shift, e2.multiplier, e2.shift]);
    b.constant(rowSums).constant(wtElems);
    return { kernel: wt.dtype === 'int16' ? K.SVDF_S16 : K.SVDF_S8, macs: nBatch * nFilter * (nInput + nMemory) };
  },
};

export const svdfOps: OpDef[] = [svdf];
