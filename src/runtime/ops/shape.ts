/**
 * Prepare steps of the shape family: data movement and reductions.
 * Kernels: assembly/ops/shape.ts.
 */
import { byteLength, numElements } from '../../graph/types.js';
import type { OpDef } from './types.js';

/** Kernel ids (must match assembly/ops/shape.ts). */
export const K = {
  COPY: 501,
} as const;

const reshape: OpDef = {
  name: 'RESHAPE',
  maxVersion: 1,
  prepare(ctx) {
    const input = ctx.requireInput(0, 'input');
    const output = ctx.output(0);
    if (input.dtype !== output.dtype) ctx.fail(`input is ${input.dtype} but output is ${output.dtype}`);
    if (numElements(input.shape) !== numElements(output.shape)) {
      ctx.fail(`input shape [${input.shape}] and output shape [${output.shape}] have different element counts`);
    }
    // Record: [src, dst, bytes]
    ctx.b.tensor(input).tensor(output).i32(byteLength(output));
    return { kernel: K.COPY };
  },
};

export const shapeOps: OpDef[] = [reshape];
