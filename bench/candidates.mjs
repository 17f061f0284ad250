// candidates.mjs - candidate mode in Chromium: for each bundle, core-worker.js (the SIMD128 core
// in a Worker, as the bench page runs it) times fresh 50-click histories through the full scan
// and through candidate mode, side by side in one Worker. The recall and the candidate count
// are the native tool's (`mdsrec bench --candidates`): the same core, the same histories.
// Usage: node bench/candidates.mjs [--calls N] [--warmup N] [--popular-head P] [--hops H]
//                                  [--neighbours K] [--wasm simd|relaxed|scalar] BUNDLE.mdsb...
// Prints one JSON object per bundle (bench/NOTES.md, "Candidate mode").
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const HERE = resolve(new URL('.', import.meta.url).pathname);
const ROOT = resolve(HERE, '..');
// --name value pairs, then the bundles
const args = process.argv.slice(2), o = {}, bundles = [];
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('--')) o[args[i].slice(2)] = args[++i];
  else bundles.push(resolve(args[i]));
}
const calls = Number(o.calls ?? 100), warmup = Number(o.warmup ?? 10);
const head = Number(o['popular-head'] ?? 100), hops = Number(o.hops ?? 1), nb = Number(o.neighbours ?? 0);
const build = o.wasm ?? 'simd';
if (!bundles.length) throw new Error('usage: node bench/candidates.mjs [options] BUNDLE.mdsb...');

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const server = createServer((req, res) => {
  const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  // cross-origin isolation: a Worker's performance.now() then resolves 5 us, not 100 us
  const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
  if (url === '/') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end('<!doctype html>');
  const file = url.startsWith('/bundle/') ? bundles[Number(url.slice(8))]
    : url.startsWith('/wasm/') ? join(ROOT, 'web/wasm', basename(url))
    : join(HERE, basename(url)); // core-worker.js, bundle.js
  if (!file || !existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Content-Length': statSync(file).size });
  createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  for (const [i, file] of bundles.entries()) {
    const msg = { bundle: `/bundle/${i}`, wasm: `/wasm/mdsrec-${build}.wasm`, calls, warmup, len: 50, k: 10, cand: [1, head, hops, nb] };
    const r = await page.evaluate((m) => new Promise((ok, fail) => {
      const w = new Worker('/core-worker.js');
      w.onmessage = ({ data }) => {
        if (data.type === 'first') return;
        w.terminate();
        if (data.type === 'error') fail(new Error(data.message));
        else ok(data);
      };
      w.postMessage(m);
    }), msg);
    const { fresh, candidate } = r.cases;
    console.log(JSON.stringify({ file: `${basename(dirname(file))}/${basename(file)}`, browser: `Chromium ${browser.version()}`, kernels: r.kernels,
      popular_head: head, hops, neighbours: nb, calls, fresh, candidate, speedup_p50: +(fresh.p50_ms / candidate.p50_ms).toFixed(2) }));
  }
} finally {
  await browser.close();
  server.close();
}
