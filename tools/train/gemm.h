/*
 * gemm.h - C = alpha op(A) op(B) + beta C (row-major), through OpenBLAS's sgemm where the
 * build found it, else a plain loop (correct, slow: tests only). Most of the trainer's time
 * goes here: scoring every position against every item, and its two gradients.
 */
#ifndef MDSREC_TRAIN_GEMM_H
#define MDSREC_TRAIN_GEMM_H

#include <stddef.h>

/* op(A) is (m, k), op(B) is (k, n), C is (m, n); ta/tb: 1 = transposed. lda/ldb/ldc are the
   row strides of A, B, C as stored. */
void gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
          const float *b, size_t ldb, float beta, float *c, size_t ldc);

/* Limits BLAS's own threads. The commands set 1: the trainer splits each sgemm over its
   own workers (BLAS's idle threads would otherwise spin beside them). */
void gemm_set_threads(int n);

#endif
