/*
 * ann.h - approximate top-k by relation score, for catalogues where the exact search of
 * knn.h (every item against every item: quadratic) is too slow (docs/SCALE.md).
 *
 * An inverted file: the rows of x are clustered by spherical k-means (sqrt(n) clusters,
 * a few rounds from seeded starting rows); each cluster's items are compared, exactly and by
 * the same score r(i,j) = cos(f_i, f_j) + beta * b~(i,j) as knn.h, with the items of the
 * `probe` clusters whose centroids are nearest to their own centroid (its own included).
 * Every behaviour neighbour j of i (a non-zero b~(i,j)) is scored too, wherever its cluster:
 * the behaviour signal is never lost to the approximation. The output follows knn.h's rules
 * (at most k entries j != i with r > 0, strongest first, ties by the smaller index) and is the
 * same for any thread count; it may miss a neighbour of the exact search that lies in a
 * cluster not probed: ann_recall measures how often.
 */
#ifndef MDSREC_GRAPH_ANN_H
#define MDSREC_GRAPH_ANN_H

#include <stdint.h>

#include "graph/csr.h"
#include "graph/knn.h"

/* As knn_build, searching `probe` clusters per item (at least 1). 0, or -1 after cli_error. */
int ann_build(const float *x, uint32_t n, uint32_t width, const csr *bt, const knn_params *p, uint32_t probe,
              csr *out);

/* The recall of approx against the exact top-k for `sample` seeded rows (the exact rows are
   computed here by brute force): the share of the exact neighbours that approx also lists.
   Returns it in [0, 1], or -1 on out of memory. */
double ann_recall(const float *x, uint32_t n, uint32_t width, const csr *bt, float beta, uint32_t k,
                  const csr *approx, uint32_t sample);

#endif
