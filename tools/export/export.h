/*
 * export.h - a trained model as a bundle (models/FORMAT.md v1): every channel's item matrix
 * H^c computed once here (projection and graph propagation included, so the browser never
 * propagates), the encoder, pooling and gate weights as trained, neighbour lists from the
 * dataset's graph/NAME.knn.csr (graph/behaviour.knn.csr for the id channel) where present,
 * popularity by training-part counts (ties: lower index first), the item keys, and the
 * catalog (catalog.jsonl turned into one JSON array) where present.
 */
#ifndef MDSREC_EXPORT_H
#define MDSREC_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "train/checkpoint.h"
#include "data/prepared.h"
#include "train/tmodel.h"

typedef struct {
    uint32_t neighbours;  /* channels that got a neighbour list */
    int catalog;          /* 1 if a catalog was included */
    size_t catalog_bytes;      /* its section's size */
    size_t catalog_json_bytes; /* the JSON's size, when it went in as gzip (else 0) */
    float coclick_beta;        /* the co-click term written (0: none) */
    float repeat_weight;       /* the repeat term written (0: none) */
} export_info;

/* How the neighbour lists are written (models/FORMAT.md). */
typedef struct {
    int compact;          /* 1: NEIGHBOURS_K (4 B a neighbour, 8-bit weights), 0: NEIGHBOURS (CSR),
                             2: NEIGHBOURS_B (bit-packed: log2 N index bits + weight_bits) */
    uint32_t keep;        /* at most this many per item, the strongest; 0 keeps all */
    uint32_t weight_bits; /* NEIGHBOURS_B: 0..8 */
} export_neighbours;

/* The compact forms of format v2 (models/FORMAT.md). */
typedef struct {
    uint32_t pq_m;        /* item dtype pq: codes a row, dividing d; 0 for d/4 (4 columns a code) */
    uint32_t weights;     /* mdsrec_weight_dtype of POS, ENCODER, POOL and GATE */
    int catalog_gzip;     /* 1: the catalogue as CATALOG_GZ (gzip), 0: as CATALOG (JSON) */
} export_compact;

/* Builds the bundle of (st, params) in item dtype `dtype` into a malloc'd buffer (*out,
   *len; free() it). with_extras 0 leaves out neighbours and catalog (a quick bundle for
   comparisons); nb says how neighbours are written (NULL: compact, all of them), cx the pq
   sub-spaces, the weights' dtype and the catalogue's form (NULL: d/4, f32, JSON). 0, or -1 after cli_error. */
int export_bundle(const train_state *st, const float *params, const dataset *ds, const tm_inputs *in,
                  uint32_t dtype, int with_extras, const export_neighbours *nb, const export_compact *cx,
                  uint8_t **out, size_t *len, export_info *info);

#endif
