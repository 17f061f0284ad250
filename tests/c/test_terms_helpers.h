/*
 * test_terms_helpers.h - what the tests of the history terms share (test_coclick.c,
 * test_repeat.c): opening a copy of a bundle with one field of a global section damaged, a
 * dataset of fixed-length sequences, and a scorer whose scores do not change between the
 * points of a tuning grid.
 */
#ifndef TEST_TERMS_HELPERS_H
#define TEST_TERMS_HELPERS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/prepared.h"
#include "mdsrec.h"
#include "test_bundle_helpers.h"

/* xorshift64; each test seeds terms_rng in main, so its draws do not depend on the other's. */
static uint64_t terms_rng = 1;
__attribute__((unused)) static uint32_t below(uint32_t n) {
    terms_rng ^= terms_rng << 13, terms_rng ^= terms_rng >> 7, terms_rng ^= terms_rng << 17;
    return (uint32_t)(terms_rng % n);
}

/* spec as a bundle (free() it), checked to build. */
__attribute__((unused)) static uint8_t *build_checked(const bundle_spec *spec, size_t *len) {
    uint8_t *buf = NULL;
    mdsrec_error err;
    CHECK_MSG(bundle_build(spec, &buf, len, &err) == MDSREC_OK, "%s", err.message);
    return buf;
}

__attribute__((unused)) static mdsrec_model *open_model(const uint8_t *buf, size_t len) {
    mdsrec_model *m = NULL;
    mdsrec_error err;
    CHECK_MSG(mdsrec_open(buf, len, &m, &err) == MDSREC_OK, "%s", err.message);
    return m;
}

/* Each result's score is all[item] (mdsrec_score_all's), and its shares over the C channels add
   up to it. */
__attribute__((unused)) static void check_result_scores(const mdsrec_result *r, const float *all, uint32_t C) {
    for (uint32_t j = 0; j < r->count; j++) {
        uint32_t it = r->items[j];
        CHECK(fabsf(r->scores[j] - all[it]) <= 1e-5f * (1.0f + fabsf(all[it])));
        float sum = 0;
        for (uint32_t c = 0; c < C; c++) sum += r->shares[j * C + c];
        CHECK_MSG(fabsf(sum - r->scores[j]) <= 1e-4f * (1.0f + fabsf(r->scores[j])), "shares %g, score %g",
                  (double)sum, (double)r->scores[j]);
    }
}

/* A copy of b with the u32 at byte `at` of the first section of `kind` set to v, or, with
   set_size, that section's size in the table set to v (checksums made right again); the
   status of opening it, and its message in msg (256 bytes). */
__attribute__((unused)) static mdsrec_status open_patched(const uint8_t *b, size_t len, uint32_t kind, uint32_t at,
                                                          uint32_t v, int set_size, char *msg) {
    uint8_t *c = aligned_alloc(64, (len + 63) / 64 * 64);
    memcpy(c, b, len);
    uint32_t count;
    memcpy(&count, c + 20, 4);
    int found = 0;
    for (uint32_t i = 0; i < count && !found; i++) {
        uint8_t *e = c + 64 + 32 * (size_t)i;
        uint32_t k;
        uint64_t off, size = v;
        memcpy(&k, e, 4), memcpy(&off, e + 8, 8);
        if (k != kind) continue;
        found = 1;
        if (set_size) memcpy(e + 16, &size, 8);
        else memcpy(c + off + at, &v, 4);
    }
    CHECK(found);
    refresh(c, len);
    mdsrec_model *m = NULL;
    mdsrec_error err;
    mdsrec_status st = mdsrec_open(c, len, &m, &err);
    snprintf(msg, 256, "%s", err.message);
    mdsrec_close(m);
    free(c);
    return st;
}

__attribute__((unused)) static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* U sequences of len items each, all 0 (the caller fills ds->seq); free ds->off and ds->seq. */
__attribute__((unused)) static void fixed_dataset(dataset *ds, uint32_t users, uint32_t items, uint32_t len) {
    memset(ds, 0, sizeof *ds);
    ds->n_users = users, ds->n_items = items;
    ds->off = malloc((users + 1) * sizeof(uint64_t));
    ds->seq = calloc((size_t)users * len, sizeof(uint32_t));
    for (uint32_t u = 0; u <= users; u++) ds->off[u] = (uint64_t)u * len;
}

typedef struct {
    uint32_t n;
    int bonus;        /* 1: every history item scores hist_bonus instead */
    float hist_bonus;
} noise_ctx;
/* Scores in [0, 1) that depend only on the history's last click and the item, so every
   evaluation of a grid sees the same model; with bonus, the history's items score hist_bonus
   (a model that likes, or dislikes, what was clicked). */
__attribute__((unused)) static void noise_score(void *ctx, const uint32_t *const *hist, const uint32_t *len,
                                                size_t count, float *scores) {
    noise_ctx *c = ctx;
    for (size_t u = 0; u < count; u++) {
        for (uint32_t i = 0; i < c->n; i++) {
            uint64_t z = ((uint64_t)hist[u][len[u] - 1] << 32 | i) * 0x9E3779B97F4A7C15ull;
            z ^= z >> 29;
            scores[u * c->n + i] = (float)(z % 1000) / 1000.0f;
        }
        for (uint32_t t = 0; c->bonus && t < len[u]; t++) scores[u * c->n + hist[u][t]] = c->hist_bonus;
    }
}

#endif
