// A second local server for the error-contract tests (tests/e2e/contract.spec.mjs), on
// 127.0.0.1 only: the same files as scripts/serve.mjs (web/ at /, the fixtures at /fixtures),
// each under a prefix that picks the response's Content-Security-Policy, and downloads that
// break off.
//   /p/POLICY/PATH   PATH with the policy POLICIES[POLICY] (none: no CSP header)
//   /cut/PATH        Content-Length of the whole file, half of it, then the connection reset
//   /long/PATH       Content-Length 1000 bytes past the file, the whole file, then the close
//   /chunkcut/PATH   chunked (no length), half of the file, then the connection reset
//   /slow/PATH?g=G   chunked: the bundle's bytes up to its first ITEMS section (the head: keys,
//                    popularity, catalog), then nothing until /release/G is fetched, then the rest
//   /slowflip/PATH?g=G  as /slow, with one byte of the last section flipped (its checksum fails)
//   PATH             as /p/wasm/PATH
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const WASM = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";
export const POLICIES = {
  none: null,
  wasm: WASM, // what scripts/serve.mjs sends
  nowasm: "default-src 'self'; script-src 'self'",
  tt: `${WASM}; require-trusted-types-for 'script'`,
  'tt-shop': `${WASM}; require-trusted-types-for 'script'; trusted-types shop`,
  'tt-mdsrec': `${WASM}; require-trusted-types-for 'script'; trusted-types mdsrec`,
};
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };
const ROOTS = [['/fixtures/', resolve('build/e2e-fixtures')], ['/', resolve('web')]];

function file(path) {
  for (const [prefix, dir] of ROOTS) {
    if (!path.startsWith(prefix)) continue;
    const p = normalize(join(dir, path.slice(prefix.length)));
    return p.startsWith(dir + sep) ? p : null;
  }
  return null;
}

// where the first ITEMS section starts (from the bundle's own table), and the last section
function layout(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength), ents = [];
  for (let i = 0; i < dv.getUint32(20, true); i++)
    ents.push({ kind: dv.getUint32(64 + 32 * i, true), off: Number(dv.getBigUint64(72 + 32 * i, true)), size: Number(dv.getBigUint64(80 + 32 * i, true)) });
  return { items: ents.find((e) => e.kind === 4).off, last: ents[ents.length - 1] };
}

export async function startServer() {
  const gates = new Map(); // name -> release()
  const gate = (g) => new Promise((r) => { const was = gates.get(g); gates.set(g, r); if (was === true) r(); });
  const server = createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    const path = decodeURIComponent(u.pathname);
    if (path.startsWith('/release/')) {
      const g = path.slice(9), r = gates.get(g);
      if (typeof r === 'function') r(); else gates.set(g, true);
      return res.writeHead(204).end();
    }
    const [, mode, rest] = /^\/(p\/[\w-]+|cut|long|chunkcut|slow|slowflip)(\/.*)$/.exec(path) || [null, 'p/wasm', path];
    const p = rest && file(rest);
    const body = p && (await readFile(p).catch(() => null));
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers = { 'content-type': TYPES[extname(p)] || 'application/octet-stream', 'cache-control': 'no-store' };
    if (mode.startsWith('p/')) {
      const policy = POLICIES[mode.slice(2)];
      if (policy === undefined) return res.writeHead(400).end('no such policy');
      if (policy) headers['content-security-policy'] = policy;
      res.writeHead(200, { ...headers, 'content-length': body.length }).end(body);
    } else if (mode === 'cut') {
      res.writeHead(200, { ...headers, 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket.resetAndDestroy(), 50));
    } else if (mode === 'long') {
      res.writeHead(200, { ...headers, 'content-length': body.length + 1000 });
      res.write(body, () => setTimeout(() => res.socket.end(), 50));
    } else if (mode.startsWith('slow')) {
      const { items, last } = layout(body);
      const b = Buffer.from(body);
      if (mode === 'slowflip') b[last.off + (last.size >> 1)] ^= 0x20;
      res.writeHead(200, headers);
      res.write(b.subarray(0, items));
      await gate(u.searchParams.get('g'));
      res.end(b.subarray(items));
    } else {
      res.writeHead(200, headers);
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket.resetAndDestroy(), 50));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}
