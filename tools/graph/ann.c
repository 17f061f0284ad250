/* ann.c - inverted-file approximate top-k by relation score (see ann.h). */
#include "graph/ann.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef MDSREC_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "cli.h"
#include "parallel.h"
#include "src/rng.h"

#define ROUNDS 4   /* k-means rounds: the clusters only steer the search, the scores are exact */
#define RB 64      /* rows per similarity block */
#define CB 2048    /* columns per similarity block */

/* S (nr x nc) = A (nr x w) . B (nc x w)^T, rows of A and B contiguous. */
static void sims(const float *a, uint32_t nr, const float *b, uint32_t nc, uint32_t w, float *s) {
#ifdef MDSREC_HAVE_OPENBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)nc, (int)w, 1.0f, a, (int)w, b, (int)w, 0.0f, s,
                (int)nc);
#else
    for (uint32_t i = 0; i < nr; i++)
        for (uint32_t j = 0; j < nc; j++) {
            float acc = 0;
            for (uint32_t d = 0; d < w; d++) acc += a[(size_t)i * w + d] * b[(size_t)j * w + d];
            s[(size_t)i * nc + j] = acc;
        }
#endif
}

static float dot(const float *a, const float *b, uint32_t w) {
    float acc = 0;
    for (uint32_t d = 0; d < w; d++) acc += a[d] * b[d];
    return acc;
}

/* b~(i, j) from row i of bt (columns sorted), 0 when absent. */
static float bt_at(const csr *bt, uint32_t i, uint32_t j, int *found) {
    uint32_t lo = bt->row_ptr[i], hi = bt->row_ptr[i + 1];
    while (lo < hi) {
        uint32_t m = lo + (hi - lo) / 2;
        if (bt->col[m] < j) lo = m + 1;
        else hi = m;
    }
    *found = lo < bt->row_ptr[i + 1] && bt->col[lo] == j;
    return *found ? bt->w[lo] : 0;
}

/* A row's best k, strongest first; ties by the smaller index (knn.h's order). */
typedef struct {
    float *s;
    uint32_t *j;
    uint32_t n, k;
} best_row;

static inline int before(float s, uint32_t j, float t, uint32_t i) { return s > t || (s == t && j < i); }

static void push(best_row *r, float s, uint32_t j) {
    if (!(s > 0)) return;
    if (r->n == r->k && !before(s, j, r->s[r->k - 1], r->j[r->k - 1])) return;
    uint32_t p = r->n < r->k ? r->n++ : r->k - 1;
    for (; p > 0 && before(s, j, r->s[p - 1], r->j[p - 1]); p--) r->s[p] = r->s[p - 1], r->j[p] = r->j[p - 1];
    r->s[p] = s, r->j[p] = j;
}

/* ------------------------------------------------------------------ clustering */

typedef struct {
    const float *x;
    uint32_t n, w, nl;
    const float *cent;
    uint32_t *assign;
} assign_job;

static void assign_worker(void *ctx, int tid, int nt) {
    assign_job *J = ctx;
    size_t lo, hi;
    parallel_range(J->n, tid, nt, &lo, &hi);
    float *s = malloc((size_t)RB * J->nl * sizeof *s);
    if (!s) { /* the slow way, same answer */
        for (size_t i = lo; i < hi; i++) {
            uint32_t best = 0;
            float bs = -INFINITY;
            for (uint32_t c = 0; c < J->nl; c++) {
                float d = dot(J->x + i * J->w, J->cent + (size_t)c * J->w, J->w);
                if (d > bs) bs = d, best = c;
            }
            J->assign[i] = best;
        }
        return;
    }
    for (size_t r0 = lo; r0 < hi; r0 += RB) {
        uint32_t nr = (uint32_t)(hi - r0 < RB ? hi - r0 : RB);
        sims(J->x + r0 * J->w, nr, J->cent, J->nl, J->w, s);
        for (uint32_t a = 0; a < nr; a++) {
            uint32_t best = 0;
            for (uint32_t c = 1; c < J->nl; c++)
                if (s[(size_t)a * J->nl + c] > s[(size_t)a * J->nl + best]) best = c;
            J->assign[r0 + a] = best;
        }
    }
    free(s);
}

