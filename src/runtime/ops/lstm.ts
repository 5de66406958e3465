/**
 * Prepare steps of the lstm family. Kernels: assembly/ops/lstm.ts.
 */
import type { OpDef } from './types.js';

export const lstmOps: OpDef[] = [];
