// web_shim.test.mjs - the browser shim (web/mdsrec.js) under Node: the JS-side header check,
// SIMD detection, wasm file choice, error classes, the streaming bundle reader (known and
// unknown length, truncation), history storage and forget, and the same top-k as the native
// tool; and issue 19's contract: calls in the order made, capped messages, option codes,
// downloads that break off, statuses mapped by their names in include/mdsrec.h. fetch is replaced by a reader of local files; Node has no Worker, so the engine runs
// in this thread (the browser tests cover the Worker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';

const ROOT = resolve(new URL('.', import.meta.url).pathname, '../..');
const BIN = [process.env.MDSREC_BIN, join(ROOT, 'build/bin/mdsrec')].find((p) => p && existsSync(p));
const HAVE_CORE = BIN && existsSync(join(ROOT, 'web/wasm/mdsrec-simd.wasm')) && existsSync(join(ROOT, 'web/wasm/mdsrec-scalar.wasm'));
const m = await import(pathToFileURL(join(ROOT, 'web/mdsrec.js')).href);

// ---------------------------------------------------------------- pure parts

function header(version = 1, size = 64) {
  const b = new Uint8Array(64);
  b.set([0x4d, 0x44, 0x53, 0x42, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, version, true);
  dv.setUint32(24, size, true);
  return b;
}
const codeOf = (f) => {
  try {
    f();
  } catch (e) {
    return e.code;
  }
  return 'no error';
};

test('checkHeader: magic and version', () => {
  assert.equal(codeOf(() => m.checkHeader(header())), 'no error');
  assert.equal(codeOf(() => m.checkHeader(header().subarray(0, 12))), 'no error');
  const bad = header();
  bad[3] = 0x43;
  assert.equal(codeOf(() => m.checkHeader(bad)), 'MDSREC_CORRUPT_BUNDLE');
  const crlf = header();
  crlf[4] = 0x0a; // text-mode mangling of \r\n
  assert.equal(codeOf(() => m.checkHeader(crlf)), 'MDSREC_CORRUPT_BUNDLE');
  assert.equal(codeOf(() => m.checkHeader(header(2))), 'no error'); // v2: pq items, compact weights
  assert.equal(codeOf(() => m.checkHeader(header(3))), 'no error'); // v3: channels of different depths
  assert.equal(codeOf(() => m.checkHeader(header(4))), 'MDSREC_INCOMPATIBLE_BUNDLE');
  assert.throws(() => m.checkHeader(header(4)), /version 4 is newer than the versions 1 to 3/);
  assert.equal(codeOf(() => m.checkHeader(header(0))), 'MDSREC_INCOMPATIBLE_BUNDLE');
  assert.equal(codeOf(() => m.checkHeader(new Uint8Array(5))), 'MDSREC_CORRUPT_BUNDLE');
  assert.equal(codeOf(() => m.checkHeader(new Uint8Array(0))), 'MDSREC_CORRUPT_BUNDLE');
});

test('error classes carry stable codes and names', () => {
  const cases = {
    MDSREC_BAD_ARGUMENT: m.ArgumentError, MDSREC_UNKNOWN_KEY: m.UnknownKeyError, MDSREC_CORRUPT_BUNDLE: m.BundleError,
    MDSREC_INCOMPATIBLE_BUNDLE: m.BundleError, MDSREC_WASM_UNAVAILABLE: m.WasmError, MDSREC_NOT_FOUND: m.MdsrecError,
  };
  for (const [code, cls] of Object.entries(cases)) {
    const e = m.mdsrecError(code, 'x');
    assert.ok(e instanceof cls && e instanceof m.MdsrecError && e instanceof Error);
    assert.equal(e.code, code);
    assert.equal(e.name, cls.name);
  }
  // mdsrec_status (include/mdsrec.h) to codes: by the C name, and by the value the header gives it
  const want = { MDSREC_ENOMEM: 'MDSREC_OUT_OF_MEMORY', MDSREC_EARG: 'MDSREC_BAD_ARGUMENT', MDSREC_EFORMAT: 'MDSREC_CORRUPT_BUNDLE',
    MDSREC_EVERSION: 'MDSREC_INCOMPATIBLE_BUNDLE', MDSREC_ECHECKSUM: 'MDSREC_CORRUPT_BUNDLE', MDSREC_EKEY: 'MDSREC_UNKNOWN_KEY',
    MDSREC_ENOTFOUND: 'MDSREC_NOT_FOUND' };
  const header = readFileSync(join(ROOT, 'include/mdsrec.h'), 'utf8');
  const values = Object.fromEntries([...header.matchAll(/^\s*(MDSREC_E\w+)\s*=\s*(\d+)/gm)].map(([, n, v]) => [n, Number(v)]));
  assert.deepEqual(Object.keys(values).sort(), Object.keys(want).sort());
  for (const [name, code] of Object.entries(want)) {
    assert.equal(m.statusCode(name), code, name);
    assert.equal(m.statusCode(values[name]), code, `${name} = ${values[name]}`);
    assert.equal(m.CORE_STATUS[name].value, values[name]);
  }
  for (const s of [0, 99, -2, 'MDSREC_OK', 'EARG', 'toString', undefined]) assert.equal(m.statusCode(s), 'MDSREC_INTERNAL', String(s));
});

test('SIMD detection and the wasm file choice', () => {
  assert.equal(m.hasSimd(), true); // Node 20 has SIMD128
  assert.match(m.wasmUrl(undefined, true), /\/web\/wasm\/mdsrec-simd\.wasm$/);
  assert.match(m.wasmUrl(undefined, false), /\/web\/wasm\/mdsrec-scalar\.wasm$/);
  assert.equal(m.wasmUrl('https://a.test/x/', true), 'https://a.test/x/mdsrec-simd.wasm');
  assert.equal(m.wasmUrl('https://a.test/x', false), 'https://a.test/x/mdsrec-scalar.wasm');
  assert.equal(m.wasmUrl('https://a.test/core.wasm?v=3', true), 'https://a.test/core.wasm?v=3');
  assert.equal(m.wasmUrl({ simd: 'https://a.test/s.wasm', scalar: 'https://a.test/c.wasm' }, false), 'https://a.test/c.wasm');
  assert.equal(m.wasmUrl('https://a.test/x/', 'relaxed'), 'https://a.test/x/mdsrec-relaxed.wasm');
  assert.equal(m.wasmUrl({ relaxed: 'https://a.test/r.wasm', simd: 'https://a.test/s.wasm' }, 'relaxed'), 'https://a.test/r.wasm');
});

test('the build choice: relaxed -> simd128 -> scalar, forced by build or simd', () => {
  // Node 20 validates relaxed SIMD only behind a flag (and its int8 dot is wrong there: the
  // relaxed build is tested in Chromium, tests/e2e/relaxed.spec.mjs)
  const relaxed = m.hasRelaxedSimd();
  assert.equal(m.pickBuild({}), relaxed ? 'relaxed' : 'simd128');
  assert.equal(m.pickBuild({ wasmHash: 'a'.repeat(64) }), 'simd128'); // a hash pins one file
  assert.equal(m.pickBuild({ wasm: { simd: 's.wasm', scalar: 'c.wasm' } }), 'simd128'); // no relaxed URL
  assert.equal(m.pickBuild({ simd: false }), 'scalar');
  assert.equal(m.pickBuild({ simd: true }), 'simd128');
  assert.equal(m.pickBuild({ build: 'relaxed', simd: false }), 'relaxed');
  assert.deepEqual(m.BUILDS, ['relaxed', 'simd128', 'scalar']);
  assert.throws(() => m.pickBuild({ build: 'simd' }), (e) => e.code === 'MDSREC_BAD_ARGUMENT');
});

test('load() rejects bad options before touching the network', async () => {
  for (const opts of [undefined, null, 5, {}, { model: 42 }, { model: {} }, { model: 'x.mdsb', storage: 'disk' },
    { model: 'x.mdsb', maxHistory: 0 }, { model: 'x.mdsb', maxHistory: '5' }]) {
    await assert.rejects(m.load(opts), (e) => e.code === 'MDSREC_BAD_ARGUMENT');
  }
});

// ---------------------------------------------------------------- against the real core

let dir;
const realFetch = globalThis.fetch;
// file:// fetch for the shim; `chunk` splits bodies, `length: false` drops Content-Length,
// `cut` serves only the first bytes while announcing the full length.
const serve = { chunk: 0, length: true, cut: 0, count: 0, announce: 0 };
before(() => {
  if (!HAVE_CORE) return;
  dir = mkdtempSync(join(tmpdir(), 'mdsrec-web-'));
  execFileSync(BIN, ['synth', '-o', join(dir, 'a.mdsb'), '--items', '500', '--catalog', '--seed', '5'], { stdio: 'ignore' });
  execFileSync(BIN, ['synth', '-o', join(dir, 'gz.mdsb'), '--items', '500', '--catalog', '--seed', '5', '--catalog-format', 'gzip'], { stdio: 'ignore' });
  globalThis.fetch = async (url) => {
    serve.count++;
    const bytes = readFileSync(new URL(String(url)));
    const body = serve.cut && String(url).endsWith(".mdsb") ? bytes.subarray(0, serve.cut) : bytes;
    const step = serve.chunk || body.length;
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < body.length; i += step) c.enqueue(new Uint8Array(body.subarray(i, i + step)));
        c.close();
      },
    });
    const headers = { 'content-type': String(url).endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream' };
    if (serve.length) headers['content-length'] = String(serve.announce || bytes.length);
    return new Response(stream, { headers });
  };
});
after(() => {
  globalThis.fetch = realFetch;
  delete globalThis.sessionStorage;
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const bundleUrl = () => pathToFileURL(join(dir, 'a.mdsb')).href;
const native = (history, k) => JSON.parse(execFileSync(BIN, ['recommend', join(dir, 'a.mdsb'), '-k', String(k), '--json',
  ...(history.length ? ['--history', history.join(',')] : [])], { encoding: 'utf8' })).items;

test('streams the bundle in (known and unknown length, small chunks) and ranks as the native tool', { skip: !HAVE_CORE && 'build first' }, async () => {
  const history = ['item-000003', 'item-000250', 'item-000499'];
  const want = native(history, 10);
  for (const [chunk, length, simd] of [[0, true, true], [997, true, false], [4096, false, true]]) {
    Object.assign(serve, { chunk, length, cut: 0 });
    const rec = await m.load({ model: bundleUrl(), storage: 'memory', simd });
    assert.equal(rec.info.kernels, simd ? 'simd128' : 'scalar');
    assert.equal(rec.info.nItems, 500);
    const got = await rec.recommend({ k: 10, history });
    assert.deepEqual(got.map((x) => x.key), want.map((x) => x.key));
    got.forEach((g, i) => assert.ok(Math.abs(g.score - want[i].score) <= 1e-5 * Math.max(1, Math.abs(want[i].score))));
    for (const g of got) {
      assert.equal(typeof g.title, 'string');
      assert.ok(history.includes(g.reason.via));
      assert.match(g.reason.text, /^(looks like|described like|often together with) Item \d+$/);
    }
    rec.close();
  }
});

test('a truncated download is a corrupt bundle, and so are bytes that fail the core checks', { skip: !HAVE_CORE && 'build first' }, async () => {
  Object.assign(serve, { chunk: 1000, length: true, cut: 5000 });
  await assert.rejects(m.load({ model: bundleUrl(), storage: 'memory' }), (e) => e.code === 'MDSREC_CORRUPT_BUNDLE' && /truncated/.test(e.message));
  Object.assign(serve, { chunk: 0, length: true, cut: 0 });
  const bytes = new Uint8Array(readFileSync(join(dir, 'a.mdsb')));
  bytes[bytes.length - 10] ^= 1;
  await assert.rejects(m.load({ model: bytes, storage: 'memory' }), (e) => e.code === 'MDSREC_CORRUPT_BUNDLE' && e instanceof m.BundleError);
  const v4 = new Uint8Array(readFileSync(join(dir, 'a.mdsb')));
  v4[8] = 4; // newer than the newest format (3) the core reads
  await assert.rejects(m.load({ model: v4.buffer, storage: 'memory' }), (e) => e.code === 'MDSREC_INCOMPATIBLE_BUNDLE');
});

test('a Content-Length past what wasm32 can hold is refused before anything is written', { skip: !HAVE_CORE && 'build first' }, async () => {
  // 2^32 + 100 used to wrap to a 100-byte block that the download then overran
  Object.assign(serve, { chunk: 0, length: true, cut: 0, announce: 2 ** 32 + 100 });
  try {
    await assert.rejects(m.load({ model: bundleUrl(), storage: 'memory' }), (e) => e.code === 'MDSREC_OUT_OF_MEMORY');
  } finally {
    serve.announce = 0;
  }
});

test('history: track, unknown keys as events, storage, forget', { skip: !HAVE_CORE && 'build first' }, async () => {
  Object.assign(serve, { chunk: 0, length: true, cut: 0 });
  const store = new Map();
  globalThis.sessionStorage = {
    getItem: (k) => (store.has(k) ? store.get(k) : null), setItem: (k, v) => store.set(k, String(v)), removeItem: (k) => store.delete(k),
  };
  const rec = await m.load({ model: bundleUrl() });
  const unknown = [];
  let changes = 0;
  rec.addEventListener('unknownkey', (e) => unknown.push(e.detail.key));
  rec.addEventListener('change', () => changes++);
  assert.equal(await rec.track('item-000001'), true);
  assert.equal(await rec.track('nope'), false);
  assert.equal(await rec.track('x'.repeat(300)), false);
  assert.equal(await rec.track('item-000002'), true);
  await assert.rejects(rec.track(7), (e) => e.code === 'MDSREC_BAD_ARGUMENT');
  assert.deepEqual(unknown, ['nope', 'x'.repeat(300)]);
  assert.deepEqual(rec.history(), ['item-000001', 'item-000002']);
  assert.equal(changes, 2);
  assert.deepEqual(JSON.parse(store.get('mdsrec:history')), ['item-000001', 'item-000002']);
  for (let i = 0; i < 60; i++) await rec.track('item-000003'); // capped at max_len
  assert.equal(rec.history().length, rec.info.maxLen);
  rec.close();

  const again = await m.load({ model: bundleUrl() }); // a later page of the same session
  assert.equal(again.history().length, again.info.maxLen);
  const top = await again.recommend({ k: 5 });
  assert.ok(!top.some((x) => x.key === 'item-000003'));
  again.forget();
  assert.deepEqual(again.history(), []);
  assert.equal(store.size, 0);
  const popular = await again.recommend({ k: 3 });
  assert.deepEqual(popular.map((x) => x.key), native([], 3).map((x) => x.key));
  assert.deepEqual(popular[0].reason, { channel: null, kind: 'popular', text: 'popular right now', via: null });
  again.close();
  await assert.rejects(again.recommend({ k: 1 }), (e) => e.code === 'MDSREC_CLOSED');
  delete globalThis.sessionStorage;
});

test('similar(): channels by name or number, catalog fields, errors', { skip: !HAVE_CORE && 'build first' }, async () => {
  Object.assign(serve, { chunk: 0, length: true, cut: 0 });
  const rec = await m.load({ model: bundleUrl(), storage: 'memory' });
  const byName = await rec.similar('item-000010', { channel: 'image', k: 4 });
  const byNum = await rec.similar('item-000010', { channel: 1, k: 4 });
  assert.deepEqual(byName, byNum);
  assert.equal(byName.length, 4);
  assert.equal(byName[0].reason.text, 'looks like Item 10');
  assert.ok(byName[0].score >= byName[3].score);
  assert.equal(typeof byName[0].price, 'number');
  await assert.rejects(rec.similar('nope'), (e) => e.code === 'MDSREC_UNKNOWN_KEY' && e instanceof m.UnknownKeyError);
  await assert.rejects(rec.similar('item-000010', { channel: 'sound' }), (e) => e.code === 'MDSREC_BAD_ARGUMENT');
  await assert.rejects(rec.similar('item-000010', { k: 501 }), (e) => e.code === 'MDSREC_BAD_ARGUMENT');
  const cat = await rec.catalog();
  assert.equal(cat.length, 500);
  assert.equal(cat[7].key, 'item-000007');
  assert.equal(cat[7].title, 'Item 7');
  rec.close();
});

test('a gzip catalogue (CATALOG_GZ) reads as the JSON one, streamed in small chunks or whole', { skip: !HAVE_CORE && 'build first' }, async () => {
  const url = pathToFileURL(join(dir, 'gz.mdsb')).href;
  assert.ok(readFileSync(join(dir, 'gz.mdsb')).length < readFileSync(join(dir, 'a.mdsb')).length);
  for (const chunk of [0, 997]) {
    Object.assign(serve, { chunk, length: true, cut: 0 });
    const plain = await m.load({ model: bundleUrl(), storage: 'memory' });
    const gz = await m.load({ model: url, storage: 'memory' });
    assert.equal(gz.info.hasCatalog, true);
    assert.equal(plain.info.hasCatalog, true);
    assert.deepEqual(await gz.catalog(), await plain.catalog());
    const [a, b] = [await plain.recommend({ k: 5 }), await gz.recommend({ k: 5 })];
    assert.deepEqual(b, a);
    assert.equal(b[0].title, (await plain.catalog()).find((r) => r.key === b[0].key).title);
    plain.close();
    gz.close();
  }
});

test('modelHash and wasmHash: the download is checked before it is used', { skip: !HAVE_CORE && 'build first' }, async () => {
  Object.assign(serve, { chunk: 0, length: true, cut: 0 });
  const sha = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
  const rec = await m.load({ model: bundleUrl(), storage: 'memory', modelHash: sha(join(dir, 'a.mdsb')),
    simd: true, wasmHash: sha(join(ROOT, 'web/wasm/mdsrec-simd.wasm')) });
  assert.equal((await rec.recommend({ k: 2 })).length, 2);
  rec.close();
  await assert.rejects(m.load({ model: bundleUrl(), storage: 'memory', modelHash: 'ab'.repeat(32) }),
    (e) => e.code === 'MDSREC_CORRUPT_BUNDLE' && /SHA-256/.test(e.message));
  await assert.rejects(m.load({ model: bundleUrl(), storage: 'memory', wasmHash: 'ab'.repeat(32) }),
    (e) => e.code === 'MDSREC_WASM_UNAVAILABLE' && /SHA-256/.test(e.message));
});

// ---------------------------------------------------------------- issue 19: the error contract

test('calls run in the order they were made: recommend() right after track(k) ranks with k', { skip: !HAVE_CORE && 'build first' }, async () => {
  Object.assign(serve, { chunk: 0, length: true, cut: 0 });
  const rec = await m.load({ model: bundleUrl(), storage: 'memory' });
  const t1 = rec.track('item-000003');
  const t2 = rec.track('item-000250');
  const top = rec.recommend({ k: 10 }); // not awaiting the tracks, as a shop page does
  const hist = rec.recommend({ k: 10, history: ['item-000007'] }); // an explicit history is used as given
  assert.deepEqual(await Promise.all([t1, t2]), [true, true]);
  assert.deepEqual((await top).map((x) => x.key), native(['item-000003', 'item-000250'], 10).map((x) => x.key));
  assert.deepEqual((await hist).map((x) => x.key), native(['item-000007'], 10).map((x) => x.key));
  // a failing call does not stop the ones after it
  const failing = rec.similar('nope');
  const after = rec.track('item-000499');
  await assert.rejects(failing, (e) => e.code === 'MDSREC_UNKNOWN_KEY');
  assert.equal(await after, true);
  // forget() takes effect at once, for calls still waiting too
  const pending = rec.track('item-000010');
  rec.forget();
  assert.equal(await pending, true);
  assert.deepEqual(rec.history(), []);
  assert.deepEqual((await rec.recommend({ k: 3 })).map((x) => x.key), native([], 3).map((x) => x.key));
  rec.close();
  await assert.rejects(rec.track('item-000001'), (e) => e.code === 'MDSREC_CLOSED');
});

test('messages quote caller input as a short prefix with its length', { skip: !HAVE_CORE && 'build first' }, async () => {
  Object.assign(serve, { chunk: 0, length: true, cut: 0 });
  const rec = await m.load({ model: bundleUrl(), storage: 'memory' });
  const big = 'k'.repeat(100_000);
  const errs = [
    await rec.similar(big).catch((e) => e),
    await rec.recommend({ k: big }).catch((e) => e),
    await rec.similar('item-000001', { k: big }).catch((e) => e),
    await m.load({ model: bundleUrl() + big, storage: 'memory' }).catch((e) => e),
    await m.load({ model: bundleUrl(), modelHash: big }).catch((e) => e),
    await m.load({ model: bundleUrl(), wasm: `file:///nowhere/${big}.wasm` }).catch((e) => e),
  ];
  assert.deepEqual(errs.map((e) => e.code), ['MDSREC_UNKNOWN_KEY', 'MDSREC_BAD_ARGUMENT', 'MDSREC_BAD_ARGUMENT',
    'MDSREC_FETCH_FAILED', 'MDSREC_BAD_ARGUMENT', 'MDSREC_FETCH_FAILED']);
  for (const e of errs) {
    assert.ok(e.message.length < 400, `${e.code}: ${e.message.length} characters`);
    assert.match(e.message, /\.\.\. \(\d{6} characters\)/);
  }
  assert.match(errs[0].message, /^unknown item key "k{64}"\.\.\. \(100000 characters\)$/);
  assert.equal(await rec.track(big), false); // an unknown key, reported whole in the event only
  assert.equal(m.echo('short'), '"short"');
  assert.equal(m.echo(42), '42');
  rec.close();
});

test('bad options are MDSREC_BAD_ARGUMENT; empty and short bundles say so', { skip: !HAVE_CORE && 'build first' }, async () => {
  Object.assign(serve, { chunk: 0, length: true, cut: 0 });
  const count = serve.count;
  for (const opts of [{ modelHash: 'nothex' }, { modelHash: 'ab'.repeat(31) }, { modelHash: 42 }, { wasmHash: 'z'.repeat(64) },
    { model: '' }, { model: '   ' }, { storageKey: '' }, { workerUrl: 5 }]) {
    await assert.rejects(m.load({ model: bundleUrl(), storage: 'memory', ...opts }),
      (e) => e.code === 'MDSREC_BAD_ARGUMENT' && e instanceof m.ArgumentError, JSON.stringify(opts));
  }
  assert.equal(serve.count, count, 'nothing fetched for bad options');
  // a hash in capitals is the same hash
  const sha = createHash('sha256').update(readFileSync(join(dir, 'a.mdsb'))).digest('hex').toUpperCase();
  (await m.load({ model: bundleUrl(), storage: 'memory', modelHash: sha })).close();
  const msg = (model) => m.load({ model, storage: 'memory' }).then(() => 'loaded', (e) => `${e.code}: ${e.message}`);
  const head = readFileSync(join(dir, 'a.mdsb')).subarray(0, 12);
  assert.equal(await msg(new Uint8Array(0)), 'MDSREC_CORRUPT_BUNDLE: empty bundle (0 bytes)');
  assert.equal(await msg(head.subarray(0, 4)), 'MDSREC_CORRUPT_BUNDLE: bundle truncated: 4 bytes, shorter than the 12-byte header');
  assert.equal(await msg(new TextEncoder().encode('abcd')), 'MDSREC_CORRUPT_BUNDLE: not an mdsrec bundle (bad magic)');
  assert.match(await msg(head), /^MDSREC_CORRUPT_BUNDLE: /); // a header alone: the core names what is missing
  Object.assign(serve, { cut: 4 }); // the same through a download that announces its length
  assert.equal(await msg(bundleUrl()), `MDSREC_CORRUPT_BUNDLE: bundle truncated: 4 of ${readFileSync(join(dir, 'a.mdsb')).length} bytes`);
  Object.assign(serve, { cut: 4, length: false });
  assert.equal(await msg(bundleUrl()), 'MDSREC_CORRUPT_BUNDLE: bundle truncated: 4 bytes, shorter than the 12-byte header');
  Object.assign(serve, { cut: 0, length: true });
});

test('a download that breaks off is MDSREC_FETCH_FAILED, wasm or bundle', { skip: !HAVE_CORE && 'build first' }, async () => {
  const saved = globalThis.fetch;
  // a body stream that errors midway, as fetch() gives for a reset connection
  globalThis.fetch = async (url) => {
    const bytes = readFileSync(new URL(String(url)));
    const body = new ReadableStream({
      pull(c) {
        if (!this.sent) {
          this.sent = true;
          c.enqueue(new Uint8Array(bytes.subarray(0, bytes.length >> 1)));
        } else c.error(new TypeError('network error'));
      },
    });
    return new Response(body, { headers: { 'content-length': String(bytes.length), 'content-type': String(url).endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream' } });
  };
  try {
    await assert.rejects(m.load({ model: new Uint8Array(readFileSync(join(dir, 'a.mdsb'))), storage: 'memory', cache: false, wasm: pathToFileURL(join(ROOT, 'web/wasm/mdsrec-scalar.wasm')).href + '?not-parked' }),
      (e) => e.code === 'MDSREC_FETCH_FAILED' && /broke off/.test(e.message), 'the wasm');
    globalThis.fetch = ((broken) => async (url) => (String(url).endsWith('.wasm') ? serveFile(url) : broken(url)))(globalThis.fetch);
    await assert.rejects(m.load({ model: bundleUrl(), storage: 'memory', cache: false }),
      (e) => e.code === 'MDSREC_FETCH_FAILED' && /broke off after \d+ of \d+ bytes: network error/.test(e.message), 'the bundle');
  } finally {
    globalThis.fetch = saved;
  }
});
const serveFile = async (url) => new Response(readFileSync(new URL(String(url))), { headers: { 'content-type': 'application/wasm' } });
