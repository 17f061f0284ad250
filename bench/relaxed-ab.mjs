// relaxed-ab.mjs - the relaxed-SIMD core against the SIMD128 one in one headless Chromium page,
// through the shim on the main thread, calls alternating between the two builds so that a busy
// machine slows both alike. Fresh: a new random 50-click history each call (whole forward,
// scoring, top-k); again: the same history once more, which the core's prefix cache answers
// without a forward (scoring and top-k alone), timed over 10 calls for the clock's resolution.
// Usage: node bench/relaxed-ab.mjs BUNDLE.mdsb... [--rounds N]   (prints median ms per build)
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const ri = args.indexOf('--rounds');
const rounds = ri >= 0 ? Number(args.splice(ri, 2)[1]) : 30;
const files = new Map(args.map((f) => [`/b/${basename(f)}`, resolve(f)]));
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const server = createServer((req, res) => {
  const p = new URL(req.url, 'http://x').pathname;
  const f = files.get(p) || (p === '/' ? null : join(ROOT, 'web', p));
  if (p === '/') return res.end('<!doctype html><title>ab</title>');
  try { statSync(f); } catch { res.statusCode = 404; return res.end(); }
  res.setHeader('content-type', TYPES[extname(f)] || 'application/octet-stream');
  createReadStream(f).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless'] });
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
for (const url of files.keys()) {
  const out = await page.evaluate(async ({ url, rounds }) => {
    const { load } = await import('/mdsrec.js');
    const recs = {};
    for (const build of ['relaxed', 'simd128']) recs[build] = await load({ model: url, storage: 'memory', worker: false, build, cache: false });
    const keys = (await recs.simd128.catalog()).map((x) => x.key);
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const t = { relaxed: { fresh: [], again: [] }, simd128: { fresh: [], again: [] } };
    for (let r = 0; r < rounds; r++) {
      const h = Array.from({ length: 50 }, () => keys[Math.floor(rnd() * keys.length)]);
      for (const build of r % 2 ? ['relaxed', 'simd128'] : ['simd128', 'relaxed']) {
        let t0 = performance.now();
        await recs[build].recommend({ k: 10, history: h });
        t[build].fresh.push(performance.now() - t0);
        t0 = performance.now();
        for (let i = 0; i < 10; i++) await recs[build].recommend({ k: 10, history: h });
        t[build].again.push((performance.now() - t0) / 10);
      }
    }
    const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
    const res = {};
    for (const b of Object.keys(t)) res[b] = { kernels: recs[b].info.kernels, fresh: med(t[b].fresh), again: med(t[b].again) };
    return res;
  }, { url, rounds });
  for (const [b, v] of Object.entries(out)) console.log(`${url.slice(3)}\t${b}\t${v.kernels}\tfresh ${v.fresh.toFixed(2)} ms\tagain ${v.again.toFixed(2)} ms`);
}
await browser.close();
server.close();
