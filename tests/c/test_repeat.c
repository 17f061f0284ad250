/* test_repeat.c - the repeat term (models/FORMAT.md REPEAT, tools/eval/coclick.h):
   - the core's scores with the section are the scores without it plus the weight once per
     click of each item, over every click of the history (also past max_len), with and without
     a co-click term, for each item dtype, over a run of histories on one state (so a term left
     over from the last call would show);
   - recommend with MDSREC_INCLUDE_HISTORY ranks by those scores and the shares add up to
     them; without it the history is left out and the results are those of the bundle
     without the section;
   - a corrupt REPEAT section is refused with EFORMAT naming it, a bad spec with EARG;
   - the trainer's choice (coclick_tune) takes a negative weight where visitors never come
     back to an item, a positive one where they always do, and none where it cannot help. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eval/coclick.h"
#include "mdsrec.h"
#include "src/bundle.h"
#include "synth.h"
#include "test_terms_helpers.h"


/* A synth bundle with the given repeat weight (0: no section) and co-click beta (0: none). */
static uint8_t *make(uint32_t dtype, float repeat, float beta, size_t *len) {
    synth_options o;
    synth_defaults(&o, 300);
    o.dim = 16, o.n_blocks = 1, o.max_len = 8, o.dtype = dtype, o.seed = 5, o.neighbours = 6;
    o.coclick_beta = beta, o.repeat_weight = repeat;
    synth_model m;
    mdsrec_error err;
    CHECK_MSG(synth_make(&o, &m, &err) == MDSREC_OK, "%s", err.message);
    uint8_t *buf = build_checked(&m.spec, len);
    synth_free(&m);
    return buf;
}


static void test_scores(uint32_t dtype, float beta) {
    const float w = -2.5f;
    size_t la, lb;
    uint8_t *a = make(dtype, 0, beta, &la), *b = make(dtype, w, beta, &lb);
    CHECK(lb > la); /* the section itself */
    mdsrec_model *ma = open_model(a, la), *mb = open_model(b, lb);
    mdsrec_state *sa = NULL, *sb = NULL;
    CHECK(mdsrec_state_new(ma, &sa) == MDSREC_OK && mdsrec_state_new(mb, &sb) == MDSREC_OK);
    uint32_t N = mdsrec_model_config(ma)->n_items, C = mdsrec_model_config(ma)->n_channels;
    float *pa = malloc(N * sizeof(float)), *pb = malloc(N * sizeof(float));
    uint32_t *count = malloc(N * sizeof(uint32_t));
    uint32_t h[20];
    for (int trial = 0; trial < 12; trial++) {
        /* past max_len (8) too, with clicks repeated: each click counts */
        uint32_t n = 1 + below(20);
        for (uint32_t t = 0; t < n; t++) h[t] = t && below(3) == 0 ? h[below(t)] : below(N);
        memset(count, 0, N * sizeof(uint32_t));
        for (uint32_t t = 0; t < n; t++) count[h[t]]++;
        CHECK(mdsrec_score_all(ma, sa, h, n, pa) == MDSREC_OK);
        CHECK(mdsrec_score_all(mb, sb, h, n, pb) == MDSREC_OK);
        for (uint32_t i = 0; i < N; i++) {
            float want = pa[i] + w * (float)count[i];
            CHECK_MSG(fabsf(pb[i] - want) <= 1e-5f * (1.0f + fabsf(want)), "dtype %u beta %g trial %d item %u: %g, want %g",
                      dtype, (double)beta, trial, i, (double)pb[i], (double)want);
        }
        /* with the history ranked in: the k best of those scores, shares adding up */
        mdsrec_query q = {.history = h, .history_len = n, .k = 8, .flags = MDSREC_INCLUDE_HISTORY};
        mdsrec_result r;
        CHECK(mdsrec_recommend(mb, sb, &q, &r) == MDSREC_OK);
        check_result_scores(&r, pb, C);
        for (uint32_t i = 0; i < N; i++) { /* nothing left out scores higher */
            int taken = 0;
            for (uint32_t k = 0; k < r.count; k++) taken |= r.items[k] == i;
            if (!taken) CHECK(pb[i] <= r.scores[r.count - 1]);
        }
        /* the history left out (the default): the term changes nothing */
        mdsrec_query qx = {.history = h, .history_len = n, .k = 8};
        mdsrec_result ra, rb;
        CHECK(mdsrec_recommend(ma, sa, &qx, &ra) == MDSREC_OK);
        uint32_t items_a[8];
        float scores_a[8];
        memcpy(items_a, ra.items, ra.count * sizeof(uint32_t));
        memcpy(scores_a, ra.scores, ra.count * sizeof(float));
        CHECK(mdsrec_recommend(mb, sb, &qx, &rb) == MDSREC_OK);
        CHECK(ra.count == rb.count);
        for (uint32_t j = 0; j < rb.count; j++) CHECK(items_a[j] == rb.items[j] && scores_a[j] == rb.scores[j]);
    }
    free(pa), free(pb), free(count);
    mdsrec_state_free(sa), mdsrec_state_free(sb);
    mdsrec_close(ma), mdsrec_close(mb);
    free(a), free(b);
}

