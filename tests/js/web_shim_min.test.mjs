// web_shim_min.test.mjs - the minified shim that a store ships (web/mdsrec.min.js and
// web/worker.min.js, written by scripts/minify-shim.mjs in scripts/build.sh): there after a
// build, made from the current sources, smaller, referring to each other and not to the
// sources, with the same exports and error classes (name, code, instanceof) as web/mdsrec.js;
// and the minifier refusing a source whose cross-reference it cannot rewrite. The browser
// test tests/e2e/minshim.spec.mjs compares their recommendations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { minifyShim, SHIM_FILES } from '../../scripts/minify-shim.mjs';

const ROOT = resolve(new URL('.', import.meta.url).pathname, '../..');
const web = (f) => join(ROOT, 'web', f);
const read = (f) => readFileSync(web(f), 'utf8');
const gz = (f) => gzipSync(readFileSync(web(f)), { level: 9 }).length;
const count = (s, x) => s.split(x).length - 1;

test('the minified files are there after a build and made from the current sources', async () => {
  for (const [, dst] of SHIM_FILES) {
    assert.ok(existsSync(web(dst)), `web/${dst} is missing: build first (bash scripts/build.sh, or node scripts/minify-shim.mjs)`);
  }
  const made = await minifyShim({ 'mdsrec.js': read('mdsrec.js'), 'worker.js': read('worker.js') });
  for (const [src, dst] of SHIM_FILES) {
    assert.equal(read(dst), made[dst], `web/${dst} is older than web/${src}: run node scripts/minify-shim.mjs`);
  }
});

test('the minified files are smaller, raw and gzip -9', () => {
  for (const [src, dst] of SHIM_FILES) {
    assert.ok(read(dst).length < read(src).length * 0.75, `${dst} ${read(dst).length} B vs ${src} ${read(src).length} B`);
    assert.ok(gz(dst) < gz(src), `${dst} ${gz(dst)} B gzip vs ${src} ${gz(src)} B`);
  }
});

test('mdsrec.min.js starts worker.min.js, and worker.min.js imports mdsrec.min.js', () => {
  const shim = read('mdsrec.min.js');
  assert.equal(count(shim, 'worker.min.js'), 1);
  assert.equal(count(shim.replaceAll('worker.min.js', ''), 'worker.js'), 0, 'mdsrec.min.js still names worker.js');
  const worker = read('worker.min.js');
  const specifiers = [...worker.matchAll(/\bimport\b[^'"]*?\bfrom\s*["']([^"']+)["']/g)].map((x) => x[1]);
  assert.deepEqual(specifiers, ['./mdsrec.min.js']);
  assert.equal(count(worker.replaceAll('mdsrec.min.js', ''), 'mdsrec.js'), 0, 'worker.min.js still names mdsrec.js');
  // and the sources still refer to the sources
  assert.equal(count(read('mdsrec.js'), "'./worker.js'"), 1);
  assert.match(read('worker.js'), /from '\.\/mdsrec\.js'/);
});

test('the minified shim exports the same names, error classes and codes as the source', async () => {
  const src = await import(pathToFileURL(web('mdsrec.js')).href);
  const min = await import(pathToFileURL(web('mdsrec.min.js')).href);
  assert.deepEqual(Object.keys(min).sort(), Object.keys(src).sort());
  for (const cls of ['MdsrecError', 'ArgumentError', 'UnknownKeyError', 'BundleError', 'WasmError']) {
    const e = new min[cls]('MDSREC_X', 'm');
    assert.equal(min[cls].name, cls);
    assert.equal(e.name, cls);
    assert.equal(e.code, 'MDSREC_X');
    assert.ok(e instanceof min.MdsrecError && e instanceof Error);
    assert.ok(!(e instanceof src.MdsrecError), 'two builds, two class hierarchies');
  }
  // the same error, of the same class, for each code and for each bad header
  const bad = new Uint8Array(16);
  const v4 = new Uint8Array([0x4d, 0x44, 0x53, 0x42, 0x0d, 0x0a, 0x1a, 0x0a, 4, 0, 0, 0]); // newer than the core reads (3)
  const outcome = (m, f) => {
    try {
      return { value: f(m) };
    } catch (e) {
      const cls = ['UnknownKeyError', 'BundleError', 'WasmError', 'ArgumentError', 'MdsrecError'].find((c) => e instanceof m[c]);
      return { cls, name: e.name, code: e.code, message: e.message };
    }
  };
  const cases = [
    (m) => { throw m.mdsrecError('MDSREC_UNKNOWN_KEY', 'k'); },
    (m) => { throw m.mdsrecError('MDSREC_INCOMPATIBLE_BUNDLE', 'v'); },
    (m) => { throw m.mdsrecError('MDSREC_WASM_UNAVAILABLE', 'w'); },
    (m) => { throw m.mdsrecError('MDSREC_SOMETHING_NEW', 'n'); },
    (m) => m.checkHeader(bad),
    (m) => m.checkHeader(v4),
    (m) => m.checkHeader(new Uint8Array(0)),
    (m) => m.pickBuild({ build: 'gpu' }),
    (m) => m.statusCode('MDSREC_EKEY'),
    (m) => m.statusCode(3),
    (m) => m.wasmUrl('https://shop.example/mdsrec/', 'relaxed'),
    (m) => m.echo('x'.repeat(100)),
  ];
  for (const f of cases) {
    const got = outcome(min, f);
    assert.deepEqual(got, outcome(src, f), String(f));
  }
  assert.equal(outcome(min, cases[0]).cls, 'UnknownKeyError');
  assert.equal(outcome(min, cases[5]).code, 'MDSREC_INCOMPATIBLE_BUNDLE');
});

test('the minifier refuses a source whose cross-reference it cannot rewrite, naming the file', async () => {
  const mdsrec = read('mdsrec.js'), worker = read('worker.js');
  await assert.rejects(minifyShim({ 'mdsrec.js': mdsrec.replace("'./worker.js'", "'./w.js'"), 'worker.js': worker }),
    /web\/mdsrec\.js holds '\.\/worker\.js' 0 times; expected exactly once/);
  await assert.rejects(minifyShim({ 'mdsrec.js': mdsrec, 'worker.js': worker + "\nimport './mdsrec.js';\n" }),
    /web\/worker\.js holds '\.\/mdsrec\.js' 2 times/);
  await assert.rejects(minifyShim({ 'mdsrec.js': `${mdsrec}\nconst broken = ;\n`, 'worker.js': worker }), /minify-shim: web\/mdsrec\.js:\d+:\d+: /);
});
