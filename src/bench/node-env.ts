/** What the benchmark reports about the machine, in Node. */
import os from 'node:os';
import { wasmFeatures } from './features.js';

export function nodeEnvironment(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    runtime: 'node',
    runtime_version: process.version,
    engine: `V8 ${process.versions.v8}`,
    platform: `${os.platform()} ${os.release()} ${process.arch}`,
    cpu_model: cpus[0]?.model?.trim() || null,
    cpu_count: cpus.length || null,
    memory_bytes: os.totalmem(),
    ...wasmFeatures(),
  };
}
