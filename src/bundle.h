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
    SEC_KIND_MAX = 12
} bundle_section_kind;

/* The name of a section kind ("ITEMS"), or "unknown". */
const char *bundle_section_name(uint32_t kind);

/* Number of floats in a channel's ENCODER and POOL sections for this config. */
size_t bundle_encoder_floats(const mdsrec_config *cfg);
size_t bundle_pool_floats(const mdsrec_config *cfg);
/* Bytes per item-matrix element of a dtype (4, 2, 1), 0 for an unknown dtype. */
size_t bundle_dtype_size(uint32_t dtype);

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
    const uint32_t *nb_row;   /* N+1, NULL if no NEIGHBOURS section */
    const uint32_t *nb_index; /* nnz */
    const float *nb_weight;   /* nnz */
} bundle_channel;

typedef struct {
    mdsrec_config cfg;
    const uint32_t *key_offsets;  /* N+1 */
    const uint8_t *key_bytes;
    const uint32_t *key_order;    /* N */
    const float *gate;            /* |C|*|C|*d + |C| */
    const uint32_t *popularity;   /* N */
    const char *catalog;          /* NULL if none */
    size_t catalog_len;
    bundle_channel ch[MDSREC_MAX_CHANNELS];
} bundle_view;

/* Validates buf[0..len) as models/FORMAT.md demands and fills *view with pointers into it.
   Returns MDSREC_OK or an error code with err->message naming the section and problem.
   Never reads outside buf[0..len). buf must be 16-byte aligned. err may be NULL. */
mdsrec_status bundle_read(const void *buf, size_t len, bundle_view *view, mdsrec_error *err);

/* ---------------------------------------------------------------- writer */

/* Everything a bundle holds, as the trainer or `mdsrec synth` has it: item matrices in f32
   (the writer converts them to cfg.item_dtype, with per-row scales for i8). */
typedef struct {
    const float *items;           /* N*d f32 */
    const float *pos;             /* L*d */
    const float *encoder;         /* bundle_encoder_floats */
    const float *pool;            /* bundle_pool_floats, or NULL when pool_mode is 0 */
    const uint32_t *nb_row;       /* optional neighbour CSR (N+1), NULL for none */
    const uint32_t *nb_index;
    const float *nb_weight;
} bundle_channel_spec;

typedef struct {
    mdsrec_config cfg;
    const char *const *keys;      /* N NUL-terminated keys */
    const float *gate;
    const uint32_t *popularity;   /* N, a permutation */
    const char *catalog;          /* optional JSON, NULL for none */
    size_t catalog_len;
    bundle_channel_spec ch[MDSREC_MAX_CHANNELS];
} bundle_spec;

/* Builds a complete bundle in a malloc'd buffer (*out, *out_len; free() it). The result
   always passes bundle_read. Checks the spec (keys distinct and valid, sizes, values
   finite) and returns MDSREC_EARG with err->message naming the field on a bad spec. */
mdsrec_status bundle_build(const bundle_spec *spec, uint8_t **out, size_t *out_len, mdsrec_error *err);

#endif /* MDSREC_BUNDLE_H */
