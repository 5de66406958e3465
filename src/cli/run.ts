import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KestrelError } from '../errors.js';
import { loadAnyModel } from '../runtime/compiled.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';
import { describeValues, readTensorFile } from './io.js';

const SPEC: Record<string, FlagSpec> = {
  input: { type: 'list', help: 'raw tensor file for the next model input, in input order' },
  out: { type: 'string', help: 'folder for output_<k>.bin files' },
  backend: { type: 'string', help: 'kernel build', default: 'auto', choices: ['auto', 'simd', 'scalar', 'relaxed'] },
  force: { type: 'bool', help: 'overwrite existing output files' },
  json: { type: 'bool', help: 'print the summary as JSON' },
  help: { type: 'bool', help: 'show this help' },
};

export async function runCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, SPEC, 1, 'run');
  if (flags.help) {
    console.log(helpText('kestrel run MODEL.tflite|MODEL.wasm --input in_0.bin [--input in_1.bin …] [--out DIR] [--backend auto|simd|scalar|relaxed]',
      'Runs the model (a .tflite file, or a module made by kestrel compile) once on raw little-endian\ntensor files and writes DIR/output_<k>.bin.', SPEC));
    return 0;
  }
  const modelPath = positional[0];
  if (!modelPath) throw new KestrelError('E_USAGE', 'kestrel run: missing MODEL.tflite');
  if (!existsSync(modelPath)) throw new KestrelError('E_IO', `${modelPath}: no such file`);
  // A .wasm from `kestrel compile` carries its own kernels: --backend does not apply.
  const model = await loadAnyModel(modelPath, { backend: flags.backend as 'auto' });
  const files = flags.input as string[];
  if (files.length !== model.inputs.length) {
    throw new KestrelError('E_INPUT_COUNT', `${modelPath}: model has ${model.inputs.length} input(s) (${model.inputs.map((t) => `'${t.name}' ${t.dtype}[${t.shape}]`).join(', ')}), got ${files.length} --input file(s)`);
  }
  const inputs = model.inputs.map((t, k) => readTensorFile(files[k]!, t, k));
  const outDir = flags.out as string | undefined;
  if (outDir) {
    if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new KestrelError('E_IO', `${outDir}: exists and is not a folder`);
    if (!flags.force) {
      for (let k = 0; k < model.outputs.length; k++) {
        const p = join(outDir, `output_${k}.bin`);
        if (existsSync(p)) throw new KestrelError('E_IO', `${p}: already exists (use --force to overwrite)`);
      }
    }
  }
  const t0 = performance.now();
  const outputs = model.run(inputs);
  const ms = performance.now() - t0;
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    outputs.forEach((o, k) => writeFileSync(join(outDir, `output_${k}.bin`), new Uint8Array(o.buffer, o.byteOffset, o.byteLength)));
  }
  if (flags.json) {
    console.log(JSON.stringify({
      model: modelPath, backend: model.backend, ms,
      outputs: model.outputs.map((t, k) => ({ name: t.name, dtype: t.dtype, shape: t.shape, file: outDir ? join(outDir, `output_${k}.bin`) : null, values: Array.from(outputs[k]!) })),
    }));
  } else {
    model.outputs.forEach((t, k) => console.log(`output ${k} '${t.name}': ${describeValues(t, outputs[k]!)}${outDir ? ` -> ${join(outDir, `output_${k}.bin`)}` : ''}`));
    console.log(`ran in ${ms.toFixed(3)} ms on the ${model.backend} backend`);
  }
  model.dispose();
  return 0;
}
