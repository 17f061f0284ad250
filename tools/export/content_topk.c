/* content_topk.c - exact top-k by dot product, tiled and threaded (content_topk.h). */
#include "export/content_topk.h"

#include <stdlib.h>

#include "parallel.h"
#include "train/gemm.h"

#define Q_BLOCK 64   /* queries scored together */
#define R_TILE 2048  /* references per tile: Q_BLOCK x R_TILE floats (512 KB) stay in cache */

typedef struct {
    const float *q, *ref;
    size_t n, N, w;
    const uint8_t *keep;
    uint32_t k;
    uint32_t *idx, *cnt;
    float *sim;
    int oom;
} job;

/* Merges the scores s[0..len) of references j0.. into query i's running list (strongest
   first; an equal score never displaces an earlier, smaller index). */
static void merge(const job *J, size_t i, const float *s, size_t j0, size_t len) {
    uint32_t k = J->k, c = J->cnt[i], *ix = J->idx + i * k;
    float *sv = J->sim + i * k;
    /* one comparison per score, almost always false once the list is full: the bar is the
       k-th score (positive) or, until then, 0 */
    float bar = c == k ? sv[k - 1] : 0.0f;
    for (size_t t = 0; t < len; t++) {
        float x = s[t];
        if (!(x > bar)) continue;
        if (J->keep && !J->keep[j0 + t]) continue;
        uint32_t p = c < k ? c++ : k - 1;
        while (p > 0 && sv[p - 1] < x) {
            sv[p] = sv[p - 1];
            ix[p] = ix[p - 1];
            p--;
        }
        sv[p] = x;
        ix[p] = (uint32_t)(j0 + t);
        if (c == k) bar = sv[k - 1];
    }
    J->cnt[i] = c;
}

static void worker(void *ctx, int tid, int nt) {
    job *J = ctx;
    size_t blocks = (J->n + Q_BLOCK - 1) / Q_BLOCK, lo, hi;
    parallel_range(blocks, tid, nt, &lo, &hi);
    if (lo == hi) return;
    float *s = malloc((size_t)Q_BLOCK * R_TILE * sizeof(float));
    if (!s) {
        J->oom = 1; /* a benign race: every writer stores 1 */
        return;
    }
    for (size_t b = lo; b < hi; b++) {
        size_t i0 = b * Q_BLOCK, rows = J->n - i0 < Q_BLOCK ? J->n - i0 : Q_BLOCK;
        for (size_t i = 0; i < rows; i++) J->cnt[i0 + i] = 0;
        for (size_t j0 = 0; j0 < J->N; j0 += R_TILE) {
            size_t cols = J->N - j0 < R_TILE ? J->N - j0 : R_TILE;
            gemm(0, 1, rows, cols, J->w, 1.0f, J->q + i0 * J->w, J->w, J->ref + j0 * J->w, J->w, 0.0f, s, cols);
            for (size_t i = 0; i < rows; i++) merge(J, i0 + i, s + i * cols, j0, cols);
        }
    }
    free(s);
}

int content_topk(const float *q, size_t n, const float *ref, size_t N, size_t w, const uint8_t *keep, uint32_t k,
                 int threads, uint32_t *idx, float *sim, uint32_t *cnt) {
    job J = {q, ref, n, N, w, keep, k, idx, cnt, sim, 0};
    if (!n) return 0;
    int nt = parallel_threads(threads > 0 ? (unsigned)threads : 0);
    size_t blocks = (n + Q_BLOCK - 1) / Q_BLOCK;
    if ((size_t)nt > blocks) nt = (int)blocks;
    /* each worker calls sgemm on its own: BLAS's threads would only compete with them */
    gemm_set_threads(1);
    parallel_run(nt, worker, &J);
    gemm_set_threads(parallel_threads(threads > 0 ? (unsigned)threads : 0));
    return J.oom ? -1 : 0;
}