/* Spherical k-means: nl unit centroids into cent, each row's cluster into assign. */
static int cluster(const float *x, uint32_t n, uint32_t w, uint32_t nl, int threads, float *cent, uint32_t *assign) {
    uint64_t seed = 0x5EED;
    for (uint32_t c = 0; c < nl; c++)
        memcpy(cent + (size_t)c * w, x + (size_t)(splitmix64(&seed) % n) * w, w * sizeof *cent);
    double *sum = malloc((size_t)nl * w * sizeof *sum);
    uint32_t *cnt = malloc(nl * sizeof *cnt);
    if (!sum || !cnt) {
        free(sum), free(cnt);
        return -1;
    }
    assign_job J = {x, n, w, nl, cent, assign};
    for (int round = 0; round < ROUNDS; round++) {
        parallel_run(threads, assign_worker, &J);
        memset(sum, 0, (size_t)nl * w * sizeof *sum);
        memset(cnt, 0, nl * sizeof *cnt);
        for (uint32_t i = 0; i < n; i++) {
            cnt[assign[i]]++;
            for (uint32_t d = 0; d < w; d++) sum[(size_t)assign[i] * w + d] += x[(size_t)i * w + d];
        }
        for (uint32_t c = 0; c < nl; c++) {
            double nn = 0;
            for (uint32_t d = 0; d < w; d++) nn += sum[(size_t)c * w + d] * sum[(size_t)c * w + d];
            if (!cnt[c] || nn <= 0) continue; /* an empty cluster keeps its centroid */
            for (uint32_t d = 0; d < w; d++) cent[(size_t)c * w + d] = (float)(sum[(size_t)c * w + d] / sqrt(nn));
        }
    }
    parallel_run(threads, assign_worker, &J); /* the final centroids' clusters */
    free(sum), free(cnt);
    return 0;
}

/* ------------------------------------------------------------------ search */

typedef struct {
    const float *x, *xp; /* rows, and rows in cluster order */
    const uint32_t *perm, *coff, *probe;
    uint32_t n, w, nl, np, k;
    const csr *bt;
    float beta;
    float *bs;
    uint32_t *bj, *count;
    int failed;
} search_job;

static void search_worker(void *ctx, int tid, int nt) {
    search_job *J = ctx;
    float *s = malloc((size_t)RB * CB * sizeof *s);
    if (!s) {
        J->failed = 1;
        return;
    }
    best_row rows[RB];
    for (uint32_t A = (uint32_t)tid; A < J->nl; A += (uint32_t)nt) {
        for (uint32_t r0 = J->coff[A]; r0 < J->coff[A + 1]; r0 += RB) {
            uint32_t nr = J->coff[A + 1] - r0 < RB ? J->coff[A + 1] - r0 : RB;
            for (uint32_t a = 0; a < nr; a++) {
                uint32_t i = J->perm[r0 + a];
                rows[a] = (best_row){J->bs + (size_t)i * J->k, J->bj + (size_t)i * J->k, 0, J->k};
            }
            for (uint32_t q = 0; q < J->np; q++) {
                uint32_t B = J->probe[(size_t)A * J->np + q];
                for (uint32_t c0 = J->coff[B]; c0 < J->coff[B + 1]; c0 += CB) {
                    uint32_t nc = J->coff[B + 1] - c0 < CB ? J->coff[B + 1] - c0 : CB;
                    sims(J->xp + (size_t)r0 * J->w, nr, J->xp + (size_t)c0 * J->w, nc, J->w, s);
                    for (uint32_t a = 0; a < nr; a++) {
                        uint32_t i = J->perm[r0 + a];
                        for (uint32_t c = 0; c < nc; c++) {
                            uint32_t j = J->perm[c0 + c];
                            int in_bt = 0;
                            if (j == i || (J->bt && (bt_at(J->bt, i, j, &in_bt), in_bt))) continue; /* scored below */
                            push(&rows[a], s[(size_t)a * nc + c], j);
                        }
                    }
                }
            }
            /* behaviour neighbours, wherever they are: the exact score */
            for (uint32_t a = 0; a < nr && J->bt; a++) {
                uint32_t i = J->perm[r0 + a];
                for (uint32_t e = J->bt->row_ptr[i]; e < J->bt->row_ptr[i + 1]; e++) {
                    uint32_t j = J->bt->col[e];
                    if (j != i)
                        push(&rows[a], dot(J->x + (size_t)i * J->w, J->x + (size_t)j * J->w, J->w) + J->beta * J->bt->w[e],
                             j);
                }
            }
            for (uint32_t a = 0; a < nr; a++) J->count[J->perm[r0 + a]] = rows[a].n;
        }
    }
    free(s);
}

