// Runtime-only install (scripts/runtime-install-check.mjs): the packed tarball installed with
// development, optional and peer dependencies left out runs person_detect through
// `kestrel/runtime` on this Node and on Node 18, and installs nothing but flatbuffers.
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers.mjs';

let pending = null;
/** Runs the check once for both tests. */
function check() {
  pending ??= new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'scripts', 'runtime-install-check.mjs'), '--json'], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop();
      let report = null;
      try { report = JSON.parse(last); } catch { /* reported below */ }
      resolve({ code: err ? err.code : 0, report, stdout, stderr });
    });
  });
  return pending;
}

test('the tarball installs runtime-only with one dependency and runs person_detect exactly through import and require', async (t) => {
  const { report: r, stdout, stderr } = await check();
  t.truthy(r, `no report: ${stdout}\n${stderr}`);
  t.deepEqual(r.problems.filter((p) => !/^Node 18/.test(p)), []);
  t.deepEqual(r.packages, ['flatbuffers', 'kestrel']);
  t.is(r.dependencyCount, 1);
  t.false(r.packages.some((p) => /tensorflow|assemblyscript|koffi/.test(p)));
  t.true(r.installedBytes > 1e6 && r.installedBytes < 20e6, `${r.installedBytes} bytes`);
  t.log(`runtime-only node_modules: ${r.installedBytes} bytes, ${r.packages.length} packages, tarball ${r.tarballBytes} bytes`);
  const cur = r.current;
  t.true(cur.ok, cur.problems.join('; '));
  t.is(cur.node, process.version);
  // TensorFlow Lite Micro's scores (tests/fixtures/conformance/real/person_detect_*_raw).
  t.deepEqual(r.expected, { 'person.gray': [-113, 113], 'no_person.gray': [57, -57] });
  const backends = cur.simd ? ['simd', 'scalar'] : ['scalar'];
  for (const how of ['import', 'require']) for (const backend of backends) for (const frame of ['person.gray', 'no_person.gray']) {
    const run = cur.runs.find((x) => x.how === how && x.backend === backend && x.frame === frame);
    t.truthy(run, `${how} ${backend} ${frame} ran`);
    t.deepEqual(run.scores, r.expected[frame], `${how} ${backend} ${frame}`);
  }
  t.true(cur.cjsModules.length >= 2 && cur.cjsModules.every((m) => m === 'kestrel' || m === 'flatbuffers'), cur.cjsModules.join(', '));
});

// Node 18 comes from the npm registry (or $KESTREL_NODE18): when it cannot be fetched this
// test fails and says why; it is not skipped.
test('the same install runs on Node 18', async (t) => {
  const { report: r, stdout, stderr } = await check();
  t.truthy(r, `no report: ${stdout}\n${stderr}`);
  t.truthy(r.node18, 'the check ran without Node 18');
  t.falsy(r.node18.unavailable, `Node 18 could not be run: ${r.node18.unavailable}`);
  t.true(r.node18.ok, (r.node18.problems ?? []).join('; '));
  t.regex(r.node18.node, /^v18\./);
  t.is(r.node18.runs.filter((x) => r.expected[x.frame].join() === x.scores.join()).length, r.node18.runs.length);
  t.true(r.node18.runs.length >= 8);
});
