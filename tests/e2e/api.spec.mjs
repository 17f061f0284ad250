// The JS API in a bare page under the CSP: native parity in every mode and kernel set, Worker
// and main thread agree, the second load comes from the Cache API, and misuse gives the
// documented codes with no unhandled rejection.
import { existsSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { instrument, nativeTopK, expectSameRanking, MODEL } from './helpers.mjs';

test.beforeEach(async ({ page }) => {
  await instrument(page);
  await page.goto('/fixtures/blank.html');
});

test('top-k equals mdsrec recommend; worker and main thread, SIMD and scalar agree', async ({ page }) => {
  const history = ['item-000010', 'item-000421', 'item-001337', 'item-000010', 'item-001999'];
  const out = await page.evaluate(async ({ model, history }) => {
    const { load } = await import('/mdsrec.js');
    const res = {};
    for (const [name, opts] of [['worker', {}], ['main', { worker: false }], ['scalar', { worker: false, simd: false }]]) {
      const rec = await load({ model, storage: 'memory', ...opts });
      for (const k of history) await rec.track(k);
      res[name] = {
        info: rec.info,
        top: await rec.recommend({ k: 10 }),
        popular: await rec.recommend({ k: 5, history: [] }),
        allow: await rec.recommend({ k: 3, allow: ['item-000001', 'item-000002', 'item-000003', 'item-000010'] }),
        exclude: await rec.recommend({ k: 10, exclude: ['item-000500'] }),
        similar: await rec.similar('item-000421', { channel: 'text', k: 5 }),
        candidates: await rec.recommend({ k: 10, candidates: true, popularHead: 30, hops: 2 }),
        // the history ranked in: main.mdsb's repeat term (REPEAT) moves the clicked items
        withHistory: await rec.recommend({ k: 10, includeHistory: true }),
      };
      rec.close();
    }
    return res;
  }, { model: MODEL, history });

  const want = nativeTopK('main.mdsb', history, 10);
  expect(out.worker.info.mode).toBe('worker');
  expect(out.main.info.mode).toBe('main');
  // Chromium validates relaxed SIMD: the shim picks that build (tests/e2e/relaxed.spec.mjs compares it)
  expect(out.worker.info.kernels).toBe(existsSync('web/wasm/mdsrec-relaxed.wasm') ? 'relaxed' : 'simd128');
  expect(out.worker.info.build).toBe(out.worker.info.kernels);
  expect(out.scalar.info.kernels).toBe('scalar');
  for (const m of ['worker', 'main', 'scalar']) {
    expectSameRanking(expect, out[m].top, want);
    expectSameRanking(expect, out[m].popular, nativeTopK('main.mdsb', [], 5));
    for (const it of out[m].top) {
      expect(Object.keys(it.shares)).toEqual(['id', 'image', 'text']);
      const sum = Object.values(it.shares).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - it.score)).toBeLessThan(1e-3);
      expect(it.reason.via).toMatch(/^item-/);
      expect(history).toContain(it.reason.via);
      expect(typeof it.title).toBe('string');
    }
    expect(out[m].allow.map((x) => x.key).sort()).toEqual(['item-000001', 'item-000002', 'item-000003']);
    expect(out[m].exclude.map((x) => x.key)).not.toContain('item-000500');
    expect(out[m].similar).toHaveLength(5);
    expect(out[m].similar[0].reason).toMatchObject({ channel: 'text', kind: 'text', via: 'item-000421' });
    expectSameRanking(expect, out[m].candidates, nativeTopK('main.mdsb', history, 10, ['--candidates', '--popular-head', '30', '--hops', '2']));
    expectSameRanking(expect, out[m].withHistory, nativeTopK('main.mdsb', history, 10, ['--include-history']));
  }
  expect(out.main).toEqual({ ...out.worker, info: out.main.info });
});

