/**
 * The operator registry: builtin op name -> prepare implementation.
 * Each family file exports an array of OpDefs.
 */
import type { OpDef } from './types.js';
import { convOps } from './conv.js';
import { matmulOps } from './matmul.js';
import { elementwiseOps } from './elementwise.js';
import { activationOps } from './activation.js';
import { shapeOps } from './shape.js';
import { lstmOps } from './lstm.js';
import { svdfOps } from './svdf.js';

export const OPS: ReadonlyMap<string, OpDef> = new Map(
  [...convOps, ...matmulOps, ...elementwiseOps, ...activationOps, ...shapeOps, ...lstmOps, ...svdfOps].map((d) => [d.name, d]),
);

export function supportedOps(): string[] {
  return [...OPS.keys()].sort();
}
