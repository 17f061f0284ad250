// tf-worker.js - the TensorFlow.js peer (tfjs-core + tfjs-backend-wasm, SIMD, one thread):
// the same forward pass (FORMAT.md "The forward pass") and scoring, with the same weights read
// from the same bundle (bundle.js), at its fastest honest layout:
//  - every weight matrix transposed once at load to [in][out], so each layer is an
//    untransposed matMul(x[n, in], W[in, out]) (the transposed forms are several times slower);
//  - the item matrices as ONE [C*d, N] matrix, scored by matMul(user[1, C*d], items[C*d, N]);
//    i8 bundles are dequantized into it (TF.js has no int8 matmul) and the visitor vector is
//    quantized per channel exactly as the core does, then dequantized, so both rank the same.
// Only the top-k values and indices are read back (dataSync) inside the timed region.
'use strict';
importScripts('bundle.js', '/node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js',
              '/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');

function buildModel(B) {
  const { cfg } = B;
  const { dim: d, nChannels: C, nItems: N, nHeads: H, maxLen: L } = cfg;
  if (cfg.poolMode > 1) throw new Error('tf peer: pool modes none and last only');
  const lin = (w, b, dout, din) => ({ w: tf.tidy(() => tf.transpose(tf.tensor2d(w, [dout, din]))), b: tf.tensor1d(b) });
  const vec = (v) => tf.tensor1d(v);
  const chans = B.channels.map((ch) => ({
    pos: tf.tensor2d(ch.pos, [L, d]),
    lnIn: [vec(ch.lnInG), vec(ch.lnInB)],
    blocks: ch.blocks.map((b) => ({
      q: lin(b.wq, b.bq, d, d), k: lin(b.wk, b.bk, d, d), v: lin(b.wv, b.bv, d, d), o: lin(b.wo, b.bo, d, d),
      ln1: [vec(b.ln1g), vec(b.ln1b)], f1: lin(b.w1, b.b1, cfg.ffnDim, d), f2: lin(b.w2, b.b2, d, cfg.ffnDim),
      ln2: [vec(b.ln2g), vec(b.ln2b)],
    })),
    pool: ch.pool && { q: lin(ch.pool.wq, ch.pool.bq, d, d), k: lin(ch.pool.wk, ch.pool.bk, d, d),
                       v: lin(ch.pool.wv, ch.pool.bv, d, d), ln: [vec(ch.pool.lng), vec(ch.pool.lnb)] },
  }));
  // the item matrix [C*d, N], dequantized for i8 (the same floats the core's item_row() makes)
  const M = new Float32Array(C * d * N);
  B.channels.forEach((ch, c) => {
    for (let i = 0; i < N; i++) {
      const s = ch.scales ? ch.scales[i] : 1;
      for (let k = 0; k < d; k++) {
        const v = ch.items[i * d + k];
        M[(c * d + k) * N + i] = ch.scales ? Math.fround(s * v) : v;
      }
    }
  });
  const items = tf.tensor2d(M, [C * d, N]);
  const gate = lin(B.gateW, B.gateB, C, C * d);
  // causal mask: 0 on and below the diagonal, a huge negative above (exp gives exactly 0)
  const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([L, L]), -1, 0)), -1e30));
  return { cfg, chans, items, gate, mask, H };
}

const layerNorm = (x, [g, b], eps) => {
  const xc = tf.sub(x, tf.mean(x, -1, true));
  const v = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(v, eps))), g), b);
};
const dense = (x, l) => tf.add(tf.matMul(x, l.w), l.b);
const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));

