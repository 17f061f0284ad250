// core-worker.js - the mdsrec core (web/wasm/mdsrec-simd.wasm, standalone, no Emscripten glue)
// in a dedicated Worker, single thread. Loads like a store's page would: instantiateStreaming,
// then the bundle streamed from fetch() straight into the wasm heap (no second full copy in JS),
// open (checksums + validation), the first recommendation, then the timed calls. Inside the
// timed region: writing the history into the heap, the call, and copying the k result items
// out - nothing else crosses the JS boundary. o.cand ([1, popular head, hops, neighbours], bench/candidates.mjs)
// adds the case 'candidate': the fresh histories in candidate mode.
'use strict';

const now = () => performance.timeOrigin + performance.now(); // absolute ms, comparable with the page's

const STUBS = {
  env: { emscripten_notify_memory_growth() {} },
  wasi_snapshot_preview1: {
    proc_exit(code) { throw new Error(`wasm called proc_exit(${code})`); },
    fd_write() { return 52; }, fd_close() { return 52; }, fd_seek() { return 52; },
  },
};

onmessage = async ({ data: o }) => {
  try {
    const T = { start: now() };
    const bundleResponse = fetch(o.bundle); // asked for at once: it downloads while the core compiles
    const compiled = WebAssembly.instantiateStreaming(fetch(o.wasm), STUBS);
    importScripts('bundle.js'); // the histories and quantiles, once both requests are out
    const { instance } = await compiled;
    const x = instance.exports;
    x._initialize?.();
    T.compiled = now();

    const res = await bundleResponse;
    const len = Number(res.headers.get('Content-Length'));
    const p = x.mdsrec_wasm_alloc(len);
    if (!p) throw new Error('wasm: out of memory for the bundle');
    const reader = res.body.getReader();
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      new Uint8Array(x.memory.buffer, p + at, value.length).set(value);
      at += value.length;
    }
    if (at !== len) throw new Error(`bundle: ${at} bytes read, ${len} announced`);
    T.fetched = now(); // compile and fetch overlap: 'fetch' below is what remained after compiling
    const st = x.mdsrec_wasm_open(p, len);
    if (st) {
      const m = new Uint8Array(x.memory.buffer, x.mdsrec_wasm_error_message());
      throw new Error(`open: ${new TextDecoder().decode(m.subarray(0, m.indexOf(0)))}`);
    }
    T.opened = now();
    const N = x.mdsrec_wasm_info_n_items();
    const hp = x.mdsrec_wasm_alloc(4 * o.len); // the history buffer, reused by every call
    const hist = new Uint32Array(o.len);
    const recommend = (cand = []) => {
      new Uint32Array(x.memory.buffer, hp, o.len).set(hist);
      const n = x.mdsrec_wasm_recommend(hp, o.len, o.k, 0, 0, 0, 0, 0, 0, ...cand);
      if (n < 0) throw new Error(`recommend: status ${-n}`);
      return new Uint32Array(x.memory.buffer, x.mdsrec_wasm_result_items(), n).slice();
    };
    caseHistory('fresh', 0, o.len, N, hist);
    const top = recommend();
    const scores = new Float32Array(x.memory.buffer, x.mdsrec_wasm_result_scores(), top.length).slice();
    T.first = now();
    postMessage({ type: 'first', t: T.first });

    const cases = {};
    for (const kind of o.cand ? ['fresh', 'append', 'candidate'] : ['fresh', 'append']) {
      const times = [];
      for (let c = 0; c < o.warmup + o.calls; c++) {
        caseHistory(kind, c + 1, o.len, N, hist);
        const t0 = performance.now();
        recommend(kind === 'candidate' ? o.cand : []);
        const dt = performance.now() - t0;
        if (c >= o.warmup) times.push(dt);
      }
      cases[kind] = quantiles(times);
    }
    const kern = new Uint8Array(x.memory.buffer, x.mdsrec_wasm_kernels());
    postMessage({
      type: 'done', T, topk: Array.from(top), scores: Array.from(scores), cases,
      heap_bytes: x.memory.buffer.byteLength, bundle_bytes: len,
      kernels: new TextDecoder().decode(kern.subarray(0, kern.indexOf(0))),
    });
  } catch (e) {
    postMessage({ type: 'error', message: String(e && e.stack || e) });
  }
};
