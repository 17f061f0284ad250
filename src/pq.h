/*
 * pq.h - product quantization of item rows (format v2's item_dtype pq, models/FORMAT.md
 * "PQ items"): k-means of each sub-space's columns into 256 centroids, and each row's codes.
 * The writer (bundle_write.c) trains it from the f32 rows a spec holds; nothing at inference
 * calls it. Deterministic: the same rows give the same codebook on every platform.
 */
#ifndef MDSREC_PQ_H
#define MDSREC_PQ_H

#include <stddef.h>
#include <stdint.h>

/* Rows sampled to train each sub-space (all of them when n is smaller), and Lloyd steps. */
#define PQ_TRAIN_ROWS 32768u
#define PQ_ITERS 12u

/* Trains the codebook of the n rows of x (n x d, row-major f32, finite) cut into m sub-spaces
   of d/m columns (m divides d) and encodes every row: cb gets [m][256][d/m] centroids (a
   sub-space with fewer than 256 distinct rows repeats some), codes [n][m] the nearest
   centroid of each row's sub-vectors (squared distance, lowest index on ties). Returns 0, or
   -1 when out of memory (cb and codes then undefined). */
int pq_train(const float *x, size_t n, size_t d, size_t m, float *cb, uint8_t *codes);

#endif
