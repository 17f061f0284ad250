// run.mjs - the bench's driver: serves bench/ on 127.0.0.1 (with the cross-origin isolation
// headers that give workers a 5 us performance.now() instead of 100 us), runs the page once in
// Debian's headless chromium, checks every peer's top-k against the core's, sets the native
// numbers (mdsrec bench) beside the wasm ones, and writes the JSON and markdown reports.
// Usage: node bench/run.mjs --bundles DIR --native FILE.json --cases a,b --calls N --warmup N
//                           --md docs/BENCH.md --json docs/BENCH.json [--no-peers]
import { createServer } from 'node:http';
import { createReadStream, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { gzipSync } from 'node:zlib';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium } from 'playwright-core';

const HERE = resolve(new URL('.', import.meta.url).pathname);
const ROOT = resolve(HERE, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const bundles = resolve(opt('--bundles', join(ROOT, 'build-bench/bundles')));
const nativeFile = opt('--native', null);
const calls = Number(opt('--calls', 200)), warmup = Number(opt('--warmup', 20));
const caseNames = opt('--cases', 'synth-100000-int8,synth-10000-fp32,synth-10000-int8,synth-100000-fp32,synth-1000000-fp32,synth-1000000-int8').split(',');
const peers = !args.includes('--no-peers');
const mdOut = opt('--md', null), jsonOut = opt('--json', null);

const cases = caseNames.filter((n) => existsSync(join(bundles, `${n}.mdsb`))).map((n) => {
  const [, items, dtype] = n.match(/-(\d+)-(\w+)$/);
  return { name: n, items: Number(items), dtype, url: `/bundles/${n}.mdsb`, bytes: statSync(join(bundles, `${n}.mdsb`)).size };
});
if (!cases.length) throw new Error(`no bundles in ${bundles}`);
const config = { wasm: '/wasm/mdsrec-simd.wasm', calls, warmup, len: 50, k: 10, peers, cases };

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
const MOUNTS = [['/bundles/', bundles], ['/wasm/', join(ROOT, 'web/wasm')], ['/node_modules/', join(HERE, 'node_modules')], ['/', HERE]];
const server = createServer((req, res) => {
  const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
  if (url === '/config.json') return res.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end(JSON.stringify(config));
  const [prefix, dir] = MOUNTS.find(([p]) => url.startsWith(p));
  const file = normalize(join(dir, url === '/' ? 'index.html' : url.slice(prefix.length)));
  if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
  res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Content-Length': statSync(file).size });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--no-first-run', '--disable-quic', '--disable-sync'],
});
let result;
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`page: ${m.text()}`));
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  let last = '';
  const poll = setInterval(async () => {
    const t = await page.textContent('#log').catch(() => '');
    if (t && t !== last) { process.stderr.write(t.slice(last.length) + '\n'); last = t; }
  }, 2000);
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => window.__bench, null, { timeout: 40 * 60 * 1000, polling: 500 });
  clearInterval(poll);
  result = await page.evaluate(() => window.__bench);
  result.browser = `Chromium ${browser.version()}`;
} finally {
  await browser.close();
  server.close();
}
if (result.fatal) throw new Error(`bench page: ${result.fatal}`);

