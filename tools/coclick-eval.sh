#!/usr/bin/env bash
# tools/coclick-eval.sh [DATASET...] - every trained run of tools/eval.sh (sasrec, sasrecf, mdsrec,
# each seed) evaluated three ways (`mdsrec eval --ranks`): without the history terms
# (`--coclick off`), with the co-click term alone, chosen on validation (`--coclick tune
# --no-repeat`: docs/RESULTS.md, "Session 15"), and with both the co-click and the repeat terms
# (`--coclick tune`: "Session 16"); then the tables of those two sections
# (tools/reports/coclick-table.mjs, tools/reports/repeat-table.mjs). Runs trained since the terms
# exist carry their weights in the checkpoint; `tune` chooses the same ones, so older runs need
# no retraining.
# Reads ${MDSREC_WORK:-build/eval}/DATASET/runs; writes DATASET-MODEL-sSEED-{off,tune,both}.json
# (and the .err with the weights chosen) to ${MDSREC_WORK}/coclick.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
WORK=${MDSREC_WORK:-$ROOT/build/eval}
OUT=$WORK/coclick
[ -x "$BIN" ] || { echo "coclick-eval.sh: build the tool first ($BIN)" >&2; exit 1; }
[ $# -gt 0 ] || set -- amazon-scientific-mm ml-100k-posters s3rec-beauty s3rec-toys
mkdir -p "$OUT"
flags() {
    case $1 in
    off) echo "--coclick off" ;;
    tune) echo "--coclick tune --no-repeat" ;;
    both) echo "--coclick tune" ;;
    esac
}
for ds in "$@"; do
    for row in sasrec sasrecf mdsrec; do
        for run in "$WORK/$ds/runs/$row"/s*/; do
            [ -f "$run/model.ckpt" ] || continue
            seed=$(basename "$run")
            for mode in off tune both; do
                o=$OUT/$ds-$row-$seed-$mode
                [ -f "$o.json" ] && continue
                # shellcheck disable=SC2046
                "$BIN" eval --model "$run" $(flags $mode) --ranks --json "$o.json.tmp" > /dev/null 2> "$o.err" ||
                    { cat "$o.err" >&2; exit 1; }
                mv "$o.json.tmp" "$o.json"
            done
            echo "$ds $row $seed: $(grep -o 'co-click beta [0-9.]*.*repeat [-0-9.]*' "$OUT/$ds-$row-$seed-both.err" ||
                echo 'no behaviour graph')"
        done
    done
done
node "$ROOT/tools/reports/coclick-table.mjs" "$OUT"
node "$ROOT/tools/reports/repeat-table.mjs" "$OUT"
