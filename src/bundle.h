/*
 * bundle.h - the bundle format's constants, the validated section map (reader) and the
 * writer. The format itself is specified in models/FORMAT.md; this is its only code.
 */
#ifndef MDSREC_BUNDLE_H
#define MDSREC_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include "mdsrec.h"

#define BUNDLE_HEADER_SIZE 64
#define BUNDLE_ENTRY_SIZE 32
#define BUNDLE_ALIGN 64
#define BUNDLE_MAX_SECTIONS 4096
#define BUNDLE_BYTE_ORDER 0x01020304u
#define BUNDLE_NO_CHANNEL 0xFFFFFFFFu
#define BUNDLE_CONFIG_FIXED 64   /* CONFIG bytes before the channel records */
#define BUNDLE_CHANNEL_RECORD 32 /* bytes per channel record in CONFIG */

extern const uint8_t BUNDLE_MAGIC[8];

typedef enum {
    SEC_CONFIG = 1,
    SEC_KEYS = 2,
    SEC_KEY_ORDER = 3,
    SEC_ITEMS = 4,
    SEC_SCALES = 5,
    SEC_POS = 6,
    SEC_ENCODER = 7,
    SEC_POOL = 8,
    SEC_GATE = 9,
    SEC_NEIGHBOURS = 10,
    SEC_POPULARITY = 11,
    SEC_CATALOG = 12,
    SEC_NEIGHBOURS_K = 13,
    SEC_PQ_CODEBOOK = 14,
    SEC_NEIGHBOURS_B = 15,
    SEC_CATALOG_GZ = 16,
    SEC_COCLICK = 17,
    SEC_REPEAT = 18,
    SEC_KIND_MAX = 18
} bundle_section_kind;

/* NEIGHBOURS_K, the compact neighbour lists: k packed u32 entries per item, the neighbour's
   index in the low 24 bits and its weight quantized to 8 bits in the high 8; a row with fewer
   than k neighbours is padded at its tail with BUNDLE_NB_PAD. Index 2^24 - 1 is the pad's,
   so this section needs n_items < 2^24. */
#define BUNDLE_NB_PAD 0xFFFFFFFFu
#define BUNDLE_NB_INDEX_MASK 0x00FFFFFFu
#define BUNDLE_NB_K_MAX 1024u          /* k: 1 .. 1024 entries per item */
#define BUNDLE_NB_K_MAX_ITEMS 0xFFFFFFu /* n_items at most 2^24 - 1 */

/* NEIGHBOURS_B, the bit-packed neighbour lists: a 24-byte head (u32 n, k, index_bits,
   weight_bits; f32 w_min, w_max), then N*k entries of index_bits + weight_bits bits, LSB first;
   index_bits is the least b with 2^b > N, and index 2^b - 1 (weight code 0) is the padding. */
#define BUNDLE_NBITS_HEAD 24
/* The index width of NEIGHBOURS_B for n_items items: the least b with 2^b > n_items. */
uint32_t bundle_nbits_index_bits(uint32_t n_items);
/* A NEIGHBOURS_B weight of code q: w_min + q * (w_max - w_min) / (2^wbits - 1) in binary64,
   rounded to binary32; w_max for every q when wbits is 0 (the lists then keep only ranks). */
float bundle_nbits_dequant(float w_min, float w_max, uint32_t q, uint32_t wbits);

/* The name of a section kind ("ITEMS"), or "unknown". */
const char *bundle_section_name(uint32_t kind);

/* 1 when some channel runs fewer blocks than cfg->n_blocks (such a bundle is format v3). */
int bundle_blocks_vary(const mdsrec_config *cfg);
/* Number of floats in channel ch's ENCODER section (its channels[ch].n_blocks blocks) and in
   a channel's POOL section for this config. */
size_t bundle_encoder_floats(const mdsrec_config *cfg, uint32_t ch);
size_t bundle_pool_floats(const mdsrec_config *cfg);
/* Bytes per item-matrix element of a dtype (4, 2, 1), 0 for PQ or an unknown dtype. */
size_t bundle_dtype_size(uint32_t dtype);
/* Bytes of one channel's ITEMS payload: N * d * bundle_dtype_size, or N * pq_m for PQ. cfg
   must have passed the config check (no overflow in 64 bits). */
