/* evaluate.c - leave-one-out full ranking over a scorer (evaluate.h). */
#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"

typedef struct {
    const dataset *ds;
    const uint32_t *users;
    const uint32_t *const *hist;
    const uint32_t *len;
    size_t count;
    float *scores;
    int want[2];      /* the protocols asked for */
    eval_split split;
    metrics part[2][PARALLEL_MAX_THREADS];
    uint32_t *const *ranks;
    float history_weight;
} rank_ctx;

static void rank_worker(void *p, int tid, int nt) {
    rank_ctx *c = p;
    size_t lo, hi, N = c->ds->n_items;
    parallel_range(c->count, tid, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        uint32_t u = c->users[i];
        const uint32_t *s = ds_seq(c->ds, u);
        uint32_t target = ds_target(c->ds, u, c->split);
        float *sc = c->scores + i * N;
        for (int p = EVAL_UNMASKED; p <= EVAL_MASKED; p++) {
            if (!c->want[p]) continue;
            if (p == EVAL_MASKED) { /* after the unmasked rank, which read these scores */
                uint32_t clicks = 0;
                for (uint32_t t = 0; t < c->len[i]; t++)
                    if (s[t] != target) sc[s[t]] = -INFINITY;
                    else clicks++;
                if (clicks && c->history_weight != 0) sc[target] -= c->history_weight * (float)clicks;
            }
            uint32_t r = metrics_rank(sc, N, target);
            metrics_add(&c->part[p][tid], r);
            if (c->ranks && c->ranks[p]) c->ranks[p][u] = r;
        }
    }
}

static int run_eval(const dataset *ds, eval_split split, const eval_scorer *sc, const int want[2], int threads,
                    metrics sums[2], uint32_t *const ranks[2]) {
    memset(sums, 0, 2 * sizeof *sums);
    threads = parallel_clamp(threads);
    size_t B = sc->batch ? sc->batch : EVAL_BATCH, N = ds->n_items;
    float *scores = malloc(B * N * sizeof(float));
    const uint32_t **hist = malloc(B * sizeof *hist);
    uint32_t *len = malloc(B * sizeof *len), *users = malloc(B * sizeof *users);
    if (!scores || !hist || !len || !users) {
        free(scores);
        free(hist);
        free(len);
        free(users);
        return -1;
    }
    for (uint32_t u0 = 0; u0 < ds->n_users; u0 += (uint32_t)B) {
        size_t count = ds->n_users - u0 < B ? ds->n_users - u0 : B;
        for (size_t i = 0; i < count; i++) {
            uint32_t u = u0 + (uint32_t)i;
            users[i] = u;
            hist[i] = ds_seq(ds, u);
            len[i] = ds_history_len(ds, u, split);
        }
        sc->score(sc->ctx, hist, len, count, scores);
        rank_ctx rc;
        memset(&rc, 0, sizeof rc);
        rc.ds = ds; rc.users = users; rc.hist = hist; rc.len = len; rc.count = count;
        rc.scores = scores; rc.want[0] = want[0]; rc.want[1] = want[1]; rc.split = split; rc.ranks = ranks;
        rc.history_weight = sc->history_weight;
        parallel_run(threads, rank_worker, &rc);
        for (int p = 0; p < 2; p++)
            for (int t = 0; t < threads; t++) metrics_merge(&sums[p], &rc.part[p][t]);
    }
    free(scores);
    free(hist);
    free(len);
    free(users);
    return 0;
}

int evaluate_protocols(const dataset *ds, eval_split split, const eval_scorer *sc, int threads, metrics sums[2],
                       uint32_t *const ranks[2]) {
    const int both[2] = {1, 1};
    return run_eval(ds, split, sc, both, threads, sums, ranks);
}

int evaluate(const dataset *ds, eval_split split, const eval_scorer *sc, int mask_history, int threads,
             metrics *sums, uint32_t *ranks) {
    int p = mask_history ? EVAL_MASKED : EVAL_UNMASKED;
    int want[2] = {p == EVAL_UNMASKED, p == EVAL_MASKED};
    uint32_t *rk[2] = {NULL, NULL};
    rk[p] = ranks;
    metrics two[2];
    int rc = run_eval(ds, split, sc, want, threads, two, rk);
    *sums = two[p];
    return rc;
}
