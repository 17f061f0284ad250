/* test_corrupt.c - damaged bundles never crash the loader: every truncation, every single-byte
   change in the header and section table, and random flips anywhere (a flip in padding may
   leave a valid bundle, which must then recommend normally), for each item dtype and both
   neighbour encodings (NEIGHBOURS_K and NEIGHBOURS; NEIGHBOURS_B below), and format v2's compact forms (pq items,
   f16 and q8 weights). Run under ASan+UBSan too: each
   damaged copy sits in a buffer of exactly its length, so any read past it is caught. */
#include <stdlib.h>
#include <string.h>

#include "src/bundle.h"
#include "check.h"
#include "src/checksum.h"
#include "mdsrec.h"
#include "synth.h"
#include "test_bundle_helpers.h"

static uint8_t *make_bundle(uint32_t dtype, uint32_t weights, int nb_compact, size_t *len) {
    synth_options o;
    synth_defaults(&o, dtype == MDSREC_F32 ? 20 : 6); /* f32: one whole panel of 16 rows and a tail */
    const char *why;
    synth_parse_channels(&o, "id,text", &why);
    o.dim = 8, o.n_blocks = 1, o.n_heads = 2, o.max_len = 4, o.neighbours = 2;
    o.dtype = dtype, o.catalog = 1, o.seed = 9, o.nb_compact = nb_compact, o.weights = weights;
    uint8_t *buf = NULL;
    mdsrec_error err;
    CHECK_MSG(synth_bundle(&o, &buf, len, &err) == MDSREC_OK, "%s", err.message);
    return buf;
}

/* A copy of b[0..len) in a 16-aligned block of exactly len bytes (1 for len 0). */
static uint8_t *exact_copy(const uint8_t *b, size_t len) {
    void *p = NULL;
    if (posix_memalign(&p, 16, len ? len : 1) != 0) return NULL;
    if (len) memcpy(p, b, len);
    return p;
}

/* Opens b; when it opens, uses the model a little. Returns the status. With `exact`, the
   results must be the full counts; without (a bundle whose checksums were rewritten over
   damaged values), finite weights may still overflow to NaN scores, which rank nowhere, so
   fewer results are fine: what matters is that nothing crashes. */
static mdsrec_status open_and_use_(const uint8_t *b, size_t len, int exact) {
    mdsrec_model *m = (mdsrec_model *)1;
    mdsrec_error err;
    mdsrec_status st = mdsrec_open(b, len, &m, &err);
    if (st) {
        CHECK(m == NULL && err.code == (int)st && err.message[0]);
        return st;
    }
    mdsrec_state *s = NULL;
    CHECK(mdsrec_state_new(m, &s) == MDSREC_OK);
    uint32_t hist[3] = {0, 4, 2};
    mdsrec_query q = {hist, 3, 4, 0, NULL, 0, NULL, 0};
    mdsrec_result r;
    uint32_t want = mdsrec_model_config(m)->n_items - 3 < 4 ? mdsrec_model_config(m)->n_items - 3 : 4;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && (exact ? r.count == want : r.count <= want));
    mdsrec_candidates cand = {1, 2, 2, 0}; /* candidate mode walks the neighbour lists */
    CHECK(mdsrec_recommend_candidates(m, s, &q, &cand, &r) == MDSREC_OK && r.count <= want);
    q.history_len = 0;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 4);
    uint32_t items[4];
    float w[4];
    uint32_t n;
    mdsrec_status ss = mdsrec_similar(m, 5, 1, 4, items, w, &n);
    if (exact) CHECK(ss == MDSREC_OK && n == 2);
    else CHECK((ss == MDSREC_OK && n <= 4) || (ss == MDSREC_ENOTFOUND && n == 0)); /* relabelled: skipped */
    size_t kl;
    const char *k3 = mdsrec_item_key(m, 3, &kl);
    CHECK(k3 != NULL && mdsrec_find_key(m, k3, kl) == 3);
    if (exact) CHECK(mdsrec_find_key(m, "item-000003", 11) == 3);
    mdsrec_state_free(s);
    mdsrec_close(m);
    return MDSREC_OK;
}

static mdsrec_status open_and_use(const uint8_t *b, size_t len) { return open_and_use_(b, len, 1); }

static void truncations(const uint8_t *good, size_t len) {
    int all = 1;
    for (size_t l = 0; l < len; l++) {
        uint8_t *b = exact_copy(good, l);
        all &= open_and_use(b, l) != MDSREC_OK;
        free(b);
    }
    CHECK_MSG(all, "a truncated bundle opened");
}

