/**
 * Entry of the browser benchmark bundle (dist/browser/bench.mjs, used by
 * targets/browser/bench.html): the runtime plus the benchmark engine and its renderers.
 */
export * from '../runtime/index.js';
export { runBenchmark, BENCH_SCHEMA_VERSION, DEFAULT_SETTINGS } from './engine.js';
export type { BenchReport, BenchRequest, BenchSettings, BackendResult, Progress } from './engine.js';
export { randomInputs } from './inputs.js';
export { crc32, crc32Hex } from './crc32.js';
export { formatReport } from './format.js';
export { reportBody, reportHtml, REPORT_CSS } from './html.js';
export { wasmFeatures } from './features.js';
import { wasmFeatures } from './features.js';

/** What the benchmark reports about the browser. */
export function browserEnvironment(): Record<string, unknown> {
  const nav = (globalThis as any).navigator ?? {};
  const ua: string = nav.userAgent ?? 'unknown';
  const brands = (nav.userAgentData?.brands ?? []).filter((b: any) => !/Not.?A.?Brand/i.test(b.brand));
  const brand = brands.find((b: any) => b.brand !== 'Chromium') ?? brands[0];
  const m = /(Chrome|Firefox|Version)\/([\d.]+)/.exec(ua);
  return {
    runtime: 'browser',
    runtime_version: brand ? `${brand.brand} ${brand.version}` : m ? `${m[1] === 'Version' ? 'Safari' : m[1]} ${m[2]}` : ua,
    user_agent: ua,
    platform: nav.userAgentData?.platform ?? nav.platform ?? null,
    cpu_model: null,
    cpu_count: nav.hardwareConcurrency ?? null,
    cross_origin_isolated: !!(globalThis as any).crossOriginIsolated,
    ...wasmFeatures(),
  };
}
