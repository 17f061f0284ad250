/* test_topk.c - the top-k selector against sorting: ties (lower index first), k larger
   than the stream, k of 1, NaN, any arrival order. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "src/topk.h"

typedef struct {
    float s;
    uint32_t i;
} pair;

static int better_first(const void *a, const void *b) {
    const pair *x = a, *y = b;
    float xs = isnan(x->s) ? -INFINITY : x->s, ys = isnan(y->s) ? -INFINITY : y->s;
    if (xs != ys) return xs > ys ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static uint64_t rng = 99;
static uint32_t next(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

static void run_case(uint32_t n, uint32_t k, int levels, int shuffled) {
    pair *p = malloc(n * sizeof *p);
    for (uint32_t i = 0; i < n; i++) {
        p[i].i = i;
        /* few distinct levels make many ties */
        p[i].s = levels ? (float)(next() % (uint32_t)levels) : (float)next() / 4294967296.0f;
        if (i % 97 == 13) p[i].s = NAN;
    }
    if (shuffled)
        for (uint32_t i = n; i > 1; i--) {
            uint32_t j = next() % i;
            pair t = p[i - 1];
            p[i - 1] = p[j];
            p[j] = t;
        }
    uint32_t cap = k < n ? k : n;
    uint32_t *idx = malloc((cap + 1) * sizeof(uint32_t));
    float *sc = malloc((cap + 1) * sizeof(float));
    topk t;
    topk_init(&t, k, idx, sc);
    for (uint32_t i = 0; i < n; i++) topk_push(&t, p[i].i, p[i].s);
    topk_finish(&t);
    qsort(p, n, sizeof *p, better_first);
    CHECK(t.count == cap);
    int ok = 1;
    for (uint32_t r = 0; r < t.count && r < cap; r++)
        if (idx[r] != p[r].i) ok = 0;
    CHECK_MSG(ok, "n=%u k=%u levels=%d shuffled=%d", n, k, levels, shuffled);
    free(p), free(idx), free(sc);
}

int main(void) {
    for (int shuffled = 0; shuffled < 2; shuffled++)
        for (int levels = 0; levels <= 5; levels += 5) {
            run_case(1, 1, levels, shuffled);
            run_case(10, 1, levels, shuffled);
            run_case(10, 10, levels, shuffled);
            run_case(10, 50, levels, shuffled); /* k larger than the stream */
            run_case(1000, 7, levels, shuffled);
            run_case(5000, 100, levels, shuffled);
        }
    /* threshold: -inf until full, then the worst held score */
    uint32_t idx[2];
    float sc[2];
    topk t;
    topk_init(&t, 2, idx, sc);
    CHECK(isinf(topk_threshold(&t)) && topk_threshold(&t) < 0);
    topk_push(&t, 0, 0.5f);
    topk_push(&t, 1, 0.7f);
    CHECK(topk_threshold(&t) == 0.5f);
    topk_push(&t, 2, 0.5f); /* equal score, higher index: stays out */
    topk_finish(&t);
    CHECK(idx[0] == 1 && idx[1] == 0);
    /* k of 0 keeps nothing */
    topk_init(&t, 0, idx, sc);
    topk_push(&t, 0, 1.0f);
    CHECK(t.count == 0);
    return check_done("test_topk");
}
