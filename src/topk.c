/* topk.c - a bounded min-heap keeping the k best (score, index) pairs (see topk.h). */
#include "topk.h"

#include <math.h>

/* a ranks below b: lower score, or equal score and higher index. NaN is mapped to -inf
   before it gets here. */
static int worse(float sa, uint32_t ia, float sb, uint32_t ib) {
    return sa < sb || (sa == sb && ia > ib);
}

void topk_init(topk *t, uint32_t k, uint32_t *index, float *score) {
    t->cap = k;
    t->count = 0;
    t->index = index;
    t->score = score;
}

float topk_threshold(const topk *t) {
    return t->count < t->cap ? -INFINITY : t->score[0];
}

static void swap_at(topk *t, uint32_t a, uint32_t b) {
    float s = t->score[a];
    uint32_t i = t->index[a];
    t->score[a] = t->score[b];
    t->index[a] = t->index[b];
    t->score[b] = s;
    t->index[b] = i;
}

/* restore the heap below position i, within the first n entries (root = worst) */
static void sift_down(topk *t, uint32_t i, uint32_t n) {
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(t->score[l], t->index[l], t->score[m], t->index[m])) m = l;
        if (r < n && worse(t->score[r], t->index[r], t->score[m], t->index[m])) m = r;
        if (m == i) return;
        swap_at(t, i, m);
        i = m;
    }
}

void topk_push(topk *t, uint32_t index, float score) {
    if (t->cap == 0) return;
    if (isnan(score)) score = -INFINITY;
    if (t->count < t->cap) {
        uint32_t i = t->count++;
        t->score[i] = score;
        t->index[i] = index;
        while (i > 0) { /* sift up */
            uint32_t p = (i - 1) / 2;
            if (!worse(t->score[i], t->index[i], t->score[p], t->index[p])) break;
            swap_at(t, i, p);
            i = p;
        }
        return;
    }
    if (!worse(t->score[0], t->index[0], score, index)) return; /* not better than the worst */
    t->score[0] = score;
    t->index[0] = index;
    sift_down(t, 0, t->count);
}

void topk_finish(topk *t) {
    /* heap sort: repeatedly move the worst to the end, leaving the best first */
    for (uint32_t n = t->count; n > 1; n--) {
        swap_at(t, 0, n - 1);
        sift_down(t, 0, n - 1);
    }
}
