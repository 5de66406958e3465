/**
 * Prepare steps of the elementwise family. Kernels: assembly/ops/elementwise.ts.
 */
import type { OpDef } from './types.js';

export const elementwiseOps: OpDef[] = [];
