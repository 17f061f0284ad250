// mdsrec.js - in-browser recommendations from the visitor's own clicks; nothing is sent anywhere.
// The core: a standalone wasm (contract: src/wasm_api.h) in a Worker or on the main thread.
// Guide: docs/WEB.md.

// == errors

/** Every error the shim raises: an Error with a stable `code` (docs/WEB.md lists them). */
export class MdsrecError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
export class ArgumentError extends MdsrecError {}
export class UnknownKeyError extends MdsrecError {}
export class BundleError extends MdsrecError {}
export class WasmError extends MdsrecError {}

const CLASSES = {
  MDSREC_BAD_ARGUMENT: ArgumentError,
  MDSREC_UNKNOWN_KEY: UnknownKeyError,
  MDSREC_CORRUPT_BUNDLE: BundleError,
  MDSREC_INCOMPATIBLE_BUNDLE: BundleError,
  MDSREC_WASM_UNAVAILABLE: WasmError,
};
for (const [k, c] of Object.entries({ MdsrecError, ArgumentError, UnknownKeyError, BundleError, WasmError })) c.prototype.name = k;

/** Builds the error class that belongs to a code. */
export function mdsrecError(code, message) {
  return new (CLASSES[code] || MdsrecError)(code, message);
}

/** The core's statuses (mdsrec_status in include/mdsrec.h) by their C names: each with its value
    there and the code the shim gives it. The core names a failure itself
    (mdsrec_wasm_status_name), and the shim maps that name; tests/js check the names and values
    against the header and the core. */
export const CORE_STATUS = Object.freeze({
  MDSREC_ENOMEM: Object.freeze({ value: 1, code: 'MDSREC_OUT_OF_MEMORY' }),
  MDSREC_EARG: Object.freeze({ value: 2, code: 'MDSREC_BAD_ARGUMENT' }),
  MDSREC_EFORMAT: Object.freeze({ value: 3, code: 'MDSREC_CORRUPT_BUNDLE' }),
  MDSREC_EVERSION: Object.freeze({ value: 4, code: 'MDSREC_INCOMPATIBLE_BUNDLE' }),
  MDSREC_ECHECKSUM: Object.freeze({ value: 5, code: 'MDSREC_CORRUPT_BUNDLE' }),
  MDSREC_EKEY: Object.freeze({ value: 6, code: 'MDSREC_UNKNOWN_KEY' }),
  MDSREC_ENOTFOUND: Object.freeze({ value: 7, code: 'MDSREC_NOT_FOUND' }),
});

/** The code of a core status, given by its C name ('MDSREC_EARG') or its value (2). */
export function statusCode(status) {
  const s = typeof status === 'string' ? (Object.hasOwn(CORE_STATUS, status) ? CORE_STATUS[status] : null)
    : Object.values(CORE_STATUS).find((x) => x.value === status);
  return s ? s.code : 'MDSREC_INTERNAL';
}

const bad = (msg) => new ArgumentError('MDSREC_BAD_ARGUMENT', msg);
const corrupt = (msg) => new BundleError('MDSREC_CORRUPT_BUNDLE', msg);

/** Caller input quoted in a message: whole when short, else its first characters and its length
    (a 100 kB key must not make a 100 kB message). */
export function echo(v, max = 64, quote = typeof v === 'string') {
  let s;
  try {
    s = typeof v === 'string' ? v : String(v);
  } catch {
    s = Object.prototype.toString.call(v);
  }
  const q = quote ? (x) => JSON.stringify(x) : (x) => x;
  return s.length <= max ? q(s) : `${q(s.slice(0, max))}... (${s.length} characters)`;
}
const echoUrl = (u) => echo(String(u), 120, false);

// == bundle header (models/FORMAT.md)

export const FORMAT_VERSION = 3; // the newest bundle format this shim's core reads
export const FORMAT_VERSION_MIN = 1; // and the oldest (models/FORMAT.md: v2 added pq items and compact weights, v3 channels of different depths)
const MAGIC = [0x4d, 0x44, 0x53, 0x42, 0x0d, 0x0a, 0x1a, 0x0a];

/** Checks the magic and format version in the first 12 bytes of a bundle: a clear BundleError
    early, before the download ends (the core checks the rest, file_size included). */
export function checkHeader(b) {
  if (MAGIC.some((m, i) => i < b.length && b[i] !== m)) throw corrupt('not an mdsrec bundle (bad magic)');
  if (!b.length) throw corrupt('empty bundle (0 bytes)');
  if (b.length < 12) throw corrupt(`bundle truncated: ${b.length} bytes, shorter than the 12-byte header`);
  const version = b[8] | (b[9] << 8) | (b[10] << 16) | (b[11] << 24);
  if (version < FORMAT_VERSION_MIN || version > FORMAT_VERSION)
    throw new BundleError('MDSREC_INCOMPATIBLE_BUNDLE',
      `bundle format version ${version >>> 0} is ${version > FORMAT_VERSION ? 'newer than' : 'not one of'} the versions ${FORMAT_VERSION_MIN} to ${FORMAT_VERSION} this mdsrec reads`);
}

