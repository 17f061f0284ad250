// Runs a C test compiled to standalone wasm (emcc -sSTANDALONE_WASM) under Node's WASI, so
// the SIMD128 kernels are tested by the same C tests as the native build.
// Usage: node scripts/run_wasi.mjs TEST.wasm
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
import { cwd } from 'node:process';

process.removeAllListeners('warning'); // WASI is "experimental" in Node 20; the warning is noise
const wasi = new WASI({ version: 'preview1', args: [process.argv[2]], env: {}, preopens: { '.': cwd() }, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(process.argv[2]));
const instance = await WebAssembly.instantiate(module, {
  wasi_snapshot_preview1: wasi.wasiImport,
  env: { emscripten_notify_memory_growth() {} },
});
process.exitCode = wasi.start(instance);
