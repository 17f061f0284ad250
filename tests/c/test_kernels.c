/* test_kernels.c - every kernel of every set this build has (scalar natively; scalar and
   simd128 in the wasm build of this test; scalar, simd128 and relaxed in its relaxed-SIMD
   build, which runs in Chromium: tests/e2e/relaxed.spec.mjs) against a double-precision
   reference, and the sets against each other. Tolerance: 1e-5 relative to the sum of |terms|
   for float dots; integer dots and i8 scores must be exact / bit-identical. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "src/half.h"
#include "src/kernels.h"
#include "src/ops.h"

static uint64_t rng = 12345;
static double urand(void) { /* [0,1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}
static float frand(void) { return (float)(urand() * 2.0 - 1.0); }

/* |a-b| <= tol * scale, where scale is the sum of |terms| (the dot's condition) */
#define CHECK_DOT(a, ref, scale, tol) CHECK_MSG(fabs((double)(a) - (ref)) <= (tol) * ((scale) + 1e-30), "%.9g vs %.9g", (double)(a), (ref))

static void test_dots(const mdsrec_kernels *k) {
    static const size_t sizes[] = {0, 1, 3, 4, 5, 15, 16, 17, 31, 64, 100, 192, 257};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        float *a = malloc((n + 1) * sizeof(float)), *b = malloc((n + 1) * sizeof(float));
        uint16_t *h = malloc((n + 1) * sizeof(uint16_t));
        int8_t *qa = malloc(n + 1), *qb = malloc(n + 1);
        double ref = 0, mag = 0, ref16 = 0, mag16 = 0;
        int64_t ref8 = 0;
        for (size_t i = 0; i < n; i++) {
            a[i] = frand();
            b[i] = frand() * 3.0f;
            h[i] = float_to_half(b[i]);
            qa[i] = (int8_t)(i % 7 == 0 ? -127 : (int)(frand() * 127));
            qb[i] = (int8_t)(i % 5 == 0 ? 127 : (int)(frand() * 127));
            ref += (double)a[i] * b[i];
            mag += fabs((double)a[i] * b[i]);
            double hb = half_to_float(h[i]);
            ref16 += (double)a[i] * hb;
            mag16 += fabs((double)a[i] * hb);
            ref8 += (int64_t)qa[i] * qb[i];
        }
        CHECK_DOT(k->dot_f32(a, b, n), ref, mag, 1e-5);
        CHECK_DOT(k->dot_f16(a, h, n), ref16, mag16, 1e-5);
        CHECK(k->dot_i8(qa, qb, n) == (int32_t)ref8);
        free(a), free(b), free(h), free(qa), free(qb);
    }
    /* the extreme int8 case: all -127 * -127 stays exact */
    int8_t m[256];
    memset(m, 0x81, sizeof m); /* -127 */
    CHECK(k->dot_i8(m, m, 256) == 256 * 127 * 127);
    /* -128 on either side (relaxed splits b into 7-bit halves, which -128 does not fit) */
    int8_t p[64];
    memset(p, 0x80, sizeof p);  /* -128 */
    memset(p + 32, 127, 32);
    CHECK(k->dot_i8(p, m, 64) == 32 * 128 * 127 - 32 * 127 * 127);
    CHECK(k->dot_i8(m, p, 64) == 32 * 128 * 127 - 32 * 127 * 127);
}

static void test_matvec(const mdsrec_kernels *k) {
    size_t rows = 37, cols = 64;
    float *w = malloc(rows * cols * sizeof(float)), x[64], b[37], out[37], out_nb[37];
    for (size_t i = 0; i < rows * cols; i++) w[i] = frand();
    for (size_t i = 0; i < cols; i++) x[i] = frand();
    for (size_t i = 0; i < rows; i++) b[i] = frand();
    k->matvec(out, w, x, b, rows, cols);
    k->matvec(out_nb, w, x, NULL, rows, cols);
    for (size_t r = 0; r < rows; r++) {
        double ref = 0, mag = 0;
        for (size_t c = 0; c < cols; c++) {
            ref += (double)w[r * cols + c] * x[c];
            mag += fabs((double)w[r * cols + c] * x[c]);
        }
        CHECK_DOT(out_nb[r], ref, mag, 1e-5);
        CHECK_DOT(out[r], ref + b[r], mag + fabs(b[r]), 1e-5);
    }
    free(w);
}

