#!/usr/bin/env bash
# coldstart.sh - the cold-start evaluation of `mdsrec add-items` (docs/RESULTS.md, "Cold start").
# Usage: tools/coldstart.sh DATASET [--budget SECONDS] [--seed N] [--share F] [--reuse]
#                            [--train-flags "FLAGS" --tag NAME]
#   DATASET  amazon-scientific-mm | ml-100k-posters (prepared as tools/eval.sh does)
# Holds out SHARE (default 0.15) of the items (tools/reports/coldstart-split.mjs), trains mdsrec
# on the rest (capped at --budget seconds of training, default 300), exports its bundle, adds the
# held-out items with `mdsrec add-items` (their features, no retraining), then evaluates:
#   cold:  visitors whose test target is a held-out item: mdsrec+add-items (id rows centred,
#          the default, and regress; and --new-emb zero, the new items' features alone),
#          pop (the training log's counts: new items 0), contentknn
#   warm:  the other visitors: the bundle after add-items (every item, full histories) against
#          the warm bundle before it (held-out items unknown, dropped from the histories)
# --reuse keeps the split and the trained run of an earlier call (add-items and the evaluation
# again, e.g. after a change to add-items). --train-flags adds flags to mdsrec's training (e.g.
# "--emb-drop 0.2"); with --tag NAME the run and results are coldstart-NAME. Both protocols
# (history not masked / masked). Writes results/DATASET/coldstart[-NAME].json; the derived data
# goes to ${MDSREC_WORK:-build/eval}/DATASET/coldstart[-NAME].
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
DATAROOT=${MDSREC_DATA:-$ROOT/../shared/data}
DS=${1:?usage: tools/coldstart.sh DATASET [--budget S] [--seed N] [--share F]}
shift
BUDGET=300 SEED=1 SHARE=0.15 REUSE=0 TRAIN_FLAGS="" TAG=""
while [ $# -gt 0 ]; do
    case $1 in
    --budget) BUDGET=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --share) SHARE=$2; shift 2 ;;
    --reuse) REUSE=1; shift ;;
    --train-flags) TRAIN_FLAGS=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    *) echo "coldstart.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
WORK=${MDSREC_WORK:-$ROOT/build/eval}/$DS
CS=$WORK/coldstart${TAG:+-$TAG}
RES=$ROOT/results/$DS
OUT=$RES/coldstart${TAG:+-$TAG}.json
mkdir -p "$WORK" "$RES"
SRC=$DATAROOT/$DS
PREP=$WORK/prep
FLAGS=""
case $DS in
amazon-scientific-mm)
    if [ ! -f "$PREP/graph/behaviour.json" ]; then
        seq 0 1584 > "$WORK/keys.txt"
        "$BIN" prepare --inter "$SRC/Scientific.test.inter" --inter-format sequences --out "$PREP"
        "$BIN" featurize matrix --dir "$PREP" --name text --path "$SRC/Scientific.feat1CLS" --format f32 --width 512 --keys "$WORK/keys.txt"
        "$BIN" featurize matrix --dir "$PREP" --name image --path "$SRC/Scientific.feat3CLS" --format f32 --width 512 --keys "$WORK/keys.txt"
    fi ;;
ml-100k-posters)
    FLAGS="--batch 64"   # as tools/eval.sh: 943 visitors
    if [ ! -f "$PREP/features/image.json" ]; then
        sed "s|@DATA@|$SRC|g" "$ROOT/tools/reports/ml100k.json.in" > "$WORK/ml100k.json"
        "$BIN" prepare --dataset "$WORK/ml100k.json" --out "$PREP"
        nice -n 19 "$BIN" featurize text --dir "$PREP" --dataset "$WORK/ml100k.json"
        nice -n 19 "$BIN" featurize image --dir "$PREP" --dataset "$WORK/ml100k.json"
    fi ;;
*) echo "coldstart.sh: unknown dataset $DS" >&2; exit 2 ;;
esac

if [ "$REUSE" = 1 ] && [ -f "$CS/run/train.json" ]; then
    BUDGET=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).training.time_budget_s)' "$OUT")
else
    rm -rf "$CS" && mkdir -p "$CS"
    node "$ROOT/tools/reports/coldstart-split.mjs" "$PREP" "$CS" "$SHARE" "$SEED" > /dev/null
    # the graphs of the training items only (no held-out item, no test target's behaviour)
    nice -n 19 "$BIN" graph --dir "$CS/warm" > /dev/null
    # shellcheck disable=SC2086
    nice -n 19 "$BIN" train --data "$CS/warm" --out "$CS/run" --model mdsrec --seed "$SEED" $FLAGS $TRAIN_FLAGS \
        --time-budget "$BUDGET" --quiet
fi
nice -n 19 "$BIN" export --model "$CS/run" --data "$CS/warm" --out "$CS/warm.mdsb" --no-compare > /dev/null
t0=$(date +%s.%N)
"$BIN" add-items --model "$CS/run" --data "$CS/warm" --bundle "$CS/warm.mdsb" --from "$CS/all" \
    --keys "$CS/new-keys.txt" --out "$CS/added.mdsb" | tee "$CS/add-items.txt"
t1=$(date +%s.%N)
# the conservative id rule too (docs/ADD-ITEMS.md): the trade-off between cold and warm
"$BIN" add-items --model "$CS/run" --data "$CS/warm" --bundle "$CS/warm.mdsb" --from "$CS/all" \
    --keys "$CS/new-keys.txt" --out "$CS/added-regress.mdsb" --id-row regress >> "$CS/add-items.txt"
