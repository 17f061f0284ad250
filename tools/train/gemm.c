/* gemm.c - sgemm through OpenBLAS, or a reference loop (gemm.h). */
#include "gemm.h"

#ifdef MDSREC_HAVE_OPENBLAS
#include <cblas.h>

void gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
          const float *b, size_t ldb, float beta, float *c, size_t ldc) {
    if (!m || !n) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m,
                (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void gemm_set_threads(int n) { openblas_set_num_threads(n); }

#else

void gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
          const float *b, size_t ldb, float beta, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float s = 0;
            for (size_t p = 0; p < k; p++) {
                float x = ta ? a[p * lda + i] : a[i * lda + p];
                float y = tb ? b[j * ldb + p] : b[p * ldb + j];
                s += x * y;
            }
            c[i * ldc + j] = alpha * s + (beta == 0.0f ? 0.0f : beta * c[i * ldc + j]);
        }
}

void gemm_set_threads(int n) { (void)n; }

#endif