// == fetching and caching

// A tiny module whose function returns i8x16.splat(0): it validates only where SIMD128 exists.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);
export const hasSimd = () => WebAssembly.validate(SIMD_PROBE);
// i8x16.relaxed_swizzle of two such splats: only where relaxed SIMD exists
export const hasRelaxedSimd = () => WebAssembly.validate(new Uint8Array([...SIMD_PROBE.subarray(0, 19),
  10, 15, 1, 13, 0, 65, 0, 253, 15, 65, 0, 253, 15, 253, 128, 2, 11]));
export const BUILDS = ['relaxed', 'simd128', 'scalar'];

const CACHE = 'mdsrec-v1';
const HASH = 'x-mdsrec-sha256';
const openCache = () => (typeof caches !== 'undefined' && globalThis.isSecureContext !== false
  ? caches.open(CACHE).catch(() => null) : Promise.resolve(null));

/** url from the Cache API (unless its SHA-256 tag differs from sha256), else the network. */
async function fetchAsset(url, useCache, sha256) {
  const cache = useCache ? await openCache() : null;
  if (cache) {
    const hit = await cache.match(url).catch(() => null);
    if (hit && (!sha256 || hit.headers.get(HASH) === sha256)) return { res: hit, cache: null, source: 'cache' };
  }
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin' });
  } catch (e) {
    throw fetchFailed(`cannot fetch ${echoUrl(url)}`, e);
  }
  if (!res.ok) throw new MdsrecError('MDSREC_FETCH_FAILED', `cannot fetch ${echoUrl(url)}: HTTP ${res.status}`);
  return { res, cache, source: 'network' };
}

/** A request or a download that failed in the network (reset, cut short, offline). */
const fetchFailed = (what, e) => (e instanceof MdsrecError ? e
  : new MdsrecError('MDSREC_FETCH_FAILED', `${what}: ${echo((e && e.message) || e, 160, false)}`));

const hex = (buf) => Array.from(new Uint8Array(buf), (x) => x.toString(16).padStart(2, '0')).join('');

/** Checks bytes against a SHA-256; returns a function caching them (called once they load). */
async function hashed(cache, url, bytes, type, sha256) {
  const got = (cache || sha256) && hex(await crypto.subtle.digest('SHA-256', bytes));
  if (sha256 && got !== sha256) throw mdsrecError(type ? 'MDSREC_WASM_UNAVAILABLE' : 'MDSREC_CORRUPT_BUNDLE', `${echoUrl(url)}: SHA-256 ${got}, expected ${sha256}`);
  const headers = { 'content-type': type || 'application/octet-stream', 'content-length': String(bytes.byteLength), [HASH]: got };
  return (b) => cache && cache.put(url, new Response(b.slice(), { headers })).catch(() => {});
}

// == the engine (worker or main thread)

const KINDS = ['id', 'image', 'text', 'feature'];
const REASON = {
  id: (x) => `often together with ${x}`,
  image: (x) => `looks like ${x}`,
  text: (x) => `described like ${x}`,
};
const NONE = 0xffffffff;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

// Main-thread mode: the core of a closed Recommender, kept for the next load of the same .wasm
// (one per file and wasmHash). Without it every load/close cycle left a whole wasm instance,
// its memory (the bundle and the model state, megabytes) and its compiled code to the garbage
// collector, which let the page's memory grow by hundreds of MB before it ran (issue 19).
const PARKED = new Map();
const parkKey = ({ wasm, wasmHash }) => `${wasm}\n${wasmHash || ''}`;

/** One wasm instance with one open model. The Recommender talks to it directly (main thread)
    or through worker.js; every method takes and returns plain, cloneable data. */
export class Engine {
  /** opts: {wasm: .wasm URL, model: URL or bytes, cache, modelHash, wasmHash, wasmFallback: the
      .wasm to use when wasm cannot be fetched} */
  static async open(opts, onHead) {
    const e = new Engine();
    e.source = {};
    // the bundle downloads while the core compiles; opts.body: the page started it (a promise of
    // {stream, type, length, source} or {error})
    const got = opts.body ? opts.body.then(async (b) => {
      if (b.error) throw mdsrecError(b.error.code, b.error.message);
      const headers = { 'content-length': b.length, 'content-encoding': b.encoding };
      return { res: { body: b.stream, headers: { get: (h) => headers[h] || null } }, cache: b.source === 'network' && opts.cache ? await openCache() : null, source: b.source };
    }) : typeof opts.model === 'string' && fetchAsset(opts.model, opts.cache, opts.modelHash);
    got && got.catch(() => {});
    let done;
    e.done = new Promise((r) => { done = r; });
    try {
      await e._instantiate(opts);
      await e._openModel(opts, got, onHead);
      done();
    } catch (err) {
      e.broken = err; // calls still waiting for the whole model, and later ones, get this
      done();
      got && got.then(({ res: { body: b } }) => b && !b.locked && b.cancel()).catch(() => {});
      if (err instanceof MdsrecError && !e.closed) e._park(); // the core is sound: only the load failed
      // a cached file that fails (say a new core, an old bundle): retry from the network
      const from = err instanceof BundleError ? e.source.model : err instanceof WasmError && e.source.wasm;
      if (!opts.retry && from === 'cache') {
        await caches.delete(CACHE);
        return Engine.open({ ...opts, retry: 1, body: null }, onHead);
      }
      throw err;
    }
    return e;
  }

