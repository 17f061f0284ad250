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

static void coclick_score(void *ctx, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    coclick_scorer *c = ctx;
    c->inner.score(c->inner.ctx, hist, len, count, scores);
    size_t N = c->g->n_rows;
    for (size_t i = 0; i < count; i++) coclick_add(c->g, &c->p, hist[i], len[i], scores + i * N);
}

void coclick_scorer_init(coclick_scorer *c, const eval_scorer *inner, const csr *g, const coclick_params *p,
                         eval_scorer *out) {
    c->inner = *inner;
    c->g = g;
    c->p = *p;
    out->ctx = c;
    out->score = coclick_score;
    out->batch = inner->batch;
}

int coclick_tune(const dataset *ds, const eval_scorer *inner, const csr *g, uint32_t max_hist, int threads,
                 coclick_params *out, double *ndcg0, double *ndcg) {
    static const float grid[] = {0.0f, 0.5f, 1.0f, 2.0f, 4.0f, 8.0f, 16.0f, 32.0f, 64.0f};
    coclick_params best = {0.0f, COCLICK_DECAY, max_hist};
    double best_ndcg = -1;
    for (size_t k = 0; k < sizeof grid / sizeof grid[0]; k++) {
        coclick_params p = {grid[k], COCLICK_DECAY, max_hist};
        coclick_scorer cs;
        eval_scorer sc;
        coclick_scorer_init(&cs, inner, g, &p, &sc);
        metrics sums[2];
        uint32_t *const no_ranks[2] = {NULL, NULL};
        if (evaluate_protocols(ds, EVAL_VALID, &sc, threads, sums, no_ranks)) return -1;
        /* both protocols count: the browser leaves the history out (masked), MODEL.md 6 and a
           store that sells the same items again rank it in (unmasked) */
        double v = (metrics_mean(&sums[EVAL_UNMASKED]).ndcg[1] + metrics_mean(&sums[EVAL_MASKED]).ndcg[1]) / 2;
        if (k == 0) *ndcg0 = v;
        if (v > best_ndcg) best_ndcg = v, best = p;
        /* past the peak by two grid steps: a larger beta only leans further on the graph */
        else if (k >= 2 && grid[k - 1] > best.beta && v < best_ndcg) break;
    }
    *out = best;
    *ndcg = best_ndcg;
    return 0;
}

int coclick_graph_read(const char *graph_dir, uint32_t n_items, csr *g) {
    char path[1200];
    snprintf(path, sizeof path, "%s/behaviour.knn.csr", graph_dir);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) return 0;
    return csr_read_rows(path, n_items, g) ? -1 : 1;
}
