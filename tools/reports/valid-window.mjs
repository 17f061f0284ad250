// valid-window.mjs - does early stopping flatter some rows more than others?
// Early stopping keeps the epoch of the best validation NDCG@10, so the score it reports is the
// maximum of many noisy evaluations, biased upward the more evaluations a run makes. This
// compares, for every finished run of a dataset, that maximum with the mean over the 11 epochs
// around it (best - 5 .. best + 5, as far as the run went): a smoothed level less sensitive to
// one lucky evaluation. It prints each row's means over its seeds and the correlation of each
// validation figure with test NDCG@10 over the rows.
//   node tools/reports/valid-window.mjs WORK/DATASET [--runs runs] [--half 5] [--json OUT]
// WORK/DATASET is the directory tools/eval.sh writes (runs/ROW/sSEED/train.json); --runs names
// another runs directory in it (eval.sh --windows all: runs-windows-all).
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const dir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const half = Number(opt('--half', 5)), out = opt('--json', null), runsName = opt('--runs', 'runs');
if (!dir || !(half >= 0) || !runsName || runsName.includes('/')) {
  console.error('usage: node tools/reports/valid-window.mjs WORK/DATASET [--runs runs] [--half 5] [--json OUT]');
  process.exit(2);
}
const runsDir = path.join(dir, runsName);
if (!fs.existsSync(runsDir)) {
  console.error(`valid-window.mjs: ${runsDir}: no such directory (run tools/eval.sh first)`);
  process.exit(1);
}

const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
function corr(x, y) {
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  x.forEach((v, i) => { sxy += (v - mx) * (y[i] - my); sxx += (v - mx) ** 2; syy += (y[i] - my) ** 2; });
  return sxx && syy ? sxy / Math.sqrt(sxx * syy) : NaN;
}

const rows = [];
for (const row of fs.readdirSync(runsDir).sort()) {
  if (!fs.statSync(path.join(runsDir, row)).isDirectory()) continue; /* the baselines' JSON */
  const runs = [];
  for (const seed of fs.readdirSync(path.join(runsDir, row)).sort()) {
    const file = path.join(runsDir, row, seed, 'train.json');
    if (!fs.existsSync(file)) continue;
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!j.test || !j.epochs || !j.best_epoch) continue; /* not finished */
    const v = j.epochs.map((e) => e.valid_ndcg10);
    const b = j.best_epoch - 1;
    if (!(b >= 0 && b < v.length)) throw new Error(`${file}: best_epoch ${j.best_epoch} outside its ${v.length} epochs`);
    const w = v.slice(Math.max(0, b - half), b + half + 1);
    runs.push({ seed, best: v[b], window: mean(w), test: j.test['NDCG@10'], epoch: j.best_epoch });
  }
  if (!runs.length) continue;
  const best = mean(runs.map((r) => r.best)), window = mean(runs.map((r) => r.window));
  rows.push({ row, seeds: runs.length, best, window, optimism: best - window, test: mean(runs.map((r) => r.test)),
              epochs: runs.map((r) => r.epoch) });
}
if (!rows.length) {
  console.error(`valid-window.mjs: ${runsDir}: no finished run`);
  process.exit(1);
}

const f4 = (x) => x.toFixed(4);
console.log(`| row | seeds | best valid NDCG@10 | mean of best ±${half} epochs | optimism | test NDCG@10 | best epochs |`);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.row} | ${r.seeds} | ${f4(r.best)} | ${f4(r.window)} | ${f4(r.optimism)} | ${f4(r.test)} | ${r.epochs.join(',')} |`);
const rBest = corr(rows.map((r) => r.best), rows.map((r) => r.test));
const rWin = corr(rows.map((r) => r.window), rows.map((r) => r.test));
console.log(`\nover ${rows.length} rows: r(best valid, test) = ${rBest.toFixed(2)}, r(window valid, test) = ${rWin.toFixed(2)}`);
if (out) {
  const tmp = `${out}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ half, rows, r_best_test: rBest, r_window_test: rWin }, null, 1) + '\n');
  fs.renameSync(tmp, out);
}
