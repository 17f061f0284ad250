/*
 * prepared.h - the prepared dataset (docs/DATASET.md): the one in-memory type every command
 * reads (`dataset`), its one reader and writer of a prepared directory, its feature
 * matrices, and the leave-one-out split (MODEL.md section 6) as helpers every user calls.
 *
 * A prepared directory holds items.txt, sequences.tsv, summary.json and
 * features/NAME.{f32,json}. Every file is written atomically (cli_out: temp file + rename),
 * so a failing command leaves the old file.
 *
 * The rules a prepared directory is read with (prepare writes nothing else, so anything
 * else is an error naming the file and line):
 *   - items.txt: one item key a line, valid UTF-8, 1..MDSREC_MAX_KEY_LEN bytes (the bundle's
 *     limit), no key twice, at least one item. Item i is line i + 1: row i of every matrix
 *     and of the bundle.
 *   - sequences.tsv: one visitor a line, "user<TAB>i_1 i_2 ... i_n", oldest first, each i an
 *     index into items.txt separated by one space; n >= 3 (the split needs a training part, a
 *     validation and a test target); at least one visitor; no empty line.
 *   - In both a "\r" before the "\n" is dropped and the last line may lack its "\n".
 *   - features/NAME.json names its "width" and "rows" (rows must equal the items), and
 *     features/NAME.f32 holds exactly rows x width little-endian floats.
 * The S3-Rec text format (data/s3rec.h) fills the same type with its own importer's rules.
 */
#ifndef MDSREC_DATA_PREPARED_H
#define MDSREC_DATA_PREPARED_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "data/keymap.h"

/* The most feature matrices a dataset (and a dataset description) holds. */
#define DS_MAX_FEATURES 16

/* A feature matrix of the directory: rows x width floats, row i = item i. */
typedef struct {
    char *name, *kind, *source; /* kind: "image", "text" or any other (a plain feature) */
    uint32_t rows, width;
    float *x;         /* rows * width, owned */
    uint32_t *missing; /* indices of all-zero rows (items lacking the modality) */
    uint32_t n_missing;
} feature_matrix;

/* Visitor sequences over items, with the dataset's feature matrices. Every sequence has at
   least 3 items once loaded (prepared_load, s3rec_load) and fewer than 2^32. */
typedef struct {
    char *path;                    /* the directory or file read; NULL when built in memory */
    int text_format;               /* 1: read from an S3-Rec text file (no features, no graphs) */
    uint32_t n_users, n_items;
    char **user_keys, **item_keys; /* owned; user_keys may be NULL (S3-Rec text) */
    uint64_t *off;                 /* n_users + 1 */
    uint32_t *seq;                 /* item indices, user u: seq[off[u] .. off[u+1]) */
    uint32_t n_features;           /* dataset_load_features */
    feature_matrix feat[DS_MAX_FEATURES];
} dataset;

/* Frees everything ds owns (its features included) and zeroes it. */
void dataset_free(dataset *ds);

/* ---------------------------------------------------------------- the split (MODEL.md 6)
   Leave-one-out by time: for user u's sequence i_1..i_n, training reads i_1..i_{n-2}, the
   validation case reads that training part and targets i_{n-1}, the test case reads
   i_1..i_{n-1} and targets i_n. Call these rather than writing n - 2 by hand. */

static inline uint32_t ds_len(const dataset *ds, uint32_t u) { return (uint32_t)(ds->off[u + 1] - ds->off[u]); }
static inline const uint32_t *ds_seq(const dataset *ds, uint32_t u) { return ds->seq + ds->off[u]; }

/* Length of user u's training part: n - 2 (0 for a sequence under 3, which only a test's
   in-memory dataset can hold). */
static inline uint32_t ds_train_len(const dataset *ds, uint32_t u) {
    uint32_t n = ds_len(ds, u);
    return n > 2 ? n - 2 : 0;
}

typedef enum { DS_VALID = 0, DS_TEST = 1 } ds_split;

/* Length of the history the split's case reads: the training part (validation), or the
   training part and the validation target (test). */
static inline uint32_t ds_history_len(const dataset *ds, uint32_t u, ds_split split) {
    return ds_train_len(ds, u) + (split == DS_TEST);
}
/* The split's target: i_{n-1} (validation) or i_n (test). */
static inline uint32_t ds_target(const dataset *ds, uint32_t u, ds_split split) {
    return ds_seq(ds, u)[ds_history_len(ds, u, split)];
}
static inline uint32_t ds_valid_target(const dataset *ds, uint32_t u) { return ds_target(ds, u, DS_VALID); }
static inline uint32_t ds_test_target(const dataset *ds, uint32_t u) { return ds_target(ds, u, DS_TEST); }

/* Training-part popularity: counts[i] = occurrences of item i in the training parts. */
void dataset_train_counts(const dataset *ds, uint32_t *counts);

/* ---------------------------------------------------------------- reading */

/* Loads the sequences from `path`: a prepared directory (prepared_load) or an S3-Rec text
   file (s3rec_load). Features are not read here (dataset_load_features). 0, or -1 after
   cli_error. */
int dataset_load(const char *path, dataset *ds);

/* Reads items.txt and sequences.tsv of dir into ds under the rules above, and fills the map
   key -> item index when items is not NULL. 0, or -1 after cli_error naming the file and
   line. */
int prepared_load(const char *dir, dataset *ds, keymap *items);

/* Reads every feature matrix of ds's directory (prepared_list_features, in name order) into
   ds->feat; none for the S3-Rec text format or a directory without features/. 0, or -1 after
   cli_error (a bad matrix, or more than DS_MAX_FEATURES). */
int dataset_load_features(dataset *ds);

/* Index in ds->feat of the feature named `name`, or -1. */
int dataset_feature(const dataset *ds, const char *name);

/* The core's channel kind of a feature matrix: MDSREC_CHANNEL_IMAGE, _TEXT or _FEATURE. */
uint32_t feature_channel_kind(const feature_matrix *m);

/* ---------------------------------------------------------------- writing */

/* dir + "/" + name, malloc'd (NULL when out of memory). */
char *path_join(const char *dir, const char *name);
/* Creates dir and its missing parents (mkdir -p). 0, or -1 after cli_error. */
int ensure_dir(const char *dir);

/* Writes items.txt and sequences.tsv. 0, or -1 after cli_error. */
int prepared_write_sequences(const char *dir, const dataset *ds);

/* ---------------------------------------------------------------- feature matrices */

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

/* The names of the features in dir/features (from the *.json files with a valid channel
   name), sorted; *n set. NULL with *n = 0 when there are none. Free each and the array. */
char **prepared_list_features(const char *dir, uint32_t *n);

/* Writes a cJSON value (pretty-printed, newline-terminated) to path atomically. */
int write_json_file(const char *path, const cJSON *v);
/* Parses a JSON file; NULL after cli_error. */
cJSON *read_json_file(const char *path);

/* 1 if name is a valid feature or graph name: [A-Za-z0-9_-]{1,64} and not "behaviour". */
int valid_channel_name(const char *name);

#endif
