#!/usr/bin/env bash
# `npm test`: set up, build, then every suite: C tests (plain and under ASan+UBSan),
# JS tests (node --test) and browser tests (Playwright on Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh

echo "== C tests"
ctest --test-dir build --output-on-failure -j 2

echo "== C tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMDSREC_SANITIZE=ON -DMDSREC_WASM=OFF >/dev/null
cmake --build build-asan -j "$(nproc)"
# UBSan is built with -fno-sanitize-recover=all: any report fails the test; so does a leak
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j 2

if command -v clang-14 >/dev/null; then
  echo "== Fuzz harnesses: build, replay the seed corpora (tests/fuzz/run.sh 0)"
  bash tests/fuzz/run.sh 0
fi

echo "== JS tests"
node --test tests/js/

if ls tests/e2e/*.spec.mjs >/dev/null 2>&1; then
  echo "== Browser tests"
  npx playwright test
fi
