// eval-report.mjs - the tables of tools/eval.sh from the runs it made (no training here).
//   node eval-report.mjs table ROW...   -> $RES_DIR/results.json, results.md
//   node eval-report.mjs tune  GRID...  -> $RES_DIR/tune.json, tune.md (selection on VALID NDCG@10)
// Environment: RUNS_DIR (runs/ROW/sSEED/train.json, runs/ROW.json for baselines), RES_DIR, DATASET,
// SEEDS (comma list), LABEL (the dataset's name in headings; default DATASET). Mean and sample
// standard deviation (n - 1) over the seeds that finished.
import fs from 'node:fs';
import path from 'node:path';

const [mode, ...names] = process.argv.slice(2);
const RUNS = process.env.RUNS_DIR, RES = process.env.RES_DIR, DS = process.env.DATASET;
const LABEL = process.env.LABEL || DS;
const SEEDS = (process.env.SEEDS || '1,2,3').split(',').map(Number);
const KEYS = ['HR@5', 'HR@10', 'HR@20', 'NDCG@5', 'NDCG@10', 'NDCG@20', 'MRR'];

const readJson = (f) => { try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch { return null; } };
const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
const std = (a) => a.length < 2 ? 0 : Math.sqrt(a.reduce((s, x) => s + (x - mean(a)) ** 2, 0) / (a.length - 1));
const agg = (list) => {
  const o = { mean: {}, std: {} };
  for (const k of KEYS) { const v = list.map((m) => m[k]); o.mean[k] = mean(v); o.std[k] = std(v); }
  return o;
};
const f4 = (x) => x.toFixed(4);
const pm = (a, k) => a.n > 1 ? `${f4(a.test.mean[k])} ± ${f4(a.test.std[k])}` : f4(a.test.mean[k]);

// The history-masked metrics of a train.json or an `mdsrec eval --json` run, or null (older files).
const maskedOf = (o) => (o && o.protocols && o.protocols.masked) || null;

// A run's metrics: its train.json when it finished; when it was interrupted, its best epoch so far
// as `mdsrec eval` measured it (partial.json, written by eval.sh), marked partial.
function trainedRun(dir) {
  const t = readJson(path.join(dir, 'train.json'));
  if (!t || !t.epochs) return null;
  let m = t, partial = false;
  if (!t.test) {
    const e = readJson(path.join(dir, 'partial.json'));
    if (!e || !e.runs || !e.runs[0] || !e.runs[0].test) return null;
    m = e.runs[0];
    partial = true;
  }
  const secs = t.epochs.map((e) => e.seconds);
  return {
    valid: m.valid, test: m.test, masked: maskedOf(m), partial, best_epoch: t.best_epoch, epochs: t.epochs.length,
    seconds: secs.reduce((s, x) => s + x, 0), seconds_per_epoch: mean(secs),
  };
}

// mean ± std of the masked metrics over the runs, or null unless every run has them (older
// train.json files have none: the table then shows '-')
const maskedAgg = (list) => list.every((m) => m) && list.length ? {
  valid: agg(list.map((m) => m.valid)), test: agg(list.map((m) => m.test)) } : null;

function rowResult(row, seeds) {
  if (row === 'pop' || row === 'itemknn') {
    const j = readJson(path.join(RUNS, `${row}.json`));
    if (!j) return { row, n: 0 };
    const secs = Number((fs.existsSync(path.join(RUNS, `${row}.seconds`)) &&
      fs.readFileSync(path.join(RUNS, `${row}.seconds`), 'utf8')) || NaN);
    const r = j.runs[0];
    return { row, n: 1, seeds: ['deterministic'], valid: agg([r.valid]), test: agg([r.test]),
      masked: maskedAgg([maskedOf(r)]), seconds: secs };
  }
  const runs = [];
  for (const s of seeds) {
    const r = trainedRun(path.join(RUNS, row, `s${s}`));
    if (r) runs.push({ seed: s, ...r });
  }
  if (!runs.length) return { row, n: 0 };
  return {
    row, n: runs.length, seeds: runs.map((r) => r.seed),
    valid: agg(runs.map((r) => r.valid)), test: agg(runs.map((r) => r.test)),
    masked: maskedAgg(runs.map((r) => r.masked)),
    partial: runs.filter((r) => r.partial).map((r) => ({ seed: r.seed, epochs: r.epochs, best_epoch: r.best_epoch })),
    seconds: mean(runs.map((r) => r.seconds)),
    seconds_per_epoch: mean(runs.map((r) => r.seconds_per_epoch)),
    best_epochs: runs.map((r) => r.best_epoch), epochs: runs.map((r) => r.epochs),
    per_seed: runs.map((r) => ({ seed: r.seed, valid_ndcg10: r.valid['NDCG@10'], test_ndcg10: r.test['NDCG@10'],
      test_hr10: r.test['HR@10'], ...(r.masked ? { masked_test_ndcg10: r.masked.test['NDCG@10'],
        masked_test_hr10: r.masked.test['HR@10'] } : {}), ...(r.partial ? { partial: true } : {}),
      best_epoch: r.best_epoch, epochs: r.epochs, seconds: r.seconds })),
  };
}