  async _instantiate(opts) {
    const { wasm, cache, wasmHash } = opts;
    this.parkKey = opts.park ? parkKey(opts) : null;
    const parked = this.parkKey && PARKED.get(this.parkKey);
    if (parked) {
      PARKED.delete(this.parkKey);
      this.x = parked;
      this.source.wasm = 'memory';
      return;
    }
    let got;
    try {
      got = await fetchAsset(wasm, cache, wasmHash);
    } catch (err) { // the relaxed build is optional (not deployed: a 404): SIMD128 instead
      if (!opts.wasmFallback || err.code !== 'MDSREC_FETCH_FAILED') throw err;
      return this._instantiate({ ...opts, wasm: opts.wasmFallback, wasmFallback: null });
    }
    const { res, cache: store, source } = got;
    this.source.wasm = source;
    const bytes = res.clone().arrayBuffer().catch((e) => {
      throw fetchFailed(`the download of ${echoUrl(wasm)} broke off`, e);
    });
    bytes.catch(() => {});
    // checked before it runs; cached once it has started
    const save = source === 'network' && (await hashed(store, wasm, await bytes, 'application/wasm', wasmHash));
    let module;
    try {
      try {
        module = await WebAssembly.compileStreaming(res);
      } catch {
        module = await WebAssembly.compile(await bytes); // wrong MIME type or no streaming
      }
      const imports = {};
      for (const imp of WebAssembly.Module.imports(module)) {
        if (imp.kind !== 'function') continue;
        const ns = (imports[imp.module] ??= {});
        // memory growth needs no notice: the views are re-created whenever memory.buffer changed
        ns[imp.name] = imp.name === 'emscripten_notify_memory_growth' ? () => {}
          : imp.name === 'proc_exit' ? (c) => { throw new MdsrecError('MDSREC_INTERNAL', `wasm exited (${c})`); }
          : imp.module === 'wasi_snapshot_preview1' ? () => 52 /* ENOSYS */ : () => 0;
      }
      const x = (await WebAssembly.instantiate(module, imports)).exports;
      if (!x.memory || !x.mdsrec_wasm_open || !x.mdsrec_wasm_status_name) throw new Error('not the mdsrec core');
      if (x._initialize) x._initialize();
      this.x = x;
    } catch (err) {
      if (err instanceof MdsrecError) throw err; // the download broke off
      const where = typeof document === 'undefined' && typeof importScripts === 'function' ? 'in the Worker' : 'on this thread';
      throw new WasmError('MDSREC_WASM_UNAVAILABLE', `cannot start the wasm core ${echoUrl(wasm)} ${where}: ${err.message}`);
    }
    if (save) save(await bytes);
  }

  // Typed views over the instance memory, re-created when it has grown.
  get u8() {
    if (this._buf !== this.x.memory.buffer) {
      this._buf = this.x.memory.buffer;
      this._u8 = new Uint8Array(this._buf);
    }
    return this._u8;
  }
  u32(p, n) { return new Uint32Array(this.u8.buffer, p, n); }
  f32(p, n) { return new Float32Array(this.u8.buffer, p, n); }
  cstr(p) {
    const m = this.u8;
    return fromUtf8.decode(m.subarray(p, m.indexOf(0, p)));
  }
  alloc(n) {
    const p = n < 4294967280 ? this.x.mdsrec_wasm_alloc(Math.max(n, 1)) >>> 0 : 0;
    if (!p) throw new MdsrecError('MDSREC_OUT_OF_MEMORY', `cannot allocate ${n} bytes in the wasm core`);
    return p;
  }
  fail(status) {
    const np = this.x.mdsrec_wasm_status_name(status) >>> 0;
    const name = np ? this.cstr(np) : `status ${status}`;
    return mdsrecError(statusCode(name), this.cstr(this.x.mdsrec_wasm_error_message() >>> 0) || `mdsrec ${name}`);
  }

