#!/usr/bin/env bash
# `npm run bench`: builds the wasm cores and a native tool compiled for this CPU, writes the synth
# bundles (10k, 100k, 1M items in each format below) into build-bench/bundles (scratch,
# git-ignored), times them natively (mdsrec bench) and in headless chromium with each core build
# (simd128, relaxed, scalar) beside TF.js and onnxruntime-web (bench/run.mjs), takes the cold
# start through the shim beside a bare fetch (bench/coldstart.mjs), and writes docs/BENCH.md and
# docs/BENCH.json.
# Knobs: BENCH_SIZES ("10000 100000 1000000"), BENCH_CALLS (200), BENCH_WARMUP (20),
#        BENCH_FORMATS ("fp32 int8 pq int8-f16-bits pq-q8-bits": DTYPE[-WEIGHTS][-bits], DTYPE
#        fp32|int8|f16|pq|pqM (M codes a row), WEIGHTS f16|q8, bits = NEIGHBOURS_B lists,
#        shipped = the channel depths a trained mdsrec ships, 2 blocks in the id channel only),
#        BENCH_BUILDS ("simd relaxed scalar"; the first is the reference), BENCH_COLD_RUNS (5; 0
#        skips bench/coldstart.mjs), BENCH_PEERS (1; 0 leaves the peers out), BENCH_OUT (docs),
#        BENCH_SKIP_BUILD (0; 1 reuses web/wasm and build-bench as they are).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${BENCH_SIZES:-"10000 100000 1000000"}
CALLS=${BENCH_CALLS:-200}
WARMUP=${BENCH_WARMUP:-20}
OUT=${BENCH_OUT:-docs}

FORMATS=${BENCH_FORMATS:-"fp32 int8 pq int8-f16-bits pq-q8-bits"}
BUILDS=${BENCH_BUILDS:-"simd relaxed scalar"}
COLD_RUNS=${BENCH_COLD_RUNS:-5}

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "== build: wasm cores (web/wasm) and the native tool (build-bench, -O3 -march=native)"
  bash scripts/setup.sh >/dev/null
  bash scripts/build.sh
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DMDSREC_NATIVE_ARCH=ON -DMDSREC_WASM=OFF >/dev/null
  cmake --build build-bench -j "$(nproc)" --target mdsrec >/dev/null
fi
BIN=build-bench/bin/mdsrec

# synth options of a format name (BENCH_FORMATS above)
synth_flags() {
  local IFS=- first=1 tok out=()
  for tok in $1; do
    if [ $first = 1 ]; then
      first=0
      case $tok in
        fp32|int8|f16) out+=(--dtype "$tok") ;;
        pq) out+=(--dtype pq) ;;
        pq[0-9]*) out+=(--dtype pq --pq-m "${tok#pq}") ;;
        *) echo "bench: format $1: item dtype $tok is not fp32, int8, f16, pq or pqM" >&2; return 1 ;;
      esac
    else
      case $tok in
        f16|q8) out+=(--weights "$tok") ;;
        bits) out+=(--neighbours-format bits) ;;
        # the depths `mdsrec train` ships for mdsrec (format v3): 2 blocks in the id channel, none
        # in the modality channels (docs/TRAINING.md, --channel-blocks)
        shipped) out+=(--channel-blocks 2,0,0) ;;
        *) echo "bench: format $1: $tok is not f16, q8 (weights), bits (neighbour lists) or shipped (depths)" >&2; return 1 ;;
      esac
    fi
  done
  echo "${out[@]}"
}

echo "== bundles (build-bench/bundles)"
mkdir -p build-bench/bundles
cases=()
files=()
for n in $SIZES; do
  for t in $FORMATS; do
    f=build-bench/bundles/synth-$n-$t.mdsb
    flags=$(synth_flags "$t")
    # rewritten when the tool is newer: a format change must not leave stale bundles
    # shellcheck disable=SC2086 # flags are words
    if [ ! -f "$f" ] || [ "$BIN" -nt "$f" ]; then "$BIN" synth --out "$f" --items "$n" $flags; fi
    files+=("$f")
  done
done
# the 100k int8 case first: its cold start is measured from page start
for n in 100000 $SIZES; do
  for t in int8 $FORMATS; do
    c=synth-$n-$t
    [[ " $SIZES " == *" $n "* ]] && [[ " $FORMATS " == *" $t "* ]] && [[ " ${cases[*]-} " != *" $c "* ]] && cases+=("$c")
  done
done

echo "== the peers' packages (bench/node_modules)"
(cd bench && { npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })

echo "== native: $BIN bench"
"$BIN" bench "${files[@]}" --calls "$CALLS" --warmup "$WARMUP" > build-bench/native.json

echo "== browser: headless chromium"
peers=()
[ "${BENCH_PEERS:-1}" = 0 ] && peers=(--no-peers)
cold=()
if [ "$COLD_RUNS" != 0 ]; then
  # the smallest 100k bundle (the compact one a store would ship), else the first case's
  c=${cases[0]}
  for t in $FORMATS; do [[ " $SIZES " == *" 100000 "* ]] && [[ "$t" == *bits* ]] && c=synth-100000-$t; done
  echo "== cold start through the shim beside a bare fetch: $c ($COLD_RUNS runs)"
  node bench/coldstart.mjs --bundle "build-bench/bundles/$c.mdsb" --runs "$COLD_RUNS" --json build-bench/coldstart.json
  cold=(--coldstart build-bench/coldstart.json)
fi
mkdir -p "$OUT"
node bench/run.mjs --bundles build-bench/bundles --native build-bench/native.json \
  --cases "$(IFS=,; echo "${cases[*]}")" --calls "$CALLS" --warmup "$WARMUP" --builds "$(echo $BUILDS | tr " " ,)" \
  --md "$OUT/BENCH.md" --json "$OUT/BENCH.json" "${peers[@]}" "${cold[@]}"
