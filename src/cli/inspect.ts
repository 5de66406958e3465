import { existsSync } from 'node:fs';
import { KestrelError } from '../errors.js';
import { loadModel } from '../runtime/model.js';
import { summarize } from '../runtime/inspect.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';

const SPEC: Record<string, FlagSpec> = {
  json: { type: 'bool', help: 'print the summary as JSON' },
  tensors: { type: 'bool', help: 'list every tensor, not only inputs and outputs' },
  help: { type: 'bool', help: 'show this help' },
};

const fmt = (n: number) => n.toLocaleString('en-US');
/** A float32 value in its shortest decimal form. */
const f32s = (x: number) => String(Number(x.toPrecision(9)));

export async function inspectCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, SPEC, 1, 'inspect');
  if (flags.help) {
    console.log(helpText('kestrel inspect MODEL.tflite [--json] [--tensors]', 'Shows operators, tensors, parameters, MACs and the planned arena.', SPEC));
    return 0;
  }
  const path = positional[0];
  if (!path) throw new KestrelError('E_USAGE', 'kestrel inspect: missing MODEL.tflite');
  if (!existsSync(path)) throw new KestrelError('E_IO', `${path}: no such file`);
  const model = await loadModel(path, { backend: 'auto' });
  const s = summarize(model);
  if (flags.json) {
    console.log(JSON.stringify(s, null, 1));
    return 0;
  }
  const q = (t: { scale: number[]; zeroPoint: number[] }) =>
    t.scale.length === 0 ? '' : t.scale.length === 1 ? ` scale ${f32s(t.scale[0]!)} zp ${t.zeroPoint[0]}` : ` per-channel (${t.scale.length} scales)`;
  console.log(`model: ${s.source}${s.description ? ` (${s.description})` : ''}`);
  console.log(`operators: ${s.opList.length} — ${s.ops.map((o) => `${o.name} ×${o.count}`).join(', ')}`);
  for (const t of s.inputs) console.log(`input  #${t.index} '${t.name}' ${t.dtype}[${t.shape}]${q(t)}`);
  for (const t of s.outputs) console.log(`output #${t.index} '${t.name}' ${t.dtype}[${t.shape}]${q(t)}`);
  if (flags.tensors) {
    for (const t of s.tensors) console.log(`  #${String(t.index).padEnd(4)} ${t.kind.padEnd(10)} ${`${t.dtype}[${t.shape}]`.padEnd(24)} ${t.name}${q(t)}`);
  }
  console.log(`parameters: ${fmt(s.parameters)} (${fmt(s.parameterBytes)} bytes)`);
  console.log(`MACs per inference: ${fmt(s.macs)}`);
  console.log(`planned arena: ${fmt(s.arenaBytes)} bytes; constants ${fmt(s.constantBytes)}; state ${fmt(s.variableBytes)}; wasm memory ${fmt(s.memoryBytes)} bytes`);
  return 0;
}