  /** Streams the bundle into wasm memory (its length from Content-Length, else from its header)
      while the core checks each section as it completes; onHead(this) once keys, catalog and
      popularity are in (recommend() then answers the popularity order, provisional). */
  async _openModel({ model, modelHash }, got, onHead) {
    let p = 0, len = 0, total = 0, store = null, save = null, owned = false, st = 0;
    const url = typeof model === 'string' && model;
    const x = this.x, streams = !!x.mdsrec_wasm_stream_feed;
    // with a modelHash nothing is used before the hash is checked: no early answers
    const feed = () => {
      st = x.mdsrec_wasm_stream_feed(len);
      if (st < 0) owned = false, p = 0; // the core closed (and freed p)
      if (st < 0) throw this.fail(-st);
      if (st === 1 && !this.info && !modelHash) {
        this.partial = true;
        this._setup();
        // a gzip catalogue inflates off the download's path; the head waits for it (if the
        // whole bundle arrived first, the full answer comes instead)
        if (onHead) this._catalog.then(() => { if (this.partial && !this.closed) onHead(this); });
      }
    };
    try {
      if (url) {
        const { res, cache: c, source } = await got;
        this.source.model = source;
        store = c;
        const known = !res.headers.get('content-encoding') && +res.headers.get('content-length');
        // wasm32 addresses 4 GiB: a longer announced body cannot be held, so nothing is read
        if (known >= 2 ** 32) throw new MdsrecError('MDSREC_OUT_OF_MEMORY', `cannot allocate ${known} bytes in the wasm core`);
        const parts = [];
        const reader = res.body.getReader();
        this._reader = reader;
        for (;;) {
          let chunk;
          try {
            chunk = await reader.read();
          } catch (e) { // a connection reset, or fewer bytes than Content-Length before the close
            throw fetchFailed(`the download of ${echoUrl(url)} broke off after ${len}${known > 0 ? ` of ${known}` : ''} bytes`, e);
          }
          if (this.closed) throw isClosed();
          const { done, value } = chunk;
          if (done) break;
          const was = len;
          if (!p) parts.push(value);
          else if (len + value.length > total) throw corrupt(`bundle longer than its ${streams ? 'header\'s file_size' : 'Content-Length'} ${total}`);
          else this.u8.set(value, p + len);
          len += value.length;
          if (was < 12 && len >= 12) checkHeader(p ? this.u8.subarray(p, p + 12) : concat(parts, len));
          // the buffer, once the length is known: the header's file_size (a Content-Length that
          // disagrees shows as a download that breaks off), or without streaming Content-Length
          if (!p && (streams ? len >= 64 : known > 0)) {
            const head = concat(parts, len);
            const dv = new DataView(head.buffer);
            total = !streams ? known : dv.getUint32(28, true) ? 2 ** 32 : dv.getUint32(24, true);
            if (total < len) throw corrupt(`bundle longer than its ${streams ? 'header\'s file_size' : 'Content-Length'} ${total}`);
            p = this.alloc(total);
            if (streams) {
              const b = x.mdsrec_wasm_stream_begin(p, total);
              owned = true; // the instance frees p from here on (also on failure)
              if (b) throw this.fail(b);
            }
            this.u8.set(head, p);
          }
          if (owned) feed();
        }
        if (p && len !== total) throw corrupt(`bundle truncated: ${len} of ${total} bytes`);
        if (!p && known > len) throw corrupt(`bundle truncated: ${len} of ${known} bytes`);
        if (!p) model = concat(parts, len);
      } else {
        this.source.model = 'bytes';
        model = ArrayBuffer.isView(model) ? new Uint8Array(model.buffer, model.byteOffset, model.byteLength) : new Uint8Array(model);
        len = model.length;
      }
      if (!p) {
        p = this.alloc(len);
        this.u8.set(model, p);
      }
      checkHeader(this.u8.subarray(p, p + Math.min(len, 12)));
      // a given hash: checked before use
      if (modelHash && this.source.model === 'network') save = await hashed(store, url, this.u8.subarray(p, p + len), '', modelHash);
    } catch (err) {
      if (owned && this.x) x.mdsrec_wasm_close();
      else if (p && this.x) x.mdsrec_wasm_free(p);
      this.partial = false;
      throw err;
    } finally {
      this._reader = null;
    }
    if (!owned) { // the whole bundle at once: an older core, or one without a known length
      const o = x.mdsrec_wasm_open(p, len); // the instance owns p from here on
      if (o) throw this.fail(o);
    } else if (st !== 2) throw new MdsrecError('MDSREC_INTERNAL', `the core did not finish the stream (${st})`);
    if (store) { // cached in the background: the first recommend() does not wait
      const b = this.u8.slice(p, p + len);
      (save ? Promise.resolve(save) : hashed(store, url, b, '')).then((f) => f(b), () => {});
    }
    if (!this.info) this._setup();
    await this._catalog;
    this.partial = false;
  }

  _setup() {
    const x = this.x;
    const nc = x.mdsrec_wasm_info_n_channels();
    this.channels = [];
    for (let c = 0; c < nc; c++) {
      this.channels.push({ name: this.cstr(x.mdsrec_wasm_channel_name(c) >>> 0), kind: KINDS[x.mdsrec_wasm_channel_kind(c)] || 'feature' });
    }
    this.n = x.mdsrec_wasm_info_n_items();
    this.scratch = this.alloc(512); // [0,4): length out; [16,272): a key
    this.keys = new Map(); // index -> key, filled lazily
    this.info = {
      nItems: this.n, dim: x.mdsrec_wasm_info_dim(), maxLen: x.mdsrec_wasm_info_max_len(), version: x.mdsrec_wasm_info_format_version(),
      channels: this.channels, kernels: this.cstr(x.mdsrec_wasm_kernels() >>> 0), hasCatalog: false, source: this.source,
    };
    // a view, not a copy: the JSON is decoded, and a Response copies its body, before any await
    const lp = this.scratch, cp = x.mdsrec_wasm_catalog(lp) >>> 0, b = this.u8.subarray(cp, cp + this.u32(lp, 1)[0]);
    // CATALOG_GZ (what `mdsrec export` writes) comes as its gzip member (first byte 0x1f, never
    // JSON's), inflated by the platform's DecompressionStream; none, a bad member or a catalog
    // that is not JSON: recommend without it
    this._catalog = (async () => {
      const c = JSON.parse(b[0] === 31 ? await new Response(new Response(b).body.pipeThrough(new DecompressionStream('gzip'))).text() : fromUtf8.decode(b));
      if (Array.isArray(c) && c.length === this.n) this.info.hasCatalog = true, this.catalog = c;
    })().catch(() => {});
  }

