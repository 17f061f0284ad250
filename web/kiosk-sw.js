// kiosk-sw.js - the kiosk's service worker: precaches the page, the scripts and both wasm
// builds on install, then (asked by the page) the model bundle and its images, and answers
// from that cache so the kiosk keeps recommending with the network cable pulled.
// Pages: network first, cache when offline. Everything else: cache first.
const CACHE = 'mdsrec-kiosk-v1';
const SHELL = ['kiosk.html', 'demo/app.js', 'demo/style.css', 'demo/icon.svg', 'demo/lock.svg', 'mdsrec.js', 'worker.js',
  'render.js', 'wasm/mdsrec-simd.wasm', 'wasm/mdsrec-scalar.wasm'];

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

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    ev.respondWith(fetch(req).then((res) => {
      if (res.ok) {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(req, copy));
      }
      return res;
    }).catch(() => caches.match(req).then((hit) => hit || caches.match(req, { ignoreSearch: true }))
      .then((hit) => hit || new Response('offline', { status: 503 }))));
    return;
  }
  ev.respondWith(caches.match(req, { ignoreSearch: false }).then((hit) => hit || fetch(req).then((res) => {
    if (res.ok && res.type === 'basic') {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(req, copy));
    }
    return res;
  })));
});
