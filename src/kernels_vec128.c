/* kernels_vec128.c - the SIMD128 kernels' algorithms in GCC/Clang generic vectors (16 bytes:
   SSE on x86-64, NEON on arm64), for native builds (see kernels.h). They exist so that the
   benchmark's native column (`mdsrec bench`, built with MDSREC_NATIVE_ARCH) runs the same
   tiling at the same vector width as the wasm core, rather than the scalar reference: the
   wasm/native ratio then measures what the browser costs, not two different algorithms.
   The float sums are added in the SIMD128 set's order, so the two give the same bits (GELU
   aside, which calls erff here). Active only with -DMDSREC_VEC_ACTIVE (CMakeLists.txt sets it
   with MDSREC_NATIVE_ARCH); test_kernels checks it in every native build. */
#include "kernels.h"

#if !defined(__wasm__) && (defined(__GNUC__) || defined(__clang__))
#include <math.h>
#include <string.h>

#include "erf_fit.h"
#include "half.h"

typedef float v4f __attribute__((vector_size(16)));

static v4f ld(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* the SIMD128 set's two reduction orders */
static float hsum(v4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }
static float sum1(v4f v) { return (v[0] + v[2]) + (v[1] + v[3]); }

static float dot_f32(const float *a, const float *b, size_t n) {
    v4f s0 = {0, 0, 0, 0}, s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 += ld(a + i) * ld(b + i);
        s1 += ld(a + i + 4) * ld(b + i + 4);
        s2 += ld(a + i + 8) * ld(b + i + 8);
        s3 += ld(a + i + 12) * ld(b + i + 12);
    }
    for (; i + 4 <= n; i += 4) s0 += ld(a + i) * ld(b + i);
    float s = hsum((s0 + s1) + (s2 + s3));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static float dot_f16(const float *a, const uint16_t *b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += a[i] * half_to_float(b[i]);
    return s;
}

static int32_t dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    int32_t s = 0; /* integer: the compiler vectorises this reduction itself */
    for (size_t i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

static void matvec(float *out, const float *w, const float *x, const float *b, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) out[r] = (b ? b[r] : 0.0f) + dot_f32(w + r * cols, x, cols);
}

static float linear_one(const float *x, const float *w, size_t din, float bias) {
    v4f acc = {0, 0, 0, 0};
    size_t k = 0;
    for (; k + 4 <= din; k += 4) acc += ld(x + k) * ld(w + k);
    float s = sum1(acc);
    for (; k < din; k++) s += x[k] * w[k];
    return s + bias;
}

/* 4 tokens x 2 outputs, as kernels_simd128.c's linear() */
static void linear(float *out, const float *x, const float *w, const float *b, size_t n, size_t din,
                   size_t dout) {
    size_t r = 0, kv = din & ~(size_t)3;
    for (; r + 4 <= n; r += 4) {
        const float *x0 = x + r * din, *x1 = x0 + din, *x2 = x1 + din, *x3 = x2 + din;
        size_t j = 0;
        for (; j + 2 <= dout; j += 2) {
            const float *w0 = w + j * din, *w1 = w0 + din;
            v4f a00 = {0, 0, 0, 0}, a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (size_t k = 0; k < kv; k += 4) {
                v4f v0 = ld(w0 + k), v1 = ld(w1 + k), t;
                t = ld(x0 + k), a00 += t * v0, a01 += t * v1;
                t = ld(x1 + k), a10 += t * v0, a11 += t * v1;
                t = ld(x2 + k), a20 += t * v0, a21 += t * v1;
                t = ld(x3 + k), a30 += t * v0, a31 += t * v1;
            }
            float s[8] = {sum1(a00), sum1(a10), sum1(a20), sum1(a30), sum1(a01), sum1(a11), sum1(a21), sum1(a31)};
            for (size_t t = 0; t < 4; t++) {
                const float *xt = x0 + t * din;
                float s0 = s[t], s1 = s[4 + t];
                for (size_t k = kv; k < din; k++) s0 += xt[k] * w0[k], s1 += xt[k] * w1[k];
                out[(r + t) * dout + j] = s0 + (b ? b[j] : 0.0f);
                out[(r + t) * dout + j + 1] = s1 + (b ? b[j + 1] : 0.0f);
            }
        }
        for (; j < dout; j++)
            for (size_t t = 0; t < 4; t++)
                out[(r + t) * dout + j] = linear_one(x0 + t * din, w + j * din, din, b ? b[j] : 0.0f);
    }
    /* leftover tokens: 1 token x 4 outputs, as kernels_simd128.c */
    for (; r < n; r++) {
        const float *xr = x + r * din;
        size_t j = 0;
        for (; j + 4 <= dout; j += 4) {
            const float *w0 = w + j * din, *w1 = w0 + din, *w2 = w1 + din, *w3 = w2 + din;
            v4f a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
            for (size_t k = 0; k < kv; k += 4) {
                v4f t = ld(xr + k);
                a0 += t * ld(w0 + k), a1 += t * ld(w1 + k), a2 += t * ld(w2 + k), a3 += t * ld(w3 + k);
            }
            float s[4] = {sum1(a0), sum1(a1), sum1(a2), sum1(a3)};
            for (size_t o = 0; o < 4; o++) {
                const float *wo = w + (j + o) * din;
                for (size_t k = kv; k < din; k++) s[o] += xr[k] * wo[k];
                out[r * dout + j + o] = s[o] + (b ? b[j + o] : 0.0f);
            }
        }
        for (; j < dout; j++) out[r * dout + j] = linear_one(xr, w + j * din, din, b ? b[j] : 0.0f);
    }
}

/* GELU with kernels_simd128.c's rational erf, element by element in the same order (so the
   same bits); plain element-wise code that the compiler vectorises. */
static void gelu(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i], t = v * 0.70710678118654752f;
        float xc = t > ERF_CLAMP ? ERF_CLAMP : t < -ERF_CLAMP ? -ERF_CLAMP : t;
        float y = xc * xc, p = ERF_P[6], q = ERF_Q[6];
        for (int k = 5; k >= 0; k--) p = p * y + ERF_P[k], q = q * y + ERF_Q[k];
        float e = xc * p / q;
        e = e > 1.0f ? 1.0f : e < -1.0f ? -1.0f : e;
        out[i] = 0.5f * v * (1.0f + e);
    }
}

