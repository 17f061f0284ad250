#!/usr/bin/env bash
# tools/eval.sh DATASET [options] - the results table of one dataset, end to end:
# features and graphs, every row (baselines, models, ablations) for every seed, the leave-one-out
# metrics of MODEL.md section 6, and results/DATASET/{results.json,results.md}.
#
#   DATASET     amazon-scientific-mm | ml-100k-posters | s3rec-beauty | s3rec-toys, or the path of a
#               prepared directory of your own (mdsrec prepare; with its features and graphs): its
#               rows are the baselines, sasrec, and, when it has features, sasrecf, mdsrec and the
#               ablations that need no particular feature name
#   --seeds L   comma list of seeds (default 1,2,3)
#   --rows L    only these rows (default: every row of the dataset; see `--list`). Either way the
#               table lists every row, with seeds 1-3 and any others asked for
#   --quick     smoke test: seed 1, 3 epochs, results under the work directory only
#   --epochs N  at most N epochs per training (default: the trainer's); a capped table says so
#   --jobs N    trainings run at once (default 2); each uses --threads (default 1)
#   --threads N threads per training (default 1: bit-reproducible for a seed)
#   --tune      validation grid for mdsrec (seed 1) instead of the table: results/DATASET/tune.md
#   --export    also export the mdsrec seed-1 model (f32, i8), evaluate the i8 bundle through the
#               core and write the explanations of five sample visitors (results/DATASET/)
#   --report    only rebuild results.json / results.md from the runs already done
#   --paired    also rank every visitor with each finished seed of mdsrec, sasrec and sasrecf and
#               compare mdsrec with each baseline visitor by visitor (paired bootstrap over the
#               visitors, tools/reports/paired.mjs; test also with the history masked):
#               results/DATASET/paired.md; also each row's
#               early-stopping optimism (valid-window.md) and, on ml-100k, the visitors split by
#               the time before their target (by-gap.md)
#   --windows W the earlier studies' settings, each with runs, ranks, tuning and bundles in
#               directories of their own and tables in results/DATASET/W-SUBDIR/ (without it:
#               the trainer's shipped defaults, as `mdsrec train` run by hand):
#               last: each visitor's last window of at most L inputs, batch 64 on ml-100k and
#               the S3-Rec sets (the tables of sessions 1-6, in results/DATASET/last-window/);
#               all: every training window, batch as last (results/DATASET/windows-all/)
#   --list      print the rows and their training flags, and exit
#
# Every table has both protocols: history not masked (MODEL.md 6) and history masked (the S3-Rec
# family of published tables). A run that was interrupted is evaluated at its best epoch so far
# (mdsrec eval -> RUN/partial.json) and listed as partial with its epochs.
#
# Reads ${MDSREC_DATA:-../shared/data} (next to the repository) and writes the derived data
# (prepared directory, features, graphs, checkpoints, bundles) under ${MDSREC_WORK:-build/eval}/DATASET,
# outside version control. Only metric tables and JSON go to results/DATASET. A run whose
# train.json already holds its final metrics is not trained again; an interrupted one resumes.
# Every training runs under `nice -n 19`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
DATAROOT=${MDSREC_DATA:-$ROOT/../shared/data}
NODE=${NODE:-node}

usage() { sed -n '2,42p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
DS=$1; shift
SEEDS=1,2,3; ROWS=""; QUICK=0; JOBS=2; THREADS=1; TUNE=0; EXPORT=0; REPORT=0; LIST=0; PAIRED=0; EPOCHS=""
WINDOWS=default
while [ $# -gt 0 ]; do
    case $1 in
    --seeds) SEEDS=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --jobs) JOBS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --tune) TUNE=1; shift ;;
    --export) EXPORT=1; shift ;;
    --report) REPORT=1; shift ;;
    --paired) PAIRED=1; shift ;;
    --list) LIST=1; shift ;;
    --windows) WINDOWS=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2
        [[ $EPOCHS =~ ^[1-9][0-9]*$ ]] || { echo "eval.sh: --epochs expects a positive integer, found \"$EPOCHS\"" >&2; exit 2; } ;;
    -h|--help) usage ;;
    *) echo "eval.sh: unknown option $1" >&2; usage ;;
    esac
done
[ -x "$BIN" ] || { echo "eval.sh: build the tool first ($BIN)" >&2; exit 1; }

# A prepared directory of one's own: its name is the dataset's; its tables stay in the work directory
OWN=""
if [ -d "$DS" ] && [ -f "$DS/items.txt" ] && [ -f "$DS/sequences.tsv" ]; then
    OWN=$(cd "$DS" && pwd); DS=$(basename "$OWN")
