/* test_bundle.c - the bundle format: checksum64's properties, a round trip of every section
   through bundle_build and bundle_read (f32, f16, i8; neighbours as NEIGHBOURS and as
   NEIGHBOURS_K), the writer's refusals, and every error path of the reader reached by editing
   a valid bundle (checksums rewritten after the edit, so the deeper check is the one
   reached). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/bundle.h"
#include "check.h"
#include "src/checksum.h"
#include "src/half.h"
#include "mdsrec.h"
#include "synth.h"
#include "test_bundle_helpers.h"

/* ---------------------------------------------------------------- helpers */

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void set32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void set64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void setf(uint8_t *p, float v) { memcpy(p, &v, 4); }

static void small_options(synth_options *o, uint32_t dtype) {
    synth_defaults(o, 7);
    const char *why;
    synth_parse_channels(o, "id,image", &why);
    o->dim = 8, o->n_blocks = 1, o->n_heads = 2, o->max_len = 4, o->neighbours = 3;
    o->dtype = dtype, o->catalog = 1, o->seed = 42;
    o->nb_compact = 0; /* the CSR NEIGHBOURS sections; the compact ones have their own tests */
}

/* A valid small bundle in a fresh 64-aligned buffer (neighbours compact or CSR). */
static uint8_t *small_bundle_nb(uint32_t dtype, int compact, size_t *len) {
    synth_options o;
    small_options(&o, dtype);
    o.nb_compact = compact;
    uint8_t *buf = NULL;
    mdsrec_error err;
    mdsrec_status st = synth_bundle(&o, &buf, len, &err);
    CHECK_MSG(st == MDSREC_OK, "synth_bundle: %s", err.message);
    return buf;
}

static uint8_t *small_bundle(uint32_t dtype, size_t *len) { return small_bundle_nb(dtype, 0, len); }

static uint8_t *copy_of(const uint8_t *b, size_t len) {
    uint8_t *c = aligned_alloc(64, (len + 63) / 64 * 64);
    memcpy(c, b, len);
    return c;
}

static uint32_t n_entries(const uint8_t *b) { return get32(b + 20); }
static uint8_t *entry(uint8_t *b, uint32_t i) { return b + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE; }

/* The table entry of (kind, channel), or NULL. */
static uint8_t *find(uint8_t *b, uint32_t kind, uint32_t channel) {
    for (uint32_t i = 0; i < n_entries(b); i++) {
        uint8_t *e = entry(b, i);
        if (get32(e) == kind && get32(e + 4) == channel) return e;
    }
    return NULL;
}

static uint8_t *payload(uint8_t *b, uint32_t kind, uint32_t channel) {
    uint8_t *e = find(b, kind, channel);
    return e ? b + get64(e + 8) : NULL;
}

/* Reads b and checks the code and that the message holds each of the given parts. */
static void expect(const uint8_t *b, size_t len, mdsrec_status code, const char *part1, const char *part2, int line) {
    bundle_view v;
    mdsrec_error err;
    memset(&err, 0, sizeof err);
    mdsrec_status st = bundle_read(b, len, &v, &err);
    CHECK_MSG(st == code, "line %d: status %d, expected %d (%s)", line, st, code, err.message);
    CHECK_MSG(err.code == (int)code, "line %d: err.code %d", line, err.code);
    CHECK_MSG(!part1 || strstr(err.message, part1), "line %d: message '%s' lacks '%s'", line, err.message, part1);
    CHECK_MSG(!part2 || strstr(err.message, part2), "line %d: message '%s' lacks '%s'", line, err.message, part2);
}
#define EXPECT(b, len, code, p1, p2) expect(b, len, code, p1, p2, __LINE__)

/* A copy of good with the u32 at CONFIG offset `off` set to v (checksums refreshed) must be
   refused with EFORMAT and a message holding part1 and part2. */
static void expect_config_(const uint8_t *good, size_t len, size_t off, uint32_t v, const char *part1,
                           const char *part2, int line) {
    uint8_t *b = copy_of(good, len);
    set32(payload(b, SEC_CONFIG, BUNDLE_NO_CHANNEL) + off, v);
    refresh(b, len);
    expect(b, len, MDSREC_EFORMAT, part1, part2, line);
    free(b);
}
#define EXPECT_CONFIG(good, len, off, v, p1, p2) expect_config_(good, len, off, v, p1, p2, __LINE__)

/* ---------------------------------------------------------------- checksum64 */

static void test_checksum(void) {
    CHECK(checksum64(NULL, 0) == checksum64("", 0));
    CHECK(checksum64(NULL, 0) == checksum64(NULL, 0));
    uint8_t data[100];
    uint64_t s = 7;
    for (int i = 0; i < 100; i++) data[i] = (uint8_t)((s = s * 6364136223846793005ull + 1) >> 56);
    for (size_t len = 0; len <= 100; len += 11) {
        uint64_t base = checksum64(data, len);
        int all = 1;
        for (size_t i = 0; i < len; i++)
            for (int x = 1; x < 256; x += 37) {
                data[i] ^= (uint8_t)x;
                all &= checksum64(data, len) != base;
                data[i] ^= (uint8_t)x;
            }
        CHECK_MSG(all, "a single-byte change in %zu bytes went unnoticed", len);
        CHECK(checksum64(data, len) == base);
    }
    /* the length is part of it: zero bytes of different lengths differ */
    uint8_t zeros[64] = {0};
    int distinct = 1;
    for (size_t a = 0; a < 64; a++)
        for (size_t b = a + 1; b <= 64; b++) distinct &= checksum64(zeros, a) != checksum64(zeros, b);
    CHECK(distinct);
    /* any alignment gives the same answer */
    uint8_t shifted[101];
    memcpy(shifted + 1, data, 100);
    CHECK(checksum64(shifted + 1, 100) == checksum64(data, 100));
}

/* ---------------------------------------------------------------- round trip */

