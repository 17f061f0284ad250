// A tiny static server for the demo and the browser tests: localhost only, correct MIME
// types (application/wasm for instantiateStreaming), and the strict Content-Security-Policy
// the demo must run under. Usage: node scripts/serve.mjs [--port 8080] [--root web]
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const port = Number(opt('--port', process.env.PORT || 8080));
const root = resolve(opt('--root', 'web'));
// Extra roots mounted under a URL prefix, e.g. --mount /shared-data=../shared/data
const mounts = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--mount' && args[i + 1]) {
    const [prefix, dir] = args[i + 1].split('=');
    mounts.push({ prefix, dir: resolve(dir) });
  }
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.mdsb': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webmanifest': 'application/manifest+json',
  '.ico': 'image/x-icon',
};
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

function resolvePath(urlPath) {
  let base = root;
  let rel = urlPath;
  for (const m of mounts) {
    if (urlPath === m.prefix || urlPath.startsWith(m.prefix + '/')) {
      base = m.dir;
      rel = urlPath.slice(m.prefix.length);
      break;
    }
  }
  const p = normalize(join(base, rel));
  if (p !== base && !p.startsWith(base + sep)) return null; // no escaping the root
  return p;
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://localhost');
    let p = resolvePath(decodeURIComponent(url.pathname));
    if (!p) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let st = await stat(p).catch(() => null);
    if (st && st.isDirectory()) {
      p = join(p, 'index.html');
      st = await stat(p).catch(() => null);
    }
    if (!st || !st.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const body = await readFile(p);
    res.writeHead(200, {
      'Content-Type': TYPES[extname(p).toLowerCase()] || 'application/octet-stream',
      'Content-Length': body.length,
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (e) {
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(e && e.message));
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`mdsrec demo: http://127.0.0.1:${port}/  (root ${root})`);
});