// ---------------------------------------------------------------- the report
const native = nativeFile ? JSON.parse(readFileSync(nativeFile, 'utf8')) : [];
const nativeOf = (name) => native.find((n) => n.file.endsWith(`${name}.mdsb`));
const failures = [...result.errors];
for (const c of result.cases) {
  if (c.error) continue;
  const n = nativeOf(c.name);
  c.native = n ? { fresh: n.fresh, append: n.append, read_ms: n.read_ms, open_ms: n.open_ms, kernels: n.kernels } : null;
  c.native_match = n ? n.topk.join() === c.core.topk.join() : null;
  if (n && !c.native_match) failures.push(`${c.name}: native top-k ${n.topk} differs from wasm ${c.core.topk}`);
  if (peers && !c.tf_match) failures.push(`${c.name}: TF.js top-k ${c.tf.topk} differs from mdsrec ${c.core.topk}`);
  if (peers && !c.ort_match) failures.push(`${c.name}: ORT-web top-k ${c.ort.topk} differs from mdsrec ${c.core.topk}`);
}
const wasmFile = join(ROOT, 'web/wasm/mdsrec-simd.wasm');
const wasmBytes = readFileSync(wasmFile);
const report = {
  date: new Date().toISOString(), machine: `${cpus()[0].model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  browser: result.browser, userAgent: result.userAgent, crossOriginIsolated: result.crossOriginIsolated,
  settings: { calls, warmup, history: 50, k: 10, peers },
  core_wasm: { bytes: wasmBytes.length, gzip_bytes: gzipSync(wasmBytes, { level: 9 }).length },
  cases: result.cases, failures,
};

const f = (x, d = 2) => (x == null || Number.isNaN(x) ? '-' : x.toFixed(d));
const pp = (q) => (q ? `${f(q.p50_ms)} / ${f(q.p95_ms)}` : '-');
const ratio = (a, b) => (a && b ? `${f(a / b)}x` : '-');
const md = [];
md.push('# Benchmark: mdsrec in the browser, beside TF.js, onnxruntime-web and native', '');
md.push(`Written by \`npm run bench\` (scripts/bench.sh); do not edit by hand. ${report.date}`, '');
md.push(`- Machine: ${report.machine}`);
md.push(`- Browser: ${report.browser} headless, one page, each runtime in its own dedicated Worker, one thread (crossOriginIsolated: ${report.crossOriginIsolated}, so timers have 5 us resolution)`);
md.push(`- Bundles: \`mdsrec synth\`, 3 channels (id, image, text), d = 64, 2 blocks, 2 heads, max length 50, 10 neighbours per item and channel; history of 50, k = 10`);
md.push(`- Latency: ${warmup} warm-up calls, then ${calls} timed calls per case; p50 / p95 in ms. **fresh**: a new history of 50 items every call (a full forward of 50 tokens x 3 channels). **append**: the same first 49 items and a new 50th click every call.`);
md.push(`- Core wasm (SIMD128): ${wasmBytes.length} bytes, ${report.core_wasm.gzip_bytes} bytes gzip -9`, '');
md.push('| case | bundle | B/item | wasm heap | cold start | mdsrec fresh | mdsrec append | native fresh | wasm/native | TF.js fresh | TF.js / mdsrec | ORT score+top-k | ORT / mdsrec | top-k |');
md.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of report.cases) {
  if (c.error) { md.push(`| ${c.name} | error: ${c.error.replace(/\|/g, '/')} |`); continue; }
  const core = c.core.cases, nat = c.native;
  const same = [c.native_match !== false, !peers || c.tf_match, !peers || c.ort_match].every(Boolean);
  md.push(`| ${c.items / 1000}k ${c.dtype} | ${f(c.core.bundle_bytes / 2 ** 20, 1)} MiB | ${f(c.core.bundle_bytes / c.items, 0)} | ${f(c.core.heap_bytes / 2 ** 20, 0)} MiB | ${f(c.cold_ms, 0)} ms | ${pp(core.fresh)} | ${pp(core.append)} | ${pp(nat && nat.fresh)} | ${ratio(core.fresh.p50_ms, nat && nat.fresh.p50_ms)} | ${pp(c.tf && c.tf.cases.fresh)} | ${ratio(c.tf && c.tf.cases.fresh.p50_ms, core.fresh.p50_ms)} | ${pp(c.ort && c.ort.cases.score_topk)} | ${ratio(c.ort && c.ort.cases.score_topk.p50_ms, core.fresh.p50_ms)} | ${same ? 'equal' : '**DIFFERENT**'} |`);
}
md.push('', 'Ratios are of p50s: wasm/native = mdsrec wasm fresh / native fresh; TF.js / mdsrec and ORT / mdsrec = the peer / mdsrec fresh (above 1: mdsrec is faster). ORT runs scoring and top-k alone; mdsrec and TF.js run the whole forward too.', '');
md.push('### Where the cold start goes', '', '| case | cold start | from | worker | wasm compile | bundle fetch into heap | open (checksums + validation) | first recommend |', '|---|---|---|---|---|---|---|---|');
for (const c of report.cases) if (!c.error)
  md.push(`| ${c.items / 1000}k ${c.dtype} | ${f(c.cold_ms, 1)} | ${c.cold_from} | ${f(c.load.worker_ms, 1)} | ${f(c.load.compile_ms, 1)} | ${f(c.load.fetch_ms, 1)} | ${f(c.load.open_ms, 1)} | ${f(c.load.first_ms, 1)} |`);
md.push('', '### Append case of the peers', '', '| case | TF.js append | TF.js / mdsrec append |', '|---|---|---|');
for (const c of report.cases) if (!c.error && c.tf)
  md.push(`| ${c.items / 1000}k ${c.dtype} | ${pp(c.tf.cases.append)} | ${ratio(c.tf.cases.append.p50_ms, c.core.cases.append.p50_ms)} |`);
if (failures.length) md.push('', '## FAILURES', '', ...failures.map((s) => `- ${s}`));
md.push('');
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 1) + '\n');
if (mdOut) writeFileSync(mdOut, md.join('\n'));
console.log(md.join('\n'));
if (failures.length) {
  console.error(`bench: ${failures.length} failure(s)`);
  process.exit(1);
}
