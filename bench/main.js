// main.js - the bench page: runs every case of /config.json one after another, each runtime in
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

const sameTop = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function main() {
  const cfg = window.__config || (await (await fetch('/config.json')).json()); // inlined by run.mjs
  const out = { userAgent: navigator.userAgent, crossOriginIsolated: self.crossOriginIsolated, cases: [], errors: [] };
  for (const [ci, c] of cfg.cases.entries()) {
    const msg = { bundle: c.url, wasm: cfg.wasm, calls: cfg.calls, warmup: cfg.warmup, len: cfg.len, k: cfg.k };
    const r = { name: c.name, items: c.items, dtype: c.dtype };
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
      log(`${c.name}: core fresh p50 ${core.cases.fresh.p50_ms.toFixed(3)} ms, cold ${r.cold_ms.toFixed(1)} ms`);
      if (cfg.peers) {
        const tfr = await runWorker('tf-worker.js', msg);
        r.tf = tfr;
        r.tf_match = sameTop(tfr.topk, core.topk);
        log(`${c.name}: tf fresh p50 ${tfr.cases.fresh.p50_ms.toFixed(3)} ms, top-k ${r.tf_match ? 'equal' : 'DIFFERENT'}`);
        const orr = await runWorker('ort-worker.js', { ...msg, visitor: tfr.visitor });
        delete tfr.visitor;
        r.ort = orr;
        r.ort_match = sameTop(orr.topk, core.topk);
        log(`${c.name}: ort p50 ${orr.cases.score_topk.p50_ms.toFixed(3)} ms, top-k ${r.ort_match ? 'equal' : 'DIFFERENT'}`);
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
