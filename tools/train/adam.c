/* adam.c - Adam (adam.h). */
#include "adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"

int adam_init(adam *a, size_t n, float lr) {
    memset(a, 0, sizeof *a);
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    a->n = n;
    a->threads = 1;
    a->m = calloc(n ? n : 1, sizeof(float));
    a->v = calloc(n ? n : 1, sizeof(float));
    if (!a->m || !a->v) {
        adam_free(a);
        return -1;
    }
    return 0;
}

void adam_free(adam *a) {
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

typedef struct {
    adam *a;
    float *p;
    const float *g;
    float step, rc2, keep;
} adam_job;

static void adam_worker(void *ctx, int tid, int nt) {
    adam_job *j = ctx;
    adam *a = j->a;
    float b1 = a->beta1, b2 = a->beta2, step = j->step, rc2 = j->rc2, keep = j->keep;
    float *p = j->p, *am = a->m, *av = a->v;
    const float *g = j->g;
    size_t lo, hi;
    parallel_range(a->n, tid, nt, &lo, &hi);
    if (a->weight_decay > 0) /* decoupled: shrink before the Adam step, as AdamW */
        for (size_t i = lo; i < hi; i++) p[i] *= keep;
    for (size_t i = lo; i < hi; i++) {
        float m = am[i] = b1 * am[i] + (1.0f - b1) * g[i];
        float v = av[i] = b2 * av[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= step * m / (sqrtf(v) * rc2 + a->eps);
    }
}

void adam_step(adam *a, float *p, const float *g) {
    a->t++;
    float c1 = 1.0f - (float)pow(a->beta1, (double)a->t), c2 = 1.0f - (float)pow(a->beta2, (double)a->t);
    adam_job j = {a, p, g, a->lr / c1, 1.0f / sqrtf(c2), 1.0f - a->lr * a->weight_decay};
    /* a large vector (an embedding table) in blocks, one per worker; a small one is not worth a thread */
    parallel_run(a->n >= ((size_t)1 << 16) ? a->threads : 1, adam_worker, &j);
}