static void score_f32(float *out, const float *const *mats, const float *q, size_t n_ch, size_t d,
                      size_t row0, size_t count) {
    size_t r = 0;
    if (d % 4 == 0) {
        for (; r + 4 <= count; r += 4) {
            float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
            for (size_t c = 0; c < n_ch; c++) {
                const float *qc = q + c * d, *m0 = mats[c] + (row0 + r) * d;
                const float *m1 = m0 + d, *m2 = m1 + d, *m3 = m2 + d;
                v4f a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
                for (size_t k = 0; k < d; k += 4) {
                    v4f qv = ld(qc + k);
                    a0 += qv * ld(m0 + k), a1 += qv * ld(m1 + k), a2 += qv * ld(m2 + k), a3 += qv * ld(m3 + k);
                }
                t0 += sum1(a0), t1 += sum1(a1), t2 += sum1(a2), t3 += sum1(a3);
            }
            out[r] = t0, out[r + 1] = t1, out[r + 2] = t2, out[r + 3] = t3;
        }
    }
    for (; r < count; r++) {
        float s = 0.0f;
        for (size_t c = 0; c < n_ch; c++) s += dot_f32(q + c * d, mats[c] + (row0 + r) * d, d);
        out[r] = s;
    }
}

static void score_f32_panel(float *out, const float *const *mats, const float *q, size_t n_ch, size_t d,
                            size_t row0, size_t count) {
    for (size_t r = 0; r < count; r += MDSREC_PANEL) {
        v4f t0 = {0, 0, 0, 0}, t1 = t0, t2 = t0, t3 = t0;
        for (size_t c = 0; c < n_ch; c++) {
            const float *qc = q + c * d, *p = mats[c] + (row0 + r) * d;
            v4f a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
            for (size_t k = 0; k < d; k++, p += MDSREC_PANEL) {
                v4f qv = {qc[k], qc[k], qc[k], qc[k]};
                a0 += qv * ld(p), a1 += qv * ld(p + 4), a2 += qv * ld(p + 8), a3 += qv * ld(p + 12);
            }
            t0 += a0, t1 += a1, t2 += a2, t3 += a3;
        }
        memcpy(out + r, &t0, 16), memcpy(out + r + 4, &t1, 16);
        memcpy(out + r + 8, &t2, 16), memcpy(out + r + 12, &t3, 16);
    }
}

static void score_f16(float *out, const uint16_t *const *mats, const float *q, size_t n_ch, size_t d,
                      size_t row0, size_t count) {
    for (size_t r = 0; r < count; r++) {
        float s = 0.0f;
        for (size_t c = 0; c < n_ch; c++) s += dot_f16(q + c * d, mats[c] + (row0 + r) * d, d);
        out[r] = s;
    }
}

