/*
 * matrix.h - imports a precomputed feature matrix (one row per item, any width) into the
 * prepared directory's item order.
 *
 * Formats:
 *   npy  NumPy .npy, version 1-3, dtype '<f4' or '<f2' (float16 is widened), 2-D shape
 *        (rows, width), C or Fortran order.
 *   f32  raw little-endian float32, `width` values per row (width is required).
 *   csv  one row per line, numbers separated by commas; with a keys file every field is a
 *        number, without one the first field is the item key.
 * The row -> key mapping is a text file with one key per line (line r = row r), required for
 * npy and f32. A key that is not an item is an error unless allow_unknown (then the row is
 * skipped); an item with no row gets a zero row and is listed as missing.
 *
 * Errors (cli_error naming the file and the line, field or byte offset): missing file, bad
 * .npy magic or header, unsupported dtype, shape or key-count mismatch, ragged CSV row, a
 * value that is not a number, invalid UTF-8 in the keys, an unknown or repeated key.
 */
#ifndef MDSREC_DATA_MATRIX_H
#define MDSREC_DATA_MATRIX_H

#include "data/source.h"
#include "data/keymap.h"
#include "data/prepared.h"

/* Fills out (rows = items->n, L2-normalised rows, kind "feature"). 0, or -1 after cli_error. */
int matrix_import(const ds_feature *f, const keymap *items, feature_matrix *out);

/* The raw rows of a matrix file, before any key mapping (exposed for tests). */
typedef struct {
    uint32_t rows, width;
    float *x;
    char **keys; /* CSV without a keys file: the first column; else NULL */
} raw_matrix;
int matrix_read_npy(const char *path, raw_matrix *m);
void raw_matrix_free(raw_matrix *m);

#endif
