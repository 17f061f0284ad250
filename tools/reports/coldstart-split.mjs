// coldstart-split.mjs - the item split of the cold-start evaluation (tools/coldstart.sh).
// Usage: node coldstart-split.mjs FULL_DIR OUT_DIR SHARE SEED
// Holds out SHARE of FULL_DIR's items (a seeded shuffle) and writes, under OUT_DIR:
//   warm/         the training set: the other items, every sequence with the held-out items
//                 removed (sequences left under 3 items dropped); features and catalogue rows
//                 of the warm items. The model never sees a held-out item.
//   all/          every item, warm ones first (warm/'s order) then the held-out ones: the
//                 order of a bundle after `mdsrec add-items`; items, features and catalogue.
//   eval-cold/    all/'s items; the visitors whose test target (last item) is held out.
//   eval-warm/    all/'s items; the other visitors, sequences unchanged.
//   before-warm/  warm/'s items; eval-warm/'s visitors with the held-out items removed: what
//                 the warm model saw of them before add-items (same test targets).
//   new-keys.txt  the held-out keys; split.json the counts.
import fs from 'node:fs';
import path from 'node:path';

const [full, out, shareArg, seedArg] = process.argv.slice(2);
if (!full || !out) {
  console.error('usage: node coldstart-split.mjs FULL_DIR OUT_DIR [SHARE=0.15] [SEED=1]');
  process.exit(2);
}
const share = Number(shareArg ?? 0.15);
let seed = BigInt(seedArg ?? 1);

// splitmix64, the project's seeded generator, so the split is the same on every machine
function next() {
  seed = (seed + 0x9E3779B97F4A7C15n) & 0xFFFFFFFFFFFFFFFFn;
  let z = seed;
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & 0xFFFFFFFFFFFFFFFFn;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & 0xFFFFFFFFFFFFFFFFn;
  return z ^ (z >> 31n);
}

const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length);
const keys = lines(path.join(full, 'items.txt'));
const N = keys.length;
const seqs = lines(path.join(full, 'sequences.tsv')).map((l) => {
  const [u, s] = l.split('\t');
  return { u, items: s.split(' ').map(Number) };
});

const perm = [...Array(N).keys()];
for (let i = N - 1; i > 0; i--) {
  const j = Number(next() % BigInt(i + 1));
  [perm[i], perm[j]] = [perm[j], perm[i]];
}
const held = new Set(perm.slice(0, Math.round(share * N)));
const warmIdx = [...Array(N).keys()].filter((i) => !held.has(i));
const coldIdx = [...Array(N).keys()].filter((i) => held.has(i));
const allOrder = [...warmIdx, ...coldIdx]; // new index -> old index

const features = fs.existsSync(path.join(full, 'features'))
  ? fs.readdirSync(path.join(full, 'features')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5))
  : [];
const catalog = fs.existsSync(path.join(full, 'catalog.jsonl')) ? lines(path.join(full, 'catalog.jsonl')) : null;
const feat = Object.fromEntries(features.map((name) => {
  const meta = JSON.parse(fs.readFileSync(path.join(full, 'features', name + '.json'), 'utf8'));
  const buf = fs.readFileSync(path.join(full, 'features', name + '.f32'));
  return [name, { meta, buf }];
}));

// A prepared directory of the items `order` (old indices) and these sequences (old indices).
function write(dir, order, users) {
  const map = new Map(order.map((o, n) => [o, n]));
  fs.mkdirSync(path.join(dir, 'features'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'items.txt'), order.map((o) => keys[o] + '\n').join(''));
  fs.writeFileSync(path.join(dir, 'sequences.tsv'),
    users.map((s) => s.u + '\t' + s.items.map((i) => map.get(i)).join(' ') + '\n').join(''));
  if (catalog) fs.writeFileSync(path.join(dir, 'catalog.jsonl'), order.map((o) => catalog[o] + '\n').join(''));
  for (const [name, { meta, buf }] of Object.entries(feat)) {
    const w = meta.width * 4;
    const x = Buffer.alloc(order.length * w);
    order.forEach((o, n) => buf.copy(x, n * w, o * w, o * w + w));
    fs.writeFileSync(path.join(dir, 'features', name + '.f32'), x);
    const m = { ...meta, rows: order.length, missing: (meta.missing ?? []).filter((i) => map.has(i)).map((i) => map.get(i)).sort((a, b) => a - b) };
    fs.writeFileSync(path.join(dir, 'features', name + '.json'), JSON.stringify(m, null, 2) + '\n');
  }
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ users: users.length, items: order.length }, null, 2) + '\n');
}

const drop = (s) => ({ u: s.u, items: s.items.filter((i) => !held.has(i)) });
const coldUsers = seqs.filter((s) => held.has(s.items[s.items.length - 1]));
// warm-target visitors that still have 3 items without the held-out ones: the same visitors
// before and after add-items
const warmUsers = seqs.filter((s) => !held.has(s.items[s.items.length - 1]) && drop(s).items.length >= 3);
const trainUsers = seqs.map(drop).filter((s) => s.items.length >= 3);
const beforeUsers = warmUsers.map(drop).filter((s) => s.items.length >= 3);
write(path.join(out, 'warm'), warmIdx, trainUsers);
write(path.join(out, 'all'), allOrder, seqs);
write(path.join(out, 'eval-cold'), allOrder, coldUsers);
write(path.join(out, 'eval-warm'), allOrder, warmUsers);
write(path.join(out, 'before-warm'), warmIdx, beforeUsers);
fs.writeFileSync(path.join(out, 'new-keys.txt'), coldIdx.map((o) => keys[o] + '\n').join(''));
const info = {
  items: N, held_out: coldIdx.length, share, seed: String(seedArg ?? 1),
  visitors: seqs.length, cold_target_visitors: coldUsers.length, warm_target_visitors: warmUsers.length,
  training_visitors: trainUsers.length, before_warm_visitors: beforeUsers.length,
};
fs.writeFileSync(path.join(out, 'split.json'), JSON.stringify(info, null, 2) + '\n');
console.log(JSON.stringify(info));

