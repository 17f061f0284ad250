#!/usr/bin/env bash
# bench/add-items.sh - how long `mdsrec add-items` takes to add NEW items to a bundle of N items
# (default 1,000 to 100,000: the target is under 10 s). Synthetic data made here: N items with
# two 64-wide feature matrices, a few thousand short visitor sequences, an mdsrec model trained
# one epoch without graphs (a 100k-item graph takes far longer to build than this bench should;
# add-items then skips propagation, so this times the neighbour search, the projection, the
# bundle decoding and rebuilding, and the write). Usage: bench/add-items.sh [N] [NEW]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MDSREC_BIN:-$ROOT/build/bin/mdsrec}
N=${1:-100000} NEW=${2:-1000}
W=${MDSREC_TMP:-$ROOT/build/bench-add-items}
rm -rf "$W" && mkdir -p "$W/data/features" "$W/new/features"
node - "$W" "$N" "$NEW" <<'JS'
const fs = require('fs');
const [w, N, NEW] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
let s = 12345;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
function dir(d, prefix, n, seqs) {
  fs.writeFileSync(`${d}/items.txt`, Array.from({ length: n }, (_, i) => `${prefix}${i}\n`).join(''));
  fs.writeFileSync(`${d}/catalog.jsonl`, Array.from({ length: n }, (_, i) => `{"title":"${prefix} ${i}"}\n`).join(''));
  for (const name of ['image', 'text']) {
    const x = new Float32Array(n * 64);
    for (let i = 0; i < n; i++) {
      let n2 = 0;
      for (let j = 0; j < 64; j++) { const v = rnd() - 0.5 + (j === i % 64 ? 2 : 0); x[i * 64 + j] = v; n2 += v * v; }
      for (let j = 0; j < 64; j++) x[i * 64 + j] /= Math.sqrt(n2);
    }
    fs.writeFileSync(`${d}/features/${name}.f32`, Buffer.from(x.buffer));
    fs.writeFileSync(`${d}/features/${name}.json`, JSON.stringify({ name, kind: name, width: 64, rows: n, missing: [], source: 'bench' }) + '\n');
  }
  if (seqs) {
    const lines = [];
    for (let u = 0; u < seqs; u++) lines.push(`u${u}\t` + Array.from({ length: 5 }, () => Math.floor(rnd() * n)).join(' '));
    fs.writeFileSync(`${d}/sequences.tsv`, lines.join('\n') + '\n');
  }
}
dir(`${w}/data`, 'item', N, 4000);
dir(`${w}/new`, 'new', NEW, 0);
JS
nice -n 10 "$BIN" train --data "$W/data" --out "$W/run" --model mdsrec --no-graph --epochs 1 --negatives 100 --quiet
nice -n 10 "$BIN" export --model "$W/run" --data "$W/data" --out "$W/base.mdsb" --no-compare > /dev/null
ls -l "$W/base.mdsb" | awk '{print "base bundle: " $5 " bytes"}'
for i in 1 2 3; do
    /usr/bin/time -f "add-items: %e s wall, %M KB peak" "$BIN" add-items --model "$W/run" --data "$W/data" \
        --bundle "$W/base.mdsb" --from "$W/new" --out "$W/added.mdsb"
done