if (mode === 'table') {
  const rows = names.map((r) => rowResult(r, SEEDS));
  fs.writeFileSync(path.join(RES, 'results.json'), JSON.stringify({
    dataset: DS, protocol: 'MODEL.md 6: leave-one-out, full ranking over all items, ties count against, history not masked',
    protocols: { top_level: 'history not masked (valid, test)',
      masked: 'rows[].masked: every history item other than the target left out of the ranking, as the S3-Rec family of published tables' },
    seeds_asked: SEEDS, rows,
  }, null, 1) + '\n');
  const L = [];
  L.push(`### ${LABEL}: test split, mean ± sample std over the seeds listed`);
  L.push('');
  L.push('Unmasked: MODEL.md 6, every item ranked. Masked: the visitor\'s history items left out of the ranking, the');
  L.push('protocol of the S3-Rec family of published tables; compare a published number only with its own protocol.');
  L.push('');
  L.push('| row | seeds | HR@10 | NDCG@10 | HR@20 | NDCG@20 | MRR | masked HR@10 | masked NDCG@10 | valid NDCG@10 | best epoch | s/epoch | s/run |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const mpm = (r, k) => !r.masked ? '-' : r.n > 1 ? `${f4(r.masked.test.mean[k])} ± ${f4(r.masked.test.std[k])}`
    : f4(r.masked.test.mean[k]);
  for (const r of rows) {
    if (!r.n) { L.push(`| ${r.row} | not run | | | | | | | | | | | |`); continue; }
    const vd = r.n > 1 ? `${f4(r.valid.mean['NDCG@10'])} ± ${f4(r.valid.std['NDCG@10'])}` : f4(r.valid.mean['NDCG@10']);
    const part = r.partial && r.partial.length
      ? ` (partial: ${r.partial.map((p) => `s${p.seed} stopped after ${p.epochs} epoch${p.epochs === 1 ? "" : "s"}`).join(', ')})` : '';
    L.push(`| ${r.row} | ${r.seeds.join(',')}${part} | ${pm(r, 'HR@10')} | ${pm(r, 'NDCG@10')} | ${pm(r, 'HR@20')} | ` +
      `${pm(r, 'NDCG@20')} | ${pm(r, 'MRR')} | ${mpm(r, 'HR@10')} | ${mpm(r, 'NDCG@10')} | ${vd} | ` +
      `${r.best_epochs ? r.best_epochs.join(',') : '-'} | ` +
      `${r.seconds_per_epoch ? r.seconds_per_epoch.toFixed(1) : '-'} | ${Number.isFinite(r.seconds) ? r.seconds.toFixed(0) : '-'} |`);
  }
  L.push('');
  fs.writeFileSync(path.join(RES, 'results.md'), L.join('\n'));
  process.stdout.write(L.join('\n'));
} else if (mode === 'tune') {
  const rows = [];
  for (const g of names) {
    const r = trainedRun(path.join(RUNS, g));
    rows.push(r ? { setting: g, valid_ndcg10: r.valid['NDCG@10'], valid_hr10: r.valid['HR@10'],
      test_ndcg10: r.test['NDCG@10'], best_epoch: r.best_epoch, seconds: r.seconds } : { setting: g, not_run: true });
  }
  const done = rows.filter((r) => !r.not_run);
  const best = done.reduce((b, r) => (!b || r.valid_ndcg10 > b.valid_ndcg10 ? r : b), null);
  fs.writeFileSync(path.join(RES, 'tune.json'), JSON.stringify({ dataset: DS, model: 'mdsrec', seed: 1,
    selected_on: 'valid NDCG@10', selected: best && best.setting, rows }, null, 1) + '\n');
  const L = [`### ${LABEL}: mdsrec validation grid (seed 1; chosen on valid NDCG@10, test shown only for the record)`, '',
    '| setting | valid NDCG@10 | valid HR@10 | test NDCG@10 | best epoch | s/run |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    if (r.not_run) { L.push(`| ${r.setting} | not run | | | | |`); continue; }
    L.push(`| ${r.setting}${r === best ? ' **(selected)**' : ''} | ${f4(r.valid_ndcg10)} | ${f4(r.valid_hr10)} | ` +
      `${f4(r.test_ndcg10)} | ${r.best_epoch} | ${r.seconds.toFixed(0)} |`);
  }
  L.push('');
  fs.writeFileSync(path.join(RES, 'tune.md'), L.join('\n'));
  process.stdout.write(L.join('\n'));
} else if (mode === "visitors") {
  // visitors TSV RES [PREP]: the i8 bundle's answers for five sample visitors -> visitors.json,
  // visitors.md. With PREP (a prepared directory), keys are shown with the catalog's titles, so
  // that a reader can judge the explanations (MovieLens ids mean nothing on their own).
  const [tsv, res, prep] = names;
  const title = new Map();
  if (prep) {
    const keys = fs.readFileSync(path.join(prep, "items.txt"), "utf8").split("\n");
    const cat = path.join(prep, "catalog.jsonl");
    const rows = fs.existsSync(cat) ? fs.readFileSync(cat, "utf8").split("\n") : [];
    rows.forEach((line, i) => {
      if (!line.trim() || !keys[i]) return;
      const c = JSON.parse(line);
      if (c.title) title.set(keys[i], c.year ? `${c.title} (${c.year})` : c.title);
    });
  }
  const named = (k) => title.has(String(k)) ? `${k} ${title.get(String(k))}` : String(k);
  const out = [];
  for (const line of fs.readFileSync(tsv, "utf8").trim().split("\n")) {
    const [user, target, file] = line.split("\t");
    const j = readJson(file);
    out.push({
      user, target, history: j.history.map((h) => h.key ?? h), history_length: j.history.length,
      ...(title.size ? { titles: Object.fromEntries([target, ...j.history.map((h) => h.key ?? h),
        ...j.items.map((it) => it.key)].filter((k) => title.has(String(k))).map((k) => [k, title.get(String(k))])) } : {}),
      channels: j.channels.map((c) => ({ name: c.name, gate: c.gate, carrier: c.carrier && (c.carrier.key ?? c.carrier),
        carrier_weight: c.carrier_weight })),
      top5: j.items.slice(0, 5).map((it) => ({ key: it.key, score: it.score, shares: it.shares })),
      target_rank_in_top10: (j.items.findIndex((it) => String(it.key) === target) + 1) || null,
    });
  }
  fs.writeFileSync(path.join(res, "visitors.json"), JSON.stringify(out, null, 1) + "\n");
  const L = ["| visitor | history | test target (its rank if in the top 10) | gates | carrier per channel (pooling weight) | top 5 (shares per channel) |",
    "|---|---|---|---|---|---|"];
  for (const v of out) {
    const names = v.channels.map((c) => c.name);
    L.push(`| ${v.user} | ${v.history_length} items | ${named(v.target)} (${v.target_rank_in_top10 ?? "-"}) | ` +
      v.channels.map((c) => `${c.name} ${c.gate.toFixed(2)}`).join(", ") + " | " +
      v.channels.map((c) => `${c.name}: ${named(c.carrier)} (${Number(c.carrier_weight).toFixed(2)})`).join(", ") + " | " +
      v.top5.map((t) => `${named(t.key)} [${t.shares.map((x, i) => names[i] + " " + x.toFixed(2)).join(" ")}]`).join("; ") + " |");
  }
  L.push("");
  fs.writeFileSync(path.join(res, "visitors.md"), L.join("\n"));
  process.stdout.write(L.join("\n"));
} else {
  console.error('usage: eval-report.mjs table|tune NAMES...');
  process.exit(2);
}
