/* id_map.c - ridge regression from modality rows to id rows (id_map.h). */
#include "export/id_map.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/gemm.h"

/* Solves G x = r for the symmetric positive definite G (p x p, overwritten by its Cholesky
   factor) and q right-hand sides r (p x q, overwritten by x). -1 if G is not positive definite. */
static int cholesky_solve(double *G, double *r, size_t p, size_t q) {
    for (size_t j = 0; j < p; j++) {
        double s = G[j * p + j];
        for (size_t k = 0; k < j; k++) s -= G[j * p + k] * G[j * p + k];
        if (!(s > 0)) return -1;
        G[j * p + j] = sqrt(s);
        for (size_t i = j + 1; i < p; i++) {
            double t = G[i * p + j];
            for (size_t k = 0; k < j; k++) t -= G[i * p + k] * G[j * p + k];
            G[i * p + j] = t / G[j * p + j];
        }
    }
    for (size_t c = 0; c < q; c++) { /* L y = r, then L^T x = y */
        for (size_t i = 0; i < p; i++) {
            double t = r[i * q + c];
            for (size_t k = 0; k < i; k++) t -= G[i * p + k] * r[k * q + c];
            r[i * q + c] = t / G[i * p + i];
        }
        for (size_t i = p; i-- > 0;) {
            double t = r[i * q + c];
            for (size_t k = i + 1; k < p; k++) t -= G[k * p + i] * r[k * q + c];
            r[i * q + c] = t / G[i * p + i];
        }
    }
    return 0;
}

/* Every stride-th item is fit on: 129 x 64 coefficients are well determined by 20,000 items,
   and a 100k-item bundle then costs a fifth of the time. */
#define FIT_ITEMS 20000

/* Whether item i is read (every stride-th) and, if so, for validation (every tenth of those). */
static int picked(size_t i, size_t stride, int val) { return i % stride == 0 && ((i / stride) % 10 == 9) == val; }

/* Gram matrices of the picked rows: G = A^T A (p x p), R = A^T Y (p x d), A = [X_1 .. X_M 1]. */
static int grams(const float *const *X, uint32_t n_in, size_t N, uint32_t d, const float *Y, int val, double *G,
                 double *R) {
    size_t p = (size_t)n_in * d + 1, rows = 0, stride = (N + FIT_ITEMS - 1) / FIT_ITEMS;
    if (!stride) stride = 1;
    for (size_t i = 0; i < N; i++) rows += picked(i, stride, val);
    float *A = malloc((rows * p + 1) * sizeof(float)), *Yr = malloc((rows * d + 1) * sizeof(float));
    float *Gf = malloc(p * p * sizeof(float)), *Rf = malloc(p * d * sizeof(float));
    int rc = -1;
    if (!A || !Yr || !Gf || !Rf) goto done;
    size_t r = 0;
    for (size_t i = 0; i < N; i++) {
        if (!picked(i, stride, val)) continue;
        for (uint32_t m = 0; m < n_in; m++) memcpy(A + r * p + (size_t)m * d, X[m] + i * d, d * sizeof(float));
        A[r * p + p - 1] = 1.0f;
        memcpy(Yr + r * d, Y + i * d, d * sizeof(float));
        r++;
    }
    gemm(1, 0, p, p, rows, 1.0f, A, p, A, p, 0.0f, Gf, p);
    gemm(1, 0, p, d, rows, 1.0f, A, p, Yr, d, 0.0f, Rf, d);
    for (size_t i = 0; i < p * p; i++) G[i] = Gf[i];
    for (size_t i = 0; i < p * d; i++) R[i] = Rf[i];
    rc = 0;
done:
    free(A);
    free(Yr);
    free(Gf);
    free(Rf);
    return rc;
}

/* B = (G + lambda I') \ R, I' without the intercept; the mean row when G + lambda I' is singular
   (no penalty, degenerate rows). */
static void solve(const double *G, const double *R, size_t p, uint32_t d, double lambda, double n_rows, double *W,
                  double *B) {
    memcpy(W, G, p * p * sizeof(double));
    for (size_t j = 0; j + 1 < p; j++) W[j * p + j] += lambda;
    memcpy(B, R, p * d * sizeof(double));
    if (cholesky_solve(W, B, p, d)) {
        memset(B, 0, p * d * sizeof(double));
        for (size_t j = 0; j < d; j++) B[(p - 1) * d + j] = n_rows > 0 ? R[(p - 1) * d + j] / n_rows : 0;
    }
}

int id_map_fit(id_map *map, const float *const *X, uint32_t n_in, size_t N, uint32_t d, const float *Y, double ridge) {
    size_t p = (size_t)n_in * d + 1;
    memset(map, 0, sizeof *map);
    double *G = malloc(p * p * sizeof(double)), *R = malloc(p * d * sizeof(double));
    double *Gv = malloc(p * p * sizeof(double)), *Rv = malloc(p * d * sizeof(double));
    double *W = malloc(p * p * sizeof(double)), *B = malloc(p * d * sizeof(double));
    int rc = -1;
    if (!G || !R || !Gv || !Rv || !W || !B) goto done;
    if (grams(X, n_in, N, d, Y, 0, G, R) || grams(X, n_in, N, d, Y, 1, Gv, Rv)) goto done;
    double tr = 0; /* the penalty is relative to the inputs' mean square (scale-free) */
    for (size_t j = 0; j + 1 < p; j++) tr += G[j * p + j] + Gv[j * p + j];
    double unit = p > 1 ? tr / (double)(p - 1) : 0, n_fit = G[p * p - 1], n_val = Gv[p * p - 1];
    if (ridge < 0) {
        /* each candidate fit on 9 items in 10, judged by its squared error on the tenth:
           |A_v B - Y_v|^2 = tr(B^T G_v B) - 2 tr(B^T R_v) + const */
        static const double grid[] = {1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
        double best = INFINITY;
        ridge = 1e-2;
        for (size_t g = 0; n_val > 0 && g < sizeof grid / sizeof grid[0]; g++) {
            solve(G, R, p, d, grid[g] * unit, n_fit, W, B);
            double err = 0;
            for (size_t j = 0; j < d; j++)
                for (size_t a = 0; a < p; a++) {
                    double gb = 0;
                    for (size_t c = 0; c < p; c++) gb += Gv[a * p + c] * B[c * d + j];
                    err += B[a * d + j] * (gb - 2 * Rv[a * d + j]);
                }
            if (err < best) best = err, ridge = grid[g];
        }
    }
    for (size_t i = 0; i < p * p; i++) G[i] += Gv[i];
    for (size_t i = 0; i < p * d; i++) R[i] += Rv[i];
    solve(G, R, p, d, ridge * unit + 1e-12, n_fit + n_val, W, B);
    map->n_in = n_in;
    map->d = d;
    map->B = B;
    map->ridge = ridge;
    B = NULL;
    rc = 0;
done:
    free(G);
    free(R);
    free(Gv);
    free(Rv);
    free(W);
    free(B);
    return rc;
}

void id_map_apply(const id_map *map, const float *const *X, size_t n, float *out) {
    size_t d = map->d, p = (size_t)map->n_in * d + 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double s = map->B[(p - 1) * d + j];
            for (uint32_t m = 0; m < map->n_in; m++)
                for (size_t k = 0; k < d; k++) s += (double)X[m][i * d + k] * map->B[((size_t)m * d + k) * d + j];
            out[i * d + j] = (float)s;
        }
}

void id_map_free(id_map *map) {
    free(map->B);
    map->B = NULL;
}
