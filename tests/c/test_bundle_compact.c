/* test_bundle_compact.c - format v2's compact forms (models/FORMAT.md): f16 and q8 dense
   weights (decoded at open within their rounding bound), pq items (a planted codebook is found
   exactly; scoring through the lookup tables matches an f32 bundle of the decoded rows), the
   header version the writer picks, and the reader's refusals of bad v2 fields. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mdsrec.h"
#include "src/bundle.h"
#include "src/checksum.h"
#include "src/model.h"
#include "synth.h"
#include "export/bundle_edit.h"

static void small_options(synth_options *o, uint32_t n, uint32_t dtype, uint32_t weights) {
    synth_defaults(o, n);
    o->dim = 16, o->n_blocks = 1, o->n_heads = 2, o->max_len = 6, o->neighbours = 3;
    o->dtype = dtype, o->weights = weights, o->seed = 21;
}

static uint8_t *build(const bundle_spec *sp, size_t *len) {
    uint8_t *b = NULL;
    mdsrec_error err;
    CHECK_MSG(bundle_build(sp, &b, len, &err) == MDSREC_OK, "%s", err.message);
    return b;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* The payload of section (kind, channel) of a bundle, and its size. */
static uint8_t *section(uint8_t *b, uint32_t kind, uint32_t channel, uint64_t *size) {
    uint32_t n = rd32(b + 20);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = b + 64 + 32 * (size_t)i;
        if (rd32(e) == kind && rd32(e + 4) == channel) {
            uint64_t off;
            memcpy(&off, e + 8, 8);
            memcpy(size, e + 16, 8);
            return b + off;
        }
    }
    return NULL;
}

/* Every checksum made right again after an edit, so the value checks are what answers. */
static void refresh(uint8_t *b) {
    uint32_t n = rd32(b + 20);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = b + 64 + 32 * (size_t)i;
        uint64_t off, size, sum;
        memcpy(&off, e + 8, 8);
        memcpy(&size, e + 16, 8);
        sum = checksum64(b + off, (size_t)size);
        memcpy(e + 24, &sum, 8);
    }
    uint64_t t = checksum64(b + 64, 32 * (size_t)n), h;
    memcpy(b + 40, &t, 8);
    h = checksum64(b, 56);
    memcpy(b + 56, &h, 8);
}

static void expect_refused(const uint8_t *b, size_t len, mdsrec_status code, const char *part, int line) {
    mdsrec_model *m = NULL;
    mdsrec_error err;
    mdsrec_status st = mdsrec_open(b, len, &m, &err);
    CHECK_MSG(st == code, "line %d: status %d, expected %d (%s)", line, st, code, err.message);
    CHECK_MSG(strstr(err.message, part) != NULL, "line %d: message '%s' lacks '%s'", line, err.message, part);
    if (!st) mdsrec_close(m);
}
#define REFUSED(b, len, code, part) expect_refused(b, len, code, part, __LINE__)

/* f16 and q8 weights: the header says version 2, and every decoded weight is within its
   format's rounding of the original (f16: half an ulp; q8: half a step of its block's scale). */