static void round_trip(uint32_t dtype) {
    synth_options o;
    small_options(&o, dtype);
    synth_model m;
    mdsrec_error err;
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    const mdsrec_config *c = &m.spec.cfg;
    size_t n = c->n_items, d = c->dim;
    /* an all-zero row (i8 scale 0) and an exactly representable extreme */
    memset(m.items[1] + 2 * d, 0, d * sizeof(float));
    m.items[0][3] = -2.5f;
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_MSG(bundle_build(&m.spec, &buf, &len, &err) == MDSREC_OK, "%s", err.message);
    CHECK((uintptr_t)buf % 64 == 0);
    bundle_view v;
    mdsrec_status st = bundle_read(buf, len, &v, &err);
    CHECK_MSG(st == MDSREC_OK, "%s", err.message);
    if (st) {
        free(buf);
        synth_free(&m);
        return;
    }
    /* config */
    CHECK(v.cfg.n_items == c->n_items && v.cfg.dim == c->dim && v.cfg.n_channels == c->n_channels);
    CHECK(v.cfg.max_len == c->max_len && v.cfg.n_blocks == c->n_blocks && v.cfg.n_heads == c->n_heads);
    CHECK(v.cfg.ffn_dim == c->ffn_dim && v.cfg.item_dtype == dtype && v.cfg.pool_mode == c->pool_mode);
    CHECK(v.cfg.ln_mode == 0 && v.cfg.ln_eps == c->ln_eps);
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        CHECK(!strcmp(v.cfg.channels[ch].name, c->channels[ch].name));
        CHECK(v.cfg.channels[ch].kind == c->channels[ch].kind);
    }
    /* keys and their order */
    for (size_t i = 0; i < n; i++) {
        size_t kl = v.key_offsets[i + 1] - v.key_offsets[i];
        CHECK(kl == strlen(m.keys[i]) && !memcmp(v.key_bytes + v.key_offsets[i], m.keys[i], kl));
    }
    for (size_t i = 1; i < n; i++) CHECK(strcmp(m.keys[v.key_order[i - 1]], m.keys[v.key_order[i]]) < 0);
    /* item matrices, as the dtype stores them */
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        const float *x = m.items[ch];
        int same = 1;
        for (size_t i = 0; i < n; i++) {
            if (dtype == MDSREC_F32) {
                same &= !memcmp(v.ch[ch].items, x, n * d * 4);
            } else if (dtype == MDSREC_F16) {
                const uint16_t *h = v.ch[ch].items;
                for (size_t j = 0; j < d; j++) same &= h[i * d + j] == float_to_half(x[i * d + j]);
            } else {
                const int8_t *q = v.ch[ch].items;
                float mx = 0;
                for (size_t j = 0; j < d; j++) mx = fmaxf(mx, fabsf(x[i * d + j]));
                float scale = mx / 127.0f;
                same &= v.ch[ch].scales[i] == scale;
                for (size_t j = 0; j < d; j++) {
                    long want = scale > 0 ? lrintf(x[i * d + j] / scale) : 0;
                    same &= q[i * d + j] == want;
                    same &= fabsf(q[i * d + j] * scale - x[i * d + j]) <= scale * 0.5f + 1e-7f;
                }
            }
        }
        CHECK_MSG(same, "channel %u items differ (dtype %u)", ch, dtype);
        CHECK((dtype == MDSREC_I8) == (v.ch[ch].scales != NULL));
        if (dtype == MDSREC_I8 && ch == 1) CHECK(v.ch[1].scales[2] == 0);
        CHECK(!memcmp(v.ch[ch].pos, m.pos[ch], (size_t)c->max_len * d * 4));
        CHECK(!memcmp(v.ch[ch].encoder, m.encoder[ch], bundle_encoder_floats(c, ch) * 4));
        CHECK(!memcmp(v.ch[ch].pool, m.pool[ch], bundle_pool_floats(c) * 4));
        CHECK(!memcmp(v.ch[ch].nb_row, m.nb_row[ch], (n + 1) * 4));
        uint32_t nnz = m.nb_row[ch][n];
        CHECK(nnz == n * 3);
        CHECK(!memcmp(v.ch[ch].nb_index, m.nb_index[ch], nnz * 4));
        CHECK(!memcmp(v.ch[ch].nb_weight, m.nb_weight[ch], nnz * 4));
    }
    CHECK(!memcmp(v.gate, m.gate, ((size_t)c->n_channels * c->n_channels * d + c->n_channels) * 4));
    CHECK(!memcmp(v.popularity, m.popularity, n * 4));
    CHECK(v.catalog_len == m.spec.catalog_len && !memcmp(v.catalog, m.catalog, v.catalog_len));
    /* layout: every payload 64-aligned, padding zero, table in offset order */
    uint64_t prev = 0;
    int aligned = 1, zero_pad = 1;
    for (uint32_t i = 0; i < n_entries(buf); i++) {
        uint8_t *e = entry(buf, i);
        uint64_t off = get64(e + 8), size = get64(e + 16);
        aligned &= off % 64 == 0 && off >= prev;
        for (uint64_t p = prev ? prev : 64 + 32ull * n_entries(buf); p < off; p++) zero_pad &= buf[p] == 0;
        prev = off + size;
    }
    CHECK(aligned && zero_pad && prev == len);
    free(buf);

    /* without neighbours, pooling or catalog: the optional sections are absent */
    for (uint32_t ch = 0; ch < c->n_channels; ch++) m.spec.ch[ch].nb_row = NULL, m.spec.ch[ch].pool = NULL;
    m.spec.cfg.pool_mode = MDSREC_POOL_NONE;
    m.spec.catalog = NULL;
    CHECK(bundle_build(&m.spec, &buf, &len, &err) == MDSREC_OK);
    CHECK(bundle_read(buf, len, &v, &err) == MDSREC_OK);
    CHECK(!v.ch[0].nb_row && !v.ch[0].pool && !v.catalog && v.catalog_len == 0);
    CHECK(find(buf, SEC_POOL, 0) == NULL && find(buf, SEC_NEIGHBOURS, 1) == NULL);
    free(buf);
    synth_free(&m);
}

/* ---------------------------------------------------------------- writer refusals */

static void expect_build_fails(synth_model *m, const char *part, int line) {
    uint8_t *buf = (uint8_t *)1;
    size_t len = 1;
    mdsrec_error err;
    memset(&err, 0, sizeof err);
    mdsrec_status st = bundle_build(&m->spec, &buf, &len, &err);
    CHECK_MSG(st == MDSREC_EARG, "line %d: status %d (%s)", line, st, err.message);
    CHECK_MSG(buf == NULL && len == 0, "line %d: output not cleared", line);
    CHECK_MSG(strstr(err.message, part), "line %d: message '%s' lacks '%s'", line, err.message, part);
}

static void test_writer_refusals(void) {
    synth_options o;
    small_options(&o, MDSREC_F16);
    synth_model m;
    mdsrec_error err;
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    const char *saved = m.keys[3];
    m.keys[3] = m.keys[4];
    expect_build_fails(&m, "appears twice", __LINE__);
    m.keys[3] = "";
    expect_build_fails(&m, "key 3 is empty", __LINE__);
    m.keys[3] = "bad\xff";
    expect_build_fails(&m, "UTF-8", __LINE__);
    m.keys[3] = saved;
    m.items[1][5] = NAN;
    expect_build_fails(&m, "channel 1 items", __LINE__);
    m.items[1][5] = 1e6f; /* past the f16 range */
    expect_build_fails(&m, "f16 range", __LINE__);
    m.items[1][5] = 0.5f;
    m.popularity[0] = m.popularity[1];
    expect_build_fails(&m, "popularity", __LINE__);
    synth_free(&m);
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    m.spec.cfg.n_heads = 3;
    expect_build_fails(&m, "n_heads", __LINE__);
    m.spec.cfg.n_heads = 2;
    m.nb_index[0][4] = 7;
    expect_build_fails(&m, "neighbours", __LINE__);
    m.nb_index[0][4] = 1;
    m.spec.ch[0].items = NULL;
    expect_build_fails(&m, "items is NULL", __LINE__);
    synth_free(&m);
    CHECK(bundle_build(NULL, NULL, NULL, NULL) == MDSREC_EARG);
}


/* ---------------------------------------------------------------- item layout */

/* The same synth model written with f32 rows in panels of 16 and row-major: 37 items are two
   whole panels and a row-major tail of 5. Every element lies where bundle_item_offset says,
   and the core scores both alike (the panel kernel and the single-row path too). */
