#!/usr/bin/env node
// A static file server for trying the browser pages: serves the repository root on
// http://127.0.0.1:8080 (or --port N) with the MIME types module scripts and
// WebAssembly.instantiateStreaming need. Run `npm run build` first, then:
//   node targets/browser/serve.mjs            → open http://127.0.0.1:8080/targets/browser/
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.bmp': 'image/bmp', '.svg': 'image/svg+xml',
};
const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : 8080;
const host = '127.0.0.1';

createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let path = normalize(join(ROOT, decodeURIComponent(url.pathname)));
  if (path !== ROOT && !path.startsWith(ROOT + sep)) { res.writeHead(403).end('forbidden'); return; }
  if (existsSync(path) && statSync(path).isDirectory()) {
    // Folder URLs end in '/', so the page's relative links resolve inside the folder.
    if (!url.pathname.endsWith('/')) { res.writeHead(301, { location: url.pathname + '/' + url.search }).end(); return; }
    path = join(path, 'index.html');
  }
  if (!existsSync(path) || !statSync(path).isFile()) { res.writeHead(404).end('not found'); return; }
  res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
  createReadStream(path).pipe(res);
}).listen(port, host, () => {
  console.log(`serving ${ROOT} on http://${host}:${port}/ — demo: http://${host}:${port}/targets/browser/  bench: http://${host}:${port}/targets/browser/bench.html`);
});
