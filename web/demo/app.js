// The demo storefront and the kiosk (kiosk.html, or index.html?kiosk=1). Everything shown comes
// from the model bundle: the catalogue (titles, prices, categories) from its CATALOG section,
// the ranking from the wasm core. URL parameters: model=URL (a bundle), worker=0 (main thread),
// idle=SECONDS (kiosk reset), and m=superstore|movielens.
import { load } from '../mdsrec.js';
import { renderCards } from '../render.js';

const params = new URLSearchParams(location.search);
const TO_KIOSK = params.get('kiosk') === '1' && !document.body.dataset.kiosk;
if (TO_KIOSK) {
  params.delete('kiosk');
  location.replace(`kiosk.html${params.size ? '?' + params : ''}`);
}
const KIOSK = !!document.body.dataset.kiosk;
// The embedded default, and a MovieLens-posters bundle (not committed: built locally into
// models/, or found under /shared-data, which `npm start` mounts when ../shared/data exists),
// asked for only with ?m=movielens.
const MODELS = [
  { id: 'superstore', label: 'Superstore', urls: ['models/superstore.mdsb'] },
  { id: 'movielens', label: 'MovieLens posters', urls: ['models/ml-100k-posters.mdsb', 'shared-data/ml-100k-posters/ml-100k-posters.mdsb'] },
];
const TAB_LABEL = { id: 'Bought together', image: 'Looks like', text: 'Described like' };
const PAGE = 24;

const $ = (id) => document.getElementById(id);
const ui = {
  recs: $('recs'), recsNote: $('recs-note'), similarPanel: $('similar-panel'), similarTo: $('similar-to'),
  tabs: $('tabs'), similar: $('similar'), chips: $('chips'), grid: $('grid'), more: $('more'),
  history: $('history'), historyCount: $('history-count'), historyWhere: $('history-where'),
  forget: $('forget'), engine: $('engine'), banner: $('banner'), search: $('search'),
};

const state = {
  rec: null, items: [], byKey: new Map(), popular: [], category: 'All', query: '', shown: PAGE,
  selected: null, channel: 0, seq: 0, modelId: null, posters: new Map(),
};

function banner(msg) {
  ui.banner.textContent = msg;
  ui.banner.hidden = !msg;
}

// The browse chips: a category ("Office Supplies"), or the first of a film's genres (an array,
// or a string "Action|Comedy" or "Action Comedy" as MovieLens writes them).
const groupOf = (it) => {
  const c = it.category ?? it.Category;
  if (typeof c === 'string' && c) return c;
  const g = it.genre ?? it.genres;
  return (Array.isArray(g) ? g[0] : typeof g === 'string' ? g.split(/[|,\s]+/)[0] : null) || null;
};
const titleOf = (key) => {
  const it = state.byKey.get(key);
  return (it && (it.title || it.name)) || key;
};
// MovieLens posters: a bundle whose catalog has no `image` gets them from the data set's own
// map (ml-100k id -> MovieLens-1M poster file), served from /shared-data like the posters.
const POSTERS = 'shared-data/ml-100k-posters/';
async function loadPosters() {
  const res = await fetch(POSTERS + 'ml100k_item_to_ml1m_poster.tsv').catch(() => null);
  if (!res || !res.ok) return;
  for (const line of (await res.text()).split('\n').slice(1)) {
    const [id, poster] = line.split('\t');
    if (id && poster) state.posters.set(id, `${POSTERS}posters/${poster}.jpg`);
  }
}
const dress = (items) => items.map((it) => (it.image || !state.posters.has(it.key) ? it : { ...it, image: state.posters.get(it.key) }));

const select = (item, ev) => {
  ev.preventDefault();
  choose(item.key).catch((e) => banner(`${e.code || 'Error'}: ${e.message}`));
};

// ---------------------------------------------------------------- model choice

// A site written by `mdsrec site` (docs/SITE.md) names its bundle and its store on <body>
// (data-model, data-title) and, only when asked to, other hosts its images may load from.
const SITE = document.body.dataset.model ? {
  model: document.body.dataset.model,
  title: document.body.dataset.title || 'Shop',
  imageOrigins: (document.body.dataset.imageOrigins || '').split(' ').filter(Boolean),
} : null;
const CARDS = SITE && SITE.imageOrigins.length ? { imageOrigins: [location.origin, ...SITE.imageOrigins] } : {};

// The store's name: the catalogue's own label for the two known bundles, a neutral "Shop" for
// any other (a bundle carries no store name), so another catalogue is never called Superstore.
function nameStore(name) {
  $('store-name').textContent = name;
  document.title = `${name} · ${KIOSK ? 'kiosk' : 'private recommendations'}`;
}

