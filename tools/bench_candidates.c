/* bench_candidates.c - the candidate-mode case of `mdsrec bench` (bench_candidates.h). */
#include "bench_candidates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void bench_histories_free(bench_histories *h) {
    free(h->off), free(h->item), free(h->target);
    memset(h, 0, sizeof *h);
}

static int histories_alloc(bench_histories *h, uint32_t n, uint64_t items) {
    memset(h, 0, sizeof *h);
    h->n = n;
    h->off = malloc(((size_t)n + 1) * sizeof *h->off);
    h->item = malloc((items ? items : 1) * sizeof *h->item);
    h->target = malloc((n ? n : 1) * sizeof *h->target);
    if (h->off && h->item && h->target) return 0;
    bench_histories_free(h);
    cli_error("out of memory for %u histories", n);
    return -1;
}

int bench_histories_synthetic(uint32_t n, uint32_t first, uint32_t len, uint32_t n_items,
                              uint32_t (*gen)(uint32_t j, uint32_t t, uint32_t n), bench_histories *h) {
    if (histories_alloc(h, n, (uint64_t)n * len)) return -1;
    h->off[0] = 0;
    for (uint32_t j = 0; j < n; j++) {
        for (uint32_t t = 0; t < len; t++) h->item[(uint64_t)j * len + t] = gen(first + j, t, n_items);
        h->off[j + 1] = (uint64_t)(j + 1) * len;
        h->target[j] = MDSREC_NONE;
    }
    return 0;
}

/* ds's item i as a bundle index, or MDSREC_NONE. */
static uint32_t bundle_index(const mdsrec_model *m, const dataset *ds, uint32_t i) {
    int64_t x = mdsrec_find_key(m, ds->item_keys[i], strlen(ds->item_keys[i]));
    return x < 0 ? MDSREC_NONE : (uint32_t)x;
}

int bench_histories_data(const dataset *ds, const mdsrec_model *m, bench_histories *h, uint64_t *dropped) {
    uint64_t total = 0;
    for (uint32_t u = 0; u < ds->n_users; u++) total += ds_history_len(ds, u, DS_TEST);
    if (histories_alloc(h, ds->n_users, total)) return -1;
    *dropped = 0;
    uint64_t at = 0;
    h->off[0] = 0;
    for (uint32_t u = 0; u < ds->n_users; u++) {
        const uint32_t *seq = ds_seq(ds, u);
        for (uint32_t t = 0; t < ds_history_len(ds, u, DS_TEST); t++) {
            uint32_t x = bundle_index(m, ds, seq[t]);
            if (x == MDSREC_NONE) (*dropped)++;
            else h->item[at++] = x;
        }
        h->off[u + 1] = at;
        h->target[u] = bundle_index(m, ds, ds_test_target(ds, u));
        *dropped += h->target[u] == MDSREC_NONE;
    }
    return 0;
}

int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_quantile(const double *t, uint32_t n, double q) {
    uint32_t i = (uint32_t)(q * (n - 1) + 0.5);
    return t[i < n ? i : n - 1];
}

