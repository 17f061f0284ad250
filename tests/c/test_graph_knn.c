/* test_graph_knn.c - the top-k neighbour search against a brute-force reference on random
   data (with zero rows, a behaviour term, ties, several row and column blocks), the same
   result for any thread count, the behaviour-only top-k, co-occurrence counting, the
   symmetric normalisation and the .csr file format. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "test_data_helpers.h"

#include "graph/cooccur.h"
#include "graph/csr.h"
#include "graph/knn.h"

static uint64_t rng = 88172645463325252ULL;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void random_rows(float *x, uint32_t n, uint32_t w, uint32_t zero_every) {
    for (uint32_t i = 0; i < n; i++) {
        double ss = 0;
        for (uint32_t j = 0; j < w; j++) {
            x[i * w + j] = (float)(urand() * 2 - 1);
            ss += (double)x[i * w + j] * x[i * w + j];
        }
        for (uint32_t j = 0; j < w; j++) x[i * w + j] = zero_every && i % zero_every == 3 ? 0 : (float)(x[i * w + j] / sqrt(ss));
    }
}

/* A random symmetric sparse matrix with rows sorted by column. */
static void random_behaviour(csr *b, uint32_t n, uint32_t per_row) {
    uint64_t *keys = malloc((size_t)n * per_row * 2 * sizeof *keys);
    float *wv = malloc((size_t)n * per_row * 2 * sizeof *wv);
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t q = 0; q < per_row; q++) {
            uint32_t j = (uint32_t)(urand() * n);
            if (j == i) continue;
            keys[k] = (uint64_t)i << 32 | j, wv[k++] = (float)urand();
        }
    /* symmetric: use w(min, max) for both directions; dense scratch is fine at test sizes */
    float *dense = calloc((size_t)n * n, sizeof *dense);
    for (size_t a = 0; a < k; a++) {
        uint32_t i = (uint32_t)(keys[a] >> 32), j = (uint32_t)keys[a];
        dense[(size_t)i * n + j] = dense[(size_t)j * n + i] = wv[a];
    }
    uint32_t nnz = 0;
    for (size_t a = 0; a < (size_t)n * n; a++) nnz += dense[a] != 0;
    csr_alloc(b, n, nnz);
    uint32_t e = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < n; j++)
            if (dense[(size_t)i * n + j] != 0) b->col[e] = j, b->w[e++] = dense[(size_t)i * n + j];
        b->row_ptr[i + 1] = e;
    }
    free(dense);
    free(keys);
    free(wv);
}

/* Brute force in double: score of every j != i, keep > 0, order by score then index. */
static void reference_row(const float *x, uint32_t n, uint32_t w, const csr *bt, float beta, uint32_t i,
                          double *score, uint32_t *order, uint32_t *count) {
    for (uint32_t j = 0; j < n; j++) {
        double s = 0;
        for (uint32_t d = 0; d < w; d++) s += (double)x[i * w + d] * x[j * w + d];
        score[j] = s;
    }
    if (bt)
        for (uint32_t e = bt->row_ptr[i]; e < bt->row_ptr[i + 1]; e++) score[bt->col[e]] += beta * bt->w[e];
    uint32_t c = 0;
    for (uint32_t j = 0; j < n; j++)
        if (j != i && score[j] > 0) order[c++] = j;
    /* insertion sort is fine for a test */
    for (uint32_t a = 1; a < c; a++) {
        uint32_t v = order[a], b = a;
        while (b > 0 && (score[order[b - 1]] < score[v] || (score[order[b - 1]] == score[v] && order[b - 1] > v)))
            order[b] = order[b - 1], b--;
        order[b] = v;
    }
    *count = c;
}

