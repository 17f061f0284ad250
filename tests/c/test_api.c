/* test_api.c - the public API's contract (mdsrec.h): every error code, keys, catalog,
   similar, status strings, and recommend's filters and result fields. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mdsrec.h"
#include "synth.h"

#define N_ITEMS 40

static uint8_t *make(uint32_t dtype, uint32_t neighbours, int catalog, uint32_t pool, size_t *len) {
    synth_options o;
    synth_defaults(&o, N_ITEMS);
    o.dim = 16, o.n_blocks = 1, o.max_len = 6, o.neighbours = neighbours, o.dtype = dtype;
    o.catalog = catalog, o.pool_mode = pool, o.seed = 5;
    uint8_t *buf = NULL;
    mdsrec_error err;
    CHECK_MSG(synth_bundle(&o, &buf, len, &err) == MDSREC_OK, "%s", err.message);
    return buf;
}

static mdsrec_model *open_ok(const uint8_t *b, size_t len) {
    mdsrec_model *m = NULL;
    mdsrec_error err;
    mdsrec_status st = mdsrec_open(b, len, &m, &err);
    CHECK_MSG(st == MDSREC_OK && m, "%s", err.message);
    return m;
}

/* ---------------------------------------------------------------- open */

static void test_open(const uint8_t *b, size_t len) {
    mdsrec_model *m = (mdsrec_model *)1;
    mdsrec_error err;
    CHECK(mdsrec_open(b, len, NULL, &err) == MDSREC_EARG);
    CHECK(mdsrec_open(NULL, len, &m, &err) == MDSREC_EARG && m == NULL && err.code == MDSREC_EARG);
    uint8_t *odd = aligned_alloc(16, (len + 16 + 15) / 16 * 16);
    memcpy(odd + 4, b, len);
    m = (mdsrec_model *)1;
    CHECK(mdsrec_open(odd + 4, len, &m, &err) == MDSREC_EARG && m == NULL && strstr(err.message, "aligned"));
    CHECK(mdsrec_open(odd + 4, len, &m, NULL) == MDSREC_EARG); /* err is optional */
    free(odd);
    CHECK(mdsrec_open(b, len - 1, &m, &err) == MDSREC_EFORMAT && m == NULL);
    CHECK(mdsrec_open(b, len - 1, &m, NULL) == MDSREC_EFORMAT);
    m = open_ok(b, len);
    const mdsrec_config *c = mdsrec_model_config(m);
    CHECK(c && c->n_items == N_ITEMS && c->dim == 16 && c->n_channels == 3 && c->max_len == 6);
    CHECK(!strcmp(c->channels[1].name, "image") && c->channels[1].kind == MDSREC_CHANNEL_IMAGE);
    CHECK(mdsrec_model_config(NULL) == NULL);
    mdsrec_close(m);
    mdsrec_close(NULL);
}

/* ---------------------------------------------------------------- keys and catalog */

static void test_keys(const mdsrec_model *m) {
    char key[32];
    for (uint32_t i = 0; i < N_ITEMS; i++) {
        snprintf(key, sizeof key, "item-%06u", i);
        CHECK(mdsrec_find_key(m, key, strlen(key)) == i);
        size_t len = 0;
        const char *k = mdsrec_item_key(m, i, &len);
        CHECK(k && len == strlen(key) && !memcmp(k, key, len));
        CHECK(mdsrec_find_key(m, k, len) == i); /* round trip */
    }
    CHECK(mdsrec_find_key(m, "item-000040", 11) == -1);
    CHECK(mdsrec_find_key(m, "item-00000", 10) == -1);  /* a prefix of many keys */
    CHECK(mdsrec_find_key(m, "item-0000001", 12) == -1); /* an extension */
    CHECK(mdsrec_find_key(m, "a", 1) == -1 && mdsrec_find_key(m, "zzz", 3) == -1);
    CHECK(mdsrec_find_key(m, "", 0) == -1);
    CHECK(mdsrec_find_key(m, NULL, 3) == -1);
    CHECK(mdsrec_find_key(NULL, "item-000001", 11) == -1);
    char long_key[300];
    memset(long_key, 'x', sizeof long_key);
    CHECK(mdsrec_find_key(m, long_key, 256) == -1);
    size_t len = 7;
    CHECK(mdsrec_item_key(m, N_ITEMS, &len) == NULL && len == 0);
    CHECK(mdsrec_item_key(NULL, 0, &len) == NULL);
}

static void test_catalog(const mdsrec_model *with, const mdsrec_model *without) {
    size_t len = 0;
    const char *c = mdsrec_catalog(with, &len);
    CHECK(c && len > 2 && c[0] == '[' && c[len - 1] == ']');
    const char *want = "\"title\":\"Item 7\"";
    int found = 0;
    for (size_t i = 0; i + strlen(want) <= len && !found; i++) found = !memcmp(c + i, want, strlen(want));
    CHECK(found);
    len = 5;
    CHECK(mdsrec_catalog(without, &len) == NULL && len == 0);
    CHECK(mdsrec_catalog(NULL, &len) == NULL && len == 0);
}

