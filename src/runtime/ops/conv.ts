/**
 * Prepare steps of the conv family. Kernels: assembly/ops/conv.ts.
 */
import type { OpDef } from './types.js';

export const convOps: OpDef[] = [];
