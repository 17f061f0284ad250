// paired.test.mjs - tools/reports/paired.mjs on rank files made here, where the answer is known:
// NDCG@10 per visitor from the ranks, averaged over a model's seeds; the difference, its standard
// error and a bootstrap interval that brackets it; refusals of files that do not pair.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const SCRIPT = join(ROOT, 'tools/reports/paired.mjs');
const ndcg = (r) => (r <= 10 ? 1 / Math.log2(r + 1) : 0);

// `mdsrec eval --ranks --json` shape: one run per seed
const ranksFile = (dir, name, runs) => {
  const f = join(dir, `${name}.json`);
  writeFileSync(f, JSON.stringify({ runs: runs.map((test, i) => ({ label: `${name} s${i + 1}`, ranks: { test, valid: test } })) }));
  return f;
};

test('the difference, its standard error and the interval, from known ranks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paired-'));
  try {
    const n = 400;
    // A: two seeds, rank 1 and rank 3 for even visitors (mean of the two), 50 for odd ones;
    // B: one seed, rank 2 for everyone
    const a1 = Array.from({ length: n }, (_, u) => (u % 2 ? 50 : 1));
    const a2 = Array.from({ length: n }, (_, u) => (u % 2 ? 50 : 3));
    const b = Array.from({ length: n }, () => 2);
    const fa = ranksFile(dir, 'a', [a1, a2]), fb = ranksFile(dir, 'b', [b]);
    const out = join(dir, 'out.json');
    execFileSync(process.execPath, [SCRIPT, fa, fb, '--json', out, '--resamples', '2000']);
    const r = JSON.parse(readFileSync(out, 'utf8'));
    const even = (ndcg(1) + ndcg(3)) / 2 - ndcg(2), odd = -ndcg(2);
    const want = (even + odd) / 2;
    assert.equal(r.visitors, n);
    assert.ok(Math.abs(r.a.ndcg - (ndcg(1) + ndcg(3)) / 4) < 1e-12);
    assert.ok(Math.abs(r.b.ndcg - ndcg(2)) < 1e-12);
    assert.ok(Math.abs(r.difference - want) < 1e-12, `difference ${r.difference}, expected ${want}`);
    // two values, half each: sample std |even - odd| / 2 * sqrt(n / (n - 1)), over sqrt(n)
    const se = Math.abs(even - odd) / 2 * Math.sqrt(n / (n - 1)) / Math.sqrt(n);
    assert.ok(Math.abs(r.se - se) < 1e-12, `se ${r.se}, expected ${se}`);
    assert.ok(r.ci95[0] < want && want < r.ci95[1], `interval ${r.ci95} misses ${want}`);
    assert.ok(r.ci95[1] - r.ci95[0] < 6 * se && r.ci95[1] - r.ci95[0] > 2 * se);
    assert.ok(r.share_a_better < 0.01, 'A is behind on average: it should rarely lead a resample');
    // the same seed gives the same interval
    const again = join(dir, 'again.json');
    execFileSync(process.execPath, [SCRIPT, fa, fb, '--json', again, '--resamples', '2000']);
    assert.deepEqual(JSON.parse(readFileSync(again, 'utf8')).ci95, r.ci95);
    // a model against itself: nothing between them
    const self = join(dir, 'self.json');
    execFileSync(process.execPath, [SCRIPT, fb, fb, '--json', self, '--resamples', '500']);
    const s = JSON.parse(readFileSync(self, 'utf8'));
    assert.equal(s.difference, 0);
    assert.deepEqual(s.ci95, [0, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files that do not pair are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paired-'));
  try {
    const fa = ranksFile(dir, 'a', [[1, 2, 3]]), fb = ranksFile(dir, 'b', [[1, 2]]);
    let p = spawnSync(process.execPath, [SCRIPT, fa, fb], { encoding: 'utf8' });
    assert.notEqual(p.status, 0);
    assert.match(p.stderr, /rank 3 and 2 visitors/);
    const none = join(dir, 'none.json');
    writeFileSync(none, JSON.stringify({ runs: [{ label: 'x', test: {} }] }));
    p = spawnSync(process.execPath, [SCRIPT, none, fa], { encoding: 'utf8' });
    assert.notEqual(p.status, 0);
    assert.match(p.stderr, /--ranks/);
    p = spawnSync(process.execPath, [SCRIPT, fa], { encoding: 'utf8' });
    assert.equal(p.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