/* ---------------------------------------------------------------- similar */

static void test_similar(const mdsrec_model *m, const mdsrec_model *no_nb) {
    uint32_t items[20], n = 99;
    float w[20];
    CHECK(mdsrec_similar(m, 3, 1, 20, items, w, &n) == MDSREC_OK && n == 5);
    int ok = 1;
    for (uint32_t i = 0; i < n; i++) {
        ok &= items[i] < N_ITEMS && items[i] != 3;
        if (i) ok &= w[i] <= w[i - 1];
    }
    CHECK(ok);
    uint32_t items2[2];
    float w2[2];
    CHECK(mdsrec_similar(m, 3, 1, 2, items2, w2, &n) == MDSREC_OK && n == 2);
    CHECK(items2[0] == items[0] && items2[1] == items[1] && w2[0] == w[0]);
    CHECK(mdsrec_similar(m, 3, 1, 0, items, w, &n) == MDSREC_EARG);
    CHECK(mdsrec_similar(m, N_ITEMS, 1, 5, items, w, &n) == MDSREC_EARG);
    CHECK(mdsrec_similar(m, 3, 3, 5, items, w, &n) == MDSREC_EARG);
    CHECK(mdsrec_similar(m, 3, 1, 5, NULL, w, &n) == MDSREC_EARG);
    CHECK(mdsrec_similar(m, 3, 1, 5, items, NULL, &n) == MDSREC_EARG);
    CHECK(mdsrec_similar(m, 3, 1, 5, items, w, NULL) == MDSREC_EARG);
    CHECK(mdsrec_similar(NULL, 3, 1, 5, items, w, &n) == MDSREC_EARG);
    CHECK(mdsrec_similar(no_nb, 3, 1, 5, items, w, &n) == MDSREC_ENOTFOUND && n == 0);
}

/* ---------------------------------------------------------------- recommend */

static int contains(const uint32_t *v, uint32_t n, uint32_t x) {
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

static void test_recommend_errors(const mdsrec_model *m, mdsrec_state *s, mdsrec_state *other) {
    uint32_t hist[2] = {1, 2}, bad[1] = {N_ITEMS};
    mdsrec_query q = {hist, 2, 5, 0, NULL, 0, NULL, 0};
    mdsrec_result r;
    mdsrec_state *s2 = NULL;
    CHECK(mdsrec_state_new(NULL, &s2) == MDSREC_EARG);
    CHECK(mdsrec_state_new(m, NULL) == MDSREC_EARG);
    mdsrec_state_free(NULL);
    CHECK(mdsrec_recommend(NULL, s, &q, &r) == MDSREC_EARG);
    CHECK(mdsrec_recommend(m, NULL, &q, &r) == MDSREC_EARG);
    CHECK(mdsrec_recommend(m, s, NULL, &r) == MDSREC_EARG);
    CHECK(mdsrec_recommend(m, s, &q, NULL) == MDSREC_EARG);
    CHECK(mdsrec_recommend(m, other, &q, &r) == MDSREC_EARG); /* a state of another model */
    q.k = 0;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_EARG);
    q.k = 5;
    q.history = bad, q.history_len = 1;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_EARG);
    q.history = NULL, q.history_len = 2;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_EARG);
    q.history = hist;
    q.exclude = bad, q.exclude_len = 1;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_EARG);
    q.exclude = NULL, q.exclude_len = 0;
    q.allow = bad, q.allow_len = 1;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_EARG);
    q.allow = NULL, q.allow_len = 0;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 5);

    float scores[N_ITEMS];
    CHECK(mdsrec_score_all(m, s, hist, 0, scores) == MDSREC_EARG);
    CHECK(mdsrec_score_all(m, s, bad, 1, scores) == MDSREC_EARG);
    CHECK(mdsrec_score_all(m, s, hist, 2, NULL) == MDSREC_EARG);
    CHECK(mdsrec_score_all(NULL, s, hist, 2, scores) == MDSREC_EARG);
    CHECK(mdsrec_score_all(m, other, hist, 2, scores) == MDSREC_EARG);
}

