/*
 * test_tmodel_helpers.h - for the tests that build a trainer model in memory: a seeded uniform
 * stream and a dataset of n items with one feature matrix (no files).
 */
#ifndef MDSREC_TEST_TMODEL_HELPERS_H
#define MDSREC_TEST_TMODEL_HELPERS_H

#include <stdint.h>
#include <string.h>

#include "train/tmodel.h"

/* uniform in [-0.5, 0.5) from an LCG: the same numbers on every machine */
__attribute__((unused)) static float uni(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1 << 24)) - 0.5f;
}

/* ds: n items and one feature matrix named name, width w, over x (n * w floats, the caller's) */
__attribute__((unused)) static void memory_dataset(dataset *ds, char *name, size_t n, size_t w, float *x) {
    memset(ds, 0, sizeof *ds);
    ds->n_items = (uint32_t)n;
    ds->path = "memory";
    feature_matrix *ft = &ds->feat[0];
    ft->name = name;
    ft->rows = (uint32_t)n;
    ft->width = (uint32_t)w;
    ft->x = x;
    ds->n_features = 1;
}

#endif
