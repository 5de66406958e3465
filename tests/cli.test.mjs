// The kestrel command: run, inspect, demo and their error handling.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFORMANCE, ROOT, kestrel, oneLineError } from './helpers.mjs';


const micro = join(CONFORMANCE, 'real', 'micro_speech_quantized_yes_features');

test('run writes output_<k>.bin equal to the reference and prints a summary line per output', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'kestrel-run-'));
  for (const backend of ['simd', 'scalar']) {
    const dir = join(out, backend);
    const r = await kestrel('run', join(micro, 'model.tflite'), '--input', join(micro, 'input_0.bin'), '--out', dir, '--backend', backend);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(readFileSync(join(dir, 'output_0.bin')), readFileSync(join(micro, 'output_0.bin')));
    t.regex(r.stdout, /^output 0 '.*': int8\[1,4\]/m);
  }
});

test('run refuses to overwrite outputs unless --force', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-run-'));
  writeFileSync(join(dir, 'output_0.bin'), 'keep me');
  const args = ['run', join(micro, 'model.tflite'), '--input', join(micro, 'input_0.bin'), '--out', dir];
  const r = await kestrel(...args);
  t.not(r.code, 0);
  t.is(readFileSync(join(dir, 'output_0.bin'), 'utf8'), 'keep me');
  t.regex(r.stderr, /already exists/);
  t.is((await kestrel(...args, '--force')).code, 0);
  t.deepEqual(readFileSync(join(dir, 'output_0.bin')), readFileSync(join(micro, 'output_0.bin')));
});

test('bad usage gives one clear line and a non-zero exit', async (t) => {
  oneLineError(t, await kestrel('run', '--bogus'), /unknown flag --bogus/);
  oneLineError(t, await kestrel('run', join(micro, 'nope.tflite'), '--input', 'x.bin'), /nope\.tflite: no such file/);
  oneLineError(t, await kestrel('run', join(micro, 'model.tflite')), /1 input\(s\).*got 0 --input/);
  oneLineError(t, await kestrel('run', join(micro, 'model.tflite'), '--input', join(micro, 'model.tflite')), /1960 bytes, but the file has 18800 bytes/);
  oneLineError(t, await kestrel('run', join(micro, 'model.tflite'), '--input', join(micro, 'input_0.bin'), '--backend', 'gpu'), /--backend must be one of/);
  oneLineError(t, await kestrel('frobnicate'), /unknown command 'frobnicate'/);
  oneLineError(t, await kestrel('inspect', join(micro, 'input_0.bin')), /not a TFLite model/);
});

test('inspect --json reports ops, tensors, parameters, MACs and arena', async (t) => {
  const r = await kestrel('inspect', join(ROOT, 'assets', 'person_detect.tflite'), '--json');
  t.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  t.deepEqual(s.ops.find((o) => o.name === 'CONV_2D'), { name: 'CONV_2D', count: 14 });
  t.true(s.parameters > 200000);
  t.true(s.macs > 7e6);
  t.true(s.arenaBytes > 0 && s.arenaBytes <= 85024);
  const text = await kestrel('inspect', join(ROOT, 'assets', 'person_detect.tflite'));
  t.regex(text.stdout, /planned arena: [\d,]+ bytes/);
  t.regex(text.stdout, /MACs per inference: [\d,]+/);
});

test('examples runs the bundled models and every prediction is right', async (t) => {
  const r = await kestrel('examples', '--runs', '3', '--json');
  t.is(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  t.true(d.results.length >= 5);
  for (const x of d.results) {
    t.is(x.predicted, x.expected, `${x.model} on ${x.input}`);
    t.true(x.backendsAgree);
  }
});

test('--help works for every command', async (t) => {
  for (const cmd of ['run', 'inspect', 'demo', 'examples']) {
    const r = await kestrel(cmd, '--help');
    t.is(r.code, 0);
    t.regex(r.stdout, new RegExp(`usage: kestrel ${cmd}`));
  }
  t.false(existsSync(join(ROOT, 'output_0.bin')));
});
