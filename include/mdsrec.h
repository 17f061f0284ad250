/*
 * mdsrec.h - the public API of the mdsrec inference core.
 *
 * The core loads a model bundle (.mdsb, see models/FORMAT.md) from a caller-owned byte
 * buffer and answers "what next?" for a visitor's in-session history. It knows nothing
 * about files, JSON, threads or the browser: it takes bytes and returns answers.
 *
 * Ownership and threads
 *   - mdsrec_open() validates the buffer and returns a model that POINTS INTO IT (the big
 *     matrices are not copied). The caller keeps the buffer alive and unchanged until
 *     mdsrec_close(). A model is read-only after open: several threads may share one.
 *   - A state holds every scratch buffer one call needs; it is allocated once by
 *     mdsrec_state_new() and reused, so recommend() allocates nothing. One state per
 *     thread. Results returned through a state stay valid until the next call on it.
 *
 * Errors
 *   Every function that can fail returns an mdsrec_status (MDSREC_OK is 0). Nothing in
 *   the core aborts, prints or exits. mdsrec_open() fills an optional mdsrec_error with a
 *   message naming the section and the problem; mdsrec_status_string() names any code.
 */
#ifndef MDSREC_H
#define MDSREC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MDSREC_FORMAT_VERSION 3    /* the newest bundle format version this core reads */
#define MDSREC_FORMAT_VERSION_MIN 1 /* the oldest (v1 bundles still load) */
#define MDSREC_MAX_CHANNELS 8     /* channels per model (id + modalities) */
#define MDSREC_MAX_BLOCKS 8       /* attention blocks per channel */
#define MDSREC_MAX_DIM 1024       /* hidden size d */
#define MDSREC_MAX_LEN 1024       /* longest history the model reads */
#define MDSREC_MAX_ITEMS 16777216u /* 2^24 items */
#define MDSREC_MAX_KEY_LEN 255    /* bytes of one item key */
#define MDSREC_NONE 0xFFFFFFFFu   /* "no item" in result fields */

/* Status codes. Stable: the JS shim and the CLI map them to their own errors. */
typedef enum {
    MDSREC_OK = 0,
    MDSREC_ENOMEM = 1,     /* an allocation failed */
    MDSREC_EARG = 2,       /* bad argument: NULL pointer, k of 0, item index out of range, ... */
    MDSREC_EFORMAT = 3,    /* not a bundle, or a corrupt one: sizes, offsets, alignment, values */
    MDSREC_EVERSION = 4,   /* a bundle of a format version this core does not read */
    MDSREC_ECHECKSUM = 5,  /* a section or the header does not match its checksum */
    MDSREC_EKEY = 6,       /* an item key that the model does not know */
    MDSREC_ENOTFOUND = 7   /* an optional section (neighbours, catalog) that the bundle lacks */
} mdsrec_status;

/* Filled by mdsrec_open() on failure: the code again, and a message such as
   "section ITEMS (channel 1): size 1000 bytes, expected 4096". */
typedef struct {
    int code;
    char message[256];
} mdsrec_error;

/* Channel kinds, as stored in the bundle. */
typedef enum {
    MDSREC_CHANNEL_ID = 0,      /* learned id embedding; its neighbours are "bought together" */
    MDSREC_CHANNEL_IMAGE = 1,   /* "looks like" */
    MDSREC_CHANNEL_TEXT = 2,    /* "described like" */
    MDSREC_CHANNEL_FEATURE = 3  /* any other named feature matrix */
} mdsrec_channel_kind;

/* Item matrix types. MDSREC_PQ (format v2): product-quantized rows, pq_m u8 codes a row, each
   picking one of 256 centroids of its d/pq_m columns (models/FORMAT.md, "PQ items"). */
typedef enum { MDSREC_F32 = 0, MDSREC_F16 = 1, MDSREC_I8 = 2, MDSREC_PQ = 3 } mdsrec_dtype;

/* How the dense weights (POS, ENCODER, POOL, GATE) are stored (format v2; v1 is all f32).
   The core decodes them to f32 once at open. */
typedef enum {
    MDSREC_WEIGHTS_F32 = 0,
    MDSREC_WEIGHTS_F16 = 1, /* IEEE binary16 */
    MDSREC_WEIGHTS_Q8 = 2   /* blocks of 32 values: an f32 scale, then 32 i8 codes */
} mdsrec_weight_dtype;

