// eval_report_visitors.test.mjs - `eval-report.mjs visitors`, which turns `mdsrec recommend
// --json` answers for the sample visitors into visitors.json and visitors.md: the target's rank
// in the top 10 (or none), the gates, carriers and shares, and with a prepared directory the
// catalogue's titles beside the keys (keys without a title stay bare).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const SCRIPT = join(ROOT, 'tools/reports/eval-report.mjs');

// an answer shaped like `mdsrec recommend --json`; items ranked in the order given
const answer = (history, keys) => ({
  history,
  channels: [
    { name: 'id', gate: 0.5, carrier: history[0], carrier_weight: 0.75 },
    { name: 'text', gate: 0.5, carrier: history[history.length - 1], carrier_weight: 0.25 },
  ],
  items: keys.map((key, i) => ({ rank: i + 1, key, score: 10 - i, shares: [1 + i, -i / 2] })),
});

function setup(dir) {
  writeFileSync(join(dir, 'a.json'), JSON.stringify(answer(['10', '20'], ['30', '40', '50', '60', '70', '80'])));
  writeFileSync(join(dir, 'b.json'), JSON.stringify(answer(['30'], ['10', '20', '40', '50', '60'])));
  // visitor 1's target (50) is ranked 3rd; visitor 2's (99) is not in the list
  writeFileSync(join(dir, 'v.tsv'), `1\t50\t${join(dir, 'a.json')}\n2\t99\t${join(dir, 'b.json')}\n`);
  const prep = join(dir, 'prep');
  mkdirSync(prep);
  writeFileSync(join(prep, 'items.txt'), '10\n20\n30\n40\n50\n60\n70\n80\n99\n');
  // 40 has no title, 99 a title without a year
  writeFileSync(join(prep, 'catalog.jsonl'), ['{"title":"Ten","year":"1990"}', '{"title":"Twenty"}',
    '{"title":"Thirty","year":"1995"}', '{}', '{"title":"Fifty"}', '{"title":"Sixty"}', '{"title":"Seventy"}',
    '{"title":"Eighty"}', '{"title":"Ninety-nine"}'].join('\n') + '\n');
  return prep;
}

test('visitors: ranks, gates, carriers and shares; no titles without a prepared directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vis-'));
  try {
    setup(dir);
    mkdirSync(join(dir, 'res'));
    execFileSync(process.execPath, [SCRIPT, 'visitors', join(dir, 'v.tsv'), join(dir, 'res')], { stdio: 'pipe' });
    const j = JSON.parse(readFileSync(join(dir, 'res', 'visitors.json'), 'utf8'));
    assert.equal(j.length, 2);
    assert.equal(j[0].target_rank_in_top10, 3);
    assert.equal(j[1].target_rank_in_top10, null);
    assert.deepEqual(j[0].top5.map((t) => t.key), ['30', '40', '50', '60', '70']);
    assert.equal(j[0].titles, undefined);
    const md = readFileSync(join(dir, 'res', 'visitors.md'), 'utf8').trim().split('\n');
    assert.equal(md.length, 4);
    assert.equal(md[2], '| 1 | 2 items | 50 (3) | id 0.50, text 0.50 | id: 10 (0.75), text: 20 (0.25) | ' +
      '30 [id 1.00 text 0.00]; 40 [id 2.00 text -0.50]; 50 [id 3.00 text -1.00]; 60 [id 4.00 text -1.50]; 70 [id 5.00 text -2.00] |');
    assert.match(md[3], /^\| 2 \| 1 items \| 99 \(-\) \|/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('visitors with a prepared directory: the catalogue titles beside the keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vis-'));
  try {
    const prep = setup(dir);
    mkdirSync(join(dir, 'res'));
    execFileSync(process.execPath, [SCRIPT, 'visitors', join(dir, 'v.tsv'), join(dir, 'res'), prep], { stdio: 'pipe' });
    const j = JSON.parse(readFileSync(join(dir, 'res', 'visitors.json'), 'utf8'));
    assert.deepEqual(j[0].titles, { 50: 'Fifty', 10: 'Ten (1990)', 20: 'Twenty', 30: 'Thirty (1995)',
      60: 'Sixty', 70: 'Seventy', 80: 'Eighty' });
    const md = readFileSync(join(dir, 'res', 'visitors.md'), 'utf8').trim().split('\n');
    assert.match(md[2], /^\| 1 \| 2 items \| 50 Fifty \(3\) \| id 0\.50, text 0\.50 \| id: 10 Ten \(1990\) \(0\.75\), text: 20 Twenty \(0\.25\) \| 30 Thirty \(1995\) \[id 1\.00 text 0\.00\]; 40 \[id 2\.00/);
    assert.match(md[3], /^\| 2 \| 1 items \| 99 Ninety-nine \(-\) \|/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