// The visitor vector (gate-scaled, quantized for i8) for history idx (Int32Array).
function visitor(m, idx) {
  const { cfg, chans, H } = m;
  const { dim: d, nChannels: C, lnEps: eps } = cfg;
  const n = idx.length, dh = d / H;
  const ids = tf.tensor1d(idx, 'int32');
  const rowsAll = tf.transpose(tf.gather(m.items, ids, 1)); // [n, C*d]
  const mask = tf.slice(m.mask, [0, 0], [n, n]);
  const us = chans.map((ch, c) => {
    let z = layerNorm(tf.add(tf.slice(rowsAll, [0, c * d], [n, d]), tf.slice(ch.pos, [0, 0], [n, d])), ch.lnIn, eps);
    for (const b of ch.blocks) {
      const heads = (t) => tf.transpose(tf.reshape(t, [n, H, dh]), [1, 0, 2]);
      const q = heads(dense(z, b.q)), k = heads(dense(z, b.k)), v = heads(dense(z, b.v));
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), mask));
      const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [1, 0, 2]), [n, d]);
      z = layerNorm(tf.add(z, dense(ctx, b.o)), b.ln1, eps);
      z = layerNorm(tf.add(z, dense(gelu(dense(z, b.f1)), b.f2)), b.ln2, eps);
    }
    const last = tf.slice(z, [n - 1, 0], [1, d]);
    if (!ch.pool) return last;
    const pq = dense(last, ch.pool.q), pk = dense(z, ch.pool.k), pv = dense(z, ch.pool.v);
    const a = tf.softmax(tf.mul(tf.matMul(pq, pk, false, true), 1 / Math.sqrt(d)));
    return layerNorm(tf.add(last, tf.matMul(a, pv)), ch.pool.ln, eps);
  });
  const u = tf.concat(us, 1); // [1, C*d]
  const g = tf.softmax(dense(u, m.gate)); // [1, C]
  let q = tf.mul(tf.reshape(u, [C, d]), tf.reshape(g, [C, 1]));
  if (cfg.itemDtype === 2) {
    // per channel: s = max|q|/127, q8 = round-half-even(q/s) in [-127, 127], back to floats
    const s = tf.div(tf.max(tf.abs(q), 1, true), 127);
    const pos = tf.greater(s, 0);
    const q8 = tf.clipByValue(tf.round(tf.div(q, tf.where(pos, s, tf.onesLike(s)))), -127, 127);
    q = tf.mul(tf.where(tf.tile(pos, [1, d]), q8, tf.zerosLike(q)), s);
  }
  return tf.reshape(q, [1, C * d]);
}

function recommend(m, hist, k) {
  const out = tf.tidy(() => {
    const q = visitor(m, Int32Array.from(hist));
    const { values, indices } = tf.topk(tf.reshape(tf.matMul(q, m.items), [-1]), k + hist.length);
    return [values, indices, q];
  });
  const vals = out[0].dataSync(), idx = out[1].dataSync();
  const q = out[2];
  out[0].dispose(), out[1].dispose();
  // the history is excluded, as the core does by default
  const seen = new Set(hist), items = [], scores = [];
  for (let i = 0; i < idx.length && items.length < k; i++)
    if (!seen.has(idx[i])) items.push(idx[i]), scores.push(vals[i]);
  return { items, scores, q };
}

onmessage = async ({ data: o }) => {
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    await tf.setBackend('wasm');
    await tf.ready();
    const t0 = performance.now();
    const buf = await (await fetch(o.bundle)).arrayBuffer();
    const m = buildModel(readBundle(buf));
    const load_ms = performance.now() - t0;
    const N = m.cfg.nItems;
    const hist = new Array(o.len);
    caseHistory('fresh', 0, o.len, N, hist);
    const first = recommend(m, hist, o.k);
    const qv = first.q.dataSync().slice();
    first.q.dispose();
    const cases = {};
    for (const kind of ['fresh', 'append']) {
      const times = [];
      for (let c = 0; c < o.warmup + o.calls; c++) {
        caseHistory(kind, c + 1, o.len, N, hist);
        const t = performance.now();
        recommend(m, hist, o.k).q.dispose();
        const dt = performance.now() - t;
        if (c >= o.warmup) times.push(dt);
      }
      cases[kind] = quantiles(times);
    }
    postMessage({ type: 'done', topk: first.items, scores: first.scores, cases, load_ms, visitor: qv,
                  backend: tf.getBackend(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
                  threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') });
  } catch (e) {
    postMessage({ type: 'error', message: String(e && e.stack || e) });
  }
};
