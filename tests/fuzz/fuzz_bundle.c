/*
 * fuzz_bundle.c - libFuzzer harness for the core: mdsrec_open on the input, then, on
 * whatever opens, every API call a page makes (state_new, recommend, score_all, similar on
 * every channel, find_key / item_key for every item, the catalog), checking the documented
 * contract of each result rather than only "no crash".
 *
 * Input: a bundle, optionally followed by query bytes. The header's file_size field says
 * where the bundle ends; bytes after it (when file_size < input length) drive the queries,
 * so plain bundles (the seed corpus, `mdsrec synth` output) are valid inputs and the fuzzer
 * can still grow the queries by appending. Without query bytes a fixed default stream is
 * used.
 *
 * Built twice (tests/fuzz/run.sh):
 *   fuzz_bundle       the bytes as they come: exercises the header, table and checksum checks
 *                     (a mutation inside any checksummed range is rejected there).
 *   fuzz_bundle_deep  -DFUZZ_FIX_CHECKSUMS: every checksum is recomputed after mutation, so
 *                     the fuzzer reaches the structural and value checks behind them and the
 *                     forward pass over damaged-but-accepted weights.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/bundle.h"
#include "src/checksum.h"
#include "fuzz_util.h"
#include "mdsrec.h"

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

#ifdef FUZZ_FIX_CHECKSUMS
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes every checksum the reader verifies: each in-bounds payload's, the table's and
   the header's (in that order, since each covers the previous). Out-of-bounds entries are
   left alone: the reader rejects them before their checksum matters. */
static void fix_checksums(uint8_t *b, size_t len) {
    if (len < BUNDLE_HEADER_SIZE) return;
    uint32_t count = get32(b + 20);
    if (count <= BUNDLE_MAX_SECTIONS && BUNDLE_HEADER_SIZE + (uint64_t)count * BUNDLE_ENTRY_SIZE <= len) {
        for (uint32_t i = 0; i < count; i++) {
            uint8_t *e = b + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE;
            uint64_t off = get64(e + 8), size = get64(e + 16);
            if (off <= len && size <= len - off) put64(e + 24, checksum64(b + off, (size_t)size));
        }
        put64(b + 40, checksum64(b + BUNDLE_HEADER_SIZE, (size_t)count * BUNDLE_ENTRY_SIZE));
    }
    put64(b + 56, checksum64(b, 56));
}
#endif

/* ---------------------------------------------------------------- the query byte stream */

typedef struct {
    const uint8_t *p;
    size_t n, at;
} stream;

static uint8_t next8(stream *s) { return s->at < s->n ? s->p[s->at++] : 0; }
static uint32_t next16(stream *s) { return (uint32_t)next8(s) | (uint32_t)next8(s) << 8; }
static int more(const stream *s) { return s->at < s->n; }

/* Used when the input carries no query bytes (k, flags, history/exclude/allow lengths, then
   16-bit indices): a history longer than short max_lens with an exclusion, an allow-list
   holding a duplicate and score_all; a plain history; the empty history with exclusions;
   a history with an index past N. */
static const uint8_t default_queries[] = {
    5, 0x15, 6, 1, 3, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 2, 0, 1, 0, 3, 0, 3, 0,
    3, 0x00, 3, 0, 0, 0, 0, 2, 0, 4, 0,
    4, 0x00, 0, 2, 0, 1, 0, 2, 0,
    2, 0x18, 2, 0, 0, 1, 0, 0, 0, 7, 1,
};

/* splitmix64: the probes that do not come from the query bytes. */
static uint64_t mix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* An index list of len entries from the stream, each reduced below N. */
static void take_indices(stream *s, uint32_t *v, uint32_t len, uint32_t N) {
    for (uint32_t i = 0; i < len; i++) v[i] = next16(s) % N;
}

/* ---------------------------------------------------------------- the checks */

