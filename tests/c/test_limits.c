/* test_limits.c - the limits of docs/ERRORS.md, each at and past its edge: item count, key
   length, history / exclude / allow lengths and k far beyond N, and the size arithmetic of
   the state (whose largest configs overflow a 32-bit size_t: this file also runs compiled to
   wasm32, where that overflow is real). Uses only src/, so that it builds for wasm too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/bundle.h"
#include "check.h"
#include "mdsrec.h"
#include "src/model.h"

/* ---------------------------------------------------------------- a bundle from a config */

/* A bundle of all-zero weights (LayerNorm gains too: still finite) for cfg, keys "k0".."kN-1",
   with the given keys when keys is not NULL. */
static mdsrec_status build(const mdsrec_config *cfg, const char *const *keys, uint8_t **out, size_t *len,
                           mdsrec_error *err) {
    uint64_t n = cfg->n_items, d = cfg->dim, c = cfg->n_channels;
    uint64_t enc = bundle_encoder_floats(cfg, 0), pool = bundle_pool_floats(cfg);
    uint64_t most = n * d;
    if ((uint64_t)cfg->max_len * d > most) most = (uint64_t)cfg->max_len * d;
    if (enc > most) most = enc;
    if (c * c * d + c > most) most = c * c * d + c;
    float *zeros = calloc((size_t)most + 1, sizeof(float));
    uint32_t *pop = malloc((size_t)n * sizeof *pop);
    char **made = keys ? NULL : malloc((size_t)n * sizeof *made);
    char *key_mem = keys ? NULL : malloc((size_t)n * 12);
    mdsrec_status st = MDSREC_ENOMEM;
    if (zeros && pop && (keys || (made && key_mem))) {
        bundle_spec s;
        memset(&s, 0, sizeof s);
        s.cfg = *cfg;
        for (uint32_t i = 0; i < n; i++) {
            pop[i] = i;
            if (!keys) {
                char *k = key_mem + (size_t)i * 12;
                uint32_t v = i, at = 11;
                k[at] = 0;
                do k[--at] = (char)('0' + v % 10), v /= 10;
                while (v);
                k[--at] = 'k';
                made[i] = k + at;
            }
        }
        s.keys = keys ? keys : (const char *const *)made;
        s.popularity = pop;
        s.gate = zeros;
        for (uint32_t ch = 0; ch < c; ch++) {
            s.ch[ch].items = zeros, s.ch[ch].pos = zeros, s.ch[ch].encoder = zeros;
            s.ch[ch].pool = pool ? zeros : NULL;
        }
        st = bundle_build(&s, out, len, err);
    }
    free(zeros);
    free(pop);
    free(made);
    free(key_mem);
    return st;
}

static mdsrec_config small_config(uint32_t n_items) {
    mdsrec_config c;
    memset(&c, 0, sizeof c);
    c.n_items = n_items, c.dim = 4, c.n_channels = 1, c.max_len = 3, c.n_blocks = 1, c.n_heads = 2;
    c.ffn_dim = 8, c.item_dtype = MDSREC_F32, c.pool_mode = MDSREC_POOL_LAST, c.ln_eps = 1e-5f;
    strcpy(c.channels[0].name, "id");
    c.channels[0].n_blocks = 1;
    return c;
}

/* ---------------------------------------------------------------- the state's size arithmetic */

/* channel_acts_floats counted independently, in 64 bits. */
static uint64_t acts_floats64(const mdsrec_config *c) {
    uint64_t L = c->max_len, d = c->dim, f = c->ffn_dim, H = c->n_heads, B = c->n_blocks;
    return L * d * (2 + 10 * B + 7) + L * (4 + 4 * B) + B * (H * L * L + 2 * L * f) + L * L;
}

/* Found by review of mdsrec_state_new: the largest configs the format allows (d = heads =
   max_len = 1024: 2^30 attention floats per block) need more than 4 GiB of state. In wasm32
   the float count times 4 wrapped around size_t, malloc got a small block, state_new said OK
   and the first recommend wrote far past it. A 21 MB bundle was enough. */
