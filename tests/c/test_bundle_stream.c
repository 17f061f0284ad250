/* test_bundle_stream.c - a bundle validated while it arrives (src/bundle_stream.c): fed in
   pieces of many sizes it verifies every section by the time the last byte is in, the head
   (keys, popularity, catalog) is ready before the first item matrix has arrived, a model
   opened from the stream answers exactly as mdsrec_open's, the head-only model answers the
   popularity order and refuses the rest, and a damaged byte is reported as that section's
   checksum error at the piece that completes the section, not before. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mdsrec.h"
#include "src/bundle_internal.h"
#include "src/bundle_stream.h"
#include "src/model.h"
#include "synth.h"

static uint8_t *make_bundle(uint32_t dtype, size_t *len) {
    synth_options o;
    synth_defaults(&o, 40);
    const char *why;
    synth_parse_channels(&o, "id,image,text", &why);
    o.dim = 8, o.n_blocks = 1, o.n_heads = 2, o.max_len = 6, o.neighbours = 3;
    o.dtype = dtype, o.catalog = 1, o.seed = 5;
    uint8_t *buf = NULL;
    mdsrec_error err;
    CHECK_MSG(synth_bundle(&o, &buf, len, &err) == MDSREC_OK, "%s", err.message);
    return buf;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* The end of the first section of `kind` in the table (0 if none). */
static uint64_t section_end(const uint8_t *b, uint32_t kind) {
    for (uint32_t i = 0; i < rd32(b + 20); i++) {
        const uint8_t *e = b + 64 + 32 * i;
        if (rd32(e) == kind) return rd64(e + 8) + rd64(e + 16);
    }
    return 0;
}

/* Streams b into a fresh aligned copy in pieces of `step` bytes; returns the byte count at
   which the head became ready, checks completion at the end. */
static size_t stream_all(const uint8_t *b, size_t len, size_t step, uint8_t **copy, bundle_stream *s) {
    void *p = NULL;
    CHECK(posix_memalign(&p, 16, len) == 0);
    *copy = p;
    memset(p, 0xAB, len); /* bytes not yet arrived are garbage, never zeros the reader could like */
    bundle_stream_init(s, p, len);
    size_t head_at = 0;
    for (size_t at = 0; at < len;) {
        size_t n = len - at < step ? len - at : step;
        memcpy(*copy + at, b + at, n);
        at += n;
        mdsrec_error err;
        CHECK_MSG(bundle_stream_feed(s, at, &err) == MDSREC_OK, "step %zu at %zu: %s", step, at, err.message);
        if (!head_at && bundle_stream_head_ready(s)) head_at = at;
        CHECK(bundle_stream_complete(s) == (at == len));
    }
    return head_at;
}

static void same_answers(mdsrec_model *a, mdsrec_model *b) {
    mdsrec_state *sa = NULL, *sb = NULL;
    CHECK(mdsrec_state_new(a, &sa) == MDSREC_OK && mdsrec_state_new(b, &sb) == MDSREC_OK);
    uint32_t hist[3] = {3, 17, 9};
    for (uint32_t h = 0; h <= 3; h += 3) {
        mdsrec_query q = {hist, h, 5, 0, NULL, 0, NULL, 0};
        mdsrec_result ra, rb;
        CHECK(mdsrec_recommend(a, sa, &q, &ra) == MDSREC_OK && mdsrec_recommend(b, sb, &q, &rb) == MDSREC_OK);
        CHECK(ra.count == 5 && rb.count == 5);
        for (uint32_t i = 0; i < 5 && i < ra.count && i < rb.count; i++)
            CHECK(ra.items[i] == rb.items[i] && ra.scores[i] == rb.scores[i]);
    }
    mdsrec_state_free(sa);
    mdsrec_state_free(sb);
}

