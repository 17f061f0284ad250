// The error contract where issue 19 found holes, each on a page of tests/e2e/hostile-server.mjs
// (127.0.0.1 only): downloads that break off, Trusted Types, the CSP matrix (page, worker
// script; Worker and main thread), ordered calls, capped messages and option codes. The
// outcomes asserted here are the ones docs/WEB.md states.
import { test, expect } from '@playwright/test';
import { instrument, nativeTopK } from './helpers.mjs';
import { startServer } from './hostile-server.mjs';

let srv;
test.beforeAll(async () => { srv = await startServer(); });
test.afterAll(async () => { await srv.close(); });

const open = async (page, policy = 'wasm') => {
  await instrument(page);
  await page.goto(`${srv.origin}/p/${policy}/fixtures/blank.html`);
};

/** load() on the page with the shim from /p/SHIM/: 'worker <n>' or 'main <n>' (info.mode and
    nItems, after a recommend), or the rejection's code, with NOT-MDSREC for any other error. */
const outcome = (page, shim, opts) => page.evaluate(async ({ shim, opts }) => {
  const m = await import(`/p/${shim}/mdsrec.js`);
  if (typeof opts.workerUrl === 'string' && opts.workerUrl.startsWith('policy:'))
    opts.workerUrl = trustedTypes.createPolicy('shop', { createScriptURL: (u) => u }).createScriptURL(opts.workerUrl.slice(7));
  try {
    const rec = await m.load({ storage: 'memory', cache: false, ...opts });
    const top = await rec.recommend({ k: 3, history: ['item-000001'] });
    rec.close();
    return `${rec.info.mode} ${top.length}${rec.info.fallback ? ` fallback ${rec.info.fallback.code}` : ''}`;
  } catch (e) {
    return `${e instanceof m.MdsrecError ? '' : `NOT-MDSREC ${e.name} `}${e.code} ${e.message}`.trim();
  }
}, { shim, opts });
const codeOf = (s) => s.split(' ').slice(0, s.startsWith('NOT-MDSREC') ? 3 : 1).join(' ');

test('a download that breaks off is MDSREC_FETCH_FAILED, in the Worker and on the main thread', async ({ page }) => {
  await open(page);
  const got = {};
  for (const worker of [true, false]) {
    for (const how of ['cut', 'long', 'chunkcut']) {
      got[`${how} bundle ${worker ? 'worker' : 'main'}`] = await outcome(page, 'wasm', { model: `/${how}/fixtures/main.mdsb`, worker });
      got[`${how} wasm ${worker ? 'worker' : 'main'}`] = await outcome(page, 'wasm', { model: '/fixtures/main.mdsb', wasm: `/${how}/wasm/`, worker });
    }
  }
  for (const [k, v] of Object.entries(got)) expect(codeOf(v), `${k}: ${v}`).toBe('MDSREC_FETCH_FAILED');
  expect(got['cut bundle main']).toMatch(/broke off after \d+ of \d+ bytes/);
  expect(got['cut bundle worker']).toMatch(/broke off after \d+ of \d+ bytes/);
  expect(got['chunkcut bundle main']).toMatch(/broke off after \d+ bytes/);
  expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
});

test('Trusted Types: the shim\'s policy, a policy of the page, or the main thread with info.fallback', async ({ page }) => {
  const model = '/fixtures/main.mdsb';
  await open(page, 'tt');
  // no trusted-types directive: the shim's policy 'mdsrec' starts the Worker
  expect(await outcome(page, 'tt', { model })).toBe('worker 3');
  await open(page, 'tt-mdsrec');
  expect(await outcome(page, 'tt-mdsrec', { model })).toBe('worker 3');
  // 'mdsrec' not among the allowed names: the main thread, and info.fallback says why
  await open(page, 'tt-shop');
  expect(await outcome(page, 'tt-shop', { model })).toBe('main 3 fallback MDSREC_WORKER_UNAVAILABLE');
  const why = await page.evaluate(async () => {
    const { load } = await import('/p/tt-shop/mdsrec.js');
    const rec = await load({ model: '/fixtures/main.mdsb', storage: 'memory' });
    rec.close();
    return rec.info.fallback.message;
  });
  expect(why).toMatch(/^cannot start the mdsrec worker: .*TrustedScriptURL/);
  // the page's own policy makes workerUrl a TrustedScriptURL: the Worker again
  await open(page, 'tt-shop');
  expect(await outcome(page, 'tt-shop', { model, workerUrl: 'policy:/p/tt-shop/worker.js' })).toBe('worker 3');
  // main thread by choice under Trusted Types: nothing to fall back from
  expect(await outcome(page, 'tt-shop', { model, worker: false })).toBe('main 3');
  expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
});