/* linear over n tokens, for shapes that hit every edge of the SIMD tiles (tokens not a
   multiple of 4, outputs odd, din not a multiple of 4, din past the scalar set's 128-input
   blocks): against double, and each token recomputed alone must give the very same bits
   (model.c's prefix cache relies on it). The scalar set must give matvec's bits exactly:
   the trainer's seeded runs depend on it. */
static void test_linear(const mdsrec_kernels *k) {
    static const size_t shapes[][3] = {{50, 64, 64}, {7, 64, 256}, {5, 256, 64}, {3, 9, 5}, {1, 64, 64},
                                       {6, 17, 3}, {9, 300, 13}, {12, 129, 16}, {4, 1, 1}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t n = shapes[si][0], din = shapes[si][1], dout = shapes[si][2];
        float *x = malloc(n * din * sizeof(float)), *w = malloc(dout * din * sizeof(float));
        float *b = malloc(dout * sizeof(float)), *out = malloc(n * dout * sizeof(float));
        float *one = malloc(dout * sizeof(float)), *nob = malloc(n * dout * sizeof(float));
        for (size_t i = 0; i < n * din; i++) x[i] = frand();
        for (size_t i = 0; i < dout * din; i++) w[i] = frand();
        for (size_t i = 0; i < dout; i++) b[i] = frand();
        k->linear(out, x, w, b, n, din, dout);
        k->linear(nob, x, w, NULL, n, din, dout);
        int same = 1;
        for (size_t r = 0; r < n; r++) {
            for (size_t j = 0; j < dout; j++) {
                double ref = 0, mag = 0;
                for (size_t c = 0; c < din; c++) {
                    ref += (double)x[r * din + c] * w[j * din + c];
                    mag += fabs((double)x[r * din + c] * w[j * din + c]);
                }
                CHECK_DOT(nob[r * dout + j], ref, mag, 1e-5);
                CHECK_DOT(out[r * dout + j], ref + b[j], mag + fabs(b[j]), 1e-5);
            }
            k->linear(one, x + r * din, w, b, 1, din, dout);
            if (memcmp(one, out + r * dout, dout * sizeof(float)) != 0) same = 0;
            if (k == kernels_scalar()) {
                k->matvec(one, w, x + r * din, b, dout, din);
                CHECK_MSG(memcmp(one, out + r * dout, dout * sizeof(float)) == 0,
                          "scalar linear differs from matvec: token %zu of %zu x %zu -> %zu", r, n, din, dout);
            }
        }
        CHECK_MSG(same, "linear of %s: a token alone differs from the same token in a tile", k->name);
        free(x), free(w), free(b), free(out), free(one), free(nob);
    }
}

/* linear_packed (the trainer's, weights packed once) must give the scalar linear's bits for
   every shape, token count and bias, and through op_linear_p when the scalar set is active. */
