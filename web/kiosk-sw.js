// kiosk-sw.js - the kiosk's service worker: precaches the page, the scripts and the wasm
// builds (the relaxed one where deployed) on install, then (asked by the page) the model
// bundle and its images, and answers from that cache so the kiosk keeps recommending with the
// network cable pulled.
const CACHE = 'mdsrec-kiosk-v1';
const SHELL = ['kiosk.html', 'demo/app.js', 'demo/style.css', 'demo/icon.svg', 'demo/lock.svg', 'mdsrec.js', 'worker.js',
  'render.js', 'wasm/mdsrec-relaxed.wasm', 'wasm/mdsrec-simd.wasm', 'wasm/mdsrec-scalar.wasm'];

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE)
    .then((c) => Promise.all(SHELL.map((u) => c.add(new URL(u, self.registration.scope)).catch(() => {}))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));

self.addEventListener('message', (ev) => {
  const { data } = ev;
  const port = ev.ports[0];
  if (!data || data.type !== 'precache' || !Array.isArray(data.urls)) return;
  const same = data.urls.filter((u) => new URL(u).origin === self.location.origin);
  ev.waitUntil(caches.open(CACHE)
    .then((c) => Promise.all(same.map((u) => c.match(u).then((hit) => hit || c.add(u)))))
    .then(() => port && port.postMessage({ ok: true }), (e) => port && port.postMessage({ ok: false, error: String(e) })));
});

// Network first, so that online the pages behave as without a service worker (and the
// storefront at / that this root-scoped worker also controls is never served stale); the
// cache when the network fails. The root scope is needed: the core's Worker (/worker.js) and
// its imports must be controlled too. The shim keeps the wasm and the bundle in its own cache,
// so online loads do not download them again either.
self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  ev.respondWith(fetch(req).then((res) => {
    if (res.ok && res.type === 'basic') {
      const copy = res.clone();
      ev.waitUntil(caches.open(CACHE).then((c) => c.put(req, copy)));
    }
    return res;
  }, () => caches.match(req).then((hit) => hit || (req.mode === 'navigate' && caches.match(req, { ignoreSearch: true })))
    .then((hit) => hit || new Response('offline', { status: 503, headers: { 'content-type': 'text/plain' } }))));
});