static void panel_layout(void) {
    synth_options o;
    small_options(&o, MDSREC_F32);
    o.n_items = 37;
    synth_model m;
    mdsrec_error err;
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    const mdsrec_config *c = &m.spec.cfg;
    size_t n = c->n_items, d = c->dim;
    CHECK(c->item_layout == MDSREC_LAYOUT_PANEL16); /* synth's default for f32 */
    CHECK(bundle_item_offset(c, 17, 3) == 16 * d + 3 * 16 + 1);
    CHECK(bundle_item_offset(c, 33, 2) == 33 * d + 2); /* the tail */
    uint8_t *pb = NULL, *rb = NULL;
    size_t plen = 0, rlen = 0;
    CHECK_MSG(bundle_build(&m.spec, &pb, &plen, &err) == MDSREC_OK, "%s", err.message);
    m.spec.cfg.item_layout = MDSREC_LAYOUT_ROWS;
    CHECK_MSG(bundle_build(&m.spec, &rb, &rlen, &err) == MDSREC_OK, "%s", err.message);
    CHECK(plen == rlen);
    bundle_view v;
    CHECK(bundle_read(pb, plen, &v, &err) == MDSREC_OK);
    CHECK(v.cfg.item_layout == MDSREC_LAYOUT_PANEL16);
    int same = 1;
    for (uint32_t ch = 0; ch < c->n_channels; ch++)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                same &= ((const float *)v.ch[ch].items)[bundle_item_offset(&v.cfg, i, j)] == m.items[ch][i * d + j];
    CHECK_MSG(same, "panel-laid items differ from the spec's rows");
    CHECK(memcmp(payload(pb, SEC_ITEMS, 0), payload(rb, SEC_ITEMS, 0), n * d * 4) != 0);
    CHECK(bundle_read(rb, rlen, &v, &err) == MDSREC_OK && v.cfg.item_layout == MDSREC_LAYOUT_ROWS);

    mdsrec_model *pm = NULL, *rm = NULL;
    mdsrec_state *ps = NULL, *rs = NULL;
    CHECK(mdsrec_open(pb, plen, &pm, &err) == MDSREC_OK && mdsrec_state_new(pm, &ps) == MDSREC_OK);
    CHECK(mdsrec_open(rb, rlen, &rm, &err) == MDSREC_OK && mdsrec_state_new(rm, &rs) == MDSREC_OK);
    static const uint32_t hist[] = {3, 20, 36, 17, 5};
    float psc[37], rsc[37];
    for (uint32_t hl = 1; hl <= 5; hl++) {
        CHECK(mdsrec_score_all(pm, ps, hist, hl, psc) == MDSREC_OK);
        CHECK(mdsrec_score_all(rm, rs, hist, hl, rsc) == MDSREC_OK);
        int close = 1;
        for (size_t i = 0; i < n; i++) close &= fabsf(psc[i] - rsc[i]) <= 1e-5f * (1.0f + fabsf(rsc[i]));
        CHECK_MSG(close, "history of %u: panel and row scores differ", hl);
        /* top 10 of each, and through an allow-list (rows scored one at a time) */
        mdsrec_query q = {.history = hist, .history_len = hl, .k = 10};
        mdsrec_result pr, rr;
        CHECK(mdsrec_recommend(pm, ps, &q, &pr) == MDSREC_OK);
        uint32_t ptop[10];
        float ptopsc[10];
        memcpy(ptop, pr.items, sizeof ptop), memcpy(ptopsc, pr.scores, sizeof ptopsc);
        CHECK(mdsrec_recommend(rm, rs, &q, &rr) == MDSREC_OK);
        CHECK(pr.count == 10 && rr.count == 10 && !memcmp(ptop, rr.items, sizeof ptop));
        for (uint32_t r = 0; r < 10; r++) CHECK(ptopsc[r] == psc[ptop[r]]);
        uint32_t all[37];
        for (uint32_t i = 0; i < 37; i++) all[i] = 36 - i;
        q.allow = all, q.allow_len = 37;
        CHECK(mdsrec_recommend(pm, ps, &q, &pr) == MDSREC_OK);
        CHECK(pr.count == 10 && !memcmp(ptop, pr.items, sizeof ptop) && !memcmp(ptopsc, pr.scores, sizeof ptopsc));
        /* the shares sum to the score */
        for (uint32_t r = 0; r < 10; r++)
            CHECK(fabsf(pr.shares[2 * r] + pr.shares[2 * r + 1] - pr.scores[r]) <= 1e-5f * (1.0f + fabsf(pr.scores[r])));
    }
    mdsrec_state_free(ps), mdsrec_state_free(rs);
    mdsrec_close(pm), mdsrec_close(rm);
    free(pb), free(rb);

    /* the writer refuses panels for an int8 matrix */
    m.spec.cfg.item_layout = MDSREC_LAYOUT_PANEL16;
    m.spec.cfg.item_dtype = MDSREC_I8;
    expect_build_fails(&m, "item_layout 1", __LINE__);
    synth_free(&m);
}

/* ---------------------------------------------------------------- reader errors */

