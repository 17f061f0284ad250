/* coclick.c - the co-click term (coclick.h). */
#include "eval/coclick.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

void coclick_add(const csr *g, const coclick_params *p, const uint32_t *hist, uint32_t len, float *scores) {
    if (!(p->beta > 0) || !len) return;
    uint32_t t0 = len > p->max_hist ? len - p->max_hist : 0;
    /* newest first, so the weight is a running product and stops at 0 (decay 0: the last click) */
    float f = p->beta;
    for (uint32_t t = len; t-- > t0 && f > 0; f *= p->decay) {
        uint32_t h = hist[t];
        if (h >= g->n_rows) continue;
        for (uint32_t e = g->row_ptr[h]; e < g->row_ptr[h + 1]; e++) scores[g->col[e]] += f * g->w[e];
    }
}

void repeat_add(const coclick_params *p, const uint32_t *hist, uint32_t len, size_t n_items, float *scores) {
    if (p->repeat == 0) return;
    for (uint32_t t = 0; t < len; t++)
        if (hist[t] < n_items) scores[hist[t]] += p->repeat;
}

static void coclick_score(void *ctx, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    coclick_scorer *c = ctx;
    c->inner.score(c->inner.ctx, hist, len, count, scores);
    size_t N = c->n_items;
    for (size_t i = 0; i < count; i++) {
        if (c->g) coclick_add(c->g, &c->p, hist[i], len[i], scores + i * N);
        repeat_add(&c->p, hist[i], len[i], N, scores + i * N);
    }
}

void coclick_scorer_init(coclick_scorer *c, const eval_scorer *inner, const csr *g, size_t n_items,
                         const coclick_params *p, eval_scorer *out) {
    c->inner = *inner;
    c->g = g;
    c->n_items = n_items;
    c->p = *p;
    out->ctx = c;
    out->score = coclick_score;
    out->batch = inner->batch;
    out->history_weight = inner->history_weight + p->repeat;
}

/* Validation NDCG@10 of inner plus the terms of p, the mean of both protocols; -1 on out of memory. */
static double tune_point(const dataset *ds, const eval_scorer *inner, const csr *g, const coclick_params *p,
                         int threads) {
    coclick_scorer cs;
    eval_scorer sc;
    coclick_scorer_init(&cs, inner, g, ds->n_items, p, &sc);
    metrics sums[2];
    uint32_t *const no_ranks[2] = {NULL, NULL};
    if (evaluate_protocols(ds, EVAL_VALID, &sc, threads, sums, no_ranks)) return -1;
    /* both protocols count: the browser leaves the history out (masked), MODEL.md 6 and a
       store that sells the same items again rank it in (unmasked) */
    return (metrics_mean(&sums[EVAL_UNMASKED]).ndcg[1] + metrics_mean(&sums[EVAL_MASKED]).ndcg[1]) / 2;
}

/* Walks grid[0..n) (grid[0] the current value, the others moving away from it) for *field of
   *p, keeping the best in *p and *best (which holds grid[0]'s figure on entry). Stops two grid
   steps past the peak: a larger weight only leans further on its term. 0, or -1. */
static int tune_walk(const dataset *ds, const eval_scorer *inner, const csr *g, coclick_params *p, float *field,
                     const float *grid, size_t n, int threads, double *best) {
    float keep = *field;
    size_t best_k = 0;
    for (size_t k = 1; k < n; k++) {
        *field = grid[k];
        double v = tune_point(ds, inner, g, p, threads);
        if (v < 0) return -1;
        if (v > *best) *best = v, best_k = k;
        else if (k >= best_k + 2) break;
    }
    *field = best_k ? grid[best_k] : keep;
    return 0;
}

int coclick_tune(const dataset *ds, const eval_scorer *inner, const csr *g, uint32_t max_hist, int tune_repeat,
                 int threads, coclick_params *out, double *ndcg0, double *ndcg) {
    static const float betas[] = {0.0f, 0.5f, 1.0f, 2.0f, 4.0f, 8.0f, 16.0f, 32.0f, 64.0f};
    static const float down[] = {0.0f, -0.5f, -1.0f, -2.0f, -4.0f, -8.0f, -16.0f, -32.0f, -64.0f};
    static const float up[] = {0.0f, 0.5f, 1.0f, 2.0f, 4.0f, 8.0f, 16.0f, 32.0f, 64.0f};
    const size_t n = sizeof betas / sizeof betas[0];
    coclick_params p = {0.0f, COCLICK_DECAY, max_hist, 0.0f};
    double best = tune_point(ds, inner, g, &p, threads);
    if (best < 0) return -1;
    *ndcg0 = best;
    if (g && tune_walk(ds, inner, g, &p, &p.beta, betas, n, threads, &best)) return -1;
    if (tune_repeat) {
        if (tune_walk(ds, inner, g, &p, &p.repeat, down, n, threads, &best)) return -1;
        if (p.repeat == 0 && tune_walk(ds, inner, g, &p, &p.repeat, up, n, threads, &best)) return -1;
        /* beta again at that weight: the co-click term also lifts the history items (the
           neighbours of one click are often the visitor's other clicks) */
        if (g && p.repeat != 0) {
            float b0 = p.beta, upw[sizeof betas / sizeof betas[0]], downw[sizeof betas / sizeof betas[0]];
            size_t nu = 0, nd = 0;
            upw[nu++] = downw[nd++] = b0;
            for (size_t k = 0; k < n; k++)
                if (betas[k] > b0) upw[nu++] = betas[k];
            for (size_t k = n; k-- > 0;)
                if (betas[k] < b0) downw[nd++] = betas[k];
            if (tune_walk(ds, inner, g, &p, &p.beta, upw, nu, threads, &best)) return -1;
            if (p.beta == b0 && tune_walk(ds, inner, g, &p, &p.beta, downw, nd, threads, &best)) return -1;
        }
    }
    if (!(p.beta > 0)) p.beta = 0;
    *out = p;
    *ndcg = best;
    return 0;
}

int coclick_graph_read(const char *graph_dir, uint32_t n_items, csr *g) {
    char path[1200];
    snprintf(path, sizeof path, "%s/behaviour.knn.csr", graph_dir);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) return 0;
    return csr_read_rows(path, n_items, g) ? -1 : 1;
}