static void test_linear_packed(void) {
    static const size_t shapes[][3] = {{50, 64, 64}, {7, 64, 256}, {5, 256, 64}, {3, 9, 5}, {1, 64, 64},
                                       {2, 64, 64}, {6, 17, 3}, {9, 300, 13}, {12, 129, 16}, {4, 1, 1}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t n = shapes[si][0], din = shapes[si][1], dout = shapes[si][2];
        size_t np = linear_packed_floats(din, dout);
        CHECK(np >= din * dout && np % 8 == 0);
        float *x = malloc(n * din * sizeof(float)), *w = malloc(dout * din * sizeof(float));
        float *b = malloc(dout * sizeof(float)), *want = malloc(n * dout * sizeof(float));
        float *got = malloc(n * dout * sizeof(float)), *wp = aligned_alloc(64, (np * sizeof(float) + 63) / 64 * 64);
        for (size_t i = 0; i < n * din; i++) x[i] = frand();
        for (size_t i = 0; i < dout * din; i++) w[i] = frand();
        for (size_t i = 0; i < dout; i++) b[i] = frand();
        linear_pack(wp, w, din, dout);
        for (int bias = 0; bias < 2; bias++) {
            kernels_scalar()->linear(want, x, w, bias ? b : NULL, n, din, dout);
            memset(got, 0xff, n * dout * sizeof(float));
            linear_packed(got, x, wp, bias ? b : NULL, n, din, dout);
            CHECK_MSG(memcmp(want, got, n * dout * sizeof(float)) == 0, "linear_packed differs from the scalar linear: "
                      "%zu x %zu -> %zu, bias %d", n, din, dout, bias);
            if (kernels_active() == kernels_scalar()) {
                memset(got, 0xff, n * dout * sizeof(float));
                op_linear_p(got, x, w, wp, bias ? b : NULL, n, din, dout);
                CHECK(memcmp(want, got, n * dout * sizeof(float)) == 0);
            }
        }
        free(x), free(w), free(b), free(want), free(got), free(wp);
    }
}

/* GELU against double erf, over the whole range and past the clamp, odd lengths for the tail */
static void test_gelu(const mdsrec_kernels *k) {
    size_t n = 2003;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)(((double)i / (n - 1) * 2 - 1) * 12.0);
    x[0] = 0.0f, x[1] = -0.0f, x[2] = 1e-30f, x[3] = 5.5437f;
    k->gelu(y, x, n);
    for (size_t i = 0; i < n; i++) {
        double ref = 0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0)));
        CHECK_MSG(fabs(y[i] - ref) <= 1e-6 * (1 + fabs((double)x[i])), "gelu(%.9g) = %.9g, expected %.9g", (double)x[i], (double)y[i], ref);
    }
    k->gelu(x, x, n); /* in place */
    CHECK(memcmp(x, y, n * sizeof(float)) == 0);
    free(x), free(y);
}

/* sum_c <q_c, m[c] row r> in double, and the sum of the terms' magnitudes in *mag */
static double f32_score_ref(const float *q, float *const *m, size_t C, size_t d, size_t r, double *mag) {
    double ref = 0;
    *mag = 0;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < d; j++) {
            double t = (double)q[c * d + j] * m[c][r * d + j];
            ref += t;
            *mag += fabs(t);
        }
    return ref;
}

