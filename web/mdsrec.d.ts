// Type declarations for mdsrec.js (the browser shim) and render.js. docs/WEB.md has the guide.

/** Stable error codes. Every rejection from this package is an MdsrecError with one of them. */
export type MdsrecErrorCode =
  /** A wrong type or value: k of 0 or above the catalog size, a non-string key, an unknown channel, bad options
      (model '', a modelHash or wasmHash that is not 64 hex digits, ...). */
  | 'MDSREC_BAD_ARGUMENT'
  /** similar() got a key the model does not know. (track() reports unknown keys without an error.) */
  | 'MDSREC_UNKNOWN_KEY'
  /** Not a bundle, or a damaged one: empty, shorter than its header or its Content-Length (a download that ended
      early), bad magic, wrong length, checksum mismatch, inconsistent sections, modelHash mismatch. */
  | 'MDSREC_CORRUPT_BUNDLE'
  /** A bundle of a format version this core does not read (e.g. version 4). */
  | 'MDSREC_INCOMPATIBLE_BUNDLE'
  /** No WebAssembly, the .wasm is not the mdsrec core or fails wasmHash, the CSP forbids compiling it
      ('wasm-unsafe-eval': the page's policy on the main thread, worker.js's policy in the Worker; docs/WEB.md),
      or the worker failed after it started. */
  | 'MDSREC_WASM_UNAVAILABLE'
  /** The bundle or the .wasm could not be fetched (network error, HTTP status not 2xx), or its download broke off
      (connection reset, fewer bytes than the Content-Length before the connection closed). */
  | 'MDSREC_FETCH_FAILED'
  /** similar() on a channel for which the bundle has no neighbour list. */
  | 'MDSREC_NOT_FOUND'
  /** The wasm core ran out of memory. */
  | 'MDSREC_OUT_OF_MEMORY'
  /** A call after close(). */
  | 'MDSREC_CLOSED'
  /** A bug: please report it. */
  | 'MDSREC_INTERNAL';

/** Not a rejection: the reason in info.fallback why load() runs the core on the main thread
    though a Worker was asked for (Trusted Types or a CSP refused it, the worker script failed). */
export type FallbackCode = 'MDSREC_WORKER_UNAVAILABLE';

/** A TrustedScriptURL (Trusted Types), made by the page's own policy. */
export interface TrustedScriptURLLike { toString(): string; toJSON(): string }

export class MdsrecError extends Error {
  readonly code: MdsrecErrorCode;
  constructor(code: MdsrecErrorCode, message: string);
}
/** code MDSREC_BAD_ARGUMENT */
export class ArgumentError extends MdsrecError {}
/** code MDSREC_UNKNOWN_KEY */
export class UnknownKeyError extends MdsrecError {}
/** code MDSREC_CORRUPT_BUNDLE or MDSREC_INCOMPATIBLE_BUNDLE */
export class BundleError extends MdsrecError {}
/** code MDSREC_WASM_UNAVAILABLE */
export class WasmError extends MdsrecError {}

/** The newest bundle format version this shim reads (models/FORMAT.md); FORMAT_VERSION_MIN the oldest. */
export const FORMAT_VERSION: 2;
export const FORMAT_VERSION_MIN: 1;

export interface LoadOptions {
  /** The bundle (.mdsb): a URL (relative to the page) or its bytes. */
  model: string | URL | ArrayBuffer | ArrayBufferView;
  /** A folder holding mdsrec-relaxed.wasm (optional), mdsrec-simd.wasm and mdsrec-scalar.wasm
      (default: ./wasm/ next to mdsrec.js), one .wasm URL, or {relaxed?, simd, scalar} URLs. */
  wasm?: string | URL | { relaxed?: string; simd: string; scalar: string };
  /** Force a build (default: feature-detected, relaxed -> simd128 -> scalar; relaxed only without a
      wasmHash, and a relaxed file that cannot be fetched falls back to simd128). A build named here
      has no fallback. */
  build?: Build;
  /** The older switch: true forces 'simd128', false 'scalar' (build wins when both are given). */
  simd?: boolean;
  /** Run the core in a Web Worker (default true; main thread when false, without Worker, or when the worker cannot start). */
  worker?: boolean;
  /** URL of worker.js when it is not next to mdsrec.js. Under Trusted Types the shim makes it a
      TrustedScriptURL with its own policy 'mdsrec'; a page whose CSP lists the allowed policies
      (trusted-types ...) either lists 'mdsrec' or passes a TrustedScriptURL of its own policy here. */
  workerUrl?: string | URL | TrustedScriptURLLike;
  /** Where the history is kept: this tab's sessionStorage (default), localStorage, or memory only. */
  storage?: 'session' | 'local' | 'memory';
  /** The storage key of the history (default 'mdsrec:history'). */
  storageKey?: string;
  /** History length kept (default: the model's max_len, the longest history it reads). */
  maxHistory?: number;
  /** Keep the .wasm and the bundle in the Cache API (cache 'mdsrec-v1'), so the next visit loads
      them without the network (default true). */
  cache?: boolean;
  /** Hex SHA-256 of the bundle (64 hex digits, either case; anything else is MDSREC_BAD_ARGUMENT):
      checked after download, and a cached copy with another hash is refetched (so a new model at
      the same URL is picked up). */
  modelHash?: string;
  /** Resolve as soon as the bundle's head (keys, popularity order, catalog; `mdsrec export` and
      `synth` write it first) has arrived and been checked, rather than the whole bundle
      (default false). Until the rest is in, recommend() answers the popularity order without
      the history, each item `provisional: true`; similar() and catalog() wait for it; track()
      works. `ready` says when the whole model is in. Ignored (load() waits for everything) with
      a modelHash, which must be checked before any use. */
  early?: boolean;
  /** Hex SHA-256 of the .wasm, as modelHash (checked before the code runs; a mismatch is MDSREC_WASM_UNAVAILABLE). */
  wasmHash?: string;
}