static void check_keys(const mdsrec_model *m, const mdsrec_config *c, uint64_t *rng) {
    for (uint32_t i = 0; i < c->n_items; i++) {
        size_t len = 0;
        const char *k = mdsrec_item_key(m, i, &len);
        EXPECT(k != NULL && len >= 1 && len <= MDSREC_MAX_KEY_LEN);
        EXPECT(mdsrec_find_key(m, k, len) == (int64_t)i); /* keys are unique: loader-proved */
    }
    size_t len = 1;
    EXPECT(mdsrec_item_key(m, c->n_items, &len) == NULL && len == 0);
    EXPECT(mdsrec_find_key(m, NULL, 0) == -1);
    /* a known key cut short or extended by a byte: unknown, or exactly the key of the
       index returned (a prefix sorts before its extensions) */
    char probe[MDSREC_MAX_KEY_LEN + 1];
    size_t plen = 0;
    const char *k = mdsrec_item_key(m, (uint32_t)(mix(rng) % c->n_items), &plen);
    memcpy(probe, k, plen);
    uint64_t how = mix(rng);
    if (how & 1) plen--;
    else probe[plen++] = (char)(how >> 8);
    int64_t at = mdsrec_find_key(m, probe, plen);
    if (at >= 0) {
        size_t klen;
        const char *kk = mdsrec_item_key(m, (uint32_t)at, &klen);
        EXPECT(kk && klen == plen && memcmp(kk, probe, plen) == 0);
    } else {
        EXPECT(at == -1);
    }
}

static void check_catalog(const mdsrec_model *m) {
    size_t len = 7, glen = 7;
    const char *cat = mdsrec_catalog(m, &len);
    const unsigned char *gz = mdsrec_catalog_gzip(m, &glen);
    EXPECT(!cat || !gz); /* at most one form */
    if (!gz) EXPECT(glen == 0);
    else EXPECT(glen >= 18 && gz[0] == 0x1f && gz[1] == 0x8b && gz[2] == 8); /* its frame was checked */
    if (!cat) EXPECT(len == 0);
    /* touch every byte, so that ASan sees a catalog reaching past the buffer */
    unsigned sum = 0;
    for (size_t i = 0; cat && i < len; i++) sum += (unsigned char)cat[i];
    for (size_t i = 0; gz && i < glen; i++) sum += gz[i];
    EXPECT(sum != 0xFFFFFFFFu || len + glen > 0);
}

static void check_similar(const mdsrec_model *m, const mdsrec_config *c, uint64_t *rng) {
    enum { KMAX = 64 };
    uint32_t items[KMAX], count;
    float w[KMAX];
    uint32_t probes[3] = {0, c->n_items - 1, (uint32_t)(mix(rng) % c->n_items)};
    for (uint32_t ch = 0; ch < c->n_channels; ch++)
        for (int p = 0; p < 3; p++) {
            uint32_t k = 1 + (uint32_t)(mix(rng) % KMAX);
            mdsrec_status st = mdsrec_similar(m, probes[p], ch, k, items, w, &count);
            EXPECT(st == MDSREC_OK || st == MDSREC_ENOTFOUND);
            if (st) {
                EXPECT(count == 0);
                continue;
            }
            EXPECT(count <= k);
            for (uint32_t j = 0; j < count; j++) {
                EXPECT(items[j] < c->n_items && isfinite(w[j]));
                EXPECT(j == 0 || w[j] <= w[j - 1]); /* strongest first */
            }
        }
    EXPECT(mdsrec_similar(m, 0, c->n_channels, 1, items, w, &count) == MDSREC_EARG && count == 0);
    EXPECT(mdsrec_similar(m, c->n_items, 0, 1, items, w, &count) == MDSREC_EARG);
    EXPECT(mdsrec_similar(m, 0, 0, 0, items, w, &count) == MDSREC_EARG);
}

