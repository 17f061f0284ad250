/* knn.c - blocked, multi-threaded exact top-k by relation score (see knn.h). */
#include "graph/knn.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef MDSREC_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "cli.h"
#include "parallel.h"

#define ROW_BLOCK 64
#define COL_BLOCK 4096

int knn_uses_blas(void) {
#ifdef MDSREC_HAVE_OPENBLAS
    return 1;
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------ top-k of one row */

/* A row's best k so far, sorted strongest first. */
typedef struct {
    float *s;
    uint32_t *j;
    uint32_t n, k;
} topk_row;

/* 1 if (s, j) ranks before (t, i): higher score, or equal score and smaller index. */
static inline int before(float s, uint32_t j, float t, uint32_t i) { return s > t || (s == t && j < i); }

static inline void topk_push(topk_row *r, float s, uint32_t j) {
    if (!(s > 0)) return;
    if (r->n == r->k && !before(s, j, r->s[r->k - 1], r->j[r->k - 1])) return;
    uint32_t p = r->n < r->k ? r->n++ : r->k - 1;
    while (p > 0 && before(s, j, r->s[p - 1], r->j[p - 1])) {
        r->s[p] = r->s[p - 1];
        r->j[p] = r->j[p - 1];
        p--;
    }
    r->s[p] = s;
    r->j[p] = j;
}

/* ------------------------------------------------------------------ dense + sparse */

typedef struct {
    const float *x;
    uint32_t n, width;
    const csr *bt;
    float beta;
    uint32_t k;
    float *best_s;    /* n * k */
    uint32_t *best_j; /* n * k */
    uint32_t *count;  /* n */
    atomic_uint next; /* next row block to take */
    atomic_uint done; /* row blocks finished */
    atomic_int failed;
    cli_progress bar;
} knn_job;

static void sim_block(const knn_job *J, uint32_t r0, uint32_t nr, uint32_t c0, uint32_t nc, float *S) {
#ifdef MDSREC_HAVE_OPENBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)nc, (int)J->width, 1.0f,
                J->x + (size_t)r0 * J->width, (int)J->width, J->x + (size_t)c0 * J->width, (int)J->width, 0.0f, S,
                (int)nc);
#else
    for (uint32_t a = 0; a < nr; a++) {
        const float *xa = J->x + (size_t)(r0 + a) * J->width;
        for (uint32_t b = 0; b < nc; b++) {
            const float *xb = J->x + (size_t)(c0 + b) * J->width;
            float acc = 0;
            for (uint32_t d = 0; d < J->width; d++) acc += xa[d] * xb[d];
            S[(size_t)a * nc + b] = acc;
        }
    }
#endif
}

static void knn_worker(void *arg, int tid, int n) {
    (void)tid;
    (void)n;
    knn_job *J = arg;
    uint32_t nblocks = (J->n + ROW_BLOCK - 1) / ROW_BLOCK;
    float *S = malloc((size_t)ROW_BLOCK * COL_BLOCK * sizeof *S);
    uint32_t *cursor = malloc(ROW_BLOCK * sizeof *cursor);
    if (!S || !cursor) {
        atomic_store(&J->failed, 1);
        free(S);
        free(cursor);
        return;
    }
    for (;;) {
        uint32_t b = atomic_fetch_add(&J->next, 1);
        if (b >= nblocks || atomic_load(&J->failed)) break;
        uint32_t r0 = b * ROW_BLOCK, nr = J->n - r0 < ROW_BLOCK ? J->n - r0 : ROW_BLOCK;
        topk_row rows[ROW_BLOCK];
        for (uint32_t a = 0; a < nr; a++) {
            rows[a] = (topk_row){J->best_s + (size_t)(r0 + a) * J->k, J->best_j + (size_t)(r0 + a) * J->k, 0, J->k};
            cursor[a] = J->bt ? J->bt->row_ptr[r0 + a] : 0;
        }
        for (uint32_t c0 = 0; c0 < J->n; c0 += COL_BLOCK) {
            uint32_t nc = J->n - c0 < COL_BLOCK ? J->n - c0 : COL_BLOCK;
            sim_block(J, r0, nr, c0, nc, S);
            for (uint32_t a = 0; a < nr; a++) {
                float *s = S + (size_t)a * nc;
                uint32_t i = r0 + a;
                if (J->bt) {
                    /* Add beta * b~ for this row's behaviour entries in the column block. */
                    uint32_t e = cursor[a], end = J->bt->row_ptr[i + 1];
                    for (; e < end && J->bt->col[e] < c0 + nc; e++) s[J->bt->col[e] - c0] += J->beta * J->bt->w[e];
                    cursor[a] = e;
                }
                if (i >= c0 && i < c0 + nc) s[i - c0] = 0; /* never one's own neighbour */
                for (uint32_t c = 0; c < nc; c++) topk_push(&rows[a], s[c], c0 + c);
            }
        }
        for (uint32_t a = 0; a < nr; a++) J->count[r0 + a] = rows[a].n;
        atomic_fetch_add(&J->done, 1);
    }
    free(S);
    free(cursor);
}

