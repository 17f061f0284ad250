// render.js - product cards from mdsrec results or catalog entries: image (or a lettered tile),
// title, price, link and the reason badge. Plain DOM with stable class names, no styles of its
// own (CSP-safe): the site styles .mdsrec-cards, .mdsrec-card, .mdsrec-thumb, .mdsrec-title,
// .mdsrec-meta (year, sub-category or category), .mdsrec-tags (holding one .mdsrec-tag per genre or tag),
// .mdsrec-price, .mdsrec-reason (holding .mdsrec-reason-text) and .mdsrec-reason--{id,image,text,feature,popular}.
//
//   renderCards(document.querySelector('#recs'), items, { onSelect: (item) => rec.track(item.key) });
//   <mdsrec-cards></mdsrec-cards>  el.items = items; el.addEventListener('mdsrec-select', ...)

const HUES = 8;

/** A small stable hash of a string, for the placeholder tile's colour class. */
export function hue(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) % HUES;
}

/** "Office Supplies" -> "OS"; "chair" -> "CH"; "Babe (1995)" -> "BA" (words that start with a
    letter first, so a year or a number does not make half the tile). */
export function initials(s) {
  const all = String(s || '?').split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const words = all.filter((x) => /^\p{L}/u.test(x));
  const w = words.length ? words : all;
  return (w.length > 1 ? w[0][0] + w[1][0] : (w[0] || '?').slice(0, 2)).toUpperCase();
}

/** A list field as an array: an array as is, a string of `|`-separated values (as MovieLens
    and `mdsrec prepare --display` write genres) split and trimmed; null for anything else. */
export function listOf(v) {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  if (typeof v === 'string' && v.includes('|')) return v.split('|').map((x) => x.trim()).filter(Boolean);
  return null;
}

/** A link target only if it is http(s) or relative (no javascript: or data: links); with
    `origins`, only if its origin is one of them. */
export function safeUrl(u, base, origins) {
  if (typeof u !== 'string' || !u) return null;
  try {
    const url = new URL(u, base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return !origins || origins.includes(url.origin) ? u : null;
  } catch {
    return null;
  }
}

/** Price as currency when numeric ("$12.50"), as given when a string. */
export function formatPrice(p, { currency = 'USD', locale } = {}) {
  if (typeof p === 'number' && Number.isFinite(p)) {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(p);
  }
  return typeof p === 'string' ? p : '';
}

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

/** One card. opts: {onSelect(item, event), reason: true, currency, locale, group: field
    naming the placeholder colour group (default 'category'), imageOrigins: origins images may
    load from (default: this page's origin only)}.
    Why same-origin images by default: the images of recommended items depend on the visitor's
    history, so fetching them from a third-party host would tell that host what was clicked.
    List a CDN in imageOrigins only if it is the site's own. Others get a lettered tile. */
export function card(item, opts = {}) {
  const li = el('li', 'mdsrec-card');
  li.dataset.key = item.key;
  const base = typeof document !== 'undefined' ? document.baseURI : undefined;
  const a = el('a', 'mdsrec-link');
  a.href = safeUrl(item.url, base) || '#';
  const title = String(item.title ?? item.name ?? item.key);
  const thumb = el('span', 'mdsrec-thumb');
  const origins = opts.imageOrigins || (typeof location !== 'undefined' ? [location.origin] : []);
  const img = safeUrl(item.image, base, origins);
  if (img) {
    const i = el('img');
    i.src = img;
    i.alt = '';
    i.loading = 'lazy';
    i.decoding = 'async';
    thumb.append(i);
  } else {
    // The tile's colour follows the item's group; its letters are the item's own (its title),
    // so that tiles of one catalogue differ whatever fields that catalogue has.
    const group = String(item[opts.group || 'category'] ?? item.genres ?? title);
    thumb.classList.add('mdsrec-thumb--none', `mdsrec-hue-${hue(group)}`);
    thumb.append(el('span', 'mdsrec-initials', initials(title)));
  }
  a.append(thumb, el('span', 'mdsrec-title', title));
  const kind = item.subcategory ?? item.sub_category ?? item.category ?? item.genres;
  const tags = listOf(kind);
  const meta = [item.year, tags ? undefined : kind].filter((x) => typeof x === 'string' || typeof x === 'number');
  if (meta.length) a.append(el('span', 'mdsrec-meta', meta.join(' · ')));
  if (tags && tags.length) {
    const t = el('span', 'mdsrec-tags');
    t.append(...tags.map((x) => el('span', 'mdsrec-tag', x)));
    a.append(t);
  }
  const price = formatPrice(item.price, opts);
  if (price) a.append(el('span', 'mdsrec-price', price));
  li.append(a);
  if (opts.reason !== false && item.reason && item.reason.text) {
    const r = el('span', `mdsrec-reason mdsrec-reason--${item.reason.kind}`);
    r.append(el('span', 'mdsrec-reason-text', item.reason.text));
    r.title = item.reason.channel ? `${item.reason.channel} channel` : item.reason.text;
    li.append(r);
  }
  if (opts.onSelect) {
    a.addEventListener('click', (ev) => {
      if (ev.button || ev.metaKey || ev.ctrlKey || ev.shiftKey) return; // new tab: leave it
      opts.onSelect(item, ev);
    });
  }
  return li;
}

/** Replaces the container's content with a <ul class="mdsrec-cards"> of cards. */
export function renderCards(container, items, opts = {}) {
  const ul = el('ul', 'mdsrec-cards');
  for (const it of items) ul.append(card(it, opts));
  container.replaceChildren(ul);
  return ul;
}

/** <mdsrec-cards>: set .items (and optionally .options); fires 'mdsrec-select' with
    detail {item} on a click, which a listener may cancel with preventDefault(). */
if (typeof customElements !== 'undefined' && !customElements.get('mdsrec-cards')) {
  customElements.define('mdsrec-cards', class extends HTMLElement {
    set items(v) { this._items = v; this._draw(); }
    get items() { return this._items || []; }
    set options(v) { this._opts = v; this._draw(); }
    _draw() {
      renderCards(this, this.items, {
        ...this._opts,
        onSelect: (item, ev) => {
          const go = this.dispatchEvent(new CustomEvent('mdsrec-select', { detail: { item }, cancelable: true, bubbles: true }));
          if (!go) ev.preventDefault();
        },
      });
    }
  });
}
