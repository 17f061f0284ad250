#!/usr/bin/env bash
# `npm run bench`: builds the wasm core and a native tool compiled for this CPU, writes the synth
# bundles (10k, 100k, 1M items; fp32 and int8) into build-bench/bundles (scratch, git-ignored),
# times them natively (mdsrec bench) and in headless chromium beside TF.js and onnxruntime-web
# (bench/run.mjs), and writes docs/BENCH.md and docs/BENCH.json.
# Knobs: BENCH_SIZES ("10000 100000 1000000"), BENCH_CALLS (200), BENCH_WARMUP (20),
#        BENCH_PEERS (1; 0 leaves the peers out), BENCH_OUT (docs).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${BENCH_SIZES:-"10000 100000 1000000"}
CALLS=${BENCH_CALLS:-200}
WARMUP=${BENCH_WARMUP:-20}
OUT=${BENCH_OUT:-docs}

echo "== build: wasm core (web/wasm) and the native tool (build-bench, -O3 -march=native)"
bash scripts/setup.sh >/dev/null
bash scripts/build.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DMDSREC_NATIVE_ARCH=ON -DMDSREC_WASM=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" --target mdsrec >/dev/null
BIN=build-bench/bin/mdsrec

echo "== bundles (build-bench/bundles)"
mkdir -p build-bench/bundles
cases=()
files=()
for n in $SIZES; do
  for t in fp32 int8; do
    f=build-bench/bundles/synth-$n-$t.mdsb
    # rewritten when the tool is newer: a format change must not leave stale bundles
    if [ ! -f "$f" ] || [ "$BIN" -nt "$f" ]; then "$BIN" synth --out "$f" --items "$n" --dtype "$t"; fi
    files+=("$f")
  done
done
# the 100k int8 case first: its cold start is measured from page start
for n in 100000 $SIZES; do
  for t in int8 fp32; do
    c=synth-$n-$t
    [[ " $SIZES " == *" $n "* ]] && [[ " ${cases[*]-} " != *" $c "* ]] && cases+=("$c")
  done
done

echo "== the peers' packages (bench/node_modules)"
(cd bench && { npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })

echo "== native: $BIN bench"
"$BIN" bench "${files[@]}" --calls "$CALLS" --warmup "$WARMUP" > build-bench/native.json

echo "== browser: headless chromium"
peers=()
[ "${BENCH_PEERS:-1}" = 0 ] && peers=(--no-peers)
mkdir -p "$OUT"
node bench/run.mjs --bundles build-bench/bundles --native build-bench/native.json \
  --cases "$(IFS=,; echo "${cases[*]}")" --calls "$CALLS" --warmup "$WARMUP" \
  --md "$OUT/BENCH.md" --json "$OUT/BENCH.json" "${peers[@]}"