static void weights_round_trip(void) {
    for (uint32_t wd = MDSREC_WEIGHTS_F32; wd <= MDSREC_WEIGHTS_Q8; wd++) {
        synth_options o;
        small_options(&o, 40, MDSREC_F32, wd);
        o.pool_mode = MDSREC_POOL_LAST;
        synth_model sm;
        mdsrec_error err;
        CHECK(synth_make(&o, &sm, &err) == MDSREC_OK);
        size_t len;
        uint8_t *b = build(&sm.spec, &len);
        CHECK(rd32(b + 8) == (wd ? 2u : 1u));
        mdsrec_model *m;
        CHECK_MSG(mdsrec_open(b, len, &m, &err) == MDSREC_OK, "%s", err.message);
        const mdsrec_config *c = mdsrec_model_config(m);
        CHECK(c->weight_dtype == wd && c->pq_m == 0);
        size_t np = bundle_pool_floats(c);
        for (uint32_t ch = 0; ch < c->n_channels; ch++) {
            size_t ne = bundle_encoder_floats(c, ch);
            const float *got[2] = {m->view.ch[ch].encoder, m->view.ch[ch].pool};
            const float *want[2] = {sm.encoder[ch], sm.pool[ch]};
            size_t count[2] = {ne, np};
            for (int a = 0; a < 2; a++) {
                double worst = 0;
                for (size_t i = 0; i < count[a]; i++) {
                    double bound = 0;
                    if (wd == MDSREC_WEIGHTS_F16) bound = fabs(want[a][i]) / 2048.0 + 1e-7;
                    if (wd == MDSREC_WEIGHTS_Q8) {
                        size_t lo = i / BUNDLE_Q8_BLOCK * BUNDLE_Q8_BLOCK, hi = lo + BUNDLE_Q8_BLOCK;
                        double mx = 0;
                        for (size_t j = lo; j < hi && j < count[a]; j++) mx = fmax(mx, fabs(want[a][j]));
                        bound = mx / 127.0 * 0.5 * 1.0001 + 1e-9;
                    }
                    double e = fabs((double)got[a][i] - want[a][i]);
                    if (e > bound) worst = fmax(worst, e - bound);
                }
                CHECK_MSG(worst == 0, "weights %u channel %u array %d: past the rounding bound by %g", wd, ch, a, worst);
            }
        }
        /* compact weights cut the bundle: f16 nearly halves the weights, q8 takes 36 bytes per 32 */
        mdsrec_state *s;
        CHECK(mdsrec_state_new(m, &s) == MDSREC_OK);
        uint32_t hist[3] = {1, 7, 3};
        mdsrec_query q = {hist, 3, 5, 0, NULL, 0, NULL, 0};
        mdsrec_result r;
        CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 5);
        mdsrec_state_free(s);
        mdsrec_close(m);
        free(b);
        synth_free(&sm);
    }
}

/* pq on planted rows: each sub-space holds 16 distinct sub-vectors, fewer than the 256
   centroids, so k-means must find them all and every row decodes exactly; scores through the
   tables then equal an f32 bundle's of the same rows, up to float summation order. */
