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

struct model_memo_slot {
    const uint32_t *hist; /* NULL: empty */
    uint32_t len, row;
    uint64_t hash;
};

/* The history as the forward reads it: its pointer, its length and its last max_len items. */
static uint64_t memo_hash(const uint32_t *hist, uint32_t len, uint32_t max_len) {
    uint64_t h = (uint64_t)(uintptr_t)hist * 0x9E3779B97F4A7C15ull ^ len;
    for (uint32_t t = len > max_len ? len - max_len : 0; t < len; t++) h = (h ^ hist[t]) * 0x100000001B3ull;
    return h ^ h >> 29;
}

static model_memo_slot *memo_find(model_scorer *m, const uint32_t *hist, uint32_t len, uint64_t h) {
    for (size_t i = h & (m->n_slots - 1);; i = (i + 1) & (m->n_slots - 1)) {
        model_memo_slot *e = &m->slots[i];
        if (!e->hist || (e->hist == hist && e->len == len && e->hash == h)) return e;
    }
}

/* The visitor vectors of the batch into m->v: from the memo, the others computed (in one
   step_visitors call, which computes each visitor on its own, so the bits do not depend on
   which others share the call) and kept while there is room. */
static void memo_visitors(model_scorer *m, const uint32_t *const *hist, const uint32_t *len, size_t count) {
    size_t cd = (size_t)m->s->cfg.n_channels * m->s->cfg.dim, n_miss = 0;
    uint32_t L = m->s->cfg.max_len;
    for (size_t i = 0; i < count; i++) {
        model_memo_slot *e = memo_find(m, hist[i], len[i], memo_hash(hist[i], len[i], L));
        if (e->hist) {
            memcpy(m->v + i * cd, m->mv + (size_t)e->row * cd, cd * sizeof(float));
        } else {
            m->miss_hist[n_miss] = hist[i];
            m->miss_len[n_miss] = len[i];
            m->miss_at[n_miss++] = (uint32_t)i;
        }
    }
    if (!n_miss) return;
    step_visitors(m->s, m->params, m->pk.buf ? &m->pk : NULL, m->H, m->miss_hist, m->miss_len, n_miss, m->miss_v, m->threads);
    for (size_t k = 0; k < n_miss; k++) {
        const float *vk = m->miss_v + k * cd;
        memcpy(m->v + (size_t)m->miss_at[k] * cd, vk, cd * sizeof(float));
        if (m->used == m->cap) continue;
        uint64_t h = memo_hash(m->miss_hist[k], m->miss_len[k], L);
        model_memo_slot *e = memo_find(m, m->miss_hist[k], m->miss_len[k], h);
        if (e->hist) continue; /* the same history twice in one batch */
        *e = (model_memo_slot){m->miss_hist[k], m->miss_len[k], (uint32_t)m->used, h};
        memcpy(m->mv + m->used++ * cd, vk, cd * sizeof(float));
    }
}

static void model_score(void *p, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    model_scorer *m = p;
    if (m->slots)
        memo_visitors(m, hist, len, count);
    else
        step_visitors(m->s, m->params, m->pk.buf ? &m->pk : NULL, m->H, hist, len, count, m->v, m->threads);
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
    /* the encoders' weights packed once for every batch (out of memory: the forward runs on
       them as they are, at the same bits) */
    if (tm_packed_alloc(s, &m->pk) == 0) tm_pack(s, params, &m->pk);
    free(scratch);
    *out = (eval_scorer){m, model_score, EVAL_BATCH, 0};
    return 0;
}

int model_scorer_memo(model_scorer *m, size_t visitors) {
    size_t cd = (size_t)m->s->cfg.n_channels * m->s->cfg.dim, n = 16;
    if (visitors > MODEL_MEMO_MAX_BYTES / (cd * sizeof(float))) visitors = MODEL_MEMO_MAX_BYTES / (cd * sizeof(float));
    while (n < 2 * visitors) n *= 2; /* at most half full: short probes */
    m->slots = calloc(n, sizeof *m->slots);
    m->mv = malloc((visitors ? visitors : 1) * cd * sizeof(float));
    m->miss_v = malloc(EVAL_BATCH * cd * sizeof(float));
    m->miss_hist = malloc(EVAL_BATCH * sizeof *m->miss_hist);
    m->miss_len = malloc(EVAL_BATCH * sizeof *m->miss_len);
    m->miss_at = malloc(EVAL_BATCH * sizeof *m->miss_at);
    m->n_slots = n;
    m->used = 0;
    m->cap = visitors;
    if (m->slots && m->mv && m->miss_v && m->miss_hist && m->miss_len && m->miss_at) return 0;
    free(m->slots), free(m->mv), free(m->miss_v), free(m->miss_hist), free(m->miss_len), free(m->miss_at);
    m->slots = NULL, m->mv = m->miss_v = NULL, m->miss_hist = NULL, m->miss_len = m->miss_at = NULL;
    return -1;
}

void model_scorer_free(model_scorer *m) {
    free(m->slots), free(m->mv), free(m->miss_v), free(m->miss_hist), free(m->miss_len), free(m->miss_at);
    tm_packed_free(&m->pk);
    free(m->H);
    free(m->Hcat);
    free(m->v);
    memset(m, 0, sizeof *m);
}