/* score_* over 3 channels, rows [row0, row0+count), against double and against scalar */
static void test_scores(const mdsrec_kernels *k) {
    const mdsrec_kernels *ref_k = kernels_scalar();
    size_t N = 300, d = 64, C = 3, row0 = 17, count = 251;
    float *m32[3], *sc[3], q[192], out[300], out_ref[300];
    uint16_t *m16[3];
    int8_t *m8[3], q8[192];
    float qscale[3] = {0.011f, 0.02f, 0.005f};
    for (size_t c = 0; c < C; c++) {
        m32[c] = malloc(N * d * sizeof(float));
        m16[c] = malloc(N * d * sizeof(uint16_t));
        m8[c] = malloc(N * d);
        sc[c] = malloc(N * sizeof(float));
        for (size_t i = 0; i < N * d; i++) {
            m32[c][i] = frand();
            m16[c][i] = float_to_half(m32[c][i]);
            m8[c][i] = (int8_t)(frand() * 127);
        }
        for (size_t i = 0; i < N; i++) sc[c][i] = (float)urand() * 0.01f;
    }
    for (size_t i = 0; i < C * d; i++) {
        q[i] = frand();
        q8[i] = (int8_t)(frand() * 127);
    }
    k->score_f32(out, (const float *const *)m32, q, C, d, row0, count);
    ref_k->score_f32(out_ref, (const float *const *)m32, q, C, d, row0, count);
    for (size_t r = 0; r < count; r++) {
        double mag, ref = f32_score_ref(q, m32, C, d, row0 + r, &mag);
        CHECK_DOT(out[r], ref, mag, 1e-5);
        CHECK_DOT(out[r], out_ref[r], mag, 1e-5);
    }
    /* the same rows in panels of 16 (rows 16..255): bit-identical to the scalar sums */
    {
        size_t p0 = 16, pc = 240;
        float *pm[3], pout[240], pref[240];
        for (size_t c = 0; c < C; c++) {
            pm[c] = malloc(N * d * sizeof(float));
            for (size_t i = 0; i < 256; i++) /* whole panels only */
                for (size_t j = 0; j < d; j++)
                    pm[c][(i - i % 16) * d + j * 16 + i % 16] = m32[c][i * d + j];
        }
        k->score_f32_panel(pout, (const float *const *)pm, q, C, d, p0, pc);
        ref_k->score_f32_panel(pref, (const float *const *)pm, q, C, d, p0, pc);
        CHECK_MSG(!memcmp(pout, pref, sizeof pout), "score_f32_panel of %s is not bit-identical to scalar", k->name);
        for (size_t r = 0; r < pc; r++) {
            double mag, ref = f32_score_ref(q, m32, C, d, p0 + r, &mag);
            CHECK_DOT(pout[r], ref, mag, 1e-5);
        }
        for (size_t c = 0; c < C; c++) free(pm[c]);
    }
    k->score_f16(out, (const uint16_t *const *)m16, q, C, d, row0, count);
    for (size_t r = 0; r < count; r++) {
        double ref = 0, mag = 0;
        for (size_t c = 0; c < C; c++)
            for (size_t j = 0; j < d; j++) {
                double t = (double)q[c * d + j] * half_to_float(m16[c][(row0 + r) * d + j]);
                ref += t;
                mag += fabs(t);
            }
        CHECK_DOT(out[r], ref, mag, 1e-5);
    }
    k->score_i8(out, (const int8_t *const *)m8, (const float *const *)sc, q8, qscale, C, d, row0, count);
    ref_k->score_i8(out_ref, (const int8_t *const *)m8, (const float *const *)sc, q8, qscale, C, d, row0, count);
    int same = 1;
    for (size_t r = 0; r < count; r++) {
        double ref = 0, mag = 0; /* mag: the channel terms' sizes, as cancellation is possible */
        for (size_t c = 0; c < C; c++) {
            int64_t dot = 0;
            for (size_t j = 0; j < d; j++) dot += (int64_t)q8[c * d + j] * m8[c][(row0 + r) * d + j];
            ref += (double)sc[c][row0 + r] * qscale[c] * (double)dot;
            mag += fabs((double)sc[c][row0 + r] * qscale[c] * (double)dot);
        }
        CHECK_DOT(out[r], ref, mag + 1e-6, 1e-5);
        if (memcmp(&out[r], &out_ref[r], sizeof(float)) != 0) same = 0;
    }
    CHECK_MSG(same, "i8 scores of %s are not bit-identical to scalar", k->name);
    /* -128 on either side (the loader accepts it in items; relaxed's 7-bit split cannot take it
       in q): still exact */
    m8[1][(row0 + 2) * d + 7] = -128, m8[0][(row0 + 5) * d] = -128, q8[d + 3] = -128;
    k->score_i8(out, (const int8_t *const *)m8, (const float *const *)sc, q8, qscale, C, d, row0, count);
    ref_k->score_i8(out_ref, (const int8_t *const *)m8, (const float *const *)sc, q8, qscale, C, d, row0, count);
    CHECK_MSG(!memcmp(out, out_ref, count * sizeof(float)), "i8 scores of %s with -128 are not bit-identical to scalar", k->name);
    q8[d + 3] = 0;
    k->score_i8(out, (const int8_t *const *)m8, (const float *const *)sc, q8, qscale, C, d, row0, count);
    ref_k->score_i8(out_ref, (const int8_t *const *)m8, (const float *const *)sc, q8, qscale, C, d, row0, count);
    CHECK_MSG(!memcmp(out, out_ref, count * sizeof(float)), "i8 scores of %s with -128 items are not bit-identical to scalar", k->name);
    for (size_t c = 0; c < C; c++) free(m32[c]), free(m16[c]), free(m8[c]), free(sc[c]);
}