/* parallel_wait's poll: redraws the bar; 0 once every block is done or a worker failed. */
static int knn_busy(void *arg) {
    knn_job *J = arg;
    uint32_t nblocks = (J->n + ROW_BLOCK - 1) / ROW_BLOCK;
    cli_progress_update(&J->bar, atomic_load(&J->done));
    return atomic_load(&J->done) < nblocks && !atomic_load(&J->failed);
}

static int rows_to_csr(uint32_t n, uint32_t k, const float *bs, const uint32_t *bj, const uint32_t *count, csr *out) {
    uint64_t nnz = 0;
    for (uint32_t i = 0; i < n; i++) nnz += count[i];
    if (nnz > UINT32_MAX || csr_alloc(out, n, (uint32_t)nnz) != 0) return -1;
    uint32_t e = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t q = 0; q < count[i]; q++, e++) {
            out->col[e] = bj[(size_t)i * k + q];
            out->w[e] = bs[(size_t)i * k + q];
        }
        out->row_ptr[i + 1] = e;
    }
    return 0;
}

int knn_build(const float *x, uint32_t n, uint32_t width, const csr *bt, const knn_params *p, csr *out) {
    memset(out, 0, sizeof *out);
    knn_job J = {.x = x, .n = n, .width = width, .bt = bt, .beta = p->beta, .k = p->k ? p->k : 10};
    atomic_init(&J.next, 0);
    atomic_init(&J.done, 0);
    atomic_init(&J.failed, 0);
    uint32_t nthreads = (uint32_t)parallel_threads(p->threads);
    uint32_t nblocks = (n + ROW_BLOCK - 1) / ROW_BLOCK;
    if (nthreads > nblocks) nthreads = nblocks ? nblocks : 1;
#ifdef MDSREC_HAVE_OPENBLAS
    /* The threads here split the rows; OpenBLAS's own threads on top would oversubscribe. */
    openblas_set_num_threads(1);
#endif
    J.best_s = malloc((size_t)n * J.k * sizeof *J.best_s);
    J.best_j = malloc((size_t)n * J.k * sizeof *J.best_j);
    J.count = calloc(n ? n : 1, sizeof *J.count);
    parallel_group pool;
    int rc = -1;
    if (!J.best_s || !J.best_j || !J.count) goto oom;
    cli_progress_start(&J.bar, p->label ? p->label : "neighbours", nblocks);
    if (!parallel_start(&pool, (int)nthreads, knn_worker, &J)) {
        cli_progress_end(&J.bar);
        cli_error("cannot start a thread");
        goto done;
    }
    parallel_wait(&pool, knn_busy, &J);
    cli_progress_end(&J.bar);
    if (atomic_load(&J.failed)) goto oom;
    if (rows_to_csr(n, J.k, J.best_s, J.best_j, J.count, out) != 0) goto oom;
    rc = 0;
    goto done;
oom:
    cli_error("out of memory computing neighbours");
done:
    free(J.best_s);
    free(J.best_j);
    free(J.count);
    return rc;
}

int knn_from_sparse(const csr *scores, uint32_t k, csr *out) {
    memset(out, 0, sizeof *out);
    if (!k) k = 10;
    uint32_t n = scores->n_rows;
    float *bs = malloc((size_t)n * k * sizeof *bs);
    uint32_t *bj = malloc((size_t)n * k * sizeof *bj), *count = calloc(n ? n : 1, sizeof *count);
    int rc = -1;
    if (!bs || !bj || !count) goto done;
    for (uint32_t i = 0; i < n; i++) {
        topk_row r = {bs + (size_t)i * k, bj + (size_t)i * k, 0, k};
        for (uint32_t e = scores->row_ptr[i]; e < scores->row_ptr[i + 1]; e++)
            if (scores->col[e] != i) topk_push(&r, scores->w[e], scores->col[e]);
        count[i] = r.n;
    }
    rc = rows_to_csr(n, k, bs, bj, count, out);
done:
    if (rc != 0) cli_error("out of memory computing neighbours");
    free(bs);
    free(bj);
    free(count);
    return rc;
}