/* How an item matrix's rows lie in the bundle (models/FORMAT.md, "Item layout"). */
typedef enum {
    MDSREC_LAYOUT_ROWS = 0,  /* row-major: row i at i*d */
    MDSREC_LAYOUT_PANEL16 = 1 /* f32 only: blocks of 16 rows stored column by column (one
                                streaming pass for the scoring kernel); the last N mod 16
                                rows row-major */
} mdsrec_layout;
#define MDSREC_PANEL 16 /* rows per block of MDSREC_LAYOUT_PANEL16 */

/* How a channel turns its attention states h_1..h_n into the visitor vector u. */
typedef enum {
    MDSREC_POOL_NONE = 0,   /* u = h_n (plain SASRec) */
    MDSREC_POOL_LAST = 1,   /* interest centre q = h_n, centralized pooling (MODEL.md 3) */
    MDSREC_POOL_MEAN = 2,   /* centre q = mean of the states */
    MDSREC_POOL_TOKEN = 3   /* centre q = a learned interest token */
} mdsrec_pool_mode;

/* The model's shape, read from the bundle's CONFIG section. */
typedef struct {
    uint32_t n_items;     /* N */
    uint32_t dim;         /* d, hidden size */
    uint32_t n_channels;  /* |C| */
    uint32_t max_len;     /* L: the longest history read (longer ones: the last L) */
    uint32_t n_blocks;    /* B attention blocks per channel (0 allowed) */
    uint32_t n_heads;     /* heads per block; divides dim */
    uint32_t ffn_dim;     /* inner width of the feed-forward layer (4d by default) */
    uint32_t item_dtype;  /* mdsrec_dtype of every channel's item matrix */
    uint32_t item_layout; /* mdsrec_layout of every channel's item matrix */
    uint32_t pool_mode;   /* mdsrec_pool_mode */
    uint32_t ln_mode;     /* 0 = post-LN (the only mode of format v1) */
    float ln_eps;         /* LayerNorm epsilon */
    uint32_t weight_dtype; /* mdsrec_weight_dtype of POS, ENCODER, POOL and GATE (v2; v1: 0) */
    uint32_t pq_m;        /* MDSREC_PQ: codes a row (sub-spaces), dividing dim; else 0 */
    struct {
        char name[25];    /* NUL-terminated UTF-8, e.g. "id", "image", "text" */
        uint32_t kind;    /* mdsrec_channel_kind */
        uint32_t n_blocks; /* the attention blocks this channel runs, <= n_blocks (format v3;
                              older bundles: n_blocks for every channel) */
    } channels[MDSREC_MAX_CHANNELS];
} mdsrec_config;

typedef struct mdsrec_model mdsrec_model;
typedef struct mdsrec_state mdsrec_state;

/* ---------------------------------------------------------------- open and close */

/* Validates the bundle in buf[0..len) completely (header, section table, checksums,
   sizes, dimensions, index ranges, finite values) and returns a model pointing into buf.
   buf must be 16-byte aligned and stay alive and unchanged until mdsrec_close().
   Returns MDSREC_OK and sets *out; on failure *out is NULL, err (if not NULL) is filled,
   and the code is MDSREC_EARG (NULL or misaligned buf), MDSREC_EFORMAT, MDSREC_EVERSION,
   MDSREC_ECHECKSUM or MDSREC_ENOMEM. Never reads outside buf[0..len). */
mdsrec_status mdsrec_open(const void *buf, size_t len, mdsrec_model **out, mdsrec_error *err);

/* Frees the model (not the buffer). NULL is a no-op. Close every state first. */
void mdsrec_close(mdsrec_model *model);

/* The model's configuration. Never NULL for an open model. */
const mdsrec_config *mdsrec_model_config(const mdsrec_model *model);

/* Allocates the scratch state for one thread (about L*(8d+ffn) floats plus N bytes of
   masks and up to N result slots). MDSREC_EARG if model or out is NULL; MDSREC_ENOMEM. */
mdsrec_status mdsrec_state_new(const mdsrec_model *model, mdsrec_state **out);

/* Frees a state. NULL is a no-op. */
void mdsrec_state_free(mdsrec_state *state);

/* ---------------------------------------------------------------- keys and catalog */

/* Index of the item whose key is key[0..len), or -1 if the model has no such key
   (also -1 for NULL key or len > MDSREC_MAX_KEY_LEN). O(log N). */
