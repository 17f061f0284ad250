// coldstart.mjs - page start to first result through the shim, beside a bare page that only
// fetches the same bundle bytes, in Debian's headless chromium (issue 20's cold start target:
// at most 1.5x the bare fetch). Each run is a fresh browser, a blank page of the site first
// (as bench/run.mjs). Optional throttling through CDP Network.emulateNetworkConditions.
// Usage: node bench/coldstart.mjs --bundle FILE.mdsb [--runs 5] [--mbps 100 --rtt 20] [--web DIR: another web/]
//                                [--json FILE: the medians, for bench/run.mjs --coldstart]
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const bundle = resolve(opt('--bundle', join(ROOT, 'models/superstore.mdsb')));
const runs = Number(opt('--runs', 5)), mbps = Number(opt('--mbps', 0)), rtt = Number(opt('--rtt', 0));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const MOUNTS = [['/bundle/', resolve(bundle, '..')], ['/web/', resolve(opt('--web', join(ROOT, 'web')))], ['/', join(ROOT, 'bench')]];
const server = createServer((req, res) => {
  const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
  if (url === '/blank') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end('<!doctype html>');
  const [prefix, dir] = MOUNTS.find(([p]) => url.startsWith(p));
  const file = normalize(join(dir, url.slice(prefix.length)));
  if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
  res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Content-Length': statSync(file).size });
  createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

async function once(how) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    if (mbps) {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: rtt, downloadThroughput: mbps * 1e6 / 8, uploadThroughput: mbps * 1e6 / 8 });
    }
    await page.goto(`${origin}/blank`);
    await page.goto(`${origin}/coldstart.html?how=${how}&bundle=/bundle/${encodeURIComponent(basename(bundle))}`);
    await page.waitForFunction(() => window.__cold, null, { timeout: 300000, polling: 20 });
    const t = await page.evaluate(() => window.__cold);
    if (t.error) throw new Error(`${how}: ${t.error}`);
    return t;
  } finally {
    await browser.close();
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const out = { bare: [], shim: [], early: [] };
for (let r = 0; r < runs; r++) for (const how of Object.keys(out)) out[how].push(await once(how)); // interleaved
server.close();
const f = (x) => (x == null ? '-' : x.toFixed(0));
const bare = med(out.bare.map((t) => t.first));
console.log(`${basename(bundle)}: ${statSync(bundle).size} bytes, ${runs} runs each, median ms from navigation start${mbps ? `, throttled ${mbps} Mbit/s, ${rtt} ms RTT` : ', unthrottled localhost'}`);
console.log(`bare fetch of the bytes: ${f(bare)}`);
const summary = { bundle: basename(bundle), bytes: statSync(bundle).size, runs, mbps, rtt, bare_ms: bare };
for (const how of ['shim', 'early']) {
  const m = (k) => med(out[how].map((t) => t[k]));
  summary[how] = { loaded_ms: m('loaded'), first_ms: m('first'), ready_ms: m('ready'), real_ms: m('real'), provisional: !!out[how][0].provisional };
  console.log(`${how}: load() ${f(m('loaded'))}, first result ${f(m('first'))} (${(m('first') / bare).toFixed(2)}x bare${out[how][0].provisional ? ', popular, provisional' : ''}), whole model ${f(m('ready'))}, real ranking ${f(m('real'))} (${(m('real') / bare).toFixed(2)}x bare)`);
}
if (opt('--json', null)) writeFileSync(opt('--json'), JSON.stringify(summary, null, 1) + '\n');