static void test_corrupt(void) {
    size_t len;
    uint8_t *b = make(MDSREC_F32, 3.0f, 0, &len);
    char msg[256];
    const float bad[] = {NAN, INFINITY, 0.0f, 2e6f, -2e6f};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mdsrec_status st = open_patched(b, len, SEC_REPEAT, 0, f32_bits(bad[i]), 0, msg);
        CHECK_MSG(st == MDSREC_EFORMAT && strstr(msg, "REPEAT") && strstr(msg, "weight"), "%g: status %d, %s",
                  (double)bad[i], st, msg);
    }
    CHECK(open_patched(b, len, SEC_REPEAT, 0, f32_bits(-1e6f), 0, msg) == MDSREC_OK);
    CHECK(open_patched(b, len, SEC_REPEAT, 0, 8, 1, msg) == MDSREC_EFORMAT && strstr(msg, "REPEAT") && strstr(msg, "size"));
    free(b);

    synth_options o;
    synth_defaults(&o, 50);
    o.dim = 8, o.n_blocks = 1, o.max_len = 4;
    synth_model m;
    mdsrec_error err;
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    m.spec.repeat_weight = NAN;
    uint8_t *out = NULL;
    CHECK(bundle_build(&m.spec, &out, &len, &err) == MDSREC_EARG && strstr(err.message, "repeat_weight"));
    synth_free(&m);
}

/* ---------------------------------------------------------------- the trainer's weight */

/* 200 visitors of 6 clicks over 100 items; with come_back the last click is one of the
   earlier ones, else every click is new. Returns coclick_tune's choice for the noise model. */
static coclick_params tune_on(int come_back, float hist_bonus, double *v0, double *v1) {
    const uint32_t N = 100, U = 200, LEN = 6;
    dataset ds;
    fixed_dataset(&ds, U, N, LEN);
    for (uint32_t u = 0; u < U; u++) {
        uint32_t s = below(N);
        for (uint32_t t = 0; t < LEN; t++) ds.seq[u * LEN + t] = (s + 7 * t) % N;
        /* validation targets the fifth click */
        if (come_back) ds.seq[u * LEN + 4] = ds.seq[u * LEN + below(4)];
    }
    noise_ctx nc = {N, 1, hist_bonus};
    eval_scorer sc = {&nc, noise_score, 64, 0};
    coclick_params p;
    CHECK(coclick_tune(&ds, &sc, NULL, 8, 1, 1, &p, v0, v1) == 0);
    free(ds.off);
    free(ds.seq);
    return p;
}

static void test_tune(void) {
    double v0, v1;
    /* the model ranks the history first, but nobody comes back: a negative weight, and the
       validation figure rises */
    coclick_params p = tune_on(0, 0.99f, &v0, &v1);
    CHECK_MSG(p.repeat < 0 && v1 > v0 && p.beta == 0, "never back: repeat %g, NDCG %g -> %g", (double)p.repeat, v0, v1);
    /* everybody comes back, but the model ranks the history in the middle: a positive weight
       (the unmasked protocol gains; the masked one ranks the target without the term) */
    p = tune_on(1, 0.45f, &v0, &v1);
    CHECK_MSG(p.repeat > 0 && v1 > v0 + 0.15, "always back: repeat %g, NDCG %g -> %g", (double)p.repeat, v0, v1);
    /* nobody comes back and the model already ranks the history last: no term */
    p = tune_on(0, -5.0f, &v0, &v1);
    CHECK_MSG(p.repeat == 0 && v1 == v0, "nothing to gain: repeat %g, NDCG %g -> %g", (double)p.repeat, v0, v1);
}

/* The masked protocol ranks a target the visitor had clicked before without the repeat term
   (evaluate.h, history_weight): its ranks are those of the scorer without the term, whatever
   the weight, while the unmasked ranks move. */
typedef struct {
    noise_ctx base;
    float w;
} plus_ctx;
static void plus_score(void *ctx, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    plus_ctx *c = ctx;
    noise_score(&c->base, hist, len, count, scores);
    coclick_params p = {0, 0, 1, c->w};
    for (size_t u = 0; u < count; u++) repeat_add(&p, hist[u], len[u], c->base.n, scores + u * c->base.n);
}

static void test_masked_protocol(void) {
    const uint32_t N = 50, U = 300, LEN = 7;
    dataset ds;
    fixed_dataset(&ds, U, N, LEN);
    for (uint32_t k = 0; k < U * LEN; k++) ds.seq[k] = below(N); /* repeats, targets among them */
    uint32_t *r0[2], *r1[2];
    for (int p = 0; p < 2; p++) r0[p] = malloc(U * sizeof(uint32_t)), r1[p] = malloc(U * sizeof(uint32_t));
    plus_ctx none = {{N, 1, 0.3f}, 0}, with = {{N, 1, 0.3f}, 0.8f};
    eval_scorer s0 = {&none, plus_score, 32, 0}, s1 = {&with, plus_score, 32, 0.8f};
    metrics m0[2], m1[2];
    CHECK(evaluate_protocols(&ds, EVAL_TEST, &s0, 2, m0, r0) == 0);
    CHECK(evaluate_protocols(&ds, EVAL_TEST, &s1, 2, m1, r1) == 0);
    int moved = 0;
    for (uint32_t u = 0; u < U; u++) {
        CHECK_MSG(r0[EVAL_MASKED][u] == r1[EVAL_MASKED][u], "visitor %u: masked rank %u, without the term %u", u,
                  r1[EVAL_MASKED][u], r0[EVAL_MASKED][u]);
        moved += r0[EVAL_UNMASKED][u] != r1[EVAL_UNMASKED][u];
    }
    CHECK(moved > 10);
    for (int p = 0; p < 2; p++) free(r0[p]), free(r1[p]);
    free(ds.off);
    free(ds.seq);
}

int main(void) {
    terms_rng = 4242;
    const uint32_t dtypes[] = {MDSREC_F32, MDSREC_I8, MDSREC_PQ};
    for (int d = 0; d < 3; d++) {
        test_scores(dtypes[d], 0);
        test_scores(dtypes[d], 1.5f);
    }
    test_corrupt();
    test_tune();
    test_masked_protocol();
    return check_done("test_repeat");
}
