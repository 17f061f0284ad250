#!/usr/bin/env bash
# tools/repeat-eval.sh [DATASET...] - every trained run of tools/eval.sh (sasrec, sasrecf, mdsrec,
# each seed) evaluated with both history terms chosen on validation, the co-click term and the
# repeat term (`mdsrec eval --coclick tune --ranks`), then the table of docs/RESULTS.md,
# "Session 16" (tools/reports/repeat-table.mjs), beside tools/coclick-eval.sh's runs without
# any term and with the co-click term alone (run that first). Runs trained since the terms
# exist carry their weights in the checkpoint; `tune` chooses the same ones.
# Reads ${MDSREC_WORK:-build/eval}/DATASET/runs; writes the JSONs to ${MDSREC_WORK}/repeat.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
WORK=${MDSREC_WORK:-$ROOT/build/eval}
OUT=$WORK/repeat
[ -x "$BIN" ] || { echo "repeat-eval.sh: build the tool first ($BIN)" >&2; exit 1; }
[ $# -gt 0 ] || set -- amazon-scientific-mm ml-100k-posters s3rec-beauty s3rec-toys
mkdir -p "$OUT"
for ds in "$@"; do
    for row in sasrec sasrecf mdsrec; do
        for run in "$WORK/$ds/runs/$row"/s*/; do
            [ -f "$run/model.ckpt" ] || continue
            seed=$(basename "$run")
            o=$OUT/$ds-$row-$seed
            if [ ! -f "$o.json" ]; then
                "$BIN" eval --model "$run" --coclick tune --ranks --json "$o.json.tmp" > /dev/null 2> "$o.err" ||
                    { cat "$o.err" >&2; exit 1; }
                mv "$o.json.tmp" "$o.json"
            fi
            echo "$ds $row $seed: $(grep -o 'co-click beta [0-9.]*.*repeat [-0-9.]*' "$o.err")"
        done
    done
done
node "$ROOT/tools/reports/repeat-table.mjs" "$WORK/coclick" "$OUT"
