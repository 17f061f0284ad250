// paired.mjs - is a difference of NDCG@k between two models larger than the visitor sampling?
// Reads the per-visitor ranks that `mdsrec eval --ranks --json FILE` writes (one file per model,
// one run per seed), averages each visitor's NDCG@k over a model's seeds, and compares the two
// models visitor by visitor on the same split: the mean difference, its standard error, and a
// paired bootstrap 95 % interval over visitors (seeded, so a rerun prints the same).
//   node tools/reports/paired.mjs A.json B.json [--split test] [--k 10] [--resamples 10000] [--json OUT]
//                                  [--md-row NAME_A,NAME_B]   (one markdown table row instead of prose)
// A and B must rank the same visitors (the same prepared dataset). Ties already count against
// the model in the ranks (MODEL.md section 6).
import fs from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const files = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const split = opt('--split', 'test'), K = Number(opt('--k', 10)), B = Number(opt('--resamples', 10000));
const out = opt('--json', null), mdRow = opt('--md-row', null);
if (files.length !== 2 || !(K >= 1) || !(B >= 100)) {
  console.error('usage: node tools/reports/paired.mjs A.json B.json [--split test] [--k 10] [--resamples 10000] [--json OUT]');
  process.exit(2);
}

// each visitor's NDCG@K, averaged over the runs (seeds) of one file
function perVisitor(file) {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  const runs = (j.runs || []).filter((r) => r.ranks && r.ranks[split]);
  if (!runs.length) throw new Error(`${file}: no "ranks.${split}" (run mdsrec eval with --ranks --json)`);
  const n = runs[0].ranks[split].length;
  if (runs.some((r) => r.ranks[split].length !== n)) throw new Error(`${file}: runs rank different visitors`);
  const v = new Float64Array(n);
  for (const r of runs) r.ranks[split].forEach((rank, u) => { if (rank <= K) v[u] += 1 / Math.log2(rank + 1) / runs.length; });
  return { labels: runs.map((r) => r.label), v };
}

const fail = (msg) => { console.error(`paired.mjs: ${msg}`); process.exit(1); };
let a, b;
try {
  a = perVisitor(files[0]);
  b = perVisitor(files[1]);
} catch (e) {
  fail(e.message);
}
const n = a.v.length;
if (b.v.length !== n) fail(`${files[0]} and ${files[1]} rank ${n} and ${b.v.length} visitors: not the same dataset`);
const d = a.v.map((x, u) => x - b.v[u]);
const mean = (x) => x.reduce((s, y) => s + y, 0) / x.length;
const md = mean(d);
const se = Math.sqrt(d.reduce((s, y) => s + (y - md) ** 2, 0) / (n - 1) / n);

// paired bootstrap over visitors, mulberry32 seeded with 1
let seed = 1;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const means = new Float64Array(B);
let wins = 0;
for (let i = 0; i < B; i++) {
  let s = 0;
  for (let j = 0; j < n; j++) s += d[(rand() * n) | 0];
  means[i] = s / n;
  if (means[i] > 0) wins++;
}
means.sort();
const lo = means[Math.floor(0.025 * B)], hi = means[Math.ceil(0.975 * B) - 1];
const ma = mean(a.v), mb = mean(b.v);
const r = {
  split, k: K, visitors: n, resamples: B,
  a: { file: files[0], runs: a.labels, ndcg: ma }, b: { file: files[1], runs: b.labels, ndcg: mb },
  difference: md, relative: md / mb, se, ci95: [lo, hi], share_a_better: wins / B,
};
const f = (x) => x.toFixed(4);
if (out) fs.writeFileSync(out, JSON.stringify(r, null, 1) + '\n');
if (mdRow) {
  const [na, nb] = mdRow.split(',');
  console.log(`| ${split} | ${na} - ${nb} | ${f(ma)} | ${f(mb)} | ${md >= 0 ? '+' : ''}${f(md)} | ${md >= 0 ? '+' : ''}${(100 * md / mb).toFixed(1)} % | ` +
    `${f(se)} | [${f(lo)}, ${f(hi)}] | ${(100 * wins / B).toFixed(1)} % |`);
  process.exit(0);
}
console.log(`${split} NDCG@${K} over ${n} visitors (each the mean of a model's ${a.labels.length} / ${b.labels.length} seeds):`);
console.log(`  A ${f(ma)}  B ${f(mb)}  A - B ${f(md)} (${(100 * md / mb).toFixed(1)} %), SE ${f(se)}, ` +
  `bootstrap 95 % [${f(lo)}, ${f(hi)}], A ahead in ${(100 * wins / B).toFixed(1)} % of ${B} resamples`);