int64_t mdsrec_find_key(const mdsrec_model *model, const char *key, size_t len);

/* The key of item `index` (not NUL-terminated) and its length in *len; NULL if index
   is out of range. Points into the bundle buffer. */
const char *mdsrec_item_key(const mdsrec_model *model, uint32_t index, size_t *len);

/* The bundle's catalog metadata (UTF-8 JSON, an array of N objects in item order) and
   its length; NULL with *len = 0 if the bundle has none. Points into the bundle. */
const char *mdsrec_catalog(const mdsrec_model *model, size_t *len);

/* The bundle's catalog as a gzip member (RFC 1952; a CATALOG_GZ section, what `mdsrec export`
   writes by default) and its length; NULL with *len = 0 if the bundle has none. The core does
   not inflate it: inflated, it is the JSON that mdsrec_catalog describes (a browser inflates it
   with DecompressionStream("gzip"), a native caller with zlib), and only its gzip frame has been
   checked. A bundle holds at most one of the two forms. Points into the bundle. */
const void *mdsrec_catalog_gzip(const mdsrec_model *model, size_t *len);

/* ---------------------------------------------------------------- recommend */

/* Flags for mdsrec_query.flags. */
#define MDSREC_INCLUDE_HISTORY 1u  /* do not exclude the history items from the results */

typedef struct {
    const uint32_t *history;     /* item indices, oldest first; may be NULL if history_len is 0 */
    uint32_t history_len;        /* any length; only the last max_len items are read */
    uint32_t k;                  /* results wanted, >= 1; more than the eligible items: all of them */
    uint32_t flags;              /* MDSREC_INCLUDE_HISTORY */
    const uint32_t *exclude;     /* extra items never returned; may be NULL if exclude_len is 0 */
    uint32_t exclude_len;
    const uint32_t *allow;       /* if not NULL: only these items may be returned */
    uint32_t allow_len;
} mdsrec_query;

/* A result; its arrays live in the state and stay valid until the next call on it. */
typedef struct {
    uint32_t count;               /* results returned, <= k */
    uint32_t n_channels;          /* |C| */
    const uint32_t *items;        /* [count] item indices, best first (ties: lower index first) */
    const float *scores;          /* [count] fused scores sum_c g_c <u_c, H_c[i]>, plus the
                                     co-click and repeat terms where the bundle has them
                                     (COCLICK, REPEAT, FORMAT.md; the repeat term touches only
                                     history items, so only MDSREC_INCLUDE_HISTORY shows it) */
    const float *shares;          /* [count * n_channels] each channel's term g_c <u_c, H_c[i]>;
                                     the co-click and repeat terms count in the share of the
                                     channel whose neighbour lists COCLICK reads (channel 0
                                     without COCLICK), so the shares add up to the score */
    const float *gates;           /* [n_channels] the visitor's fusion gates g_c (sum to 1) */
    const uint32_t *carriers;     /* [n_channels] the history item with the largest pooling weight
                                     in each channel (MDSREC_POOL_NONE: the last item);
                                     MDSREC_NONE for an empty history */
    const float *carrier_weights; /* [n_channels] that pooling weight (1 for MDSREC_POOL_NONE) */
    uint32_t scored;              /* the items this call ranked: N for the full scan, the distinct
                                     allowed items not excluded for an allow-list, the candidate set's size in
                                     candidate mode (mdsrec_recommend_candidates), 0 for the
                                     popularity order */
} mdsrec_result;

/* Top-k items for the history in q. Empty history: the popularity order (scores are then
   1 - rank/N, shares and gates 0, carriers MDSREC_NONE). History items are excluded unless
   MDSREC_INCLUDE_HISTORY; exclude and allow filter further. Allocates nothing.
   MDSREC_EARG: NULL model/state/q/out, a state of another model, k of 0, an item index
   >= N in history, exclude or allow. */
mdsrec_status mdsrec_recommend(const mdsrec_model *model, mdsrec_state *state,
                               const mdsrec_query *q, mdsrec_result *out);

/* Candidate mode, for catalogues too large to score in full on every call (1M items): only
   the items near the history are scored. Zeroed, it asks for the full scan. */
typedef struct {
    uint32_t candidates;   /* 0: exact (every item scored, as mdsrec_recommend); else candidate mode */
    uint32_t popular_head; /* P: the first P items of the popularity order are candidates (0: none) */
    uint32_t hops;         /* steps through the neighbour lists from the history: 1 or 2 (0 means 1) */
    uint32_t neighbours;   /* the strongest this many of each list, at each step; 0: all stored */
} mdsrec_candidates;

