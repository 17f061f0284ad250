/*
 * parallel.h - the tool's one thread pool (pthreads), shared by features/, graph/, eval/ and
 * train/, and its one thread cap.
 *
 * Two shapes of work:
 *   - parallel_run: fork-join with a fixed split. Work is divided by the callee from
 *     (tid, n), so which thread does what is fixed, and so is every reduction order: one
 *     thread count and one seed give one result (the trainer and the evaluator).
 *   - parallel_start + parallel_wait: workers that take items from a shared counter while the
 *     calling thread draws a progress bar (image decoding, kNN blocks). Their results must
 *     not depend on which worker took which item.
 */
#ifndef MDSREC_PARALLEL_H
#define MDSREC_PARALLEL_H

#include <pthread.h>
#include <stddef.h>

/* The most threads any command runs at once; a larger request is lowered to this. Per-thread
   state (gradients, scorer states) is sized by it. */
#define PARALLEL_MAX_THREADS 64

typedef void (*parallel_fn)(void *ctx, int tid, int n);

/* The thread count a command runs with: `requested`, or every online CPU when it is 0,
   clamped to 1..PARALLEL_MAX_THREADS. */
int parallel_threads(unsigned requested);

/* n clamped to 1..PARALLEL_MAX_THREADS (a count already chosen, where 0 means one). */
static inline int parallel_clamp(int n) { return n < 1 ? 1 : n > PARALLEL_MAX_THREADS ? PARALLEL_MAX_THREADS : n; }

/* Calls fn(ctx, t, n) for t = 0..n-1 (n clamped to 1..PARALLEL_MAX_THREADS), t = 0 on the
   calling thread; returns when all are done. If a thread cannot be created its share runs
   on the calling thread afterwards, with the same split. */
void parallel_run(int n, parallel_fn fn, void *ctx);

/* The range [*lo, *hi) of count items that thread tid of n handles (contiguous blocks). */
static inline void parallel_range(size_t count, int tid, int n, size_t *lo, size_t *hi) {
    *lo = count * (size_t)tid / (size_t)n;
    *hi = count * (size_t)(tid + 1) / (size_t)n;
}

/* One thread's call: fn(ctx, tid, n). */
typedef struct {
    parallel_fn fn;
    void *ctx;
    int tid, n;
} parallel_job;

/* Workers started in the background (parallel_start), joined by parallel_wait. The jobs
   live here because the threads outlive parallel_start's frame: keep g alive until
   parallel_wait returns. */
typedef struct {
    pthread_t th[PARALLEL_MAX_THREADS];
    parallel_job jobs[PARALLEL_MAX_THREADS];
    int started;
} parallel_group;

/* Starts up to n (clamped to 1..PARALLEL_MAX_THREADS) threads, each running fn(ctx, t, n),
   and returns how many started: 0 when none could be (nothing to wait for then). A thread
   that fails to start is not made up for, so fn must take its work from a shared queue,
   not from t. */
int parallel_start(parallel_group *g, int n, parallel_fn fn, void *ctx);

/* While busy(ctx) returns nonzero, naps (1 ms at first, doubling to at most 50 ms, so small
   jobs return at once) and calls it again: busy is where the caller redraws its progress.
   Then joins every started thread. busy may be NULL (join at once). */
void parallel_wait(parallel_group *g, int (*busy)(void *ctx), void *ctx);

#endif
