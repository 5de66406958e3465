/**
 * Prepare steps of the activation family. Kernels: assembly/ops/activation.ts.
 */
import type { OpDef } from './types.js';

export const activationOps: OpDef[] = [];