test('a second load is served from the Cache API', async ({ page }) => {
  const fetched = [];
  page.context().on('request', (r) => fetched.push(new URL(r.url()).pathname));
  const sources = await page.evaluate(async (model) => {
    const { load } = await import('/mdsrec.js');
    const a = await load({ model });
    const first = a.info.source;
    a.close();
    // the bundle is cached in the background (the first recommend() does not wait for its
    // SHA-256 and cache.put): wait for that copy, or a loaded machine races the second load
    const cached = await caches.open('mdsrec-v1');
    for (let i = 0; i < 200 && !(await cached.match(new URL(model, location.href).href)); i++) await new Promise((r) => setTimeout(r, 50));
    const b = await load({ model });
    const second = b.info.source;
    const top = await b.recommend({ k: 3, history: ['item-000001'] });
    b.close();
    // the cached copy is tagged with its SHA-256: the right modelHash still hits the cache,
    // another one refetches (a new model at the same URL) and checks the download against it
    const bytes = await (await fetch(model)).arrayBuffer();
    const hash = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (x) => x.toString(16).padStart(2, '0')).join('');
    const c = await load({ model, modelHash: hash, worker: false });
    const third = c.info.source;
    c.close();
    const wrong = await load({ model, modelHash: '0'.repeat(64) }).then(() => 'loaded', (e) => e.code);
    // a file that fails is never cached
    const corrupt = await load({ model: '/fixtures/corrupt.mdsb' }).then(() => 'loaded', (e) => e.code);
    const cache = await caches.open('mdsrec-v1');
    const cachedCorrupt = !!(await cache.match(new URL('/fixtures/corrupt.mdsb', location.href).href));
    // a cached copy that no longer loads is dropped, and the bundle fetched again
    await cache.put(new URL(model, location.href).href, new Response(new Uint8Array(100), { headers: { 'content-length': '100' } }));
    const d = await load({ model });
    const healed = d.info.source;
    d.close();
    return { first, second, third, wrong, corrupt, cachedCorrupt, healed, top: top.length };
  }, MODEL);
  expect(sources.corrupt).toBe('MDSREC_CORRUPT_BUNDLE');
  expect(sources.cachedCorrupt).toBe(false);
  expect(sources.healed).toEqual({ wasm: 'network', model: 'network' });
  expect(sources.first).toEqual({ wasm: 'network', model: 'network' });
  expect(sources.second).toEqual({ wasm: 'cache', model: 'cache' });
  expect(sources.third).toEqual({ wasm: 'cache', model: 'cache' });
  expect(sources.wrong).toBe('MDSREC_CORRUPT_BUNDLE');
  expect(sources.top).toBe(3);
  // the first download, the test's own fetch, the wrong-hash refetch and the healing one
  expect(fetched.filter((p) => p === MODEL)).toHaveLength(4);
  expect(fetched.filter((p) => p.endsWith('.wasm'))).toHaveLength(2);
});

