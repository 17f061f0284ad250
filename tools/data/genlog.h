/*
 * genlog.h - a synthetic store, written as the files a store would bring (docs/SCALE.md):
 * an interaction log, a catalogue and a precomputed item feature matrix, with structure
 * planted so that a recommender has something to find and a test can measure it:
 *
 *   - popularity: item i has weight 1/(rank_i + 1)^zipf for a random rank, so a few items
 *     take most of the events (a long tail);
 *   - categories: every item has one of C categories placed on a ring; a visitor's next event
 *     stays in the category (stay), moves to a ring neighbour at distance 1 or 2 (drift), or
 *     jumps to a category drawn by popularity (the rest); inside a category the item is drawn
 *     by popularity;
 *   - transitions: with probability follow the next item is the previous item's partner, a
 *     fixed item of the same category drawn uniformly (what a sequential model can learn and
 *     popularity cannot);
 *   - features: item i's vector is its category's centroid plus Gaussian noise, L2-normalised;
 *     centroids of ring neighbours are correlated, as related categories would be;
 *   - titles: words of the category and of its department (10 ring-neighbour categories),
 *     so `featurize text` also finds the category.
 *
 * Visitors are interleaved (a pool of at most 256 open visitors, one event at a time from a
 * random one) and the log is in time order, as a store's export is. Memory is O(items +
 * categories), independent of visitors and events: everything is streamed to disk.
 *
 * Files written into dir (each atomically; on failure none of them is left):
 *   interactions.tsv  "user_id<TAB>item_id<TAB>timestamp" (Unix seconds), header line
 *   catalog.tsv       "item_id<TAB>title<TAB>category<TAB>price", one row per item
 *   vec.npy           float32 items x width, row r = item "i<r>"
 *   vec_keys.txt      the item key of each row
 *   dataset.json      the description `mdsrec prepare --dataset` reads (docs/IMPORT.md)
 * User keys are "u<n>", item keys "i<n>" (n from 0); the category of item n is catalog row n.
 */
#ifndef MDSREC_DATA_GENLOG_H
#define MDSREC_DATA_GENLOG_H

#include <stdint.h>

typedef struct {
    uint32_t visitors, items;
    uint64_t events;     /* at least 3 per visitor */
    uint32_t categories; /* 0: items / 20, at least 2 */
    uint32_t width;      /* feature width */
    uint64_t seed;
    double zipf;         /* popularity exponent */
    double stay, drift, follow; /* probabilities of the next event's kind; their sum <= 1 */
    double noise;        /* feature noise norm relative to the centroid's */
} genlog_params;

/* Defaults: zipf 1.0, stay 0.55, drift 0.2, follow 0.2 (jump 0.05), noise 1.0, width 32,
   seed 1; visitors, items and events 0 (to be set). */
void genlog_defaults(genlog_params *p);

/* NULL when p is usable, else what is wrong (a static string naming the parameter). */
const char *genlog_check(const genlog_params *p);

/* Writes the files into dir (which must exist). 0, or -1 after cli_error (a write failed,
   out of memory); then no output file is left. */
int genlog_write(const genlog_params *p, const char *dir);

#endif
