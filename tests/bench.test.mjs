// `kestrel bench` and its engine: statistics, CRC32, the JSON schema, the per-op profile,
// pinning, rivals, and error handling. The HTML report and the browser page are checked in
// headless Chromium in bench-browser.test.mjs.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFORMANCE, ROOT, kestrel, oneLineError } from './helpers.mjs';
import { crc32, crc32Hex } from '../dist/bench/crc32.js';
import { histogram, latencyStats, percentile } from '../dist/bench/stats.js';
import { BENCH_SCHEMA_VERSION } from '../dist/bench/engine.js';
import { formatCpuList, parseCpuList } from '../dist/bench/pin.js';
import { randomInputs } from '../dist/bench/inputs.js';

const micro = join(CONFORMANCE, 'real', 'micro_speech_quantized_yes_features');
const person = join(ROOT, 'assets', 'person_detect.tflite');
const QUICK = ['--warmup', '2', '--runs', '20', '--min-secs', '0'];

async function benchJson(t, ...args) {
  const r = await kestrel('bench', ...args, '--json');
  t.is(r.code, 0, r.stderr);
  return { report: JSON.parse(r.stdout), stderr: r.stderr };
}

test('crc32 matches the standard check value and chains over arrays', (t) => {
  t.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  t.is(crc32(new Uint8Array(0)), 0);
  const a = new Int8Array([1, -2, 3]), b = new Int16Array([300, -1]);
  const joined = new Uint8Array([...new Uint8Array(a.buffer), ...new Uint8Array(b.buffer)]);
  t.is(crc32Hex([a, b]), crc32(joined).toString(16).padStart(8, '0'));
});

test('nearest-rank percentiles, mean, stddev and histogram', (t) => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  t.is(percentile(xs, 50), 50);
  t.is(percentile(xs, 90), 90);
  t.is(percentile(xs, 99), 99);
  t.is(percentile(xs, 100), 100);
  t.is(percentile([7], 99), 7);
  const s = latencyStats([4, 1, 3, 2]);
  t.like(s, { runs: 4, min_ms: 1, max_ms: 4, mean_ms: 2.5, p50_ms: 2, p90_ms: 4, p99_ms: 4 });
  t.true(Math.abs(s.stddev_ms - Math.sqrt(5 / 3)) < 1e-12);
  const h = histogram(xs, 10);
  t.is(h.counts.length, 10);
  t.is(h.counts.reduce((a, b) => a + b, 0), 100);
  t.is(h.lo_ms, 1);
  t.true(Math.abs(h.hi_ms - 100) < 1e-9);
});

test('CPU lists parse and format like Cpus_allowed_list', (t) => {
  t.deepEqual(parseCpuList('0'), [0]);
  t.deepEqual(parseCpuList('3,0-2,5'), [0, 1, 2, 3, 5]);
  t.is(formatCpuList([0, 1, 2, 3, 5, 7, 8]), '0-3,5,7-8');
  t.throws(() => parseCpuList('a'), { message: /not a CPU list/ });
  t.throws(() => parseCpuList('3-1'), { message: /bad CPU range/ });
});

test('seeded random inputs are reproducible and cover the int8 range', (t) => {
  const info = [{ name: 'x', shape: [1, 4096], dtype: 'int8', scale: 1, zeroPoint: 0, bytes: 4096, index: 0 }];
  const [a] = randomInputs(info, 7), [b] = randomInputs(info, 7), [c] = randomInputs(info, 8);
  t.deepEqual(a, b);
  t.notDeepEqual(a, c);
  t.is(Math.min(...a), -128);
  t.is(Math.max(...a), 127);
});