static void pq_planted(void) {
    synth_options o;
    small_options(&o, 600, MDSREC_PQ, MDSREC_WEIGHTS_F32);
    synth_model sm;
    mdsrec_error err;
    CHECK(synth_make(&o, &sm, &err) == MDSREC_OK);
    uint32_t d = o.dim, M = 4, ds = d / M, N = o.n_items;
    sm.spec.cfg.pq_m = M;
    uint64_t seed = 5;
    for (uint32_t ch = 0; ch < o.n_channels; ch++)
        for (uint32_t i = 0; i < N; i++)
            for (uint32_t j = 0; j < M; j++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                uint32_t v = (uint32_t)(seed >> 40) % 16; /* which of 16 planted sub-vectors */
                for (uint32_t t = 0; t < ds; t++)
                    sm.items[ch][(size_t)i * d + j * ds + t] = (float)((v * 7 + t * 3 + j + ch) % 16) / 8.0f - 1.0f;
            }
    size_t len;
    uint8_t *b = build(&sm.spec, &len);
    CHECK(rd32(b + 8) == 2);
    uint64_t sz;
    CHECK(section(b, SEC_ITEMS, 0, &sz) && sz == (uint64_t)N * M);
    CHECK(section(b, SEC_PQ_CODEBOOK, 0, &sz) && sz == 4ull * 256 * d);
    mdsrec_model *m;
    CHECK_MSG(mdsrec_open(b, len, &m, &err) == MDSREC_OK, "%s", err.message);
    /* decode every row from codes and codebook: exact */
    float *dec[MDSREC_MAX_CHANNELS];
    int exact = 1;
    for (uint32_t ch = 0; ch < o.n_channels; ch++) {
        const uint8_t *codes = m->view.ch[ch].items;
        const float *cb = m->view.ch[ch].pq_codebook;
        dec[ch] = malloc((size_t)N * d * sizeof(float));
        for (uint32_t i = 0; i < N; i++)
            for (uint32_t j = 0; j < M; j++)
                for (uint32_t t = 0; t < ds; t++) {
                    float x = cb[((size_t)j * 256 + codes[(size_t)i * M + j]) * ds + t];
                    dec[ch][(size_t)i * d + j * ds + t] = x;
                    exact &= x == sm.items[ch][(size_t)i * d + j * ds + t];
                }
    }
    CHECK_MSG(exact, "pq did not reproduce planted rows exactly");

    /* the same model with f32 rows (the decoded ones): the same scores */
    bundle_spec f = sm.spec;
    f.cfg.item_dtype = MDSREC_F32, f.cfg.pq_m = 0, f.cfg.item_layout = MDSREC_LAYOUT_ROWS;
    for (uint32_t ch = 0; ch < o.n_channels; ch++) f.ch[ch].items = dec[ch];
    size_t flen;
    uint8_t *fb = build(&f, &flen);
    CHECK(rd32(fb + 8) == 1);
    mdsrec_model *fm;
    CHECK(mdsrec_open(fb, flen, &fm, &err) == MDSREC_OK);
    mdsrec_state *s, *fs;
    CHECK(mdsrec_state_new(m, &s) == MDSREC_OK && mdsrec_state_new(fm, &fs) == MDSREC_OK);
    float *sc = malloc(N * sizeof(float)), *fsc = malloc(N * sizeof(float));
    uint32_t hist[4] = {9, 4, 300, 17};
    CHECK(mdsrec_score_all(m, s, hist, 4, sc) == MDSREC_OK && mdsrec_score_all(fm, fs, hist, 4, fsc) == MDSREC_OK);
    double worst = 0, mag = 0;
    for (uint32_t i = 0; i < N; i++) worst = fmax(worst, fabs((double)sc[i] - fsc[i])), mag = fmax(mag, fabs(fsc[i]));
    CHECK_MSG(worst <= 1e-5 * (mag + 1), "pq scores differ from f32's of the decoded rows by %g (max |score| %g)", worst, mag);
    /* recommend and the per-channel shares go through the same tables */
    mdsrec_query q = {hist, 4, 10, 0, NULL, 0, NULL, 0};
    mdsrec_result r;
    CHECK(mdsrec_recommend(m, s, &q, &r) == MDSREC_OK && r.count == 10);
    for (uint32_t k = 0; k < r.count; k++) {
        float sum = 0;
        for (uint32_t c = 0; c < r.n_channels; c++) sum += r.shares[k * r.n_channels + c];
        CHECK_CLOSE(sum, r.scores[k], 1e-4 * (fabs(r.scores[k]) + 1));
        CHECK_CLOSE(r.scores[k], fsc[r.items[k]], 1e-5 * (mag + 1));
    }
    free(sc), free(fsc);
    mdsrec_state_free(s), mdsrec_state_free(fs);
    mdsrec_close(m), mdsrec_close(fm);
    for (uint32_t ch = 0; ch < o.n_channels; ch++) free(dec[ch]);
    free(b), free(fb);
    synth_free(&sm);
}

