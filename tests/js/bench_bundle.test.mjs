// bench_bundle.test.mjs - the benchmark peers' bundle reader (bench/bundle.js): on a format v3
// bundle (channels of different depths, as `mdsrec train` ships mdsrec) it finds each channel's
// own number of blocks and the weights after them, so TF.js runs the forward the core runs
// (bench/tf-worker.js); on a v2 bundle every channel has n_blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import vm from 'node:vm';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const BIN = [process.env.MDSREC_BIN, join(ROOT, 'build/bin/mdsrec')].find((p) => p && existsSync(p));

function reader() {
  const ctx = { self: {} };
  vm.runInNewContext(readFileSync(join(ROOT, 'bench/bundle.js'), 'utf8'), ctx);
  return ctx.self.readBundle;
}

test('the peers read each channel\'s own depth from a v3 bundle, and every block of a v2 one', { skip: !BIN && 'build first' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdsrec-bench-bundle-'));
  try {
    const readBundle = reader();
    const cases = [
      { args: ['--channel-blocks', '2,0,1'], blocks: [2, 0, 1] },
      { args: [], blocks: [2, 2, 2] },
      { args: ['--channel-blocks', '2,0,0', '--weights', 'f16'], blocks: [2, 0, 0] },
    ];
    for (const [i, c] of cases.entries()) {
      const f = join(dir, `b${i}.mdsb`);
      execFileSync(BIN, ['synth', '-o', f, '--items', '300', '--dim', '16', '--max-len', '8', '--seed', String(7 + i), ...c.args], { stdio: 'ignore' });
      const bytes = readFileSync(f);
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
      const m = readBundle(buf);
      assert.deepEqual(Array.from(m.channels, (ch) => ch.blocks.length), c.blocks, `case ${i}`); // from the vm realm
      const d = m.cfg.dim, f4 = 4 * d;
      for (const ch of m.channels) {
        for (const b of ch.blocks) {
          assert.equal(b.wq.length, d * d);
          assert.equal(b.w1.length, f4 * d);
          assert.ok(b.ln2b.every(Number.isFinite));
        }
        assert.ok(ch.pool && ch.pool.token.length === d, 'the pooling weights follow the blocks');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
