// The demo page's logic: load a model with Kestrel's browser bundle, turn an image into the
// model's input on a canvas, run it, show the top classes and the latency.
//
// Query parameters: ?wasmPaths=URL (folder holding kestrel-simd.wasm / kestrel-scalar.wasm;
// default: dist/wasm/ next to the bundle), ?backend=auto|simd|scalar.
import { loadModel, hasSimd } from '../../dist/browser/kestrel.mjs';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const DEFAULT_MODEL = { url: new URL('../../assets/person_detect.tflite', import.meta.url), name: 'person_detect.tflite', labels: 'no person,person' };
const SAMPLES = { 'sample-person': 'samples/person.png', 'sample-no-person': 'samples/no_person.png' };
const STEADY_RUNS = 30;

// ---------------------------------------------------------------------------------------
// Runner: where inference happens. This page runs on the main thread. A Web Worker mode
// slots in here: a runner with the same three async methods (load, run, dispose) that posts
// to a worker; nothing else on the page changes, as it only awaits these.
// ---------------------------------------------------------------------------------------
function mainThreadRunner() {
  let model = null;
  return {
    async load(bytes, options) {
      model?.dispose();
      model = await loadModel(bytes, options);
      return { inputs: model.inputs, outputs: model.outputs, backend: model.backend, memoryBytes: model.memoryBytes };
    },
    async run(input) {
      const t0 = performance.now();
      const outputs = model.run([input]);
      return { outputs, ms: performance.now() - t0 };
    },
    dispose() { model?.dispose(); model = null; },
  };
}
const runner = mainThreadRunner();

const state = {
  modelBytes: null, modelName: '', loadedKey: '', info: null, firstMs: null, loadMs: null,
  image: null, imageName: '',
};

function setState(s, text) {
  document.body.dataset.state = s;
  $('status').textContent = text;
  $('run').disabled = s === 'running' || s === 'loading' || !state.modelBytes || !state.image;
}

function fail(e) {
  $('error').textContent = String(e?.message ?? e);
  setState('error', 'failed');
}

const fmtMs = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1)) + ' ms';
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

/** The input's layout when it is an image: [1, H, W, C] with C 1 (gray) or 3 (RGB). */
function imageLayout(t) {
  const s = t.shape;
  if (s.length === 4 && s[0] === 1 && (s[3] === 1 || s[3] === 3)) return { h: s[1], w: s[2], c: s[3] };
  if (s.length === 3 && (s[2] === 1 || s[2] === 3)) return { h: s[0], w: s[1], c: s[2] };
  return null;
}

function describeModel(info) {
  const shape = (t) => `${t.name} [${t.shape.join('×')}] ${t.dtype}` + (t.scale ? ` (scale ${+t.scale.toPrecision(6)}, zero point ${t.zeroPoint})` : '');
  const dl = $('model-info');
  dl.innerHTML = '';
  const add = (k, v, id) => { const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; if (id) dd.id = id; dl.append(dt, dd); };
  add('model', state.modelName, 'model-name');
  info.inputs.forEach((t, i) => add(`input ${i}`, shape(t), `input-shape-${i}`));
  info.outputs.forEach((t, i) => add(`output ${i}`, shape(t), `output-shape-${i}`));
  add('wasm memory', `${(info.memoryBytes / 1024).toFixed(0)} KiB`);
}

async function ensureModel() {
  const backend = $('backend').value;
  const key = `${state.modelName}|${backend}|${state.modelBytes.length}`;
  if (state.loadedKey !== key) {
    setState('loading', `loading ${state.modelName}…`);
    const opts = { backend, name: state.modelName };
    // Absolute, or relative to this page ('/kernels/', '../wasm/'): the runtime resolves it.
    if (params.get('wasmPaths')) opts.wasmPaths = params.get('wasmPaths');
    const t0 = performance.now();
    // loadModel keeps the bytes it is given; hand it a copy so a later pick cannot change them.
    state.info = await runner.load(state.modelBytes.slice(), opts);
    state.loadMs = performance.now() - t0;
    state.loadedKey = key;
    state.firstMs = null;
    describeModel(state.info);
  }
  const info = state.info;
  if (info.inputs.length !== 1) throw new Error(`${state.modelName} has ${info.inputs.length} inputs; this page feeds one image input`);
  if (!imageLayout(info.inputs[0])) throw new Error(`${state.modelName}: input [${info.inputs[0].shape}] is not an image (expected [1, height, width, 1 or 3])`);
  return info;
}