test('misuse gives the documented codes, with no unhandled rejection', async ({ page }) => {
  const codes = await page.evaluate(async (model) => {
    const m = await import('/mdsrec.js');
    const code = (p) => Promise.resolve().then(p).then(
      (v) => `resolved ${JSON.stringify(v)}`,
      (e) => `${e instanceof m.MdsrecError && e instanceof Error ? '' : 'NOT-MDSREC '}${e.code}`);
    const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
    const out = {};
    for (const worker of [true, false]) {
      const w = worker ? 'worker' : 'main';
      const flipped = bytes.slice();
      flipped[bytes.length >> 1] ^= 0x40;
      const v4 = bytes.slice();
      v4[8] = 4;
      Object.assign(out, {
        [`${w} corrupt bytes`]: await code(() => m.load({ model: flipped, worker })),
        [`${w} version 4 bytes`]: await code(() => m.load({ model: v4, worker })),
        [`${w} random bytes`]: await code(() => m.load({ model: new Uint8Array(100).fill(7), worker })),
        [`${w} empty bytes`]: await code(() => m.load({ model: new ArrayBuffer(0), worker })),
        [`${w} corrupt url`]: await code(() => m.load({ model: '/fixtures/corrupt.mdsb', worker })),
        [`${w} version 4 url`]: await code(() => m.load({ model: '/fixtures/version4.mdsb', worker })),
        [`${w} truncated url`]: await code(() => m.load({ model: '/fixtures/truncated.mdsb', worker })),
        [`${w} missing url`]: await code(() => m.load({ model: '/fixtures/nothing.mdsb', worker })),
        [`${w} not wasm`]: await code(() => m.load({ model, wasm: '/fixtures/not-wasm.wasm', worker })),
        [`${w} no wasm file`]: await code(() => m.load({ model, wasm: '/fixtures/none.wasm', worker })),
      });
    }
    Object.assign(out, {
      'load no options': await code(() => m.load()),
      'load model 42': await code(() => m.load({ model: 42 })),
      'load bad storage': await code(() => m.load({ model, storage: 'disk' })),
      'load null': await code(() => m.load(null)),
      'worker script missing': await code(async () => (await m.load({ model, workerUrl: '/fixtures/no-worker.js', storage: 'memory' })).info.mode),
    });
    const rec = await m.load({ model, storage: 'memory' });
    const events = [];
    rec.addEventListener('unknownkey', (e) => events.push(e.detail.key));
    const n = rec.info.nItems;
    Object.assign(out, {
      'track 42': await code(() => rec.track(42)),
      'track empty': await code(() => rec.track('')),
      'track object': await code(() => rec.track({})),
      'track unknown': await code(() => rec.track('no-such-item')),
      'track known': await code(() => rec.track('item-000002')),
      'k 0': await code(() => rec.recommend({ k: 0 })),
      'k above catalog': await code(() => rec.recommend({ k: n + 1 })),
      'k catalog': await code(async () => (await rec.recommend({ k: n, includeHistory: true })).length),
      'k string': await code(() => rec.recommend({ k: '3' })),
      'k fraction': await code(() => rec.recommend({ k: 2.5 })),
      'k NaN': await code(() => rec.recommend({ k: NaN })),
      'options null': await code(() => rec.recommend(null)),
      'exclude string': await code(() => rec.recommend({ exclude: 'item-000001' })),
      'allow numbers': await code(() => rec.recommend({ allow: [1, 2] })),
      'history object': await code(() => rec.recommend({ history: {} })),
      'similar unknown': await code(() => rec.similar('no-such-item')),
      'similar number': await code(() => rec.similar(5)),
      'similar channel': await code(() => rec.similar('item-000002', { channel: 'smell' })),
      'similar channel 9': await code(() => rec.similar('item-000002', { channel: 9 })),
      'similar k 0': await code(() => rec.similar('item-000002', { k: 0 })),
    });
    out.events = events;
    out.history = rec.history();
    rec.close();
    out['after close'] = await code(() => rec.recommend({ k: 1 }));
    const small = await m.load({ model: '/fixtures/small.mdsb', storage: 'memory', worker: false });
    out['no neighbours'] = await code(() => small.similar('item-000001', { channel: 'id', k: 3 }));
    await new Promise((r) => setTimeout(r, 100));
    return out;
  }, MODEL);

  const want = {};
  for (const w of ['worker', 'main']) {
    Object.assign(want, {
      [`${w} corrupt bytes`]: 'MDSREC_CORRUPT_BUNDLE',
      [`${w} version 4 bytes`]: 'MDSREC_INCOMPATIBLE_BUNDLE',
      [`${w} random bytes`]: 'MDSREC_CORRUPT_BUNDLE',
      [`${w} empty bytes`]: 'MDSREC_CORRUPT_BUNDLE',
      [`${w} corrupt url`]: 'MDSREC_CORRUPT_BUNDLE',
      [`${w} version 4 url`]: 'MDSREC_INCOMPATIBLE_BUNDLE',
      [`${w} truncated url`]: 'MDSREC_CORRUPT_BUNDLE',
      [`${w} missing url`]: 'MDSREC_FETCH_FAILED',
      [`${w} not wasm`]: 'MDSREC_WASM_UNAVAILABLE',
      [`${w} no wasm file`]: 'MDSREC_FETCH_FAILED',
    });
  }
  Object.assign(want, {
    'load no options': 'MDSREC_BAD_ARGUMENT',
    'load model 42': 'MDSREC_BAD_ARGUMENT',
    'load bad storage': 'MDSREC_BAD_ARGUMENT',
    'load null': 'MDSREC_BAD_ARGUMENT',
    'worker script missing': 'resolved "main"',
    'track 42': 'MDSREC_BAD_ARGUMENT',
    'track empty': 'MDSREC_BAD_ARGUMENT',
    'track object': 'MDSREC_BAD_ARGUMENT',
    'track unknown': 'resolved false',
    'track known': 'resolved true',
    'k 0': 'MDSREC_BAD_ARGUMENT',
    'k above catalog': 'MDSREC_BAD_ARGUMENT',
    'k catalog': 'resolved 2000',
    'k string': 'MDSREC_BAD_ARGUMENT',
    'k fraction': 'MDSREC_BAD_ARGUMENT',
    'k NaN': 'MDSREC_BAD_ARGUMENT',
    'options null': 'MDSREC_BAD_ARGUMENT',
    'exclude string': 'MDSREC_BAD_ARGUMENT',
    'allow numbers': 'MDSREC_BAD_ARGUMENT',
    'history object': 'MDSREC_BAD_ARGUMENT',
    'similar unknown': 'MDSREC_UNKNOWN_KEY',
    'similar number': 'MDSREC_BAD_ARGUMENT',
    'similar channel': 'MDSREC_BAD_ARGUMENT',
    'similar channel 9': 'MDSREC_BAD_ARGUMENT',
    'similar k 0': 'MDSREC_BAD_ARGUMENT',
    events: ['no-such-item'],
    history: ['item-000002'],
    'after close': 'MDSREC_CLOSED',
    'no neighbours': 'MDSREC_NOT_FOUND',
  });
  expect(codes).toEqual(want);
  expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
  expect(await page.evaluate(() => window.__csp)).toEqual([]);
});

