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
/* NUL-terminated message of the last failure (empty if none). */
const char *mdsrec_wasm_error_message(void);

/* Config field by number: 0 n_items, 1 dim, 2 n_channels, 3 max_len, 4 n_blocks, 5 n_heads,
   6 ffn_dim, 7 item_dtype, 8 pool_mode, 9 format version; -1 if no model or bad field. */
int32_t mdsrec_wasm_info(int32_t field);
/* Channel c's name (NUL-terminated) and kind (mdsrec_channel_kind); NULL / -1 if out of range. */
const char *mdsrec_wasm_channel_name(uint32_t c);
int32_t mdsrec_wasm_channel_kind(uint32_t c);

/* Key <-> index. find_key: index or -1. item_key: pointer to the key bytes, length at *len. */
int32_t mdsrec_wasm_find_key(const char *key, uint32_t len);
const char *mdsrec_wasm_item_key(uint32_t index, uint32_t *len);
/* The catalog JSON bytes, length at *len; NULL and 0 if the bundle has none. */
const char *mdsrec_wasm_catalog(uint32_t *len);

/* mdsrec_recommend on u32 arrays in memory. Returns the result count, or -status.
   The result stays readable through mdsrec_wasm_result until the next recommend/similar. */
int32_t mdsrec_wasm_recommend(const uint32_t *history, uint32_t history_len, uint32_t k,
                              uint32_t flags, const uint32_t *exclude, uint32_t exclude_len,
                              const uint32_t *allow, uint32_t allow_len, uint32_t use_allow);
/* mdsrec_similar. Returns the count, or -status; items at result(0), weights at result(1). */
int32_t mdsrec_wasm_similar(uint32_t item, uint32_t channel, uint32_t k);
/* The last result's arrays: 0 items (u32[count]), 1 scores (f32[count]), 2 shares
   (f32[count*n_channels]), 3 gates (f32[n_channels]), 4 carriers (u32[n_channels]),
   5 carrier weights (f32[n_channels]). NULL for an unknown field. */
const void *mdsrec_wasm_result(int32_t field);

/* "simd128" or "scalar". */
const char *mdsrec_wasm_kernels(void);

#endif /* MDSREC_WASM_API_H */