static void test_reader_errors(void) {
    size_t len;
    uint8_t *good = small_bundle(MDSREC_F32, &len);
    uint8_t *good8 = NULL, *good16 = NULL;
    size_t len8, len16;
    good8 = small_bundle(MDSREC_I8, &len8);
    good16 = small_bundle(MDSREC_F16, &len16);
    EXPECT(good, len, MDSREC_OK, NULL, NULL);
    EXPECT(good8, len8, MDSREC_OK, NULL, NULL);
    uint8_t *b;
    uint32_t N = 7;

#define FRESH() (free(b), b = copy_of(good, len))
    b = copy_of(good, len);

    /* arguments */
    bundle_view v;
    CHECK(bundle_read(NULL, len, &v, NULL) == MDSREC_EARG);
    uint8_t *odd = aligned_alloc(64, (len + 127) / 64 * 64);
    memcpy(odd + 8, good, len);
    EXPECT(odd + 8, len, MDSREC_EARG, "aligned", NULL);
    free(odd);

    /* header */
    b[0] ^= 1;
    EXPECT(b, len, MDSREC_EFORMAT, "header", "magic");
    FRESH();
    set32(b + 8, 4); /* no refresh: the version is checked before the checksum */
    EXPECT(b, len, MDSREC_EVERSION, "header", "version 4");
    EXPECT(b, 12, MDSREC_EVERSION, "version 4", NULL);
    set32(b + 8, 0);
    EXPECT(b, len, MDSREC_EVERSION, "version 0", NULL);
    FRESH();
    set32(b + 12, 0x04030201);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "header", "byte order");
    FRESH();
    b[56] ^= 0x40;
    EXPECT(b, len, MDSREC_ECHECKSUM, "header", "checksum");
    FRESH();
    b[30] ^= 1; /* file_size, checksum not refreshed */
    EXPECT(b, len, MDSREC_ECHECKSUM, "header", "checksum");
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "header", "file_size");
    FRESH();
    EXPECT(b, len - 1, MDSREC_EFORMAT, "header", "truncated");
    EXPECT(b, 40, MDSREC_EFORMAT, "header", "shorter");
    set32(b + 16, 128);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "header", "header_size");
    FRESH();
    set32(b + 20, 0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "header", "section_count");
    FRESH();
    set32(b + 20, 5000);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section_count", NULL);
    FRESH();
    set64(b + 32, 128);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "table_offset", NULL);
    FRESH();
    set32(b + 48, 1);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "header", "reserved");

    /* section table */
    FRESH();
    entry(b, 3)[16] ^= 1; /* table changed, its checksum in the header not */
    EXPECT(b, len, MDSREC_ECHECKSUM, "section table", "checksum");
    FRESH();
    payload(b, SEC_POS, 1)[5] ^= 1;
    EXPECT(b, len, MDSREC_ECHECKSUM, "section POS (channel 1)", "checksum");
    FRESH();
    uint8_t *e = find(b, SEC_ITEMS, 1);
    set64(e + 8, get64(e + 8) + 4);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section ITEMS (channel 1)", "multiple of 64");
    FRESH();
    set64(find(b, SEC_ITEMS, 0) + 8, get64(find(b, SEC_GATE, BUNDLE_NO_CHANNEL) + 8));
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section ITEMS (channel 0)", "overlaps");
    FRESH();
    set64(find(b, SEC_CONFIG, BUNDLE_NO_CHANNEL) + 8, 64);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section CONFIG", "inside the header");
    FRESH();
    e = entry(b, n_entries(b) - 1);
    set64(e + 16, get64(e + 16) + 1000);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 1)", "past the end"); /* the last section */
    FRESH();
    e = entry(b, n_entries(b) - 1);
    set64(e + 8, (uint64_t)1 << 62);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 1)", "past the end"); /* the last section */
    FRESH();
    e = find(b, SEC_ITEMS, 1);
    set64(e + 16, get64(e + 16) - 4);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section ITEMS (channel 1): size 220, expected 224", NULL);
    FRESH();
    set32(find(b, SEC_POS, 1), 200); /* now an unknown kind: skipped, so POS 1 is missing */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section POS (channel 1)", "missing");
    FRESH();
    set32(find(b, SEC_KEY_ORDER, BUNDLE_NO_CHANNEL), 0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEY_ORDER", "missing");
    FRESH();
    set32(find(b, SEC_POS, 1) + 4, 0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section POS (channel 0)", "twice");
    FRESH();
    set32(find(b, SEC_NEIGHBOURS, 1) + 4, 5);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 5)", "out of range");
    FRESH();
    set32(find(b, SEC_NEIGHBOURS, 1) + 4, 9);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 9)", "out of range");
    FRESH();
    set32(find(b, SEC_GATE, BUNDLE_NO_CHANNEL) + 4, 0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section GATE (channel 0)", "global");

    /* unknown kinds are skipped: the catalog relabelled as kind 99 */
    FRESH();
    set32(find(b, SEC_CATALOG, BUNDLE_NO_CHANNEL), 99);
    refresh(b, len);
    EXPECT(b, len, MDSREC_OK, NULL, NULL);
    CHECK(bundle_read(b, len, &v, NULL) == MDSREC_OK && v.catalog == NULL);
    payload(b, 99, BUNDLE_NO_CHANNEL)[0] ^= 1; /* still checksummed */
    set64(b + 40, checksum64(b + 64, 32 * (size_t)n_entries(b)));
    set64(b + 56, checksum64(b, 56));
    EXPECT(b, len, MDSREC_ECHECKSUM, "section kind 99", "checksum");

    /* CONFIG */
    uint8_t *cfg;
    EXPECT_CONFIG(good, len, 0, 0, "section CONFIG", "n_items");
    EXPECT_CONFIG(good, len, 20, 3, "section CONFIG", "n_heads");
    EXPECT_CONFIG(good, len, 8, 9, "section CONFIG", "n_channels");
    EXPECT_CONFIG(good, len, 8, 1, "section CONFIG: size 128, expected 96", NULL);
    EXPECT_CONFIG(good, len, 44, 2, "section CONFIG", "unknown item_layout 2");
    EXPECT_CONFIG(good, len, 48, 1, "section CONFIG", "reserved field at offset 48");
    EXPECT_CONFIG(good8, len8, 44, MDSREC_LAYOUT_PANEL16, "section CONFIG", "needs item_dtype f32");
    EXPECT_CONFIG(good, len, 28, 3, "section CONFIG", "item_dtype");
    FRESH();
    cfg = payload(b, SEC_CONFIG, BUNDLE_NO_CHANNEL);
    setf(cfg + 40, NAN);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section CONFIG", "ln_eps");
    FRESH();
    cfg = payload(b, SEC_CONFIG, BUNDLE_NO_CHANNEL);
    memset(cfg + 64 + 32, 0, 24);
    memcpy(cfg + 64 + 32, "id", 2); /* channel 1 renamed "id": twice */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section CONFIG", "twice");
    FRESH();
    cfg = payload(b, SEC_CONFIG, BUNDLE_NO_CHANNEL);
    memset(cfg + 64, 0, 24);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section CONFIG", "channel 0 name");
    FRESH();
    cfg = payload(b, SEC_CONFIG, BUNDLE_NO_CHANNEL);
    cfg[64 + 10] = 'x'; /* after the NUL of "id" */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section CONFIG", "NUL-padded");
    FRESH();
    cfg = payload(b, SEC_CONFIG, BUNDLE_NO_CHANNEL);
    set32(cfg + 64 + 24, 4);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section CONFIG", "kind 4");

    /* KEYS and KEY_ORDER */
    uint8_t *keys;
    FRESH();
    keys = payload(b, SEC_KEYS, BUNDLE_NO_CHANNEL);
    keys[4 * (N + 1)] = 0xFF;
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEYS", "UTF-8");
    FRESH();
    keys = payload(b, SEC_KEYS, BUNDLE_NO_CHANNEL);
    keys[4 * (N + 1) + 2] = 0;
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEYS", "NUL");
    FRESH();
    keys = payload(b, SEC_KEYS, BUNDLE_NO_CHANNEL);
    set32(keys + 4, 0); /* key 0 empty */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEYS", "empty");
    FRESH();
    keys = payload(b, SEC_KEYS, BUNDLE_NO_CHANNEL);
    set32(keys + 8, 1000); /* past offsets[N] */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEYS", "out of order");
    FRESH();
    keys = payload(b, SEC_KEYS, BUNDLE_NO_CHANNEL);
    set32(keys + 4 * N, get32(keys + 4 * N) - 1);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEYS", "offsets[N]");
    FRESH();
    keys = payload(b, SEC_KEYS, BUNDLE_NO_CHANNEL);
    memcpy(keys + 4 * (N + 1) + 11, "item-000000", 11); /* key 1 = key 0 */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEY_ORDER", "strictly increasing");
    FRESH();
    uint8_t *ord = payload(b, SEC_KEY_ORDER, BUNDLE_NO_CHANNEL);
    uint32_t t0 = get32(ord), t1 = get32(ord + 4);
    set32(ord, t1), set32(ord + 4, t0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEY_ORDER", "strictly increasing");
    FRESH();
    set32(payload(b, SEC_KEY_ORDER, BUNDLE_NO_CHANNEL) + 8, N);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section KEY_ORDER", "not below");

    /* values */
    FRESH();
    setf(payload(b, SEC_ITEMS, 1) + 4 * 17, INFINITY);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section ITEMS (channel 1)", "item 2");
    FRESH();
    setf(payload(b, SEC_POS, 0) + 8, NAN);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section POS (channel 0)", "not finite");
    FRESH();
    setf(payload(b, SEC_ENCODER, 1) + 400, NAN);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section ENCODER (channel 1)", "not finite");
    FRESH();
    setf(payload(b, SEC_POOL, 0) + 40, -INFINITY);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section POOL (channel 0)", "not finite");
    FRESH();
    setf(payload(b, SEC_GATE, BUNDLE_NO_CHANNEL), NAN);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section GATE", "not finite");
    FRESH();
    uint8_t *pop = payload(b, SEC_POPULARITY, BUNDLE_NO_CHANNEL);
    set32(pop + 4, get32(pop));
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section POPULARITY", "permutation");
    FRESH();
    set32(payload(b, SEC_POPULARITY, BUNDLE_NO_CHANNEL) + 12, N);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section POPULARITY", "not below");
    FRESH();
    payload(b, SEC_CATALOG, BUNDLE_NO_CHANNEL)[3] = 0xC0;
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section CATALOG", "UTF-8");

    /* NEIGHBOURS: u32 n, nnz, row_ptr[N+1], index[nnz], weight[nnz] */
    uint8_t *nb;
    uint32_t nnz = 3 * N;
    FRESH();
    nb = payload(b, SEC_NEIGHBOURS, 1);
    set32(nb + 8 + 4 * (N + 1) + 4 * 5, N);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 1)", "not below");
    FRESH();
    nb = payload(b, SEC_NEIGHBOURS, 0);
    setf(nb + 8 + 4 * (N + 1) + 4 * nnz + 4, NAN);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 0)", "weight");
    FRESH();
    nb = payload(b, SEC_NEIGHBOURS, 0);
    setf(nb + 8 + 4 * (N + 1) + 4 * nnz + 4, 100.0f); /* second of row 0 stronger than the first */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 0)", "strongest first");
    FRESH();
    nb = payload(b, SEC_NEIGHBOURS, 0);
    set32(nb + 8 + 4 * 2, 1); /* row_ptr[2] < row_ptr[1] */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 0)", "row_ptr");
    FRESH();
    nb = payload(b, SEC_NEIGHBOURS, 0);
    set32(nb + 4, nnz - 1);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 0)", "size");
    FRESH();
    nb = payload(b, SEC_NEIGHBOURS, 0);
    set32(nb, N + 1);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS (channel 0)", "n is 8");
    free(b);

    /* i8: scales */
    b = copy_of(good8, len8);
    setf(payload(b, SEC_SCALES, 1) + 8, NAN);
    refresh(b, len8);
    EXPECT(b, len8, MDSREC_EFORMAT, "section SCALES (channel 1)", "not finite");
    free(b);
    b = copy_of(good8, len8);
    setf(payload(b, SEC_SCALES, 0) + 8, -1.0f);
    refresh(b, len8);
    EXPECT(b, len8, MDSREC_EFORMAT, "section SCALES (channel 0)", "negative");
    free(b);
    b = copy_of(good8, len8);
    set32(find(b, SEC_SCALES, 1), 77);
    refresh(b, len8);
    EXPECT(b, len8, MDSREC_EFORMAT, "section SCALES (channel 1)", "missing");
    free(b);
    b = copy_of(good8, len8); /* an i8 bundle declared f32: ITEMS too small, SCALES stray */
    set32(payload(b, SEC_CONFIG, BUNDLE_NO_CHANNEL) + 28, MDSREC_F32);
    refresh(b, len8);
    EXPECT(b, len8, MDSREC_EFORMAT, "section ITEMS (channel 0)", "expected 224");
    free(b);

    /* f16: Inf and NaN */
    b = copy_of(good16, len16);
    uint8_t *h = payload(b, SEC_ITEMS, 0);
    h[2 * 9] = 0x00, h[2 * 9 + 1] = 0x7C;
    refresh(b, len16);
    EXPECT(b, len16, MDSREC_EFORMAT, "section ITEMS (channel 0)", "Inf or NaN");
    free(b);

    /* pool_mode 0 with POOL sections present */
    b = copy_of(good, len);
    set32(payload(b, SEC_CONFIG, BUNDLE_NO_CHANNEL) + 32, 0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section POOL (channel 0)", "pool_mode");
    free(b);
#undef FRESH
    free(good);
    free(good8);
    free(good16);
}

