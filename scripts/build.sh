#!/usr/bin/env bash
# Builds everything without testing: the native library, the `mdsrec` tool (build/bin/mdsrec),
# the C tests (build/tests/) and the WebAssembly cores (web/wasm/mdsrec-{simd,scalar}.wasm, and
# mdsrec-relaxed.wasm where clang-19 and wasm-ld-19 are installed), then the minified shim that a
# store ships (web/mdsrec.min.js, web/worker.min.js; needs the dev dependencies: npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
node scripts/minify-shim.mjs