static void test_recommend(const mdsrec_model *m, mdsrec_state *s) {
    uint32_t hist[3] = {7, 3, 11};
    mdsrec_query q = {hist, 3, 10, 0, NULL, 0, NULL, 0};
    mdsrec_result r;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK);
    CHECK(r.count == 10 && r.n_channels == 3);
    float gsum = 0;
    for (uint32_t c = 0; c < 3; c++) {
        gsum += r.gates[c];
        CHECK(contains(hist, 3, r.carriers[c]));
        CHECK(r.carrier_weights[c] > 0 && r.carrier_weights[c] <= 1);
    }
    CHECK_CLOSE(gsum, 1.0, 1e-5);
    int ordered = 1, no_hist = 1, shares_add = 1;
    for (uint32_t i = 0; i < r.count; i++) {
        if (i) ordered &= r.scores[i] <= r.scores[i - 1];
        no_hist &= !contains(hist, 3, r.items[i]);
        float sum = r.shares[i * 3] + r.shares[i * 3 + 1] + r.shares[i * 3 + 2];
        shares_add &= fabsf(sum - r.scores[i]) <= 1e-4f * fmaxf(1.0f, fabsf(r.scores[i]));
    }
    CHECK(ordered && no_hist && shares_add);

    /* the same scores as the full ranking */
    float all[N_ITEMS];
    CHECK(mdsrec_score_all(m, s, hist, 3, all) == MDSREC_OK);
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK);
    for (uint32_t i = 0; i < r.count; i++) CHECK_CLOSE(r.scores[i], all[r.items[i]], 1e-5);
    uint32_t best = r.items[0];

    /* include the history; exclude the best; k past the catalogue */
    q.flags = MDSREC_INCLUDE_HISTORY, q.k = 1000;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == N_ITEMS);
    q.flags = 0;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == N_ITEMS - 3);
    q.exclude = &best, q.exclude_len = 1, q.k = 5;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 5 && !contains(r.items, 5, best));
    q.exclude = NULL, q.exclude_len = 0;

    /* allow-lists: a subset (with a duplicate and a history item), and an empty one */
    uint32_t allow[5] = {20, 7, 30, 20, 1};
    q.allow = allow, q.allow_len = 5, q.k = 10;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 3);
    int subset = 1;
    for (uint32_t i = 0; i < r.count; i++) subset &= contains(allow, 5, r.items[i]) && r.items[i] != 7;
    CHECK(subset);
    q.allow_len = 0;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 0);
    q.allow = NULL;

    /* a history longer than max_len reads its last max_len items */
    uint32_t longh[20], tail[6];
    for (uint32_t i = 0; i < 20; i++) longh[i] = (i * 7) % N_ITEMS;
    memcpy(tail, longh + 14, sizeof tail);
    float a[N_ITEMS], b[N_ITEMS];
    CHECK(mdsrec_score_all(m, s, longh, 20, a) == MDSREC_OK);
    CHECK(mdsrec_score_all(m, s, tail, 6, b) == MDSREC_OK);
    CHECK(!memcmp(a, b, sizeof a));

    /* empty history: the popularity order, scores 1 - rank/N, no gates or carriers */
    q.history_len = 0, q.k = 4;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 4);
    CHECK(r.scores[0] == 1.0f && r.carriers[0] == MDSREC_NONE && r.gates[0] == 0 && r.shares[0] == 0);
    CHECK_CLOSE(r.scores[3], 1.0 - 3.0 / N_ITEMS, 1e-6);
}

static void test_status_strings(void) {
    const char *seen[8];
    for (int i = 0; i <= MDSREC_ENOTFOUND; i++) {
        seen[i] = mdsrec_status_string(i);
        CHECK(seen[i] && seen[i][0]);
        for (int j = 0; j < i; j++) CHECK(strcmp(seen[i], seen[j]));
    }
    CHECK(!strcmp(mdsrec_status_string(MDSREC_OK), "ok"));
    CHECK(!strcmp(mdsrec_status_string(99), "unknown status"));
    CHECK(!strcmp(mdsrec_status_string(-1), "unknown status"));
    const char *k = mdsrec_kernels_name();
    CHECK(k && (!strcmp(k, "scalar") || !strcmp(k, "simd128") || !strcmp(k, "vec128")));
}

int main(void) {
    size_t len_a, len_b;
    uint8_t *a = make(MDSREC_F32, 5, 1, MDSREC_POOL_LAST, &len_a);
    uint8_t *b = make(MDSREC_I8, 0, 0, MDSREC_POOL_MEAN, &len_b);
    test_open(a, len_a);
    mdsrec_model *ma = open_ok(a, len_a), *mb = open_ok(b, len_b);
    test_keys(ma);
    test_keys(mb);
    test_catalog(ma, mb);
    test_similar(ma, mb);
    mdsrec_state *sa = NULL, *sb = NULL;
    CHECK(mdsrec_state_new(ma, &sa) == MDSREC_OK && mdsrec_state_new(mb, &sb) == MDSREC_OK);
    test_recommend_errors(ma, sa, sb);
    test_recommend(ma, sa);
    test_recommend(mb, sb);
    test_status_strings();
    mdsrec_state_free(sa);
    mdsrec_state_free(sb);
    mdsrec_close(ma);
    mdsrec_close(mb);
    free(a);
    free(b);
    return check_done("test_api");
}