/* ---------------------------------------------------------------- NEIGHBOURS_K */

/* What the reader gives back for channel `got` against the spec's CSR rows, each cut to
   `keep` (0: all): the same counts and indices, weights within half a quantization step
   (tol; 0 for exact). */
static void check_nb(const bundle_channel *got, const bundle_channel_spec *want, uint32_t n, uint32_t keep, float tol,
                     int line) {
    int ok = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m = want->nb_row[i + 1] - want->nb_row[i];
        if (keep && m > keep) m = keep;
        uint32_t c = bundle_nb_count(got, i);
        CHECK_MSG(c == m, "line %d: item %u has %u neighbours, expected %u", line, i, c, m);
        if (c != m) return;
        for (uint32_t j = 0; j < m; j++) {
            float w;
            uint32_t x = bundle_nb_get(got, i, j, &w);
            ok &= x == want->nb_index[want->nb_row[i] + j];
            ok &= fabsf(w - want->nb_weight[want->nb_row[i] + j]) <= tol;
        }
    }
    CHECK_MSG(ok, "line %d: neighbours differ", line);
}

/* The half step of a range: the most round-to-nearest can be off (with a little slack for
   the float rounding of the result). */
static float half_step(float lo, float hi) { return 0.5f * (hi - lo) / 255.0f * 1.001f + 1e-7f; }

/* The same model written compact and CSR: sections, view and mdsrec_similar agree. */
static void compact_round_trip(uint32_t dtype) {
    synth_options o;
    small_options(&o, dtype);
    o.nb_compact = 1;
    synth_model m;
    mdsrec_error err;
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    uint32_t n = m.spec.cfg.n_items, C = m.spec.cfg.n_channels;
    uint8_t *bk = NULL, *bc = NULL;
    size_t lk = 0, lc = 0;
    CHECK_MSG(bundle_build(&m.spec, &bk, &lk, &err) == MDSREC_OK, "%s", err.message);
    m.spec.nb_compact = 0;
    CHECK_MSG(bundle_build(&m.spec, &bc, &lc, &err) == MDSREC_OK, "%s", err.message);
    if (!bk || !bc) return;
    bundle_view v, vc;
    CHECK_MSG(bundle_read(bk, lk, &v, &err) == MDSREC_OK, "%s", err.message);
    CHECK_MSG(bundle_read(bc, lc, &vc, &err) == MDSREC_OK, "%s", err.message);
    /* 7 items x 3 neighbours: 16 + 84 bytes instead of 8 + 32 + 168 */
    CHECK(lk < lc);
    for (uint32_t ch = 0; ch < C; ch++) {
        uint8_t *e = find(bk, SEC_NEIGHBOURS_K, ch);
        CHECK(e && get64(e + 16) == 16 + 4 * n * 3 && !find(bk, SEC_NEIGHBOURS, ch));
        CHECK(find(bc, SEC_NEIGHBOURS, ch) && !find(bc, SEC_NEIGHBOURS_K, ch));
        const bundle_channel *k = &v.ch[ch];
        CHECK(k->nb_kind == SEC_NEIGHBOURS_K && k->nb_k == 3 && k->nb_row == NULL);
        CHECK(vc.ch[ch].nb_kind == SEC_NEIGHBOURS && vc.ch[ch].nb_packed == NULL);
        float lo = m.nb_weight[ch][0], hi = lo;
        for (uint32_t j = 0; j < n * 3; j++) lo = fminf(lo, m.nb_weight[ch][j]), hi = fmaxf(hi, m.nb_weight[ch][j]);
        CHECK(k->nb_w_min == lo && k->nb_w_max == hi && lo < hi);
        check_nb(k, &m.spec.ch[ch], n, 0, half_step(lo, hi), __LINE__);
        check_nb(&vc.ch[ch], &m.spec.ch[ch], n, 0, 0, __LINE__);
        CHECK(bundle_nb_max_row(k, n) == 3 && bundle_nb_total(k, n) == 3 * n);
        CHECK(bundle_nb_max_row(&vc.ch[ch], n) == 3 && bundle_nb_total(&vc.ch[ch], n) == 3 * n);
        CHECK(!memcmp(v.ch[ch].items, vc.ch[ch].items, (size_t)n * m.spec.cfg.dim * bundle_dtype_size(dtype)));
        /* the codes: q = round((w - lo) / (hi - lo) * 255), the ends exact */
        int ends = 0;
        for (uint32_t j = 0; j < n * 3; j++) {
            uint32_t q = k->nb_packed[j] >> 24;
            ends += q == 0 || q == 255;
            CHECK(bundle_nb_dequant(lo, hi, q) >= lo && bundle_nb_dequant(lo, hi, q) <= hi);
        }
        CHECK(ends >= 2 && bundle_nb_dequant(lo, hi, 0) == lo && bundle_nb_dequant(lo, hi, 255) == hi);
    }
    /* through the public API: the same items, weights within the quantization error */
    mdsrec_model *mk = NULL, *mc = NULL;
    CHECK(mdsrec_open(bk, lk, &mk, &err) == MDSREC_OK && mdsrec_open(bc, lc, &mc, &err) == MDSREC_OK);
    if (mk && mc) {
        int same = 1;
        for (uint32_t ch = 0; ch < C; ch++) {
            float tol = (v.ch[ch].nb_w_max - v.ch[ch].nb_w_min) / 255.0f;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t ik[10], ic[10], nk = 99, nc = 98;
                float wk[10], wc[10];
                CHECK(mdsrec_similar(mk, i, ch, 10, ik, wk, &nk) == MDSREC_OK);
                CHECK(mdsrec_similar(mc, i, ch, 10, ic, wc, &nc) == MDSREC_OK);
                same &= nk == nc && nk == 3;
                for (uint32_t j = 0; j < nk && j < nc; j++) {
                    same &= ik[j] == ic[j] && fabsf(wk[j] - wc[j]) <= tol;
                    if (j) same &= wk[j] <= wk[j - 1];
                }
                CHECK(mdsrec_similar(mk, i, ch, 2, ik, wk, &nk) == MDSREC_OK && nk == 2);
            }
        }
        CHECK_MSG(same, "similar() differs between the encodings (dtype %u)", dtype);
    }
    mdsrec_close(mk);
    mdsrec_close(mc);
    free(bk);
    free(bc);
    synth_free(&m);
}

