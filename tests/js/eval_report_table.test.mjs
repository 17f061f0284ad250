// eval_report_table.test.mjs - `eval-report.mjs table`, which turns the runs of tools/eval.sh into
// results.json and results.md: both protocols (unmasked at the top level, history masked beside
// it), mean ± std over the seeds, and a run that was interrupted reported as partial with its
// epochs (measured by `mdsrec eval` into partial.json) instead of vanishing from the table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const SCRIPT = join(ROOT, 'tools/reports/eval-report.mjs');
const KEYS = ['HR@5', 'HR@10', 'HR@20', 'NDCG@5', 'NDCG@10', 'NDCG@20', 'MRR'];
const m = (x) => Object.fromEntries(KEYS.map((k, i) => [k, x + i / 1000]));
const epochs = (n) => Array.from({ length: n }, (_, i) => ({ epoch: i + 1, loss: 1, valid_ndcg10: 0.1, seconds: 2 }));

function setup(dir) {
  const runs = join(dir, 'runs');
  // sasrec: two finished seeds with both protocols
  for (const [s, x] of [[1, 0.1], [2, 0.2]]) {
    mkdirSync(join(runs, 'sasrec', `s${s}`), { recursive: true });
    writeFileSync(join(runs, 'sasrec', `s${s}`, 'train.json'), JSON.stringify({
      best_epoch: 3, epochs: epochs(4), valid: m(x), test: m(x),
      protocols: { unmasked: { valid: m(x), test: m(x) }, masked: { valid: m(x + 0.5), test: m(x + 0.5) } } }));
  }
  // mdsrec: seed 1 finished, seed 2 interrupted after 5 epochs (no test in train.json) but evaluated
  mkdirSync(join(runs, 'mdsrec', 's1'), { recursive: true });
  writeFileSync(join(runs, 'mdsrec', 's1', 'train.json'), JSON.stringify({
    best_epoch: 2, epochs: epochs(3), valid: m(0.3), test: m(0.3),
    protocols: { masked: { valid: m(0.4), test: m(0.4) } } }));
  mkdirSync(join(runs, 'mdsrec', 's2'), { recursive: true });
  writeFileSync(join(runs, 'mdsrec', 's2', 'train.json'), JSON.stringify({ best_epoch: 4, epochs: epochs(5) }));
  writeFileSync(join(runs, 'mdsrec', 's2', 'partial.json'), JSON.stringify({ runs: [{ label: 'mdsrec s2',
    valid: m(0.5), test: m(0.5), protocols: { masked: { valid: m(0.6), test: m(0.6) } } }] }));
  // a baseline as `mdsrec eval --baseline --json` writes it
  writeFileSync(join(runs, 'pop.json'), JSON.stringify({ runs: [{ label: 'pop', valid: m(0.01), test: m(0.01),
    protocols: { unmasked: { valid: m(0.01), test: m(0.01) }, masked: { valid: m(0.02), test: m(0.02) } } }] }));
  // blocks-0: one seed interrupted before it was evaluated: not in the table
  mkdirSync(join(runs, 'blocks-0', 's1'), { recursive: true });
  writeFileSync(join(runs, 'blocks-0', 's1', 'train.json'), JSON.stringify({ best_epoch: 1, epochs: epochs(1) }));
  return runs;
}

test('both protocols, partial runs and the rows not run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-report-table-'));
  try {
    const runs = setup(dir);
    execFileSync(process.execPath, [SCRIPT, 'table', 'pop', 'sasrec', 'mdsrec', 'blocks-0'], {
      env: { ...process.env, RUNS_DIR: runs, RES_DIR: dir, DATASET: 'toy', SEEDS: '1,2' }, stdio: 'pipe' });
    const j = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const row = (name) => j.rows.find((r) => r.row === name);
    assert.match(j.protocol, /history not masked/);
    assert.ok(j.protocols.masked);
    // sasrec: mean of 0.1 and 0.2 (+ the key's offset) unmasked, of 0.6 and 0.7 masked
    assert.equal(row('sasrec').n, 2);
    assert.ok(Math.abs(row('sasrec').test.mean['NDCG@10'] - 0.154) < 1e-12);
    assert.ok(Math.abs(row('sasrec').masked.test.mean['NDCG@10'] - 0.654) < 1e-12);
    assert.ok(row('sasrec').masked.test.std['NDCG@10'] > 0);
    // mdsrec: the interrupted seed counts, marked partial, with its epochs
    assert.equal(row('mdsrec').n, 2);
    assert.deepEqual(row('mdsrec').partial, [{ seed: 2, epochs: 5, best_epoch: 4 }]);
    assert.ok(Math.abs(row('mdsrec').test.mean['NDCG@10'] - 0.404) < 1e-12);
    assert.ok(Math.abs(row('mdsrec').masked.test.mean['NDCG@10'] - 0.504) < 1e-12);
    assert.equal(row('mdsrec').per_seed[1].partial, true);
    assert.ok(Math.abs(row('pop').masked.test.mean['HR@10'] - 0.021) < 1e-12);
    assert.equal(row('blocks-0').n, 0);
    const md = readFileSync(join(dir, 'results.md'), 'utf8');
    assert.match(md, /masked HR@10 \| masked NDCG@10/);
    assert.match(md, /\| mdsrec \| 1,2 \(partial: s2 stopped after 5 epochs\) \|/);
    assert.match(md, /\| sasrec \| 1,2 \| .* \| 0\.6540 ± 0\.0707 \|/);
    assert.match(md, /\| blocks-0 \| not run \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runs from before both protocols show "-" in the masked columns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-report-table-'));
  try {
    const runs = join(dir, 'runs');
    mkdirSync(join(runs, 'sasrec', 's1'), { recursive: true });
    writeFileSync(join(runs, 'sasrec', 's1', 'train.json'), JSON.stringify({ best_epoch: 1, epochs: epochs(1),
      valid: m(0.1), test: m(0.1) }));
    execFileSync(process.execPath, [SCRIPT, 'table', 'sasrec'], {
      env: { ...process.env, RUNS_DIR: runs, RES_DIR: dir, DATASET: 'toy', SEEDS: '1' }, stdio: 'pipe' });
    const j = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.equal(j.rows[0].masked, null);
    assert.match(readFileSync(join(dir, 'results.md'), 'utf8'), /\| sasrec \| 1 \| [^|]+\|[^|]+\|[^|]+\|[^|]+\|[^|]+\| - \| - \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
