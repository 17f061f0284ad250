/* model_scorer.c - a trained model's parameters as an eval_scorer (model_scorer.h). */
#include "train/model_scorer.h"

#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "train/gemm.h"
#include "train/step.h"


typedef struct {
    model_scorer *m;
    size_t count;
    float *scores;
} model_job;

static void model_gemm_worker(void *p, int tid, int nt) {
    model_job *j = p;
    size_t lo, hi, N = j->m->s->cfg.n_items, cd = (size_t)j->m->s->cfg.n_channels * j->m->s->cfg.dim;
    parallel_range(j->count, tid, nt, &lo, &hi);
    if (hi > lo) gemm(0, 1, hi - lo, N, cd, 1.0f, j->m->v + lo * cd, cd, j->m->Hcat, cd, 0.0f, j->scores + lo * N, N);
}

static void model_score(void *p, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    model_scorer *m = p;
    step_visitors(m->s, m->params, m->H, hist, len, count, m->v, m->threads);
    model_job j = {m, count, scores};
    parallel_run(m->threads, model_gemm_worker, &j);
}

int model_scorer_init(model_scorer *m, const tm_spec *s, const tm_inputs *in, const float *params, int threads,
                      eval_scorer *out) {
    memset(m, 0, sizeof *m);
    size_t N = s->cfg.n_items, d = s->cfg.dim, C = s->cfg.n_channels;
    m->s = s;
    m->params = params;
    m->threads = threads;
    m->H = malloc(C * N * d * sizeof(float));
    m->Hcat = malloc(C * N * d * sizeof(float));
    m->v = malloc(EVAL_BATCH * C * d * sizeof(float));
    float *scratch = malloc(2 * N * d * sizeof(float));
    if (!m->H || !m->Hcat || !m->v || !scratch) {
        free(scratch);
        model_scorer_free(m);
        return -1;
    }
    step_items(s, in, params, m->H, m->Hcat, scratch);
    free(scratch);
    *out = (eval_scorer){m, model_score, EVAL_BATCH, 0};
    return 0;
}

void model_scorer_free(model_scorer *m) {
    free(m->H);
    free(m->Hcat);
    free(m->v);
    memset(m, 0, sizeof *m);
}