static void compare(const float *x, uint32_t n, uint32_t w, const csr *bt, float beta, uint32_t k, const csr *got,
                    uint32_t step) {
    double *score = malloc(n * sizeof *score);
    uint32_t *order = malloc(n * sizeof *order);
    int bad = 0;
    for (uint32_t i = 0; i < n && bad < 5; i += step) {
        uint32_t c;
        reference_row(x, n, w, bt, beta, i, score, order, &c);
        uint32_t want = c < k ? c : k, have = got->row_ptr[i + 1] - got->row_ptr[i];
        if (want != have) {
            /* a reference score within float rounding of 0 may fall either way */
            if (!(want > have && fabs(score[order[have]]) < 1e-5) && !(have > want)) {
                CHECK_MSG(0, "row %u: %u neighbours, expected %u", i, have, want);
                bad++;
                continue;
            }
        }
        for (uint32_t q = 0; q < have && q < want; q++) {
            uint32_t j = got->col[got->row_ptr[i] + q];
            float wgot = got->w[got->row_ptr[i] + q];
            /* the same neighbour, or a near-tie in the reference */
            if (j != order[q] && fabs(score[j] - score[order[q]]) > 1e-5) {
                CHECK_MSG(0, "row %u rank %u: got %u (%.7f), expected %u (%.7f)", i, q, j, score[j], order[q], score[order[q]]);
                bad++;
                break;
            }
            if (fabs(wgot - score[order[q]]) > 1e-5) {
                CHECK_MSG(0, "row %u rank %u: weight %.7f, expected %.7f", i, q, wgot, score[order[q]]);
                bad++;
                break;
            }
        }
        if (!bad) check_pass_++;
    }
    free(score);
    free(order);
}

static int csr_equal(const csr *a, const csr *b) {
    return a->n_rows == b->n_rows && a->nnz == b->nnz &&
           !memcmp(a->row_ptr, b->row_ptr, (a->n_rows + 1) * sizeof *a->row_ptr) &&
           !memcmp(a->col, b->col, a->nnz * sizeof *a->col) && !memcmp(a->w, b->w, a->nnz * sizeof *a->w);
}

static void test_dense(void) {
    enum { N = 300, W = 12 };
    float *x = malloc(N * W * sizeof *x);
    random_rows(x, N, W, 17);
    csr bt;
    random_behaviour(&bt, N, 3);
    csr g1, g4, plain;
    knn_params p1 = {7, 0.7f, 1, "t"}, p4 = {7, 0.7f, 4, "t"};
    CHECK(knn_build(x, N, W, &bt, &p1, &g1) == 0);
    CHECK(knn_build(x, N, W, &bt, &p4, &g4) == 0);
    CHECK(csr_equal(&g1, &g4)); /* thread count does not change a bit */
    compare(x, N, W, &bt, 0.7f, 7, &g1, 1);
    CHECK(knn_build(x, N, W, NULL, &p4, &plain) == 0);
    compare(x, N, W, NULL, 0, 7, &plain, 1);
    /* a zero row (item 3) has only behaviour neighbours */
    for (uint32_t e = g1.row_ptr[3]; e < g1.row_ptr[4]; e++) {
        int in_bt = 0;
        for (uint32_t f = bt.row_ptr[3]; f < bt.row_ptr[4]; f++) in_bt |= bt.col[f] == g1.col[e];
        CHECK(in_bt);
    }
    CHECK(plain.row_ptr[4] == plain.row_ptr[3]);
    /* rows strongest first */
    for (uint32_t i = 0; i < N; i++)
        for (uint32_t e = g1.row_ptr[i] + 1; e < g1.row_ptr[i + 1]; e++) CHECK(g1.w[e] <= g1.w[e - 1]);
    csr_free(&g1);
    csr_free(&g4);
    csr_free(&plain);
    csr_free(&bt);
    free(x);

    /* More columns than one column block (4096), duplicated rows for exact ties. */
    enum { N2 = 4300, W2 = 6 };
    float *y = malloc(N2 * W2 * sizeof *y);
    random_rows(y, N2, W2, 0);
    for (uint32_t i = 0; i < 40; i++) memcpy(y + (4200 + i) * W2, y + i * W2, W2 * sizeof *y);
    knn_params p = {5, 0, 3, "t"};
    csr g;
    CHECK(knn_build(y, N2, W2, NULL, &p, &g) == 0);
    compare(y, N2, W2, NULL, 0, 5, &g, 37);
    /* item 0's copy (4200) is its best neighbour */
    CHECK(g.col[g.row_ptr[0]] == 4200 && g.col[g.row_ptr[4200]] == 0);
    csr_free(&g);
    free(y);
}

static void test_sparse_topk(void) {
    csr bt, g;
    random_behaviour(&bt, 50, 6);
    CHECK(knn_from_sparse(&bt, 4, &g) == 0);
    float zero[50];
    memset(zero, 0, sizeof zero);
    compare(zero, 50, 1, &bt, 1.0f, 4, &g, 1);
    csr_free(&g);
    csr_free(&bt);
}

