/*
 * bundle_edit.h - a bundle (models/FORMAT.md v1) as an editable copy: every section the
 * writer needs, the item rows decoded to f32 and the neighbour lists to CSR, so that items
 * can be appended (export/additems.h) or retired, and the result rebuilt by the core's
 * bundle_build with the base bundle's item dtype, layout and neighbour encoding. The format
 * is unchanged: an edited bundle is an ordinary v1 bundle.
 *
 * Decoding is exact for f32 and f16; i8 rows are dequantized (scale * q) and requantized by
 * the writer, which gives each unchanged row back its own scale and codes.
 */
#ifndef MDSREC_EXPORT_BUNDLE_EDIT_H
#define MDSREC_EXPORT_BUNDLE_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "graph/csr.h"
#include "mdsrec.h"

typedef struct {
    mdsrec_config cfg;               /* n_items: the current count */
    char **keys;                     /* n_items, owned */
    float *items[MDSREC_MAX_CHANNELS]; /* n_items x dim, row-major f32, owned */
    csr nb[MDSREC_MAX_CHANNELS];     /* n_rows = n_items, or n_rows 0: the channel has none */
    uint32_t *popularity;            /* n_items, most popular first */
    cJSON *catalog;                  /* a JSON array of n_items objects, or NULL */
    int catalog_gzip;                /* 1: it was (and is written back as) CATALOG_GZ */
    float coclick_beta, coclick_decay; /* its COCLICK section (beta 0: none), written back */
    uint32_t coclick_channel, coclick_max_hist;
    float repeat_weight;             /* its REPEAT section (0: none), written back */
    float *pos[MDSREC_MAX_CHANNELS], *encoder[MDSREC_MAX_CHANNELS], *pool[MDSREC_MAX_CHANNELS];
    float *gate;
    int nb_compact;                  /* the base's encoding: 1 NEIGHBOURS_K, 0 NEIGHBOURS, 2 NEIGHBOURS_B */
    uint32_t nb_keep;                /* NEIGHBOURS_K's or _B's k (the most per item), 0 for CSR */
    uint32_t nb_weight_bits;         /* NEIGHBOURS_B's weight bits */
} edit_bundle;

/* Validates buf[0..len) as a bundle (bundle_read) and copies it into *b. `what` names it in
   messages. 0, or -1 after cli_error. */
int edit_bundle_read(const uint8_t *buf, size_t len, const char *what, edit_bundle *b);

/* Index of key in b, or UINT32_MAX. Linear; for a few look-ups. */
uint32_t edit_bundle_find(const edit_bundle *b, const char *key);

/* Removes the items whose keys the comma-separated `list` names: their rows, keys, catalog
   objects, popularity entries and every neighbour entry pointing at them; the others keep
   their order. An unknown key, a key named twice, or retiring every item is an error naming
   the key. *removed: how many went. 0, or -1 after cli_error (b unchanged then). */
int edit_bundle_retire(edit_bundle *b, const char *list, uint32_t *removed);

/* Appends n items: keys (copied), rows[c] (n x dim f32 per channel), neighbour rows per
   channel (nb_n[c][i] entries of nb_idx/nb_w at nb_off[c][i]; indices into the result, i.e.
   < n_items + n), catalog objects (taken over; NULL entries become {"id": key}, ignored when
   the bundle has no catalog). New items go last in popularity (no click yet). 0, or -1 after
   cli_error (out of memory). */
typedef struct {
    uint32_t n;
    char **keys;
    float *rows[MDSREC_MAX_CHANNELS];
    csr nb[MDSREC_MAX_CHANNELS];     /* n rows; indices into the bundle after the append */
    cJSON **catalog;                 /* n, or NULL */
} edit_append;
int edit_bundle_append(edit_bundle *b, edit_append *a);

/* Links the items from `first` on (just appended) back into the older items' neighbour lists
   (export/bundle_link.c): in every channel, an entry (j, w) of new item i's list with j < first
   puts (i, w) into j's list, strongest first (an equal weight after the entries already
   there), if j's list is shorter than k or w beats its weakest entry, which then goes (a list
   keeps max(its length, k) entries). The weights are comparable: a new item's are cosines, an
   old item's relation scores r = cos + beta * b~ (MODEL.md 1) with b~ = 0 for the new item.
   *linked: the entries added. 0, or -1 after cli_error (out of memory: some channels may be
   linked already; discard b). */
int edit_bundle_link_back(edit_bundle *b, uint32_t first, uint32_t k, uint64_t *linked);

/* Builds the bundle into a malloc'd buffer (*out, *len). 0, or -1 after cli_error. */
int edit_bundle_build(const edit_bundle *b, uint8_t **out, size_t *len);

void edit_bundle_free(edit_bundle *b);

#endif