// docs/WEB.md "Content-Security-Policy" states this table.
const MATRIX = [
  // page's policy, worker.js's policy, mode: outcome
  ['nowasm', 'wasm', 'worker', 'worker 3'],
  ['nowasm', 'wasm', 'main', 'MDSREC_WASM_UNAVAILABLE'],
  ['nowasm', 'none', 'worker', 'worker 3'],
  ['nowasm', 'none', 'main', 'MDSREC_WASM_UNAVAILABLE'],
  ['nowasm', 'nowasm', 'worker', 'MDSREC_WASM_UNAVAILABLE'],
  ['nowasm', 'nowasm', 'main', 'MDSREC_WASM_UNAVAILABLE'],
  ['wasm', 'nowasm', 'worker', 'MDSREC_WASM_UNAVAILABLE'],
  ['wasm', 'nowasm', 'main', 'main 3'],
  ['wasm', 'wasm', 'worker', 'worker 3'],
  ['wasm', 'wasm', 'main', 'main 3'],
];
test('the CSP matrix: which response needs \'wasm-unsafe-eval\' for which mode', async ({ page }) => {
  const got = [];
  for (const [pagePolicy, workerPolicy, mode, want] of MATRIX) {
    await open(page, pagePolicy);
    const out = await outcome(page, workerPolicy, { model: '/fixtures/main.mdsb', worker: mode === 'worker' });
    got.push([pagePolicy, workerPolicy, mode, out.startsWith('MDSREC_') ? codeOf(out) : out]);
    if (out.startsWith('MDSREC_WASM_UNAVAILABLE')) expect(out).toMatch(/cannot start the wasm core .* (in the Worker|on this thread): .*(unsafe-eval|wasm-unsafe-eval|Content Security Policy)/i);
  }
  expect(got).toEqual(MATRIX);
});

test('recommend() right after an unresolved track(k) ranks with k, in the Worker and on the main thread', async ({ page }) => {
  await open(page);
  const out = await page.evaluate(async () => {
    const { load } = await import('/p/wasm/mdsrec.js');
    const res = {};
    for (const worker of [true, false]) {
      const rec = await load({ model: '/fixtures/main.mdsb', storage: 'memory', worker });
      rec.track('item-000421'); // a click handler: not awaited
      rec.track('item-001337');
      res[worker ? 'worker' : 'main'] = (await rec.recommend({ k: 5 })).map((x) => x.key);
      rec.close();
    }
    return res;
  });
  const want = nativeTopK('main.mdsb', ['item-000421', 'item-001337'], 5).map((x) => x.key);
  expect(out).toEqual({ worker: want, main: want });
});

test('echoed input is capped; bad options and short bundles get the right code and words', async ({ page }) => {
  await open(page);
  const out = await page.evaluate(async () => {
    const m = await import('/p/wasm/mdsrec.js');
    const said = (p) => p.then(() => 'resolved', (e) => `${e instanceof m.MdsrecError ? '' : 'NOT-MDSREC '}${e.code}: ${e.message}`);
    const big = 'x'.repeat(100_000);
    const rec = await m.load({ model: '/fixtures/main.mdsb', storage: 'memory' });
    const res = {
      similarBig: await said(rec.similar(big)),
      kBig: await said(rec.recommend({ k: big })),
      urlBig: await said(m.load({ model: `/fixtures/${big}.mdsb`, storage: 'memory' })),
      modelHash: await said(m.load({ model: '/fixtures/main.mdsb', modelHash: 'nothex' })),
      emptyModel: await said(m.load({ model: '' })),
    };
    rec.close();
    const bytes = new Uint8Array(await (await fetch('/fixtures/main.mdsb')).arrayBuffer());
    for (const worker of [true, false]) {
      res[`zero ${worker}`] = await said(m.load({ model: new Uint8Array(0), worker }));
      res[`four ${worker}`] = await said(m.load({ model: bytes.slice(0, 4), worker }));
    }
    return res;
  });
  expect(out.similarBig).toMatch(/^MDSREC_UNKNOWN_KEY: unknown item key "x{64}"\.\.\. \(100000 characters\)$/);
  expect(out.kBig).toMatch(/^MDSREC_BAD_ARGUMENT: k must be .* got "x{64}"\.\.\. \(100000 characters\)$/);
  expect(out.urlBig).toMatch(/^MDSREC_FETCH_FAILED: cannot fetch .*\.\.\. \(\d{6} characters\): HTTP \d{3}$/);
  for (const k of ['similarBig', 'kBig', 'urlBig']) expect(out[k].length).toBeLessThan(400);
  expect(out.modelHash).toMatch(/^MDSREC_BAD_ARGUMENT: modelHash must be a SHA-256 as 64 hex digits/);
  expect(out.emptyModel).toMatch(/^MDSREC_BAD_ARGUMENT: load: model is an empty string/);
  for (const w of [true, false]) {
    expect(out[`zero ${w}`]).toBe('MDSREC_CORRUPT_BUNDLE: empty bundle (0 bytes)');
    expect(out[`four ${w}`]).toBe('MDSREC_CORRUPT_BUNDLE: bundle truncated: 4 bytes, shorter than the 12-byte header');
  }
});