  /** Item index of a key, or -1. */
  index(key) {
    this._partial();
    const kp = this.scratch + 16;
    const { read, written } = utf8.encodeInto(key, this.u8.subarray(kp, kp + 256));
    if (read < key.length || written > 255 || !written) return -1;
    return this.x.mdsrec_wasm_find_key(kp, written);
  }
  key(i) {
    let k = this.keys.get(i);
    if (k === undefined) {
      const p = this.x.mdsrec_wasm_item_key(i, this.scratch) >>> 0;
      k = fromUtf8.decode(this.u8.subarray(p, p + this.u32(this.scratch, 1)[0]));
      this.keys.set(i, k);
    }
    return k;
  }
  title(i) {
    const c = this.catalog?.[i];
    return (c && (c.title || c.name)) || this.key(i);
  }
  item(i, score, extra) {
    return { ...this.catalog?.[i], key: this.key(i), score, ...extra };
  }
  indices(keys) {
    const out = [];
    for (const k of keys) {
      const i = this.index(k);
      if (i >= 0) out.push(i);
    }
    return out;
  }
  reason(c, via) {
    const ch = this.channels[c];
    const t = this.title(via);
    return { channel: ch.name, kind: ch.kind, text: (REASON[ch.kind] || ((x) => `similar ${ch.name} to ${x}`))(t), via: this.key(via) };
  }

  /** Throws the load's failure; true while only the head of the bundle is in. */
  _partial() {
    if (this.broken) throw this.broken;
    if (this.closed) throw isClosed();
    return this.partial;
  }

  /** q: {history, k, exclude, allow, includeHistory, cand}; keys are checked strings, cand null
      or [1, popularHead, hops] (candidate mode). While the bundle arrives: the popularity order
      without the history, each item provisional. */
  recommend({ history, k, exclude = [], allow = null, includeHistory = false, cand }) {
    const early = this._partial();
    if (early) {
      if (!includeHistory) exclude = exclude.concat(history);
      history = [];
    }
    const x = this.x;
    const lists = [this.indices(history), this.indices(exclude), allow ? this.indices(allow) : []];
    const ptrs = lists.map((l) => this.alloc(l.length * 4));
    try {
      lists.forEach((l, j) => this.u32(ptrs[j], l.length).set(l));
      const n = x.mdsrec_wasm_recommend(ptrs[0], lists[0].length, k, includeHistory ? 1 : 0,
        ptrs[1], lists[1].length, ptrs[2], lists[2].length, allow ? 1 : 0, ...cand || []);
      if (n < 0) throw this.fail(-n);
      const nc = this.channels.length;
      const items = Array.from(this.u32(x.mdsrec_wasm_result_items() >>> 0, n));
      const scores = this.f32(x.mdsrec_wasm_result_scores() >>> 0, n);
      const shares = this.f32(x.mdsrec_wasm_result_shares() >>> 0, n * nc);
      const carriers = this.u32(x.mdsrec_wasm_result_carriers() >>> 0, nc);
      return items.map((it, r) => {
        const sh = {};
        let best = -1;
        for (let c = 0; c < nc; c++) {
          sh[this.channels[c].name] = shares[r * nc + c];
          if (carriers[c] !== NONE && (best < 0 || shares[r * nc + c] > shares[r * nc + best])) best = c;
        }
        const reason = best < 0 ? { channel: null, kind: 'popular', text: 'popular right now', via: null } : this.reason(best, carriers[best]);
        return this.item(it, scores[r], early ? { shares: sh, reason, provisional: true } : { shares: sh, reason });
      });
    } finally {
      ptrs.forEach((p) => x.mdsrec_wasm_free(p));
    }
  }

  similar(key, channel, k) {
    if (this._partial()) return this.done.then(() => this.similar(key, channel, k));
    const i = this.index(key);
    if (i < 0) throw new UnknownKeyError('MDSREC_UNKNOWN_KEY', `unknown item key ${echo(key)}`);
    const n = this.x.mdsrec_wasm_similar(i, channel, k);
    if (n < 0) throw this.fail(-n);
    const items = Array.from(this.u32(this.x.mdsrec_wasm_result_items() >>> 0, n));
    const w = this.f32(this.x.mdsrec_wasm_result_scores() >>> 0, n);
    const reason = this.reason(channel, i);
    return items.map((it, r) => this.item(it, w[r], { reason }));
  }