async function pickModel() {
  if (SITE) {
    nameStore(SITE.title);
    return SITE.model;
  }
  const custom = params.get('model');
  if (custom) {
    nameStore('Shop');
    return custom;
  }
  const chosen = MODELS.find((m) => m.id === params.get('m')) || MODELS[0];
  // Only the chosen catalogue is asked for: the optional MovieLens bundle (not committed) only
  // when the URL names it (?m=movielens), so a page without it logs no 404 for it. Its places
  // are tried in turn; the first that answers is loaded.
  const head = (u) => fetch(u, { method: 'HEAD' }).then((r) => r.ok, () => false);
  chosen.url = chosen.urls[0];
  for (const u of chosen.urls.length > 1 ? chosen.urls : []) {
    if (await head(u)) {
      chosen.url = u;
      break;
    }
  }
  // On another catalogue than the default, the switch offers the way back to it.
  const sel = $('model-select');
  if (sel && chosen !== MODELS[0] && (await head(MODELS[0].urls[0]))) {
    for (const m of [MODELS[0], chosen]) sel.append(new Option(m.label, m.id, false, m === chosen));
    sel.closest('label').hidden = false;
    sel.addEventListener('change', () => {
      params.set('m', sel.value);
      location.search = params;
    });
  }
  nameStore(chosen.id === 'movielens' ? 'Movie night' : chosen.label);
  if (chosen.id === 'movielens') ui.search.placeholder = 'Search films';
  state.modelId = chosen.id;
  return chosen.url;
}

// ---------------------------------------------------------------- rendering

function renderChips() {
  const groups = ['All', ...new Set(state.items.map(groupOf).filter(Boolean))].slice(0, 12);
  ui.chips.replaceChildren(...groups.map((g) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip';
    b.textContent = g;
    b.setAttribute('aria-pressed', String(g === state.category));
    b.addEventListener('click', () => {
      state.category = g;
      state.shown = PAGE;
      renderChips();
      renderGrid();
    });
    return b;
  }));
}

function renderGrid() {
  const q = state.query.trim().toLowerCase();
  const list = state.popular.filter((it) => (state.category === 'All' || groupOf(it) === state.category)
    && (!q || String(it.title ?? it.name ?? it.key).toLowerCase().includes(q)));
  renderCards(ui.grid, dress(list.slice(0, state.shown)), { ...CARDS, onSelect: select, reason: false });
  ui.more.hidden = list.length <= state.shown;
  if (!list.length) ui.grid.textContent = 'No product matches.';
}

function renderHistory() {
  const h = state.rec.history();
  ui.historyCount.textContent = String(h.length);
  ui.history.replaceChildren(...h.map((k) => {
    const li = document.createElement('li');
    li.textContent = titleOf(k);
    li.title = k;
    return li;
  }));
  ui.history.dataset.count = String(h.length);
  ui.forget.disabled = !h.length;
}

function renderEngine(ms) {
  const i = state.rec.info;
  const rows = [
    ['Core', `${i.kernels}, ${i.mode === 'worker' ? 'Web Worker' : 'main thread'}`],
    ['Model', `${i.nItems.toLocaleString()} items · ${i.channels.map((c) => c.name).join(', ')}`],
    ['Loaded', `${ms} ms · wasm ${i.source.wasm}, model ${i.source.model}`],
  ];
  ui.engine.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
}

function renderTabs() {
  ui.tabs.replaceChildren(...state.rec.info.channels.map((c, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'tab';
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-selected', String(i === state.channel));
    b.dataset.channel = c.name;
    b.textContent = TAB_LABEL[c.kind] || c.name;
    b.addEventListener('click', () => {
      state.channel = i;
      renderTabs();
      refresh();
    });
    return b;
  }));
}

/** Re-ranks for the current history; the newest call wins when clicks come quickly. */
async function refresh() {
  const seq = ++state.seq;
  const { rec } = state;
  const h = rec.history();
  try {
    const [recs, sim] = await Promise.all([
      rec.recommend({ k: Math.min(8, rec.info.nItems) }),
      state.selected ? rec.similar(state.selected, { channel: state.channel, k: Math.min(8, rec.info.nItems) })
        .catch((e) => (e.code === 'MDSREC_NOT_FOUND' ? [] : Promise.reject(e))) : null,
    ]);
    if (seq !== state.seq) return;
    renderCards(ui.recs, dress(recs), { ...CARDS, onSelect: select });
    ui.recsNote.textContent = h.length ? `from your ${h.length} click${h.length > 1 ? 's' : ''}, computed here` : 'popular right now · click a product to personalise';
    ui.recs.dataset.history = String(h.length);
    ui.similarPanel.hidden = !state.selected;
    if (state.selected) {
      ui.similarTo.textContent = titleOf(state.selected);
      if (sim.length) renderCards(ui.similar, dress(sim), { ...CARDS, onSelect: select, reason: false });
      else ui.similar.textContent = 'This model has no neighbour list for this channel.';
      ui.similar.dataset.key = state.selected;
    }
    renderHistory();
    banner('');
  } catch (e) {
    banner(`${e.code || 'Error'}: ${e.message}`);
  }
}

