// The relaxed-SIMD core (web/wasm/mdsrec-relaxed.wasm, clang-19) in Chromium: Node 20's relaxed
// SIMD gives wrong int8 dots, so these checks run here. (1) test_kernels built with the relaxed
// set runs as a WASI command: every relaxed kernel against the scalar reference (tests/c). (2)
// The shim's top-k with build 'relaxed' equals build 'simd128' on synthetic f32 (panels), f16
// and i8 bundles and on the trained models/superstore.mdsb: the same keys in the same order,
// scores within SCORE_TOL relative (the encoder's FMA rounds once where mul+add rounds twice,
// so the visitor vector, and with it every score, moves in the last bits; the i8 dot itself
// is exact). (3) Detection: load() picks
// relaxed here, and falls back to simd128 when the relaxed file is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { instrument, FIX } from './helpers.mjs';
import { BIN } from './global-setup.mjs';

const SCORE_TOL = 1e-5; // |relaxed - simd128| <= SCORE_TOL * max(1, |simd128|)
const RELAXED = 'web/wasm/mdsrec-relaxed.wasm';
const KERNEL_TEST = 'build/wasm-tests/test_kernels-relaxed.wasm';

test.skip(!existsSync(RELAXED), `${RELAXED} not built (no clang-19/wasm-ld-19)`);

test.beforeAll(() => {
  const synth = (name, ...a) => execFileSync(BIN, ['synth', '-o', `${FIX}/${name}`, '--items', '3001', '--channels', 'id,image,text', '--seed', '21', ...a]);
  synth('relaxed-f32.mdsb');
  synth('relaxed-f16.mdsb', '--dtype', 'f16');
  synth('relaxed-i8.mdsb', '--dtype', 'i8');
});

test.beforeEach(async ({ page }) => {
  await instrument(page);
  await page.goto('/fixtures/blank.html');
});

test('test_kernels with the relaxed set passes in Chromium (WASI)', async ({ page }) => {
  test.skip(!existsSync(KERNEL_TEST), `${KERNEL_TEST} not built`);
  const bytes = readFileSync(KERNEL_TEST).toString('base64');
  const out = await page.evaluate(async (b64) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    let mem, text = '';
    const dec = new TextDecoder();
    class Exit { constructor(code) { this.code = code; } }
    // the few WASI calls printf and exit make: stdout/stderr into text, nothing else
    const wasi = {
      fd_write(fd, iovs, n, nwritten) {
        const v = new DataView(mem.buffer);
        let total = 0;
        for (let i = 0; i < n; i++) {
          const p = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
          text += dec.decode(new Uint8Array(mem.buffer, p, len));
          total += len;
        }
        v.setUint32(nwritten, total, true);
        return 0;
      },
      fd_close: () => 0,
      fd_seek: () => 70, // ESPIPE
      proc_exit(code) { throw new Exit(code); },
    };
    const { instance } = await WebAssembly.instantiate(bin, { wasi_snapshot_preview1: wasi, env: { emscripten_notify_memory_growth() {} } });
    mem = instance.exports.memory;
    let code = 0;
    try {
      instance.exports._start();
    } catch (e) {
      if (!(e instanceof Exit)) throw e;
      code = e.code;
    }
    return { code, text };
  }, bytes);
  expect(out.text).toContain('kernel set: relaxed');
  expect(out.code, out.text).toBe(0);
});

/** Top-k of both builds for the same histories: [{build, tops: [[{key, score}]]}] */
async function bothBuilds(page, model, nHist) {
  return page.evaluate(async ({ model, nHist }) => {
    const { load } = await import('/mdsrec.js');
    const res = {};
    for (const build of ['relaxed', 'simd128']) {
      const rec = await load({ model, storage: 'memory', worker: false, build, cache: false });
      const keys = (await rec.catalog()).map((x) => x.key);
      let seed = 7; // the same histories for both builds
      const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const tops = [];
      for (let h = 0; h < nHist; h++) {
        const len = 1 + Math.floor(rnd() * 50);
        const history = Array.from({ length: len }, () => keys[Math.floor(rnd() * keys.length)]);
        tops.push((await rec.recommend({ k: 10, history })).map((x) => ({ key: x.key, score: x.score })));
      }
      res[build] = { info: rec.info, tops };
      rec.close();
    }
    return res;
  }, { model, nHist });
}

for (const [name, model] of [['synthetic f32 (panels)', '/fixtures/relaxed-f32.mdsb'], ['synthetic f16', '/fixtures/relaxed-f16.mdsb'],
  ['synthetic i8', '/fixtures/relaxed-i8.mdsb'], ['trained superstore', '/models/superstore.mdsb']]) {
  test(`relaxed top-k equals simd128's: ${name}`, async ({ page }) => {
    const out = await bothBuilds(page, model, 25);
    expect(out.relaxed.info.kernels).toBe('relaxed');
    expect(out.relaxed.info.build).toBe('relaxed');
    expect(out.simd128.info.kernels).toBe('simd128');
    let worst = 0;
    out.simd128.tops.forEach((want, h) => {
      const got = out.relaxed.tops[h];
      expect(got.map((x) => x.key), `history ${h}`).toEqual(want.map((x) => x.key));
      got.forEach((g, i) => {
        worst = Math.max(worst, Math.abs(g.score - want[i].score) / Math.max(1, Math.abs(want[i].score)));
      });
    });
    console.log(`${name}: worst relative score difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(SCORE_TOL);
  });
}

test('load() picks relaxed where Chromium validates it, and falls back to simd128 without the file', async ({ page }) => {
  const out = await page.evaluate(async () => {
    const m = await import('/mdsrec.js');
    const auto = await m.load({ model: '/fixtures/main.mdsb', storage: 'memory', cache: false });
    // a folder that has no mdsrec-relaxed.wasm (404): the picked relaxed build falls back
    const urls = { relaxed: '/wasm/no-such-relaxed.wasm', simd: '/wasm/mdsrec-simd.wasm', scalar: '/wasm/mdsrec-scalar.wasm' };
    const missing = await m.load({ model: '/fixtures/main.mdsb', storage: 'memory', cache: false, wasm: urls });
    const forced = await m.load({ model: '/fixtures/main.mdsb', storage: 'memory', cache: false, worker: false, build: 'scalar' });
    let asked = null;
    try { // asked for by name: no fallback, the 404 is the error
      await m.load({ model: '/fixtures/main.mdsb', storage: 'memory', cache: false, worker: false, wasm: urls, build: 'relaxed' });
    } catch (e) { asked = e.code; }
    const r = { relaxed: m.hasRelaxedSimd(), auto: auto.info.build, missing: missing.info.build, forced: forced.info.build, asked };
    auto.close(), missing.close(), forced.close();
    return r;
  });
  expect(out).toEqual({ relaxed: true, auto: 'relaxed', missing: 'simd128', forced: 'scalar', asked: 'MDSREC_FETCH_FAILED' });
});