test('--json follows the documented, versioned schema; the CRC is that of the reference output', async (t) => {
  const { report: r } = await benchJson(t, join(micro, 'model.tflite'), '--input', join(micro, 'input_0.bin'), ...QUICK);
  t.is(r.schema_version, BENCH_SCHEMA_VERSION);
  t.is(r.schema_version, 1);
  t.is(r.model, join(micro, 'model.tflite'));
  t.is(r.backend, 'simd');
  t.is(r.relaxed_dot, null, 'relaxed_dot is for backend relaxed only');
  t.is(r.threads, 1);
  t.is(r.runs, 20);
  for (const k of ['init_ms', 'first_ms', 'p50_ms', 'p90_ms', 'p99_ms', 'min_ms', 'mean_ms', 'max_ms', 'stddev_ms', 'warmup_mean_ms', 'throughput_per_s', 'gmacs_per_s', 'timed_secs']) {
    t.true(typeof r[k] === 'number' && r[k] >= 0, k);
  }
  t.true(r.min_ms <= r.p50_ms && r.p50_ms <= r.p90_ms && r.p90_ms <= r.p99_ms && r.p99_ms <= r.max_ms);
  t.is(r.warmup_runs, 2);
  t.true(r.arena_bytes > 0 && r.arena_bytes <= 7312, 'arena no larger than TFLM');
  t.true(r.wasm_memory_bytes >= r.arena_bytes && r.wasm_memory_bytes % 65536 === 0);
  t.true(r.macs > 0);
  t.is(r.model_size_bytes, readFileSync(join(micro, 'model.tflite')).length);
  t.regex(r.output_crc32, /^[0-9a-f]{8}$/);
  t.is(r.output_crc32, crc32Hex([readFileSync(join(micro, 'output_0.bin'))]), 'CRC of the bit-exact output');
  t.is(r.inputs[0].source, join(micro, 'input_0.bin'));
  t.is(r.histogram.counts.reduce((a, b) => a + b, 0), 20);
  t.is(r.profile, null);
  t.is(r.results.length, 1);
  t.is(r.results[0].p50_ms, r.p50_ms);
  t.deepEqual(r.compare, []);
  t.is(r.backends_agree, null);
  for (const k of ['runtime', 'runtime_version', 'cpu_model', 'cpu_count', 'wasm_simd', 'wasm_relaxed_simd', 'wasm_threads', 'threads_used']) t.true(k in r.environment, k);
  t.is(r.environment.threads_used, 1);
  t.deepEqual(r.settings, { warmup: 2, runs: 20, min_secs: 0, max_secs: 60, seed: 1, profile: false });
  // The schema document lists every top-level field.
  const doc = readFileSync(join(ROOT, 'docs', 'bench-schema.md'), 'utf8');
  for (const k of Object.keys(r)) t.true(doc.includes(`\`${k}\``), `docs/bench-schema.md documents ${k}`);
});

test('--backend all measures simd, scalar and the compiled module, which agree', async (t) => {
  const { report: r } = await benchJson(t, join(micro, 'model.tflite'), '--backend', 'all', ...QUICK);
  t.deepEqual(r.results.map((x) => x.backend), ['simd', 'scalar', 'compiled']);
  t.true(r.backends_agree);
  t.is(r.results[0].output_crc32, r.results[1].output_crc32);
  t.is(r.results[0].output_crc32, r.results[2].output_crc32);
  t.is(r.inputs[0].source, 'random(seed 1)');
});

test('a module made by kestrel compile is benchmarked as the compiled backend', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-bench-'));
  const wasm = join(dir, 'micro.wasm');
  const c = await kestrel('compile', join(micro, 'model.tflite'), '--out', wasm);
  t.is(c.code, 0, c.stderr);
  const { report: r } = await benchJson(t, wasm, '--input', join(micro, 'input_0.bin'), ...QUICK);
  t.is(r.model_format, 'wasm');
  t.is(r.backend, 'compiled');
  t.is(r.ops, 4);
  t.true(r.arena_bytes > 0 && r.macs > 0);
  t.is(r.output_crc32, crc32Hex([new Uint8Array(readFileSync(join(micro, "output_0.bin")))]));
  oneLineError(t, await kestrel('bench', wasm, '--backend', 'simd'), /compiled module runs its own built-in kernels/);
});

