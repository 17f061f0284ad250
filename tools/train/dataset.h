/*
 * dataset.h - the trainer's reader of a prepared dataset (docs/DATASET.md) and of the
 * one-line-per-user text format of the S3-Rec benchmarks (`user item item ...`).
 *
 * Item i of the dataset is row i of every matrix and of the bundle. The split is MODEL.md 6:
 * for a sequence i_1..i_n, training reads i_1..i_{n-2}, validation's target is i_{n-1} and
 * test's is i_n. Only sequences with n >= 3 are kept.
 */
#ifndef MDSREC_TRAIN_DATASET_H
#define MDSREC_TRAIN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "graph/csr.h"

/* One feature matrix (features/NAME.f32 + .json). */
typedef struct {
    char name[25];
    uint32_t kind;   /* mdsrec_channel_kind: image, text or feature */
    uint32_t width;
    float *data;     /* N x width */
} ds_feature;

#define DS_MAX_FEATURES 8

typedef struct {
    char *path;            /* the directory (or the .txt file) read */
    int text_format;       /* 1: read from `user item item ...` lines */
    uint32_t n_items;
    char **keys;           /* N item keys (NUL-terminated) */
    uint32_t n_users;
    uint32_t *off;         /* n_users + 1: sequence u is items[off[u] .. off[u+1]) */
    uint32_t *items;
    uint32_t n_features;
    ds_feature feat[DS_MAX_FEATURES];
} dataset;

/* Loads items and sequences from `path`: a prepared directory, or a file in the text format
   (keys are the file's item ids; items are numbered by increasing id). Features are not read
   here (dataset_load_features). 0, or -1 after cli_error. */
int dataset_load(const char *path, dataset *ds);

/* Reads every features/NAME.f32 listed in features/ of a prepared directory (none for the
   text format), in name order. 0, or -1 after cli_error. */
int dataset_load_features(dataset *ds);

/* Index of the feature named `name`, or -1. */
int dataset_feature(const dataset *ds, const char *name);

void dataset_free(dataset *ds);

/* Length of user u's sequence, and its training part (n - 2). */
static inline uint32_t ds_len(const dataset *ds, uint32_t u) { return ds->off[u + 1] - ds->off[u]; }
static inline const uint32_t *ds_seq(const dataset *ds, uint32_t u) { return ds->items + ds->off[u]; }

/* Training-part popularity: counts[i] = occurrences of item i in the training parts. */
void dataset_train_counts(const dataset *ds, uint32_t *counts);

#endif
