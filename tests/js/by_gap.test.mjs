// by_gap.test.mjs - tools/reports/by-gap.mjs on an interaction file, a prepared directory and
// rank files made here: visitors fall into the gap bucket of their target, ties in time are
// ordered by line as prepare orders them, NDCG is averaged over a file's seeds, and a prepared
// directory that does not match the interaction file is refused with the line that differs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const SCRIPT = join(ROOT, 'tools/reports/by-gap.mjs');
const ndcg = (r) => (r <= 10 ? 1 / Math.log2(r + 1) : 0);

// three users; the columns in a different order than usual, to check they are found by name
//   u1: a@100, b@200, c@200 (line after b): test gap 0 (same second), valid gap 100 s
//   u2: a@0, c@10, b@4000: test gap 3990 s (1 h to 1 day), valid gap 10 s
//   u3: c@50, a@50, b@50 (lines in that order): test and valid gaps 0
const INTER = [
  'timestamp:float\titem_id:token\tuser_id:token\trating:float',
  '200\tb\tu1\t4', '100\ta\tu1\t3', '0\ta\tu2\t5', '200\tc\tu1\t2',
  '10\tc\tu2\t1', '4000\tb\tu2\t3', '50\tc\tu3\t1', '50\ta\tu3\t1', '50\tb\tu3\t1',
].join('\n') + '\n';

function setup(dir, seqLines) {
  const inter = join(dir, 'x.inter');
  writeFileSync(inter, INTER);
  const prep = join(dir, 'prep');
  mkdirSync(prep);
  writeFileSync(join(prep, 'items.txt'), 'a\nb\nc\n');
  writeFileSync(join(prep, 'sequences.tsv'), seqLines.join('\n') + '\n');
  return { inter, prep };
}
const GOOD = ['u1\t0 1 2', 'u2\t0 2 1', 'u3\t2 0 1'];

test('visitors by the gap before each target, NDCG averaged over seeds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bygap-'));
  try {
    const { inter, prep } = setup(dir, GOOD);
    // model m: two seeds; n: one
    const m = join(dir, 'm.json'), n = join(dir, 'n.json');
    writeFileSync(m, JSON.stringify({ runs: [
      { ranks: { test: [1, 2, 3], valid: [4, 5, 6] } },
      { ranks: { test: [3, 2, 11], valid: [4, 1, 6] } },
    ] }));
    writeFileSync(n, JSON.stringify({ runs: [{ ranks: { test: [20, 1, 1], valid: [1, 1, 1] } }] }));
    const out = join(dir, 'out.json');
    const text = execFileSync(process.execPath, [SCRIPT, '--inter', inter, '--prep', prep, m, n, '--json', out], { encoding: 'utf8' });
    const r = JSON.parse(readFileSync(out, 'utf8')).rows;
    const row = (split, gap) => r.find((x) => x.split === split && x.gap === gap);
    // test: u1 and u3 in the same second, u2 after 3990 s
    assert.equal(row('test', 'same second').visitors, 2);
    const mU1 = (ndcg(1) + ndcg(3)) / 2, mU3 = (ndcg(3) + ndcg(11)) / 2;
    assert.ok(Math.abs(row('test', 'same second').ndcg.m - (mU1 + mU3) / 2) < 1e-12);
    assert.ok(Math.abs(row('test', 'same second').ndcg.n - (ndcg(20) + ndcg(1)) / 2) < 1e-12);
    // the first model minus the other, visitor by visitor, and the SE of that mean
    const d = [mU1 - ndcg(20), mU3 - ndcg(1)], dm = (d[0] + d[1]) / 2;
    assert.ok(Math.abs(row('test', 'same second').diff.n.mean - dm) < 1e-12);
    assert.ok(Math.abs(row('test', 'same second').diff.n.se - Math.sqrt(((d[0] - dm) ** 2 + (d[1] - dm) ** 2) / 1 / 2)) < 1e-12);
    assert.match(text, /m - n/);
    assert.equal(row('test', '1 h to 1 day').visitors, 1);
    assert.ok(Math.abs(row('test', '1 h to 1 day').ndcg.m - ndcg(2)) < 1e-12);
    // valid: u1 after 100 s, u2 after 10 s, u3 in the same second
    assert.equal(row('valid', '1 s to 1 h').visitors, 2);
    assert.ok(Math.abs(row('valid', '1 s to 1 h').ndcg.m - ((ndcg(4) + ndcg(4)) / 2 + (ndcg(5) + ndcg(1)) / 2) / 2) < 1e-12);
    assert.equal(row('valid', 'same second').visitors, 1);
    assert.equal(row('test', 'over 1 day'), undefined, 'empty buckets are left out');
    assert.match(text, /\| test \| same second \| 2 \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a prepared directory that disagrees with the interaction file, and bad ranks, are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bygap-'));
  try {
    // u3's last two swapped: a tie broken the other way than prepare's line order
    const { inter, prep } = setup(dir, ['u1\t0 1 2', 'u2\t0 2 1', 'u3\t2 1 0']);
    const m = join(dir, 'm.json');
    writeFileSync(m, JSON.stringify({ runs: [{ ranks: { test: [1, 2, 3], valid: [1, 2, 3] } }] }));
    let p = spawnSync(process.execPath, [SCRIPT, '--inter', inter, '--prep', prep, m], { encoding: 'utf8' });
    assert.equal(p.status, 1);
    assert.match(p.stderr, /sequences\.tsv:3: user u3's item 1 from the end is a there and b in/);
    writeFileSync(join(prep, 'sequences.tsv'), GOOD.join('\n') + '\n');
    writeFileSync(m, JSON.stringify({ runs: [{ ranks: { test: [1, 2], valid: [1, 2] } }] }));
    p = spawnSync(process.execPath, [SCRIPT, '--inter', inter, '--prep', prep, m], { encoding: 'utf8' });
    assert.equal(p.status, 1);
    assert.match(p.stderr, /different number of visitors/);
    writeFileSync(inter, 'user_id:token\titem_id:token\n');
    p = spawnSync(process.execPath, [SCRIPT, '--inter', inter, '--prep', prep, m], { encoding: 'utf8' });
    assert.equal(p.status, 1);
    assert.match(p.stderr, /x\.inter:1: no "timestamp" column/);
    p = spawnSync(process.execPath, [SCRIPT, m], { encoding: 'utf8' });
    assert.equal(p.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
