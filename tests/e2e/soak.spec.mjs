// A long-running page: 100,000 track()/recommend() calls in one page through the public API,
// and neither the wasm heap nor the JS heap grows after warm-up. Main-thread mode, so the page
// can see the core's memory (captured by wrapping WebAssembly.instantiate); the Worker runs
// the same Engine code. JS heap: Chromium's performance.memory with precise numbers, after a
// forced GC (--js-flags=--expose-gc).
import { test, expect } from '@playwright/test';
import config from '../../playwright.config.mjs';

const base = config.use.launchOptions;
test.use({ launchOptions: { ...base, args: [...base.args, '--enable-precise-memory-info', '--js-flags=--expose-gc'] } });

test('100,000 calls: no wasm or JS heap growth after warm-up', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/fixtures/blank.html');
  const r = await page.evaluate(async () => {
    let memory = null;
    const instantiate = WebAssembly.instantiate;
    WebAssembly.instantiate = async (...a) => {
      const out = await instantiate.apply(WebAssembly, a);
      memory = (out.instance || out).exports.memory;
      return out;
    };
    const { load } = await import('/mdsrec.js');
    const rec = await load({ model: '/fixtures/soak.mdsb', worker: false, storage: 'session', cache: false });
    WebAssembly.instantiate = instantiate;
    const keys = (await rec.recommend({ k: 500, history: [] })).map((x) => x.key);
    const heaps = () => {
      globalThis.gc();
      return { wasm: memory.buffer.byteLength, js: performance.memory.usedJSHeapSize };
    };
    let calls = 0, returned = 0;
    const round = async (n) => {
      for (let i = 0; i < n; i++) {
        await rec.track(keys[(calls * 7919) % keys.length]);
        returned += (await rec.recommend({ k: 10 })).length;
        calls += 2;
      }
    };
    await round(5_000); // warm-up: 10,000 calls
    const warm = heaps();
    const marks = [];
    for (let part = 0; part < 9; part++) {
      await round(5_000);
      marks.push(heaps());
    }
    const history = rec.history().length;
    rec.close();
    return { calls, returned, warm, marks, history };
  });
  console.log(`soak: ${r.calls} calls; wasm heap ${r.warm.wasm} -> ${r.marks.at(-1).wasm} bytes; ` +
    `JS heap ${r.warm.js} -> ${r.marks.map((m) => m.js).join(', ')} bytes`);
  expect(r.calls).toBe(100_000);
  expect(r.returned).toBe(50_000 * 10);
  expect(r.history).toBe(20); // the model's max_len bounds the stored history
  for (const m of r.marks) {
    expect(m.wasm).toBe(r.warm.wasm); // not one page of growth
    expect(m.js - r.warm.js).toBeLessThan(512 * 1024); // GC noise only; a leak of even 6 bytes a call would show
  }
});
