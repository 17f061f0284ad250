// `mdsrec report` in Chromium (issue 22, item 4): a small shop made here (48 items in three
// categories, image and text features, a catalogue with an embedded PNG and a `<script>`
// title), graphs, three epochs of mdsrec and the report, all with the native tool. The page is
// opened with the browser offline and every request aborted: none may be made, the title stays
// text, and every chart drew (each <svg> has a size and marks of non-zero size). A full-page
// screenshot is attached and kept at build/e2e-fixtures/report/report.png.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { BIN, DIR } from './global-setup.mjs';

const D = `${DIR}/report`;
const N = 48;
// a 1x1 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVQI12P4z8AAAAMBAQAY3Y2wAAAAAElFTkSuQmCC', 'base64');
const CATS = ['Shoes', 'Bags', 'Hats & Caps'];
const EVIL = '<script>document.title="owned"</script><img src=x onerror="document.title=1">';

function makeShop() {
  rmSync(D, { recursive: true, force: true });
  const data = `${D}/data`;
  mkdirSync(`${data}/features`, { recursive: true });
  mkdirSync(`${data}/img`, { recursive: true });
  writeFileSync(`${data}/img/p.png`, PNG);
  writeFileSync(`${data}/items.txt`, Array.from({ length: N }, (_, i) => `sku-${i}\n`).join(''));
  writeFileSync(`${data}/catalog.jsonl`, Array.from({ length: N }, (_, i) => JSON.stringify({
    title: i === 1 ? EVIL : `Product ${i}`, category: CATS[i % 3], ...(i % 3 === 0 ? { image: 'img/p.png' } : {}),
  }) + '\n').join(''));
  let seed = 5;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const rows = [];
  for (let u = 0; u < 240; u++) {
    const len = 5 + rnd(6);
    let it = rnd(N);
    const s = [1 + (u % 2)];
    for (let t = 0; t < len; t++, it = (it + 1 + (u % 3 === 0 ? 3 : 0)) % N) s.push(it);
    rows.push(`v${u}\t${s.join(' ')}\n`);
  }
  writeFileSync(`${data}/sequences.tsv`, rows.join(''));
  for (const [name, w] of [['image', 4], ['text', 3]]) {
    const x = new Float32Array(N * w);
    for (let i = 0; i < N; i++) {
      let n2 = 0;
      for (let j = 0; j < w; j++) { x[i * w + j] = rnd(1000) / 1000 - 0.5; n2 += x[i * w + j] ** 2; }
      for (let j = 0; j < w; j++) x[i * w + j] /= Math.sqrt(n2);
    }
    writeFileSync(`${data}/features/${name}.f32`, Buffer.from(x.buffer));
    writeFileSync(`${data}/features/${name}.json`, JSON.stringify({ name, kind: name, width: w, rows: N, missing: [], source: 'e2e' }) + '\n');
  }
  execFileSync(BIN, ['graph', '--dir', data, '--k', '5', '--threads', '2'], { stdio: 'ignore' });
  execFileSync(BIN, ['train', '--data', data, '--out', `${D}/run`, '--model', 'mdsrec', '--dim', '8', '--max-len', '8',
    '--blocks', '1', '--heads', '2', '--epochs', '4', '--batch', '32', '--quiet', '--threads', '2'], { stdio: 'ignore' });
  execFileSync(BIN, ['report', '--model', `${D}/run`, '--out', `${D}/report.html`, '--visitors', '60', '--threads', '2']);
  return readFileSync(`${D}/report.html`, 'utf8');
}

test('the report renders offline: no request, the title stays text, every chart drew', async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const html = makeShop();
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const requested = [];
  await context.route('**/*', (route) => { requested.push(route.request().url()); return route.abort(); });
  await context.setOffline(true);
  const page = await context.newPage();
  page.on('request', (r) => { if (!r.url().startsWith('data:')) requested.push(r.url()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setContent(html, { waitUntil: 'load' });

  for (const id of ['training', 'accuracy', 'channels', 'neighbours', 'coverage', 'new-items']) {
    await expect(page.locator(`section#${id}`)).toBeVisible();
  }
  // shop data is text: the hostile title neither ran nor became an element
  expect(await page.title()).toMatch(/^MDSRec report: mdsrec on /);
  expect(await page.locator('script').count()).toBe(0);
  expect(await page.locator('img').count()).toBe(0);
  await expect(page.locator('#neighbours .t', { hasText: '<script>document.title="owned"</script>' }).first()).toBeVisible();
  // the embedded picture is a data: URI
  const bg = await page.locator('#neighbours .pic:not(.ph)').first().evaluate((e) => getComputedStyle(e).backgroundImage);
  expect(bg).toMatch(/^url\("data:image\/png;base64,/);

  // every chart: a box of its own, and marks with a size
  const charts = await page.locator('svg').evaluateAll((svgs) => svgs.map((s) => {
    const box = s.getBoundingClientRect();
    const marks = [...s.querySelectorAll('rect, path, polyline, circle')].filter((m) => {
      const b = m.getBBox();
      return b.width > 0 && b.height > 0;
    });
    return { section: s.closest('section')?.id, w: box.width, h: box.height, marks: marks.length,
      kinds: [...new Set(marks.map((m) => m.tagName))] };
  }));
  expect(charts.map((c) => c.section)).toEqual(['training', 'channels', 'coverage']);
  for (const c of charts) {
    expect(c.w, c.section).toBeGreaterThan(100);
    expect(c.h, c.section).toBeGreaterThan(50);
    expect(c.marks, c.section).toBeGreaterThan(2);
  }
  expect(charts[0].kinds).toContain('polyline'); // the curves themselves, not just the frame
  // the stacked bars: one segment per channel on the "all recommendations" bar at least
  expect(charts[1].marks).toBeGreaterThanOrEqual(3 + 3);
  // the histogram: ten bars
  expect(charts[2].marks).toBe(10);

  const shot = await page.screenshot({ path: `${D}/report.png`, fullPage: true });
  await testInfo.attach('report', { body: shot, contentType: 'image/png' });
  expect(errors).toEqual([]);
  expect(requested).toEqual([]);
  await context.close();
});