/* Every byte of the header and the section table, each with several xor values. */
static void header_and_table(const uint8_t *good, size_t len) {
    uint32_t count;
    memcpy(&count, good + 20, 4);
    size_t end = BUNDLE_HEADER_SIZE + (size_t)count * BUNDLE_ENTRY_SIZE;
    static const uint8_t xors[] = {0x01, 0x02, 0x10, 0x80, 0xFF, 0x5A};
    uint8_t *b = exact_copy(good, len);
    int all = 1;
    for (size_t i = 0; i < end; i++)
        for (size_t x = 0; x < sizeof xors; x++) {
            b[i] ^= xors[x];
            int failed = open_and_use(b, len) != MDSREC_OK;
            if (!failed) fprintf(stderr, "byte %zu ^ 0x%02x opened\n", i, xors[x]);
            all &= failed;
            b[i] ^= xors[x];
        }
    CHECK_MSG(all, "a damaged header or table opened");
    CHECK(open_and_use(b, len) == MDSREC_OK);
    free(b);
}

/* Marks the bytes some checksum covers: the header, the table, every payload. */
static uint8_t *covered_map(const uint8_t *b, size_t len) {
    uint8_t *cov = calloc(len, 1);
    uint32_t count;
    memcpy(&count, b + 20, 4);
    memset(cov, 1, BUNDLE_HEADER_SIZE + (size_t)count * BUNDLE_ENTRY_SIZE);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t off, size;
        memcpy(&off, b + 64 + 32 * (size_t)i + 8, 8);
        memcpy(&size, b + 64 + 32 * (size_t)i + 16, 8);
        memset(cov + off, 1, (size_t)size);
    }
    return cov;
}

static void random_flips(const uint8_t *good, size_t len, uint64_t seed, int rounds) {
    uint8_t *cov = covered_map(good, len);
    uint8_t *b = exact_copy(good, len);
    int opened = 0, wrong = 0;
    for (int r = 0; r < rounds; r++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t at = (size_t)(seed >> 33) % len;
        uint8_t x = (uint8_t)(seed >> 20) | 1;
        int flips = 1 + (int)((seed >> 12) % 3); /* one to three bytes near each other */
        size_t pos[3];
        int hit_covered = 0;
        for (int f = 0; f < flips; f++) {
            pos[f] = (at + (size_t)f * 7) % len;
            b[pos[f]] ^= x;
            hit_covered |= cov[pos[f]];
        }
        mdsrec_status st = open_and_use(b, len);
        if (st == MDSREC_OK) opened++;
        wrong += st == MDSREC_OK && hit_covered; /* a checksummed byte changed, yet it opened */
        for (int f = flips - 1; f >= 0; f--) b[pos[f]] ^= x;
    }
    CHECK_MSG(wrong == 0, "%d damaged bundles opened", wrong);
    CHECK(opened < rounds);
    free(b);
    free(cov);
}

/* Flips with the checksums made right again: the structure-aware fuzz of the reader's deeper
   checks. Each result either fails to open or opens and recommends without a crash. */
static void flips_past_checksums(const uint8_t *good, size_t len, uint64_t seed, int rounds) {
    uint8_t *b = exact_copy(good, len);
    int opened = 0;
    for (int r = 0; r < rounds; r++) {
        memcpy(b, good, len);
        int flips = 1 + r % 4;
        for (int f = 0; f < flips; f++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(seed >> 33) % len;
            /* small integer edits as often as bit flips: they reach count and offset checks */
            if (seed & 0x100) b[at] ^= (uint8_t)(1u << ((seed >> 20) & 7));
            else b[at] = (uint8_t)(b[at] + ((seed >> 9) & 1 ? 1 : 0xFF));
        }
        refresh(b, len);
        opened += open_and_use_(b, len, 0) == MDSREC_OK;
    }
    CHECK(opened > 0 && opened < rounds);
    free(b);
}

int main(void) {
    /* each v1 dtype with the neighbours compact (NEIGHBOURS_K, synth's default) and as CSR,
       then the v2 forms: pq items with each weight dtype, and i8 items with q8 weights; the last
       two with the bit-packed lists (NEIGHBOURS_B) */
    static const uint32_t dtypes[] = {MDSREC_I8, MDSREC_F32, MDSREC_F16, MDSREC_I8, MDSREC_F32, MDSREC_F16,
                                      MDSREC_PQ, MDSREC_PQ, MDSREC_PQ, MDSREC_I8};
    static const uint32_t weights[] = {0, 0, 0, 0, 0, 0, MDSREC_WEIGHTS_F32, MDSREC_WEIGHTS_F16, MDSREC_WEIGHTS_Q8,
                                       MDSREC_WEIGHTS_Q8};
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++) {
        size_t len;
        uint8_t *good = make_bundle(dtypes[i], weights[i], i >= 8 ? 2 : i < 3 || i >= 6, &len);
        CHECK(open_and_use(good, len) == MDSREC_OK);
        truncations(good, len);
        header_and_table(good, len);
        random_flips(good, len, 1234 + i, 3000);
        flips_past_checksums(good, len, 777 + i, 20000);
        free(good);
    }
    return check_done("test_corrupt");
}
