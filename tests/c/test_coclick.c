/* test_coclick.c - the co-click term (models/FORMAT.md COCLICK, tools/eval/coclick.h):
   - the core's scores with the section are the scores without it plus the term computed here
     from the public API (mdsrec_similar's lists), for every neighbour encoding and item dtype,
     over a run of histories on one state (so a term left over from the last call would show);
   - recommend ranks by those scores, and the shares still add up to each score;
   - a corrupt COCLICK section is refused with EFORMAT naming it, a bad spec with EARG;
   - the trainer's choice of beta (coclick_tune) takes the term where the graph predicts the
     next click and leaves it out (beta 0) where the graph is wrong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eval/coclick.h"
#include "mdsrec.h"
#include "src/bundle.h"
#include "synth.h"
#include "test_terms_helpers.h"


/* A synth bundle, with the term when beta > 0 (channel 0's lists, the id channel). */
static uint8_t *make(uint32_t dtype, int nb_format, float beta, float decay, uint32_t max_hist, size_t *len) {
    synth_options o;
    synth_defaults(&o, 300);
    o.dim = 16, o.n_blocks = 1, o.max_len = 8, o.dtype = dtype, o.seed = 11;
    o.neighbours = 6, o.nb_compact = nb_format;
    synth_model m;
    mdsrec_error err;
    CHECK_MSG(synth_make(&o, &m, &err) == MDSREC_OK, "%s", err.message);
    m.spec.coclick_beta = beta, m.spec.coclick_decay = decay;
    m.spec.coclick_channel = 0, m.spec.coclick_max_hist = max_hist;
    uint8_t *buf = build_checked(&m.spec, len);
    synth_free(&m);
    return buf;
}


/* The term of one history from the public API: beta * sum over the last max_hist clicks,
   newest first with weight 1, decay times less each step back, of channel 0's neighbours. */
static void reference_term(const mdsrec_model *m, const uint32_t *h, uint32_t n, float beta, float decay,
                           uint32_t max_hist, float *term) {
    uint32_t N = mdsrec_model_config(m)->n_items, nb[64], cnt = 0;
    float w[64];
    memset(term, 0, N * sizeof(float));
    uint32_t t0 = n > max_hist ? n - max_hist : 0;
    float f = beta;
    for (uint32_t t = n; t-- > t0 && f > 0; f *= decay) {
        CHECK(mdsrec_similar(m, h[t], 0, 64, nb, w, &cnt) == MDSREC_OK);
        for (uint32_t j = 0; j < cnt; j++) term[nb[j]] += f * w[j];
    }
}

static void test_scores(uint32_t dtype, int nb_format) {
    const float beta = 1.5f, decay = 0.5f;
    const uint32_t max_hist = 5;
    size_t la, lb;
    uint8_t *a = make(dtype, nb_format, 0, 0, 0, &la), *b = make(dtype, nb_format, beta, decay, max_hist, &lb);
    CHECK(lb > la); /* the section itself */
    mdsrec_model *ma = open_model(a, la), *mb = open_model(b, lb);
    mdsrec_state *sa = NULL, *sb = NULL;
    CHECK(mdsrec_state_new(ma, &sa) == MDSREC_OK && mdsrec_state_new(mb, &sb) == MDSREC_OK);
    uint32_t N = mdsrec_model_config(ma)->n_items, C = mdsrec_model_config(ma)->n_channels, L = 8;
    float *pa = malloc(N * sizeof(float)), *pb = malloc(N * sizeof(float)), *term = malloc(N * sizeof(float));
    uint32_t h[12];
    int any = 0;
    for (int trial = 0; trial < 12; trial++) {
        uint32_t n = 1 + below(11); /* past max_len too: the core reads the last L */
        for (uint32_t t = 0; t < n; t++) h[t] = below(N);
        CHECK(mdsrec_score_all(ma, sa, h, n, pa) == MDSREC_OK);
        CHECK(mdsrec_score_all(mb, sb, h, n, pb) == MDSREC_OK);
        const uint32_t *read = h + (n > L ? n - L : 0);
        reference_term(ma, read, n > L ? L : n, beta, decay, max_hist, term);
        for (uint32_t i = 0; i < N; i++) {
            float want = pa[i] + term[i];
            CHECK_MSG(fabsf(pb[i] - want) <= 1e-5f * (1.0f + fabsf(want)), "dtype %u nb %d trial %d item %u: %g, want %g",
                      dtype, nb_format, trial, i, (double)pb[i], (double)want);
            any |= term[i] != 0.0f;
        }
        /* recommend: the k best of those scores, history excluded, shares adding up */
        mdsrec_query q = {.history = h, .history_len = n, .k = 5};
        mdsrec_result r;
        CHECK(mdsrec_recommend(mb, sb, &q, &r) == MDSREC_OK);
        check_result_scores(&r, pb, C);
        for (uint32_t i = 0; i < N; i++) { /* nothing outside the history scores higher */
            int in_hist = 0;
            for (uint32_t t = 0; t < n; t++) in_hist |= h[t] == i;
            int taken = 0;
            for (uint32_t k = 0; k < r.count; k++) taken |= r.items[k] == i;
            if (!in_hist && !taken) CHECK(pb[i] <= r.scores[r.count - 1]);
        }
    }
    CHECK(any); /* the histories did reach items with neighbours */
    free(pa), free(pb), free(term);
    mdsrec_state_free(sa), mdsrec_state_free(sb);
    mdsrec_close(ma), mdsrec_close(mb);
    free(a), free(b);
}

