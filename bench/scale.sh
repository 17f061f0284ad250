#!/bin/sh
# bench/scale.sh EVENTS [WORK] - the whole pipeline on a generated store of EVENTS events
# (EVENTS/50 visitors, EVENTS/250 items: 50M events = 1M visitors x 200k items), each step
# under /usr/bin/time. Appends "events<TAB>step<TAB>wall_s<TAB>peak_rss_kb" to WORK/scale.tsv
# and keeps each step's output in WORK/E<EVENTS>/logs/. docs/SCALE.md has the table.
# Env: MDSREC (the binary, default build-native/bin/mdsrec), EPOCHS (2), BUDGET (train
# --time-budget, 600 s), SAMPLE (eval --sample-users, 10000), STEPS (default: all).
set -eu
E=${1:?usage: bench/scale.sh EVENTS [WORK]}
WORK=${2:-/work/scalework}
BIN=$(realpath "${MDSREC:-build-native/bin/mdsrec}")
EPOCHS=${EPOCHS:-2} BUDGET=${BUDGET:-600} SAMPLE=${SAMPLE:-10000}
STEPS=${STEPS:-"generate prepare featurize graph train eval pop"}
V=$((E / 50)) M=$((E / 250))
D=$WORK/E$E
mkdir -p "$D/logs"
step() { # step NAME ARGS...
    name=$1; shift
    echo "== $name: mdsrec $*" >&2
    /usr/bin/time -f "%e %M" -o "$D/logs/$name.time" nice -n 10 "$BIN" "$@" >"$D/logs/$name.out" 2>"$D/logs/$name.err"
    read -r wall rss <"$D/logs/$name.time"
    printf '%s\t%s\t%s\t%s\n' "$E" "$name" "$wall" "$rss" | tee -a "$WORK/scale.tsv"
}
for s in $STEPS; do case $s in
generate) step generate generate --out "$D/gen" --visitors $V --items $M --events $E --seed 1 ;;
prepare) step prepare prepare --dataset "$D/gen/dataset.json" --out "$D/prep" ;;
featurize) step featurize featurize text --dir "$D/prep" --dataset "$D/gen/dataset.json" ;;
graph) step graph graph --dir "$D/prep" --threads 2 ;;
train) step train train --data "$D/prep" --out "$D/sasrec" --model sasrec --dim 64 --max-len 50 --blocks 2 --heads 2 \
    --batch 256 --negatives 256 --epochs $EPOCHS --time-budget $BUDGET --threads 2 --quiet ;;
eval) step eval eval --model "$D/sasrec" --sample-users $SAMPLE --threads 2 ;;
pop) step pop eval --baseline pop --data "$D/prep" --sample-users $SAMPLE --threads 2 ;;
esac; done