static void state_size_overflow(void) {
    mdsrec_config c = small_config(1);
    c.dim = 1024, c.n_heads = 1024, c.max_len = 1024, c.n_blocks = 1, c.ffn_dim = 1;
    c.pool_mode = MDSREC_POOL_NONE;
    uint64_t want = acts_floats64(&c);
    size_t got = channel_acts_floats(&c, 0);
    if (want <= SIZE_MAX) CHECK(got == want);
    else CHECK(got == SIZE_MAX); /* saturated: does not fit this address space */
    /* eight such blocks: 2^33 floats, past a 32-bit size_t even before the bytes */
    c.n_blocks = MDSREC_MAX_BLOCKS;
    want = acts_floats64(&c);
    got = channel_acts_floats(&c, 0);
    CHECK(want > SIZE_MAX ? got == SIZE_MAX : got == want);

    if (SIZE_MAX > UINT32_MAX) return; /* natively this state is 4 GiB+: not worth allocating */
    c.n_blocks = c.channels[0].n_blocks = 1;
    uint8_t *b = NULL;
    size_t len = 0;
    mdsrec_error err;
    mdsrec_status st = build(&c, NULL, &b, &len, &err);
    CHECK_MSG(st == MDSREC_OK, "%s", err.message);
    if (st) return;
    mdsrec_model *m = NULL;
    CHECK(mdsrec_open(b, len, &m, &err) == MDSREC_OK);
    mdsrec_state *s = (mdsrec_state *)1;
    CHECK(mdsrec_state_new(m, &s) == MDSREC_ENOMEM && s == NULL);
    mdsrec_close(m);
    free(b);
}

/* ---------------------------------------------------------------- item count */

static void item_count(void) {
    mdsrec_config c = small_config(MDSREC_MAX_ITEMS + 1);
    uint8_t *b = NULL;
    size_t len;
    mdsrec_error err;
    CHECK(build(&c, NULL, &b, &len, &err) == MDSREC_EARG && strstr(err.message, "n_items"));
    c.n_items = 0;
    CHECK(build(&c, NULL, &b, &len, &err) == MDSREC_EARG && strstr(err.message, "n_items"));
}

/* ---------------------------------------------------------------- key length */

static void key_length(void) {
    char longest[MDSREC_MAX_KEY_LEN + 2];
    memset(longest, 'x', sizeof longest);
    longest[MDSREC_MAX_KEY_LEN] = 0; /* 255 bytes: the longest key */
    const char *keys[2] = {longest, "short"};
    mdsrec_config c = small_config(2);
    uint8_t *b = NULL;
    size_t len;
    mdsrec_error err;
    CHECK_MSG(build(&c, keys, &b, &len, &err) == MDSREC_OK, "%s", err.message);
    mdsrec_model *m = NULL;
    CHECK(mdsrec_open(b, len, &m, &err) == MDSREC_OK);
    CHECK(mdsrec_find_key(m, longest, MDSREC_MAX_KEY_LEN) == 0);
    longest[MDSREC_MAX_KEY_LEN] = 'x'; /* 256 bytes: never a key, -1 without reading a model key */
    CHECK(mdsrec_find_key(m, longest, MDSREC_MAX_KEY_LEN + 1) == -1);
    CHECK(mdsrec_find_key(m, longest, SIZE_MAX) == -1);
    size_t kl = 0;
    CHECK(mdsrec_item_key(m, 0, &kl) && kl == MDSREC_MAX_KEY_LEN);
    CHECK(mdsrec_item_key(m, UINT32_MAX, &kl) == NULL && kl == 0);
    mdsrec_close(m);
    free(b);
    longest[MDSREC_MAX_KEY_LEN + 1] = 0; /* the writer refuses a 256-byte key */
    CHECK(build(&c, keys, &b, &len, &err) == MDSREC_EARG && strstr(err.message, "longer than 255"));
}

