// Multi-threaded inference in Node (docs/threads.md): outputs with 2 and 3 threads (3
// also splits rows unevenly) are byte-equal to TFLite Micro's reference outputs and to
// one thread, on both kernel builds; models with state keep it across runs the same
// way; threads end with dispose() and never keep a process alive; bad options and a
// thread that stops answering give one clear error.
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadModel } from '../dist/runtime/index.js';
import { conformanceCases, firstDifference, kestrel, readCase, REFERENCE_EXTRA, ROOT } from './helpers.mjs';

const exec = promisify(execFile);
const cases = [...conformanceCases(), ...conformanceCases(REFERENCE_EXTRA).map((c) => ({ ...c, suite: `extra-${c.suite}` }))];
const PERSON = join(ROOT, 'assets', 'person_detect.tflite');

function sameBytes(a, b) {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

for (const backend of ['simd', 'scalar']) {
  test(`every conformance and reference case, 2 and 3 threads = reference = 1 thread [${backend}]`, async (t) => {
    t.true(cases.length >= 160);
    let splitOps = 0;
    const failures = [];
    for (const c of cases) {
      const { meta, model, inputs, outputs } = readCase(c.dir);
      const one = await loadModel(model, { backend, name: c.name });
      const first = one.run(inputs);
      const second = one.run(inputs);
      one.dispose();
      for (const threads of [2, 3]) {
        const m = await loadModel(model, { backend, threads, name: c.name });
        t.is(m.threads, threads);
        splitOps += m.plan.threads.split.filter(Boolean).length;
        const got = m.run(inputs);
        got.forEach((o, k) => {
          if (!(o.buffer instanceof ArrayBuffer)) failures.push(`${c.suite}/${c.name} output ${k} is not in a plain ArrayBuffer`);
          const d = firstDifference(meta.outputs[k].dtype, outputs[k], o);
          if (d) failures.push(`${c.suite}/${c.name} ${threads} threads output ${k}: ${d}`);
          if (!sameBytes(o, first[k])) failures.push(`${c.suite}/${c.name} ${threads} threads output ${k} differs from 1 thread`);
        });
        // A second run (state carried over in LSTM/SVDF models) matches one thread's too.
        m.run(inputs).forEach((o, k) => { if (!sameBytes(o, second[k])) failures.push(`${c.suite}/${c.name} ${threads} threads run 2 output ${k} differs from 1 thread`); });
        m.dispose();
      }
    }
    t.deepEqual(failures, []);
    // The cases really exercise split ops (conv, depthwise, fully connected).
    t.true(splitOps > 200, `${splitOps} split ops`);
  });
}

test('a threaded model runs many times in a row and from both run orders of two models', async (t) => {
  const { model, inputs, outputs, meta } = readCase(cases.find((c) => c.name.startsWith('person_detect')).dir);
  const a = await loadModel(model, { threads: 2 });
  const b = await loadModel(model, { threads: 3 });
  for (let i = 0; i < 200; i++) {
    const m = i % 3 === 0 ? b : a;
    const [o] = m.run(inputs);
    if (firstDifference(meta.outputs[0].dtype, outputs[0], o)) { t.fail(`run ${i} differs`); break; }
  }
  a.dispose();
  b.dispose();
  t.pass();
});

test('bad threads values give one clear error', async (t) => {
  for (const bad of [0, -1, 1.5, 65, 'two', NaN, null]) {
    await t.throwsAsync(() => loadModel(PERSON, { threads: bad }), { code: 'E_USAGE', message: /threads must be 'auto' or a whole number from 1 to 64/ }, String(bad));
  }
  const auto = await loadModel(PERSON, { threads: 'auto' });
  t.true(auto.threads >= 1);
  auto.dispose();
});

test('a disposed threaded model refuses to run', async (t) => {
  const m = await loadModel(PERSON, { threads: 2 });
  const x = new Int8Array(m.inputs[0].bytes);
  m.run([x]);
  m.dispose();
  t.throws(() => m.run([x]), { code: 'E_DISPOSED' });
});

test('a thread that ends while idle costs nothing: thread 0 does the work itself', async (t) => {
  const { model, inputs, outputs, meta } = readCase(cases.find((c) => c.name.startsWith('person_detect')).dir);
  const m = await loadModel(model, { threads: 2 });
  m.run(inputs);
  m.threadGroup.handles[0].terminate(true);
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 3; i++) t.is(firstDifference(meta.outputs[0].dtype, outputs[0], m.run(inputs)[0]), null);
  m.dispose();
});

