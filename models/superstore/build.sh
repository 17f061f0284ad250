#!/usr/bin/env bash
# Rebuilds the embedded demo model models/superstore.mdsb from models/superstore/superstore.csv:
# prepare -> featurize text -> graph -> train (MDSRec: id + text channels) -> export int8 (q8 weights).
# Deterministic: one training thread and a fixed seed. Usage: bash models/superstore/build.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
M=build/bin/mdsrec
[ -x "$M" ] || bash scripts/build.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
csv=models/superstore/superstore.csv

"$M" prepare --out "$work/data" --inter "$csv" --user-col "Customer ID" --item-col "Product ID" \
  --time-col "Order Date" --catalog "$csv" --key-col "Product ID" \
  --display "title=Product Name,category=Category,subcategory=Sub-Category"
"$M" featurize text --dir "$work/data" --catalog "$csv" --key-col "Product ID" \
  --text-fields "Product Name,Category,Sub-Category"
"$M" graph --dir "$work/data"
# train records --data as an absolute path (the checkpoint finds its data by it); the committed
# train.json names the prepared directory as "data" instead of a temporary path (below)
# --dim 32: on validation (3 seeds, 778 visitors) d 32 scored NDCG@10 0.0045 against d 64's 0.0040
# (one block: 0.0037 either way; popularity 0.0019), all within noise, and its bundle is half
# the bytes (models/superstore/README.md)
# --modality-first 0: the committed bundle predates session 17's default (5 epochs of the text
# channel alone); on this log (valid NDCG@10 0.006, best epoch 4, 778 visitors) no training choice
# is measurable, so the script keeps reproducing the committed bytes
(cd "$work" && "$root/$M" train --data data --out model --model mdsrec --seed 1 --threads 1 \
  --epochs 40 --patience 8 --dim 32 --modality-first 0 --quiet)
# i8 items, q8 dense weights, bit-packed neighbour lists (models/FORMAT.md v2) and the catalogue
# gzipped (CATALOG_GZ, export's default): 346 KB, against 1.46 MiB with f32 weights and JSON
"$M" export --model "$work/model" --data "$work/data" --out models/superstore.mdsb --dtype i8 --weights q8 \
  --neighbours-format bits --neighbour-weight-bits 8
sed -E 's#^(\s*"data":\s*)".*"#\1"data"#' "$work/model/train.json" > models/superstore/train.json
"$M" inspect models/superstore.mdsb | head -3
