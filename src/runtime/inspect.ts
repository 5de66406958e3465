/**
 * A summary of a model for people and programs: operators, tensors, parameters,
 * MACs and planned memory.
 */
import type { Tensor } from '../graph/types.js';
import { byteLength, numElements } from '../graph/types.js';
import type { Model } from './model.js';

export interface ModelSummary {
  source: string;
  description: string;
  backend: string;
  ops: { name: string; count: number }[];
  opList: { index: number; op: string; version: number; inputs: number[]; outputs: number[]; macs: number }[];
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  tensors: TensorSummary[];
  parameters: number;
  parameterBytes: number;
  macs: number;
  arenaBytes: number;
  constantBytes: number;
  variableBytes: number;
  memoryBytes: number;
}

export interface TensorSummary {
  index: number;
  name: string;
  shape: number[];
  dtype: string;
  kind: 'input' | 'output' | 'constant' | 'variable' | 'activation';
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
  bytes: number;
}

export function summarize(model: Model): ModelSummary {
  const g = model.graph;
  const counts = new Map<string, number>();
  for (const op of g.ops) counts.set(op.opcode, (counts.get(op.opcode) ?? 0) + 1);
  const kind = (t: Tensor): TensorSummary['kind'] =>
    g.inputs.includes(t.index) ? 'input' : g.outputs.includes(t.index) ? 'output' : t.data ? 'constant' : t.isVariable ? 'variable' : 'activation';
  const ts = (t: Tensor): TensorSummary => ({
    index: t.index, name: t.name, shape: t.shape, dtype: t.dtype, kind: kind(t),
    scale: t.quant?.scale ?? [], zeroPoint: t.quant?.zeroPoint ?? [], quantizedDimension: t.quant?.quantizedDimension ?? 0,
    bytes: byteLength(t),
  });
  const constants = g.tensors.filter((t) => t.data);
  return {
    source: g.source,
    description: g.description,
    backend: model.backend,
    ops: [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
    opList: model.plan.ops.map((p) => ({ index: p.op.index, op: p.op.opcode, version: p.op.version, inputs: p.op.inputs, outputs: p.op.outputs, macs: p.macs })),
    inputs: g.inputs.map((i) => ts(g.tensors[i]!)),
    outputs: g.outputs.map((i) => ts(g.tensors[i]!)),
    tensors: g.tensors.map(ts),
    parameters: constants.reduce((s, t) => s + numElements(t.shape), 0),
    parameterBytes: constants.reduce((s, t) => s + t.data!.length, 0),
    macs: model.macs,
    arenaBytes: model.arenaBytes,
    constantBytes: model.plan.constants.bytes,
    variableBytes: model.plan.variables.bytes,
    memoryBytes: model.memoryBytes,
  };
}