# no embedding term for the new items: their features alone (what --emb-drop trains for)
"$BIN" add-items --model "$CS/run" --data "$CS/warm" --bundle "$CS/warm.mdsb" --from "$CS/all" \
    --keys "$CS/new-keys.txt" --out "$CS/added-zero.mdsb" --new-emb zero >> "$CS/add-items.txt"

ev() { nice -n 19 "$BIN" eval --data "$1" --json "$2" "${@:3}" > /dev/null; }
# cold: with each visitor's rank too, for the paired difference against content-kNN
ev "$CS/eval-cold" "$CS/cold-mdsrec.json" --bundle "$CS/added.mdsb" --ranks
# pop as it stands when the new items arrive: the training log's counts, new items 0
ev "$CS/eval-cold" "$CS/cold-pop.json" --baseline pop --pop-from "$CS/warm"
ev "$CS/eval-cold" "$CS/cold-contentknn.json" --baseline contentknn --ranks
ev "$CS/eval-cold" "$CS/cold-mdsrec-regress.json" --bundle "$CS/added-regress.mdsb" --ranks
ev "$CS/eval-cold" "$CS/cold-mdsrec-zero.json" --bundle "$CS/added-zero.mdsb" --ranks
# warm: with each visitor's rank, for the paired difference before/after (same visitors, same order)
ev "$CS/eval-warm" "$CS/warm-after.json" --bundle "$CS/added.mdsb" --ranks
ev "$CS/eval-warm" "$CS/warm-after-regress.json" --bundle "$CS/added-regress.mdsb" --ranks
ev "$CS/eval-warm" "$CS/warm-after-zero.json" --bundle "$CS/added-zero.mdsb" --ranks
ev "$CS/before-warm" "$CS/warm-before.json" --bundle "$CS/warm.mdsb" --ranks

node - "$CS" "$OUT" "$BUDGET" "$(echo "$t1 - $t0" | bc)" "$TRAIN_FLAGS" <<'JS'
const fs = require('fs');
const [cs, out, budget, addSeconds, trainFlags] = process.argv.slice(2);
const read = (f) => JSON.parse(fs.readFileSync(`${cs}/${f}`, 'utf8'));
const pick = (j) => {
  const p = j.runs[0].protocols, r = {};
  for (const [name, v] of Object.entries(p)) r[name] = { 'HR@10': v.test['HR@10'], 'NDCG@10': v.test['NDCG@10'], users: v.test.users ?? j.runs[0].users };
  return r;
};
// NDCG@10 of `after` minus `before` on the same visitors, visitor by visitor (the warm ones after
// add-items against before it; the cold ones, mdsrec against content-kNN): mean, relative to
// `before`, and its 95 % interval (normal approximation)
const paired = (after, before) => {
  const ra = after.runs[0], rb = before.runs[0], out = {};
  for (const prot of ['unmasked', 'masked']) {
    const rk = (r) => (prot === 'unmasked' ? r.ranks : r.protocols.masked.ranks).test;
    const a = rk(ra), b = rk(rb);
    if (a.length !== b.length) return null; // not the same visitors
    const nd = (r) => (r <= 10 ? 1 / Math.log2(r + 1) : 0);
    let s = 0, s2 = 0, base = 0;
    for (let u = 0; u < a.length; u++) { const d = nd(a[u]) - nd(b[u]); s += d; s2 += d * d; base += nd(b[u]); }
    const n = a.length, m = s / n, se = Math.sqrt((s2 / n - m * m) / (n - 1)), rel = (x) => x / (base / n);
    out[prot] = { ndcg10_diff: m, ndcg10_diff_95: [m - 1.96 * se, m + 1.96 * se], relative: rel(m), relative_95: [rel(m - 1.96 * se), rel(m + 1.96 * se)] };
  }
  return out;
};
const train = JSON.parse(fs.readFileSync(`${cs}/run/train.json`, 'utf8'));
const res = {
  split: read('split.json'),
  training: { model: 'mdsrec', flags: trainFlags || '', time_budget_s: Number(budget), epochs: Array.isArray(train.epochs) ? train.epochs.length : null, seeds: 1 },
  add_items_seconds: Number(addSeconds),
  id_rows: { mdsrec_add_items: 'centred', mdsrec_add_items_regress: 'regress', mdsrec_add_items_zero: 'centred, --new-emb zero' },
  cold: { mdsrec_add_items: pick(read('cold-mdsrec.json')), mdsrec_add_items_regress: pick(read('cold-mdsrec-regress.json')),
          mdsrec_add_items_zero: pick(read('cold-mdsrec-zero.json')),
          pop: pick(read('cold-pop.json')), contentknn: pick(read('cold-contentknn.json')),
          paired_minus_contentknn: { mdsrec_add_items: paired(read('cold-mdsrec.json'), read('cold-contentknn.json')),
                                     mdsrec_add_items_zero: paired(read('cold-mdsrec-zero.json'), read('cold-contentknn.json')) } },
  warm: { after_add_items: pick(read('warm-after.json')), after_add_items_regress: pick(read('warm-after-regress.json')),
          after_add_items_zero: pick(read('warm-after-zero.json')),
          before: pick(read('warm-before.json')),
          paired_after_minus_before: { mdsrec_add_items: paired(read('warm-after.json'), read('warm-before.json')),
                                       mdsrec_add_items_regress: paired(read('warm-after-regress.json'), read('warm-before.json')),
                                       mdsrec_add_items_zero: paired(read('warm-after-zero.json'), read('warm-before.json')) } },
};
fs.writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
console.log(JSON.stringify(res, null, 1));
JS
