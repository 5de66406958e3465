#!/usr/bin/env node
// Classifies a 96×96 grayscale frame with the bundled person detector, using only the
// runtime entry point. Usage: node targets/node/classify.mjs [FRAME.gray]
// A frame file holds 9216 bytes: 8-bit pixels, rows top to bottom.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadModel } from 'kestrel/runtime';

const assets = new URL('../../assets/', import.meta.url);
const framePath = process.argv[2] ?? fileURLToPath(new URL('person.gray', assets));

const model = await loadModel(new URL('person_detect.tflite', assets));
const pixels = await readFile(framePath);
const [input] = model.inputs;
if (pixels.length !== input.bytes) {
  console.error(`${framePath}: expected ${input.bytes} bytes (${input.shape.join('×')}), got ${pixels.length}`);
  process.exit(1);
}
// The model was trained on the raw pixel bytes reinterpreted as int8.
const frame = new Int8Array(pixels.buffer, pixels.byteOffset, pixels.length);
const t0 = performance.now();
const [scores] = model.run([frame]);
const ms = performance.now() - t0;
const [noPerson, person] = model.dequantizeOutput(0, scores);
console.log(`${person > noPerson ? 'person' : 'no person'} (person ${(person * 100).toFixed(1)}%, no person ${(noPerson * 100).toFixed(1)}%) in ${ms.toFixed(2)} ms on the ${model.backend} backend`);
model.dispose();
