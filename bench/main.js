// main.js - the bench page: runs every case of /config.json one after another, each core build
// (config.builds, the first the reference) and each peer in
// its own dedicated Worker (so one never shares a thread, a heap or a warm cache with another)
// and terminated before the next starts. The first case is loaded first thing after page start,
// so its cold start is measured from the page's own time origin ("page start to first
// recommendation"); later cases count from the moment their Worker is created.
// Results go to window.__bench for the runner (run.mjs).

const log = (s) => { document.getElementById('log').textContent += '\n' + s; };

function runWorker(script, msg, onFirst) {
  return new Promise((resolve, reject) => {
    const w = new Worker(script);
    w.onmessage = ({ data }) => {
      if (data.type === 'first') return onFirst && onFirst(data);
      w.terminate();
      if (data.type === 'error') reject(new Error(`${script}: ${data.message}`));
      else resolve(data);
    };
    w.onerror = (e) => { w.terminate(); reject(new Error(`${script}: ${e.message}`)); };
    w.postMessage(msg);
  });
}

// A runtime's top-k against the reference's: 'equal' (items and order), 'ties' when every
// difference is a swap among scores equal to `tol` x the largest |score| of the reference's
// list (float sums in another order, e.g. pq lookup tables against a matmul over the decoded
// rows, or FMA in the encoder), else 'different'.
const TIE_TOL = 1e-4;
function compareTop(a, sa, b, sb) {
  if (a.length !== b.length) return 'different';
  if (a.every((x, i) => x === b[i])) return 'equal';
  const eps = TIE_TOL * Math.max(...sa.map(Math.abs), 1e-30), last = sa.length - 1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (!(Math.abs(sa[i] - sb[i]) <= eps)) return 'different';
    const j = a.indexOf(b[i]);
    if (!(Math.abs(sa[j >= 0 ? j : last] - sa[i]) <= 2 * eps)) return 'different';
  }
  return 'ties';
}

async function main() {
  const cfg = window.__config || (await (await fetch('/config.json')).json()); // inlined by run.mjs
  const out = { userAgent: navigator.userAgent, crossOriginIsolated: self.crossOriginIsolated, cases: [], errors: [] };
  for (const [ci, c] of cfg.cases.entries()) {
    const msg = { bundle: c.url, wasm: cfg.builds[0].wasm, calls: cfg.calls, warmup: cfg.warmup, len: cfg.len, k: cfg.k };
    const r = { name: c.name, items: c.items, format: c.format, dtype: c.dtype };
    try {
      const spawn = performance.timeOrigin + performance.now();
      const from = ci === 0 ? performance.timeOrigin : spawn;
      const core = await runWorker('core-worker.js', msg);
      r.core = core;
      r.cold_ms = core.T.first - from;
      r.cold_from = ci === 0 ? 'page start' : 'worker start';
      r.load = { page_ms: ci === 0 ? spawn - performance.timeOrigin : 0, worker_ms: core.T.start - spawn, compile_ms: core.T.compiled - core.T.start,
                 fetch_ms: core.T.fetched - core.T.compiled, open_ms: core.T.opened - core.T.fetched,
                 first_ms: core.T.first - core.T.opened };
      log(`${c.name}: core ${cfg.builds[0].name} fresh p50 ${core.cases.fresh.p50_ms.toFixed(3)} ms, cold ${r.cold_ms.toFixed(1)} ms`);
      // the other core builds on the same bundle; their top-k against the first build's
      r.builds = {};
      for (const b of cfg.builds.slice(1)) {
        const br = await runWorker('core-worker.js', { ...msg, wasm: b.wasm, calls: b.calls, warmup: b.warmup });
        r.builds[b.name] = { kernels: br.kernels, cases: br.cases, topk: br.topk, scores: br.scores,
                             match: compareTop(core.topk, core.scores, br.topk, br.scores) };
        log(`${c.name}: core ${b.name} (${br.kernels}) fresh p50 ${br.cases.fresh.p50_ms.toFixed(3)} ms, top-k ${r.builds[b.name].match}`);
      }
      if (cfg.peers) {
        const tfr = await runWorker('tf-worker.js', msg);
        r.tf = tfr;
        r.tf_match = compareTop(core.topk, core.scores, tfr.topk, tfr.scores);
        log(`${c.name}: tf fresh p50 ${tfr.cases.fresh.p50_ms.toFixed(3)} ms, top-k ${r.tf_match}`);
        const orr = await runWorker('ort-worker.js', { ...msg, visitor: tfr.visitor });
        delete tfr.visitor;
        r.ort = orr;
        r.ort_match = compareTop(core.topk, core.scores, orr.topk, orr.scores);
        log(`${c.name}: ort p50 ${orr.cases.score_topk.p50_ms.toFixed(3)} ms, top-k ${r.ort_match}`);
      }
    } catch (e) {
      r.error = String(e.message || e);
      out.errors.push(`${c.name}: ${r.error}`);
      log(`${c.name}: ERROR ${r.error}`);
    }
    out.cases.push(r);
  }
  window.__bench = out;
  log('done');
}
main().catch((e) => { window.__bench = { fatal: String(e.stack || e) }; });
