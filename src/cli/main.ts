/**
 * The `kestrel` command. Each command has --help; errors print one line and exit non-zero.
 */
import { KestrelError } from '../errors.js';
import { runCommand } from './run.js';
import { inspectCommand } from './inspect.js';
import { demoCommand } from './demo.js';
import { examplesCommand } from './examples.js';
import { compileCommand } from './compile.js';
import { benchCommand } from './bench.js';
import { quantizeCommand } from './quantize.js';
import { trainCommand } from './train.js';
import { VERSION } from '../version.js';

const COMMANDS: Record<string, { summary: string; main: (argv: string[]) => Promise<number> }> = {
  demo: { summary: 'the whole path on built-in data: train LeNet, quantize to int8, run on Kestrel, compare with TensorFlow.js', main: demoCommand },
  examples: { summary: 'run the bundled pretrained int8 models (person detection, keyword spotting) on example inputs', main: examplesCommand },
  run: { summary: 'run a .tflite model on raw input tensors and write the outputs', main: runCommand },
  inspect: { summary: 'show a model\'s operators, tensors, parameters, MACs and planned memory', main: inspectCommand },
  compile: { summary: 'compile one int8 model into one standalone .wasm module (no imports)', main: compileCommand },
  bench: { summary: 'measure latency, memory and throughput of a model (like benchmark_model)', main: benchCommand },
  quantize: { summary: 'quantize a float model to a fully-integer int8 .tflite, with a report', main: quantizeCommand },
  train: { summary: 'train a built-in model recipe (lenet, autoencoder, lstm-classifier, driving-cnn) on TensorFlow.js', main: trainCommand },
};

function usage(): string {
  const lines = [`kestrel ${VERSION} — int8 TFLite models on bit-exact SIMD WebAssembly`, '', 'usage: kestrel <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `kestrel <command> --help` for the options of a command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd ? 0 : 1;
  }
  if (cmd === '--version' || cmd === '-v') {
    console.log(VERSION);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`kestrel: unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  try {
    return await c.main(rest);
  } catch (e) {
    if (e instanceof KestrelError) {
      console.error(`kestrel ${cmd}: ${e.message.replace(/^kestrel \w+: /, '')} [${e.code}]`);
      return e.code === 'E_USAGE' ? 2 : 1;
    }
    console.error(`kestrel ${cmd}: internal error: ${(e as Error)?.stack ?? e}`);
    return 70;
  }
}
