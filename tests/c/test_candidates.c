/* test_candidates.c - candidate mode (mdsrec_recommend_candidates, mdsrec.h) against the full
   scan on synth bundles made here: every item dtype and layout, every neighbour encoding,
   catalogue sizes that leave partial groups of rows at the end, and every kernel set of the
   build (the scalar reference, vec128 natively, simd128 when this test runs as wasm).

   The candidate set is rebuilt here from the public API alone (mdsrec_similar for the
   neighbour lists, an empty-history recommend for the popularity order), and the full scan's
   complete ranking (k = N) is the reference: candidate mode must return exactly that ranking
   restricted to the set, its first k, with scores and shares equal to the bit. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mdsrec.h"
#include "src/kernels.h"
#include "src/model.h"
#include "synth.h"

static uint64_t rng = 12345;
static uint32_t below(uint32_t n) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

typedef struct {
    const char *name;
    uint32_t dtype, layout, layout_set, nb_format, n_items, neighbours;
} variant;

static uint8_t *make(const variant *v, size_t *len) {
    synth_options o;
    synth_defaults(&o, v->n_items);
    o.dim = 32, o.n_blocks = 1, o.max_len = 12, o.dtype = v->dtype, o.seed = 3 + v->n_items;
    o.layout = v->layout, o.layout_set = (int)v->layout_set;
    o.neighbours = v->neighbours, o.nb_compact = (int)v->nb_format;
    uint8_t *buf = NULL;
    mdsrec_error err;
    CHECK_MSG(synth_bundle(&o, &buf, len, &err) == MDSREC_OK, "%s: %s", v->name, err.message);
    return buf;
}

static int same_bits(float a, float b) { return !memcmp(&a, &b, sizeof a); }

/* The candidate set of (hist, opts), from the public API, as 0/1 flags. */
static uint32_t expected_set(const mdsrec_model *m, mdsrec_state *s, const uint32_t *hist, uint32_t len,
                             int include_history, const mdsrec_candidates *o, uint8_t *in) {
    const mdsrec_config *c = mdsrec_model_config(m);
    uint32_t N = c->n_items, L = c->max_len, cap = o->neighbours ? o->neighbours : N;
    uint32_t *nb = malloc(N * sizeof *nb), *front = malloc((size_t)N * sizeof *front), nf = 0;
    float *w = malloc(N * sizeof *w);
    uint8_t *in_front = calloc(N, 1);
    memset(in, 0, N);
    const uint32_t *read = hist + (len > L ? len - L : 0); /* the items the model reads */
    uint32_t n = len > L ? L : len;
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t ch = 0; ch < c->n_channels; ch++) {
            uint32_t cnt = 0;
            if (mdsrec_similar(m, read[t], ch, cap, nb, w, &cnt)) continue; /* no list */
            for (uint32_t j = 0; j < cnt; j++) {
                in[nb[j]] = 1;
                if (!in_front[nb[j]]) in_front[nb[j]] = 1, front[nf++] = nb[j];
            }
        }
    if (o->hops == 2)
        for (uint32_t f = 0; f < nf; f++)
            for (uint32_t ch = 0; ch < c->n_channels; ch++) {
                uint32_t cnt = 0;
                if (mdsrec_similar(m, front[f], ch, cap, nb, w, &cnt)) continue;
                for (uint32_t j = 0; j < cnt; j++) in[nb[j]] = 1;
            }
    if (o->popular_head) {
        uint32_t P = o->popular_head < N ? o->popular_head : N;
        mdsrec_query pq = {.k = P};
        mdsrec_result pr;
        CHECK(mdsrec_recommend(m, s, &pq, &pr) == MDSREC_OK && pr.count == P && pr.scored == 0);
        for (uint32_t r = 0; r < pr.count; r++) in[pr.items[r]] = 1;
    }
    if (include_history)
        for (uint32_t t = 0; t < n; t++) in[read[t]] = 1;
    uint32_t size = 0;
    for (uint32_t i = 0; i < N; i++) size += in[i];
    free(nb), free(front), free(w), free(in_front);
    return size;
}

/* One query both ways: the candidate result must be the full ranking restricted to the set. */
static void check_query(const char *what, const mdsrec_model *m, mdsrec_state *s, mdsrec_state *ref,
                        const mdsrec_query *q, const mdsrec_candidates *o, uint8_t *in) {
    const mdsrec_config *c = mdsrec_model_config(m);
    uint32_t N = c->n_items, C = c->n_channels;
    uint32_t size = expected_set(m, ref, q->history, q->history_len, (q->flags & MDSREC_INCLUDE_HISTORY) != 0, o, in);
    mdsrec_query all = *q;
    all.k = N;
    mdsrec_result full, got;
    CHECK(mdsrec_recommend(m, ref, &all, &full) == MDSREC_OK && full.scored == N);
    mdsrec_status st = mdsrec_recommend_candidates(m, s, q, o, &got);
    CHECK_MSG(st == MDSREC_OK, "%s: status %d", what, (int)st);
    if (st) return;
    CHECK_MSG(got.scored == size, "%s: scored %u, expected set of %u", what, got.scored, size);
    uint32_t r = 0, bad = 0;
    for (uint32_t f = 0; f < full.count && r < q->k; f++) {
        if (!in[full.items[f]]) continue;
        if (r >= got.count || got.items[r] != full.items[f] || !same_bits(got.scores[r], full.scores[f])) {
            bad++;
        } else {
            for (uint32_t ch = 0; ch < C; ch++) bad += !same_bits(got.shares[r * C + ch], full.shares[f * C + ch]);
        }
        r++;
    }
    CHECK_MSG(bad == 0 && got.count == r, "%s: %u of %u ranks differ from the full ranking's (count %u)", what, bad,
              r, got.count);
    for (uint32_t i = 0; i < got.count; i++) CHECK_MSG(in[got.items[i]], "%s: item %u is no candidate", what, got.items[i]);
    for (uint32_t ch = 0; ch < C; ch++)
        CHECK(same_bits(got.gates[ch], full.gates[ch]) && got.carriers[ch] == full.carriers[ch]);
}

