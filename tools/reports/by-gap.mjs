// by-gap.mjs - NDCG@10 of several models split by how long after the visitor's previous click
// the target came. In leave-one-out the test target is the last interaction and the validation
// target the one before; when a dataset's timestamps are coarse (MovieLens: seconds, with many
// ratings sent in one second), a target in the same second as the click before it is ordered
// only by the file's line order. This separates those targets from the ones after a real gap.
//   node tools/reports/by-gap.mjs --inter FILE.inter --prep PREP_DIR A.json [B.json ...] [--k 10] [--json OUT]
// FILE.inter: the RecBole atomic file `mdsrec prepare` read (tab-separated, a header naming
// user_id, item_id and timestamp columns). PREP_DIR: its prepared directory (sequences.tsv,
// items.txt). A.json ...: `mdsrec eval --ranks --json` files on that prepared data; each
// visitor's NDCG is averaged over a file's runs (seeds). The script checks that every visitor's
// last two items in the prepared data are those of the interaction file, sorted by time and
// then line (prepare's order), and stops with an error otherwise. A second table gives the
// first model's difference from each other model per bucket, with its standard error.
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const files = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const inter = opt('--inter', null), prep = opt('--prep', null), K = Number(opt('--k', 10)), out = opt('--json', null);
if (!inter || !prep || !files.length || !(K >= 1)) {
  console.error('usage: node tools/reports/by-gap.mjs --inter FILE.inter --prep PREP_DIR A.json [B.json ...] [--k 10] [--json OUT]');
  process.exit(2);
}
const fail = (msg) => { console.error(`by-gap.mjs: ${msg}`); process.exit(1); };
const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch (e) { return fail(`${f}: ${e.message}`); } };

// the interaction file: each user's (time, line, item), sorted as prepare sorts them
const lines = read(inter).split('\n');
const head = lines[0].split('\t').map((h) => h.split(':')[0]);
const col = (name) => { const c = head.indexOf(name); if (c < 0) fail(`${inter}:1: no "${name}" column in the header`); return c; };
const cu = col('user_id'), ci = col('item_id'), ct = col('timestamp');
const byUser = new Map();
for (let n = 1; n < lines.length; n++) {
  if (!lines[n]) continue;
  const f = lines[n].split('\t');
  const t = Number(f[ct]);
  if (!Number.isFinite(t)) fail(`${inter}:${n + 1}: timestamp "${f[ct]}" is not a number`);
  if (!byUser.has(f[cu])) byUser.set(f[cu], []);
  byUser.get(f[cu]).push({ t, n, item: f[ci] });
}
for (const v of byUser.values()) v.sort((a, b) => a.t - b.t || a.n - b.n);

// the prepared visitors, in the order eval ranks them
const items = read(path.join(prep, 'items.txt')).split('\n').filter((x) => x);
const seqs = read(path.join(prep, 'sequences.tsv')).split('\n').filter((x) => x).map((l, n) => {
  const [user, list] = l.split('\t');
  const s = (list || '').split(' ').filter((x) => x).map((x) => items[Number(x)]);
  const v = byUser.get(user);
  if (!v || v.length < 3 || s.length < 3) fail(`${prep}/sequences.tsv:${n + 1}: user ${user} has fewer than 3 interactions in ${inter}`);
  for (const back of [1, 2])
    if (v[v.length - back].item !== s[s.length - back])
      fail(`${prep}/sequences.tsv:${n + 1}: user ${user}'s item ${back} from the end is ${s[s.length - back]} there and ${v[v.length - back].item} in ${inter}`);
  // seconds between each target and the click before it
  return { test: v[v.length - 1].t - v[v.length - 2].t, valid: v[v.length - 2].t - v[v.length - 3].t };
});

const models = files.map((file) => {
  const j = JSON.parse(read(file));
  const runs = (j.runs || []).filter((r) => r.ranks && r.ranks.test && r.ranks.valid);
  if (!runs.length) fail(`${file}: no "ranks" (run mdsrec eval with --ranks --json)`);
  const per = {};
  for (const split of ['valid', 'test']) {
    if (runs.some((r) => r.ranks[split].length !== seqs.length)) fail(`${file}: ranks ${split} for a different number of visitors than ${prep} has (${seqs.length})`);
    per[split] = new Float64Array(seqs.length);
    for (const r of runs) r.ranks[split].forEach((rank, u) => { if (rank <= K) per[split][u] += 1 / Math.log2(rank + 1) / runs.length; });
  }
  return { name: path.basename(file, '.json'), per };
});

const buckets = [['same second', 0, 1], ['1 s to 1 h', 1, 3600], ['1 h to 1 day', 3600, 86400], ['over 1 day', 86400, Infinity]];
const rows = [];
for (const split of ['valid', 'test'])
  for (const [label, lo, hi] of buckets) {
    const idx = seqs.map((s, u) => (s[split] >= lo && s[split] < hi ? u : -1)).filter((u) => u >= 0);
    if (!idx.length) continue;
    const ndcg = Object.fromEntries(models.map((m) => [m.name, idx.reduce((s, u) => s + m.per[split][u], 0) / idx.length]));
    // the first model against each other one, visitor by visitor: mean difference and its SE
    const diff = Object.fromEntries(models.slice(1).map((m) => {
      const d = idx.map((u) => models[0].per[split][u] - m.per[split][u]);
      const mu = d.reduce((s, x) => s + x, 0) / d.length;
      const se = d.length > 1 ? Math.sqrt(d.reduce((s, x) => s + (x - mu) ** 2, 0) / (d.length - 1) / d.length) : NaN;
      return [m.name, { mean: mu, se }];
    }));
    rows.push({ split, gap: label, visitors: idx.length, ndcg, diff });
  }

console.log(`| split | gap before the target | visitors | ${models.map((m) => `${m.name} NDCG@${K}`).join(' | ')} |`);
console.log(`|---|---|---|${models.map(() => '---|').join('')}`);
for (const r of rows) console.log(`| ${r.split} | ${r.gap} | ${r.visitors} | ${models.map((m) => r.ndcg[m.name].toFixed(4)).join(' | ')} |`);
if (models.length > 1) {
  const others = models.slice(1);
  console.log(`\n${models[0].name} minus each other model, visitor by visitor (mean ± its standard error over the bucket's visitors):\n`);
  console.log(`| split | gap before the target | visitors | ${others.map((m) => `${models[0].name} - ${m.name}`).join(' | ')} |`);
  console.log(`|---|---|---|${others.map(() => '---|').join('')}`);
  const sgn = (x) => (x >= 0 ? '+' : '') + x.toFixed(4);
  for (const r of rows) console.log(`| ${r.split} | ${r.gap} | ${r.visitors} | ${others.map((m) => `${sgn(r.diff[m.name].mean)} ± ${r.diff[m.name].se.toFixed(4)}`).join(' | ')} |`);
}
if (out) {
  fs.writeFileSync(`${out}.tmp`, JSON.stringify({ k: K, rows }, null, 1) + '\n');
  fs.renameSync(`${out}.tmp`, out);
}