static void test_cooccur(void) {
    /* users: [0 1 2 3 4] -> training [0 1 2]; [2 0 2 1 4 0] -> training [2 0 2 1]. window 2 */
    uint32_t seq[] = {0, 1, 2, 3, 4, 2, 0, 2, 1, 4, 0};
    uint64_t off[] = {0, 5, 11};
    dataset s = {.n_users = 2, .n_items = 5, .off = off, .seq = seq};
    csr b;
    CHECK(cooccur_build(&s, 2, &b) == 0);
    /* counts: cnt0 = 2, cnt1 = 2, cnt2 = 3; pairs within 2:
       user 1: (0,1) (0,2) (1,2); user 2: (2,0) (2,2 skipped) (0,2) (0,1) (2,1)
       b(0,1) = 2, b(0,2) = 3, b(1,2) = 2 */
    CHECK(b.n_rows == 5 && b.nnz == 6);
    float w01 = 0, w02 = 0, w12 = 0, w10 = 0;
    for (uint32_t i = 0; i < 5; i++)
        for (uint32_t e = b.row_ptr[i]; e < b.row_ptr[i + 1]; e++) {
            if (i == 0 && b.col[e] == 1) w01 = b.w[e];
            if (i == 0 && b.col[e] == 2) w02 = b.w[e];
            if (i == 1 && b.col[e] == 2) w12 = b.w[e];
            if (i == 1 && b.col[e] == 0) w10 = b.w[e];
            if (e > b.row_ptr[i]) CHECK(b.col[e] > b.col[e - 1]);
        }
    CHECK_CLOSE(w01, 2.0 / sqrt(2.0 * 2.0), 1e-6);
    CHECK_CLOSE(w02, 3.0 / sqrt(2.0 * 3.0), 1e-6);
    CHECK_CLOSE(w12, 2.0 / sqrt(2.0 * 3.0), 1e-6);
    CHECK(w10 == w01);
    CHECK(b.row_ptr[4] == b.row_ptr[3] && b.row_ptr[5] == b.row_ptr[4]); /* 3, 4: only in targets */
    csr_free(&b);
}

static void test_normalise_and_file(void) {
    csr bt, knn, adj;
    random_behaviour(&bt, 40, 5);
    CHECK(knn_from_sparse(&bt, 3, &knn) == 0);
    CHECK(csr_symmetric_normalise(&knn, &adj) == 0);
    /* reference: dense (K + K^T) / 2, degrees, D^-1/2 A D^-1/2 */
    double A[40][40] = {{0}}, d[40] = {0};
    for (uint32_t i = 0; i < 40; i++)
        for (uint32_t e = knn.row_ptr[i]; e < knn.row_ptr[i + 1]; e++) {
            A[i][knn.col[e]] += knn.w[e] / 2;
            A[knn.col[e]][i] += knn.w[e] / 2;
        }
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < 40; j++) d[i] += A[i][j];
    uint32_t nnz = 0;
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < 40; j++) nnz += A[i][j] != 0;
    CHECK(adj.nnz == nnz);
    for (uint32_t i = 0; i < 40; i++)
        for (uint32_t e = adj.row_ptr[i]; e < adj.row_ptr[i + 1]; e++) {
            uint32_t j = adj.col[e];
            CHECK_CLOSE(adj.w[e], A[i][j] / sqrt(d[i] * d[j]), 1e-5);
            if (e > adj.row_ptr[i]) CHECK(adj.col[e] > adj.col[e - 1]);
        }
    /* file round trip and exact layout */
    char p[1200];
    snprintf(p, sizeof p, "%s/g.csr", td_dir("graph_knn"));
    CHECK(csr_write(p, &adj) == 0);
    size_t n;
    uint8_t *raw = td_read(p, &n);
    CHECK(raw && n == 16 + 4 * (40 + 1) + 8 * (size_t)adj.nnz);
    CHECK(raw && !memcmp(raw, "DCSR", 4));
    uint32_t hdr[4];
    if (raw) memcpy(hdr, raw, 16);
    CHECK(raw && hdr[1] == 40 && hdr[2] == adj.nnz && hdr[3] == 0);
    free(raw);
    csr back;
    CHECK(csr_read(p, &back) == 0 && csr_equal(&back, &adj));
    csr_free(&back);
    FILE *f = fopen(p, "r+b");
    fseek(f, 16 + 4 * 41, SEEK_SET);
    uint32_t badcol = 99;
    fwrite(&badcol, 4, 1, f);
    fclose(f);
    CHECK(csr_read(p, &back) != 0);
    csr_free(&adj);
    csr_free(&knn);
    csr_free(&bt);
}

int main(void) {
    test_dense();
    test_sparse_topk();
    test_cooccur();
    test_normalise_and_file();
    return check_done("test_graph_knn");
}
