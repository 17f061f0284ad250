// wasm_core.test.mjs - the WebAssembly core (SIMD128 and scalar builds) against the native one:
// the same synth bundles and histories through `mdsrec recommend --json` and through the wasm
// under Node give the same top-k items, and scores, shares and gates equal within 1e-5
// relative (|a - b| <= 1e-5 * max(1, |a|, |b|)). Also: the SIMD build has v128 instructions and
// the scalar build none, and neither imports more than a tiny loader can satisfy.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ALLOWED_IMPORTS, loadCore, moduleImports } from './wasm_loader.mjs';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const WASM = { simd: join(ROOT, 'web/wasm/mdsrec-simd.wasm'), scalar: join(ROOT, 'web/wasm/mdsrec-scalar.wasm') };
const BIN = [process.env.MDSREC_BIN, join(ROOT, 'build/bin/mdsrec')].find((p) => p && existsSync(p));
const TOL = 1e-5;

// The bundles: each dtype and weight dtype, with the pooling modes spread over them.
const BUNDLES = [
  { name: 'f32', args: ['--dtype', 'fp32', '--pool', 'last', '--seed', '11', '--catalog'] },
  { name: 'f16', args: ['--dtype', 'fp16', '--pool', 'mean', '--seed', '12'] },
  { name: 'i8', args: ['--dtype', 'int8', '--pool', 'token', '--seed', '13'] },
  { name: 'i8-nopool', args: ['--dtype', 'int8', '--pool', 'none', '--seed', '14', '--channels', 'id,text'] },
  // format v2: pq items (lookup-table scoring) with f16 weights, i8 items with q8 weights
  { name: 'pq-f16w', args: ['--dtype', 'pq', '--pq-m', '8', '--weights', 'f16', '--pool', 'last', '--seed', '15'] },
  { name: 'i8-q8w', args: ['--dtype', 'int8', '--weights', 'q8', '--pool', 'mean', '--seed', '16'] },
  // format v3: channels of 2, 0 and 1 attention blocks (mdsrec train --channel-blocks)
  { name: 'v3-depths', args: ['--dtype', 'fp32', '--channel-blocks', '2,0,1', '--pool', 'last', '--seed', '17'] },
  // the co-click term (COCLICK): the id channel's neighbours of the recent clicks added to the scores
  { name: 'i8-coclick', args: ['--dtype', 'int8', '--coclick', '2', '--pool', 'last', '--seed', '18'] },
  { name: 'f32-coclick', args: ['--dtype', 'fp32', '--coclick', '0.5', '--pool', 'mean', '--seed', '19'] },
  // the repeat term (REPEAT): a weight per click of a history item, seen where the history is ranked in
  { name: 'i8-repeat', args: ['--dtype', 'int8', '--coclick', '1', '--repeat', '-0.75', '--pool', 'last', '--seed', '20'] },
  { name: 'f32-repeat', args: ['--dtype', 'fp32', '--repeat', '3', '--pool', 'mean', '--seed', '21'] },
];
const N_ITEMS = 2000;

const key = (i) => `item-${String(i).padStart(6, '0')}`;
const HISTORIES = [
  { history: [] },
  { history: [key(5)] },
  { history: [key(17), key(400), key(1999)] },
  { history: Array.from({ length: 12 }, (_, i) => key((i * 137) % N_ITEMS)), k: 25 },
  { history: Array.from({ length: 70 }, (_, i) => key((i * 61 + 3) % N_ITEMS)) }, // longer than max_len 50
  { history: [key(1), key(2)], exclude: [key(3), key(4)], k: 5, includeHistory: true },
  { history: [key(8), key(30), key(8), key(700)], k: 6, includeHistory: true }, // a click repeated
  { history: [key(9), key(10)], allow: Array.from({ length: 40 }, (_, i) => key(i * 50)), k: 8 },
];