  list() {
    if (this._partial()) return this.done.then(() => this.list());
    return Array.from({ length: this.n }, (_, i) => ({ ...this.catalog?.[i], key: this.key(i) }));
  }

  close() {
    this.closed = true;
    if (this._reader) this._reader.cancel().catch(() => {}); // stops the download
    this._park();
  }

  /** Frees the model; in main-thread mode keeps the core for the next load (PARKED). */
  _park() {
    const { x, parkKey: key } = this;
    if (!x) return;
    x.mdsrec_wasm_close();
    if (key && !PARKED.has(key)) PARKED.set(key, x);
    this.x = this._buf = this._u8 = this.catalog = this.keys = null;
  }
}

function concat(parts, len) {
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// == the page side

const isKey = (k) => typeof k === 'string' && k.length > 0;
function checkKeys(a, name) {
  if (a === undefined || a === null) return null;
  if (!Array.isArray(a) || !a.every(isKey)) throw bad(`${name} must be an array of non-empty strings`);
  return a.slice();
}
function checkK(k, n, dflt, name = 'k', lo = 1) {
  if (k === undefined) k = Math.min(dflt, n);
  if (!Number.isInteger(k) || k < lo || k > n) throw bad(`${name} must be an integer from ${lo} to ${n}${name != 'hops' ? ' (the catalog size)' : ''}, got ${echo(k)}`);
  return k;
}
function pickStorage(kind) {
  if (kind !== 'session' && kind !== 'local' && kind !== 'memory') throw bad(`storage must be 'session', 'local' or 'memory'`);
  try {
    const s = kind === 'memory' ? null : globalThis[kind + 'Storage'];
    if (s) return s;
  } catch { /* storage disabled: fall back to memory */ }
  return null;
}

/** A loaded model and this visitor's history (mdsrec.d.ts documents each method). Calls run
    one after another in the order they were made: a recommend() made right after track(k)
    ranks with k, though track(k) had not resolved yet. */
class Recommender extends EventTarget {
  constructor(call, info, opts, close) {
    super();
    this._call = call;
    this._close = close;
    this.info = info;
    this._store = pickStorage(opts.storage ?? 'session');
    this._skey = opts.storageKey ?? 'mdsrec:history';
    this._max = opts.maxHistory ?? Math.max(info.maxLen, 1);
    this._mem = [];
    this._tail = Promise.resolve(); // the last call made: the next one starts after it settles
    this._epoch = 0; // forget() counts up: a track() made before it appends nothing after it
    try {
      const saved = this._store && JSON.parse(this._store.getItem(this._skey) || '[]');
      if (Array.isArray(saved)) this._mem = saved.filter(isKey).slice(-this._max);
    } catch { /* unreadable history: start afresh */ }
  }

  /** Runs f once every call made before has settled; its result is the call's. */
  _queue(f) {
    const p = this._tail.then(f);
    this._tail = p.then(() => {}, () => {});
    return p;
  }

  async track(key) {
    if (!isKey(key)) throw bad('track(key): key must be a non-empty string');
    const epoch = this._epoch;
    return this._queue(async () => {
      if ((await this._call('index', key)) < 0) {
        this.dispatchEvent(new CustomEvent('unknownkey', { detail: { key } }));
        return false;
      }
      if (epoch !== this._epoch) return true; // forgotten while it waited
      this._mem.push(key);
      if (this._mem.length > this._max) this._mem.splice(0, this._mem.length - this._max);
      this._save();
      return true;
    });
  }

  async recommend(opts = {}) {
    if (typeof opts !== 'object' || opts === null) throw bad('recommend(options): options must be an object');
    const q = {
      k: checkK(opts.k, this.info.nItems, 10),
      history: checkKeys(opts.history, 'history'),
      exclude: checkKeys(opts.exclude, 'exclude') ?? [],
      allow: checkKeys(opts.allow, 'allow'),
      includeHistory: !!opts.includeHistory,
      // candidate mode: the popular head and the history's neighbours only (docs/WEB.md)
      cand: opts.candidates ? [1, checkK(opts.popularHead, this.info.nItems, 100, 'popularHead', 0), checkK(opts.hops, 2, 1, 'hops')] : null,
    };
    // the stored history as it is when the calls made before this one have run
    return this._queue(() => this._call('recommend', { ...q, history: q.history ?? this._mem.slice() }));
  }

  async similar(key, opts = {}) {
    if (!isKey(key)) throw bad('similar(key): key must be a non-empty string');
    if (typeof opts !== 'object' || opts === null) throw bad('similar(key, options): options must be an object');
    const chs = this.info.channels;
    let c = opts.channel ?? 0;
    if (typeof c === 'string') c = chs.findIndex((x) => x.name === c);
    if (!Number.isInteger(c) || c < 0 || c >= chs.length) throw bad(`channel must be one of ${chs.map((x) => x.name).join(', ')}`);
    const k = checkK(opts.k, this.info.nItems, 10);
    return this._queue(() => this._call('similar', key, c, k));
  }

  catalog() { return this._queue(() => this._call('list')); }

  history() { return this._mem.slice(); }

  forget() {
    this._epoch++;
    this._mem = [];
    try { this._store && this._store.removeItem(this._skey); } catch { /* nothing stored */ }
    this.dispatchEvent(new Event('change'));
  }

  close() { this._close(); }

  _save() {
    try { this._store && this._store.setItem(this._skey, JSON.stringify(this._mem)); } catch { /* quota: keep in memory */ }
    this.dispatchEvent(new Event('change'));
  }
}

const isClosed = () => new MdsrecError('MDSREC_CLOSED', 'the recommender is closed');
const here = (p) => new URL(p, import.meta.url).href;
const abs = (u) => new URL(u, globalThis.document ? document.baseURI : import.meta.url).href;

/** Picks the wasm file of a build (true/false: 'simd128'/'scalar'): a URL ending in .wasm as
    is; else a folder with the builds, or {relaxed, simd, scalar} URLs. */
export function wasmUrl(wasm, build) {
  if (typeof build === 'boolean') build = build ? 'simd' : 'scalar';
  const b = build === 'simd128' ? 'simd' : build;
  if (wasm && typeof wasm === 'object' && !(wasm instanceof URL)) return abs(wasm[b]);
  const base = wasm ? abs(String(wasm)) : here('./wasm/');
  if (/\.wasm([?#]|$)/.test(base)) return base;
  return new URL(`mdsrec-${b}.wasm`, base.endsWith('/') ? base : base + '/').href;
}

/** opts.build, else opts.simd, else the best this engine validates: relaxed -> simd128 ->
    scalar; not relaxed with a wasmHash (it pins one file) or {simd, scalar} URLs alone. */
export function pickBuild(opts = {}) {
  const { build, simd, wasm: w } = opts;
  if (build !== undefined) {
    if (!BUILDS.includes(build)) throw bad(`build must be one of ${BUILDS.join(', ')}, got ${echo(build)}`);
    return build;
  }
  if (simd !== undefined || !hasSimd()) return simd ? 'simd128' : 'scalar';
  return !opts.wasmHash && !(w && typeof w === 'object' && !(w instanceof URL) && !w.relaxed) && hasRelaxedSimd() ? 'relaxed' : 'simd128';
}

// Trusted Types (require-trusted-types-for 'script') refuse a plain string as a Worker's URL.
// The shim's own policy, named 'mdsrec', turns the worker URL it computed into a
// TrustedScriptURL; a page whose CSP lists the allowed policy names (trusted-types ...) must
// list 'mdsrec', or pass workerUrl as a TrustedScriptURL of its own policy. Without either the
// Worker cannot start and load() runs the core on this thread (info.fallback says why).
let policy;
function trustedPolicy() {
  if (policy === undefined) {
    policy = null;
    try {
      const tt = globalThis.trustedTypes;
      if (tt && typeof tt.createPolicy === 'function') policy = tt.createPolicy('mdsrec', { createScriptURL: (u) => u });
    } catch { /* the page's trusted-types directive does not allow the name 'mdsrec' */ }
  }
  return policy;
}
const isTrustedUrl = (u) => typeof TrustedScriptURL === 'function' && u instanceof TrustedScriptURL;
function workerScript(workerUrl) {
  if (isTrustedUrl(workerUrl)) return workerUrl; // made by the page's own policy
  const url = workerUrl ? abs(String(workerUrl)) : here('./worker.js');
  const p = typeof trustedTypes === 'object' ? trustedPolicy() : null;
  return p ? p.createScriptURL(url) : url;
}

const HASH_RE = /^[0-9a-f]{64}$/i;
function checkHash(v, name) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !HASH_RE.test(v)) throw bad(`${name} must be a SHA-256 as 64 hex digits, got ${echo(v)}`);
  return v.toLowerCase();
}

/** Loads the core and a model. See mdsrec.d.ts for the options. */
export async function load(opts = {}) {
  if (typeof opts !== 'object' || opts === null) throw bad('load(options): options must be an object');
  const { model } = opts;
  const bytes = model instanceof ArrayBuffer || ArrayBuffer.isView(model);
  if (!bytes && typeof model !== 'string' && !(model instanceof URL)) throw bad('load: model must be a URL or the bundle bytes');
  if (typeof model === 'string' && !model.trim()) throw bad('load: model is an empty string; give the bundle\'s URL or its bytes');
  pickStorage(opts.storage ?? 'session');
  const mh = opts.maxHistory;
  if (mh !== undefined && !(Number.isInteger(mh) && mh > 0)) throw bad('maxHistory must be a positive integer');
  const sk = opts.storageKey;
  if (sk !== undefined && !(typeof sk === 'string' && sk)) throw bad('storageKey must be a non-empty string');
  const modelHash = checkHash(opts.modelHash, 'modelHash');
  const wasmHash = checkHash(opts.wasmHash, 'wasmHash');
  const wu = opts.workerUrl;
  if (wu !== undefined && typeof wu !== 'string' && !(wu instanceof URL) && !isTrustedUrl(wu)) throw bad('workerUrl must be a URL or a TrustedScriptURL');
  if (typeof WebAssembly !== 'object') throw new WasmError('MDSREC_WASM_UNAVAILABLE', 'WebAssembly is not available');
  const build = pickBuild(opts);
  const args = {
    wasm: wasmUrl(opts.wasm, build), model: bytes ? model : abs(String(model)), cache: opts.cache ?? true, modelHash, wasmHash,
    // picked, not named: a missing relaxed file falls back to SIMD128
    wasmFallback: build === 'relaxed' && opts.build === undefined ? wasmUrl(opts.wasm, true) : null,
  };
  // what runs, from the core itself (its kernel set)
  const built = (info) => ({ build: info.kernels, simd: info.kernels !== 'scalar' });
  const early = !!opts.early;
  let fallback = null; // why the Worker was not used, when it was asked for
  let ready = Promise.resolve();
  const make = (call, info, mode, close) => {
    const r = new Recommender(call, { ...info, mode, ...built(info), fallback }, opts, close);
    r.ready = ready;
    return r;
  };
  if (opts.worker !== false && typeof Worker === 'function') {
    let w = null;
    try {
      w = new Worker(workerScript(wu), { type: 'module' });
    } catch (e) { // Trusted Types without a policy for it, a CSP that forbids it (worker-src), ...
      fallback = { code: 'MDSREC_WORKER_UNAVAILABLE', message: `cannot start the mdsrec worker: ${e.message}` };
    }
    if (w) {
      const pending = new Map();
      let seq = 0, closed = false, broken = null;
      const failAll = (err) => {
        for (const [, p] of pending) p.reject(err);
        pending.clear();
      };
      w.onmessage = ({ data }) => {
        const p = pending.get(data.id);
        if (!p) return;
        pending.delete(data.id);
        if (data.ok) p.resolve(data.value);
        else p.reject(mdsrecError(data.code, data.message));
      };
      w.onerror = (e) => {
        e.preventDefault();
        broken = e.message || 'cannot load the worker script';
        failAll(new WasmError('MDSREC_WASM_UNAVAILABLE', `the mdsrec worker failed: ${broken}`));
      };
      const post = (op, a, transfer) => new Promise((resolve, reject) => {
        if (closed) throw isClosed();
        pending.set(++seq, { resolve, reject });
        w.postMessage({ id: seq, op, args: a }, transfer || []); // arguments are checked plain data
      });
      const call = (op, ...a) => post(op, a);
      const close = () => {
        closed = true;
        w.terminate();
        failAll(isClosed());
      };
      // The bundle's download starts now, while the worker starts and compiles the core; its
      // body goes to the worker as a transferred stream. Where streams do not transfer, the
      // worker fetches it itself.
      const body = typeof args.model === 'string' && typeof ReadableStream === 'function' && fetchAsset(args.model, args.cache, modelHash);
      if (body) body.catch(() => {});
      const readyId = early ? ++seq : 0;
      if (early) ready = new Promise((resolve, reject) => pending.set(readyId, { resolve, reject }));
      ready.catch(() => {});
      try {
        const opening = call('open', { ...args, body: !!body, early, readyId });
        if (body) {
          body.then(({ res, source }) => {
            const h = (n) => res.headers.get(n) || undefined;
            const b = { stream: res.body, length: h('content-length'), encoding: h('content-encoding'), source };
            try {
              w.postMessage({ op: 'body', args: [b] }, [res.body]);
            } catch (e) {
              res.body.cancel().catch(() => {});
              w.postMessage({ op: 'body', args: [{ error: { code: 'MDSREC_FETCH_FAILED', message: `cannot hand the download to the worker: ${e.message}` } }] });
            }
          }, (e) => w.postMessage({ op: 'body', args: [{ error: { code: e.code || 'MDSREC_FETCH_FAILED', message: e.message } }] }));
        }
        const info = await opening;
        return make(call, info, 'worker', close);
      } catch (e) {
        close();
        if (body) body.then(({ res: { body: b } }) => !b.locked && b.cancel()).catch(() => {});
        if (broken === null) throw e; // a worker that cannot start (no module workers, CSP): this thread
        fallback = { code: 'MDSREC_WORKER_UNAVAILABLE', message: `the mdsrec worker failed: ${broken}` };
        ready = Promise.resolve();
      }
    }
  }
  let engine = null, closed = false;
  const call = async (op, ...a) => {
    if (closed) throw isClosed();
    return engine[op](...a);
  };
  const close = () => {
    if (!closed && engine) engine.close();
    closed = true;
  };
  let head = null;
  const headIn = early && new Promise((r) => { head = r; });
  const opened = Engine.open({ ...args, park: true }, early && ((e) => { engine = e; head(); }))
    .then((e) => { engine = e; if (closed) e.close(); });
  if (early) ready = opened;
  ready.catch(() => {});
  await (early ? Promise.race([headIn, opened]) : opened);
  return make(call, engine.info, 'main', close);
}