/* ---------------------------------------------------------------- query lengths */

static void query_lengths(void) {
    mdsrec_config c = small_config(10);
    uint8_t *b = NULL;
    size_t len;
    mdsrec_error err;
    CHECK_MSG(build(&c, NULL, &b, &len, &err) == MDSREC_OK, "%s", err.message);
    mdsrec_model *m = NULL;
    mdsrec_state *s = NULL;
    CHECK(mdsrec_open(b, len, &m, &err) == MDSREC_OK);
    CHECK(mdsrec_state_new(m, &s) == MDSREC_OK);

    /* a history of 200000 items: only the last max_len are read (results equal those of the
       tail alone); all of it is excluded */
    enum { LONG = 200000 };
    uint32_t *hist = malloc(LONG * sizeof *hist);
    for (uint32_t i = 0; i < LONG; i++) hist[i] = i % 7;
    mdsrec_query q = {hist, LONG, 10, 0, NULL, 0, NULL, 0};
    mdsrec_result r;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 3); /* items 7, 8, 9 */
    q.flags = MDSREC_INCLUDE_HISTORY;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 10);
    float long_scores[10];
    uint32_t long_items[10];
    memcpy(long_scores, r.scores, sizeof long_scores);
    memcpy(long_items, r.items, sizeof long_items);
    q.history = hist + LONG - c.max_len, q.history_len = c.max_len;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 10);
    CHECK(!memcmp(long_items, r.items, sizeof long_items) && !memcmp(long_scores, r.scores, sizeof long_scores));

    /* an exclude list and an allow-list of 200000 entries, repeats allowed; k far past N */
    q.history = hist, q.history_len = 2, q.flags = 0, q.k = UINT32_MAX;
    q.exclude = hist, q.exclude_len = LONG;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 3);
    q.exclude = NULL, q.exclude_len = 0, q.allow = hist, q.allow_len = LONG;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 5); /* 0..6 less the history 0, 1 */
    q.allow = NULL, q.allow_len = 0;

    /* a claimed length with no array: refused, never read */
    q.history = NULL, q.history_len = UINT32_MAX;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_EARG);
    q.history = hist, q.history_len = 1, q.exclude = NULL, q.exclude_len = UINT32_MAX;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_EARG);
    q.exclude_len = 0, q.allow = NULL, q.allow_len = UINT32_MAX; /* no allow-list: the length is unused */
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK);
    CHECK(mdsrec_score_all(m, s, NULL, UINT32_MAX, long_scores) == MDSREC_EARG);

    /* similar with k far past any row */
    uint32_t items[16], count = 99;
    float w[16];
    CHECK(mdsrec_similar(m, 0, 0, UINT32_MAX, items, w, &count) == MDSREC_ENOTFOUND && count == 0);

    free(hist);
    mdsrec_state_free(s);
    mdsrec_close(m);
    free(b);
}

/* ---------------------------------------------------------------- the wasm exports' sizes */

#ifdef __wasm__
/* The exports, compiled into the wasm build of this test only (the wasm test sources leave
   wasm_api.c out, and natively its uint32 sizes cannot wrap a 64-bit size_t). */
#include "src/wasm_api.c"

/* Found by review of mdsrec_wasm_alloc: it rounds the size up to 16 in a 32-bit size_t, so
   sizes past 4 GiB - 16 wrapped to a 0-byte block that JS would then fill. */
static void wasm_alloc_sizes(void) {
    CHECK(mdsrec_wasm_alloc(UINT32_MAX) == NULL);
    CHECK(mdsrec_wasm_alloc(0xFFFFFFF1u) == NULL);
    void *p = mdsrec_wasm_alloc(100);
    CHECK(p != NULL && (uintptr_t)p % 16 == 0);
    mdsrec_wasm_free(p);
}
#endif

int main(void) {
#ifdef __wasm__
    wasm_alloc_sizes();
#endif
    state_size_overflow();
    item_count();
    key_length();
    query_lengths();
    return check_done("test_limits");
}