test('per-op profile adds up to within 10% of a whole run and leaves results unchanged', async (t) => {
  const { report: r } = await benchJson(t, person, '--profile', ...QUICK);
  const p = r.profile;
  t.truthy(p);
  t.true(p.outputs_unchanged);
  t.is(p.ops.length, r.ops);
  const sum = p.ops.reduce((a, o) => a + o.ms, 0);
  t.true(Math.abs(sum - p.total_ms) < 1e-9);
  const dev = Math.abs(p.total_ms / p.run_ms - 1);
  t.true(dev < 0.1, `per-op sum ${p.total_ms} ms vs whole run ${p.run_ms} ms (${(dev * 100).toFixed(1)} %)`);
  t.true(Math.abs(p.by_type.reduce((a, x) => a + x.share, 0) - 1) < 1e-6);
  t.deepEqual(p.by_type.map((x) => x.opcode).sort(), [...new Set(p.ops.map((o) => o.opcode))].sort());
  t.is(p.by_type.find((x) => x.opcode === 'CONV_2D').count, 14);
  // Profiling does not change what the model computes: same CRC as without --profile.
  const { report: plain } = await benchJson(t, person, ...QUICK);
  t.is(plain.output_crc32, r.output_crc32);
});

test('text output shows the benchmark_model figures and the profile table', async (t) => {
  const r = await kestrel('bench', join(micro, 'model.tflite'), '--profile', ...QUICK);
  t.is(r.code, 0, r.stderr);
  for (const re of [/init \(load \+ prepare\)/, /first inference/, /warm-up/, /p50 .* p90 .* p99/, /inferences\/s/, /arena [\d,]+ bytes; wasm memory/, /GMAC\/s/, /output CRC32\s+[0-9a-f]{8}/, /wasm SIMD (yes|no), relaxed SIMD (yes|no), threads (yes|no); threads used: 1/, /FULLY_CONNECTED/]) {
    t.regex(r.stdout, re);
  }
  t.is(r.stderr, '', 'no progress bar when stderr is not a terminal');
});

test('--pin 0 pins the process (Cpus_allowed_list from /proc/self/status)', async (t) => {
  if (process.platform !== 'linux') {
    const { report: r } = await benchJson(t, join(micro, 'model.tflite'), '--pin', '0', ...QUICK);
    t.true(r.warnings.some((w) => /only supported on Linux/.test(w)));
    return;
  }
  const { report: r, stderr } = await benchJson(t, join(micro, 'model.tflite'), '--pin', '0', '--priority', '1', ...QUICK);
  t.deepEqual(r.warnings, [], stderr);
  t.is(r.environment.cpus_allowed, '0');
  t.is(r.environment.pinned_cpus, '0');
  t.is(r.environment.priority, 1);
});

test('--compare: LiteRT.js runs in the same process; TensorFlow.js is reported unavailable', async (t) => {
  const { report: r } = await benchJson(t, join(micro, 'model.tflite'), '--compare', 'litert,tfjs', ...QUICK);
  const l = r.compare.find((c) => c.engine === 'litert');
  const f = r.compare.find((c) => c.engine === 'tfjs');
  t.is(f.status, 'unavailable');
  t.regex(f.reason, /tfjs-backend-wasm is not installed|float32 LayersModels, not int8/);
  t.is(l.status, 'ok', l.reason);
  t.is(l.runs, 20);
  t.true(l.p50_ms > 0);
  t.true(Math.abs(l.ratio_p50 - r.p50_ms / l.p50_ms) < 1e-9);
  t.true(l.max_abs_diff <= 1, `LiteRT.js within ±1 of Kestrel (got ${l.max_abs_diff})`);
});