test('render.js: cards, the custom element, safe links and same-origin images only', async ({ page }) => {
  const out = await page.evaluate(async () => {
    const { renderCards } = await import('/render.js');
    const items = [
      { key: 'a', title: 'Oak desk', price: 120, image: '/demo/icon.svg', url: '/p/a', category: 'Furniture', reason: { kind: 'image', channel: 'image', text: 'looks like Pine desk', via: 'b' } },
      { key: 'b', title: 'Pen', price: 'from $2', image: 'https://tracker.example/p.jpg', url: 'javascript:alert(1)', sub_category: 'Art' },
    ];
    const box = document.createElement('div');
    document.body.append(box);
    const selected = [];
    renderCards(box, items, { onSelect: (it, ev) => { ev.preventDefault(); selected.push(it.key); } });
    box.querySelector('[data-key="a"] a').click();
    const el = document.createElement('mdsrec-cards');
    document.body.append(el);
    el.items = items;
    const events = [];
    el.addEventListener('mdsrec-select', (e) => { e.preventDefault(); events.push(e.detail.item.key); });
    el.querySelector('[data-key="b"] a').click();
    const card = (root, k) => {
      const c = root.querySelector(`[data-key="${k}"]`);
      return {
        href: c.querySelector('a').getAttribute('href'), img: c.querySelector('img')?.getAttribute('src') ?? null,
        title: c.querySelector('.mdsrec-title').textContent, price: c.querySelector('.mdsrec-price')?.textContent ?? null,
        reason: c.querySelector('.mdsrec-reason')?.className ?? null, tile: c.querySelector('.mdsrec-initials')?.textContent ?? null,
      };
    };
    return { a: card(box, 'a'), b: card(box, 'b'), selected, events, url: location.pathname };
  });
  expect(out.a).toEqual({ href: '/p/a', img: '/demo/icon.svg', title: 'Oak desk', price: '$120.00', reason: 'mdsrec-reason mdsrec-reason--image', tile: null });
  expect(out.b).toEqual({ href: '#', img: null, title: 'Pen', price: 'from $2', reason: null, tile: 'PE' });
  expect(out.selected).toEqual(['a']);
  expect(out.events).toEqual(['b']);
  expect(out.url).toBe('/fixtures/blank.html');
  expect(await page.evaluate(() => window.__csp)).toEqual([]);
});