static int in_list(const uint32_t *v, uint32_t n, uint32_t x) {
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

/* Candidate mode on the query q just answered by the full scan (its top items and scores in
   ex_items, ex_scores, ex_n): every item eligible, once, best first; an item both return has
   the same score to the bit; without a history, with an allow-list or without neighbour
   lists the two are the same. Options from the stream. */
static void check_candidates(const mdsrec_model *m, const mdsrec_config *c, mdsrec_state *st, stream *s,
                             const mdsrec_query *q, const uint32_t *ex_items, const float *ex_scores, uint32_t ex_n) {
    uint32_t opt = next8(s);
    mdsrec_candidates o = {1, next8(s), opt & 1 ? 2 : 1, (opt >> 1) % 4};
    mdsrec_result r;
    EXPECT(mdsrec_recommend_candidates(m, st, q, &o, &r) == MDSREC_OK);
    EXPECT(r.count <= q->k && r.scored <= c->n_items);
    int same = q->history_len == 0 || q->allow || r.scored == c->n_items;
    if (same) EXPECT(r.count == ex_n);
    for (uint32_t i = 0; i < r.count; i++) {
        uint32_t it = r.items[i];
        EXPECT(it < c->n_items && !in_list(q->exclude, q->exclude_len, it));
        EXPECT(!q->allow || in_list(q->allow, q->allow_len, it));
        EXPECT((q->flags & MDSREC_INCLUDE_HISTORY) || !in_list(q->history, q->history_len, it));
        EXPECT(!in_list(r.items, i, it) && !isnan(r.scores[i]) && (i == 0 || r.scores[i] <= r.scores[i - 1]));
        if (same) EXPECT(it == ex_items[i]);
        for (uint32_t j = 0; j < ex_n; j++)
            if (ex_items[j] == it) EXPECT(!memcmp(&ex_scores[j], &r.scores[i], sizeof(float)));
    }
}

/* One query from the stream: recommend (and score_all) with the contract checked. */
static void one_query(const mdsrec_model *m, const mdsrec_config *c, mdsrec_state *st, stream *s,
                      float *all_scores, uint8_t *seen) {
    enum { HMAX = 64, LMAX = 16 };
    uint32_t hist[HMAX], excl[LMAX], allow[LMAX];
    uint32_t N = c->n_items;
    uint32_t k = next8(s);
    uint32_t flags = next8(s);
    uint32_t hl = next8(s) % HMAX, el = next8(s) % LMAX, al = next8(s) % LMAX;
    take_indices(s, hist, hl, N);
    take_indices(s, excl, el, N);
    take_indices(s, allow, al, N);
    int use_allow = flags & 4, poison = (flags & 8) && (hl || el || (use_allow && al));
    if (poison) { /* one index at or past N: the call must refuse it */
        uint32_t bad = flags & 64 ? 0xFFFFFFFFu : N + next8(s);
        if (hl) hist[next8(s) % hl] = bad;
        else if (el) excl[next8(s) % el] = bad;
        else allow[next8(s) % al] = bad;
    }
    mdsrec_query q = {hl ? hist : NULL, hl, k, flags & MDSREC_INCLUDE_HISTORY, el ? excl : NULL, el,
                      use_allow ? allow : NULL, al};
    mdsrec_result r;
    mdsrec_status rs = mdsrec_recommend(m, st, &q, &r);
    if (k == 0 || poison) {
        EXPECT(rs == MDSREC_EARG);
        return;
    }
    EXPECT(rs == MDSREC_OK);

    /* the eligible items, to bound (empty history: to fix) the result count */
    uint32_t eligible = 0;
    for (uint32_t i = 0; i < N; i++) {
        int ok = !in_list(excl, el, i) && (!use_allow || in_list(allow, al, i)) &&
                 ((flags & MDSREC_INCLUDE_HISTORY) || !in_list(hist, hl, i));
        seen[i / 8] = (uint8_t)(ok ? seen[i / 8] | 1u << (i % 8) : seen[i / 8] & ~(1u << (i % 8)));
        eligible += (uint32_t)ok;
    }
    uint32_t want = k < eligible ? k : eligible;
    EXPECT(r.n_channels == c->n_channels);
    EXPECT(r.count <= want);
    if (hl == 0) EXPECT(r.count == want); /* popularity order never drops an item */
    for (uint32_t i = 0; i < r.count; i++) {
        uint32_t it = r.items[i];
        EXPECT(it < N && (seen[it / 8] >> (it % 8) & 1));
        seen[it / 8] &= (uint8_t)~(1u << (it % 8)); /* each item once */
        EXPECT(!isnan(r.scores[i]));
        EXPECT(i == 0 || r.scores[i] <= r.scores[i - 1]);
    }
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        if (hl == 0) {
            EXPECT(r.carriers[ch] == MDSREC_NONE && r.gates[ch] == 0);
        } else {
            /* the carrier is one of the history items read (the last max_len) */
            uint32_t from = hl > c->max_len ? hl - c->max_len : 0;
            EXPECT(in_list(hist + from, hl - from, r.carriers[ch]));
        }
    }

    uint32_t ex_items[256];
    float ex_scores[256];
    memcpy(ex_items, r.items, r.count * sizeof *ex_items);
    memcpy(ex_scores, r.scores, r.count * sizeof *ex_scores);
    check_candidates(m, c, st, s, &q, ex_items, ex_scores, r.count);

    if (!(flags & 16) || hl == 0) return;
    /* score_all: same history, every item; agrees with the ranking above where finite */
    EXPECT(mdsrec_score_all(m, st, hist, hl, all_scores) == MDSREC_OK);
    for (uint32_t i = 0; i < r.count; i++) {
        float a = all_scores[r.items[i]], b = r.scores[i];
        if (isfinite(a) && isfinite(b)) EXPECT(fabsf(a - b) <= 1e-4f * fmaxf(1.0f, fmaxf(fabsf(a), fabsf(b))));
    }
    EXPECT(mdsrec_score_all(m, st, hist, 0, all_scores) == MDSREC_EARG);
}

