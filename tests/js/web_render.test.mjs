// web_render.test.mjs - the DOM-free helpers of web/render.js (the cards themselves are
// checked in the browser tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrice, hue, initials, listOf, safeUrl } from '../../web/render.js';

test('safeUrl keeps http(s) and relative links, refuses script URLs and foreign origins when asked', () => {
  const base = 'https://shop.test/p/';
  assert.equal(safeUrl('/img/a.jpg', base), '/img/a.jpg');
  assert.equal(safeUrl('https://cdn.test/a.jpg', base), 'https://cdn.test/a.jpg');
  assert.equal(safeUrl('javascript:alert(1)', base), null);
  assert.equal(safeUrl(' JavaScript:alert(1)', base), null);
  assert.equal(safeUrl('data:text/html,x', base), null);
  assert.equal(safeUrl(42, base), null);
  assert.equal(safeUrl('', base), null);
  assert.equal(safeUrl('https://cdn.test/a.jpg', base, ['https://shop.test']), null);
  assert.equal(safeUrl('a.jpg', base, ['https://shop.test']), 'a.jpg');
});

test('prices, initials and colour groups', () => {
  assert.equal(formatPrice(12.5, { locale: 'en-US' }), '$12.50');
  assert.equal(formatPrice(3, { locale: 'de-DE', currency: 'EUR' }), '3,00\u00a0€');
  assert.equal(formatPrice('from £4'), 'from £4');
  assert.equal(formatPrice(undefined), '');
  assert.equal(formatPrice(NaN), '');
  assert.equal(initials('Office Supplies'), 'OS');
  assert.equal(initials('chairs'), 'CH');
  assert.equal(initials(''), '?');
  assert.equal(initials('Babe (1995)'), 'BA'); // a year is no initial
  assert.equal(initials('GoldenEye (1995)'), 'GO');
  assert.equal(initials('1995'), '19');
  assert.equal(hue('Furniture'), hue('Furniture'));
  assert.ok(hue('Technology') >= 0 && hue('Technology') < 8);
});

test('list fields: arrays and |-separated genres become lists, other values do not', () => {
  assert.deepEqual(listOf("Animation|Children's|Comedy"), ['Animation', "Children's", 'Comedy']);
  assert.deepEqual(listOf(' Drama | |Crime'), ['Drama', 'Crime']);
  assert.deepEqual(listOf(['Action', 'Comedy']), ['Action', 'Comedy']);
  assert.equal(listOf('Office Supplies'), null);
  assert.equal(listOf(3), null);
});
