// coclick-table.mjs - the co-click term's table (docs/RESULTS.md, "Session 15"): each trained run
// evaluated with its term chosen on validation and without it, per data set and model, and the
// paired differences visitor by visitor.
//   node tools/reports/coclick-table.mjs DIR
// DIR holds DATASET-MODEL-sSEED-MODE.json from
//   mdsrec eval --model RUN --coclick tune|off --ranks --json FILE        (MODE tune or off)
// (tools/coclick-eval.sh writes them). Prints markdown: per data set, each model's test NDCG@10
// (mean ± sample std over its seeds) under both protocols with and without the term, the betas
// chosen, then the paired differences (each visitor's NDCG@10 averaged over the seeds; mean and
// a 95 % normal interval over visitors).
import fs from 'node:fs';
import path from 'node:path';
import { meanStd, paired, perVisitor as seedVisitor } from './seed-stats.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node tools/reports/coclick-table.mjs DIR');
  process.exit(2);
}
const runs = {}; // runs[ds][model][mode] = [{seed, json, beta}]
for (const f of fs.readdirSync(dir).sort()) {
  const m = f.match(/^(.+)-(sasrec|sasrecf|mdsrec)-s(\d+)-(tune|off)\.json$/);
  if (!m) continue;
  const [, ds, model, seed, mode] = m;
  const j = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  let beta = 0;
  const err = path.join(dir, f.replace(/\.json$/, '.err'));
  if (fs.existsSync(err)) {
    const b = fs.readFileSync(err, 'utf8').match(/co-click beta ([0-9.]+)/);
    if (b) beta = Number(b[1]);
  }
  ((runs[ds] ??= {})[model] ??= {})[mode] ??= [];
  runs[ds][model][mode].push({ seed: Number(seed), j, beta });
}

const ranksOf = (j, prot, split) => (prot === 'unmasked' ? j.runs[0].ranks : j.runs[0].protocols.masked.ranks)[split];
const metric = (j, prot, split) => j.runs[0].protocols[prot][split]['NDCG@10'];
// each visitor's NDCG@10 averaged over the seeds
const perVisitor = (list, prot) => seedVisitor(list, (r) => ranksOf(r.j, prot, 'test'));

for (const ds of Object.keys(runs)) {
  console.log(`\n### ${ds}\n`);
  console.log('| model | seeds | beta chosen | test NDCG@10 | with the term | masked | masked, with the term | valid NDCG@10 | valid, with the term |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const model of ['sasrec', 'sasrecf', 'mdsrec']) {
    const r = runs[ds][model];
    if (!r || !r.tune || !r.off) continue;
    const col = (mode, prot, split) => meanStd(r[mode].map((x) => metric(x.j, prot, split)));
    console.log(`| ${model} | ${r.tune.map((x) => x.seed).join(',')} | ${r.tune.map((x) => x.beta).join(', ')} | ` +
      `${col('off', 'unmasked', 'test')} | **${col('tune', 'unmasked', 'test')}** | ${col('off', 'masked', 'test')} | ` +
      `**${col('tune', 'masked', 'test')}** | ${col('off', 'unmasked', 'valid')} | ${col('tune', 'unmasked', 'valid')} |`);
  }
  if (!runs[ds].mdsrec?.tune?.[0]?.j.runs[0].ranks) { // results/coclick keeps the metrics, not the ranks
    console.log('\n(no per-visitor ranks here: the paired table needs the JSONs of tools/coclick-eval.sh)');
    continue;
  }
  console.log('\nPaired over the visitors (test NDCG@10, seeds averaged per visitor; 95 % interval):\n');
  console.log('| comparison | not masked | masked |');
  console.log('|---|---|---|');
  const pairs = [];
  for (const model of ['sasrec', 'sasrecf', 'mdsrec'])
    if (runs[ds][model]?.tune && runs[ds][model]?.off) pairs.push([`${model} with the term - without`, runs[ds][model].tune, runs[ds][model].off]);
  for (const base of ['sasrec', 'sasrecf'])
    if (runs[ds].mdsrec?.tune && runs[ds][base]?.tune) pairs.push([`mdsrec - ${base}, both with the term`, runs[ds].mdsrec.tune, runs[ds][base].tune]);
  for (const [name, a, b] of pairs)
    console.log(`| ${name} | ${paired(perVisitor(a, 'unmasked'), perVisitor(b, 'unmasked'))} | ` +
      `${paired(perVisitor(a, 'masked'), perVisitor(b, 'masked'))} |`);
}
