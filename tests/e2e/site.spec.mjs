// A site made by `mdsrec site` (docs/SITE.md), generated here from a test catalogue and PNG
// images drawn by this file, and served from its own root by scripts/serve.mjs (the demo's
// strict CSP) as any static host would: cards show the images, clicks personalise the
// recommendations, no request carries the history, and the kiosk keeps working offline.
// MDSREC_UPDATE_SCREENSHOT=1 also writes the storefront's screenshot to docs/site.png.
import { test, expect } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { instrument } from './helpers.mjs';

const BIN = process.env.MDSREC_BIN || 'build/bin/mdsrec';
const DIR = 'build/e2e-fixtures/site-test';
const N = 48;
const CATEGORIES = [['Kitchen', [214, 96, 77]], ['Garden', [88, 160, 92]], ['Office', [70, 110, 190]], ['Toys', [230, 180, 60]]];
const NOUNS = ['kettle', 'trowel', 'stapler', 'kite', 'teapot', 'rake', 'notebook', 'yo-yo', 'ladle', 'hose', 'lamp', 'puzzle'];
const key = (i) => `item-${String(i).padStart(6, '0')}`;
const hasImage = (i) => i % 5 !== 3; // every fifth product has no picture: a lettered tile

// ---------------------------------------------------------------- a PNG encoder (RGB, 8-bit)
const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** A w x h PNG whose pixel (x, y) is rgb(x, y). */
function png(w, h, rgb) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0; // filter: none
    for (let x = 0; x < w; x++) raw.set(rgb(x, y), y * (w * 3 + 1) + 1 + x * 3);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
/** A product photo stand-in: the category's colour, a light disc whose size and place vary by
    item, and its shadow. */
function productImage(i, size) {
  const [r, g, b] = CATEGORIES[i % 4][1];
  const cx = size * (0.35 + 0.3 * ((i * 7) % 5) / 4), cy = size * 0.5, rad = size * (0.16 + 0.04 * (i % 4));
  return png(size, size, (x, y) => {
    const d = Math.hypot(x - cx, y - cy);
    const shadow = Math.hypot((x - cx) / 1.2, (y - cy - rad * 0.9) * 3) < rad ? 0.7 : 1;
    const light = 0.8 + 0.2 * (1 - y / size);
    if (d < rad) return [250, 246, 238].map((v) => Math.round(v * (0.92 + 0.08 * (1 - d / rad))));
    return [r, g, b].map((v) => Math.round(v * light * shadow));
  });
}

// ---------------------------------------------------------------- the site and its server
let server;
let origin;

test.beforeAll(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(`${DIR}/images`, { recursive: true });
  execFileSync(BIN, ['synth', '-o', `${DIR}/shop.mdsb`, '--items', String(N), '--channels', 'id,image,text', '--dim', '16',
    '--neighbours', '6', '--catalog', '--seed', '21']);
  const rows = ['item_id\tname\tcategory\tprice'];
  for (let i = 0; i < N; i++) {
    const [cat] = CATEGORIES[i % 4];
    rows.push(`${key(i)}\t${cat} ${NOUNS[i % NOUNS.length]} no. ${i}\t${cat}\t${(4 + (i * 37) % 90).toFixed(2)}`);
    // one large image, so the downscaling path serves a card too
    if (hasImage(i)) writeFileSync(`${DIR}/images/${key(i)}.png`, productImage(i, i === 0 ? 900 : 96));
  }
  writeFileSync(`${DIR}/products.tsv`, rows.join('\n') + '\n');
  execFileSync(BIN, ['site', '--bundle', `${DIR}/shop.mdsb`, '--out', `${DIR}/site`, '--title', 'Test Shop',
    '--catalog', `${DIR}/products.tsv`, '--display', 'title=name,category=category,price=price',
    '--images', `${DIR}/images`, '--image-size', '240'], { stdio: 'ignore' });
  const port = 30000 + Math.floor(Math.random() * 9000);
  server = spawn('node', ['scripts/serve.mjs', '--port', String(port), '--root', `${DIR}/site`], { stdio: 'ignore' });
  origin = `http://127.0.0.1:${port}`;
  for (let t = 0; ; t++) {
    const ok = await fetch(`${origin}/index.html`).then((r) => r.ok, () => false);
    if (ok) break;
    if (t > 100) throw new Error('the site server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
});
test.afterAll(() => server && server.kill());

const ready = (page) => expect(page.locator('body')).toHaveAttribute('data-state', 'ready');
/** The grid's cards whose image has loaded (decoded, non-zero size). */
const loadedImages = (page, sel) => page.locator(sel).evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);

test('the site is self-contained: every image it names is in it', () => {
  const files = readdirSync(`${DIR}/site/images`);
  expect(files).toHaveLength(Array.from({ length: N }, (_, i) => i).filter(hasImage).length);
  expect(files.every((f) => /^[0-9a-f]{16}\.(png|jpg)$/.test(f))).toBe(true);
  // the 900 px image became a 240 px JPEG; the 96 px ones were copied as PNG
  expect(files.filter((f) => f.endsWith('.jpg'))).toHaveLength(1);
});

