// wasm_candidates.test.mjs - candidate mode through the WebAssembly core (SIMD128 and scalar
// builds) and through the shim: on synth bundles of each item dtype, the candidate result is the
// same build's full ranking restricted to the candidate set (rebuilt here from similar() and the
// popularity order), its first k, with scores equal to the bit; a set that covers every item
// gives the full scan's answer; the native tool (`mdsrec recommend --candidates`) ranks alike;
// recommend({candidates: true, popularHead, hops}) passes through the shim and checks its options.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadCore } from './wasm_loader.mjs';

const ROOT = resolve(new URL('.', import.meta.url).pathname, '../..');
const WASM = { simd: join(ROOT, 'web/wasm/mdsrec-simd.wasm'), scalar: join(ROOT, 'web/wasm/mdsrec-scalar.wasm') };
const BIN = [process.env.MDSREC_BIN, join(ROOT, 'build/bin/mdsrec')].find((p) => p && existsSync(p));
const N = 1003; // 3 rows past the last group of four, 11 past the last panel of 16
const BUNDLES = [
  { name: 'f32 panels', args: ['--dtype', 'f32', '--seed', '21'] },
  { name: 'f32 rows', args: ['--dtype', 'f32', '--layout', 'rows', '--seed', '22', '--neighbours-format', 'csr'] },
  { name: 'i8', args: ['--dtype', 'int8', '--seed', '23', '--neighbours-format', 'bits'] },
  { name: 'pq', args: ['--dtype', 'pq', '--seed', '24', '--neighbours', '6'] },
];
const key = (i) => `item-${String(i).padStart(6, '0')}`;

let dir;
before(() => {
  assert.ok(BIN, 'the native tool: set MDSREC_BIN or build build/bin/mdsrec (npm run build)');
  dir = mkdtempSync(join(tmpdir(), 'mdsrec-cand-'));
  for (const b of BUNDLES) {
    b.path = join(dir, `${b.name.replace(' ', '-')}.mdsb`);
    execFileSync(BIN, ['synth', '-o', b.path, '--items', String(N), '--max-len', '12', ...b.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    b.bytes = readFileSync(b.path);
  }
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

// The candidate set from the public exports: neighbours of the history (the last maxLen items)
// in every channel, hops steps, the first `head` of the popularity order.
function candidateSet(core, history, head, hops) {
  const cfg = core.config(), set = new Set(), read = history.slice(-cfg.maxLen);
  let front = read;
  for (let step = 0; step < hops; step++) {
    const next = [];
    for (const i of front)
      for (let c = 0; c < cfg.nChannels; c++) for (const j of core.similar(i, c, 1024).items) set.add(j), next.push(j);
    front = next;
  }
  if (head) for (const i of core.recommend({ history: [], k: Math.min(head, cfg.nItems) }).items) set.add(i);
  return set;
}

const bits = (f) => new Uint32Array(Float32Array.of(f).buffer)[0];

for (const variant of ['simd', 'scalar']) {
  test(`${variant} wasm: candidate mode is the full ranking restricted to the candidates`, async () => {
    const core = await loadCore(WASM[variant]);
    let seed = 7;
    const rand = (n) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    for (const b of BUNDLES) {
      core.open(b.bytes);
      for (const [len, head, hops] of [[1, 0, 1], [5, 20, 1], [5, 20, 2], [30, 100, 1]]) {
        const history = Array.from({ length: len }, () => rand(N)), k = 10;
        const what = `${variant} ${b.name} len ${len} head ${head} hops ${hops}`;
        const set = candidateSet(core, history, head, hops);
        const full = core.recommend({ history, k: N });
        const got = core.recommend({ history, k, cand: [1, head, hops, 0] });
        const want = [...full.items].map((it, r) => [it, full.scores[r]]).filter(([it]) => set.has(it)).slice(0, k);
        assert.deepEqual([...got.items], want.map(([it]) => it), what);
        assert.deepEqual([...got.scores].map(bits), want.map(([, s]) => bits(s)), `${what}: score bits`);
        // the native tool's candidate mode ranks alike (scores within float tolerance across builds)
        const nat = JSON.parse(execFileSync(BIN, ['recommend', b.path, '--json', '-k', String(k), '--candidates',
          '--popular-head', String(head), '--hops', String(hops), '--history', history.map(key).join(',')], { encoding: 'utf8' }));
        assert.equal(nat.scored, set.size, `${what}: native candidate count`);
        assert.equal(nat.items.length, got.items.length, what);
        nat.items.forEach((x, r) => assert.ok(Math.abs(x.score - got.scores[r]) <= 1e-5 * Math.max(1, Math.abs(x.score)), `${what}: rank ${r + 1}`));
      }
      // a set that covers every item: the full scan's answer, to the bit
      const history = [3, 500, 1002];
      const a = core.recommend({ history, k: 25 }), c = core.recommend({ history, k: 25, cand: [1, N, 2, 0] });
      assert.deepEqual([...c.items], [...a.items], `${variant} ${b.name}: covering set`);
      assert.deepEqual([...c.scores].map(bits), [...a.scores].map(bits));
      assert.deepEqual([...c.shares].map(bits), [...a.shares].map(bits));
      assert.throws(() => core.recommend({ history, cand: [1, 10, 3, 0] }), (e) => e.status === 2); // hops above 2
    }
    core.close();
  });
}

test('the shim passes candidates, popularHead and hops through and checks them', async () => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => new Response(readFileSync(new URL(String(url))), { headers: { 'content-type': 'application/wasm' } });
  try {
    const m = await import(pathToFileURL(join(ROOT, 'web/mdsrec.js')).href);
    const b = BUNDLES[2];
    const rec = await m.load({ model: new Uint8Array(b.bytes), storage: 'memory' });
    const history = [key(4), key(99), key(700)];
    const nat = (extra) => JSON.parse(execFileSync(BIN, ['recommend', b.path, '--json', '--history', history.join(','), ...extra], { encoding: 'utf8' }));
    const keys = async (o) => (await rec.recommend({ history, ...o })).map((x) => x.key);
    assert.deepEqual(await keys({ candidates: true, popularHead: 20, hops: 2 }),
      nat(['--candidates', '--popular-head', '20', '--hops', '2']).items.map((x) => x.key));
    // the defaults: popular head 100, one hop; and no candidates is the full scan
    assert.deepEqual(await keys({ candidates: true }), nat(['--candidates']).items.map((x) => x.key));
    assert.deepEqual(await keys({}), nat([]).items.map((x) => x.key));
    assert.notDeepEqual(await keys({ candidates: true, popularHead: 0 }), await keys({})); // random lists: another top-k
    for (const o of [{ popularHead: -1 }, { popularHead: N + 1 }, { popularHead: 2.5 }, { hops: 0 }, { hops: 3 }, { hops: '1' }]) {
      await assert.rejects(rec.recommend({ history, candidates: true, ...o }),
        (e) => e.code === 'MDSREC_BAD_ARGUMENT' && e.message.startsWith(Object.keys(o)[0]), JSON.stringify(o));
    }
    rec.close();
  } finally {
    globalThis.fetch = realFetch;
  }
});
