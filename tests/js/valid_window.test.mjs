// valid_window.test.mjs - tools/reports/valid-window.mjs on a runs directory made here: the
// best validation score, the mean of the epochs around it, their difference and the
// correlations with test, from curves whose answer is known; unfinished runs and the
// baselines' JSON files are skipped; a missing directory is an error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const SCRIPT = join(ROOT, 'tools/reports/valid-window.mjs');

// a train.json as `mdsrec train` writes it: per-epoch validation, the best epoch, final metrics
const run = (dir, row, seed, curve, test) => {
  const d = join(dir, 'runs', row, `s${seed}`);
  mkdirSync(d, { recursive: true });
  const best = curve.indexOf(Math.max(...curve)) + 1;
  const j = { best_epoch: best, epochs: curve.map((v, i) => ({ epoch: i + 1, valid_ndcg10: v })) };
  if (test !== undefined) j.test = { 'NDCG@10': test };
  writeFileSync(join(d, 'train.json'), JSON.stringify(j));
};

test('the maximum, the window around it and the correlations, from known curves', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vwin-'));
  try {
    // a: a peak of 0.10 at epoch 3 among 0.04s; with --half 1 the window is epochs 2..4
    run(dir, 'a', 1, [0.04, 0.04, 0.10, 0.04, 0.04], 0.05);
    // a seed 2: flat at 0.06 (best epoch 1: the window is epochs 1..2)
    run(dir, 'a', 2, [0.06, 0.06, 0.06], 0.07);
    // b: one seed, flat 0.08
    run(dir, 'b', 1, [0.07, 0.08, 0.08, 0.08], 0.02);
    // c: unfinished (no test): skipped
    run(dir, 'c', 1, [0.2, 0.3]);
    // d: three rows in all, so the correlations are defined; here window and test rise together
    run(dir, 'd', 1, [0.01, 0.02], 0.09);
    writeFileSync(join(dir, 'runs', 'pop.json'), '{}');
    const out = join(dir, 'out.json');
    const text = execFileSync(process.execPath, [SCRIPT, dir, '--half', '1', '--json', out], { encoding: 'utf8' });
    const r = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(r.rows.map((x) => x.row), ['a', 'b', 'd']);
    const [a, b, d] = r.rows;
    assert.equal(a.seeds, 2);
    assert.ok(Math.abs(a.best - (0.10 + 0.06) / 2) < 1e-12);
    assert.ok(Math.abs(a.window - ((0.04 + 0.10 + 0.04) / 3 + 0.06) / 2) < 1e-12);
    assert.ok(Math.abs(a.optimism - (a.best - a.window)) < 1e-12);
    assert.ok(Math.abs(a.test - 0.06) < 1e-12);
    assert.deepEqual(a.epochs, [3, 1]);
    // b: the best epoch is 2 (the first 0.08), so the window is epochs 1..3
    assert.ok(Math.abs(b.best - 0.08) < 1e-12);
    assert.ok(Math.abs(b.window - (0.07 + 0.08 + 0.08) / 3) < 1e-12);
    assert.equal(d.best, 0.02);
    // Pearson's r over the three rows, computed here the long way
    const xs = [a.window, b.window, d.window], ys = [a.test, b.test, d.test];
    const m = (v) => v.reduce((s, x) => s + x, 0) / v.length;
    const mx = m(xs), my = m(ys);
    const want = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) /
      Math.sqrt(xs.reduce((s, x) => s + (x - mx) ** 2, 0) * ys.reduce((s, y) => s + (y - my) ** 2, 0));
    assert.ok(Math.abs(r.r_window_test - want) < 1e-12);
    assert.match(text, /\| a \| 2 \| 0\.0800 \|/);
    assert.match(text, /over 3 rows: r\(best valid, test\) = /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory without runs is an error naming it; no arguments is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vwin-'));
  try {
    let p = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
    assert.equal(p.status, 1);
    assert.match(p.stderr, /runs: no such directory/);
    mkdirSync(join(dir, 'runs', 'x', 's1'), { recursive: true });
    p = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
    assert.equal(p.status, 1);
    assert.match(p.stderr, /no finished run/);
    p = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    assert.equal(p.status, 2);
    assert.match(p.stderr, /usage/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--runs reads another runs directory of the same work directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vwin-'));
  try {
    run(dir, 'a', 1, [0.01, 0.02], 0.03); // in runs/: must not be read
    const d = join(dir, 'runs-windows-all', 'b', 's1');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'train.json'), JSON.stringify({
      best_epoch: 2, epochs: [{ epoch: 1, valid_ndcg10: 0.05 }, { epoch: 2, valid_ndcg10: 0.07 }],
      test: { 'NDCG@10': 0.06 },
    }));
    const out = join(dir, 'out.json');
    execFileSync(process.execPath, [SCRIPT, dir, '--runs', 'runs-windows-all', '--json', out]);
    const r = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(r.rows.map((x) => [x.row, x.best, x.test]), [['b', 0.07, 0.06]]);
    const p = spawnSync(process.execPath, [SCRIPT, dir, '--runs', 'nope'], { encoding: 'utf8' });
    assert.equal(p.status, 1);
    assert.match(p.stderr, /nope: no such directory/);
    assert.equal(spawnSync(process.execPath, [SCRIPT, dir, '--runs', '../x']).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
