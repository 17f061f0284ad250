// coldstart-pooled.mjs - paired NDCG@10 differences of tools/coldstart.sh runs, pooled over
// several splits (docs/RESULTS.md, "Cold start").
// Usage: node coldstart-pooled.mjs WORK_DIR VARIANT_TAG:BASE_TAG [...]
//   WORK_DIR  the data set's work directory (build/eval/DATASET)
//   each pair names two coldstart.sh runs on the same split (--seed), as --tag gave them
//   ("" for no tag): WORK_DIR/coldstart-TAG
// For each protocol (history not masked / masked) prints, over the visitors of every split
// together (each visitor once per split), the mean difference of NDCG@10 and its 95 % interval
// (normal approximation), relative to the second term's mean:
//   cold  variant - base, variant - content-kNN, base - content-kNN (the cold visitors)
//   warm  variant - base before add-items, and after minus before for each (the warm visitors)
import fs from 'node:fs';

const [work, ...pairs] = process.argv.slice(2);
if (!work || !pairs.length || pairs.some((p) => !p.includes(':'))) {
  console.error('usage: node coldstart-pooled.mjs WORK_DIR VARIANT_TAG:BASE_TAG [...]');
  process.exit(2);
}
const dir = (tag) => `${work}/coldstart${tag ? `-${tag}` : ''}`;
const ndcg = (rank) => (rank <= 10 ? 1 / Math.log2(rank + 1) : 0);
const ranks = (file, protocol) => {
  const run = JSON.parse(fs.readFileSync(file, 'utf8')).runs[0];
  const r = protocol === 'unmasked' ? run.ranks : run.protocols.masked.ranks;
  if (!r) throw new Error(`${file}: no ranks (coldstart.sh evaluates with --ranks)`);
  return r.test;
};

/** a - b over the visitors of every [fileA, fileB] pair (the same visitors, in the same order). */
function pooled(files, protocol) {
  const d = [];
  let base = 0;
  for (const [fa, fb] of files) {
    const a = ranks(fa, protocol), b = ranks(fb, protocol);
    if (a.length !== b.length) throw new Error(`${fa} and ${fb}: not the same visitors`);
    for (let i = 0; i < a.length; i++) {
      d.push(ndcg(a[i]) - ndcg(b[i]));
      base += ndcg(b[i]);
    }
  }
  const n = d.length, m = d.reduce((s, x) => s + x, 0) / n;
  const se = Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1) / n);
  const rel = base > 0 ? `${((100 * m) / (base / n)).toFixed(1)} %` : '-';
  return `${m >= 0 ? '+' : ''}${m.toFixed(4)} [${(m - 1.96 * se).toFixed(4)}, ${(m + 1.96 * se).toFixed(4)}] (${rel} of ${(base / n).toFixed(4)}; ${n} visitors)`;
}

const tags = pairs.map((p) => p.split(':'));
const both = (f) => tags.map(([v, b]) => f(dir(v), dir(b)));
const rows = [
  ['cold', 'variant - base', both((v, b) => [`${v}/cold-mdsrec.json`, `${b}/cold-mdsrec.json`])],
  ['cold', 'variant - content-kNN', both((v) => [`${v}/cold-mdsrec.json`, `${v}/cold-contentknn.json`])],
  ['cold', 'base - content-kNN', both((v, b) => [`${b}/cold-mdsrec.json`, `${b}/cold-contentknn.json`])],
  ['warm', 'variant - base, before add-items', both((v, b) => [`${v}/warm-before.json`, `${b}/warm-before.json`])],
  ['warm', 'variant, after - before', both((v) => [`${v}/warm-after.json`, `${v}/warm-before.json`])],
  ['warm', 'base, after - before', both((v, b) => [`${b}/warm-after.json`, `${b}/warm-before.json`])],
];
console.log(`| visitors | NDCG@10 | history not masked | masked |`);
console.log(`|---|---|---|---|`);
for (const [who, what, files] of rows) console.log(`| ${who} | ${what} | ${pooled(files, 'unmasked')} | ${pooled(files, 'masked')} |`);