/* Rows of different lengths (padding), a channel of empty rows, nb_keep in both encodings,
   negative weights and a channel whose weights are all equal. */
static void compact_ragged_and_keep(void) {
    synth_options o;
    small_options(&o, MDSREC_F32);
    const char *why;
    synth_parse_channels(&o, "id,image,text", &why);
    synth_model m;
    mdsrec_error err;
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    enum { N = 7 };
    /* channel 0: row i keeps the first i % 4 of synth's 3 neighbours, weights shifted below 0 */
    uint32_t row0[N + 1], idx0[3 * N], row1[N + 1] = {0};
    float w0[3 * N], w2[3 * N];
    row0[0] = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint32_t len = i % 4;
        for (uint32_t j = 0; j < len; j++) {
            idx0[row0[i] + j] = m.nb_index[0][3 * i + j];
            w0[row0[i] + j] = m.nb_weight[0][3 * i + j] - 0.5f;
        }
        row0[i + 1] = row0[i] + len;
    }
    for (uint32_t j = 0; j < 3 * N; j++) w2[j] = 0.25f;
    m.spec.ch[0].nb_row = row0, m.spec.ch[0].nb_index = idx0, m.spec.ch[0].nb_weight = w0;
    m.spec.ch[1].nb_row = row1; /* every row empty */
    m.spec.ch[2].nb_weight = w2;
    for (uint32_t keep = 0; keep <= 2; keep += 2)
        for (int compact = 0; compact <= 1; compact++) {
            m.spec.nb_compact = compact, m.spec.nb_keep = keep;
            uint8_t *b = NULL;
            size_t len = 0;
            CHECK_MSG(bundle_build(&m.spec, &b, &len, &err) == MDSREC_OK, "%s", err.message);
            if (!b) continue;
            bundle_view v;
            CHECK_MSG(bundle_read(b, len, &v, &err) == MDSREC_OK, "%s", err.message);
            uint32_t k = keep ? keep : 3;
            const bundle_channel *c0 = &v.ch[0], *c1 = &v.ch[1], *c2 = &v.ch[2];
            float lo = w0[0], hi = w0[0];
            for (uint32_t j = 0; j < row0[N]; j++) lo = fminf(lo, w0[j]), hi = fmaxf(hi, w0[j]);
            check_nb(c0, &m.spec.ch[0], N, keep, compact ? half_step(lo, hi) : 0, __LINE__);
            check_nb(c1, &m.spec.ch[1], N, keep, 0, __LINE__);
            check_nb(c2, &m.spec.ch[2], N, keep, 0, __LINE__);
            uint64_t total = 0;
            for (uint32_t i = 0; i < N; i++) total += (i % 4) < k ? i % 4 : k;
            CHECK(bundle_nb_total(c0, N) == total && bundle_nb_total(c1, N) == 0 && bundle_nb_total(c2, N) == (uint64_t)k * N);
            CHECK(bundle_nb_max_row(c0, N) == k && bundle_nb_max_row(c2, N) == k);
            CHECK(c1->nb_kind == (compact ? SEC_NEIGHBOURS_K : SEC_NEIGHBOURS));
            if (compact) {
                CHECK(c0->nb_k == k && c1->nb_k == 1 && c2->nb_k == k);
                CHECK(c0->nb_w_min < 0 && c1->nb_w_min == 0 && c1->nb_w_max == 0);
                CHECK(c2->nb_w_min == 0.25f && c2->nb_w_max == 0.25f);
                int pads = 1;
                for (uint32_t i = 0; i < N; i++) {
                    for (uint32_t j = bundle_nb_count(c0, i); j < k; j++) pads &= c0->nb_packed[i * k + j] == BUNDLE_NB_PAD;
                    pads &= c1->nb_packed[i] == BUNDLE_NB_PAD;
                }
                CHECK(pads);
            } else {
                CHECK(c0->nb_row[N] == total && c1->nb_row[N] == 0);
            }
            /* an item without neighbours in a channel that has lists: OK, none */
            mdsrec_model *mm = NULL;
            CHECK(mdsrec_open(b, len, &mm, &err) == MDSREC_OK);
            uint32_t items[4], cnt = 9;
            float ws[4];
            CHECK(mdsrec_similar(mm, 4, 0, 4, items, ws, &cnt) == MDSREC_OK && cnt == 0);
            CHECK(mdsrec_similar(mm, 3, 1, 4, items, ws, &cnt) == MDSREC_OK && cnt == 0);
            CHECK(mdsrec_similar(mm, 3, 0, 4, items, ws, &cnt) == MDSREC_OK && cnt == (keep ? 2u : 3u));
            CHECK(mdsrec_similar(mm, 3, 2, 4, items, ws, &cnt) == MDSREC_OK && cnt == k && ws[0] == 0.25f);
            mdsrec_close(mm);
            free(b);
        }
    synth_free(&m);
}

/* The writer's limits of the compact encoding: k at most 1024, n_items below 2^24. */
static void compact_writer_limits(void) {
    synth_options o;
    synth_defaults(&o, 1100);
    const char *why;
    synth_parse_channels(&o, "id", &why);
    o.dim = 4, o.n_blocks = 0, o.n_heads = 1, o.max_len = 2, o.neighbours = 1030, o.nb_compact = 0;
    synth_model m;
    mdsrec_error err;
    CHECK(synth_make(&o, &m, &err) == MDSREC_OK);
    m.spec.nb_compact = 1;
    expect_build_fails(&m, "at most 1024", __LINE__);
    m.spec.nb_keep = 1024;
    uint8_t *b = NULL;
    size_t len = 0;
    CHECK_MSG(bundle_build(&m.spec, &b, &len, &err) == MDSREC_OK, "%s", err.message);
    bundle_view v;
    CHECK(b && bundle_read(b, len, &v, &err) == MDSREC_OK && v.ch[0].nb_k == 1024);
    free(b);
    synth_free(&m);
    /* synth refuses what the writer would */
    o.nb_compact = 1;
    CHECK(synth_make(&o, &m, &err) == MDSREC_EARG && strstr(err.message, "1024"));
    synth_free(&m);
    synth_defaults(&o, MDSREC_MAX_ITEMS);
    CHECK(synth_make(&o, &m, &err) == MDSREC_EARG && strstr(err.message, "compact"));
    synth_free(&m);
}

