#!/usr/bin/env bash
# tools/epoch-time.sh [DATASET...] - the time of one training epoch (its steps and its
# validation) of sasrec, sasrecf, mdsrec-s11 (2 blocks in every channel) and mdsrec (the shipped
# defaults), one thread each, one after another: the time-per-epoch table of docs/RESULTS.md.
# Run it on an otherwise idle machine. Reads the prepared data tools/eval.sh made
# (${MDSREC_WORK:-build/eval}/DATASET/prep; run `tools/eval.sh DATASET --quick --rows pop` first).
# Default datasets: amazon-scientific-mm ml-100k-posters s3rec-beauty s3rec-toys.
# EPOCH_TIME_MODELS="sasrec mdsrec" times only those of the four models.
# Prints one line per dataset and model: DATASET MODEL SECONDS EPOCH: the wall clock of the whole
# command (loading, the epoch and the final evaluation), and the epoch alone (its steps and its
# validation, from train.json).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
WORK=${MDSREC_WORK:-$ROOT/build/eval}
[ -x "$BIN" ] || { echo "epoch-time.sh: build the tool first ($BIN)" >&2; exit 1; }
[ $# -gt 0 ] || set -- amazon-scientific-mm ml-100k-posters s3rec-beauty s3rec-toys
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ds in "$@"; do
    prep=$WORK/$ds/prep
    [ -f "$prep/sequences.tsv" ] || { echo "epoch-time.sh: no prepared data at $prep (tools/eval.sh $ds --quick --rows pop)" >&2; exit 1; }
    for m in "sasrec|--model sasrec" "sasrecf|--model sasrecf" "mdsrec-s11|--model mdsrec --channel-blocks 2" "mdsrec|--model mdsrec"; do
        name=${m%%|*}; flags=${m#*|}
        case " ${EPOCH_TIME_MODELS:-sasrec sasrecf mdsrec-s11 mdsrec} " in *" $name "*) ;; *) continue ;; esac
        rm -rf "$out/run"
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086
        "$BIN" train --data "$prep" --out "$out/run" $flags --epochs 1 --threads 1 --quiet > /dev/null
        t1=$(date +%s.%N)
        # the epoch itself (its steps and its validation), as train.json records it
        ep=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).epochs[0].seconds.toFixed(2))' "$out/run/train.json")
        awk -v a="$t0" -v b="$t1" -v d="$ds" -v n="$name" -v e="$ep" 'BEGIN { printf "%s %s %.2f %s\n", d, n, b - a, e }'
    done
done
