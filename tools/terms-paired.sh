#!/usr/bin/env bash
# tools/terms-paired.sh DATASET [ROW...] - mdsrec against other rows of tools/eval.sh, visitor by
# visitor, every model with its co-click and repeat terms chosen on validation (`mdsrec eval
# --coclick tune`: runs trained before the terms existed get them as a run trained now would):
# validation and test, history not masked and masked (tools/reports/paired.mjs, 3 seeds pooled
# per visitor). Default rows: mdsrec-s16 sasrec sasrecf (docs/RESULTS.md, "Session 17").
# Reads ${MDSREC_WORK:-build/eval}/DATASET/runs/ROW/s1..s3; writes the ranks to
# ${MDSREC_WORK}/DATASET/ranks-terms/ and the table to results/DATASET/terms-paired.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
WORK=${MDSREC_WORK:-$ROOT/build/eval}
NODE=${NODE:-node}
DS=${1:?usage: tools/terms-paired.sh DATASET [ROW...]}
shift
[ $# -gt 0 ] || set -- mdsrec-s16 sasrec sasrecf
[ -x "$BIN" ] || { echo "terms-paired.sh: build the tool first ($BIN)" >&2; exit 1; }
RUNS=$WORK/$DS/runs RK=$WORK/$DS/ranks-terms RES=$ROOT/results/$DS
[ -f "$WORK/$DS/prep/sequences.tsv" ] || { echo "terms-paired.sh: no prepared data at $WORK/$DS/prep (tools/eval.sh $DS)" >&2; exit 1; }
mkdir -p "$RK" "$RES"
ranks() { # row: its seeds' ranks, both protocols (kept: a row already ranked is not ranked again)
    local r=$1 m=()
    for s in 1 2 3; do [ -f "$RUNS/$r/s$s/model.ckpt" ] && m+=(--model "$RUNS/$r/s$s"); done
    [ ${#m[@]} -gt 0 ] || { echo "terms-paired.sh: no run of $r under $RUNS" >&2; exit 1; }
    for mask in "" --mask-history; do
        local o=$RK/$r${mask:+.masked}.json
        [ -f "$o" ] && continue
        "$BIN" eval "${m[@]}" --data "$WORK/$DS/prep" --coclick tune $mask --ranks --json "$o.tmp" > /dev/null 2> "$RK/$r.err" ||
            { cat "$RK/$r.err" >&2; exit 1; }
        mv "$o.tmp" "$o"
    done
}
ranks mdsrec
for r in "$@"; do ranks "$r"; done
{
    echo "### $DS: mdsrec against each row, with the co-click and repeat terms, visitor by visitor"
    echo
    echo "NDCG@10 per visitor, each the mean over seeds 1-3; the difference's standard error over visitors"
    echo "and a paired bootstrap 95 % interval (10,000 resamples). \"masked\": the visitor's history left out"
    echo "of the ranking. Command: \`tools/terms-paired.sh $DS $*\`."
    echo
    echo "| split | models | mdsrec | other | difference | relative | SE | 95 % interval | mdsrec ahead in |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for r in "$@"; do
        for sp in valid test; do
            "$NODE" "$ROOT/tools/reports/paired.mjs" "$RK/mdsrec.json" "$RK/$r.json" --split $sp --md-row "mdsrec,$r"
            "$NODE" "$ROOT/tools/reports/paired.mjs" "$RK/mdsrec.masked.json" "$RK/$r.masked.json" --split $sp \
                --md-row "mdsrec,$r" | sed "s/^| $sp |/| $sp, masked |/"
        done
    done
} > "$RES/terms-paired.md.tmp"
mv "$RES/terms-paired.md.tmp" "$RES/terms-paired.md"
cat "$RES/terms-paired.md"