int ann_build(const float *x, uint32_t n, uint32_t width, const csr *bt, const knn_params *p, uint32_t probe,
              csr *out) {
    memset(out, 0, sizeof *out);
    uint32_t k = p->k ? p->k : 10, nl = (uint32_t)sqrt((double)n);
    if (nl < 1) nl = 1;
    if (probe < 1) probe = 1;
    if (probe > nl) probe = nl;
    int threads = parallel_threads(p->threads);
#ifdef MDSREC_HAVE_OPENBLAS
    openblas_set_num_threads(1); /* the threads here split the work */
#endif
    float *cent = malloc((size_t)nl * width * sizeof *cent), *xp = malloc((size_t)n * width * sizeof *xp);
    float *cc = malloc((size_t)nl * nl * sizeof *cc), *bs = malloc((size_t)n * k * sizeof *bs);
    uint32_t *assign = malloc(n * sizeof *assign), *perm = malloc(n * sizeof *perm);
    uint32_t *coff = calloc((size_t)nl + 1, sizeof *coff), *pr = malloc((size_t)nl * probe * sizeof *pr);
    uint32_t *bj = malloc((size_t)n * k * sizeof *bj), *count = calloc(n, sizeof *count);
    int rc = -1;
    if (!cent || !xp || !cc || !bs || !assign || !perm || !coff || !pr || !bj || !count) goto done;
    if (cluster(x, n, width, nl, threads, cent, assign) != 0) goto done;
    /* the items in cluster order (a counting sort: stable, so deterministic) */
    for (uint32_t i = 0; i < n; i++) coff[assign[i] + 1]++;
    for (uint32_t c = 0; c < nl; c++) coff[c + 1] += coff[c];
    for (uint32_t i = 0; i < n; i++) perm[coff[assign[i]]++] = i;
    memmove(coff + 1, coff, nl * sizeof *coff);
    coff[0] = 0;
    for (uint32_t q = 0; q < n; q++) memcpy(xp + (size_t)q * width, x + (size_t)perm[q] * width, width * sizeof *xp);
    /* each cluster's probe list: itself, then the nearest centroids */
    sims(cent, nl, cent, nl, width, cc);
    for (uint32_t A = 0; A < nl; A++) {
        best_row r = {malloc(probe * sizeof(float)), pr + (size_t)A * probe, 0, probe};
        if (!r.s) goto done;
        for (uint32_t B = 0; B < nl; B++) {
            float v = B == A ? 3.0f : cc[(size_t)A * nl + B] + 2.0f; /* > 0 always; itself first */
            push(&r, v, B);
        }
        free(r.s);
    }
    search_job J = {x, xp, perm, coff, pr, n, width, nl, probe, k, bt, p->beta, bs, bj, count, 0};
    parallel_run(threads, search_worker, &J);
    if (J.failed) goto done;
    uint64_t nnz = 0;
    for (uint32_t i = 0; i < n; i++) nnz += count[i];
    if (nnz > UINT32_MAX || csr_alloc(out, n, (uint32_t)nnz) != 0) goto done;
    uint32_t e = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t q = 0; q < count[i]; q++, e++) out->col[e] = bj[(size_t)i * k + q], out->w[e] = bs[(size_t)i * k + q];
        out->row_ptr[i + 1] = e;
    }
    rc = 0;
done:
    if (rc != 0) cli_error("out of memory computing approximate neighbours");
    free(cent), free(xp), free(cc), free(bs), free(assign), free(perm), free(coff), free(pr), free(bj), free(count);
    return rc;
}

double ann_recall(const float *x, uint32_t n, uint32_t width, const csr *bt, float beta, uint32_t k,
                  const csr *approx, uint32_t sample) {
    if (!n) return 1;
    float *s = malloc(k * sizeof *s);
    uint32_t *j = malloc(k * sizeof *j);
    if (!s || !j) {
        free(s), free(j);
        return -1;
    }
    uint64_t seed = 0xACC, want = 0, hit = 0;
    for (uint32_t t = 0; t < sample; t++) {
        uint32_t i = (uint32_t)(splitmix64(&seed) % n);
        best_row r = {s, j, 0, k};
        for (uint32_t c = 0; c < n; c++) {
            if (c == i) continue;
            int f;
            push(&r, dot(x + (size_t)i * width, x + (size_t)c * width, width) + (bt ? beta * bt_at(bt, i, c, &f) : 0), c);
        }
        want += r.n;
        for (uint32_t q = 0; q < r.n; q++)
            for (uint32_t e = approx->row_ptr[i]; e < approx->row_ptr[i + 1]; e++)
                if (approx->col[e] == r.j[q]) {
                    hit++;
                    break;
                }
    }
    free(s), free(j);
    return want ? (double)hit / (double)want : 1;
}
