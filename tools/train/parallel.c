/* parallel.c - fork-join over pthreads (parallel.h). */
#include "parallel.h"

#include <pthread.h>

#define PARALLEL_MAX 64

typedef struct {
    parallel_fn fn;
    void *ctx;
    int tid, n;
} job;

static void *trampoline(void *p) {
    job *j = p;
    j->fn(j->ctx, j->tid, j->n);
    return NULL;
}

void parallel_run(int n, parallel_fn fn, void *ctx) {
    if (n > PARALLEL_MAX) n = PARALLEL_MAX;
    if (n <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_t th[PARALLEL_MAX];
    job jobs[PARALLEL_MAX];
    int started[PARALLEL_MAX] = {0};
    for (int t = 1; t < n; t++) {
        jobs[t] = (job){fn, ctx, t, n};
        started[t] = pthread_create(&th[t], NULL, trampoline, &jobs[t]) == 0;
    }
    fn(ctx, 0, n);
    for (int t = 1; t < n; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            fn(ctx, t, n); /* no thread: do its share here, same split */
    }
}