/* Every error of read_neighbours_k, by editing a valid compact bundle (N 7, k 3). */
static void compact_reader_errors(void) {
    size_t len;
    uint8_t *good = small_bundle_nb(MDSREC_F32, 1, &len), *b, *nb, *e;
    const uint32_t N = 7;
    EXPECT(good, len, MDSREC_OK, NULL, NULL);
#define FRESH() (free(b), b = copy_of(good, len), nb = payload(b, SEC_NEIGHBOURS_K, 0))
#define ENT(i, j) (nb + 16 + 4 * (3 * (i) + (j)))
    b = copy_of(good, len);
    nb = payload(b, SEC_NEIGHBOURS_K, 0);
    CHECK(nb != NULL && get32(nb) == N && get32(nb + 4) == 3);
    if (!nb) return;

    /* valid edits: padding at a row's tail, a whole row of it, equal codes */
    set32(ENT(2, 2), BUNDLE_NB_PAD);
    set32(ENT(5, 0), BUNDLE_NB_PAD), set32(ENT(5, 1), BUNDLE_NB_PAD), set32(ENT(5, 2), BUNDLE_NB_PAD);
    set32(ENT(1, 0), 1u | 9u << 24), set32(ENT(1, 1), 2u | 9u << 24), set32(ENT(1, 2), 3u | 9u << 24);
    refresh(b, len);
    EXPECT(b, len, MDSREC_OK, NULL, NULL);
    bundle_view v;
    CHECK(bundle_read(b, len, &v, NULL) == MDSREC_OK);
    CHECK(bundle_nb_count(&v.ch[0], 2) == 2 && bundle_nb_count(&v.ch[0], 5) == 0 && bundle_nb_count(&v.ch[0], 1) == 3);
    float w;
    CHECK(bundle_nb_get(&v.ch[0], 1, 2, &w) == 3 && w == bundle_nb_dequant(v.ch[0].nb_w_min, v.ch[0].nb_w_max, 9));

    /* an index not below N, and the pad's index bits with a code other than 255 */
    FRESH();
    set32(ENT(3, 1), (get32(ENT(3, 1)) & 0xFF000000u) | N);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): item 3 has neighbour 7, not below", NULL);
    FRESH();
    set32(ENT(6, 2), 0x00FFFFFFu);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0)", "not below n_items");
    /* padding in the middle of a row */
    FRESH();
    set32(ENT(4, 1), BUNDLE_NB_PAD);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): item 4", "after padding");
    FRESH();
    set32(ENT(4, 0), BUNDLE_NB_PAD);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): item 4", "after padding");
    /* increasing codes along a row */
    FRESH();
    set32(ENT(0, 0), 1u | 10u << 24), set32(ENT(0, 1), 2u | 11u << 24);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): item 0", "strongest first");
    /* head fields */
    FRESH();
    set32(nb + 4, 0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): k 0 outside 1..1024", NULL);
    FRESH();
    set32(nb + 4, 1025);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): k 1025 outside", NULL);
    FRESH();
    set32(nb + 4, 2); /* k 2: the size no longer matches */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): size 100, expected 72", NULL);
    FRESH();
    set32(nb, N + 1);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): n is 8, expected n_items 7", NULL);
    FRESH();
    setf(nb + 8, 2.0f); /* w_min > w_max */
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0)", "w_min <= w_max");
    FRESH();
    setf(nb + 12, NAN);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0)", "finite");
    FRESH();
    setf(nb + 8, -INFINITY);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0)", "finite");
    /* the section's size: one entry short, shorter than the head */
    FRESH();
    e = find(b, SEC_NEIGHBOURS_K, 0);
    set64(e + 16, get64(e + 16) - 4);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0): size 96, expected 100", NULL);
    FRESH();
    e = find(b, SEC_NEIGHBOURS_K, 1);
    set64(e + 16, 12);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 1): size 12, shorter than its 16-byte head", NULL);
    /* both encodings on one channel: channel 1's compact section relabelled NEIGHBOURS of channel 0 */
    FRESH();
    e = find(b, SEC_NEIGHBOURS_K, 1);
    set32(e, SEC_NEIGHBOURS), set32(e + 4, 0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0)", "also has a NEIGHBOURS section");
    /* the table's checks apply to the new kind too */
    FRESH();
    set32(find(b, SEC_NEIGHBOURS_K, 1) + 4, 0);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 0)", "twice");
    FRESH();
    set32(find(b, SEC_NEIGHBOURS_K, 1) + 4, 5);
    refresh(b, len);
    EXPECT(b, len, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel 5)", "out of range");
    /* a reader that does not know the kind skips it: the channel has no neighbour list */
    FRESH();
    set32(find(b, SEC_NEIGHBOURS_K, 1), 99);
    refresh(b, len);
    EXPECT(b, len, MDSREC_OK, NULL, NULL);
    CHECK(bundle_read(b, len, &v, NULL) == MDSREC_OK && v.ch[1].nb_kind == 0 && v.ch[0].nb_kind == SEC_NEIGHBOURS_K);
    CHECK(bundle_nb_count(&v.ch[1], 0) == 0 && bundle_nb_max_row(&v.ch[1], N) == 0 && bundle_nb_total(&v.ch[1], N) == 0);
#undef ENT
#undef FRESH
    free(b);
    free(good);
}

/* ---------------------------------------------------------------- blocks per channel (v3) */

/* Channels of different depths: written as version 3 with each channel's count in its CONFIG
   record, read back, opened and run; the same model with equal depths stays version 1; a count
   above n_blocks, or one that disagrees with the ENCODER section's size, is refused; in v1 the
   field is reserved. */
/* CATALOG_GZ: the core checks the gzip frame only and hands the member over (the shim and the
   tools inflate it); the writer and bundle_replace_catalog place it with the head sections. */
static void catalog_gz(void) {
    /* the gzip member of "" (header, an empty final fixed-Huffman block, CRC32 0, size 0) */
    static const uint8_t empty_gz[20] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0};
    size_t len, gl;
    uint8_t *good = small_bundle(MDSREC_F32, &len), *b = NULL;
    mdsrec_error err;
    CHECK(bundle_replace_catalog(good, len, (const char *)empty_gz, sizeof empty_gz, 1, &b, &gl, &err) == MDSREC_OK);
    if (!b) {
        free(good);
        return;
    }
    bundle_view v;
    CHECK(bundle_read(b, gl, &v, NULL) == MDSREC_OK);
    CHECK(!v.catalog && v.catalog_gz && v.catalog_gz_len == sizeof empty_gz && !memcmp(v.catalog_gz, empty_gz, 20));
    CHECK(bundle_is_head_kind(SEC_CATALOG_GZ) && !bundle_is_head_kind(SEC_GATE));
    /* with the head: after POPULARITY, before GATE (a streamed download answers with it) */
    CHECK(get64(find(b, SEC_CATALOG_GZ, BUNDLE_NO_CHANNEL) + 8) > get64(find(b, SEC_POPULARITY, BUNDLE_NO_CHANNEL) + 8));
    CHECK(get64(find(b, SEC_CATALOG_GZ, BUNDLE_NO_CHANNEL) + 8) < get64(find(b, SEC_GATE, BUNDLE_NO_CHANNEL) + 8));
    mdsrec_model *m = NULL;
    CHECK(mdsrec_open(b, gl, &m, NULL) == MDSREC_OK);
    size_t cl = 9;
    CHECK(mdsrec_catalog(m, &cl) == NULL && cl == 0);
    CHECK(mdsrec_catalog_gzip(m, &cl) == v.catalog_gz && cl == sizeof empty_gz);
    CHECK(mdsrec_catalog_gzip(NULL, &cl) == NULL && cl == 0);
    mdsrec_close(m);
    /* back to JSON: the one form replaces the other */
    uint8_t *j = NULL;
    size_t jl;
    CHECK(bundle_replace_catalog(b, gl, "[]", 2, 0, &j, &jl, &err) == MDSREC_OK);
    CHECK(j && bundle_read(j, jl, &v, NULL) == MDSREC_OK && v.catalog_len == 2 && !v.catalog_gz);
    free(j);

    /* the frame: magic, method, reserved flags, room for the trailer */
    const struct { size_t at; uint8_t x; } breaks[] = {{0, 0x1e}, {1, 0x8c}, {2, 7}, {3, 0x20}};
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        uint8_t *c = copy_of(b, gl);
        payload(c, SEC_CATALOG_GZ, BUNDLE_NO_CHANNEL)[breaks[i].at] = breaks[i].x;
        refresh(c, gl);
        EXPECT(c, gl, MDSREC_EFORMAT, "section CATALOG_GZ: not a gzip member", NULL);
        free(c);
    }
    uint8_t *c = copy_of(b, gl);
    set64(find(c, SEC_CATALOG_GZ, BUNDLE_NO_CHANNEL) + 16, 17);
    refresh(c, gl);
    EXPECT(c, gl, MDSREC_EFORMAT, "section CATALOG_GZ", "at least 18 bytes");
    free(c);
    /* both forms: channel 0's NEIGHBOURS relabelled as a (well-framed) CATALOG_GZ beside the JSON */
    c = copy_of(good, len);
    uint8_t *e = find(c, SEC_NEIGHBOURS, 0);
    CHECK(e && get64(e + 16) >= sizeof empty_gz);
    if (e) {
        memcpy(c + get64(e + 8), empty_gz, sizeof empty_gz);
        set32(e, SEC_CATALOG_GZ), set32(e + 4, BUNDLE_NO_CHANNEL);
        refresh(c, len);
        EXPECT(c, len, MDSREC_EFORMAT, "section CATALOG_GZ", "also has a CATALOG section");
    }
    free(c);

    /* the writer: catalog_gzip needs a gzip member */
    synth_options o;
    small_options(&o, MDSREC_F32);
    synth_model sm;
    CHECK(synth_make(&o, &sm, &err) == MDSREC_OK);
    sm.spec.catalog_gzip = 1;
    expect_build_fails(&sm, "not a gzip member", __LINE__);
    sm.spec.catalog = (const char *)empty_gz, sm.spec.catalog_len = sizeof empty_gz;
    uint8_t *w = NULL;
    size_t wl;
    CHECK(bundle_build(&sm.spec, &w, &wl, &err) == MDSREC_OK);
    CHECK(w && bundle_read(w, wl, &v, NULL) == MDSREC_OK && v.catalog_gz && !v.catalog);
    CHECK(w && get64(find(w, SEC_CATALOG_GZ, BUNDLE_NO_CHANNEL) + 8) < get64(find(w, SEC_GATE, BUNDLE_NO_CHANNEL) + 8));
    free(w);
    synth_free(&sm);
    free(b);
    free(good);
}