export type ChannelKind = 'id' | 'image' | 'text' | 'feature';

export interface Reason {
  /** The channel with the largest share of the score (null for the popularity order). */
  channel: string | null;
  kind: ChannelKind | 'popular';
  /** "looks like X" (image), "described like X" (text), "often together with X" (id),
      "similar NAME to X" (feature), "popular right now" (empty history). X is the catalog title of `via`. */
  text: string;
  /** Key of the history item that carried the channel (its largest pooling weight), or the
      item similar() was asked about; null for the popularity order. */
  via: string | null;
}

/** A recommended item: its catalog fields (title, price, image, url, ...) plus these. */
export interface Item {
  key: string;
  /** recommend(): the fused score; similar(): the neighbour weight. */
  score: number;
  /** recommend() only: each channel's term of the score, by channel name (they sum to score). */
  shares?: Record<string, number>;
  reason: Reason;
  /** true: the bundle was still arriving (load({early: true})), so this is the popularity order,
      not a ranking for the visitor's history; ask again after `ready`. Absent otherwise. */
  provisional?: true;
  title?: string;
  price?: number | string;
  image?: string;
  url?: string;
  [field: string]: unknown;
}

export interface RecommendOptions {
  /** Results wanted: an integer from 1 to info.nItems (default 10, or nItems if smaller). */
  k?: number;
  /** Keys never returned (unknown keys are ignored). */
  exclude?: string[];
  /** If given: only these keys may be returned (unknown keys are ignored). */
  allow?: string[];
  /** Rank for this history instead of the stored one ([]: the popularity order). */
  history?: string[];
  /** Do not exclude the history items from the results. They then carry the bundle's repeat
      term where it has one (models/FORMAT.md REPEAT: a weight per click, chosen in training on
      whether this store's visitors come back to what they clicked). */
  includeHistory?: boolean;
  /** Candidate mode, for large catalogues: score only the popularHead most popular items and
      the items the bundle's neighbour lists reach from the history within `hops` steps, not
      every item. Each score is the full scan's; the top-k may miss items outside that set
      (docs/WEB.md). Ignored with `allow` or an empty history; a bundle without neighbour lists
      is scanned in full. Default false. */
  candidates?: boolean;
  /** candidates: the most popular items that are always candidates, 0..info.nItems (default 100). */
  popularHead?: number;
  /** candidates: steps through the neighbour lists from the history, 1 or 2 (default 1). */
  hops?: 1 | 2;
}

export interface SimilarOptions {
  /** Channel name or number (default 0, the first channel). */
  channel?: string | number;
  /** At most this many (1..info.nItems, default 10); fewer when the neighbour list is shorter. */
  k?: number;
}

export interface ModelInfo {
  nItems: number;
  dim: number;
  maxLen: number;
  version: number;
  channels: { name: string; kind: ChannelKind }[];
  /** The core's kernel set: 'relaxed', 'simd128' or 'scalar' */
  kernels: string;
  /** The bundle's catalogue was read: its JSON, or its gzip member (CATALOG_GZ) inflated with
      the platform's DecompressionStream; false without either. */
  hasCatalog: boolean;
  mode: 'worker' | 'main';
  /** The build that runs (the core's own answer, so a relaxed-to-simd128 fallback shows here). */
  build: Build;
  /** build !== 'scalar' */
  simd: boolean;
  /** Where each asset came from on this load ('memory': the core of a closed Recommender of this
      page, kept for the next main-thread load). */
  source: { wasm: 'network' | 'cache' | 'memory'; model: 'network' | 'cache' | 'bytes' };
  /** Why the core runs on the main thread though a Worker was asked for (null otherwise). */
  fallback: { code: FallbackCode; message: string } | null;
}