static void check_variant(const variant *v, const mdsrec_kernels *k) {
    size_t len;
    uint8_t *buf = make(v, &len);
    if (!buf) return;
    mdsrec_model *m = NULL;
    mdsrec_error err;
    CHECK_MSG(mdsrec_open(buf, len, &m, &err) == MDSREC_OK, "%s", err.message);
    m->k = k; /* the kernel set under test (the model reads its kernels through this) */
    mdsrec_state *s = NULL, *ref = NULL;
    CHECK(mdsrec_state_new(m, &s) == MDSREC_OK && mdsrec_state_new(m, &ref) == MDSREC_OK);
    uint32_t N = v->n_items;
    uint8_t *in = malloc(N);
    uint32_t hist[40], excl[3];
    char what[160];

    /* a set that covers every item (the popular head is the whole catalogue): the full scan */
    for (uint32_t hops = 1; hops <= 2; hops++) {
        mdsrec_candidates all = {1, N, hops, 0};
        for (uint32_t t = 0; t < 7; t++) hist[t] = below(N);
        mdsrec_query q = {hist, 7, 10, 0, NULL, 0, NULL, 0};
        mdsrec_result a, b;
        CHECK(mdsrec_recommend(m, ref, &q, &a) == MDSREC_OK);
        CHECK(mdsrec_recommend_candidates(m, s, &q, &all, &b) == MDSREC_OK);
        CHECK(a.count == b.count && b.scored == N);
        for (uint32_t r = 0; r < a.count && r < b.count; r++)
            CHECK_MSG(a.items[r] == b.items[r] && same_bits(a.scores[r], b.scores[r]), "%s/%s: rank %u", v->name,
                      k->name, r);
    }

    /* random sets: history lengths below and above max_len, heads, hops, caps, flags */
    static const uint32_t lens[] = {1, 3, 12, 30};
    static const uint32_t heads[] = {0, 5, 64};
    for (uint32_t li = 0; li < 4; li++)
        for (uint32_t hi = 0; hi < 3; hi++)
            for (uint32_t hops = 0; hops <= 2; hops++)
                for (uint32_t cap = 0; cap <= 3; cap += 3) {
                    for (uint32_t t = 0; t < lens[li]; t++) hist[t] = below(N);
                    for (uint32_t e = 0; e < 3; e++) excl[e] = below(N);
                    uint32_t flags = (li + hi + hops) % 2 ? MDSREC_INCLUDE_HISTORY : 0;
                    mdsrec_query q = {hist, lens[li], 1 + below(40), flags, excl, (li + hops) % 2 ? 3 : 0, NULL, 0};
                    mdsrec_candidates o = {1, heads[hi], hops, cap};
                    snprintf(what, sizeof what, "%s/%s len %u head %u hops %u cap %u flags %u", v->name, k->name,
                             lens[li], heads[hi], hops, cap, flags);
                    check_query(what, m, s, ref, &q, &o, in);
                }

    /* the state's maps are clean after each call: a fresh state answers the same */
    mdsrec_state *fresh = NULL;
    CHECK(mdsrec_state_new(m, &fresh) == MDSREC_OK);
    for (uint32_t t = 0; t < 5; t++) hist[t] = below(N);
    mdsrec_query q = {hist, 5, 20, 0, NULL, 0, NULL, 0};
    mdsrec_candidates o = {1, 7, 2, 0};
    mdsrec_result a, b;
    CHECK(mdsrec_recommend_candidates(m, s, &q, &o, &a) == MDSREC_OK);
    CHECK(mdsrec_recommend_candidates(m, fresh, &q, &o, &b) == MDSREC_OK);
    CHECK(a.count == b.count && a.scored == b.scored && !memcmp(a.items, b.items, a.count * sizeof *a.items));
    mdsrec_state_free(fresh);

    free(in);
    mdsrec_state_free(s);
    mdsrec_state_free(ref);
    mdsrec_close(m);
    free(buf);
}

