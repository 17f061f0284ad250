/*
 * wasm_api.h - the functions the WebAssembly build exports to the JS shim (web/), and
 * nothing else crosses that boundary. One model per wasm instance.
 *
 * Pointers are byte offsets into the instance's memory. Memory can grow during
 * mdsrec_wasm_alloc and mdsrec_wasm_open: JS must re-create its typed-array views after
 * those calls (never after recommend/similar, which allocate nothing).
 *
 * Status returns: 0 is OK, otherwise an mdsrec_status code (mdsrec.h); functions that
 * return a count return the negated status on failure.
 */
#ifndef MDSREC_WASM_API_H
#define MDSREC_WASM_API_H

#include <stdint.h>

/* malloc/free for the shim's buffers (bundle bytes, history, exclude and allow lists). */
void *mdsrec_wasm_alloc(uint32_t size);
void mdsrec_wasm_free(void *p);

/* Opens the bundle in buf[0..len) (a buffer from mdsrec_wasm_alloc, which the instance then
   owns and frees on close or reopen). Closes any model open before. Returns a status; the
   message is at mdsrec_wasm_error_message(). */
int mdsrec_wasm_open(void *buf, uint32_t len);
void mdsrec_wasm_close(void);

/* Opening a bundle while it downloads (issue 20). stream_begin takes buf, a buffer of the
   bundle's whole length len from mdsrec_wasm_alloc (owned by the instance from then on, as
   with open), still empty; closes any model. Returns a status. The shim copies the bytes in
   front to back and calls stream_feed(avail) with the count present: the header, the table
   and each section's checksum are checked as they complete. Returns 0 (more bytes needed),
   1 (the head sections are in and verified: keys, the catalog and recommend() with an empty
   history answer; nothing else), 2 (every byte is in and the model is open as after
   mdsrec_wasm_open), or a negated status (the model is closed, the message set). */
int mdsrec_wasm_stream_begin(void *buf, uint32_t len);
int mdsrec_wasm_stream_feed(uint32_t avail);
/* NUL-terminated message of the last failure (empty if none). */
const char *mdsrec_wasm_error_message(void);

/* The open model's config, one export per field (mdsrec_config in mdsrec.h); each returns -1
   when no model is open. item_dtype is an mdsrec_dtype, pool_mode an mdsrec_pool_mode,
   format_version the newest bundle format version this core reads (MDSREC_FORMAT_VERSION). */
int32_t mdsrec_wasm_info_n_items(void);
int32_t mdsrec_wasm_info_dim(void);
int32_t mdsrec_wasm_info_n_channels(void);
int32_t mdsrec_wasm_info_max_len(void);
int32_t mdsrec_wasm_info_n_blocks(void);
int32_t mdsrec_wasm_info_n_heads(void);
int32_t mdsrec_wasm_info_ffn_dim(void);
int32_t mdsrec_wasm_info_item_dtype(void);
int32_t mdsrec_wasm_info_pool_mode(void);
int32_t mdsrec_wasm_info_format_version(void);
/* Channel c's name (NUL-terminated) and kind (mdsrec_channel_kind); NULL / -1 if out of range. */
const char *mdsrec_wasm_channel_name(uint32_t c);
int32_t mdsrec_wasm_channel_kind(uint32_t c);

/* Key <-> index. find_key: index or -1. item_key: pointer to the key bytes, length at *len. */
int32_t mdsrec_wasm_find_key(const char *key, uint32_t len);
const char *mdsrec_wasm_item_key(uint32_t index, uint32_t *len);
/* The catalog's bytes, length at *len; NULL and 0 if the bundle has none. Either the JSON
   (CATALOG) or a gzip member of it (CATALOG_GZ, for the shim's DecompressionStream): a gzip
   member starts with the byte 0x1f, which JSON (an array, maybe after white space) never does. */
const void *mdsrec_wasm_catalog(uint32_t *len);

/* mdsrec_recommend on u32 arrays in memory; with candidates not 0, in candidate mode
   (mdsrec_recommend_candidates with {candidates, popular_head, hops, neighbours}; a caller
   that passes only the first nine arguments gets zeros from JS: the full scan). Returns the
   result count, or -status. The result stays readable through the mdsrec_wasm_result_*
   exports until the next recommend/similar. */
int32_t mdsrec_wasm_recommend(const uint32_t *history, uint32_t history_len, uint32_t k,
                              uint32_t flags, const uint32_t *exclude, uint32_t exclude_len,
                              const uint32_t *allow, uint32_t allow_len, uint32_t use_allow,
                              uint32_t candidates, uint32_t popular_head, uint32_t hops, uint32_t neighbours);
/* mdsrec_similar. Returns the count, or -status; items at result_items(), weights at
   result_scores(). */
int32_t mdsrec_wasm_similar(uint32_t item, uint32_t channel, uint32_t k);
/* The last result's arrays (mdsrec_result in mdsrec.h), one export per field; NULL before
   the first result. After recommend: items and scores (count), shares (count * n_channels),
   gates, carriers and carrier_weights (n_channels each). After similar: items and scores
   (the neighbour weights); the others are NULL. */
const uint32_t *mdsrec_wasm_result_items(void);
const float *mdsrec_wasm_result_scores(void);
const float *mdsrec_wasm_result_shares(void);
const float *mdsrec_wasm_result_gates(void);
const uint32_t *mdsrec_wasm_result_carriers(void);
const float *mdsrec_wasm_result_carrier_weights(void);

/* The C name of an mdsrec_status value ("MDSREC_OK", "MDSREC_EARG", ...), NULL for a value
   that is not one: the JS shim maps statuses to its error codes by this name. */
const char *mdsrec_wasm_status_name(int32_t status);

/* "simd128" or "scalar". */
const char *mdsrec_wasm_kernels(void);

#endif /* MDSREC_WASM_API_H */