test('a thread that claims work and stops answering gives E_THREADS after threadTimeoutMs, not a hang', async (t) => {
  // A stand-in for thread 1 (through the threadSpawner option) that claims one chunk of
  // the first split op it sees and never finishes it.
  const { Worker } = await import('node:worker_threads');
  const workers = [];
  const spawner = (init) => {
    const w = new Worker(`
      const { workerData: d, parentPort } = require('node:worker_threads');
      const i32 = new Int32Array(d.memory.buffer);
      const W = d.args[4] >> 2;
      parentPort.postMessage('ready');
      for (;;) { const w = Atomics.load(i32, W); if ((w & 0xfff) && Atomics.compareExchange(i32, W, w, w - 1) === w) break; }
      parentPort.postMessage('claimed');
    `, { eval: true, workerData: { memory: init.memory, args: init.args } });
    workers.push(w);
    return { ready: new Promise((r) => w.once('message', () => r())), terminate: () => { void w.terminate(); } };
  };
  const m = await loadModel(PERSON, { threads: 2, threadTimeoutMs: 1000, threadSpawner: spawner });
  const x = new Int8Array(m.inputs[0].bytes);
  const t0 = Date.now();
  const e = t.throws(() => { for (let i = 0; i < 10000; i++) m.run([x]); }, { code: 'E_THREADS', message: /did not finish its part of an op within 1000 ms/ });
  t.truthy(e);
  t.true(Date.now() - t0 < 15000);
  t.throws(() => m.run([x]), { code: 'E_THREADS' });
  m.dispose();
  for (const w of workers) await w.terminate();
});

test('a process with a threaded model exits by itself, with or without dispose, from ESM and CommonJS', async (t) => {
  const esm = `import { loadModel } from ${JSON.stringify(join(ROOT, 'dist/runtime/index.js'))};
    const m = await loadModel(${JSON.stringify(PERSON)}, { threads: 2 });
    const out = m.run([new Int8Array(m.inputs[0].bytes)]);
    console.log('ran', out[0].length, m.threads);`;
  const cjs = `const { loadModel } = require(${JSON.stringify(join(ROOT, 'dist/cjs/runtime.cjs'))});
    loadModel(${JSON.stringify(PERSON)}, { threads: 3 }).then((m) => {
      const out = m.run([new Int8Array(m.inputs[0].bytes)]);
      console.log('ran', out[0].length, m.threads); m.dispose();
    });`;
  const a = await exec(process.execPath, ['--input-type=module', '-e', esm], { timeout: 20000 });
  t.is(a.stdout.trim(), 'ran 2 2');
  const b = await exec(process.execPath, ['-e', cjs], { timeout: 20000 });
  t.is(b.stdout.trim(), 'ran 2 3');
});

test('kestrel bench --threads 2 measures with two threads and says so', async (t) => {
  const r = await kestrel('bench', PERSON, '--threads', '2', '--runs', '20', '--warmup', '2', '--min-secs', '0', '--json');
  t.is(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  t.is(rep.threads, 2);
  t.is(rep.environment.threads_used, 2);
  const one = JSON.parse((await kestrel('bench', PERSON, '--runs', '5', '--warmup', '1', '--min-secs', '0', '--json')).stdout);
  t.is(rep.output_crc32, one.output_crc32);
});
