// minify-shim.mjs - writes the shipped shim, web/mdsrec.min.js and web/worker.min.js, from
// web/mdsrec.js and web/worker.js with terser (a dev dependency: nothing of it is shipped).
// Called by scripts/build.sh; run alone with `node scripts/minify-shim.mjs`. Each file is
// written whole (temp file, then rename) and left untouched when its content is the same.
// The two minified files must refer to each other, not to the sources: mdsrec.min.js starts
// its Worker from ./worker.min.js, and worker.min.js imports ./mdsrec.min.js. That one
// reference in each source is rewritten here, and checked in the output.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** [source, output, the one reference to the other file as it is in the source, as it becomes] */
export const SHIM_FILES = [
  ['mdsrec.js', 'mdsrec.min.js', "'./worker.js'", "'./worker.min.js'"],
  ['worker.js', 'worker.min.js', "'./mdsrec.js'", "'./mdsrec.min.js'"],
];

const OPTIONS = {
  module: true, // ES module: top-level names are mangled, exported names kept
  ecma: 2020,
  compress: { passes: 2 },
  mangle: true,
  // the error classes keep their names (err.constructor.name is what mdsrec.d.ts declares;
  // exported class declarations keep them anyway, this keeps them should that change);
  // `err.name` is set from string keys in the source and survives either way
  keep_classnames: /Error$/,
  format: { comments: false },
};

function count(text, s) {
  let n = 0;
  for (let i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + 1)) n++;
  return n;
}

async function terser() {
  try {
    return await import('terser');
  } catch (e) {
    throw new Error(`minify-shim: cannot load terser (${e.code || e.message}); install the dev dependencies first: npm ci --no-audit --no-fund`);
  }
}

/** Minifies the sources, given as {'mdsrec.js': text, 'worker.js': text}; returns
    {'mdsrec.min.js': text, 'worker.min.js': text}. Throws, naming the file, when a source does
    not hold its reference to the other file exactly once or terser fails. */
export async function minifyShim(sources) {
  const { minify } = await terser();
  const out = {};
  for (const [src, dst, from, to] of SHIM_FILES) {
    const text = sources[src];
    if (typeof text !== 'string') throw new Error(`minify-shim: no text for web/${src}`);
    const n = count(text, from);
    if (n !== 1) throw new Error(`minify-shim: web/${src} holds ${from} ${n} times; expected exactly once (the reference rewritten to ${to})`);
    let res;
    try {
      res = await minify(text.replace(from, to), OPTIONS);
    } catch (e) {
      const where = e.line ? `:${e.line}:${e.col}` : '';
      throw new Error(`minify-shim: web/${src}${where}: ${e.message}`);
    }
    // the minifier may change quotes: the file name itself must be there once, the source's gone
    const bare = (s) => s.slice(3, -1); // './worker.js' -> worker.js
    if (count(res.code, bare(to)) !== 1 || count(res.code.replaceAll(bare(to), ''), bare(from)) !== 0) {
      throw new Error(`minify-shim: ${dst} does not refer to ${bare(to)} alone, as it must`);
    }
    out[dst] = `${res.code}\n`; // no banner: a one-line comment costs some 70 bytes of gzip
  }
  return out;
}

/** Writes text to path unless it already holds it: a temp file beside it, then a rename. */
function writeAtomic(path, text) {
  try {
    if (readFileSync(path, 'utf8') === text) return false;
  } catch { /* not there yet */ }
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`minify-shim: cannot write ${path}: ${e.message}`);
  }
  return true;
}

async function main() {
  const web = join(ROOT, 'web');
  const sources = {};
  for (const [src] of SHIM_FILES) {
    try {
      sources[src] = readFileSync(join(web, src), 'utf8');
    } catch (e) {
      throw new Error(`minify-shim: cannot read web/${src}: ${e.message}`);
    }
  }
  const out = await minifyShim(sources);
  for (const [dst, text] of Object.entries(out)) {
    const wrote = writeAtomic(join(web, dst), text);
    console.log(`minify-shim: web/${dst} ${text.length} bytes${wrote ? '' : ' (unchanged)'}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
