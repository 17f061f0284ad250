/*
 * synth.h - a model of seeded random weights in the bundle writer's terms (bundle_spec):
 * what `mdsrec synth` writes, and what the tests build their small bundles from.
 */
#ifndef MDSREC_SYNTH_H
#define MDSREC_SYNTH_H

#include <stdint.h>

#include "src/bundle.h"

typedef struct {
    uint32_t n_items;
    uint32_t dim;          /* 64 */
    uint32_t n_channels;   /* names and kinds below */
    char names[MDSREC_MAX_CHANNELS][25];
    uint32_t kinds[MDSREC_MAX_CHANNELS];
    uint32_t dtype;        /* mdsrec_dtype */
    uint32_t pq_m;         /* pq: codes a row, dividing dim; 0 for dim/4 (or dim when 4 does not divide it) */
    uint32_t weights;      /* mdsrec_weight_dtype of the dense weights (f32) */
    uint32_t layout;       /* mdsrec_layout; unless layout_set, panels for f32, rows otherwise */
    int layout_set;
    uint32_t n_blocks;     /* 2 */
    /* with channel_blocks_set, channel i runs channel_blocks[i] <= n_blocks blocks (a format v3
       bundle); else every channel runs n_blocks */
    uint32_t channel_blocks[MDSREC_MAX_CHANNELS];
    int channel_blocks_set;
    uint32_t n_heads;      /* 2 */
    uint32_t max_len;      /* 50 */
    uint32_t neighbours;   /* per item and channel; 0 for no neighbour sections */
    int nb_compact;        /* 1 (default): NEIGHBOURS_K, 0: NEIGHBOURS (CSR), 2: NEIGHBOURS_B */
    uint32_t nb_weight_bits; /* NEIGHBOURS_B: weight bits, 0..8 (4) */
    uint32_t pool_mode;    /* mdsrec_pool_mode */
    uint64_t seed;
    int catalog;           /* also write catalog JSON */
    float coclick_beta;    /* > 0: a COCLICK section over channel 0's lists (decay 0.3, every
                              click of max_len); needs neighbours */
    float repeat_weight;   /* != 0: a REPEAT section of this weight */
} synth_options;

/* The defaults above, with channels id, image, text and n_items items. */
void synth_defaults(synth_options *o, uint32_t n_items);

/* Parses "id,image,text" into o's names and kinds (id -> id, image -> image, text -> text,
   anything else -> feature). 0, or -1 with *why set. */
int synth_parse_channels(synth_options *o, const char *list, const char **why);

/* Everything the spec points to, owned here. */
typedef struct {
    bundle_spec spec;
    float *items[MDSREC_MAX_CHANNELS], *pos[MDSREC_MAX_CHANNELS];
    float *encoder[MDSREC_MAX_CHANNELS], *pool[MDSREC_MAX_CHANNELS];
    uint32_t *nb_row[MDSREC_MAX_CHANNELS], *nb_index[MDSREC_MAX_CHANNELS];
    float *nb_weight[MDSREC_MAX_CHANNELS];
    float *gate;
    uint32_t *popularity;
    char *key_mem;
    const char **keys;
    char *catalog;
} synth_model;

/* Fills m with seeded random weights for o. MDSREC_OK, MDSREC_EARG (bad options, message
   in err) or MDSREC_ENOMEM. synth_free(m) in every case. */
mdsrec_status synth_make(const synth_options *o, synth_model *m, mdsrec_error *err);
void synth_free(synth_model *m);

/* synth_make + bundle_build: a bundle in a malloc'd 64-aligned buffer. */
mdsrec_status synth_bundle(const synth_options *o, uint8_t **out, size_t *out_len, mdsrec_error *err);

#endif /* MDSREC_SYNTH_H */