/* The reader's refusals of v2 fields, each with checksums made right. */
static void reader_refusals(void) {
    synth_options o;
    size_t len;
    uint8_t *good;
    mdsrec_error err;
    small_options(&o, 30, MDSREC_PQ, MDSREC_WEIGHTS_Q8);
    CHECK(synth_bundle(&o, &good, &len, &err) == MDSREC_OK);
    uint8_t *b = malloc(len);
    uint64_t sz;
#define FRESH() memcpy(b, good, len)
    uint8_t *cfgp;
    FRESH();
    cfgp = section(b, SEC_CONFIG, BUNDLE_NO_CHANNEL, &sz);
    CHECK(rd32(cfgp + 52) == 4 && rd32(cfgp + 48) == MDSREC_WEIGHTS_Q8);
    /* a v2 field in a v1 header */
    b[8] = 1;
    refresh(b);
    REFUSED(b, len, MDSREC_EFORMAT, "format version 1");
    /* pq_m that does not divide d, 0, or past d */
    uint32_t bad_m[] = {3, 0, 32};
    for (int i = 0; i < 3; i++) {
        FRESH();
        memcpy(section(b, SEC_CONFIG, BUNDLE_NO_CHANNEL, &sz) + 52, &bad_m[i], 4);
        refresh(b);
        REFUSED(b, len, MDSREC_EFORMAT, "pq_m");
    }
    /* unknown weight dtype; a future item dtype */
    uint32_t v = 3;
    FRESH();
    memcpy(section(b, SEC_CONFIG, BUNDLE_NO_CHANNEL, &sz) + 48, &v, 4);
    refresh(b);
    REFUSED(b, len, MDSREC_EFORMAT, "weight_dtype");
    v = 4;
    FRESH();
    memcpy(section(b, SEC_CONFIG, BUNDLE_NO_CHANNEL, &sz) + 28, &v, 4);
    refresh(b);
    REFUSED(b, len, MDSREC_EFORMAT, "item_dtype");
    /* a centroid that is not finite */
    FRESH();
    float nan = NAN;
    memcpy(section(b, SEC_PQ_CODEBOOK, 1, &sz) + 4 * 77, &nan, 4);
    refresh(b);
    REFUSED(b, len, MDSREC_EFORMAT, "PQ_CODEBOOK (channel 1): value 77");
    /* q8 blocks: a negative scale, a scale whose codes would overflow, padding not 0 */
    float scales[] = {-1.0f, 3e37f, NAN};
    for (int i = 0; i < 3; i++) {
        FRESH();
        memcpy(section(b, SEC_ENCODER, 0, &sz) + 36 * 2, &scales[i], 4);
        refresh(b);
        REFUSED(b, len, MDSREC_EFORMAT, "ENCODER (channel 0): value 64");
    }
    FRESH();
    uint8_t *gate = section(b, SEC_GATE, BUNDLE_NO_CHANNEL, &sz);
    uint64_t gate_n = 3ull * 3 * 16 + 3; /* 147 values: the last block holds 19 and 13 padding codes */
    CHECK(sz == (gate_n + 31) / 32 * 36);
    gate[sz - 1] = 1;
    refresh(b);
    REFUSED(b, len, MDSREC_EFORMAT, "GATE: value 128");
    /* a section of the wrong size for its weight dtype */
    FRESH();
    cfgp = section(b, SEC_CONFIG, BUNDLE_NO_CHANNEL, &sz);
    v = MDSREC_WEIGHTS_F16;
    memcpy(cfgp + 48, &v, 4);
    refresh(b);
    REFUSED(b, len, MDSREC_EFORMAT, "POS (channel 0): size");
    free(good);

    /* f16 weights: an Inf; and a codebook on a bundle that is not pq */
    small_options(&o, 30, MDSREC_I8, MDSREC_WEIGHTS_F16);
    CHECK(synth_bundle(&o, &good, &len, &err) == MDSREC_OK);
    b = realloc(b, len);
    FRESH();
    uint8_t *pos = section(b, SEC_POS, 1, &sz);
    pos[2 * 5 + 1] = 0x7C, pos[2 * 5] = 0; /* value 5 = +Inf */
    refresh(b);
    REFUSED(b, len, MDSREC_EFORMAT, "POS (channel 1): value 5");
    FRESH();
    uint8_t *cfg = section(b, SEC_CONFIG, BUNDLE_NO_CHANNEL, &sz);
    v = MDSREC_PQ;
    memcpy(cfg + 28, &v, 4); /* pq without pq_m */
    refresh(b);
    REFUSED(b, len, MDSREC_EFORMAT, "pq_m 0");
    free(good);
    free(b);
#undef FRESH
}

/* NEIGHBOURS_B against NEIGHBOURS_K of the same lists: the same indices in the same order, at
   8 weight bits the same weights to the bit (the same 255-level rule), at fewer within half a
   step, at 0 all the strongest weight; N on both sides of a power of two (index bits 4 and 5),
   rows shorter than k padded; and the reader's refusals. */
