/**
 * Prepare steps of the matmul family. Kernels: assembly/ops/matmul.ts.
 */
import type { OpDef } from './types.js';

export const matmulOps: OpDef[] = [];