static void blocks_per_channel(void) {
    synth_options o;
    small_options(&o, MDSREC_F32);
    o.n_blocks = 2, o.channel_blocks_set = 1, o.channel_blocks[0] = 2, o.channel_blocks[1] = 0;
    synth_model m;
    mdsrec_error err;
    CHECK_MSG(synth_make(&o, &m, &err) == MDSREC_OK, "%s", err.message);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_MSG(bundle_build(&m.spec, &buf, &len, &err) == MDSREC_OK, "%s", err.message);
    if (!buf) {
        synth_free(&m);
        return;
    }
    CHECK(get32(buf + 8) == 3);
    const uint8_t *recs = payload(buf, SEC_CONFIG, BUNDLE_NO_CHANNEL) + BUNDLE_CONFIG_FIXED;
    CHECK(get32(recs + 28) == 2 && get32(recs + BUNDLE_CHANNEL_RECORD + 28) == 0);
    bundle_view v;
    CHECK_MSG(bundle_read(buf, len, &v, &err) == MDSREC_OK, "%s", err.message);
    CHECK(v.cfg.n_blocks == 2 && v.cfg.channels[0].n_blocks == 2 && v.cfg.channels[1].n_blocks == 0);
    CHECK(bundle_encoder_floats(&v.cfg, 1) == 2 * (size_t)v.cfg.dim); /* LN_in only */
    CHECK(bundle_encoder_floats(&v.cfg, 0) > bundle_encoder_floats(&v.cfg, 1));
    for (uint32_t ch = 0; ch < 2; ch++)
        CHECK(!memcmp(v.ch[ch].encoder, m.encoder[ch], bundle_encoder_floats(&v.cfg, ch) * 4));
    mdsrec_model *model = NULL;
    mdsrec_state *st = NULL;
    CHECK_MSG(mdsrec_open(buf, len, &model, &err) == MDSREC_OK, "%s", err.message);
    if (model && mdsrec_state_new(model, &st) == MDSREC_OK) {
        uint32_t hist[3] = {1, 4, 2};
        mdsrec_query q = {.history = hist, .history_len = 3, .k = 3};
        mdsrec_result r;
        CHECK(mdsrec_recommend(model, st, &q, &r) == MDSREC_OK);
        CHECK(r.count == 3 && r.items[0] < o.n_items && isfinite(r.scores[0]));
    }
    mdsrec_state_free(st);
    mdsrec_close(model);

    /* a channel's count above n_blocks; a count that does not match its ENCODER section */
    size_t rec1 = BUNDLE_CONFIG_FIXED + BUNDLE_CHANNEL_RECORD + 28;
    EXPECT_CONFIG(buf, len, rec1, 3, "channel 1 has 3 blocks", "more than n_blocks 2");
    EXPECT_CONFIG(buf, len, rec1, 1, "ENCODER (channel 1)", "expected");
    /* the writer refuses the same */
    m.spec.cfg.channels[1].n_blocks = 3;
    uint8_t *bad = NULL;
    size_t bad_len = 0;
    CHECK(bundle_build(&m.spec, &bad, &bad_len, &err) == MDSREC_EARG && strstr(err.message, "more than n_blocks"));
    free(bad);
    free(buf);
    synth_free(&m);

    /* equal depths: version 1, and there the field is reserved */
    o.channel_blocks[1] = 2;
    CHECK_MSG(synth_bundle(&o, &buf, &len, &err) == MDSREC_OK, "%s", err.message);
    CHECK(get32(buf + 8) == 1);
    EXPECT_CONFIG(buf, len, BUNDLE_CONFIG_FIXED + 28, 2, "channel 0 reserved field is not 0", NULL);
    free(buf);
}

int main(void) {
    test_checksum();
    blocks_per_channel();
    round_trip(MDSREC_F32);
    round_trip(MDSREC_F16);
    round_trip(MDSREC_I8);
    test_writer_refusals();
    panel_layout();
    test_reader_errors();
    for (uint32_t dt = MDSREC_F32; dt <= MDSREC_I8; dt++) compact_round_trip(dt);
    compact_ragged_and_keep();
    compact_writer_limits();
    compact_reader_errors();
    catalog_gz();
    CHECK(!strcmp(bundle_section_name(SEC_NEIGHBOURS), "NEIGHBOURS"));
    CHECK(!strcmp(bundle_section_name(SEC_NEIGHBOURS_K), "NEIGHBOURS_K"));
    CHECK(!strcmp(bundle_section_name(0), "unknown") && !strcmp(bundle_section_name(SEC_KIND_MAX + 1), "unknown"));
    CHECK(!strcmp(bundle_section_name(SEC_CATALOG_GZ), "CATALOG_GZ"));
    CHECK(!strcmp(bundle_section_name(SEC_COCLICK), "COCLICK"));
    CHECK(!strcmp(bundle_section_name(SEC_REPEAT), "REPEAT"));
    CHECK(!strcmp(bundle_section_name(SEC_NEIGHBOURS_B), "NEIGHBOURS_B"));
    CHECK(!strcmp(bundle_section_name(SEC_PQ_CODEBOOK), "PQ_CODEBOOK"));
    CHECK(bundle_dtype_size(MDSREC_F32) == 4 && bundle_dtype_size(MDSREC_F16) == 2 && bundle_dtype_size(MDSREC_I8) == 1);
    CHECK(bundle_dtype_size(MDSREC_PQ) == 0 && bundle_dtype_size(4) == 0);
    return check_done("test_bundle");
}
