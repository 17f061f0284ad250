/*
 * prepared.h - reading and writing the prepared dataset directory (docs/DATASET.md):
 * items.txt, sequences.tsv, summary.json and features/NAME.{f32,json}. Every file is written
 * atomically (cli_out: temp file + rename), so a failing command leaves the old file.
 */
#ifndef MDSREC_DATA_PREPARED_H
#define MDSREC_DATA_PREPARED_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "data/keymap.h"
#include "data/sequences.h"

/* dir + "/" + name, malloc'd (NULL when out of memory). */
char *path_join(const char *dir, const char *name);
/* Creates dir and its missing parents (mkdir -p). 0, or -1 after cli_error. */
int ensure_dir(const char *dir);

/* Writes items.txt and sequences.tsv. 0, or -1 after cli_error. */
int prepared_write_sequences(const char *dir, const seqset *s);

/* Reads items.txt and sequences.tsv back into s (user and item keys included) and fills the
   map key -> item index when items is not NULL. 0, or -1 after cli_error naming the file and
   line (missing file, an index out of range, a sequence shorter than 3, a duplicate key). */
int prepared_load(const char *dir, seqset *s, keymap *items);

/* A feature matrix of the directory: rows x width floats, row i = item i. */
typedef struct {
    char *name, *kind, *source;
    uint32_t rows, width;
    float *x;         /* rows * width, owned */
    uint32_t *missing; /* indices of all-zero rows (items lacking the modality) */
    uint32_t n_missing;
} feature_matrix;
void feature_matrix_free(feature_matrix *m);

/* Scales every row of m to unit L2 norm (zero rows stay zero) and lists the zero rows in
   m->missing. -1 when a value is not finite (after cli_error naming `what` and the row). */
int feature_matrix_finish(feature_matrix *m, const char *what);

/* Subtracts the mean of the non-zero rows from each non-zero row (zero rows, the items
   lacking the modality, stay zero). Handcrafted descriptors are all-positive histograms
   whose cosines crowd near 1; centring spreads them so neighbours differ by what sets
   items apart. Does nothing with fewer than two non-zero rows. Call before
   feature_matrix_finish. -1 when out of memory. */
int feature_matrix_center(feature_matrix *m);

/* Writes features/NAME.f32 and features/NAME.json and records the number of items missing
   the modality in summary.json ("missing": {NAME: count}). 0, or -1 after cli_error. */
int prepared_write_feature(const char *dir, const feature_matrix *m);

/* Reads features/NAME.{json,f32}; checks that rows equals n_items and the file size.
   0, or -1 after cli_error. */
int prepared_load_feature(const char *dir, const char *name, uint32_t n_items, feature_matrix *m);

/* The names of the features in dir/features (from the *.json files), sorted; *n set.
   NULL with *n = 0 when there are none. Free each and the array. */
char **prepared_list_features(const char *dir, uint32_t *n);

/* Writes a cJSON value (pretty-printed, newline-terminated) to path atomically. */
int write_json_file(const char *path, const cJSON *v);
/* Parses a JSON file; NULL after cli_error. */
cJSON *read_json_file(const char *path);

/* 1 if name is a valid feature or graph name: [A-Za-z0-9_-]{1,64} and not "behaviour". */
int valid_channel_name(const char *name);

#endif