/** Events: 'change' (the history changed), 'unknownkey' (CustomEvent<{key: string}>: track()
    got a key the model does not know).
    track, recommend, similar and catalog run one after another in the order they were called:
    a recommend() called right after track(k), before it resolved, ranks with k. */
export interface Recommender extends EventTarget {
  readonly info: ModelInfo;
  /** Resolves once the whole bundle has arrived, been checked and opened (at once without
      `early`); rejects with the load's error (MDSREC_CORRUPT_BUNDLE, MDSREC_FETCH_FAILED, ...)
      when the rest of an early load fails, and every later call rejects with it too. */
  readonly ready: Promise<void>;
  /** Appends a click to the history. Resolves true, or false (and fires 'unknownkey') for a key
      the model does not know. Rejects (MDSREC_BAD_ARGUMENT) only for a non-string or empty key. */
  track(key: string): Promise<boolean>;
  recommend(options?: RecommendOptions): Promise<Item[]>;
  /** Neighbours of an item in one channel, strongest first. MDSREC_UNKNOWN_KEY, MDSREC_NOT_FOUND. */
  similar(key: string, options?: SimilarOptions): Promise<Item[]>;
  /** Every item in model order: {key, ...catalog fields}. */
  catalog(): Promise<{ key: string; [field: string]: unknown }[]>;
  /** The stored history, oldest first (the track() calls that have resolved). */
  history(): string[];
  /** Wipes the history from memory and storage, at once: a track() still pending appends nothing,
      and calls still waiting see the empty history. */
  forget(): void;
  /** Frees the core; later calls reject with MDSREC_CLOSED. */
  close(): void;
}

/** Loads the wasm core and a bundle. Rejects with MDSREC_BAD_ARGUMENT, MDSREC_FETCH_FAILED,
    MDSREC_CORRUPT_BUNDLE, MDSREC_INCOMPATIBLE_BUNDLE, MDSREC_WASM_UNAVAILABLE, MDSREC_OUT_OF_MEMORY. */
export function load(options: LoadOptions): Promise<Recommender>;

/** Whether this browser validates WebAssembly SIMD128. */
export function hasSimd(): boolean;

/** Throws a BundleError unless bytes (the first 12 or more of a bundle) hold the mdsrec magic
    and format version 1. load() applies it as soon as those bytes arrive. */
export function checkHeader(bytes: Uint8Array): void;

/** The error (of the right subclass) for a code. */
export function mdsrecError(code: MdsrecErrorCode, message: string): MdsrecError;
/** The core's failure statuses (mdsrec_status in include/mdsrec.h) by C name: the value there and the code. */
export const CORE_STATUS: Readonly<Record<'MDSREC_ENOMEM' | 'MDSREC_EARG' | 'MDSREC_EFORMAT' | 'MDSREC_EVERSION'
  | 'MDSREC_ECHECKSUM' | 'MDSREC_EKEY' | 'MDSREC_ENOTFOUND', Readonly<{ value: number; code: MdsrecErrorCode }>>>;
/** The code of a core status, by its C name ('MDSREC_EARG') or its value (2); MDSREC_INTERNAL for any other. */
export function statusCode(status: string | number): MdsrecErrorCode;
/** @internal Caller input as messages quote it: whole when short, else a prefix and its length. */
export function echo(value: unknown, max?: number, quote?: boolean): string;
/** The .wasm URL load() uses for a `wasm` option and a build (true/false: 'simd128'/'scalar'). */
export function wasmUrl(wasm: LoadOptions['wasm'] | undefined, build: Build | boolean): string;
/** The build load() picks for these options (see LoadOptions.build). */
export function pickBuild(opts?: Partial<LoadOptions>): Build;
/** WebAssembly.validate of a 29-byte SIMD128 module. */
export function hasSimd(): boolean;
/** WebAssembly.validate of a 36-byte module using a relaxed-SIMD opcode. */
export function hasRelaxedSimd(): boolean;
/** The core builds, best first. */
export const BUILDS: readonly Build[];
/** A core build: relaxed SIMD (FMA, int8 dot; Chromium), SIMD128, or scalar. */
export type Build = 'relaxed' | 'simd128' | 'scalar';
/** @internal The in-thread core that worker.js runs; not part of the API. */
export class Engine {}