uint64_t bundle_items_bytes(const mdsrec_config *cfg);

/* PQ items (format v2): 256 centroids per sub-space. */
#define BUNDLE_PQ_K 256
/* Floats of one channel's PQ_CODEBOOK: pq_m * 256 * (d / pq_m) = 256 d. */
uint64_t bundle_pq_codebook_floats(const mdsrec_config *cfg);

/* Dense weights in cfg.weight_dtype (format v2, bundle_weights.c). Q8 groups values in blocks
   of BUNDLE_Q8_BLOCK: an f32 scale, then that many i8 codes (the last block zero-padded);
   value = scale * code. */
#define BUNDLE_Q8_BLOCK 32
/* Bytes that n values take in weight dtype wd (0 for an unknown wd). */
uint64_t bundle_weights_bytes(uint32_t wd, uint64_t n);
/* Index of the first of the n values in raw (bundle_weights_bytes(wd, n) bytes) that would not
   decode to a finite float, or of the bad block's first value (Q8: a scale that is not finite,
   negative or above FLT_MAX / 127, or a padding code not 0); n when all are good. */
uint64_t bundle_weights_check(uint32_t wd, const uint8_t *raw, uint64_t n);
/* Decodes n values of a checked raw array to out[0..n). */
void bundle_weights_decode(uint32_t wd, const uint8_t *raw, size_t n, float *out);
/* Encodes n finite values to out (bundle_weights_bytes(wd, n) bytes, zeroed by the caller).
   Returns 0, or -1 when a value is outside what wd holds (f16 past 65504). */
int bundle_weights_encode(uint32_t wd, const float *x, size_t n, uint8_t *out);
/* Where element (row i, column j) of an item matrix lies, in elements from the matrix's
   start, for cfg's item_layout: i*d + j for rows; inside a panel of MDSREC_PANEL rows,
   column j's MDSREC_PANEL values are adjacent. Needs i < n_items, j < dim. */
size_t bundle_item_offset(const mdsrec_config *cfg, size_t i, size_t j);

/* The key order of KEY_ORDER and mdsrec_find_key: bytewise, a prefix before its extensions.
   Negative, zero or positive like memcmp. */
int bundle_key_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* ---------------------------------------------------------------- reader */

/* One channel's sections, as validated pointers into the bundle buffer. */
typedef struct {
    const void *items;        /* N*d elements of cfg.item_dtype */
    const float *scales;      /* N, i8 only, else NULL */
    const float *pos;         /* L*d */
    const float *encoder;     /* bundle_encoder_floats(cfg) */
    const float *pool;        /* bundle_pool_floats(cfg), NULL if pool_mode 0 */
    /* the same three as stored when cfg.weight_dtype is not f32 (the float pointers above are
       then NULL until bundle_weights_decode_all points them at decoded copies) */
    const uint8_t *pos_raw, *encoder_raw, *pool_raw;
    const float *pq_codebook; /* PQ: [pq_m][256][d / pq_m], else NULL */
    /* the neighbour lists, in one of two encodings (read them with bundle_nb_*) */
    uint32_t nb_kind;         /* 0 none, SEC_NEIGHBOURS (CSR), SEC_NEIGHBOURS_K (compact) or
                                 SEC_NEIGHBOURS_B (bit-packed) */
    const uint32_t *nb_row;   /* CSR: N+1 */
    const uint32_t *nb_index; /* CSR: nnz */
    const float *nb_weight;   /* CSR: nnz */
    const uint32_t *nb_packed; /* compact: N*nb_k entries */
    uint32_t nb_k;            /* compact, bit-packed: entries per item */
    float nb_w_min, nb_w_max; /* compact, bit-packed: the range the quantized weights span */
    const uint8_t *nb_bits;   /* bit-packed: the entry stream */
    uint32_t nb_ibits, nb_wbits; /* bit-packed: index and weight bits of an entry */
} bundle_channel;