async function choose(key) {
  state.selected = key;
  await state.rec.track(key);
  renderHistory();
  await refresh();
  scrollTo({ top: 0, behavior: 'smooth' }); // like opening the product: its page starts at the top
}

// ---------------------------------------------------------------- kiosk

function startKiosk(modelUrl) {
  const idle = Number(params.get('idle') || document.body.dataset.idle || 120);
  $('idle-s').textContent = idle >= 120 ? `${Math.round(idle / 60)} minutes` : `${idle} seconds`;
  let last = Date.now();
  const poke = () => { last = Date.now(); };
  for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart']) addEventListener(ev, poke, { passive: true });
  const reset = () => {
    state.rec.forget();
    Object.assign(state, { selected: null, category: 'All', query: '', shown: PAGE, channel: 0 });
    ui.search.value = '';
    renderChips();
    renderGrid();
    renderTabs();
    refresh();
    scrollTo(0, 0);
    document.body.dataset.resets = String(Number(document.body.dataset.resets || 0) + 1);
  };
  $('restart').addEventListener('click', reset);
  setInterval(() => {
    const touched = state.rec.history().length || state.selected || state.query || state.category !== 'All';
    if (Date.now() - last >= idle * 1000 && touched) reset();
  }, Math.min(1000, idle * 250));

  // The service worker precaches the page, scripts, wasm, this bundle and its images.
  const off = $('offline-state');
  if (!('serviceWorker' in navigator)) {
    off.textContent = 'offline mode unavailable';
    return;
  }
  const images = dress(state.items).map((it) => it.image).filter((u) => typeof u === 'string'
    && new URL(u, location.href).origin === location.origin).slice(0, 2000);
  navigator.serviceWorker.register('kiosk-sw.js').then(() => navigator.serviceWorker.ready).then((reg) => new Promise((resolve, reject) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = ({ data }) => (data.ok ? resolve() : reject(new Error(data.error)));
    const abs = (u) => new URL(u, location.href).href;
    reg.active.postMessage({ type: 'precache', urls: [modelUrl, ...images].map(abs) }, [ch.port2]);
  })).then(() => {
    off.textContent = 'ready to work offline';
    document.body.dataset.offline = 'ready';
  }, (e) => {
    off.textContent = `offline mode unavailable (${e.message})`;
  });
}

// ---------------------------------------------------------------- start

async function main() {
  const t0 = performance.now();
  const modelUrl = await pickModel();
  try {
    state.rec = await load({ model: modelUrl, worker: params.get('worker') !== '0', storage: 'session' });
  } catch (e) {
    banner(`${e.code || 'Error'}: ${e.message}` + (e.code === 'MDSREC_FETCH_FAILED' && !SITE ? ' (build it: bash models/superstore/build.sh)' : ''));
    document.body.dataset.state = 'error';
    return;
  }
  const { rec } = state;
  const ms = Math.round(performance.now() - t0);
  state.items = await rec.catalog();
  if (state.modelId === 'movielens' && !state.items.some((it) => it.image)) await loadPosters();
  state.byKey = new Map(state.items.map((it) => [it.key, it]));
  const order = await rec.recommend({ history: [], k: rec.info.nItems });
  state.popular = order.map((r) => state.byKey.get(r.key));
  const store = { session: 'this tab\u2019s sessionStorage', local: 'localStorage', memory: 'memory only' };
  ui.historyWhere.textContent = `Kept in ${store.session} under “mdsrec:history”.`;
  state.selected = rec.history().at(-1) || null;

  rec.addEventListener('change', renderHistory);
  ui.forget.addEventListener('click', () => {
    rec.forget();
    state.selected = null;
    refresh();
  });
  ui.more.addEventListener('click', () => {
    state.shown += PAGE;
    renderGrid();
  });
  ui.search.addEventListener('input', () => {
    state.query = ui.search.value;
    state.shown = PAGE;
    renderGrid();
  });
  renderEngine(ms);
  renderChips();
  renderGrid();
  renderTabs();
  await refresh();
  document.body.dataset.state = 'ready';
  if (KIOSK) startKiosk(modelUrl);
}

if (!TO_KIOSK) {
  main().catch((e) => {
    banner(`${e.code || 'Error'}: ${e.message}`);
    document.body.dataset.state = 'error';
  });
}
