/*
 * catalog.h - a store's catalog matched to the prepared items: the text fields for the text
 * featurizer and the display fields (title, image, url, price, ...) for catalog.jsonl.
 *
 * A catalog row whose key is not an item is skipped (catalogs list more than was bought);
 * when a key repeats (one row per order line, as in a sales export) the first row is used.
 * An item without a row has no text and an empty display object, and counts as missing.
 */
#ifndef MDSREC_DATA_CATALOG_H
#define MDSREC_DATA_CATALOG_H

#include <stdint.h>

#include "data/source.h"
#include "data/keymap.h"
#include "data/table.h"

typedef struct {
    table t;              /* columns: key, then the requested ones */
    uint32_t *row_of;     /* per item: row of t, or UINT32_MAX */
    uint32_t n_items, matched, unknown, repeated;
} catalog;

/* Loads d->path with the columns key, cols[0..ncols) and matches rows to items. The key
   column defaults to "item_id". 0, or -1 after cli_error. */
int catalog_load(catalog *c, const ds_catalog *d, const char *const *cols, uint32_t ncols, const keymap *items);
void catalog_free(catalog *c);

/* Builds catalog.jsonl's text: line i = a JSON object of item i's display fields (empty
   values left out; "price" as a number when it reads as one). NULL after cli_error. */
char *catalog_display_jsonl(const ds_catalog *d, const keymap *items, uint32_t *missing);

#endif