/* Neighbour lists of either encoding. The loader proved every row's bounds and order, so
   these only read inside the bundle for item < N (and rank < bundle_nb_count). */
/* How many neighbours item has (0 for a channel without neighbour lists). */
uint32_t bundle_nb_count(const bundle_channel *c, uint32_t item);
/* Bit-packed lists: entry j of item's row (index bits; the weight code in *q). */
uint32_t bundle_nbits_get(const bundle_channel *c, uint32_t item, uint32_t j, uint32_t *q);
/* Item's neighbour of rank j (0 = strongest; j < bundle_nb_count): its index, and its weight
   (dequantized for the compact encoding) in *weight. */
uint32_t bundle_nb_get(const bundle_channel *c, uint32_t item, uint32_t j, float *weight);
/* An upper bound of every row's length (the longest row for CSR, k for compact); 0 if none. */
uint32_t bundle_nb_max_row(const bundle_channel *c, uint32_t n_items);
/* Neighbours stored over all items (padding not counted). */
uint64_t bundle_nb_total(const bundle_channel *c, uint32_t n_items);
/* The compact encoding's weight of an 8-bit code q (FORMAT.md, NEIGHBOURS_K):
   w_min + q * (w_max - w_min) / 255 in binary64, rounded to binary32. */
float bundle_nb_dequant(float w_min, float w_max, uint32_t q);

typedef struct {
    mdsrec_config cfg;
    const uint32_t *key_offsets;  /* N+1 */
    const uint8_t *key_bytes;
    const uint32_t *key_order;    /* N */
    const float *gate;            /* |C|*|C|*d + |C| (NULL until decoded when not f32) */
    const uint8_t *gate_raw;      /* as stored, when cfg.weight_dtype is not f32 */
    const uint32_t *popularity;   /* N */
    const char *catalog;          /* CATALOG's JSON; NULL if none */
    size_t catalog_len;
    const uint8_t *catalog_gz;    /* CATALOG_GZ's gzip member (the core does not inflate it); NULL if none */
    size_t catalog_gz_len;
    bundle_channel ch[MDSREC_MAX_CHANNELS];
    /* COCLICK (FORMAT.md): beta 0 when the bundle has none */
    float coclick_beta, coclick_decay;
    uint32_t coclick_channel, coclick_max_hist;
    /* REPEAT (FORMAT.md): 0 when the bundle has none */
    float repeat_weight;
} bundle_view;

/* For a view whose cfg.weight_dtype is not f32: decodes POS, ENCODER, POOL and GATE of every
   channel into one malloc'd float array, points the view's float pointers into it and returns
   it (the caller frees it after the view's last use); NULL when out of memory. */
float *bundle_weights_decode_all(bundle_view *view);

/* Validates buf[0..len) as models/FORMAT.md demands and fills *view with pointers into it.
   Returns MDSREC_OK or an error code with err->message naming the section and problem.
   Never reads outside buf[0..len). buf must be 16-byte aligned. err may be NULL. */
mdsrec_status bundle_read(const void *buf, size_t len, bundle_view *view, mdsrec_error *err);

/* How much of a bundle bundle_read_ex reads. TABLE: the header and the section table, no
   payload (nothing goes into the view). HEAD: also the sections a popularity answer needs
   (CONFIG, KEYS, KEY_ORDER, POPULARITY and CATALOG or CATALOG_GZ when present; bundle_is_head_kind), which
   must all be marked verified; the view's channels and gate stay NULL. ALL: bundle_read. */
enum { BUNDLE_READ_TABLE = 0, BUNDLE_READ_HEAD = 1, BUNDLE_READ_ALL = 2 };

/* bundle_read for a bundle streamed in (bundle_stream.h): verified, if not NULL, has one flag
   per section-table entry, nonzero when that payload's checksum was already checked against
   this same table; those are not checksummed again. buf[0..len) must hold the bundle's
   file_size bytes, but only the parts read need to have arrived. Errors as bundle_read;
   MDSREC_EARG for HEAD without verified or with a head section not verified. */
