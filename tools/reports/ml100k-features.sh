#!/bin/sh
# ml100k-features.sh OUT - the data chain on MovieLens-100K with posters, end to end:
# prepare (sequences, split, summary, catalog.jsonl), text features (title + year + genres),
# image features (all posters), the graphs, and the neighbours of five well-known films.
#
# Reads ../shared/data/ml-100k-posters (next to the repository; MDSREC_DATA overrides
# ../shared/data) and writes only under OUT. The data are for internal development only:
# never copy them into the repository.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${MDSREC_DATA:-$ROOT/../shared/data}/ml-100k-posters
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
case "$OUT/" in
"$ROOT"/*) echo "$0: OUT must be outside the repository ($ROOT)" >&2; exit 2 ;;
esac
[ -x "$BIN" ] || { echo "$0: build the tool first ($BIN)" >&2; exit 1; }
[ -f "$DATA/ml-100k.inter" ] || { echo "$0: no data at $DATA" >&2; exit 1; }

# The dataset description (tools/reports/ml100k.json.in, which tools/eval.sh uses too). Posters
# are named by MovieLens-1M id: the map's second column, completed by the pattern "{}.jpg".
sed "s|@DATA@|$DATA|g" "$ROOT/tools/reports/ml100k.json.in" > "$OUT/ml100k.json"

P=$OUT/prep
step() {
    name=$1
    shift
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "== %s: %.2f s\n", n, b - a }'
}
step prepare "$BIN" prepare --dataset "$OUT/ml100k.json" --out "$P"
step "featurize text" "$BIN" featurize text --dir "$P" --dataset "$OUT/ml100k.json"
step "featurize image" "$BIN" featurize image --dir "$P" --dataset "$OUT/ml100k.json"

# Star Wars (1977), Toy Story (1995), Fargo (1996), The Godfather (1972), Pulp Fiction (1994)
FILMS=50,1,100,127,56
echo "== neighbours by content alone (beta 0)"
"$BIN" graph --dir "$P" --beta 0 > /dev/null
"$BIN" graph --dir "$P" --show "$FILMS" --features image,text --top 5
step "graph (beta 1, k 10, window 3)" "$BIN" graph --dir "$P"
echo "== neighbours by relation score r = sim + b~ (what the model propagates over)"
"$BIN" graph --dir "$P" --show "$FILMS" --top 5
