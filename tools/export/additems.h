/*
 * additems.h - rows for items the model never saw in training (`mdsrec add-items`), from their
 * features alone, computed as the trainer computes a training item's rows (MODEL.md 2):
 *
 *   - neighbours: per modality channel, the new item's top k training items by cosine of the
 *     channel's (concatenated) features, r > 0 kept (MODEL.md 1 with no behaviour yet:
 *     beta * b~ = 0); retired items (absent from the bundle) are skipped. They become the
 *     item's neighbour list in that channel ("looks like", "described like").
 *   - projection: x = W f + b (plus the neighbours' weighted id embeddings when the channel
 *     also has one, as sasrecf's channel does; none with emb_zero).
 *   - propagation: H = mean(x, sum_k a_k (X)_k, sum_k a_k (A X)_k, ..., sum_k a_k (A^{K-1} X)_k),
 *     the new row of A applied to the training items' projections X and their already
 *     propagated powers: the K rounds the trainer runs, over the item's new edges, with
 *     a_k = s_k / sum s (row-normalised: the existing items' degrees, and so their rows,
 *     are left as trained).
 *   - the id channel: the new item has no clicks, so its behaviour neighbour list is empty.
 *     An id channel trained with features (--id-features) is made as above from the
 *     concatenated features, its content neighbours standing in for the behaviour
 *     neighbours in the propagation; an id channel of ids alone by additems_id_rule
 *     (default: its content neighbours' id rows around the mean id row).
 *
 * Existing items keep their rows exactly; the new items' rows never depend on each other.
 */
#ifndef MDSREC_EXPORT_ADDITEMS_H
#define MDSREC_EXPORT_ADDITEMS_H

#include <stdint.h>

#include "data/prepared.h"
#include "export/bundle_edit.h"
#include "train/load.h"

/* The new items: keys and, per feature name the model's channels use, n x width rows
   (L2-normalised, or zero where the item lacks the modality). */
typedef struct {
    uint32_t n;
    char **keys;
    uint32_t n_feat;
    const feature_matrix *feat[DS_MAX_FEATURES]; /* rows = n, matched by name */
} additems_input;

/* How a new item's id row is made from its content neighbours' id rows h_q, weights w_q (the
   a_k of every modality channel, averaged), mu the mean id row of the bundle's items. */
typedef enum {
    ADDITEMS_ID_CENTRED = 0, /* mu + the weighted mean of (h_q - mu), scaled to the weighted mean of |h_q - mu|:
                                as distinctive as its neighbours (the default) */
    ADDITEMS_ID_REGRESS,     /* id_map.h: the expected id row given the modality rows, a ridge regression fit on
                                the bundle's items (conservative: close to the mean row) */
    ADDITEMS_ID_SCALED,      /* the weighted mean of h_q, scaled to the weighted mean of |h_q| */
    ADDITEMS_ID_MEAN,        /* the weighted mean of h_q */
    ADDITEMS_ID_CENTRE,      /* mu: every new item the average item */
    ADDITEMS_ID_ZERO,        /* 0: no id term */
} additems_id_rule;

typedef struct {
    uint32_t k;           /* content neighbours per channel, default 10 */
    additems_id_rule id_rule;
    int emb_zero;         /* 1: a channel's learned embedding term of a new item is 0 (its
                             features alone, as `train --emb-drop` trains); 0: its content
                             neighbours' embeddings, weighted (the default) */
    int threads;          /* the neighbour search's workers (0: every core) */
    uint32_t without[MDSREC_MAX_CHANNELS]; /* out: per channel, new items left without a neighbour */
    double seconds_knn, seconds_rows;     /* out */
    double id_ridge;                      /* out: the regression's penalty (ADDITEMS_ID_REGRESS) */
} additems_params;

/* Fills a (rows and neighbour lists per channel, keys) for in's items against the bundle b,
   which must have m's channels (names, dim) and contain the training items that m's
   dataset names (those retired from b are skipped). a->catalog is left NULL. 0, or -1 after
   cli_error naming what does not match (a channel's features missing from in, a width). */
int additems_rows(const loaded_model *m, const edit_bundle *b, const additems_input *in, additems_params *p,
                  edit_append *a);

/* Frees what additems_rows allocated in a. */
void additems_free(edit_append *a);

#endif
