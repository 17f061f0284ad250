// Type declarations for mdsrec.js (the browser shim) and render.js. docs/WEB.md has the guide.

/** Stable error codes. Every rejection from this package is an MdsrecError with one of them. */
export type MdsrecErrorCode =
  /** A wrong type or value: k of 0 or above the catalog size, a non-string key, an unknown channel, bad options. */
  | 'MDSREC_BAD_ARGUMENT'
  /** similar() got a key the model does not know. (track() reports unknown keys without an error.) */
  | 'MDSREC_UNKNOWN_KEY'
  /** Not a bundle, or a damaged one: bad magic, wrong length, checksum mismatch, inconsistent sections, modelHash mismatch. */
  | 'MDSREC_CORRUPT_BUNDLE'
  /** A bundle of a format version this core does not read (e.g. version 2). */
  | 'MDSREC_INCOMPATIBLE_BUNDLE'
  /** No WebAssembly, the .wasm is not the mdsrec core or fails wasmHash, the CSP forbids compiling it ('wasm-unsafe-eval'), or the worker failed after it started. */
  | 'MDSREC_WASM_UNAVAILABLE'
  /** The bundle or the .wasm could not be fetched (network error, HTTP status not 2xx). */
  | 'MDSREC_FETCH_FAILED'
  /** similar() on a channel for which the bundle has no neighbour list. */
  | 'MDSREC_NOT_FOUND'
  /** The wasm core ran out of memory. */
  | 'MDSREC_OUT_OF_MEMORY'
  /** A call after close(). */
  | 'MDSREC_CLOSED'
  /** A bug: please report it. */
  | 'MDSREC_INTERNAL';

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

/** The bundle format version this shim reads (models/FORMAT.md). */
export const FORMAT_VERSION: 1;

export interface LoadOptions {
  /** The bundle (.mdsb): a URL (relative to the page) or its bytes. */
  model: string | URL | ArrayBuffer | ArrayBufferView;
  /** A folder holding mdsrec-simd.wasm and mdsrec-scalar.wasm (default: ./wasm/ next to mdsrec.js),
      one .wasm URL, or {simd, scalar} URLs. */
  wasm?: string | URL | { simd: string; scalar: string };
  /** Use the SIMD128 build (default: feature-detected). */
  simd?: boolean;
  /** Run the core in a Web Worker (default true; main thread when false, without Worker, or when the worker cannot start). */
  worker?: boolean;
  /** URL of worker.js when it is not next to mdsrec.js. */
  workerUrl?: string | URL;
  /** Where the history is kept: this tab's sessionStorage (default), localStorage, or memory only. */
  storage?: 'session' | 'local' | 'memory';
  /** The storage key of the history (default 'mdsrec:history'). */
  storageKey?: string;
  /** History length kept (default: the model's max_len, the longest history it reads). */
  maxHistory?: number;
  /** Keep the .wasm and the bundle in the Cache API (cache 'mdsrec-v1'), so the next visit loads
      them without the network (default true). */
  cache?: boolean;
  /** Hex SHA-256 of the bundle: checked after download, and a cached copy with another hash is
      refetched (so a new model at the same URL is picked up). */
  modelHash?: string;
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
  /** Do not exclude the history items from the results. */
  includeHistory?: boolean;
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
  /** 'simd128' or 'scalar' */
  kernels: string;
  hasCatalog: boolean;
  mode: 'worker' | 'main';
  simd: boolean;
  /** Where each asset came from on this load. */
  source: { wasm: 'network' | 'cache'; model: 'network' | 'cache' | 'bytes' };
}

/** Events: 'change' (the history changed), 'unknownkey' (CustomEvent<{key: string}>: track()
    got a key the model does not know). */
export interface Recommender extends EventTarget {
  readonly info: ModelInfo;
  /** Appends a click to the history. Resolves true, or false (and fires 'unknownkey') for a key
      the model does not know. Rejects (MDSREC_BAD_ARGUMENT) only for a non-string or empty key. */
  track(key: string): Promise<boolean>;
  recommend(options?: RecommendOptions): Promise<Item[]>;
  /** Neighbours of an item in one channel, strongest first. MDSREC_UNKNOWN_KEY, MDSREC_NOT_FOUND. */
  similar(key: string, options?: SimilarOptions): Promise<Item[]>;
  /** Every item in model order: {key, ...catalog fields}. */
  catalog(): Promise<{ key: string; [field: string]: unknown }[]>;
  /** The stored history, oldest first. */
  history(): string[];
  /** Wipes the history from memory and storage. */
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
/** The code of a core status (src/mdsrec.h mdsrec_status). */
export function statusCode(status: number): MdsrecErrorCode;
/** The .wasm URL load() uses for a `wasm` option and a SIMD choice. */
export function wasmUrl(wasm: LoadOptions['wasm'] | undefined, simd: boolean): string;
/** @internal The in-thread core that worker.js runs; not part of the API. */
export class Engine {}
