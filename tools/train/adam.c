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

int adam_late(adam *a, size_t lo, size_t hi, uint64_t t0) {
    if (a->n_late >= ADAM_MAX_LATE || lo >= hi || hi > a->n) return -1;
    a->late[a->n_late].lo = lo;
    a->late[a->n_late].hi = hi;
    a->late[a->n_late].t0 = t0;
    a->n_late++;
    return 0;
}

/* One stretch of the vector and the step's coefficients there (skip: not started yet). */
typedef struct {
    size_t lo, hi;
    float step, rc2, keep;
    int skip;
} adam_seg;

typedef struct {
    adam *a;
    float *p;
    const float *g;
    adam_seg seg[2 * ADAM_MAX_LATE + 1];
    size_t n_seg;
} adam_job;

static void adam_worker(void *ctx, int tid, int nt) {
    adam_job *j = ctx;
    adam *a = j->a;
    float b1 = a->beta1, b2 = a->beta2;
    float *p = j->p, *am = a->m, *av = a->v;
    const float *g = j->g;
    size_t lo, hi;
    parallel_range(a->n, tid, nt, &lo, &hi);
    for (size_t s = 0; s < j->n_seg; s++) {
        const adam_seg *sg = &j->seg[s];
        size_t s0 = sg->lo > lo ? sg->lo : lo, s1 = sg->hi < hi ? sg->hi : hi;
        if (s0 >= s1 || sg->skip) continue;
        float step = sg->step, rc2 = sg->rc2, keep = sg->keep;
        if (a->weight_decay > 0) /* decoupled: shrink before the Adam step, as AdamW */
            for (size_t i = s0; i < s1; i++) p[i] *= keep;
        for (size_t i = s0; i < s1; i++) {
            float m = am[i] = b1 * am[i] + (1.0f - b1) * g[i];
            float v = av[i] = b2 * av[i] + (1.0f - b2) * g[i] * g[i];
            p[i] -= step * m / (sqrtf(v) * rc2 + a->eps);
        }
    }
}

/* The coefficients of a range that has taken `steps` steps (0: not started). */
static adam_seg seg_for(const adam *a, size_t lo, size_t hi, uint64_t steps) {
    adam_seg s = {lo, hi, 0, 0, 1, steps == 0};
    if (steps) {
        float c1 = 1.0f - (float)pow(a->beta1, (double)steps), c2 = 1.0f - (float)pow(a->beta2, (double)steps);
        s.step = a->lr / c1;
        s.rc2 = 1.0f / sqrtf(c2);
        s.keep = 1.0f - a->lr * a->weight_decay;
    }
    return s;
}

void adam_step(adam *a, float *p, const float *g) {
    a->t++;
    adam_job j = {a, p, g, {{0}}, 0};
    /* the vector cut at the late ranges, in order (ranges do not overlap) */
    size_t at = 0;
    for (;;) {
        const uint32_t none = ADAM_MAX_LATE;
        uint32_t next = none;
        for (uint32_t r = 0; r < a->n_late; r++)
            if (a->late[r].lo >= at && (next == none || a->late[r].lo < a->late[next].lo)) next = r;
        size_t end = next == none ? a->n : a->late[next].lo;
        if (end > at) j.seg[j.n_seg++] = seg_for(a, at, end, a->t);
        if (next == none) break;
        uint64_t t0 = a->late[next].t0;
        j.seg[j.n_seg++] = seg_for(a, a->late[next].lo, a->late[next].hi, a->t > t0 ? a->t - t0 : 0);
        at = a->late[next].hi;
    }
    /* a large vector (an embedding table) in blocks, one per worker; a small one is not worth a thread */
    parallel_run(a->n >= ((size_t)1 << 16) ? a->threads : 1, adam_worker, &j);
}
