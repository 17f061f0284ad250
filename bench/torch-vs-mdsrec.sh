#!/usr/bin/env bash
# The same SASRec (d 64, 2 blocks, 2 heads, L 50, ffn 256, dropout 0.5, softmax CE over all
# items, batch 256, Adam 1e-3) trained by `mdsrec train` and by PyTorch (bench/torch_sasrec.py)
# on one dataset, back to back, with the same threads: seconds per epoch of the training steps
# (and of the validation, apart), and each run's CPU seconds (docs/DISTRIBUTED.md).
#
#   bash bench/torch-vs-mdsrec.sh [DATA.txt] [EPOCHS] [THREADS]
#   default: /work/shared/data/s3rec-benchmarks/Beauty.txt, 1 epoch, 2 threads
#
# Needs Debian python3-torch (and libopenblas0-openmp, used by torch through LD_LIBRARY_PATH
# only, so the system's BLAS choice is left alone) and a built build-native/bin/mdsrec.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-/work/shared/data/s3rec-benchmarks/Beauty.txt}
epochs=${2:-1}
threads=${3:-2}
bin=${MDSREC:-build-native/bin/mdsrec}
[ -x "$bin" ] || { echo "torch-vs-mdsrec: $bin not built (cmake -S . -B build-native ...)" >&2; exit 1; }
[ -r "$data" ] || { echo "torch-vs-mdsrec: $data: cannot read" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "torch-vs-mdsrec: install Debian python3-torch" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== $(date -u +%FT%TZ) on $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== mdsrec: $data, $epochs epoch(s), $threads threads"
/usr/bin/time -f "mdsrec cpu: %U user %S sys %e wall s, %M KB peak" \
  "$bin" train --data "$data" --out "$work/run" --model sasrec --dim 64 --max-len 50 --blocks 2 --heads 2 \
  --dropout 0.5 --lr 1e-3 --batch 256 --threads "$threads" --epochs "$epochs" --patience 1000 --seed 1 \
  2>&1 >/dev/null | tr '\r' '\n' | grep -E "^epoch|cpu:|^mdsrec train: sasrec" | tee "$work/ours.txt"

echo "== torch: the same model and data"
# large frees went back to the kernel at every step (mmap'd blocks): page faults would dominate
# shellcheck disable=SC2097,SC2098
MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 OMP_NUM_THREADS=$threads \
  OPENBLAS_NUM_THREADS=$threads LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
  /usr/bin/time -f "torch cpu: %U user %S sys %e wall s, %M KB peak" \
  /usr/bin/python3 bench/torch_sasrec.py "$data" --epochs "$epochs" --threads "$threads" 2>&1 | tee "$work/torch.txt"

echo "== summary (training steps only, mean over epochs)"
ours=$(awk '/positions in/ {for (i = 1; i < NF; i++) if ($i == "in") {s += $(i+1); n++}} END {if (n) printf "%.2f", s / n}' "$work/ours.txt")
theirs=$(awk '/^torch epoch/ {for (i = 1; i < NF; i++) if ($i == "train") {s += $(i+1); n++}} END {if (n) printf "%.2f", s / n}' "$work/torch.txt")
echo "mdsrec ${ours} s/epoch, torch ${theirs} s/epoch: ratio $(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.3f", a / b}') (target <= 0.7)"