let dir;
before(() => {
  assert.ok(BIN, 'the native tool: set MDSREC_BIN or build build/bin/mdsrec (npm run build)');
  dir = mkdtempSync(join(tmpdir(), 'mdsrec-wasm-'));
  for (const b of BUNDLES) {
    b.path = join(dir, `${b.name}.mdsb`);
    execFileSync(BIN, ['synth', '-o', b.path, '--items', String(N_ITEMS), ...b.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    b.bytes = readFileSync(b.path);
  }
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

function native(path, h) {
  const args = ['recommend', path, '--json', '-k', String(h.k ?? 10)];
  if (h.history.length) args.push('--history', h.history.join(','));
  if (h.exclude) args.push('--exclude', h.exclude.join(','));
  if (h.allow) args.push('--allow', h.allow.join(','));
  if (h.includeHistory) args.push('--include-history');
  return JSON.parse(execFileSync(BIN, args, { encoding: 'utf8' }));
}

function close(a, b) {
  return Math.abs(a - b) <= TOL * Math.max(1, Math.abs(a), Math.abs(b));
}

function assertClose(a, b, what) {
  assert.ok(close(a, b), `${what}: ${a} vs ${b}`);
}

// The same top-k: the same items in the same order, except that two items whose scores are
// within the tolerance may trade places (a float tie the two kernel sets may break apart).
function compare(nat, wasm, core, what) {
  assert.equal(wasm.items.length, nat.items.length, `${what}: result count`);
  const C = nat.channels.length;
  for (let r = 0; r < nat.items.length; r++) {
    const n = nat.items[r];
    const wkey = core.itemKey(wasm.items[r]);
    assertClose(wasm.scores[r], n.score, `${what}: score at rank ${r + 1}`);
    if (wkey !== n.key) {
      const j = nat.items.findIndex((x) => x.key === wkey);
      assert.ok(j >= 0 && close(nat.items[j].score, n.score), `${what}: rank ${r + 1} is ${wkey}, natively ${n.key}`);
      continue;
    }
    for (let c = 0; c < C; c++) assertClose(wasm.shares[r * C + c], n.shares[c], `${what}: share ${c} at rank ${r + 1}`);
  }
  for (let c = 0; c < C; c++) {
    const nc = nat.channels[c];
    assertClose(wasm.gates[c], nc.gate, `${what}: gate ${c}`);
    assertClose(wasm.carrierWeights[c], nc.carrier_weight, `${what}: carrier weight ${c}`);
    const carrier = wasm.carriers[c] === 0xffffffff ? null : core.itemKey(wasm.carriers[c]);
    assert.equal(carrier, nc.carrier, `${what}: carrier of channel ${c}`);
  }
}

for (const variant of ['simd', 'scalar']) {
  test(`${variant} wasm recommends as the native core does`, async () => {
    const core = await loadCore(WASM[variant]);
    assert.equal(core.kernels(), variant === 'simd' ? 'simd128' : 'scalar');
    for (const b of BUNDLES) {
      core.open(b.bytes);
      const cfg = core.config();
      assert.equal(cfg.nItems, N_ITEMS);
      assert.equal(cfg.version, 3); // the newest format the core reads (it reads v1 and v2 too)
      for (const h of HISTORIES) {
        const idx = (keys) => keys.map((k) => {
          const i = core.findKey(k);
          assert.ok(i >= 0, `key ${k}`);
          return i;
        });
        const wasm = core.recommend({
          history: idx(h.history), k: h.k ?? 10, includeHistory: h.includeHistory,
          exclude: h.exclude ? idx(h.exclude) : [], allow: h.allow ? idx(h.allow) : null,
        });
        compare(native(b.path, h), wasm, core, `${variant} ${b.name} history of ${h.history.length}`);
      }
    }
    core.close();
  });
}

// The neighbour lists: synth writes them compact (NEIGHBOURS_K, 8-bit weights) by default; the
// same model written as CSR (NEIGHBOURS, f32 weights) gives the same neighbours through the
// wasm exports, weights within one quantization step ((max - min) / 255 of the channel).
test('similar: compact and CSR neighbour lists agree through the wasm exports', async () => {
  const core = await loadCore(WASM.simd);
  const compact = BUNDLES[0], read = (extra) => {
    const path = join(dir, `nb-${extra.join('')}.mdsb`);
    execFileSync(BIN, ['synth', '-o', path, '--items', String(N_ITEMS), ...compact.args, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(path);
  };
  const all = (bytes, k) => {
    core.open(bytes);
    const rows = [];
    for (let c = 0; c < 3; c++) for (let i = 0; i < N_ITEMS; i++) rows.push(core.similar(i, c, k));
    return rows;
  };
  const csr = all(read(['--neighbours-format', 'csr']), 100);
  const packed = all(compact.bytes, 100);
  const four = all(read(['--neighbours', '4']), 100);
  for (let c = 0; c < 3; c++) {
    const ws = csr.slice(c * N_ITEMS, (c + 1) * N_ITEMS).flatMap((r) => [...r.weights]);
    const step = (Math.max(...ws) - Math.min(...ws)) / 255;
    for (let i = 0; i < N_ITEMS; i++) {
      const a = csr[c * N_ITEMS + i], b = packed[c * N_ITEMS + i], f = four[c * N_ITEMS + i];
      assert.equal(a.items.length, 10);
      assert.deepEqual([...b.items], [...a.items], `channel ${c} item ${i}`);
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(b.weights[j] - a.weights[j]) <= step, `channel ${c} item ${i} rank ${j}: ${b.weights[j]} vs ${a.weights[j]}`);
      // --neighbours 4 generates four (another random draw), still strongest first
      assert.equal(f.items.length, 4);
      for (let j = 1; j < 4; j++) assert.ok(f.weights[j] <= f.weights[j - 1]);
    }
  }
  core.close();
});

test('keys, catalog, similar and errors through the wasm exports', async () => {
  const core = await loadCore(WASM.simd);
  const [withCatalog, without] = BUNDLES;
  core.open(withCatalog.bytes);
  assert.equal(core.findKey(key(1234)), 1234);
  assert.equal(core.findKey('item-99999999'), -1);
  assert.equal(core.findKey(''), -1);
  assert.equal(core.itemKey(77), key(77));
  assert.equal(core.itemKey(N_ITEMS), null);
  const catalog = JSON.parse(core.catalog());
  assert.equal(catalog.length, N_ITEMS);
  assert.equal(catalog[42].title, 'Item 42');
  const s = core.similar(5, 1, 4);
  assert.equal(s.items.length, 4);
  for (let i = 1; i < 4; i++) assert.ok(s.weights[i] <= s.weights[i - 1]);
  assert.ok(!s.items.includes(5));
  assert.equal(core.similar(5, 1, 1000).items.length, 10); // --neighbours default
  assert.throws(() => core.similar(N_ITEMS, 0, 3), (e) => e.status === 2);
  assert.throws(() => core.recommend({ history: [N_ITEMS] }), (e) => e.status === 2);
  assert.throws(() => core.recommend({ history: [1], k: 0 }), (e) => e.status === 2);
  assert.deepEqual([...core.recommend({ history: [1], allow: [] }).items], []);
  core.open(without.bytes); // reopening closes the first
  assert.equal(core.catalog(), null);
  // a damaged bundle: the loader's message names the section
  const bad = Uint8Array.from(without.bytes);
  bad[bad.length - 1] ^= 0xff;
  assert.throws(() => core.open(bad), (e) => e.status === 5 && /section \w+/.test(e.message));
  assert.equal(core.x.mdsrec_wasm_info_n_items(), -1); // nothing open after a failed open
  assert.equal(core.config().version, -1);
  const future = Uint8Array.from(without.bytes);
  future[8] = 4;
  assert.throws(() => core.open(future), (e) => e.status === 4 && /version 4/.test(e.message));
  core.close();
});

test('the SIMD build has v128 instructions, the scalar build none', () => {
  const count = (path) => {
    const dis = execFileSync('wasm-objdump', ['-d', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
    return (dis.match(/\b(v128|[if](8x16|16x8|32x4|64x2))\.\w+/g) ?? []).length;
  };
  assert.ok(count(WASM.simd) > 50, 'SIMD build: v128 instructions');
  assert.equal(count(WASM.scalar), 0, 'scalar build: no v128 instructions');
});

test('each build imports only what a tiny loader stubs', async () => {
  for (const path of Object.values(WASM)) {
    const imports = moduleImports(await WebAssembly.compile(readFileSync(path)));
    for (const i of imports) assert.ok(ALLOWED_IMPORTS.includes(i), `${path} imports ${i}`);
  }
});

// The boundary is named: one export per config field and per result array, and the core names
// its statuses; the shim maps a status to its code by that name (web/mdsrec.js CORE_STATUS).
test('named exports: config fields, result arrays and status names match include/mdsrec.h', async () => {
  const core = await loadCore(WASM.scalar);
  const names = WebAssembly.Module.exports(core.module).map((e) => e.name);
  for (const bare of ['mdsrec_wasm_info', 'mdsrec_wasm_result']) assert.ok(!names.includes(bare), `${bare} is gone`);
  const exported = readFileSync(join(ROOT, 'src/wasm_exports.txt'), 'utf8').split('\n').filter(Boolean).map((n) => n.replace(/^_/, ''));
  for (const n of exported) assert.ok(names.includes(n), `the build exports ${n}`);
  const header = readFileSync(join(ROOT, 'include/mdsrec.h'), 'utf8');
  const statuses = [...header.matchAll(/^\s*(MDSREC_E\w+|MDSREC_OK)\s*=\s*(\d+)/gm)].map(([, name, v]) => [name, Number(v)]);
  assert.ok(statuses.length >= 8, 'mdsrec_status parsed from the header');
  const { CORE_STATUS } = await import(new URL('../../web/mdsrec.js', import.meta.url).href);
  for (const [name, value] of statuses) {
    assert.equal(core.statusName(value), name, `mdsrec_wasm_status_name(${value})`);
    if (name !== 'MDSREC_OK') assert.equal(CORE_STATUS[name]?.value, value, `the shim's ${name}`);
  }
  assert.equal(Object.keys(CORE_STATUS).length, statuses.length - 1, 'the shim maps every failure status, no other');
  assert.equal(core.statusName(99), null);
  assert.equal(core.statusName(-1), null);
  core.open(BUNDLES[1].bytes);
  const cfg = core.config();
  assert.deepEqual([cfg.nItems, cfg.nChannels, cfg.itemDtype, cfg.poolMode, cfg.version], [N_ITEMS, 3, 1, 2, 3]); // fp16 = 1, mean = 2
  assert.equal(core.x.mdsrec_wasm_result_items(), 0); // no result yet
  core.recommend({ history: [1, 2], k: 3 });
  for (const f of ['items', 'scores', 'shares', 'gates', 'carriers', 'carrier_weights']) assert.ok(core.x[`mdsrec_wasm_result_${f}`]() > 0, f);
  core.similar(1, 0, 3);
  assert.ok(core.x.mdsrec_wasm_result_items() > 0 && core.x.mdsrec_wasm_result_scores() > 0);
  assert.equal(core.x.mdsrec_wasm_result_shares(), 0); // similar fills only items and scores
  core.close();
  assert.equal(core.x.mdsrec_wasm_info_n_items(), -1);
});