static void neighbours_bits(void) {
    static const uint32_t ns[] = {15, 16, 300};
    static const uint32_t wbits[] = {8, 3, 0};
    for (size_t ni = 0; ni < 3; ni++)
        for (size_t wi = 0; wi < 3; wi++) {
            synth_options o;
            small_options(&o, ns[ni], MDSREC_I8, MDSREC_WEIGHTS_F32);
            o.neighbours = 5;
            mdsrec_error err;
            uint8_t *kb, *bb;
            size_t kl, bl;
            CHECK(synth_bundle(&o, &kb, &kl, &err) == MDSREC_OK);
            o.nb_compact = 2, o.nb_weight_bits = wbits[wi];
            CHECK_MSG(synth_bundle(&o, &bb, &bl, &err) == MDSREC_OK, "%s", err.message);
            CHECK(rd32(bb + 8) == 1); /* a new optional kind, not a new version */
            uint64_t sz = 0;
            uint8_t *sec = section(bb, SEC_NEIGHBOURS_B, 1, &sz);
            CHECK(sec && rd32(sec + 8) == (ns[ni] < 16 ? 4u : ns[ni] < 512 && ns[ni] >= 256 ? 9u : 5u));
            CHECK(sz == BUNDLE_NBITS_HEAD + ((uint64_t)ns[ni] * 5 * (rd32(sec + 8) + wbits[wi]) + 7) / 8);
            mdsrec_model *mk, *mb;
            CHECK(mdsrec_open(kb, kl, &mk, &err) == MDSREC_OK);
            CHECK_MSG(mdsrec_open(bb, bl, &mb, &err) == MDSREC_OK, "%s", err.message);
            float lo = mb->view.ch[1].nb_w_min, hi = mb->view.ch[1].nb_w_max;
            double step = wbits[wi] ? ((double)hi - lo) / ((1u << wbits[wi]) - 1) : 0;
            int same = 1;
            for (uint32_t ch = 0; ch < o.n_channels; ch++)
                for (uint32_t i = 0; i < ns[ni]; i++) {
                    uint32_t a[8], b[8], na, nb;
                    float wa[8], wb[8];
                    CHECK(mdsrec_similar(mk, i, ch, 8, a, wa, &na) == MDSREC_OK);
                    CHECK(mdsrec_similar(mb, i, ch, 8, b, wb, &nb) == MDSREC_OK);
                    same &= na == nb && !memcmp(a, b, na * sizeof *a);
                    for (uint32_t j = 0; j < na && j < nb; j++) {
                        if (wbits[wi] == 8) same &= wa[j] == wb[j];
                        else if (wbits[wi] == 0) same &= wb[j] == mb->view.ch[ch].nb_w_max;
                        else if (ch == 1) same &= fabs((double)wa[j] - wb[j]) <= step / 2 + (hi - lo) / 510.0 + 1e-6;
                    }
                }
            CHECK_MSG(same, "NEIGHBOURS_B (n %u, %u weight bits) differs from NEIGHBOURS_K", ns[ni], wbits[wi]);
            mdsrec_close(mk), mdsrec_close(mb);
            if (ni == 2 && wi == 1) { /* the refusals, on 300 items, 9 + 3 bits */
                uint8_t *b = malloc(bl);
#define EDIT(stmt, part)                                    \
    do {                                                    \
        memcpy(b, bb, bl);                                  \
        sec = section(b, SEC_NEIGHBOURS_B, 1, &sz);         \
        stmt;                                               \
        refresh(b);                                         \
        REFUSED(b, bl, MDSREC_EFORMAT, part);               \
    } while (0)
                EDIT(sec[8] = 10, "index_bits 10, expected 9");
                EDIT(sec[12] = 9, "weight_bits 9");
                EDIT(sec[4] = 6, "size");
                /* entry 0 of item 0 (bits 0..11): index 299 + 1 = 300 is out of range */
                EDIT((sec[24] = 0x2C, sec[25] = (uint8_t)((sec[25] & 0xF0) | 0x01)), "neighbour 300");
                /* entry 0 of item 0 made padding while entry 1 is a neighbour */
                EDIT((sec[24] = 0xFF, sec[25] = (uint8_t)(sec[25] | 0x01), sec[25] &= 0xF1), "after padding");
                free(b);
#undef EDIT
            }
            if (ni == 0 && wi == 1) { /* 15 items x 5 x (4 + 3) bits = 525: 3 spare bits */
                uint8_t *b = malloc(bl);
                memcpy(b, bb, bl);
                sec = section(b, SEC_NEIGHBOURS_B, 1, &sz);
                sec[sz - 1] |= 0x80;
                refresh(b);
                REFUSED(b, bl, MDSREC_EFORMAT, "bits past the last entry");
                free(b);
            }
            free(kb), free(bb);
        }
}