/* mdsrec_recommend, with candidate mode when opts is not NULL and opts->candidates is not 0
   (otherwise exactly mdsrec_recommend). The candidate set is the union, deduplicated, of
     - the popular head: the first popular_head items of the bundle's popularity order;
     - every item within `hops` steps of a history item (of the last max_len items, those the
       model reads) through the neighbour lists of every channel that has one (what
       mdsrec_similar returns: the behaviour graph for the id channel, the modality graphs for
       the others), the strongest `neighbours` of each list at each step;
     - with MDSREC_INCLUDE_HISTORY, the history items the model reads.
   The forward pass, the kernels and the arithmetic are mdsrec_recommend's, and every
   candidate's score is computed exactly as the full scan computes it, so the result is the
   full scan's top-k restricted to the candidates: the same score, shares, gates and carriers
   to the bit for every item returned, the same order and ties. Exclusions are the full
   scan's (the whole history unless MDSREC_INCLUDE_HISTORY, and exclude); fewer than k items
   come back when fewer eligible candidates exist. out->scored is the candidate set's size.
   The set is held in two N-bit maps of the state (allocated by mdsrec_state_new): nothing is
   allocated here.
   Cases that do not use the candidates: an empty history (the popularity order, as always);
   an allow-list (it already limits the scoring to its items); a bundle without a neighbour
   list in any channel (the full scan; out->scored is then N).
   Errors: mdsrec_recommend's, and MDSREC_EARG for hops above 2. */
mdsrec_status mdsrec_recommend_candidates(const mdsrec_model *model, mdsrec_state *state,
                                          const mdsrec_query *q, const mdsrec_candidates *opts,
                                          mdsrec_result *out);

/* Scores every item for the history (no exclusion) into scores[0..N): the evaluation's
   full ranking. Same arithmetic as mdsrec_recommend. Empty history: MDSREC_EARG.
   MDSREC_EARG also for NULL arguments or an index >= N. */
mdsrec_status mdsrec_score_all(const mdsrec_model *model, mdsrec_state *state,
                               const uint32_t *history, uint32_t history_len, float *scores);

/* Up to k neighbours of `item` in channel `channel` (its relation graph: for the id channel
   the behaviour graph), strongest first, into items[] and weights[] (each room for k);
   their number in *count. The weights are the bundle's: f32 from a NEIGHBOURS section,
   dequantized from 8 bits from a NEIGHBOURS_K one (models/FORMAT.md); the items and their
   order are the same either way. MDSREC_EARG for bad indices, NULL pointers or k of 0;
   MDSREC_ENOTFOUND if the bundle has no neighbour list for that channel. */
mdsrec_status mdsrec_similar(const mdsrec_model *model, uint32_t item, uint32_t channel,
                             uint32_t k, uint32_t *items, float *weights, uint32_t *count);

/* ---------------------------------------------------------------- misc */

/* A short English name of a status ("corrupt bundle", ...). Never NULL. */
const char *mdsrec_status_string(int status);

/* The kernel set in use ("scalar", "simd128", or "vec128" in a native MDSREC_NATIVE_ARCH build). */
const char *mdsrec_kernels_name(void);

/* ---------------------------------------------------------------- names of the enums */
/* One table of names for the tools, so every command spells a dtype or a pooling mode alike.
   Values are contiguous from 0: a caller may list every name by asking for 0, 1, ... until NULL. */

/* The canonical name of an mdsrec_dtype: "f32", "f16", "i8" or "pq"; NULL for any other value. */
const char *mdsrec_dtype_name(int dtype);
/* The mdsrec_dtype named `name`: a canonical name, or the long spellings "fp32", "fp16",
   "int8" that older scripts use; -1 for NULL or any other string. */
int mdsrec_dtype_from_name(const char *name);

/* The name of an mdsrec_weight_dtype: "f32", "f16" or "q8"; NULL for any other value. */
const char *mdsrec_weight_dtype_name(int dtype);

/* The name of an mdsrec_pool_mode: "none", "last", "mean" or "token"; NULL for any other value. */
const char *mdsrec_pool_name(int mode);
/* The mdsrec_pool_mode named `name` (a name above); -1 for NULL or any other string. */
int mdsrec_pool_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* MDSREC_H */
