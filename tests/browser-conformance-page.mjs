// Runs conformance cases inside a browser page: fetches each case folder from the test's
// static server, runs it through the browser bundle (dist/browser/kestrel.mjs) on the
// requested kernel builds, compares every output byte for byte with the reference
// output_<k>.bin in the page and returns a small summary per case and build: equality, the
// first differences, and a SHA-256 of each output (crypto.subtle) for comparison with Node.
// Used by tests/browser-runtime.test.mjs (Chromium) and tests/browser-firefox.test.mjs.

const CTORS = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };

async function fetchBytes(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function sha256(view) {
  const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function compare(dtype, want, got) {
  const a = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  const b = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  if (a.length !== b.length) return { equal: false, detail: `length ${b.length} bytes, expected ${a.length}` };
  let same = true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) { same = false; break; }
  if (same) return { equal: true };
  const C = CTORS[dtype] ?? Uint8Array;
  const w = new C(a.slice().buffer), g = new C(b.slice().buffer);
  let n = 0, first = -1, maxd = 0;
  for (let i = 0; i < w.length; i++) if (!Object.is(w[i], g[i])) { n++; if (first < 0) first = i; maxd = Math.max(maxd, Math.abs(w[i] - g[i])); }
  return { equal: false, detail: `${n}/${w.length} elements differ (max |diff| ${maxd}); first at ${first}: expected ${w[first]}, got ${g[first]}` };
}

/**
 * cases: [{ id, url }] with url the case folder ('/tests/fixtures/conformance/ops/x/');
 * loadOptions: more options for every loadModel call.
 * Returns [{ id, backend, ok, outputs: [{ sha256, equal, detail }], error, relaxedDot }].
 */
export async function runCases({ bundle, cases, backends, wasmPaths, loadOptions }) {
  const kestrel = await import(bundle);
  const results = [];
  for (const c of cases) {
    let meta, model, inputs, refs;
    try {
      meta = JSON.parse(new TextDecoder().decode(await fetchBytes(c.url + 'case.json')));
      model = await fetchBytes(c.url + 'model.tflite');
      inputs = await Promise.all(meta.inputs.map(async (t, i) => new CTORS[t.dtype]((await fetchBytes(`${c.url}input_${i}.bin`)).buffer)));
      refs = await Promise.all(meta.outputs.map((t, k) => fetchBytes(`${c.url}output_${k}.bin`)));
    } catch (e) {
      for (const backend of backends) results.push({ id: c.id, backend, ok: false, outputs: [], error: `reading the case: ${e?.message ?? e}` });
      continue;
    }
    for (const backend of backends) {
      const r = { id: c.id, backend, ok: false, outputs: [], error: null };
      try {
        const m = await kestrel.loadModel(model, { ...loadOptions, backend, name: c.id, ...(wasmPaths ? { wasmPaths } : {}) });
        r.relaxedDot = m.relaxedDot;
        if (m.outputs.length !== refs.length) throw new Error(`${m.outputs.length} outputs, the reference has ${refs.length}`);
        const got = m.run(inputs);
        for (let k = 0; k < got.length; k++) r.outputs.push({ sha256: await sha256(got[k]), ...compare(meta.outputs[k].dtype, refs[k], got[k]) });
        m.dispose();
        r.ok = r.outputs.every((o) => o.equal);
      } catch (e) {
        r.error = String(e?.message ?? e);
      }
      results.push(r);
    }
  }
  return results;
}

/** What the engine offers (for the test log). */
export function engineInfo() {
  return { userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated === true };
}