/* `mdsrec add-items` edits v2 bundles: read (weights decoded, pq rows from their centroids,
   bit-packed lists), rebuilt in the same dtypes, scoring as before. */
static void edit_v2(void) {
    synth_options o;
    small_options(&o, 30, MDSREC_PQ, MDSREC_WEIGHTS_Q8);
    o.nb_compact = 2, o.nb_weight_bits = 5;
    uint8_t *b, *r;
    size_t len, rlen;
    mdsrec_error err;
    CHECK(synth_bundle(&o, &b, &len, &err) == MDSREC_OK);
    edit_bundle e;
    CHECK(edit_bundle_read(b, len, "test", &e) == 0);
    CHECK(e.cfg.item_dtype == MDSREC_PQ && e.cfg.weight_dtype == MDSREC_WEIGHTS_Q8 && e.nb_compact == 2 &&
          e.nb_weight_bits == 5);
    CHECK(edit_bundle_build(&e, &r, &rlen) == 0);
    edit_bundle_free(&e);
    mdsrec_model *m, *mr;
    CHECK(mdsrec_open(b, len, &m, &err) == MDSREC_OK);
    CHECK_MSG(mdsrec_open(r, rlen, &mr, &err) == MDSREC_OK, "%s", err.message);
    CHECK(mdsrec_model_config(mr)->weight_dtype == MDSREC_WEIGHTS_Q8 && mr->view.ch[0].nb_kind == SEC_NEIGHBOURS_B);
    mdsrec_state *s, *sr;
    CHECK(mdsrec_state_new(m, &s) == MDSREC_OK && mdsrec_state_new(mr, &sr) == MDSREC_OK);
    float sc[30], scr[30];
    uint32_t hist[3] = {2, 11, 5};
    CHECK(mdsrec_score_all(m, s, hist, 3, sc) == MDSREC_OK && mdsrec_score_all(mr, sr, hist, 3, scr) == MDSREC_OK);
    double worst = 0;
    for (int i = 0; i < 30; i++) worst = fmax(worst, fabs((double)sc[i] - scr[i]) / (fabs(sc[i]) + 1));
    CHECK_MSG(worst < 1e-3, "rebuilt v2 bundle scores differ by %g", worst);
    uint32_t a[8], c[8], na = 0, nc = 1; /* unequal unless both calls answer */
    float wa[8], wc[8];
    CHECK(mdsrec_similar(m, 4, 1, 8, a, wa, &na) == MDSREC_OK && mdsrec_similar(mr, 4, 1, 8, c, wc, &nc) == MDSREC_OK);
    CHECK(na == nc && !memcmp(a, c, na * sizeof *a));
    mdsrec_state_free(s), mdsrec_state_free(sr);
    mdsrec_close(m), mdsrec_close(mr);
    free(b), free(r);
}

int main(void) {
    edit_v2();
    neighbours_bits();
    weights_round_trip();
    pq_planted();
    reader_refusals();
    /* v1 bundles stay v1: nothing compact, version 1, and the config fields are 0 */
    synth_options o;
    small_options(&o, 20, MDSREC_I8, MDSREC_WEIGHTS_F32);
    uint8_t *b;
    size_t len;
    mdsrec_error err;
    CHECK(synth_bundle(&o, &b, &len, &err) == MDSREC_OK && rd32(b + 8) == 1);
    free(b);
    return check_done("test_bundle_compact");
}
