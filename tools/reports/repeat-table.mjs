// repeat-table.mjs - the repeat term's table (docs/RESULTS.md, "Session 16"): each trained run
// evaluated with no history term, with the co-click term alone and with both the co-click and
// the repeat terms, per data set and model, and the paired differences visitor by visitor.
//   node tools/reports/repeat-table.mjs DIR
// DIR holds DATASET-MODEL-sSEED-MODE.json of tools/coclick-eval.sh: MODE off (no term), tune
// (the co-click term alone) and both (`mdsrec eval --coclick tune --ranks`), with the weights
// chosen in the .err files. Prints markdown: per data set, each model's test NDCG@10 and HR@10
// (mean ± sample std over its seeds) under both protocols, then the paired differences (each
// visitor's NDCG@10 averaged over the seeds; mean and a 95 % normal interval over visitors).
import fs from 'node:fs';
import path from 'node:path';
import { meanStd, paired, perVisitor as seedVisitor } from './seed-stats.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node tools/reports/repeat-table.mjs DIR');
  process.exit(2);
}
const MODE = { off: 'off', tune: 'cc', both: 'both' };
const runs = {}; // runs[ds][model][mode] = [{seed, j, beta, repeat}], mode off | cc | both
for (const f of fs.readdirSync(dir).sort()) {
  const m = f.match(/^(.+)-(sasrec|sasrecf|mdsrec)-s(\d+)-(off|tune|both)\.json$/);
  if (!m) continue;
  const [, ds, model, seed, tag] = m;
  const j = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  let beta = 0, repeat = 0;
  const err = path.join(dir, f.replace(/\.json$/, '.err'));
  if (fs.existsSync(err)) {
    const t = fs.readFileSync(err, 'utf8');
    beta = Number(t.match(/co-click beta ([0-9.]+)/)?.[1] ?? 0);
    repeat = Number(t.match(/repeat (-?[0-9.]+)/)?.[1] ?? 0);
  }
  ((runs[ds] ??= {})[model] ??= {})[MODE[tag]] ??= [];
  runs[ds][model][MODE[tag]].push({ seed: Number(seed), j, beta, repeat });
}

const ranksOf = (j, prot, split) => (prot === 'unmasked' ? j.runs[0].ranks : j.runs[0].protocols.masked.ranks)?.[split];
const metric = (j, prot, split, key) => j.runs[0].protocols[prot][split][key];
const perVisitor = (list, prot) => seedVisitor(list, (r) => ranksOf(r.j, prot, 'test'));

const MODELS = ['sasrec', 'sasrecf', 'mdsrec'];
for (const ds of Object.keys(runs)) {
  console.log(`\n#### ${ds}\n`);
  console.log('| model | seeds | beta, repeat chosen | test NDCG@10: no term | co-click | **both** | HR@10, both | masked: no term | co-click | **both** | HR@10, both | valid NDCG@10: co-click | both |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const model of MODELS) {
    const r = runs[ds][model];
    if (!r?.both) continue;
    const col = (mode, prot, split, key = 'NDCG@10') => (r[mode] ? meanStd(r[mode].map((x) => metric(x.j, prot, split, key))) : '-');
    console.log(`| ${model} | ${r.both.map((x) => x.seed).join(',')} | ${r.both.map((x) => `${x.beta}, ${x.repeat}`).join('; ')} | ` +
      `${col('off', 'unmasked', 'test')} | ${col('cc', 'unmasked', 'test')} | **${col('both', 'unmasked', 'test')}** | ` +
      `${col('both', 'unmasked', 'test', 'HR@10')} | ${col('off', 'masked', 'test')} | ${col('cc', 'masked', 'test')} | ` +
      `**${col('both', 'masked', 'test')}** | ${col('both', 'masked', 'test', 'HR@10')} | ${col('cc', 'unmasked', 'valid')} | ` +
      `${col('both', 'unmasked', 'valid')} |`);
  }
  const pairs = [];
  for (const model of MODELS) {
    const r = runs[ds][model];
    if (r?.both && r?.cc && ranksOf(r.cc[0].j, 'unmasked', 'test')) pairs.push([`${model}: both terms - co-click alone`, r.both, r.cc]);
  }
  for (const base of ['sasrec', 'sasrecf'])
    if (runs[ds].mdsrec?.both && runs[ds][base]?.both) pairs.push([`mdsrec - ${base}, both terms`, runs[ds].mdsrec.both, runs[ds][base].both]);
  if (!pairs.length || !ranksOf(runs[ds].mdsrec?.both?.[0]?.j ?? { runs: [{}] }, 'unmasked', 'test')) {
    console.log('\n(no per-visitor ranks here: the paired table needs the JSONs of tools/coclick-eval.sh)');
    continue;
  }
  console.log('\nPaired over the visitors (test NDCG@10, seeds averaged per visitor; 95 % interval):\n');
  console.log('| comparison | not masked | masked |');
  console.log('|---|---|---|');
  for (const [name, a, b] of pairs)
    console.log(`| ${name} | ${paired(perVisitor(a, 'unmasked'), perVisitor(b, 'unmasked'))} | ` +
      `${paired(perVisitor(a, 'masked'), perVisitor(b, 'masked'))} |`);
}
