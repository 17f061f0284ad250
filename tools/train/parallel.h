/*
 * parallel.h - run one function on n threads (pthreads) and wait for all: the trainer's only
 * form of parallelism. Work is split by the callee from (tid, n), so which thread does what
 * is fixed, and so is every reduction order: one thread count and one seed give one result.
 */
#ifndef MDSREC_TRAIN_PARALLEL_H
#define MDSREC_TRAIN_PARALLEL_H

#include <stddef.h>

typedef void (*parallel_fn)(void *ctx, int tid, int n);

/* Calls fn(ctx, t, n) for t = 0..n-1, t = 0 on the calling thread; returns when all are done.
   Falls back to running them one after the other if a thread cannot be created. */
void parallel_run(int n, parallel_fn fn, void *ctx);

/* The range [*lo, *hi) of count items that thread tid of n handles (contiguous blocks). */
static inline void parallel_range(size_t count, int tid, int n, size_t *lo, size_t *hi) {
    *lo = count * (size_t)tid / (size_t)n;
    *hi = count * (size_t)(tid + 1) / (size_t)n;
}

#endif
