#!/usr/bin/env bash
# tools/coclick-eval.sh [DATASET...] - every trained run of tools/eval.sh (sasrec, sasrecf, mdsrec,
# each seed) evaluated with the co-click term chosen on validation and without it
# (`mdsrec eval --coclick tune|off --ranks`), then the table of docs/RESULTS.md, "Session 15"
# (tools/reports/coclick-table.mjs). Runs trained since the term exists carry their beta in
# the checkpoint; `tune` chooses the same one, so older runs need no retraining.
# Reads ${MDSREC_WORK:-build/eval}/DATASET/runs; writes the JSONs to ${MDSREC_WORK}/coclick.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
WORK=${MDSREC_WORK:-$ROOT/build/eval}
OUT=$WORK/coclick
[ -x "$BIN" ] || { echo "coclick-eval.sh: build the tool first ($BIN)" >&2; exit 1; }
[ $# -gt 0 ] || set -- amazon-scientific-mm ml-100k-posters s3rec-beauty s3rec-toys
mkdir -p "$OUT"
for ds in "$@"; do
    for row in sasrec sasrecf mdsrec; do
        for run in "$WORK/$ds/runs/$row"/s*/; do
            [ -f "$run/model.ckpt" ] || continue
            seed=$(basename "$run")
            for mode in tune off; do
                o=$OUT/$ds-$row-$seed-$mode
                [ -f "$o.json" ] && continue
                "$BIN" eval --model "$run" --coclick "$mode" --ranks --json "$o.json.tmp" > /dev/null 2> "$o.err" ||
                    { cat "$o.err" >&2; exit 1; }
                mv "$o.json.tmp" "$o.json"
            done
            echo "$ds $row $seed: $(grep -o 'co-click beta [0-9.]*' "$OUT/$ds-$row-$seed-tune.err" || echo 'no behaviour graph')"
        done
    done
done
node "$ROOT/tools/reports/coclick-table.mjs" "$OUT"
