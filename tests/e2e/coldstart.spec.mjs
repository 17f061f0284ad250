// Cold start (issue 20): load({early: true}) over a bundle that arrives slowly answers with the
// popularity order (each item provisional) as soon as the head is in, then the real ranking
// once the rest has arrived and checked; a damaged section mid-stream rejects rec.ready and
// later calls with MDSREC_CORRUPT_BUNDLE; calls keep their order; close() mid-download ends it.
// The slow and damaged downloads come from tests/e2e/hostile-server.mjs (/slow, /slowflip).
import { test, expect } from '@playwright/test';
import { instrument, nativeTopK } from './helpers.mjs';
import { startServer } from './hostile-server.mjs';

let srv;
test.beforeAll(async () => { srv = await startServer(); });
test.afterAll(async () => { await srv.close(); });

const HIST = ['item-000011', 'item-000500', 'item-001234'];

for (const worker of [true, false]) {
  const w = worker ? 'worker' : 'main thread';
  test(`popular first, then the real ranking, from a slow bundle (${w})`, async ({ page }) => {
    await instrument(page);
    await page.goto(`${srv.origin}/fixtures/blank.html`);
    const got = await page.evaluate(async ({ worker, HIST, g }) => {
      const m = await import('/mdsrec.js');
      const rec = await m.load({ model: `/slow/fixtures/main.mdsb?g=${g}`, early: true, worker, cache: false, storage: 'memory' });
      const out = { mode: rec.info.mode, nItems: rec.info.nItems };
      for (const k of HIST) await rec.track(k);
      const first = await rec.recommend({ k: 5 });
      out.first = first.map((x) => [x.key, !!x.provisional, x.reason.kind, typeof x.title]);
      // made before the rest arrives: they wait for it and keep their order
      const order = [];
      const sim = rec.similar(HIST[0], { k: 3 }).then((r) => { order.push('similar'); return r; });
      const rec2 = rec.recommend({ k: 5 }).then((r) => { order.push('recommend'); return r; });
      await fetch(`/release/${g}`);
      await rec.ready;
      const second = await rec.recommend({ k: 5 });
      out.second = second.map((x) => [x.key, !!x.provisional]);
      out.sim = (await sim).length;
      out.rec2 = (await rec2).map((x) => x.key);
      out.order = order;
      rec.close();
      return out;
    }, { worker, HIST, g: `pop-${worker}` });
    expect(got.mode).toBe(worker ? 'worker' : 'main');
    const pop = nativeTopK('main.mdsb', [], 5 + HIST.length).map((x) => x.key).filter((k) => !HIST.includes(k)).slice(0, 5);
    expect(got.first).toEqual(pop.map((k) => [k, true, 'popular', 'string']));
    expect(got.second).toEqual(nativeTopK('main.mdsb', HIST, 5).map((x) => [x.key, false]));
    expect(got.sim).toBe(3);
    expect(got.order).toEqual(['similar', 'recommend']);
    expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
  });

  test(`a section damaged mid-stream: MDSREC_CORRUPT_BUNDLE (${w})`, async ({ page }) => {
    await instrument(page);
    await page.goto(`${srv.origin}/fixtures/blank.html`);
    const got = await page.evaluate(async ({ worker, g }) => {
      const m = await import('/mdsrec.js');
      const desc = (e) => `${e instanceof m.BundleError} ${e.code} ${e.message}`;
      const out = {};
      const rec = await m.load({ model: `/slowflip/fixtures/main.mdsb?g=${g}a`, early: true, worker, cache: false, storage: 'memory' });
      out.early = (await rec.recommend({ k: 2 })).every((x) => x.provisional);
      const waiting = rec.similar('item-000003').then(() => 'resolved', desc);
      fetch(`/release/${g}a`);
      out.ready = await rec.ready.then(() => 'resolved', desc);
      out.waiting = await waiting;
      out.after = await rec.recommend({ k: 2 }).then(() => 'resolved', desc);
      rec.close();
      // without early: load() itself rejects
      setTimeout(() => fetch(`/release/${g}b`), 50);
      out.load = await m.load({ model: `/slowflip/fixtures/main.mdsb?g=${g}b`, worker, cache: false, storage: 'memory' }).then(() => 'resolved', desc);
      return out;
    }, { worker, g: `flip-${worker}` });
    expect(got.early).toBe(true);
    for (const k of ['ready', 'waiting', 'after', 'load']) expect(got[k], k).toMatch(/^true MDSREC_CORRUPT_BUNDLE .*checksum/);
    expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
  });

  test(`close() during the download (${w})`, async ({ page }) => {
    await instrument(page);
    await page.goto(`${srv.origin}/fixtures/blank.html`);
    const got = await page.evaluate(async ({ worker, g }) => {
      const m = await import('/mdsrec.js');
      const rec = await m.load({ model: `/slow/fixtures/main.mdsb?g=${g}`, early: true, worker, cache: false, storage: 'memory' });
      const pending = rec.similar('item-000003').then(() => 'resolved', (e) => e.code);
      rec.close();
      const after = await rec.recommend().then(() => 'resolved', (e) => e.code);
      fetch(`/release/${g}`);
      return { pending: await pending, after };
    }, { worker, g: `close-${worker}` });
    expect(got).toEqual({ pending: 'MDSREC_CLOSED', after: 'MDSREC_CLOSED' });
    expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
  });
}