/* What does not use the candidates, and the errors. */
static void check_edges(void) {
    variant with = {"i8", MDSREC_I8, 0, 0, 1, 301, 6}, none = {"i8 without lists", MDSREC_I8, 0, 0, 1, 301, 0};
    size_t len, len0;
    uint8_t *buf = make(&with, &len), *buf0 = make(&none, &len0);
    mdsrec_model *m = NULL, *m0 = NULL;
    mdsrec_state *s = NULL, *s0 = NULL;
    CHECK(mdsrec_open(buf, len, &m, NULL) == MDSREC_OK && mdsrec_state_new(m, &s) == MDSREC_OK);
    CHECK(mdsrec_open(buf0, len0, &m0, NULL) == MDSREC_OK && mdsrec_state_new(m0, &s0) == MDSREC_OK);
    uint32_t hist[4] = {3, 77, 150, 299}, allow[5] = {1, 2, 2, 9, 77};
    mdsrec_query q = {hist, 4, 10, 0, NULL, 0, NULL, 0};
    mdsrec_candidates o = {1, 10, 1, 0};
    mdsrec_result a, b;

    /* no neighbour list in any channel: the full scan */
    CHECK(mdsrec_recommend(m0, s0, &q, &a) == MDSREC_OK);
    uint32_t items[10];
    memcpy(items, a.items, a.count * sizeof *items);
    CHECK(mdsrec_recommend_candidates(m0, s0, &q, &o, &b) == MDSREC_OK && b.scored == 301 && b.count == a.count &&
          !memcmp(items, b.items, b.count * sizeof *items));

    /* NULL options, candidates 0: the full scan */
    mdsrec_candidates off = {0, 5, 9, 0}; /* hops ignored when off */
    CHECK(mdsrec_recommend_candidates(m, s, &q, NULL, &a) == MDSREC_OK && a.scored == 301);
    CHECK(mdsrec_recommend_candidates(m, s, &q, &off, &a) == MDSREC_OK && a.scored == 301);
    CHECK(mdsrec_recommend_candidates(m, s, &q, &o, &a) == MDSREC_OK && a.scored < 301 && a.scored >= 10);

    /* an allow-list is scored as always; an empty history gives the popularity order */
    mdsrec_query qa = q;
    qa.allow = allow, qa.allow_len = 5;
    CHECK(mdsrec_recommend(m, s, &qa, &a) == MDSREC_OK && a.scored == 3); /* 1, 2, 9; 77 is history */
    memcpy(items, a.items, a.count * sizeof *items);
    CHECK(mdsrec_recommend_candidates(m, s, &qa, &o, &b) == MDSREC_OK && b.scored == 3);
    CHECK(b.count == a.count && !memcmp(items, b.items, b.count * sizeof *items));
    mdsrec_query qe = {NULL, 0, 5, 0, NULL, 0, NULL, 0};
    CHECK(mdsrec_recommend_candidates(m, s, &qe, &o, &a) == MDSREC_OK && a.count == 5 && a.scored == 0);

    /* errors: mdsrec_recommend's, and hops above 2 */
    mdsrec_candidates far = {1, 10, 3, 0};
    CHECK(mdsrec_recommend_candidates(m, s, &q, &far, &a) == MDSREC_EARG);
    CHECK(mdsrec_recommend_candidates(m, s0, &q, &o, &a) == MDSREC_EARG); /* a state of another model */
    CHECK(mdsrec_recommend_candidates(NULL, s, &q, &o, &a) == MDSREC_EARG);
    CHECK(mdsrec_recommend_candidates(m, s, NULL, &o, &a) == MDSREC_EARG);
    uint32_t bad[1] = {301};
    mdsrec_query qb = {bad, 1, 10, 0, NULL, 0, NULL, 0};
    CHECK(mdsrec_recommend_candidates(m, s, &qb, &o, &a) == MDSREC_EARG);
    /* and the state still answers after the errors */
    CHECK(mdsrec_recommend_candidates(m, s, &q, &o, &a) == MDSREC_OK);

    mdsrec_state_free(s), mdsrec_state_free(s0);
    mdsrec_close(m), mdsrec_close(m0);
    free(buf), free(buf0);
}

int main(void) {
    /* sizes: 1003 leaves 3 rows past the last group of four and 11 past the last panel of 16 */
    static const variant vs[] = {
        {"f32 panels", MDSREC_F32, MDSREC_LAYOUT_PANEL16, 1, 1, 1003, 8},
        {"f32 rows, csr", MDSREC_F32, MDSREC_LAYOUT_ROWS, 1, 0, 1003, 8},
        {"f16, bits", MDSREC_F16, 0, 0, 2, 1001, 5},
        {"i8", MDSREC_I8, 0, 0, 1, 1002, 8},
        {"i8, bits", MDSREC_I8, 0, 0, 2, 2051, 4},
        {"pq, csr", MDSREC_PQ, 0, 0, 0, 1003, 6},
    };
    const mdsrec_kernels *sets[] = {kernels_scalar(), kernels_vec128(), kernels_simd128(), kernels_relaxed()};
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++)
        for (size_t k = 0; k < sizeof sets / sizeof *sets; k++)
            if (sets[k]) check_variant(&vs[i], sets[k]);
    check_edges();
    return check_done("test_candidates");
}