static void test_stream(uint32_t dtype) {
    size_t len = 0;
    uint8_t *b = make_bundle(dtype, &len);
    mdsrec_model *ref = NULL;
    mdsrec_error err;
    CHECK(mdsrec_open(b, len, &ref, &err) == MDSREC_OK);
    size_t steps[] = {1, 7, 64, 333, 4096, len};
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        uint8_t *copy = NULL;
        bundle_stream s;
        size_t head_at = stream_all(b, len, steps[k], &copy, &s);
        /* ready at the first piece that completes the head (the catalog, which the writer
           puts before the first item matrix) */
        size_t head_end = (size_t)section_end(b, SEC_CATALOG), want = (head_end + steps[k] - 1) / steps[k] * steps[k];
        CHECK_MSG(head_at == (want < len ? want : len), "step %zu: head at %zu", steps[k], head_at);
        mdsrec_model *m = NULL;
        CHECK(model_open_ex(copy, len, s.verified, 0, &m, &err) == MDSREC_OK);
        if (m && ref) same_answers(ref, m);
        mdsrec_close(m);
        free(copy);
    }

    /* the head alone: keys, catalog and the popularity order, nothing that needs weights */
    void *p = NULL;
    CHECK(posix_memalign(&p, 16, len) == 0);
    memset(p, 0xAB, len);
    uint64_t head_end = section_end(b, SEC_CATALOG);
    CHECK(head_end > section_end(b, SEC_POPULARITY) && head_end < section_end(b, SEC_ITEMS));
    memcpy(p, b, head_end);
    bundle_stream s;
    bundle_stream_init(&s, p, len);
    CHECK(bundle_stream_feed(&s, head_end - 1, &err) == MDSREC_OK && !bundle_stream_head_ready(&s));
    mdsrec_model *h = NULL;
    CHECK(model_open_ex(p, len, s.verified, 1, &h, &err) == MDSREC_EARG); /* not all verified yet */
    CHECK(bundle_stream_feed(&s, head_end, &err) == MDSREC_OK && bundle_stream_head_ready(&s));
    CHECK(!bundle_stream_complete(&s));
    CHECK_MSG(model_open_ex(p, len, s.verified, 1, &h, &err) == MDSREC_OK, "%s", err.message);
    if (h && ref) {
        size_t kl = 0, cl = 0, rl = 0;
        const char *k7 = mdsrec_item_key(ref, 7, &kl);
        CHECK(mdsrec_find_key(h, k7, kl) == 7);
        CHECK(mdsrec_catalog(h, &cl) && mdsrec_catalog(ref, &rl) && cl == rl);
        mdsrec_state *hs = NULL, *rs = NULL;
        CHECK(mdsrec_state_new(h, &hs) == MDSREC_OK && mdsrec_state_new(ref, &rs) == MDSREC_OK);
        uint32_t ex[2] = {mdsrec_model_config(ref)->n_items - 1, 0};
        mdsrec_query q = {NULL, 0, 6, 0, ex, 2, NULL, 0};
        mdsrec_result rh, rr;
        CHECK(mdsrec_recommend(h, hs, &q, &rh) == MDSREC_OK && mdsrec_recommend(ref, rs, &q, &rr) == MDSREC_OK);
        CHECK(rh.count == 6 && rr.count == 6 && !memcmp(rh.items, rr.items, 6 * sizeof *rh.items));
        uint32_t hist[1] = {2};
        q.history = hist, q.history_len = 1;
        CHECK(mdsrec_recommend(h, hs, &q, &rh) == MDSREC_EARG);
        uint32_t it[3];
        float w[3];
        uint32_t n;
        CHECK(mdsrec_similar(h, 2, 0, 3, it, w, &n) == MDSREC_EARG);
        mdsrec_state_free(hs);
        mdsrec_state_free(rs);
    }
    mdsrec_close(h);
    free(p);
    mdsrec_close(ref);
    free(b);
}

/* A damaged byte in each section's payload: the feed that completes the section fails with
   ECHECKSUM naming it; every feed before it succeeds. */
static void test_damage(void) {
    size_t len = 0;
    uint8_t *b = make_bundle(MDSREC_I8, &len);
    uint32_t count = rd32(b + 20);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = b + 64 + 32 * i;
        uint64_t off = rd64(e + 8), size = rd64(e + 16);
        if (!size) continue;
        void *p = NULL;
        CHECK(posix_memalign(&p, 16, len) == 0);
        memcpy(p, b, len);
        ((uint8_t *)p)[off + size / 2] ^= 0x10;
        bundle_stream s;
        bundle_stream_init(&s, p, len);
        mdsrec_error err;
        CHECK(bundle_stream_feed(&s, off + size - 1, &err) == MDSREC_OK);
        CHECK(bundle_stream_feed(&s, off + size, &err) == MDSREC_ECHECKSUM);
        const char *want = bnd_section_names[rd32(e)];
        CHECK_MSG(strstr(err.message, want) && strstr(err.message, "checksum"), "%s", err.message);
        free(p);
    }
    /* a damaged header fails as soon as the 64 header bytes are in */
    void *p = NULL;
    CHECK(posix_memalign(&p, 16, len) == 0);
    memcpy(p, b, len);
    ((uint8_t *)p)[30] ^= 1; /* file_size */
    bundle_stream s;
    bundle_stream_init(&s, p, len);
    mdsrec_error err;
    CHECK(bundle_stream_feed(&s, 63, &err) == MDSREC_OK);
    CHECK(bundle_stream_feed(&s, len, &err) != MDSREC_OK && strstr(err.message, "header"));
    /* bytes counted backwards are the caller's bug */
    bundle_stream_init(&s, b, len);
    CHECK(bundle_stream_feed(&s, 100, &err) == MDSREC_OK && bundle_stream_feed(&s, 99, &err) == MDSREC_EARG);
    free(p);
    free(b);
}

int main(void) {
    test_stream(MDSREC_F32);
    test_stream(MDSREC_I8);
    test_stream(MDSREC_F16);
    test_damage();
    return check_done("test_bundle_stream");
}
