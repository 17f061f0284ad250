// The kiosk: it keeps recommending with the network off (service worker), and an idle visitor's
// history is wiped and the page reset.
import { test, expect } from '@playwright/test';
import { instrument, MODEL } from './helpers.mjs';

const ready = (page) => expect(page.locator('body')).toHaveAttribute('data-state', 'ready');

test('with the context offline the kiosk still recommends', async ({ page, context }) => {
  await instrument(page);
  await page.goto(`/kiosk.html?model=${MODEL}&idle=600`);
  await ready(page);
  await expect(page.locator('body')).toHaveAttribute('data-offline', 'ready', { timeout: 20_000 });
  await context.setOffline(true);
  await page.reload();
  await ready(page);
  const card = page.locator('#grid .mdsrec-card').nth(3);
  await card.locator('.mdsrec-link').click();
  await expect(page.locator('#recs')).toHaveAttribute('data-history', '1');
  await expect(page.locator('#recs .mdsrec-card')).toHaveCount(8);
  await expect(page.locator('#recs .mdsrec-reason').first()).toHaveText(/^(looks like|described like|often together with) /);
  expect(await page.evaluate(() => fetch('/fixtures/blank.html?x=' + Math.random()).then((r) => (r.ok ? 'online' : 'offline'), () => 'offline'))).toBe('offline');
  expect(await page.evaluate(() => window.__csp)).toEqual([]);
  await context.setOffline(false);
});

test('after the idle time the history is wiped and the page resets', async ({ page }) => {
  await page.goto(`/kiosk.html?model=${MODEL}&idle=2`);
  await ready(page);
  for (const [i, n] of [[1, 1], [6, 2]]) {
    await page.locator('#grid .mdsrec-card .mdsrec-link').nth(i).click();
    await expect(page.locator('#recs')).toHaveAttribute('data-history', String(n));
  }
  await expect(page.locator('#history li')).toHaveCount(2);
  expect(await page.evaluate(() => JSON.parse(sessionStorage.getItem('mdsrec:history')).length)).toBe(2);
  await expect(page.locator('body')).toHaveAttribute('data-resets', '1', { timeout: 8000 });
  await expect(page.locator('#history li')).toHaveCount(0);
  await expect(page.locator('#recs')).toHaveAttribute('data-history', '0');
  await expect(page.locator('#similar-panel')).toBeHidden();
  expect(await page.evaluate(() => sessionStorage.getItem('mdsrec:history'))).toBeNull();
});

test('/?kiosk=1 opens the kiosk page with the same parameters', async ({ page }) => {
  await page.goto(`/?kiosk=1&model=${MODEL}&idle=30`);
  await expect(page).toHaveURL(new RegExp(`/kiosk\\.html\\?model=${MODEL.replace(/\//g, '%2F')}&idle=30$`));
  await ready(page);
  await expect(page.locator('#idle-s')).toHaveText('30 seconds');
});