/* Four rows at a time. On x86 with SSE4.1 (every -march=native this bench meets) the wasm
   kernel's instructions one for one: pmovsxbw from memory (wasm's load8x8_s) and pmaddwd
   (i32x4.dot_i16x8_s), then the four sums reduced together; elsewhere plain integer C that
   the compiler vectorises. The float combination is the scalar set's, so the scores are
   bit-identical to it. */
#if defined(__SSE4_1__)
#include <immintrin.h>
static __m128i mad8(__m128i acc, const int8_t *q, const int8_t *m) {
    __m128i a = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)q));
    __m128i b = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)m));
    return _mm_add_epi32(acc, _mm_madd_epi16(a, b));
}
static void dots4_i8(const int8_t *q, const int8_t *m0, size_t d, int32_t s[4]) {
    const int8_t *m1 = m0 + d, *m2 = m1 + d, *m3 = m2 + d;
    __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
    size_t k = 0;
    for (; k + 8 <= d; k += 8) {
        a0 = mad8(a0, q + k, m0 + k), a1 = mad8(a1, q + k, m1 + k);
        a2 = mad8(a2, q + k, m2 + k), a3 = mad8(a3, q + k, m3 + k);
    }
    /* the 4x4 transpose-add of kernels_simd128.c's sum4_i32 */
    __m128i ab = _mm_add_epi32(_mm_unpacklo_epi32(a0, a1), _mm_unpackhi_epi32(a0, a1));
    __m128i cd = _mm_add_epi32(_mm_unpacklo_epi32(a2, a3), _mm_unpackhi_epi32(a2, a3));
    __m128i sum = _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd));
    _mm_storeu_si128((__m128i *)(void *)s, sum);
    for (; k < d; k++)
        for (size_t u = 0; u < 4; u++) s[u] += (int32_t)q[k] * (int32_t)m0[u * d + k];
}
#else
static void dots4_i8(const int8_t *q, const int8_t *m0, size_t d, int32_t s[4]) {
    for (size_t u = 0; u < 4; u++) {
        s[u] = 0;
        for (size_t k = 0; k < d; k++) s[u] += (int32_t)q[k] * (int32_t)m0[u * d + k];
    }
}
#endif

static void score_i8(float *out, const int8_t *const *mats, const float *const *scales, const int8_t *q8,
                     const float *qscale, size_t n_ch, size_t d, size_t row0, size_t count) {
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (size_t c = 0; c < n_ch; c++) {
            int32_t s[4];
            dots4_i8(q8 + c * d, mats[c] + (row0 + r) * d, d, s);
            for (size_t u = 0; u < 4; u++) t[u] += scales[c][row0 + r + u] * qscale[c] * (float)s[u];
        }
        memcpy(out + r, t, sizeof t);
    }
    for (; r < count; r++) {
        float s = 0.0f;
        for (size_t c = 0; c < n_ch; c++) {
            int32_t dot = dot_i8(q8 + c * d, mats[c] + (row0 + r) * d, d);
            s += scales[c][row0 + r] * qscale[c] * (float)dot;
        }
        out[r] = s;
    }
}

static size_t above(const float *s, size_t n, float thr, uint32_t *idx) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] > thr) idx[m++] = (uint32_t)i;
    return m;
}

/* Four rows in the lanes of one sum, as the SIMD128 set: the table lookups are scalar loads
   (no gather), the adds a quarter of the scalar set's. Each lane adds in the scalar order. */
static void score_pq(float *out, const uint8_t *const *codes, const float *const *luts, size_t n_ch, size_t m,
                     size_t row0, size_t count) {
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        v4f acc = {0, 0, 0, 0};
        for (size_t c = 0; c < n_ch; c++) {
            const uint8_t *p0 = codes[c] + (row0 + r) * m, *p1 = p0 + m, *p2 = p1 + m, *p3 = p2 + m;
            const float *lut = luts[c];
            for (size_t j = 0; j < m; j++, lut += 256) {
                v4f v = {lut[p0[j]], lut[p1[j]], lut[p2[j]], lut[p3[j]]};
                acc += v;
            }
        }
        memcpy(out + r, &acc, sizeof acc);
    }
    /* the last 0-3 rows: the scalar reference, which adds in the same order */
    if (r < count) kernels_scalar()->score_pq(out + r, codes, luts, n_ch, m, row0 + r, count - r);
}

static const mdsrec_kernels vec_set = {
    "vec128", dot_f32, dot_f16, dot_i8, matvec, linear, gelu, score_f32, score_f32_panel, score_f16, score_i8, above,
    score_pq,
};

const mdsrec_kernels *kernels_vec128(void) { return &vec_set; }

#else
const mdsrec_kernels *kernels_vec128(void) { return 0; }
#endif
