/*
 * attributes.h - per-item attribute lists (brand and category ids, tags) as a feature matrix.
 *
 * Two sources: a JSON object {item key: [attribute, ...]} (the S3-Rec `*_item2attributes.json`;
 * attributes may be numbers or strings), or a catalogue column whose cells list tags separated
 * by any of a set of characters ("Drama|Comedy", "red, cotton").
 *
 * The matrix: one column per attribute carried by at least min_count items (rarer ones cannot
 * relate two items and only widen the matrix); cell (i, a) is the attribute's IDF,
 * ln((1 + N) / (1 + df)) + 1, when item i carries a, else 0. Rows are L2-normalised by the
 * caller (feature_matrix_finish), so an attribute every item shares weighs least and a brand
 * shared by a few items weighs most in the cosine that the content graph uses.
 */
#ifndef MDSREC_FEATURES_ATTRIBUTES_H
#define MDSREC_FEATURES_ATTRIBUTES_H

#include <stdint.h>

#include "data/keymap.h"

typedef struct {
    keymap vocab;      /* attribute names, in first-seen order (numbers in their JSON spelling) */
    uint32_t n_items;
    uint64_t *off;     /* n_items + 1: item i carries attr[off[i] .. off[i+1]) */
    uint32_t *attr;    /* vocabulary indices, distinct within an item, in source order */
    uint32_t unknown;  /* JSON keys that are not items (skipped when allowed) */
    uint32_t repeated; /* attributes listed twice for one item (counted once) */
} attr_lists;

void attr_lists_free(attr_lists *l);

/* Reads a JSON object of attribute lists for the items of `items` (keymap of item keys). A key
   that is not an item is an error naming it, unless allow_unknown (then counted in
   l->unknown). An item without a key has no attributes. 0, or -1 after cli_error naming the
   file and the key or member that is wrong (not an object, a list that is not an array, an
   element that is not a number or a non-empty string, a key listed twice). */
int attr_lists_from_json(attr_lists *l, const char *path, const keymap *items, int allow_unknown);

/* Splits cells[i] (NULL or "" = no attributes) at any character of seps; blanks around a tag
   are dropped, empty tags skipped. 0, or -1 after cli_error when out of memory. */
int attr_lists_from_cells(attr_lists *l, const char *const *cells, uint32_t n_items, const char *seps);

/* The columns: attributes carried by >= min_count items, in vocabulary order. Sets *width
   and *cols (vocabulary index of each column; free it). -1 after cli_error when no attribute
   is left (the message says how many there were and the min_count) or out of memory. */
int attr_columns(const attr_lists *l, uint32_t min_count, uint32_t **cols, uint32_t *width);

/* Fills out (n_items x width, zeroed here) with the IDF weights of each item's attributes
   among cols, and sets *empty to the number of items with none of them. 0, or -1 after
   cli_error when out of memory. */
int attr_fill(const attr_lists *l, const uint32_t *cols, uint32_t width, float *out, uint32_t *empty);

#endif
