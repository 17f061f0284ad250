// bundle.js - reads a model bundle (models/FORMAT.md, v1 to v3) in JS for the peers, so that
// TF.js and onnxruntime-web run on the very weights the core reads: f16 and q8 weights and pq
// item rows are decoded here to the floats the core decodes them to. No validation beyond what finding
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

// IEEE binary16 bits -> the float they denote (exact; FORMAT.md forbids Inf and NaN).
function f16(h) {
  const e = (h >> 10) & 31, m = h & 1023, s = h & 0x8000 ? -1 : 1;
  return e ? s * 2 ** (e - 15) * (1 + m / 1024) : s * 2 ** -14 * (m / 1024);
}

// A float array of n values stored in the bundle's weight dtype (FORMAT.md "Weight dtype"),
// decoded as the core decodes it at open: f16 exactly, q8 as float(scale) * code in binary32.
function weights(buf, off, size, wdt, n) {
  if (wdt === 0) return new Float32Array(buf, off, n);
  const out = new Float32Array(n), dv = new DataView(buf, off, size);
  if (wdt === 1) for (let i = 0; i < n; i++) out[i] = f16(dv.getUint16(2 * i, true));
  else if (wdt === 2)
    for (let i = 0; i < n; i++) {
      const b = 36 * (i >> 5);
      out[i] = Math.fround(dv.getFloat32(b, true) * dv.getInt8(b + 4 + (i & 31)));
    }
  else throw new Error(`bundle: weight dtype ${wdt} unknown`);
  return out;
}

// pq rows (N x m codes) and their codebook (m x 256 x d/m floats) back to N x d floats:
// the very rows the core's lookup tables score (FORMAT.md "PQ items").
function pqDecode(codes, book, n, d, m) {
  const s = d / m, rows = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const c = (j * 256 + codes[i * m + j]) * s;
      for (let t = 0; t < s; t++) rows[i * d + j * s + t] = book[c + t];
    }
  return rows;
}

self.readBundle = function readBundle(buf) {
  const dv = new DataView(buf);
  const magic = [0x4d, 0x44, 0x53, 0x42, 0x0d, 0x0a, 0x1a, 0x0a];
  for (let i = 0; i < 8; i++) if (dv.getUint8(i) !== magic[i]) throw new Error('not a bundle');
  const version = dv.getUint32(8, true), count = dv.getUint32(20, true);
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
                itemLayout: u(44), weightDtype: u(48), pqM: u(52) };
  const { dim: d, ffnDim: f, nBlocks: B, nItems: N, nChannels: C } = cfg;
  const w = (kind, ch, n) => { const s = get(kind, ch); return weights(buf, s.off, s.size, cfg.weightDtype, n); };
  const channels = [];
  for (let ch = 0; ch < C; ch++) {
    const it = get(4, ch);
    let items;
    if (cfg.itemDtype === 0) items = new Float32Array(buf, it.off, it.size / 4);
    else if (cfg.itemDtype === 1) items = weights(buf, it.off, it.size, 1, N * d);
    else if (cfg.itemDtype === 2) items = new Int8Array(buf, it.off, it.size);
    else if (cfg.itemDtype === 3) items = pqDecode(new Uint8Array(buf, it.off, it.size), f32(14, ch), N, d, cfg.pqM);
    else throw new Error(`bundle: item dtype ${cfg.itemDtype} unknown`);
    if (cfg.itemLayout === 1) items = unpanel(items, N, d);
    const scales = cfg.itemDtype === 2 ? f32(5, ch) : null;
    const pos = w(6, ch, cfg.maxLen * d);
    // ENCODER in FORMAT.md order
    // v3: each channel's own depth in its CONFIG record (FORMAT.md "Version 3")
    const Bc = version >= 3 ? u(64 + 32 * ch + 28) : B;
    const enc = w(7, ch, 2 * d + Bc * (4 * d * d + 4 * d + 4 * d + 2 * f * d + f + d));
    let p = 0;
    const take = (n) => { const v = enc.subarray(p, p + n); p += n; return v; };
    const lnInG = take(d), lnInB = take(d);
    const blocks = [];
    for (let b = 0; b < Bc; b++) {
      blocks.push({ wq: take(d * d), bq: take(d), wk: take(d * d), bk: take(d), wv: take(d * d), bv: take(d),
                    wo: take(d * d), bo: take(d), ln1g: take(d), ln1b: take(d), w1: take(f * d), b1: take(f),
                    w2: take(d * f), b2: take(d), ln2g: take(d), ln2b: take(d) });
    }
    let pool = null;
    if (cfg.poolMode !== 0) {
      const pl = w(8, ch, 3 * d * d + 6 * d);
      let q = 0;
      const tk = (n) => { const v = pl.subarray(q, q + n); q += n; return v; };
      pool = { wq: tk(d * d), bq: tk(d), wk: tk(d * d), bk: tk(d), wv: tk(d * d), bv: tk(d), lng: tk(d), lnb: tk(d), token: tk(d) };
    }
    channels.push({ items, scales, pos, lnInG, lnInB, blocks, pool });
  }
  const gate = w(9, 'g', C * C * d + C);
  return { cfg, channels, gateW: gate.subarray(0, C * C * d), gateB: gate.subarray(C * C * d, C * C * d + C) };
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