static int contains(const uint32_t *v, uint32_t n, uint32_t x) {
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

/* s as a JSON string (the quote and the backslash escaped; paths hold no control bytes). */
static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

typedef struct {
    double *t_exact, *t_cand; /* ms, per timed history */
    double recall, scored, hit_exact, hit_cand;
    uint32_t scored_max, with_target, non_empty;
} cand_stats;

/* One history both ways; adds to st when timed. */
static int run_one(const mdsrec_model *m, mdsrec_state *se, mdsrec_state *sc, const bench_histories *h, uint32_t j,
                   uint32_t k, const mdsrec_candidates *c, cand_stats *st, int timed) {
    uint32_t len = (uint32_t)(h->off[j + 1] - h->off[j]);
    mdsrec_query q = {h->item + h->off[j], len, k, 0, NULL, 0, NULL, 0};
    mdsrec_result re, rc;
    double t0 = cli_now();
    mdsrec_status s1 = mdsrec_recommend(m, se, &q, &re);
    double t1 = cli_now();
    mdsrec_status s2 = mdsrec_recommend_candidates(m, sc, &q, c, &rc);
    double t2 = cli_now();
    if (s1 || s2) {
        cli_error("history %u: recommend failed: %s", j, mdsrec_status_string(s1 ? s1 : s2));
        return -1;
    }
    if (!timed) return 0;
    st->t_exact[j] = (t1 - t0) * 1e3, st->t_cand[j] = (t2 - t1) * 1e3;
    if (!len) return 0; /* the popularity order both ways: not a case of candidate mode */
    st->non_empty++;
    uint32_t hit = 0;
    for (uint32_t r = 0; r < re.count; r++) hit += contains(rc.items, rc.count, re.items[r]);
    st->recall += re.count ? (double)hit / re.count : 1.0;
    st->scored += rc.scored;
    if (rc.scored > st->scored_max) st->scored_max = rc.scored;
    if (h->target[j] != MDSREC_NONE) {
        st->with_target++;
        st->hit_exact += contains(re.items, re.count, h->target[j]);
        st->hit_cand += contains(rc.items, rc.count, h->target[j]);
    }
    return 0;
}

int bench_candidates(const mdsrec_model *m, const bench_histories *h, uint32_t warmup, uint32_t k,
                     const mdsrec_candidates *c, const char *source) {
    mdsrec_state *se = NULL, *sc = NULL;
    cand_stats st;
    memset(&st, 0, sizeof st);
    st.t_exact = malloc((h->n ? h->n : 1) * sizeof(double));
    st.t_cand = malloc((h->n ? h->n : 1) * sizeof(double));
    int rc = -1;
    mdsrec_status s;
    if (!st.t_exact || !st.t_cand) {
        cli_error("out of memory");
        goto done;
    }
    if ((s = mdsrec_state_new(m, &se)) || (s = mdsrec_state_new(m, &sc))) {
        cli_error("%s", mdsrec_status_string(s));
        goto done;
    }
    for (uint32_t j = 0; j < warmup && j < h->n; j++)
        if (run_one(m, se, sc, h, j, k, c, &st, 0)) goto done;
    for (uint32_t j = 0; j < h->n; j++)
        if (run_one(m, se, sc, h, j, k, c, &st, 1)) goto done;
    uint32_t n = h->n ? h->n : 1, ne = st.non_empty ? st.non_empty : 1;
    qsort(st.t_exact, h->n, sizeof(double), bench_cmp_double);
    qsort(st.t_cand, h->n, sizeof(double), bench_cmp_double);
    double e50 = h->n ? bench_quantile(st.t_exact, n, 0.5) : 0, c50 = h->n ? bench_quantile(st.t_cand, n, 0.5) : 0;
    printf(",\"candidates\":{\"histories\":");
    print_json_string(source);
    printf(",\"calls\":%u,\"k\":%u,\"popular_head\":%u,\"hops\":%u,\"neighbours\":%u,", h->n, k, c->popular_head,
           c->hops ? c->hops : 1, c->neighbours);
    printf("\"exact\":{\"p50_ms\":%.4f,\"p95_ms\":%.4f},", e50, h->n ? bench_quantile(st.t_exact, n, 0.95) : 0);
    printf("\"candidate\":{\"p50_ms\":%.4f,\"p95_ms\":%.4f},", c50, h->n ? bench_quantile(st.t_cand, n, 0.95) : 0);
    printf("\"speedup_p50\":%.2f,\"scored_mean\":%.1f,\"scored_max\":%u,\"recall\":%.4f", c50 > 0 ? e50 / c50 : 0,
           st.scored / ne, st.scored_max, st.recall / ne);
    if (st.with_target)
        printf(",\"with_target\":%u,\"hit_exact\":%.4f,\"hit_candidate\":%.4f", st.with_target,
               st.hit_exact / st.with_target, st.hit_cand / st.with_target);
    printf("}");
    rc = 0;
done:
    mdsrec_state_free(se);
    mdsrec_state_free(sc);
    free(st.t_exact), free(st.t_cand);
    return rc;
}