static void test_corrupt(void) {
    size_t len;
    uint8_t *b = make(MDSREC_F32, 1, 2.0f, 0.3f, 4, &len);
    char msg[256];
    struct { uint32_t at, v; const char *what; } bad[] = {
        {0, 3, "channel"},                    /* 3 channels: 0..2 */
        {4, f32_bits(NAN), "beta"},
        {4, f32_bits(0.0f), "beta"},
        {8, f32_bits(1.5f), "decay"},
        {8, f32_bits(-0.1f), "decay"},
        {12, 0, "max_hist"},
        {12, 9, "max_hist"},                 /* max_len 8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mdsrec_status st = open_patched(b, len, SEC_COCLICK, bad[i].at, bad[i].v, 0, msg);
        CHECK_MSG(st == MDSREC_EFORMAT, "%s: status %d", bad[i].what, st);
        CHECK_MSG(strstr(msg, "COCLICK") && strstr(msg, bad[i].what), "%s: %s", bad[i].what, msg);
    }
    CHECK(open_patched(b, len, SEC_COCLICK, 12, 8, 0, msg) == MDSREC_OK); /* max_hist = max_len is fine */
    free(b);

    /* a channel without lists: the writer refuses the spec */
    synth_options o;
    synth_defaults(&o, 50);
    o.dim = 8, o.n_blocks = 1, o.max_len = 4, o.neighbours = 0;
    synth_model m;
    mdsrec_error err;
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    m.spec.coclick_beta = 1, m.spec.coclick_decay = 0.5f, m.spec.coclick_max_hist = 4;
    uint8_t *out = NULL;
    CHECK(bundle_build(&m.spec, &out, &len, &err) == MDSREC_EARG && strstr(err.message, "coclick_channel"));
    synth_free(&m);
}

/* ---------------------------------------------------------------- the trainer's beta */

static void test_tune(void) {
    /* 200 visitors walking a ring of 100 items one step at a time: the next click is always
       the last one plus 1 */
    const uint32_t N = 100, U = 200, LEN = 6;
    dataset ds;
    fixed_dataset(&ds, U, N, LEN);
    for (uint32_t u = 0; u < U; u++) {
        uint32_t s = below(N);
        for (uint32_t t = 0; t < LEN; t++) ds.seq[u * LEN + t] = (s + t) % N;
    }
    /* the true graph (i -> i+1), then a wrong one (i -> i+50: no click in a history of 5 leads
       to the next one through it) */
    for (int step = 1; step <= 50; step += 49) {
        csr g;
        CHECK(csr_alloc(&g, N, N) == 0);
        for (uint32_t i = 0; i < N; i++) g.row_ptr[i + 1] = i + 1, g.col[i] = (i + (uint32_t)step) % N, g.w[i] = 1.0f;
        g.nnz = N;
        noise_ctx nc = {N, 0, 0};
        eval_scorer sc = {&nc, noise_score, 64, 0};
        coclick_params p;
        double v0 = -1, v1 = -1;
        CHECK(coclick_tune(&ds, &sc, &g, 8, 0, 1, &p, &v0, &v1) == 0);
        if (step == 1) {
            CHECK_MSG(p.beta > 0 && v1 > 0.99 && v0 < 0.3, "beta %g, NDCG %g -> %g", (double)p.beta, v0, v1);
            CHECK(p.decay == COCLICK_DECAY);
        } else {
            CHECK_MSG(p.beta == 0 && v1 == v0, "a wrong graph: beta %g, NDCG %g -> %g", (double)p.beta, v0, v1);
        }
        csr_free(&g);
    }
    free(ds.off);
    free(ds.seq);
}

int main(void) {
    terms_rng = 777;
    int formats[] = {0, 1, 2};
    uint32_t dtypes[] = {MDSREC_F32, MDSREC_I8, MDSREC_PQ};
    for (int f = 0; f < 3; f++)
        for (int d = 0; d < 3; d++) test_scores(dtypes[d], formats[f]);
    test_corrupt();
    test_tune();
    return check_done("test_coclick");
}
