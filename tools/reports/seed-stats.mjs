// seed-stats.mjs - what the term tables (coclick-table.mjs, repeat-table.mjs) compute over the
// seeds of a model and over the visitors of a split: a mean ± sample std, each visitor's NDCG@10
// averaged over the seeds, and a paired mean difference with its 95 % normal interval.

/** NDCG@10 of one rank (ties already count against the model in the ranks, MODEL.md 6). */
export const nd = (r) => (r <= 10 ? 1 / Math.log2(r + 1) : 0);

/** "mean ± sample std" of xs, 4 decimals. */
export const meanStd = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return `${m.toFixed(4)} ± ${s.toFixed(4)}`;
};

/** Each visitor's NDCG@10 averaged over the runs; ranks(run) gives one run's ranks. */
export const perVisitor = (runs, ranks) => {
  const n = ranks(runs[0]).length, v = new Float64Array(n);
  for (const r of runs) ranks(r).forEach((rank, u) => { v[u] += nd(rank) / runs.length; });
  return v;
};

/** a - b visitor by visitor: "+mean [low, high] (+relative %)". */
export const paired = (a, b) => {
  let s = 0, s2 = 0, base = 0;
  for (let u = 0; u < a.length; u++) { const d = a[u] - b[u]; s += d; s2 += d * d; base += b[u]; }
  const n = a.length, m = s / n, se = Math.sqrt((s2 / n - m * m) / (n - 1));
  const f = (x) => (x >= 0 ? '+' : '') + x.toFixed(4);
  const rel = (100 * m) / (base / n);
  return `${f(m)} [${f(m - 1.96 * se)}, ${f(m + 1.96 * se)}] (${rel >= 0 ? '+' : ''}${rel.toFixed(1)} %)`;
};
