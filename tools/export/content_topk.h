/*
 * content_topk.h - each query row's k most similar rows of a reference matrix by dot product
 * (cosine for unit rows), the exact top k, for `mdsrec add-items`'s content neighbours.
 *
 * The similarity matrix of n queries against N references is never held whole: blocks of
 * queries are scored against tiles of references small enough to stay in cache, by
 * single-threaded sgemm calls spread over the thread pool (tools/parallel.h), and each
 * query's running top k is merged tile by tile. Results do not depend on the thread count.
 */
#ifndef MDSREC_EXPORT_CONTENT_TOPK_H
#define MDSREC_EXPORT_CONTENT_TOPK_H

#include <stddef.h>
#include <stdint.h>

/* For every query i < n (rows of q, n x w) the up to k references j < N (rows of ref, N x w)
   with the largest s = <q_i, ref_j>, only s > 0 and only j with keep[j] != 0 (keep may be
   NULL: all), strongest first, ties by the smaller j. Writes idx[i * k + t], sim[i * k + t]
   for t < cnt[i]. threads: the workers (0: every core). 0, or -1 when out of memory. */
int content_topk(const float *q, size_t n, const float *ref, size_t N, size_t w, const uint8_t *keep, uint32_t k,
                 int threads, uint32_t *idx, float *sim, uint32_t *cnt);

#endif
