// bundle.js - reads a model bundle (models/FORMAT.md) in JS for the peers, so that TF.js and
// onnxruntime-web run on the very weights the core reads. No validation beyond what finding
// the sections needs: the core's loader validates the same file in the same run.
// Classic-worker script (importScripts): defines self.readBundle.
'use strict';

// f32 rows in panels of 16 (FORMAT.md, "Item layout") back to row-major, as the peers want them.
function unpanel(p, n, d) {
  const rows = new Float32Array(n * d), full = n - (n % 16);
  for (let b = 0; b < full; b += 16)
    for (let j = 0; j < d; j++)
      for (let r = 0; r < 16; r++) rows[(b + r) * d + j] = p[b * d + j * 16 + r];
  rows.set(p.subarray(full * d), full * d);
  return rows;
}

self.readBundle = function readBundle(buf) {
  const dv = new DataView(buf);
  const magic = [0x4d, 0x44, 0x53, 0x42, 0x0d, 0x0a, 0x1a, 0x0a];
  for (let i = 0; i < 8; i++) if (dv.getUint8(i) !== magic[i]) throw new Error('not a bundle');
  const count = dv.getUint32(20, true);
  const sec = new Map(); // "kind:channel" -> {off, size}
  for (let i = 0; i < count; i++) {
    const e = 64 + 32 * i;
    const kind = dv.getUint32(e, true), ch = dv.getUint32(e + 4, true);
    const off = Number(dv.getBigUint64(e + 8, true)), size = Number(dv.getBigUint64(e + 16, true));
    sec.set(`${kind}:${ch === 0xffffffff ? 'g' : ch}`, { off, size });
  }
  const get = (kind, ch = 'g') => {
    const s = sec.get(`${kind}:${ch}`);
    if (!s) throw new Error(`bundle: section ${kind} (${ch}) missing`);
    return s;
  };
  const f32 = (kind, ch) => { const s = get(kind, ch); return new Float32Array(buf, s.off, s.size / 4); };
  const c = get(1);
  const u = (o) => dv.getUint32(c.off + o, true);
  const cfg = { nItems: u(0), dim: u(4), nChannels: u(8), maxLen: u(12), nBlocks: u(16), nHeads: u(20),
                ffnDim: u(24), itemDtype: u(28), poolMode: u(32), lnEps: dv.getFloat32(c.off + 40, true),
                itemLayout: u(44) };
  if (cfg.itemDtype === 1) throw new Error('bundle: the peers read f32 and i8 bundles only');
  const { dim: d, ffnDim: f, nBlocks: B } = cfg;
  const channels = [];
  for (let ch = 0; ch < cfg.nChannels; ch++) {
    const it = get(4, ch);
    let items = cfg.itemDtype === 0 ? new Float32Array(buf, it.off, it.size / 4) : new Int8Array(buf, it.off, it.size);
    if (cfg.itemLayout === 1) items = unpanel(items, cfg.nItems, d);
    const scales = cfg.itemDtype === 2 ? f32(5, ch) : null;
    const pos = f32(6, ch);
    // ENCODER in FORMAT.md order
    const enc = f32(7, ch);
    let p = 0;
    const take = (n) => { const v = enc.subarray(p, p + n); p += n; return v; };
    const lnInG = take(d), lnInB = take(d);
    const blocks = [];
    for (let b = 0; b < B; b++) {
      blocks.push({ wq: take(d * d), bq: take(d), wk: take(d * d), bk: take(d), wv: take(d * d), bv: take(d),
                    wo: take(d * d), bo: take(d), ln1g: take(d), ln1b: take(d), w1: take(f * d), b1: take(f),
                    w2: take(d * f), b2: take(d), ln2g: take(d), ln2b: take(d) });
    }
    let pool = null;
    if (cfg.poolMode !== 0) {
      const pl = f32(8, ch);
      let q = 0;
      const tk = (n) => { const v = pl.subarray(q, q + n); q += n; return v; };
      pool = { wq: tk(d * d), bq: tk(d), wk: tk(d * d), bk: tk(d), wv: tk(d * d), bv: tk(d), lng: tk(d), lnb: tk(d), token: tk(d) };
    }
    channels.push({ items, scales, pos, lnInG, lnInB, blocks, pool });
  }
  const gate = f32(9);
  const C = cfg.nChannels;
  return { cfg, channels, gateW: gate.subarray(0, C * C * d), gateB: gate.subarray(C * C * d) };
};

// The bench's histories: the same formula as tools/cmd_bench.c's bench_history.
self.benchHistory = function benchHistory(j, t, n) {
  return ((Math.imul(j, 2654435761) + Math.imul(t, 40503) + 17) >>> 0) % n;
};

// History of call j for a case: 'fresh' (all new) or 'append' (call 0's first len-1 items,
// a new last click).
self.caseHistory = function caseHistory(kind, j, len, n, out) {
  for (let t = 0; t < len; t++) out[t] = kind === 'append' && t + 1 < len ? benchHistory(0, t, n) : benchHistory(j, t, n);
  return out;
};

self.quantiles = function quantiles(times) {
  const t = Float64Array.from(times).sort();
  const q = (p) => t[Math.min(t.length - 1, Math.round(p * (t.length - 1)))];
  return { p50_ms: q(0.5), p95_ms: q(0.95), min_ms: t[0], n: t.length };
};
