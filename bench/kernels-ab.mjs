// kernels-ab.mjs - bench/kernels-ab.c in headless Chromium: the relaxed kernel set against the
// simd128 one, alternating, the minimum of 15 timings each (per pass over N rows). Needs the
// relaxed build's objects (npm run build with clang-19 and wasm-ld-19 installed).
// Usage: node bench/kernels-ab.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const OBJ = join(ROOT, 'build/wasm-relaxed');
const SYS = '/usr/share/emscripten/cache/sysroot', LIB = `${SYS}/lib/wasm32-emscripten`;
const wasm = join(OBJ, 'kernels-ab.wasm');
execFileSync('clang-19', ['--target=wasm32-unknown-emscripten', `--sysroot=${SYS}`, '-O3', '-std=c11', `-I${ROOT}/include`, `-I${ROOT}`,
  '-msimd128', '-mrelaxed-simd', '-ffp-contract=off', '-c', join(ROOT, 'bench/kernels-ab.c'), '-o', join(OBJ, 'kernels-ab.o')]);
execFileSync('wasm-ld-19', [join(OBJ, 'kernels-ab.o'), ...['kernels_relaxed', 'kernels_simd128', 'kernels_scalar', 'kernels_vec128', 'half'].map((f) => join(OBJ, `${f}.o`)),
  `${LIB}/crt1_reactor.o`, '--entry=_initialize', '--export=setup', '--export=run', '--export=lin', '--export=gel', `-L${LIB}`, '-lstandalonewasm-memgrow', '-lc', '-lemmalloc',
  '-lcompiler_rt', `--allow-undefined-file=${OBJ}/imports.txt`, '--initial-memory=16777216', '--max-memory=2147483648', '--strip-all', '-o', wasm]);
const b64 = readFileSync(wasm).toString('base64');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless'] });
const page = await browser.newPage();
const out = await page.evaluate(async (b64) => {
  const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const res = {};
  for (const n of [2048, 20480, 102400]) {
    const { instance } = await WebAssembly.instantiate(bin, { env: { emscripten_notify_memory_growth() {} } });
    const x = instance.exports; x._initialize(); x.setup(n);
    const reps = Math.max(1, Math.round(2e6 / n));
    for (const [kind, name] of [[0, 'i8'], [1, 'f32 panel'], [2, 'f32 rows']]) {
      const best = [Infinity, Infinity];
      for (let t = 0; t < 15; t++) for (const set of t % 2 ? [0, 1] : [1, 0]) {
        const t0 = performance.now(); x.run(set, kind, reps); const dt = (performance.now() - t0) / reps;
        best[set] = Math.min(best[set], dt);
      }
      res[`${name} ${n} rows`] = `simd128 ${best[0].toFixed(3)} ms, relaxed ${best[1].toFixed(3)} ms`;
    }
    if (n === 2048) {
      const best = [Infinity, Infinity];
      for (let t = 0; t < 15; t++) for (const set of [0, 1]) { const t0 = performance.now(); x.lin(set, 50); best[set] = Math.min(best[set], (performance.now() - t0) / 50); }
      res['linear 50x64->256'] = `simd128 ${best[0].toFixed(3)} ms, relaxed ${best[1].toFixed(3)} ms`;
      const g = [Infinity, Infinity];
      for (let t = 0; t < 15; t++) for (const set of [0, 1]) { const t0 = performance.now(); x.gel(set, 50); g[set] = Math.min(g[set], (performance.now() - t0) / 50); }
      res['gelu 50x256'] = `simd128 ${g[0].toFixed(3)} ms, relaxed ${g[1].toFixed(3)} ms`;
    }
  }
  return res;
}, b64);
console.log(out);
await browser.close();
