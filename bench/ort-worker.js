// ort-worker.js - the onnxruntime-web peer (wasm backend, one thread): scoring and top-k
// alone, as Gemm(user[1, C*d], items[N, C*d], transB = 1) with the item matrix a constant
// initializer, then TopK (onnx.js writes the model). i8 bundles are dequantized into the
// initializer. The visitor vector comes from the TF.js peer's forward for history 0, so the
// top-k can be compared with the core's; it does not change the cost of the timed calls.
'use strict';
importScripts('bundle.js', 'onnx.js', '/node_modules/onnxruntime-web/dist/ort.wasm.min.js');

onmessage = async ({ data: o }) => {
  try {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    const t0 = performance.now();
    const B = readBundle(await (await fetch(o.bundle)).arrayBuffer());
    const { nItems: N, dim: d, nChannels: C } = B.cfg;
    const D = C * d;
    let items = new Float32Array(N * D);
    B.channels.forEach((ch, c) => {
      for (let i = 0; i < N; i++)
        for (let k = 0; k < d; k++)
          items[i * D + c * d + k] = ch.scales ? Math.fround(ch.scales[i] * ch.items[i * d + k]) : ch.items[i * d + k];
    });
    const K = o.k + o.len;
    let model = buildGemmTopK(N, D, K, items);
    items = null;
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    model = null;
    const load_ms = performance.now() - t0;
    const user = new ort.Tensor('float32', Float32Array.from(o.visitor), [1, D]);
    const hist = new Set(caseHistory('fresh', 0, o.len, N, new Array(o.len)));
    const run = async () => {
      const r = await session.run({ user });
      const idx = r.indices.data, vals = r.values.data, items = [], scores = [];
      for (let i = 0; i < idx.length && items.length < o.k; i++)
        if (!hist.has(Number(idx[i]))) items.push(Number(idx[i])), scores.push(vals[i]);
      r.indices.dispose?.(), r.values.dispose?.();
      return { items, scores };
    };
    const first = await run();
    const times = [];
    for (let c = 0; c < o.warmup + o.calls; c++) {
      const t = performance.now();
      await run();
      const dt = performance.now() - t;
      if (c >= o.warmup) times.push(dt);
    }
    postMessage({ type: 'done', topk: first.items, scores: first.scores, cases: { score_topk: quantiles(times) }, load_ms });
    await session.release();
  } catch (e) {
    postMessage({ type: 'error', message: String(e && e.stack || e) });
  }
};
