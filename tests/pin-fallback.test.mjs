// `kestrel bench --pin` when the optional koffi package is not installed (a runtime-only or
// --omit=optional install) or cannot load its native module (no prebuild for the platform):
// the benchmark runs unpinned and says so in one warning line.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.mjs';

/** A copy of the built package whose node_modules holds flatbuffers and, optionally, a koffi that throws. */
function packageWithout(t, brokenKoffi) {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-nokoffi-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const p of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(ROOT, 'node_modules', 'flatbuffers'), join(dir, 'node_modules', 'flatbuffers'), 'dir');
  if (brokenKoffi) {
    const k = join(dir, 'node_modules', 'koffi');
    mkdirSync(k);
    writeFileSync(join(k, 'package.json'), JSON.stringify({ name: 'koffi', version: '3.3.4', main: 'index.js' }));
    writeFileSync(join(k, 'index.js'), "throw new Error('Cannot find the native Koffi module; did you build it?');\n");
  }
  return dir;
}

function bench(dir, ...args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(dir, 'bin', 'kestrel.js'), 'bench', join(ROOT, 'assets', 'person_detect.tflite'), ...args],
      { cwd: dir }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

for (const [what, broken, reason] of [['not installed', false, /Cannot find package 'koffi'/], ['present but unloadable', true, /Cannot find the native Koffi module/]]) {
  test(`bench --pin with koffi ${what}: runs unpinned with one warning line`, async (t) => {
    const dir = packageWithout(t, broken);
    const text = await bench(dir, '--pin', '0', '--min-secs', '0.2');
    t.is(text.code, 0, text.stderr);
    const lines = text.stderr.trim().split('\n');
    t.is(lines.length, 1, text.stderr);
    t.regex(lines[0], /^kestrel bench: warning: --pin ignored: koffi \(optional dependency\) cannot be loaded: /);
    t.regex(lines[0], reason);
    t.regex(text.stdout, /steady state/);
    t.regex(text.stdout, /output CRC32\s+[0-9a-f]{8}/);
    const json = await bench(dir, '--pin', '0', '--priority', '1', '--warmup', '1', '--runs', '5', '--min-secs', '0', '--json');
    t.is(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout);
    t.is(r.environment.pinned_cpus, null);
    t.is(r.environment.priority, null);
    t.is(r.warnings.length, 1);
    t.regex(r.warnings[0], /^--pin and --priority ignored: koffi \(optional dependency\) cannot be loaded/);
  });
}
