// wasm_loader.mjs - the smallest loader of the standalone core (web/wasm/mdsrec-*.wasm) for
// the tests: no Emscripten glue, just the exports of src/wasm_api.h over the instance memory.
// The web shim (web/) has its own; this one exists so the tests depend on nothing but the wasm.

import { readFile } from 'node:fs/promises';

// The only imports a standalone build may have, and what satisfies them.
const STUBS = {
  env: {
    emscripten_notify_memory_growth() {}, // views are re-created after every allocating call
  },
  wasi_snapshot_preview1: {
    proc_exit(code) { throw new Error(`wasm called proc_exit(${code})`); },
    fd_write() { return 52; }, // ENOSYS: the core never prints
    fd_close() { return 52; },
    fd_seek() { return 52; },
  },
};

export const ALLOWED_IMPORTS = Object.entries(STUBS).flatMap(([m, o]) => Object.keys(o).map((n) => `${m}.${n}`));

export function moduleImports(module) {
  return WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
}

export async function loadCore(path) {
  const module = await WebAssembly.compile(await readFile(path));
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const f = STUBS[imp.module]?.[imp.name];
    if (!f) throw new Error(`${path}: import ${imp.module}.${imp.name} has no stub`);
    (imports[imp.module] ??= {})[imp.name] = f;
  }
  const instance = await WebAssembly.instantiate(module, imports);
  instance.exports._initialize?.(); // a reactor's constructors
  return new Core(instance, module);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Core {
  constructor(instance, module) {
    this.x = instance.exports;
    this.module = module;
  }

  get mem() { return this.x.memory.buffer; } // re-read every time: memory may have grown

  cstring(ptr) {
    if (!ptr) return null;
    const b = new Uint8Array(this.mem, ptr);
    return dec.decode(b.subarray(0, b.indexOf(0)));
  }

  // Copies bytes into a fresh allocation; returns its address (0 for no bytes).
  put(bytes) {
    if (!bytes.length) return 0;
    const p = this.x.mdsrec_wasm_alloc(bytes.length);
    if (!p) throw new Error('wasm: out of memory');
    new Uint8Array(this.mem, p, bytes.length).set(bytes);
    return p;
  }

  putU32(arr) {
    return arr ? this.put(new Uint8Array(Uint32Array.from(arr).buffer)) : 0;
  }

  // Opens a bundle; the instance owns the copy from then on. Throws with the loader's message.
  open(bytes) {
    const p = this.x.mdsrec_wasm_alloc(bytes.length);
    new Uint8Array(this.mem, p, bytes.length).set(bytes);
    const st = this.x.mdsrec_wasm_open(p, bytes.length);
    if (st) {
      const e = new Error(this.cstring(this.x.mdsrec_wasm_error_message()));
      e.status = st;
      throw e;
    }
  }

  close() { this.x.mdsrec_wasm_close(); }
  kernels() { return this.cstring(this.x.mdsrec_wasm_kernels()); }

  config() {
    const x = this.x;
    const channels = [];
    for (let c = 0; c < x.mdsrec_wasm_info_n_channels(); c++)
      channels.push({ name: this.cstring(x.mdsrec_wasm_channel_name(c)), kind: x.mdsrec_wasm_channel_kind(c) });
    return { nItems: x.mdsrec_wasm_info_n_items(), dim: x.mdsrec_wasm_info_dim(), nChannels: x.mdsrec_wasm_info_n_channels(),
             maxLen: x.mdsrec_wasm_info_max_len(), nBlocks: x.mdsrec_wasm_info_n_blocks(), nHeads: x.mdsrec_wasm_info_n_heads(),
             ffnDim: x.mdsrec_wasm_info_ffn_dim(), itemDtype: x.mdsrec_wasm_info_item_dtype(), poolMode: x.mdsrec_wasm_info_pool_mode(),
             version: x.mdsrec_wasm_info_format_version(), channels };
  }

  // The C name of a status (include/mdsrec.h), or null.
  statusName(status) { return this.cstring(this.x.mdsrec_wasm_status_name(status)); }

  findKey(key) {
    const b = enc.encode(key);
    const p = this.put(b.length ? b : new Uint8Array(1));
    const i = this.x.mdsrec_wasm_find_key(p, b.length);
    this.x.mdsrec_wasm_free(p);
    return i;
  }

  // Returns the bytes at ptr with the length the call wrote to a u32 out-parameter.
  withLen(call) {
    const lp = this.x.mdsrec_wasm_alloc(4);
    const ptr = call(lp);
    const len = new Uint32Array(this.mem, lp, 1)[0];
    this.x.mdsrec_wasm_free(lp);
    return ptr ? new Uint8Array(this.mem, ptr, len).slice() : null;
  }

  itemKey(i) {
    const b = this.withLen((lp) => this.x.mdsrec_wasm_item_key(i, lp));
    return b && dec.decode(b);
  }

  catalog() {
    const b = this.withLen((lp) => this.x.mdsrec_wasm_catalog(lp));
    return b && dec.decode(b);
  }

  // recommend({history, k, includeHistory, exclude, allow, cand}) with item indices; cand:
  // [candidates, popular_head, hops, neighbours] (candidate mode), or nothing for the full scan.
  recommend({ history = [], k = 10, includeHistory = false, exclude = [], allow = null, cand = [] } = {}) {
    const hp = this.putU32(history), ep = this.putU32(exclude), ap = this.putU32(allow);
    const n = this.x.mdsrec_wasm_recommend(hp, history.length, k, includeHistory ? 1 : 0, ep, exclude.length,
                                           ap, allow ? allow.length : 0, allow ? 1 : 0, ...cand);
    for (const p of [hp, ep, ap]) if (p) this.x.mdsrec_wasm_free(p);
    if (n < 0) {
      const e = new Error(`recommend failed: status ${-n}`);
      e.status = -n;
      throw e;
    }
    const x = this.x;
    const C = x.mdsrec_wasm_info_n_channels();
    const read = (Type, ptr, count) => new Type(this.mem, ptr, count).slice();
    return {
      items: read(Uint32Array, x.mdsrec_wasm_result_items(), n),
      scores: read(Float32Array, x.mdsrec_wasm_result_scores(), n),
      shares: read(Float32Array, x.mdsrec_wasm_result_shares(), n * C),
      gates: read(Float32Array, x.mdsrec_wasm_result_gates(), C),
      carriers: read(Uint32Array, x.mdsrec_wasm_result_carriers(), C),
      carrierWeights: read(Float32Array, x.mdsrec_wasm_result_carrier_weights(), C),
    };
  }

  similar(item, channel, k) {
    const n = this.x.mdsrec_wasm_similar(item, channel, k);
    if (n < 0) {
      const e = new Error(`similar failed: status ${-n}`);
      e.status = -n;
      throw e;
    }
    return {
      items: new Uint32Array(this.mem, this.x.mdsrec_wasm_result_items(), n).slice(),
      weights: new Float32Array(this.mem, this.x.mdsrec_wasm_result_scores(), n).slice(),
    };
  }
}