test('bad input gives one clear line and a non-zero exit', async (t) => {
  const model = join(micro, 'model.tflite');
  oneLineError(t, await kestrel('bench', model, '--bogus'), /unknown flag --bogus/);
  oneLineError(t, await kestrel('bench'), /missing MODEL/);
  oneLineError(t, await kestrel('bench', join(micro, 'nope.tflite')), /nope\.tflite: no such file/);
  oneLineError(t, await kestrel('bench', model, '--input', person), /1960 bytes, but the file has \d+ bytes/);
  oneLineError(t, await kestrel('bench', model, '--input', join(micro, 'input_0.bin'), '--input', join(micro, 'input_0.bin')), /1 input\(s\).*got 2 --input/);
  oneLineError(t, await kestrel('bench', model, '--threads', '2', '--backend', 'compiled'), /compiled module runs on one thread/);
  oneLineError(t, await kestrel('bench', model, '--threads', '0'), /--threads needs a whole number/);
  oneLineError(t, await kestrel('bench', model, '--runs', 'many'), /--runs needs a whole number/);
  const kept = join(mkdtempSync(join(tmpdir(), 'kestrel-bench-')), 'report.html');
  writeFileSync(kept, 'keep me');
  oneLineError(t, await kestrel('bench', model, '--report', kept), /already exists \(use --force/);
  t.is(readFileSync(kept, 'utf8'), 'keep me');
  oneLineError(t, await kestrel('bench', model, '--compare', 'onnx'), /unknown engine 'onnx'/);
  oneLineError(t, await kestrel('bench', model, '--pin', '0-x'), /not a CPU list/);
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-bench-'));
  const wasm = join(dir, 'model.wasm');
  writeFileSync(wasm, new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  oneLineError(t, await kestrel('bench', wasm), /not a compiled Kestrel model/);
  oneLineError(t, await kestrel('bench', join(micro, 'input_0.bin')), /not a TFLite model/);
});

test('bench --help', async (t) => {
  const r = await kestrel('bench', '--help');
  t.is(r.code, 0);
  t.regex(r.stdout, /usage: kestrel bench/);
  for (const f of ['--backend', '--threads', '--warmup', '--runs', '--min-secs', '--max-secs', '--input', '--json', '--report', '--profile', '--compare', '--pin', '--priority']) t.true(r.stdout.includes(f), f);
});

// Node 20 runs the relaxed build only with these flags (as tests/relaxed.test.mjs does).
const RELAXED_FLAGS = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd', '--no-liftoff'] : [];

test('--backend relaxed reports how its convolutions use the relaxed dot product; --relaxed-dot forces a layout, bit-exact either way', async (t) => {
  const { execFile } = await import('node:child_process');
  const run = (...args) => new Promise((res) => execFile(process.execPath, [...RELAXED_FLAGS, join(ROOT, 'bin', 'kestrel.js'), 'bench', person, '--backend', 'relaxed', ...QUICK, '--json', ...args], { cwd: ROOT, maxBuffer: 16 << 20 }, (e, stdout, stderr) => res({ code: e ? e.code : 0, stdout, stderr })));
  const auto = await run();
  t.is(auto.code, 0, auto.stderr);
  const a = JSON.parse(auto.stdout);
  t.is(a.results[0].backend, 'relaxed');
  t.true(['split', 'unsigned', 'signed'].includes(a.results[0].relaxed_dot), String(a.results[0].relaxed_dot));
  t.is(a.relaxed_dot, a.results[0].relaxed_dot, 'the top level repeats the primary result');
  const forced = await run('--relaxed-dot', 'unsigned');
  t.is(forced.code, 0, forced.stderr);
  const f = JSON.parse(forced.stdout);
  t.is(f.results[0].relaxed_dot, 'unsigned');
  // Where the engine reads the layout otherwise, the kernels fall back: same outputs.
  t.is(f.output_crc32, a.output_crc32);
  const simd = await kestrel('bench', person, '--backend', 'simd', '--relaxed-dot', 'signed', ...QUICK, '--json');
  t.is(simd.code, 0, simd.stderr);
  t.true(JSON.parse(simd.stdout).warnings.some((w) => /--relaxed-dot signed applies to --backend relaxed only/.test(w)));
});