mdsrec_status bundle_read_ex(const void *buf, size_t len, const uint8_t *verified, int parts, bundle_view *view,
                             mdsrec_error *err);
/* 1 for the kinds a HEAD read needs (see above), else 0. */
int bundle_is_head_kind(uint32_t kind);

/* ---------------------------------------------------------------- writer */

/* Everything a bundle holds, as the trainer or `mdsrec synth` has it: item matrices in f32
   (the writer converts them to cfg.item_dtype, with per-row scales for i8). */
typedef struct {
    const float *items;           /* N*d f32 */
    const float *pos;             /* L*d */
    const float *encoder;         /* bundle_encoder_floats */
    const float *pool;            /* bundle_pool_floats, or NULL when pool_mode is 0 */
    const uint32_t *nb_row;       /* optional neighbour CSR (N+1), NULL for none; each row */
    const uint32_t *nb_index;     /* strongest first, whichever encoding is written */
    const float *nb_weight;
} bundle_channel_spec;

typedef struct {
    mdsrec_config cfg;
    const char *const *keys;      /* N NUL-terminated keys */
    const float *gate;
    const uint32_t *popularity;   /* N, a permutation */
    const char *catalog;          /* optional JSON, NULL for none */
    size_t catalog_len;
    int catalog_gzip;             /* 1: catalog[0..catalog_len) is a gzip member of that JSON,
                                     written as CATALOG_GZ (the tools compress it with zlib) */
    bundle_channel_spec ch[MDSREC_MAX_CHANNELS];
    int nb_compact;               /* 1: neighbours as NEIGHBOURS_K (4 B a neighbour, weights in 8
                                     bits), 0: as NEIGHBOURS (CSR, f32 weights), 2: as
                                     NEIGHBOURS_B (bit-packed, nb_weight_bits weights) */
    uint32_t nb_weight_bits;      /* NEIGHBOURS_B: weight bits, 0..8 (0: ranks only) */
    uint32_t nb_keep;             /* keep at most this many neighbours per item (the strongest);
                                     0 keeps them all */
    /* the co-click term (FORMAT.md COCLICK), written when coclick_beta > 0: beta times the
       neighbour weights of channel coclick_channel's lists (which must be written) over the
       last coclick_max_hist (1..max_len) clicks, the newest weighing 1, each older one decay
       (0..1) times the next */
    float coclick_beta, coclick_decay;
    uint32_t coclick_channel, coclick_max_hist;
    /* the repeat term (FORMAT.md REPEAT), written when not 0: added to the score of an item
       once per click of it in the history; finite, in [-1e6, 1e6] */
    float repeat_weight;
} bundle_spec;

/* Builds a complete bundle in a malloc'd buffer (*out, *out_len; free() it). The result
   always passes bundle_read. Checks the spec (keys distinct and valid, sizes, values
   finite) and returns MDSREC_EARG with err->message naming the field on a bad spec. */
mdsrec_status bundle_build(const bundle_spec *spec, uint8_t **out, size_t *out_len, mdsrec_error *err);

/* A copy of the bundle buf[0..len) (validated first, as bundle_read does) whose catalog is
   catalog[0..catalog_len): a CATALOG section of that JSON, or with gzip 1 a CATALOG_GZ section
   of that gzip member (neither is parsed here); catalog_len 0 drops the catalog. Either old
   catalog section goes.
   Every other section keeps its bytes and checksum. The copy is malloc'd and 64-aligned
   (*out, *out_len; free() it) and passes bundle_read. Codes: bundle_read's for a bad input,
   MDSREC_EARG (NULL argument), MDSREC_ENOMEM. */
mdsrec_status bundle_replace_catalog(const void *buf, size_t len, const char *catalog, size_t catalog_len, int gzip,
                                     uint8_t **out, size_t *out_len, mdsrec_error *err);

#endif /* MDSREC_BUNDLE_H */