/* PQ scoring: against a double sum of the same table entries, and bit-identical to the scalar
   set (one running sum in the same order); m odd and even, rows past a multiple of 4, one row. */
static void test_score_pq(const mdsrec_kernels *k) {
    const mdsrec_kernels *ref_k = kernels_scalar();
    static const size_t ms[] = {1, 3, 8, 16};
    size_t N = 203, C = 3;
    float out[203], out_ref[203];
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++) {
        size_t m = ms[mi];
        uint8_t *codes[3];
        float *luts[3];
        for (size_t c = 0; c < C; c++) {
            codes[c] = malloc(N * m);
            luts[c] = malloc(m * 256 * sizeof(float));
            for (size_t i = 0; i < N * m; i++) codes[c][i] = (uint8_t)(urand() * 256);
            codes[c][0] = 255, codes[c][1] = 0; /* both ends of a table */
            for (size_t i = 0; i < m * 256; i++) luts[c][i] = frand();
        }
        static const size_t spans[][2] = {{0, 203}, {5, 198}, {17, 1}, {200, 3}};
        for (size_t si = 0; si < 4; si++) {
            size_t row0 = spans[si][0], count = spans[si][1];
            k->score_pq(out, (const uint8_t *const *)codes, (const float *const *)luts, C, m, row0, count);
            ref_k->score_pq(out_ref, (const uint8_t *const *)codes, (const float *const *)luts, C, m, row0, count);
            CHECK_MSG(!memcmp(out, out_ref, count * sizeof(float)), "pq scores of %s (m %zu) are not bit-identical to scalar",
                      k->name, m);
            for (size_t r = 0; r < count; r++) {
                double s = 0, scale = 0;
                for (size_t c = 0; c < C; c++)
                    for (size_t j = 0; j < m; j++) {
                        double v = luts[c][j * 256 + codes[c][(row0 + r) * m + j]];
                        s += v, scale += fabs(v);
                    }
                CHECK_DOT(out[r], s, scale, 1e-5);
            }
        }
        for (size_t c = 0; c < C; c++) free(codes[c]), free(luts[c]);
    }
}

static void test_above(const mdsrec_kernels *k) {
    float s[203];
    uint32_t idx[203], ref[203];
    for (int trial = 0; trial < 20; trial++) {
        size_t n = (size_t)(urand() * 203);
        for (size_t i = 0; i < n; i++) s[i] = frand();
        if (n > 5) s[3] = NAN, s[4] = 0.25f;
        float thr = trial % 5 == 0 ? -INFINITY : (float)(urand() * 1.8 - 0.9);
        if (trial == 3) thr = 0.25f; /* equal to s[4]: must not pass */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] > thr) ref[m++] = (uint32_t)i;
        size_t got = k->above(s, n, thr, idx);
        CHECK(got == m);
        CHECK(got != m || memcmp(idx, ref, m * sizeof(uint32_t)) == 0);
    }
}

int main(void) {
    const mdsrec_kernels *sets[4] = {kernels_scalar(), kernels_simd128(), kernels_vec128(), kernels_relaxed()};
    CHECK(sets[0] != NULL);
    CHECK(kernels_active() != NULL);
    for (int i = 0; i < 4; i++) {
        if (!sets[i]) continue;
        printf("kernel set: %s\n", sets[i]->name);
        test_dots(sets[i]);
        test_matvec(sets[i]);
        test_linear(sets[i]);
        test_gelu(sets[i]);
        test_scores(sets[i]);
        test_score_pq(sets[i]);
        test_above(sets[i]);
    }
    test_linear_packed();
    return check_done("test_kernels");
}
