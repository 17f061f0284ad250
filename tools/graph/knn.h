/*
 * knn.h - exact top-k neighbours by relation score (MODEL.md section 1):
 *   r(i,j) = cos(f_i, f_j) + beta * b~(i,j)      for j != i,
 * where the rows of f are L2-normalised (so the cosine is a dot product) and b~ is the
 * behaviour matrix of cooccur.h (or none). Each item keeps its k best j with r(i,j) > 0,
 * strongest first, ties broken by the smaller index; a non-positive score is no relation
 * (this also keeps the graph's degrees positive for the normalisation).
 *
 * The similarities are computed in blocks of rows x blocks of columns, with OpenBLAS sgemm
 * when the build found it (MDSREC_HAVE_OPENBLAS) and a plain C loop otherwise, on `threads`
 * threads of the tool's pool (parallel.h). The block grid does not depend on the thread
 * count, so the result is the same for any number of threads.
 */
#ifndef MDSREC_GRAPH_KNN_H
#define MDSREC_GRAPH_KNN_H

#include <stdint.h>

#include "graph/csr.h"

typedef struct {
    uint32_t k;       /* default 10 */
    float beta;       /* weight of b~ */
    uint32_t threads; /* 0: the number of online CPUs; at most PARALLEL_MAX_THREADS run */
    const char *label; /* progress bar label */
} knn_params;

/* Top-k of x (n rows x width, L2-normalised or zero) plus beta * bt (NULL: none) into out,
   a CSR with at most k entries per row, strongest first. 0, or -1 after cli_error. */
int knn_build(const float *x, uint32_t n, uint32_t width, const csr *bt, const knn_params *p, csr *out);

/* Top-k of a sparse score matrix (the behaviour-only graph): same ordering rules. */
int knn_from_sparse(const csr *scores, uint32_t k, csr *out);

/* 1 when BLAS is used for the similarities. */
int knn_uses_blas(void);

#endif
