/*
 * test_eval_metrics.c - ranks with ties against, HR/NDCG/MRR on hand-computed examples, and
 * evaluate()'s leave-one-out split and history masking with a scorer whose answers are known,
 * and evaluate_protocols()'s two protocols from one pass against evaluate()'s one at a time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eval/evaluate.h"
#include "eval/metrics.h"

static void test_rank(void) {
    float s[5] = {1.0f, 3.0f, 3.0f, 2.0f, 0.5f};
    CHECK(metrics_rank(s, 5, 1) == 2); /* tied with item 2: the tie counts against */
    CHECK(metrics_rank(s, 5, 2) == 2);
    CHECK(metrics_rank(s, 5, 3) == 3);
    CHECK(metrics_rank(s, 5, 0) == 4);
    CHECK(metrics_rank(s, 5, 4) == 5);
    float all[4] = {7, 7, 7, 7};
    CHECK(metrics_rank(all, 4, 0) == 4); /* every other item ties: last */
    CHECK(metrics_rank(all, 4, 3) == 4);
    float nan_t[3] = {NAN, 1, 2};
    CHECK(metrics_rank(nan_t, 3, 0) == 3); /* a NaN target ranks last */
    float nan_o[3] = {1, NAN, 0};
    CHECK(metrics_rank(nan_o, 3, 0) == 1); /* a NaN elsewhere is not higher */
    float inf[3] = {-INFINITY, -INFINITY, 5};
    CHECK(metrics_rank(inf, 3, 0) == 3);
}

static void test_metrics(void) {
    metrics m;
    memset(&m, 0, sizeof m);
    metrics_add(&m, 1);  /* HR all 1, NDCG 1, RR 1 */
    metrics_add(&m, 3);  /* HR all 1, NDCG 1/log2(4) = 0.5, RR 1/3 */
    metrics_add(&m, 7);  /* HR@5 0, HR@10/20 1, NDCG@10/20 = 1/3, RR 1/7 */
    metrics_add(&m, 15); /* HR@20 only, NDCG@20 = 1/4 */
    metrics_add(&m, 21); /* nothing but RR 1/21 */
    metrics r = metrics_mean(&m);
    CHECK(r.count == 5);
    CHECK_CLOSE(r.hr[0], 2.0 / 5, 1e-12);
    CHECK_CLOSE(r.hr[1], 3.0 / 5, 1e-12);
    CHECK_CLOSE(r.hr[2], 4.0 / 5, 1e-12);
    CHECK_CLOSE(r.ndcg[0], (1 + 0.5) / 5, 1e-12);
    CHECK_CLOSE(r.ndcg[1], (1 + 0.5 + 1.0 / 3) / 5, 1e-12);
    CHECK_CLOSE(r.ndcg[2], (1 + 0.5 + 1.0 / 3 + 0.25) / 5, 1e-12);
    CHECK_CLOSE(r.mrr, (1 + 1.0 / 3 + 1.0 / 7 + 1.0 / 15 + 1.0 / 21) / 5, 1e-12);
}

/* A scorer that prefers item (last history item + 1) mod N, then lower indices, and gives
   every history item the highest score (so masking matters). */
static void fake_score(void *ctx, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    size_t N = *(size_t *)ctx;
    for (size_t i = 0; i < count; i++) {
        float *s = scores + i * N;
        for (size_t j = 0; j < N; j++) s[j] = -(float)j;
        s[(hist[i][len[i] - 1] + 1) % N] = 100;
        for (uint32_t t = 0; t < len[i]; t++) s[hist[i][t]] = 1000;
    }
}

static void test_evaluate(void) {
    /* 3 users over N = 10 items */
    uint32_t items[] = {0, 1, 2, 3,   /* valid: hist 0 1 -> target 2; test: hist 0 1 2 -> target 3 */
                        5, 6, 9,      /* valid: hist 5 -> target 6;     test: hist 5 6 -> target 9 */
                        4, 4, 5};     /* valid: hist 4 -> target 4 (repeat); test: hist 4 4 -> 5 */
    uint64_t off[] = {0, 4, 7, 10};
    dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n_items = 10;
    ds.n_users = 3;
    ds.off = off;
    ds.seq = items;
    size_t N = 10;
    eval_scorer sc = {&N, fake_score, 2, 0};
    uint32_t ranks[3];
    metrics sums;
    CHECK(evaluate(&ds, EVAL_VALID, &sc, 0, 2, &sums, ranks) == 0);
    /* unmasked: history items score 1000 above the rule's 100 */
    CHECK(ranks[0] == 3); /* 0, 1 at 1000, then 2 */
    CHECK(ranks[1] == 2); /* 5 at 1000, then 6 */
    CHECK(ranks[2] == 1); /* target 4 is in the history: 1000, alone */
    CHECK(evaluate(&ds, EVAL_VALID, &sc, 1, 1, &sums, ranks) == 0);
    CHECK(ranks[0] == 1 && ranks[1] == 1);
    CHECK(ranks[2] == 1); /* the target itself is never masked */
    CHECK(evaluate(&ds, EVAL_TEST, &sc, 1, 1, &sums, ranks) == 0);
    CHECK(ranks[0] == 1);     /* 2 -> 3 */
    CHECK(ranks[1] == 8);     /* rule says 7 (100), then 0 1 2 3 4 8 (-j) beat 9; 5 6 masked */
    CHECK(ranks[2] == 1);     /* 4 -> 5 */
    metrics m = metrics_mean(&sums);
    CHECK(m.count == 3);

    /* both protocols from one scoring pass: the same ranks and sums as one protocol at a time */
    for (int split = EVAL_VALID; split <= EVAL_TEST; split++) {
        uint32_t ru[3], rm[3], one[3];
        uint32_t *const both[2] = {ru, rm};
        metrics two[2], single;
        CHECK(evaluate_protocols(&ds, (eval_split)split, &sc, 1, two, both) == 0); /* 1 thread: the same sums order */
        for (int p = 0; p < 2; p++) {
            CHECK(evaluate(&ds, (eval_split)split, &sc, p, 1, &single, one) == 0);
            CHECK(memcmp(one, both[p], sizeof one) == 0);
            CHECK(memcmp(&single, &two[p], sizeof single) == 0);
        }
        for (int u = 0; u < 3; u++) CHECK(rm[u] <= ru[u]); /* masking only removes competitors */
    }
    uint32_t rv[3];
    uint32_t *const only_masked[2] = {NULL, rv};
    metrics two[2];
    CHECK(evaluate_protocols(&ds, EVAL_VALID, &sc, 1, two, only_masked) == 0);
    CHECK(rv[0] == 1 && rv[1] == 1 && rv[2] == 1 && two[EVAL_UNMASKED].count == 3);
}

int main(void) {
    test_rank();
    test_metrics();
    test_evaluate();
    return check_done("test_eval_metrics");
}
