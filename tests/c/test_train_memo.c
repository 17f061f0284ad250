/* test_train_memo.c - the model scorer's memo of visitor vectors (train/model_scorer.h) gives the
   scores of the scorer without it, bit for bit: on first sight, on a second pass, past its
   capacity, and for a history whose items changed behind the same pointer. (The sgemm's bits
   may depend on how many rows it is given, so each comparison scores in the same batches.) */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_tmodel_helpers.h"
#include "train/model_scorer.h"

#define N 31
#define W 12
#define D 8
#define L 6
#define V 40 /* histories */


/* scores of histories [0, count) through sc, in batches of b */
static void score_all(const eval_scorer *sc, const uint32_t *const *hist, const uint32_t *len, size_t count,
                      size_t b, float *out) {
    for (size_t i = 0; i < count; i += b) {
        size_t n = count - i < b ? count - i : b;
        sc->score(sc->ctx, hist + i, len + i, n, out + i * N);
    }
}

int main(void) {
    uint64_t rng = 11;
    dataset ds;
    memory_dataset(&ds, "text", N, W, malloc(N * W * sizeof(float)));
    feature_matrix *ft = &ds.feat[0];
    for (size_t i = 0; i < N * W; i++) ft->x[i] = uni(&rng);

    tm_spec s;
    memset(&s, 0, sizeof s);
    s.cfg.n_items = N; s.cfg.dim = D; s.cfg.n_channels = 2; s.cfg.max_len = L;
    s.cfg.n_blocks = 1; s.cfg.n_heads = 2; s.cfg.ffn_dim = 16; s.cfg.ln_eps = 1e-5f;
    s.cfg.channels[0].n_blocks = 1;
    s.kind = TM_MDSREC;
    s.ch[0].has_emb = 1;
    s.ch[1].n_feat = 1;
    snprintf(s.ch[1].feat[0], sizeof s.ch[1].feat[0], "text");
    s.ch[1].feat_width = W;
    tm_layout(&s);
    tm_inputs in;
    CHECK(tm_inputs_bind(&s, &ds, NULL, 1, 3, &in) == 0);
    float *p = malloc(s.n_params * sizeof(float));
    tm_init(&s, p, 3);
    for (size_t i = 0; i < s.n_params; i++) p[i] += 0.1f * uni(&rng);

    /* V histories of 1..2L items (longer than L: the forward reads the last L) */
    uint32_t *items = malloc(V * 2 * L * sizeof(uint32_t)), len[V];
    const uint32_t *hist[V];
    for (size_t v = 0; v < V; v++) {
        len[v] = 1 + (uint32_t)(v * 7 % (2 * L));
        hist[v] = items + v * 2 * L;
        for (size_t t = 0; t < 2 * L; t++) items[v * 2 * L + t] = (uint32_t)((v * 13 + t * 5) % N);
    }

    model_scorer plain, memo, tiny;
    eval_scorer sp, sm, st;
    CHECK(model_scorer_init(&plain, &s, &in, p, 2, &sp) == 0);
    CHECK(model_scorer_init(&memo, &s, &in, p, 2, &sm) == 0);
    CHECK(model_scorer_init(&tiny, &s, &in, p, 2, &st) == 0);
    CHECK(model_scorer_memo(&memo, V + 2) == 0);
    CHECK(model_scorer_memo(&tiny, 5) == 0); /* most histories past its capacity */
    float *want = malloc(V * N * sizeof(float)), *got = malloc(V * N * sizeof(float));
    score_all(&sp, hist, len, V, 16, want);

    /* first sight, then again in other batches: every score the same bits */
    score_all(&sm, hist, len, V, 16, got);
    CHECK(memcmp(want, got, V * N * sizeof(float)) == 0);
    CHECK(memo.used == V);
    memset(got, 0, V * N * sizeof(float));
    score_all(&sp, hist, len, V, 7, want);
    score_all(&sm, hist, len, V, 7, got);
    CHECK(memcmp(want, got, V * N * sizeof(float)) == 0);
    CHECK(memo.used == V);
    score_all(&sp, hist, len, V, 9, want);
    for (int pass = 0; pass < 2; pass++) {
        score_all(&st, hist, len, V, 9, got);
        CHECK(memcmp(want, got, V * N * sizeof(float)) == 0);
        CHECK(tiny.used == 5);
    }

    /* the same history twice in one batch */
    const uint32_t *h2[2] = {hist[3], hist[3]};
    uint32_t l2[2] = {len[3], len[3]};
    model_scorer m2;
    eval_scorer s2;
    CHECK(model_scorer_init(&m2, &s, &in, p, 2, &s2) == 0);
    CHECK(model_scorer_memo(&m2, 4) == 0);
    sp.score(sp.ctx, h2, l2, 2, want + 3 * N);
    s2.score(s2.ctx, h2, l2, 2, got);
    CHECK(memcmp(got, want + 3 * N, 2 * N * sizeof(float)) == 0);
    CHECK(memcmp(got, got + N, N * sizeof(float)) == 0);
    CHECK(m2.used == 1);
    model_scorer_free(&m2);

    /* a history whose last item changed behind the same pointer is computed again; one whose
       items before the last L changed is not (the forward does not read them) */
    score_all(&sp, hist, len, V, 16, want);
    size_t v = 0;
    while (len[v] < L + 1) v++;
    items[v * 2 * L + len[v] - 1] = (items[v * 2 * L + len[v] - 1] + 1) % N;
    score_all(&sp, hist, len, V, 16, want);
    score_all(&sm, hist, len, V, 16, got);
    CHECK(memcmp(want, got, V * N * sizeof(float)) == 0);
    CHECK(memo.used == V + 1);
    items[v * 2 * L] = (items[v * 2 * L] + 1) % N;
    score_all(&sm, hist, len, V, 16, got);
    CHECK(memcmp(want, got, V * N * sizeof(float)) == 0);
    CHECK(memo.used == V + 1);

    model_scorer_free(&plain);
    model_scorer_free(&memo);
    model_scorer_free(&tiny);
    tm_inputs_free(&in);
    free(ft->x); free(p); free(items); free(want); free(got);
    return check_done("test_train_memo");
}