/**
 * The image as the model's input: the centre crop with the input's aspect ratio, resized to
 * its height × width, gray ((77 R + 150 G + 29 B + 128) >> 8, exact for gray pixels) or RGB,
 * then converted to the input's type as the "pixel values" choice says.
 */
function preprocess(img, t) {
  const { h, w, c } = imageLayout(t);
  const canvas = $('input-view');
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const sw = img.width, sh = img.height;
  const scale = Math.min(sw / w, sh / h);
  const cw = w * scale, ch = h * scale;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(img, (sw - cw) / 2, (sh - ch) / 2, cw, ch, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const pixels = new Uint8Array(w * h * c);
  for (let i = 0, j = 0; i < w * h; i++) {
    const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
    if (c === 1) pixels[j++] = (77 * r + 150 * g + 29 * b + 128) >> 8;
    else { pixels[j++] = r; pixels[j++] = g; pixels[j++] = b; }
  }
  if (c === 1) {   // show the gray pixels the model sees
    const view = ctx.createImageData(w, h);
    for (let i = 0; i < w * h; i++) { view.data.fill(pixels[i], 4 * i, 4 * i + 3); view.data[4 * i + 3] = 255; }
    ctx.putImageData(view, 0, 0);
  }
  $('input-caption').textContent = `model input ${w}×${h}${c === 1 ? ' gray' : ' RGB'}`;
  return { pixels, input: toInput(pixels, t) };
}

function toInput(pixels, t) {
  const mode = $('scaling').value;
  if (mode === 'full') {
    if (t.dtype === 'int8') return Int8Array.from(pixels, (p) => p - 128);
    if (t.dtype === 'uint8') return Uint8Array.from(pixels);
    if (t.dtype === 'float32') return Float32Array.from(pixels, (p) => p / 255);
    throw new Error(`input '${t.name}' is ${t.dtype}: choose a pixel value range to quantize into`);
  }
  const real = Float32Array.from(pixels, mode === 'unit' ? (p) => p / 255 : (p) => p / 127.5 - 1);
  return quantize(real, t);
}

// Round half away from zero and clamp, as Model.quantizeInput does.
function quantize(real, t) {
  if (t.dtype === 'float32') return real;
  const ranges = { int8: [-128, 127, Int8Array], uint8: [0, 255, Uint8Array], int16: [-32768, 32767, Int16Array] };
  const r = ranges[t.dtype];
  if (!r || !(t.scale > 0)) throw new Error(`input '${t.name}' (${t.dtype}) has no quantization to map pixel values into`);
  return r[2].from(real, (v) => { const x = v / t.scale; const q = (x < 0 ? -Math.round(-x) : Math.round(x)) + t.zeroPoint; return Math.min(r[1], Math.max(r[0], q)); });
}

function labelsFor(n) {
  const given = $('labels').value.split(',').map((s) => s.trim()).filter(Boolean);
  return Array.from({ length: n }, (_, i) => given[i] ?? `class ${i}`);
}

function showPrediction(info, outputs) {
  const t = info.outputs[0];
  const q = outputs[0];
  const scores = Array.from(q, (v) => (t.dtype === 'float32' ? v : (v - t.zeroPoint) * t.scale));
  const labels = labelsFor(scores.length);
  const order = scores.map((s, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const top = order[0];
  $('prediction').textContent = `${labels[top]} (${scores[top].toFixed(3)})`;
  $('prediction').dataset.class = String(top);
  const tbody = $('scores').querySelector('tbody');
  tbody.innerHTML = '';
  const max = Math.max(...scores.map(Math.abs), 1e-9);
  for (const i of order.slice(0, 5)) {
    const tr = document.createElement('tr');
    tr.dataset.class = String(i);
    tr.innerHTML = '<td></td><td class="num"></td><td class="bar"><span></span></td>';
    tr.cells[0].textContent = labels[i];
    tr.cells[1].textContent = scores[i].toFixed(4);
    tr.cells[1].title = `raw ${q[i]}`;
    tr.querySelector('span').style.width = `${Math.max(0, (100 * scores[i]) / max).toFixed(1)}%`;
    tbody.append(tr);
  }
}

async function run() {
  $('error').textContent = '';
  try {
    const info = await ensureModel();
    setState('running', 'running…');
    const { pixels, input } = preprocess(state.image, info.inputs[0]);
    const first = await runner.run(input);
    if (state.firstMs === null) state.firstMs = first.ms;
    const times = [];
    for (let i = 0; i < STEADY_RUNS; i++) times.push((await runner.run(input)).ms);
    showPrediction(info, first.outputs);
    $('latency-load').textContent = fmtMs(state.loadMs);
    $('latency-first').textContent = fmtMs(state.firstMs);
    $('latency-steady').textContent = `${fmtMs(median(times))} (${STEADY_RUNS} runs)`;
    $('latency-first').dataset.ms = String(state.firstMs);
    $('latency-steady').dataset.ms = String(median(times));
    $('kernels').textContent = `${info.backend} (engine SIMD: ${hasSimd() ? 'yes' : 'no'}), main thread`;
    // For scripts driving the page (and the tests): what was fed and what came out.
    window.kestrelDemo = { model: state.modelName, image: state.imageName, pixels, input, outputs: first.outputs, backend: info.backend };
    setState('done', `done: ${state.imageName} with ${state.modelName}`);
  } catch (e) { fail(e); }
}

async function setImage(blob, name) {
  $('error').textContent = '';
  try {
    // No colour-space conversion: the model sees the file's pixel values.
    state.image = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    state.imageName = name;
    const src = $('source');
    if (src.src.startsWith('blob:')) URL.revokeObjectURL(src.src);
    src.src = URL.createObjectURL(blob);
    $('source-caption').textContent = `${name} (${state.image.width}×${state.image.height})`;
    setState('ready', 'ready');
  } catch (e) { fail(new Error(`${name}: cannot decode the image (${e?.message ?? e})`)); }
}

async function setModel(bytes, name, labels = '') {
  state.modelBytes = bytes;
  state.modelName = name;
  state.loadedKey = '';
  $('labels').value = labels;
  $('error').textContent = '';
  try { await ensureModel(); setState('ready', 'ready'); } catch (e) { fail(e); }
}

async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function useDefaultModel() {
  try { await setModel(await fetchBytes(DEFAULT_MODEL.url), DEFAULT_MODEL.name, DEFAULT_MODEL.labels); } catch (e) { fail(e); }
}

async function takeFile(file) {
  if (/\.tflite$/i.test(file.name)) await setModel(new Uint8Array(await file.arrayBuffer()), file.name);
  else await setImage(file, file.name);
}

$('image').onchange = () => { if ($('image').files[0]) takeFile($('image').files[0]); };
$('model').onchange = () => { if ($('model').files[0]) takeFile($('model').files[0]); };
$('default-model').onclick = useDefaultModel;
for (const [id, url] of Object.entries(SAMPLES)) {
  $(id).onclick = async () => { try { await setImage(new Blob([await fetchBytes(url)], { type: 'image/png' }), url.split('/').pop()); } catch (e) { fail(e); } };
}
$('backend').onchange = () => { if (state.modelBytes) setModel(state.modelBytes, state.modelName, $('labels').value); };
$('run').onclick = run;
const drop = $('drop');
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove('over'); const f = e.dataTransfer.files[0]; if (f) takeFile(f); };

if (params.get('backend')) $('backend').value = params.get('backend');
useDefaultModel();