static void use_model(const mdsrec_model *m, stream *s, uint64_t seed) {
    const mdsrec_config *c = mdsrec_model_config(m);
    EXPECT(c && c->n_items >= 1 && c->n_items <= MDSREC_MAX_ITEMS && c->n_channels >= 1 &&
           c->n_channels <= MDSREC_MAX_CHANNELS && c->max_len >= 1 && c->max_len <= MDSREC_MAX_LEN);
    uint64_t rng = seed;
    check_keys(m, c, &rng);
    check_catalog(m);
    check_similar(m, c, &rng);

    mdsrec_state *st = NULL;
    mdsrec_status ss = mdsrec_state_new(m, &st);
    if (ss == MDSREC_ENOMEM) return; /* a legal answer for a large config */
    EXPECT(ss == MDSREC_OK && st);
    float *all_scores = malloc((size_t)c->n_items * sizeof *all_scores);
    uint8_t *seen = malloc(((size_t)c->n_items + 7) / 8);
    if (all_scores && seen)
        for (int i = 0; i < 6 && (i == 0 || more(s)); i++) one_query(m, c, st, s, all_scores, seen);
    free(all_scores);
    free(seen);
    mdsrec_state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* the bundle part: up to file_size when the input holds more */
    size_t blen = size;
    if (size >= 32 && get64(data + 24) < size) blen = (size_t)get64(data + 24);
    stream s = {data + blen, size - blen, 0};
    if (s.n == 0) s.p = default_queries, s.n = sizeof default_queries;

    /* the loader wants 16-byte alignment; a block of exactly blen bytes lets ASan see any
       read past the end */
    void *buf = NULL;
    if (posix_memalign(&buf, 16, blen ? blen : 1) != 0) return 0;
    memcpy(buf, data, blen);
#ifdef FUZZ_FIX_CHECKSUMS
    fix_checksums(buf, blen);
#endif

    mdsrec_model *m = (mdsrec_model *)&s; /* must be reset to NULL on failure */
    mdsrec_error err;
    memset(&err, 0x55, sizeof err);
    mdsrec_status st = mdsrec_open(buf, blen, &m, &err);
    if (st != MDSREC_OK) {
        EXPECT(m == NULL);
        EXPECT(st == MDSREC_EFORMAT || st == MDSREC_EVERSION || st == MDSREC_ECHECKSUM || st == MDSREC_ENOMEM);
        EXPECT(err.code == (int)st);
        EXPECT(memchr(err.message, 0, sizeof err.message) != NULL && err.message[0] != 0);
    } else {
        EXPECT(m != NULL && err.code == 0);
        use_model(m, &s, checksum64(data, size));
        mdsrec_close(m);
    }
    free(buf);
    return 0;
}
