// eval_sh.test.mjs - tools/eval.sh on a shop's own prepared directory (no editing of the script):
// the rows it picks, both protocols in the table, an epoch cap with its own runs, and a run that
// is still being trained elsewhere reported as partial from its best epoch so far. Needs the
// built tool (build/bin/mdsrec, or $MDSREC_BIN); skipped without it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const BIN = process.env.MDSREC_BIN || join(ROOT, 'build/bin/mdsrec');
const FX = join(ROOT, 'tests/fixtures/data');
const skip = !existsSync(BIN) && 'needs the built tool (npm run build)';

function shop(dir) {
  const prep = join(dir, 'myshop');
  const run = (...a) => execFileSync(BIN, a, { stdio: 'pipe' });
  run('prepare', '--out', prep, '--inter', join(FX, 'shop.inter'));
  run('featurize', 'text', '--dir', prep, '--catalog', join(FX, 'catalog.item'), '--text-fields', 'title,descr', '--width', '16');
  run('graph', '--dir', prep);
  return prep;
}

const evalSh = (args, work) => spawnSync('bash', [join(ROOT, 'tools/eval.sh'), ...args], {
  env: { ...process.env, MDSREC_BIN: BIN, MDSREC_WORK: work }, encoding: 'utf8' });

test('a prepared directory of ones own goes through eval.sh', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-sh-'));
  try {
    const prep = shop(dir), work = join(dir, 'work');
    // the rows: features present, so sasrecf, mdsrec and its ablations; no image-only / text-only
    const list = evalSh([prep, '--list'], work);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^sasrecf +--model sasrecf/m);
    assert.match(list.stdout, /^no-graph +--model mdsrec --no-graph/m);
    assert.doesNotMatch(list.stdout, /image-only|text-only/);

    const r = evalSh([prep, '--epochs', '2', '--seeds', '1', '--rows', 'pop,sasrec,mdsrec'], work);
    assert.equal(r.status, 0, r.stderr);
    // capped: its own runs and tables under the work directory, labelled
    const res = join(work, 'myshop', 'results-e2');
    const j = JSON.parse(readFileSync(join(res, 'results.json'), 'utf8'));
    for (const name of ['pop', 'sasrec', 'mdsrec']) {
      const row = j.rows.find((x) => x.row === name);
      assert.equal(row.n, 1, name);
      assert.ok(row.masked && row.masked.test.mean['NDCG@10'] >= row.test.mean['NDCG@10'] - 1e-12, name);
    }
    assert.ok(j.rows.find((x) => x.row === 'sasrec').epochs[0] <= 2);
    assert.match(readFileSync(join(res, 'results.md'), 'utf8'), /### myshop, at most 2 epochs: test split/);
    assert.ok(!existsSync(join(ROOT, 'results', 'myshop')));

    // --paired: mdsrec against sasrec visitor by visitor, under both protocols
    const pr = evalSh([prep, '--epochs', '2', '--seeds', '1', '--rows', 'pop,sasrec,mdsrec', '--report', '--paired'], work);
    assert.equal(pr.status, 0, pr.stderr);
    const paired = readFileSync(join(res, 'paired.md'), 'utf8');
    for (const split of ['test', 'valid', 'test, masked'])
      assert.match(paired, new RegExp(`^\\| ${split} \\| mdsrec - sasrec \\| [0-9.]+ \\| [0-9.]+ \\|`, 'm'), split);
    const masked = paired.match(/^\| test, masked \| mdsrec - sasrec \| ([0-9.]+) \|/m);
    assert.ok(Math.abs(Number(masked[1]) - j.rows.find((x) => x.row === 'mdsrec').masked.test.mean['NDCG@10']) < 1e-4,
      'the masked row is the masked protocol\'s NDCG@10');

    // sasrecf seed 1 "being trained" by another process: eval.sh leaves it alone and lists its
    // best epoch so far as partial
    const d = join(work, 'myshop', 'runs-e2', 'sasrecf', 's1');
    mkdirSync(d, { recursive: true });
    execFileSync(BIN, ['train', '--data', prep, '--out', d, '--model', 'sasrecf', '--epochs', '1', '--quiet'], { stdio: 'pipe' });
    const t = JSON.parse(readFileSync(join(d, 'train.json'), 'utf8'));
    delete t.test; delete t.valid; delete t.protocols;
    writeFileSync(join(d, 'train.json'), JSON.stringify(t));
    writeFileSync(`${d}.lock`, String(process.pid));
    const p = evalSh([prep, '--epochs', '2', '--seeds', '1', '--rows', 'sasrecf'], work);
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stderr, /being trained by process/);
    const j2 = JSON.parse(readFileSync(join(res, 'results.json'), 'utf8'));
    const row = j2.rows.find((x) => x.row === 'sasrecf');
    assert.equal(row.n, 1);
    assert.deepEqual(row.partial.map((x) => x.seed), [1]);
    assert.match(readFileSync(join(res, 'results.md'), 'utf8'), /\| sasrecf \| 1 \(partial: s1 stopped after 1 epoch\) \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval.sh refuses a bad --epochs and an unknown dataset', { skip }, () => {
  const a = evalSh(['s3rec-beauty', '--epochs', 'ten'], tmpdir());
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--epochs expects a positive integer/);
  const b = evalSh(['no-such-set'], tmpdir());
  assert.equal(b.status, 2);
  assert.match(b.stderr, /unknown dataset no-such-set .*or a prepared directory/);
});
