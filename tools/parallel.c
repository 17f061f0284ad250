/* parallel.c - the tool's thread pool over pthreads (parallel.h). */
#include "parallel.h"

#include <time.h>
#include <unistd.h>

static void *trampoline(void *p) {
    parallel_job *j = p;
    j->fn(j->ctx, j->tid, j->n);
    return NULL;
}


int parallel_threads(unsigned requested) {
    long n = requested ? (long)requested : sysconf(_SC_NPROCESSORS_ONLN);
    return n > PARALLEL_MAX_THREADS ? PARALLEL_MAX_THREADS : parallel_clamp((int)n);
}

void parallel_run(int n, parallel_fn fn, void *ctx) {
    n = parallel_clamp(n);
    if (n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_t th[PARALLEL_MAX_THREADS];
    parallel_job jobs[PARALLEL_MAX_THREADS];
    int started[PARALLEL_MAX_THREADS] = {0};
    for (int t = 1; t < n; t++) {
        jobs[t] = (parallel_job){fn, ctx, t, n};
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

int parallel_start(parallel_group *g, int n, parallel_fn fn, void *ctx) {
    n = parallel_clamp(n);
    g->started = 0;
    for (int t = 0; t < n; t++) {
        g->jobs[g->started] = (parallel_job){fn, ctx, t, n};
        if (pthread_create(&g->th[g->started], NULL, trampoline, &g->jobs[g->started]) != 0) break;
        g->started++;
    }
    return g->started;
}

void parallel_wait(parallel_group *g, int (*busy)(void *ctx), void *ctx) {
    long nap = 1000 * 1000;
    while (busy && busy(ctx)) {
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        if (nap < 50 * 1000 * 1000) nap *= 2;
    }
    for (int t = 0; t < g->started; t++) pthread_join(g->th[t], NULL);
    g->started = 0;
}