fi

case $WINDOWS in
default) SUFFIX=""; EXTRA=""; LABEL=$DS ;;  # the trainer's shipped defaults
last) SUFFIX="-last-window"; EXTRA="--windows last"; LABEL="$DS, each visitor's last window (--windows last, sessions 1-6)" ;;
all) SUFFIX="-windows-all"; EXTRA="--windows all"; LABEL="$DS, every training window (--windows all)" ;;
*) echo "eval.sh: --windows expects last or all, found \"$WINDOWS\"" >&2; exit 2 ;;
esac
if [ -n "$EPOCHS" ]; then  # a capped run is another experiment: its own runs and tables
    SUFFIX="$SUFFIX-e$EPOCHS"; EXTRA="$EXTRA --epochs $EPOCHS"; LABEL="$LABEL, at most $EPOCHS epochs"
fi
WORK=${MDSREC_WORK:-$ROOT/build/eval}/$DS
RES=$ROOT/results/$DS${SUFFIX:+/${SUFFIX#-}}
[ -z "$OWN" ] || RES=$WORK/results$SUFFIX
if [ $QUICK = 1 ]; then SEEDS=1; RES=$WORK/quick-results$SUFFIX; RUNS=$WORK/quick-runs$SUFFIX; EXTRA="$EXTRA --epochs 3"
else RUNS=$WORK/runs$SUFFIX; fi
mkdir -p "$WORK" "$RES" "$RUNS"

log() { printf '== %s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# Per dataset: where the data is, how to prepare it, which rows exist, and the model settings
# chosen on VALIDATION NDCG@10 (tools/eval.sh DATASET --tune; results/DATASET/tune.md).
# ---------------------------------------------------------------------------------------------
MM_ROWS="pop itemknn sasrec sasrecf mdsrec plain-fusion no-aux gate-learned no-graph no-behaviour no-id image-only text-only centre-mean centre-token centre-none blocks-0 shared-attention id-features aux-sampled sasrec-sampled sasrec-plain-ids sasrecf-plain-ids mdsrec-plain-ids gate-global mdsrec-s9 global-gate channel-ids mdsrec-s10 mdsrec-s11 channel-blocks-1 emb-drop-0.1 emb-drop-0.2 emb-drop-0.3 mdsrec-s16 modality-first-10 mdsrec-s17 sasrec-s17 sasrecf-s17"
# any feature names (a shop's own data, the attribute channel of the S3-Rec sets)
FEAT_ROWS="pop itemknn sasrec sasrecf mdsrec plain-fusion no-aux gate-learned no-graph no-behaviour no-id centre-mean centre-token centre-none blocks-0 shared-attention id-features aux-sampled sasrec-sampled sasrec-plain-ids sasrecf-plain-ids mdsrec-plain-ids gate-global mdsrec-s9 global-gate channel-ids mdsrec-s10 mdsrec-s11 channel-blocks-1 emb-drop-0.1 emb-drop-0.2 emb-drop-0.3 mdsrec-s16 modality-first-10 mdsrec-s17 sasrec-s17 sasrecf-s17"
ID_ROWS="pop itemknn sasrec mdsrec centre-mean centre-token centre-none blocks-0 sasrec-sampled sasrec-plain-ids mdsrec-plain-ids mdsrec-s9 mdsrec-s17 sasrec-s17"
if [ -n "$OWN" ]; then DSKIND=own; else DSKIND=$DS; fi
# the shipped defaults pick the batch from the data (docs/TRAINING.md, "Shipped defaults"); the
# earlier studies (--windows last|all) fixed 64 on ml-100k and the S3-Rec sets
STUDY_BATCH=""; [ "$WINDOWS" = default ] || STUDY_BATCH="--batch 64"
case $DSKIND in
own)
    SRC=$OWN; PREP=""; DATA=$OWN
    if ls "$OWN"/features/*.json > /dev/null 2>&1; then ALL_ROWS=$FEAT_ROWS; else ALL_ROWS=$ID_ROWS; fi
    MODEL_FLAGS="" ;;  # the trainer's shipped defaults
amazon-scientific-mm)
    SRC=$DATAROOT/amazon-scientific-mm; PREP=$WORK/prep; DATA=$PREP; ALL_ROWS=$MM_ROWS
    MODEL_FLAGS="" ;;  # tuned on validation: see results/amazon-scientific-mm/last-window/tune.md
ml-100k-posters)
    SRC=$DATAROOT/ml-100k-posters; PREP=$WORK/prep; DATA=$PREP; ALL_ROWS=$MM_ROWS
    MODEL_FLAGS=$STUDY_BATCH ;;
s3rec-beauty|s3rec-toys)
    # the sequences, prepared, with the items' attribute lists (brand and category ids) as a
    # feature of their own: the attributes channel of mdsrec, the early-fused features of sasrecf
    SRC=$DATAROOT/s3rec-benchmarks; PREP=$WORK/prep; DATA=$PREP; ALL_ROWS=$FEAT_ROWS
    case $DS in s3rec-beauty) S3NAME=Beauty ;; *) S3NAME=Toys_and_Games ;; esac
    MODEL_FLAGS=$STUDY_BATCH ;;
*) echo "eval.sh: unknown dataset $DS (amazon-scientific-mm, ml-100k-posters, s3rec-beauty, s3rec-toys, or a prepared directory)" >&2; exit 2 ;;
esac

# Training flags of each row (on top of MODEL_FLAGS, which apply to every trained row).
# "image-only" / "text-only" keep the id channel and drop the other modality.
# Every row but the shipped models stops as every run before session 18 did: --patience 10
# (since then the default grows on a small validation: docs/TRAINING.md, "Shipped defaults").
row_flags() {
    local f
    f=$(row_flags_base "$1") || return 1
    case $1 in
    sasrec|sasrecf|mdsrec|pop|itemknn) echo "$f" ;;
    *) echo "$f --patience 10" ;;
    esac
}
row_flags_base() {
    case $1 in
    sasrec) echo "--model sasrec" ;;
    sasrecf) echo "--model sasrecf" ;;
    mdsrec) echo "--model mdsrec" ;;
    plain-fusion) echo "--model mdsrec --aux-loss 0 --gate learned" ;;  # MODEL.md 4 trained as written
    no-aux) echo "--model mdsrec --aux-loss 0" ;;
    gate-learned) echo "--model mdsrec --gate learned" ;;
    no-graph) echo "--model mdsrec --no-graph" ;;
    no-behaviour) echo "--model mdsrec --no-behaviour" ;;
    no-id) echo "--model mdsrec --no-id" ;;
    image-only) echo "--model mdsrec --channels id,image" ;;
    text-only) echo "--model mdsrec --channels id,text" ;;
    centre-mean) echo "--model mdsrec --centre mean" ;;
    centre-token) echo "--model mdsrec --centre token" ;;
    centre-none) echo "--model mdsrec --centre none" ;;
    blocks-0) echo "--model mdsrec --blocks 0" ;;
    shared-attention) echo "--model mdsrec --shared-encoder" ;;
    id-features) echo "--model mdsrec --gate fixed --no-channel-ids --channel-blocks 2 --modality-first 0" ;;  # session 5/9's variant: sasrecf's item vector as the id channel, the mean gate
    aux-sampled) echo "--model mdsrec --aux-negatives 256" ;;  # the channels' own losses over 256 negatives (speed)
    sasrec-sampled) echo "--model sasrec --negatives 256" ;;   # sampled softmax, as the strongest published anchors
    # session 9: the ids smoothed over the behaviour graph became the default of every model;
    # these rows are the models without it (the session 8 defaults)
    sasrec-plain-ids) echo "--model sasrec --id-graph none" ;;
    sasrecf-plain-ids) echo "--model sasrecf --id-graph none" ;;
    mdsrec-plain-ids) echo "--model mdsrec --id-graph none --gate fixed --no-id-features --no-channel-ids --channel-blocks 2 --modality-first 0" ;;
    gate-global) echo "--model mdsrec --gate global --id-graph none --no-id-features --no-channel-ids --channel-blocks 2 --modality-first 0" ;;  # a learned weight per channel, against mdsrec-plain-ids
    # session 10: the learned global gate and the features in the id channel became mdsrec's
    # defaults; mdsrec-s9 is the model before (the mean gate, ids alone in the id channel)
    mdsrec-s9) echo "--model mdsrec --gate fixed --no-id-features --no-channel-ids --channel-blocks 2 --modality-first 0" ;;
    global-gate) echo "--model mdsrec --no-id-features --no-channel-ids --channel-blocks 2 --modality-first 0" ;;  # the learned global gate alone, against mdsrec-s9
    # every modality channel with its own learned item embedding (x = E_m[i] + W f + c), on mdsrec-s9
    channel-ids) echo "--model mdsrec --channel-ids --gate fixed --no-id-features --channel-blocks 2 --modality-first 0" ;;
    # session 11: the channels' own item embeddings (--channel-ids) became mdsrec's default;
    # mdsrec-s10 is the model before (session 10's run of them was the row all-ids-global-gate)
    mdsrec-s10) echo "--model mdsrec --no-channel-ids --channel-blocks 2 --modality-first 0" ;;
    # session 13: the modality channels without attention blocks of their own (--channel-blocks
    # 0) became mdsrec's default; mdsrec-s11 is the model before (2 blocks in every channel;
    # this session's runs of the new default were the row channel-blocks-0), channel-blocks-1
    # the step between
    mdsrec-s11) echo "--model mdsrec --channel-blocks 2 --modality-first 0" ;;
    channel-blocks-1) echo "--model mdsrec --channel-blocks 1 --modality-first 0" ;;
    # session 14: embedding dropout (--emb-drop P): each batch trains a share of the items on
    # their features alone, as add-items gives a new item (issue 22's cold start)
    emb-drop-0.1) echo "--model mdsrec --emb-drop 0.1" ;;
    emb-drop-0.2) echo "--model mdsrec --emb-drop 0.2" ;;
    emb-drop-0.3) echo "--model mdsrec --emb-drop 0.3" ;;
    # session 17: the modality channels trained alone for the first 5 epochs (--modality-first
    # 5) became mdsrec's default; mdsrec-s16 is the model before, modality-first-10 a longer
    # warm-up. The rows above that reproduce an earlier session's model pin --modality-first 0.
    mdsrec-s16) echo "--model mdsrec --modality-first 0" ;;
    modality-first-10) echo "--model mdsrec --modality-first 10" ;;
    # session 18: the patience grows on a small validation; these are the three models as
    # session 17 stopped them
    mdsrec-s17) echo "--model mdsrec" ;;
    sasrec-s17) echo "--model sasrec" ;;
    sasrecf-s17) echo "--model sasrecf" ;;
    pop|itemknn) echo "(baseline: mdsrec eval --baseline $1)" ;;
    *) return 1 ;;
    esac
}
[ -n "$ROWS" ] || ROWS=$ALL_ROWS
ROWS=${ROWS//,/ }
for r in $ROWS; do row_flags "$r" > /dev/null || { echo "eval.sh: unknown row $r" >&2; exit 2; }; done
if [ $LIST = 1 ]; then
    for r in $ROWS; do
        case $r in pop|itemknn) printf '%-14s %s\n' "$r" "$(row_flags "$r")" ;;
        *) printf '%-14s %s\n' "$r" "$(row_flags "$r") $MODEL_FLAGS${EXTRA:+ $EXTRA}" ;; esac
    done
    exit 0
fi
[ -e "$SRC" ] || { echo "eval.sh: no data at $SRC (set MDSREC_DATA)" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Features and graphs
# ---------------------------------------------------------------------------------------------
prepare_scientific() {
    local s=$SRC
    seq 0 1584 > "$WORK/keys.txt"   # row r of feat1CLS/feat3CLS is item index r (Scientific.item2index)
    # test.inter holds every user's full history then its test target: the whole sequence.
    "$BIN" prepare --inter "$s/Scientific.test.inter" --inter-format sequences --out "$PREP"
    "$BIN" featurize matrix --dir "$PREP" --name text --path "$s/Scientific.feat1CLS" --format f32 --width 512 --keys "$WORK/keys.txt"
    "$BIN" featurize matrix --dir "$PREP" --name image --path "$s/Scientific.feat3CLS" --format f32 --width 512 --keys "$WORK/keys.txt"
    nice -n 19 "$BIN" graph --dir "$PREP"
}

split_check_scientific() {
    local s=$SRC
    # Our leave-one-out split must give RecBole's valid/test rows exactly: for every user, the
    # sequence is test.inter's history + target, and dropping its last item gives valid.inter's.
    awk -F'\t' '
        FILENAME == ARGV[1] { key[FNR - 1] = $0; next }                       # items.txt
        FILENAME == ARGV[2] { n = split($2, t, " "); s = ""; p = ""
                              for (i = 1; i <= n; i++) { s = s (i > 1 ? " " : "") key[t[i]]; if (i < n) p = s }
                              full[$1] = s; prefix[$1] = p; users++; next }     # sequences.tsv
        FNR == 1 { next }                                                     # RecBole headers
        FILENAME == ARGV[3] { tested++; if (full[$1] != $2 " " $3) bad_test++; next }
        FILENAME == ARGV[4] { valided++; if (prefix[$1] != $2 " " $3) bad_valid++; next }
        END { printf "{\"users\": %d, \"test_rows\": %d, \"test_mismatches\": %d, \"valid_rows\": %d, \"valid_mismatches\": %d}\n",
                     users, tested, bad_test + 0, valided, bad_valid + 0 }
    ' "$PREP/items.txt" "$PREP/sequences.tsv" "$s/Scientific.test.inter" "$s/Scientific.valid.inter" > "$RES/split-check.json"
    log "split check vs RecBole valid/test.inter: $(cat "$RES/split-check.json")"
}

prepare_ml100k() {
    local s=$SRC
    sed "s|@DATA@|$s|g" "$ROOT/tools/reports/ml100k.json.in" > "$WORK/ml100k.json"
    "$BIN" prepare --dataset "$WORK/ml100k.json" --out "$PREP"
    nice -n 19 "$BIN" featurize text --dir "$PREP" --dataset "$WORK/ml100k.json"
    nice -n 19 "$BIN" featurize image --dir "$PREP" --dataset "$WORK/ml100k.json"
    nice -n 19 "$BIN" graph --dir "$PREP"
}

prepare_s3rec() {
    "$BIN" prepare --inter "$SRC/$S3NAME.txt" --inter-format sequences --out "$PREP"
    "$BIN" featurize attributes --dir "$PREP" --path "$SRC/${S3NAME}_item2attributes.json"
    nice -n 19 "$BIN" graph --dir "$PREP"
}

if [ -n "$PREP" ] && [ ! -f "$PREP/graph/behaviour.adj.csr" ]; then
    log "features and graphs -> $PREP"
    t0=$(date +%s)
    case $DS in
    amazon-scientific-mm) prepare_scientific ;;
    ml-100k-posters) prepare_ml100k ;;
    s3rec-beauty|s3rec-toys) prepare_s3rec ;;
    esac
    echo "{\"seconds\": $(( $(date +%s) - t0 ))}" > "$WORK/prepare-time.json"
fi
[ "$DS" = amazon-scientific-mm ] && split_check_scientific

# ---------------------------------------------------------------------------------------------
# Training: a queue of (row, seed) runs, $JOBS at a time
# ---------------------------------------------------------------------------------------------
done_run() { [ -f "$1/train.json" ] && grep -q '"test"' "$1/train.json"; }

train_one() { # row seed dir [extra flags...]
    local row=$1 seed=$2 dir=$3; shift 3
    local flags; flags=$(row_flags "$row")
    if done_run "$dir"; then return 0; fi
    # another eval.sh may be training this very run: leave it alone
    if [ -f "$dir.lock" ] && kill -0 "$(cat "$dir.lock")" 2> /dev/null; then
        log "skip $row seed $seed: being trained by process $(cat "$dir.lock")"
        return 0
    fi
    mkdir -p "$(dirname "$dir")"
    echo "$BASHPID" > "$dir.lock"
    local resume=""
    [ -f "$dir/state.ckpt" ] && resume="--resume"
    log "train $row seed $seed ($flags $MODEL_FLAGS $* $EXTRA) -> $dir"
    # shellcheck disable=SC2086
    if ! nice -n 19 "$BIN" train --data "$DATA" --out "$dir" $flags $MODEL_FLAGS "$@" $EXTRA \
        --seed "$seed" --threads "$THREADS" $resume >> "$dir.log" 2>&1; then
        log "FAILED: $row seed $seed (see $dir.log)"
        rm -f "$dir.lock"
        return 1
    fi
    rm -f "$dir.lock"
    log "done $row seed $seed: $(grep -E '^test +[0-9]' "$dir.log" | tail -1)"
}

run_queue() { # lines "row seed dir [flags]" on stdin
    local n=0 fail=0
    while read -r row seed dir rest; do
        # shellcheck disable=SC2086
        train_one "$row" "$seed" "$dir" $rest &
        n=$((n + 1))
        if [ $n -ge "$JOBS" ]; then wait -n || fail=1; n=$((n - 1)); fi
    done
    while [ $n -gt 0 ]; do wait -n || fail=1; n=$((n - 1)); done
    return $fail
}

baseline() { # row
    local out=$RUNS/$1.json
    [ -f "$out" ] && return 0
    log "baseline $1"
    local t0; t0=$(date +%s.%N)
    "$BIN" eval --baseline "$1" --data "$DATA" --json "$out.tmp" > /dev/null
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }' > "$RUNS/$1.seconds"
    mv "$out.tmp" "$out"
}

if [ $TUNE = 1 ]; then
    # Validation grid for mdsrec, seed 1: fusion, dropout, learning rate, batch, width, channel
    # drop, propagation depth, graph beta.
    # Selection by VALID NDCG@10 only; the test column is reported but never used to choose.
    TR=$WORK/tune$SUFFIX; mkdir -p "$TR"
    GRID=${MDSREC_TUNE_GRID:-"default aux0-fixed aux1-fixed aux1-learned plain plain-d0.3 plain-lr0.003 k1 k3 beta0.5 beta2"}
    # "default": the table run of mdsrec seed 1 (the shipped settings: --aux-loss 2, --gate fixed),
    # "plain": the plain-fusion row's seed 1; neither is trained twice.
    [ -d "$RUNS/mdsrec/s1" ] && ln -sfn "$RUNS/mdsrec/s1" "$TR/default"
    [ -d "$RUNS/plain-fusion/s1" ] && ln -sfn "$RUNS/plain-fusion/s1" "$TR/plain"
    for g in $GRID; do
        case $g in
        default) train_one mdsrec 1 "$RUNS/mdsrec/s1" >&2 || true; continue ;;
        plain) train_one plain-fusion 1 "$RUNS/plain-fusion/s1" >&2 || true; continue ;;
        esac
        # a setting is dash-separated changes to the shipped flags: plain (aux 0, learned gate),
        # auxW, fixed | learned (the gate), dimD, dP (dropout), bsN (batch), cdP (channel drop),
        # lrX, kK (propagation rounds), betaB
        flags=""
        for part in ${g//-/ }; do
            case $part in
            plain) flags="$flags --aux-loss 0 --gate learned" ;;
            aux*) flags="$flags --aux-loss ${part#aux}" ;;
            fixed|learned) flags="$flags --gate $part" ;;
            dim*) flags="$flags --dim ${part#dim}" ;;
            d*) flags="$flags --dropout ${part#d}" ;;
            bs*) flags="$flags --batch ${part#bs}" ;;
            cd*) flags="$flags --channel-drop ${part#cd}" ;;
            lr*) flags="$flags --lr ${part#lr}" ;;
            k*) flags="$flags --prop-k ${part#k}" ;;
            beta*) b=${part#beta}
                if [ -n "$PREP" ] && [ ! -f "$WORK/graph-beta$b/behaviour.adj.csr" ]; then
                    # graphs of another beta, in their own directory (the prepared one keeps beta 1)
                    mkdir -p "$WORK/prep-beta$b"
                    for f in items.txt sequences.tsv summary.json features catalog.jsonl; do
                        [ -e "$PREP/$f" ] && ln -sfn "$PREP/$f" "$WORK/prep-beta$b/$f"
                    done
                    nice -n 19 "$BIN" graph --dir "$WORK/prep-beta$b" --beta "$b" > /dev/null
                    mkdir -p "$WORK/graph-beta$b"; cp "$WORK/prep-beta$b"/graph/* "$WORK/graph-beta$b/"
                fi
                flags="$flags --graph-dir $WORK/graph-beta$b" ;;
            *) echo "eval.sh: unknown tuning setting $g" >&2; exit 2 ;;
            esac
        done
        echo "mdsrec 1 $TR/$g$flags"
    done | run_queue || true
    RUNS_DIR=$TR RES_DIR=$RES DATASET=$DS LABEL=$LABEL "$NODE" "$ROOT/tools/reports/eval-report.mjs" tune $GRID
    exit 0
fi

if [ $REPORT = 0 ]; then
    for r in $ROWS; do
        case $r in pop|itemknn) baseline "$r" ;; esac
    done
    for s in ${SEEDS//,/ }; do
        for r in $ROWS; do
            case $r in pop|itemknn) ;; *) echo "$r $s $RUNS/$r/s$s" ;; esac
        done
    done | run_queue || log "some runs failed; the table lists what finished"
    # a run that was interrupted (or is still being trained by another eval.sh) keeps its best
    # epoch so far in model.ckpt, written atomically: measure it for the table (listed as
    # partial, with its epochs) rather than leave the row empty
    for s in ${SEEDS//,/ }; do
        for r in $ROWS; do
            d=$RUNS/$r/s$s
            case $r in pop|itemknn) continue ;; esac
            [ -f "$d/model.ckpt" ] && ! done_run "$d" || continue
            [ -f "$d/partial.json" ] && [ "$d/partial.json" -nt "$d/model.ckpt" ] && continue
            log "partial $r seed $s: evaluating its best epoch so far"
            "$BIN" eval --model "$d" --json "$d/partial.json.tmp" > /dev/null && mv "$d/partial.json.tmp" "$d/partial.json" ||
                { rm -f "$d/partial.json.tmp"; log "could not evaluate the partial run $d"; }
        done
    done
fi

if [ $EXPORT = 1 ] && [ $QUICK = 0 ] && done_run "$RUNS/mdsrec/s1"; then
    B=$WORK/bundles$SUFFIX; mkdir -p "$B"
    log "export mdsrec seed 1 (f32, i8) and evaluate the i8 bundle through the core"
    "$BIN" export --model "$RUNS/mdsrec/s1" --out "$B/mdsrec-s1-f32.mdsb" --dtype f32 --no-compare > "$RES/export-f32.txt" 2>&1
    "$BIN" export --model "$RUNS/mdsrec/s1" --out "$B/mdsrec-s1-i8.mdsb" --dtype i8 > "$RES/export-i8.txt" 2>&1
    "$BIN" eval --bundle "$B/mdsrec-s1-f32.mdsb" --data "$DATA" --json "$RES/bundle-f32.json" > /dev/null
    "$BIN" eval --bundle "$B/mdsrec-s1-i8.mdsb" --data "$DATA" --json "$RES/bundle-i8.json" > /dev/null
    # Five sample visitors (every 500th sequence from the first, or every fifth of the visitors
    # where there are fewer than 2,500): their test history, the i8 bundle's top 10 with the
    # per-channel gates, shares and carriers.
    if [ -n "$PREP" ]; then
        n=$(wc -l < "$PREP/sequences.tsv"); step=$(( n / 5 < 500 ? n / 5 : 500 )); [ $step -ge 1 ] || step=1
        awk -F'\t' -v step=$step 'NR % step == 1 && c < 5 { c++; print $1 "\t" $2 }' "$PREP/sequences.tsv" |
        while IFS=$'\t' read -r user seq; do
            keys=$(echo "$seq" | awk -v items="$PREP/items.txt" 'BEGIN { while ((getline k < items) > 0) key[n++] = k }
                { for (i = 1; i < NF; i++) printf "%s%s", (i > 1 ? "," : ""), key[$i] }')
            target=$(echo "$seq" | awk -v items="$PREP/items.txt" 'BEGIN { while ((getline k < items) > 0) key[n++] = k } { print key[$NF] }')
            "$BIN" recommend "$B/mdsrec-s1-i8.mdsb" --history "$keys" -k 10 --json > "$B/visitor-$user.json"
            printf '%s\t%s\t%s\n' "$user" "$target" "$B/visitor-$user.json"
        done > "$B/visitors.tsv"
        "$NODE" "$ROOT/tools/reports/eval-report.mjs" visitors "$B/visitors.tsv" "$RES" "$PREP"
    fi
fi

# The table always lists every row of the dataset, with seeds 1-3 and any others asked for, so
# that a run of a few rows or seeds (--rows, --seeds) completes the table instead of replacing it.
TABLE_ROWS=$ROWS; TABLE_SEEDS=$SEEDS
if [ $QUICK = 0 ]; then
    TABLE_ROWS=$ALL_ROWS
    TABLE_SEEDS=$(printf '%s\n' 1 2 3 ${SEEDS//,/ } | sort -n -u | paste -sd, -)
fi
RUNS_DIR=$RUNS RES_DIR=$RES DATASET=$DS LABEL=$LABEL SEEDS=$TABLE_SEEDS WORK_DIR=$WORK \
    "$NODE" "$ROOT/tools/reports/eval-report.mjs" table $TABLE_ROWS
log "results: $RES/results.md"

if [ $PAIRED = 1 ] && [ $QUICK = 0 ]; then
    RK=$WORK/ranks$SUFFIX; mkdir -p "$RK"
    have=()
    # session 9's study: each variant against the row it changes (docs/RESULTS.md)
    STUDY_PAIRS="mdsrec-s9:mdsrec-plain-ids sasrec:sasrec-plain-ids sasrecf:sasrecf-plain-ids mdsrec-plain-ids:sasrec-plain-ids mdsrec-plain-ids:sasrecf-plain-ids gate-global:mdsrec-plain-ids id-features:mdsrec-s9 mdsrec-s10:mdsrec-s9 global-gate:mdsrec-s9 channel-ids:mdsrec-s9 mdsrec-s11:mdsrec-s10 mdsrec:mdsrec-s11 channel-blocks-1:mdsrec-s11 mdsrec:channel-blocks-1 emb-drop-0.1:mdsrec emb-drop-0.2:mdsrec emb-drop-0.3:mdsrec"
    study=()
    for r in ${STUDY_PAIRS//:/ }; do
        [[ " $ALL_ROWS " == *" $r "* && " mdsrec sasrec sasrecf ${study[*]-} " != *" $r "* ]] && study+=("$r")
    done
    for r in mdsrec sasrec sasrecf ${study[@]+"${study[@]}"}; do
        m=()
        for s in ${TABLE_SEEDS//,/ }; do done_run "$RUNS/$r/s$s" && m+=(--model "$RUNS/$r/s$s"); done
        [ ${#m[@]} -gt 0 ] || continue
        # a model that cannot be ranked must not quietly vanish from paired.md
        "$BIN" eval "${m[@]}" --data "$DATA" --ranks --json "$RK/$r.json" > /dev/null ||
            { log "mdsrec eval --ranks failed for $r ($RUNS/$r)"; exit 1; }
        # the published tables' protocol too (history masked), for mdsrec against the baselines
        if [[ " mdsrec sasrec sasrecf " == *" $r "* ]]; then
            "$BIN" eval "${m[@]}" --data "$DATA" --ranks --mask-history --json "$RK/$r.masked.json" > /dev/null ||
                { log "mdsrec eval --ranks --mask-history failed for $r ($RUNS/$r)"; exit 1; }
        fi
        have+=("$r")
    done
    {
        echo "### $LABEL: mdsrec against each baseline, visitor by visitor"
        echo
        echo "NDCG@10 per visitor, each the mean over a model's finished seeds of $TABLE_SEEDS; the difference's standard"
        echo "error over visitors and a paired bootstrap 95 % interval (10,000 resamples of the visitors). \"test, masked\":"
        echo "the test split with the visitor's history left out of the ranking (\`mdsrec eval --mask-history\`)."
        echo
        echo "| split | models | mdsrec | baseline | difference | relative | SE | 95 % interval | mdsrec ahead in |"
        echo "|---|---|---|---|---|---|---|---|---|"
        for b in sasrec sasrecf; do
            [[ " ${have[*]-} " == *" mdsrec "* && " ${have[*]-} " == *" $b "* ]] || continue
            for sp in test valid; do
                "$NODE" "$ROOT/tools/reports/paired.mjs" "$RK/mdsrec.json" "$RK/$b.json" --split $sp --md-row "mdsrec,$b" ||
                    { rm -f "$RES/paired.md.tmp"; log "paired.mjs failed ($b, $sp)"; exit 1; }
            done
            "$NODE" "$ROOT/tools/reports/paired.mjs" "$RK/mdsrec.masked.json" "$RK/$b.masked.json" --split test \
                --md-row "mdsrec,$b" | sed 's/^| test |/| test, masked |/' ||
                { rm -f "$RES/paired.md.tmp"; log "paired.mjs failed ($b, test, masked)"; exit 1; }
        done
        echo
        first=1
        for pr in $STUDY_PAIRS; do
            a=${pr%%:*}; b=${pr#*:}
            [[ " ${have[*]-} " == *" $a "* && " ${have[*]-} " == *" $b "* ]] || continue
            if [ $first = 1 ]; then
                echo "### $LABEL: each variant against the row it changes, visitor by visitor"
                echo
                echo "| split | models | variant | row | difference | relative | SE | 95 % interval | variant ahead in |"
                echo "|---|---|---|---|---|---|---|---|---|"
                first=0
            fi
            for sp in test valid; do
                "$NODE" "$ROOT/tools/reports/paired.mjs" "$RK/$a.json" "$RK/$b.json" --split $sp --md-row "$a,$b" ||
                    { rm -f "$RES/paired.md.tmp"; log "paired.mjs failed ($a, $b, $sp)"; exit 1; }
            done
        done
        [ $first = 1 ] || echo
    } > "$RES/paired.md.tmp"
    mv "$RES/paired.md.tmp" "$RES/paired.md"
    log "paired comparison: $RES/paired.md"
    # how much each row's early-stopping maximum stands above the epochs around it
    {
        echo "### $LABEL: best validation NDCG@10 against the mean of the epochs around it"
        echo
        "$NODE" "$ROOT/tools/reports/valid-window.mjs" "$WORK" --runs "runs$SUFFIX"
    } > "$RES/valid-window.md.tmp" || { rm -f "$RES/valid-window.md.tmp"; log "valid-window.mjs failed"; exit 1; }
    mv "$RES/valid-window.md.tmp" "$RES/valid-window.md"
    log "validation window: $RES/valid-window.md"
    # MovieLens has timestamps in seconds: the visitors split by the time before their target
    if [ "$DS" = ml-100k-posters ] && [[ " ${have[*]-} " == *" mdsrec "* ]]; then
        files=()
        for r in "${have[@]}"; do files+=("$RK/$r.json"); done
        {
            echo "### $LABEL: NDCG@10 by the time between the target and the click before it"
            echo
            "$NODE" "$ROOT/tools/reports/by-gap.mjs" --inter "$SRC/ml-100k.inter" --prep "$PREP" "${files[@]}"
        } > "$RES/by-gap.md.tmp" || { rm -f "$RES/by-gap.md.tmp"; log "by-gap.mjs failed"; exit 1; }
        mv "$RES/by-gap.md.tmp" "$RES/by-gap.md"
        log "by gap: $RES/by-gap.md"
    fi
fi