test('storefront: cards with images, recommendations with reasons after clicks, no request carries the history', async ({ page, context }) => {
  await page.setViewportSize({ width: 1100, height: 760 });
  const requests = [];
  context.on('request', (r) => requests.push({ url: r.url(), body: r.postData() || '' }));
  await instrument(page);
  await page.goto(`${origin}/`);
  await ready(page);
  await expect(page.locator('#store-name')).toHaveText('Test Shop');
  await expect(page).toHaveTitle(/^Test Shop/);
  const cards = page.locator('#grid .mdsrec-card');
  await expect(cards).toHaveCount(24);
  // the catalogue's own titles, and images on the cards of the products that have one
  await expect(cards.first().locator('.mdsrec-title')).toHaveText(/^(Kitchen|Garden|Office|Toys) \S+ no\. \d+$/);
  const keys = await cards.evaluateAll((els) => els.map((e) => e.dataset.key));
  const withImg = keys.filter((k) => hasImage(Number(k.slice(5))));
  await expect(page.locator('#grid .mdsrec-card .mdsrec-thumb img')).toHaveCount(withImg.length);
  await expect(page.locator('#grid .mdsrec-thumb--none')).toHaveCount(keys.length - withImg.length);
  await expect.poll(() => loadedImages(page, '#grid .mdsrec-thumb img'), { timeout: 10_000 }).toBe(withImg.length);

  await expect(page.locator('#recs')).toHaveAttribute('data-history', '0');
  const before = await page.locator('#recs .mdsrec-card').evaluateAll((els) => els.map((e) => e.dataset.key));
  const history = [];
  for (const i of [1, 5, 2]) {
    const card = page.locator('#grid .mdsrec-card').nth(i);
    history.push(await card.getAttribute('data-key'));
    await card.locator('.mdsrec-link').click();
    await expect(page.locator('#recs')).toHaveAttribute('data-history', String(history.length));
  }
  const recs = page.locator('#recs .mdsrec-card');
  await expect(recs).toHaveCount(8);
  const after = await recs.evaluateAll((els) => els.map((e) => e.dataset.key));
  expect(after).not.toEqual(before);
  for (const k of history) expect(after).not.toContain(k); // what was clicked is not recommended again
  await expect(page.locator('#recs .mdsrec-reason')).toHaveCount(8); // a reason on every card
  await expect(page.locator('#recs .mdsrec-reason').first()).toHaveText(/^(looks like|described like|often together with|popular)/);
  await expect(page.locator('#history li')).toHaveCount(3);
  await expect(page.locator('#similar .mdsrec-card').first()).toBeVisible();
  // the strip scrolls sideways and its images load lazily: those in view have loaded
  await expect(page.locator('#recs .mdsrec-thumb img')).toHaveCount(after.filter((k) => hasImage(Number(k.slice(5)))).length);
  await expect.poll(() => loadedImages(page, '#recs .mdsrec-thumb img')).toBeGreaterThan(0);

  expect(requests.length).toBeGreaterThan(10);
  for (const r of requests) {
    expect(new URL(r.url).origin, r.url).toBe(origin);
    for (const k of history) {
      expect(decodeURIComponent(r.url)).not.toContain(k);
      expect(r.body).not.toContain(k);
    }
  }
  expect(await context.cookies()).toEqual([]);
  expect(await page.evaluate(() => window.__csp)).toEqual([]);
  expect(await page.evaluate(() => window.__unhandled)).toEqual([]);
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: `${DIR}/site.png` });
  if (process.env.MDSREC_UPDATE_SCREENSHOT) copyFileSync(`${DIR}/site.png`, 'docs/site.png');
});

test('kiosk: after the first load it works with the network off, images included', async ({ page, context }) => {
  await instrument(page);
  await page.goto(`${origin}/kiosk.html?idle=600`);
  await ready(page);
  await expect(page.locator('#store-name')).toHaveText('Test Shop');
  await expect(page.locator('body')).toHaveAttribute('data-offline', 'ready', { timeout: 20_000 });
  await context.setOffline(true);
  try {
    await page.reload();
    await ready(page);
    expect(await page.evaluate(() => fetch('/nothing-here?x=' + Math.random()).then((r) => (r.ok ? 'online' : 'offline'), () => 'offline'))).toBe('offline');
    const n = await page.locator('#grid .mdsrec-thumb img').count();
    expect(n).toBeGreaterThan(10);
    await expect.poll(() => loadedImages(page, '#grid .mdsrec-thumb img'), { timeout: 10_000 }).toBe(n);
    await page.locator('#grid .mdsrec-card .mdsrec-link').nth(4).click();
    await expect(page.locator('#recs')).toHaveAttribute('data-history', '1');
    await expect(page.locator('#recs .mdsrec-card')).toHaveCount(8);
    await expect(page.locator('#recs .mdsrec-reason')).toHaveCount(8);
    expect(await page.evaluate(() => window.__csp)).toEqual([]);
  } finally {
    await context.setOffline(false);
  }
});
