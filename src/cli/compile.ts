import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { KestrelError } from '../errors.js';
import { compileModel } from '../compile/index.js';
import { readTflite } from '../tflite/reader.js';
import { cIdentifier } from '../compile/header.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';

const SPEC: Record<string, FlagSpec> = {
  out: { type: 'string', help: 'the module to write (.wasm)' },
  scalar: { type: 'bool', help: 'build without SIMD, for engines without SIMD128' },
  header: { type: 'string', help: 'also write a C header describing the tensors and the interface' },
  name: { type: 'string', help: 'C identifier prefix for the header (default: from the model file name)' },
  'max-memory': { type: 'string', help: 'refuse models needing more linear memory than this (bytes; K/M/G suffixes)' },
  force: { type: 'bool', help: 'overwrite existing output files' },
  source: { type: 'string', help: 'also write the generated AssemblyScript entry file here' },
  json: { type: 'bool', help: 'print the summary as JSON' },
  help: { type: 'bool', help: 'show this help' },
};

export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(s.trim());
  if (!m) throw new KestrelError('E_USAGE', `kestrel compile: --max-memory needs a byte count such as 262144, 256K or 4M (got '${s}')`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mul = unit === 'k' ? 1024 : unit === 'm' ? 1 << 20 : unit === 'g' ? 1 << 30 : 1;
  return Math.floor(Number(m[1]) * mul);
}

export async function compileCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, SPEC, 1, 'compile');
  if (flags.help) {
    console.log(helpText('kestrel compile MODEL_int8.tflite --out model.wasm [--scalar] [--header model.h] [--name NAME] [--max-memory BYTES]',
      'Compiles one int8 model into one standalone WebAssembly module (no imports): its kernels, weights and\n' +
      'memory layout built in. Needs the AssemblyScript compiler (npm install --save-dev assemblyscript).\n' +
      'Interface: targets/embedded/README.md.', SPEC));
    return 0;
  }
  const modelPath = positional[0];
  if (!modelPath) throw new KestrelError('E_USAGE', 'kestrel compile: missing MODEL.tflite');
  const out = flags.out as string | undefined;
  if (!out) throw new KestrelError('E_USAGE', 'kestrel compile: missing --out FILE.wasm');
  if (!existsSync(modelPath)) throw new KestrelError('E_IO', `${modelPath}: no such file`);
  const header = flags.header as string | undefined;
  for (const f of [out, header, flags.source as string | undefined]) {
    if (f && existsSync(f) && !flags.force) throw new KestrelError('E_IO', `${f}: already exists (use --force to overwrite)`);
  }
  const maxMemoryBytes = flags['max-memory'] !== undefined ? parseBytes(flags['max-memory'] as string) : undefined;
  const bytes = new Uint8Array(readFileSync(modelPath));
  const name = (flags.name as string | undefined) ?? cIdentifier(basename(modelPath));
  const t0 = performance.now();
  const graph = readTflite(bytes, { source: modelPath });
  const r = await compileModel(graph, {
    scalar: !!flags.scalar, name, keepSource: !!flags.source,
    ...(maxMemoryBytes !== undefined ? { maxMemoryBytes } : {}),
  });
  const ms = performance.now() - t0;
  writeFileSync(out, r.wasm);
  if (header) writeFileSync(header, r.header(name));
  if (flags.source) writeFileSync(flags.source as string, r.source!);
  if (flags.json) {
    console.log(JSON.stringify({ model: modelPath, out, header: header ?? null, bytes: r.wasm.length, codeBytes: r.codeBytes, dataBytes: r.dataBytes, pages: r.pages, ms, ...r.meta }));
  } else {
    console.log(`${out}: ${r.wasm.length} bytes (${r.meta.backend}; code ${r.codeBytes}, data ${r.dataBytes}), ${r.meta.ops} ops, kernels ${r.meta.kernels.join(' ')}`);
    console.log(`memory ${r.pages} pages (${r.meta.memoryBytes} bytes used, arena ${r.meta.arenaBytes}); ${r.meta.inputs.length} input(s), ${r.meta.outputs.length} output(s)${header ? `; header ${header}` : ''}; compiled in ${(ms / 1000).toFixed(1)} s`);
  }
  return 0;
}
