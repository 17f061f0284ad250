// Makes the test bundles with the native tool: a 2000-item, 3-channel bundle with a catalog,
// and broken copies of it (a flipped byte, a format-version-3 header, a truncated file).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

export const BIN = process.env.MDSREC_BIN || 'build/bin/mdsrec';
export const DIR = 'build/e2e-fixtures';

// Another catalogue than the demo's: films with `|`-separated genres and no images, through
// prepare, `train --model pop --out` and export, as a new shop's first (cold-start) bundle.
const FILMS = [
  ['m1', 'Toy Story (1995)', "Animation|Children's|Comedy"], ['m2', 'GoldenEye (1995)', 'Action|Adventure|Thriller'],
  ['m3', 'Four Rooms (1995)', 'Thriller'], ['m4', 'Get Shorty (1995)', 'Action|Comedy|Drama'],
  ['m5', 'Copycat (1995)', 'Crime|Drama|Thriller'], ['m6', 'Babe (1995)', "Children's|Comedy|Drama"],
];
function films() {
  const d = `${DIR}/films`;
  mkdirSync(d, { recursive: true });
  writeFileSync(`${d}/movies.tsv`, 'item_id\ttitle\tgenres\n' + FILMS.map((f) => f.join('\t')).join('\n') + '\n');
  const rows = ['user_id\titem_id\ttimestamp'];
  for (let u = 0; u < 12; u++) for (let t = 0; t < 4; t++) rows.push(`u${u}\tm${1 + ((u * 5 + t * (1 + (u % 3))) % 6)}\t${t}`);
  writeFileSync(`${d}/ratings.tsv`, rows.join('\n') + '\n');
  execFileSync(BIN, ['prepare', '--out', `${d}/prep`, '--inter', `${d}/ratings.tsv`, '--time-col', 'timestamp',
    '--catalog', `${d}/movies.tsv`, '--display', 'title=title,genres=genres'], { stdio: 'ignore' });
  execFileSync(BIN, ['train', '--data', `${d}/prep`, '--model', 'pop', '--out', `${d}/run`], { stdio: 'ignore' });
  execFileSync(BIN, ['export', '--model', `${d}/run`, '--out', `${DIR}/films.mdsb`], { stdio: 'ignore' });
}

export default function globalSetup() {
  for (const f of [BIN, 'web/wasm/mdsrec-simd.wasm', 'web/wasm/mdsrec-scalar.wasm']) {
    if (!existsSync(f)) throw new Error(`${f} is missing: build first (npm run build)`);
  }
  mkdirSync(DIR, { recursive: true });
  // the catalogue gzipped (CATALOG_GZ), as `mdsrec export` writes it: the shim inflates it, also
  // for the early head (tests/e2e/coldstart.spec.mjs); small.mdsb keeps the JSON form. With the
  // co-click and repeat terms (COCLICK, REPEAT), as a trained model's bundle has: every build must
  // add them as native does
  execFileSync(BIN, ['synth', '-o', `${DIR}/main.mdsb`, '--items', '2000', '--channels', 'id,image,text', '--catalog', '--seed', '7', '--catalog-format', 'gzip', '--coclick', '1', '--repeat', '-1.5']);
  // the same model with its catalogue as JSON, for the memory bound (tests/e2e/memory.spec.mjs)
  execFileSync(BIN, ['synth', '-o', `${DIR}/main-json.mdsb`, '--items', '2000', '--channels', 'id,image,text', '--catalog', '--seed', '7', '--coclick', '1', '--repeat', '-1.5']);
  execFileSync(BIN, ['synth', '-o', `${DIR}/small.mdsb`, '--items', '40', '--channels', 'id,text', '--dim', '16', '--neighbours', '0', '--catalog', '--seed', '3']);
  // small and fast, for the 100,000-call soak (tests/e2e/soak.spec.mjs)
  execFileSync(BIN, ['synth', '-o', `${DIR}/soak.mdsb`, '--items', '500', '--channels', 'id,image,text', '--dim', '16', '--blocks', '1', '--max-len', '20', '--neighbours', '3', '--catalog', '--seed', '11']);
  // where the demo looks for a MovieLens-posters bundle (served at /shared-data in the tests)
  mkdirSync(`${DIR}/shared-data/ml-100k-posters`, { recursive: true });
  execFileSync(BIN, ['synth', '-o', `${DIR}/shared-data/ml-100k-posters/ml-100k-posters.mdsb`, '--items', '300', '--channels', 'id,image,text', '--catalog', '--seed', '8']);
  films();
  const b = readFileSync(`${DIR}/main.mdsb`);
  const flipped = Buffer.from(b);
  flipped[Math.floor(b.length / 2)] ^= 0x40;
  writeFileSync(`${DIR}/corrupt.mdsb`, flipped);
  const v4 = Buffer.from(b);
  v4.writeUInt32LE(4, 8); // newer than the newest format (3) the core reads
  writeFileSync(`${DIR}/version4.mdsb`, v4);
  writeFileSync(`${DIR}/truncated.mdsb`, b.subarray(0, Math.floor(b.length / 3)));
  writeFileSync(`${DIR}/not-wasm.wasm`, 'this is not WebAssembly');
  // A page with no script of its own, on the demo's origin and under its CSP, for API tests.
  writeFileSync(`${DIR}/blank.html`, '<!doctype html><meta charset="utf-8"><title>blank</title><p>api tests</p>\n');
}
