// The minified shim (web/mdsrec.min.js and web/worker.min.js, made by scripts/minify-shim.mjs
// in the build) against the source shim, in a bare page under the demo's CSP: the same
// recommendations for the same bundle and history, in the Worker and on the main thread, the
// Worker started from worker.min.js (which imports mdsrec.min.js, not the sources), and the
// same errors: stable code, name, and instanceof the minified module's own classes.
import { test, expect } from '@playwright/test';
import { instrument, nativeTopK, expectSameRanking, MODEL } from './helpers.mjs';

const SHIMS = ['/mdsrec.min.js', '/mdsrec.js'];

test.beforeEach(async ({ page }) => {
  await instrument(page);
  await page.goto('/fixtures/blank.html');
});

test('the minified shim recommends what the source shim does, from worker.min.js', async ({ page }) => {
  const history = ['item-000010', 'item-000421', 'item-001337', 'item-000010', 'item-001999'];
  const fetched = [];
  page.context().on('request', (r) => fetched.push(new URL(r.url()).pathname));
  const run = (shim) => page.evaluate(async ({ shim, model, history }) => {
    const { load } = await import(shim);
    const res = {};
    for (const [name, opts] of [['worker', {}], ['main', { worker: false }]]) {
      const rec = await load({ model, storage: 'memory', cache: false, ...opts });
      for (const k of history) await rec.track(k);
      res[name] = {
        info: rec.info,
        history: rec.history(),
        top: await rec.recommend({ k: 10 }),
        popular: await rec.recommend({ k: 5, history: [] }),
        allow: await rec.recommend({ k: 3, allow: ['item-000001', 'item-000002', 'item-000003', 'item-000010'] }),
        exclude: await rec.recommend({ k: 10, exclude: ['item-000500'] }),
        similar: await rec.similar('item-000421', { channel: 'text', k: 5 }),
        catalog: (await rec.catalog()).length,
      };
      rec.close();
    }
    return res;
  }, { shim, model: MODEL, history });

  const min = await run('/mdsrec.min.js');
  const scripts = fetched.filter((p) => p.endsWith('.js'));
  // the page's import, the Worker's script and the Worker's import: all minified
  expect(scripts).toContain('/mdsrec.min.js');
  expect(scripts).toContain('/worker.min.js');
  expect(scripts.filter((p) => p === '/mdsrec.js' || p === '/worker.js')).toEqual([]);
  const src = await run('/mdsrec.js');
  expect(fetched).toContain('/worker.js');

  expect(min.worker.info.mode).toBe('worker');
  expect(min.main.info.mode).toBe('main');
  expect(min).toEqual(src);
  expectSameRanking(expect, min.worker.top, nativeTopK('main.mdsb', history, 10));
  expect(min.worker.top).toEqual(min.main.top);
  expect(min.worker.similar).toHaveLength(5);
  expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
  expect(await page.evaluate(() => window.__csp)).toEqual([]);
});

test('the minified shim raises the same errors: code, name and its own classes', async ({ page }) => {
  const errors = (shim) => page.evaluate(async ({ shim, model }) => {
    const m = await import(shim);
    const CLASSES = ['UnknownKeyError', 'BundleError', 'WasmError', 'ArgumentError'];
    const what = (p) => Promise.resolve().then(p).then((v) => ({ resolved: typeof v }), (e) => ({
      code: e.code,
      name: e.name,
      ctor: e.constructor.name,
      cls: CLASSES.filter((c) => e instanceof m[c]),
      mdsrec: e instanceof m.MdsrecError && e instanceof Error,
    }));
    const out = {};
    for (const worker of [true, false]) {
      const w = worker ? 'worker' : 'main';
      out[`${w} corrupt`] = await what(() => m.load({ model: '/fixtures/corrupt.mdsb', worker, cache: false }));
      out[`${w} version 4`] = await what(() => m.load({ model: '/fixtures/version4.mdsb', worker, cache: false }));
      out[`${w} not wasm`] = await what(() => m.load({ model, wasm: '/fixtures/not-wasm.wasm', worker, cache: false }));
      const rec = await m.load({ model, storage: 'memory', worker, cache: false });
      // raised in the Worker, rebuilt on the page from its code
      out[`${w} similar unknown`] = await what(() => rec.similar('no-such-item'));
      out[`${w} k 0`] = await what(() => rec.recommend({ k: 0 }));
      rec.close();
      out[`${w} closed`] = await what(() => rec.recommend({ k: 1 }));
    }
    out['load null'] = await what(() => m.load(null));
    await new Promise((r) => setTimeout(r, 100));
    return out;
  }, { shim, model: MODEL });

  const [min, src] = [await errors(SHIMS[0]), await errors(SHIMS[1])];
  expect(min).toEqual(src);
  const is = (code, cls) => ({ code, name: cls, ctor: cls, cls: cls === 'MdsrecError' ? [] : [cls], mdsrec: true });
  for (const w of ['worker', 'main']) {
    expect(min[`${w} corrupt`]).toEqual(is('MDSREC_CORRUPT_BUNDLE', 'BundleError'));
    expect(min[`${w} version 4`]).toEqual(is('MDSREC_INCOMPATIBLE_BUNDLE', 'BundleError'));
    expect(min[`${w} not wasm`]).toEqual(is('MDSREC_WASM_UNAVAILABLE', 'WasmError'));
    expect(min[`${w} similar unknown`]).toEqual(is('MDSREC_UNKNOWN_KEY', 'UnknownKeyError'));
    expect(min[`${w} k 0`]).toEqual(is('MDSREC_BAD_ARGUMENT', 'ArgumentError'));
    expect(min[`${w} closed`]).toEqual(is('MDSREC_CLOSED', 'MdsrecError'));
  }
  expect(min['load null']).toEqual(is('MDSREC_BAD_ARGUMENT', 'ArgumentError'));
  expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
});
