/* kernels_relaxed.c - the SIMD128 set with relaxed SIMD where it pays (see kernels.h).
   Compiled with -mrelaxed-simd only by the clang-19 build of web/wasm/mdsrec-relaxed.wasm
   (CMakeLists.txt); elsewhere kernels_relaxed() is NULL.

   - f32x4.relaxed_madd (FMA on x86 and arm) in the encoder: dot_f32 (attention), matvec,
     linear and the GELU polynomial: one rounding instead of two, so the visitor vector may
     differ from the simd128/scalar one in the last bits (tests compare with a tolerance).
     Not in the f32/f16 scoring: measured in Chromium 156 it bought nothing there (the pass is
     bound by its loads and the memory, bench/NOTES.md), and without it those kernels stay
     bit-identical to scalar.
   - i32x4.relaxed_dot_i8x16_i7x16_add_s in the i8 dots and scoring. It is deterministic only
     when the second operand's lanes are in 0..127, so the visitor's int8 vector q is split into
     q+ = max(q, 0) and q- = max(-q, 0), both in 0..127 (q is in -127..127), and
     <m, q> = <m, q+> - <m, q->: exact, so i8 scores stay bit-identical to scalar, and no
     per-row sums of the item matrices are needed (the bundle has none).
   The other kernels (f32/f16 scoring, above) are the simd128 set's own. */
#include "kernels.h"

#if defined(__wasm_relaxed_simd__) && defined(__wasm_simd128__)
#include <math.h>
#include <wasm_simd128.h>

#include "erf_fit.h"

#define FMA(a, b, c) wasm_f32x4_relaxed_madd((a), (b), (c)) /* a*b + c */

static float hsum(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

static int32_t hsum_i32(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
           wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

static float dot_f32(const float *a, const float *b, size_t n) {
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = FMA(wasm_v128_load(a + i), wasm_v128_load(b + i), s0);
        s1 = FMA(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4), s1);
        s2 = FMA(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8), s2);
        s3 = FMA(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12), s3);
    }
    for (; i + 4 <= n; i += 4) s0 = FMA(wasm_v128_load(a + i), wasm_v128_load(b + i), s0);
    float s = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* q+ and q- of 16 int8 lanes (q in -127..127): both in 0..127, the dot's deterministic range */
static v128_t qpos(v128_t q) { return wasm_i8x16_max(q, wasm_i8x16_splat(0)); }
static v128_t qneg(v128_t q) { return wasm_i8x16_max(wasm_i8x16_neg(q), wasm_i8x16_splat(0)); }

/* sum a[i]*b[i]. A block of b holding -128 has no 7-bit split (128 is out of range): it and
   the rest go through the scalar loop. The core's visitor vectors never hold -128. */
static int32_t dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    v128_t ap = wasm_i32x4_splat(0), an = ap;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v128_t bv = wasm_v128_load(b + i);
        if (wasm_v128_any_true(wasm_i8x16_eq(bv, wasm_i8x16_splat(-128)))) break; /* scalar tail */
        v128_t av = wasm_v128_load(a + i);
        ap = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(av, qpos(bv), ap);
        an = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(av, qneg(bv), an);
    }
    int32_t s = hsum_i32(wasm_i32x4_sub(ap, an));
    for (; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

static void matvec(float *out, const float *w, const float *x, const float *b, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) out[r] = (b ? b[r] : 0.0f) + dot_f32(w + r * cols, x, cols);
}

/* kernels_simd128.c's reductions: [sum a, sum b, sum c, sum d], lanes as (l0 + l2) + (l1 + l3) */
static v128_t sum4_f32(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

static v128_t sum4_i32(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

static float sum1_f32(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 2)) +
           (wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 3));
}

/* One output of linear() alone, in the tiles' order (FMA lanes over k, sum1_f32, k tail, bias):
   model.c's prefix cache needs a token's bits not to depend on its tile. */
static float linear_one(const float *x, const float *w, size_t din, float bias) {
    v128_t acc = wasm_f32x4_splat(0);
    size_t k = 0;
    for (; k + 4 <= din; k += 4) acc = FMA(wasm_v128_load(x + k), wasm_v128_load(w + k), acc);
    float s = sum1_f32(acc);
    for (; k < din; k++) s += x[k] * w[k];
    return s + bias;
}

/* kernels_simd128.c's tiling (4 tokens x 2 outputs, then 1 token x 4 outputs), with FMA */
static void linear(float *out, const float *x, const float *w, const float *b, size_t n, size_t din,
                   size_t dout) {
    size_t r = 0, kv = din & ~(size_t)3;
    for (; r + 4 <= n; r += 4) {
        const float *x0 = x + r * din, *x1 = x0 + din, *x2 = x1 + din, *x3 = x2 + din;
        size_t j = 0;
        for (; j + 2 <= dout; j += 2) {
            const float *w0 = w + j * din, *w1 = w0 + din;
            v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00;
            v128_t a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (size_t k = 0; k < kv; k += 4) {
                v128_t v0 = wasm_v128_load(w0 + k), v1 = wasm_v128_load(w1 + k), t;
                t = wasm_v128_load(x0 + k);
                a00 = FMA(t, v0, a00), a01 = FMA(t, v1, a01);
                t = wasm_v128_load(x1 + k);
                a10 = FMA(t, v0, a10), a11 = FMA(t, v1, a11);
                t = wasm_v128_load(x2 + k);
                a20 = FMA(t, v0, a20), a21 = FMA(t, v1, a21);
                t = wasm_v128_load(x3 + k);
                a30 = FMA(t, v0, a30), a31 = FMA(t, v1, a31);
            }
            float s[8];
            wasm_v128_store(s, sum4_f32(a00, a10, a20, a30));
            wasm_v128_store(s + 4, sum4_f32(a01, a11, a21, a31));
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
    for (; r < n; r++) {
        const float *xr = x + r * din;
        size_t j = 0;
        for (; j + 4 <= dout; j += 4) {
            const float *w0 = w + j * din, *w1 = w0 + din, *w2 = w1 + din, *w3 = w2 + din;
            v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
            for (size_t k = 0; k < kv; k += 4) {
                v128_t t = wasm_v128_load(xr + k);
                a0 = FMA(t, wasm_v128_load(w0 + k), a0);
                a1 = FMA(t, wasm_v128_load(w1 + k), a1);
                a2 = FMA(t, wasm_v128_load(w2 + k), a2);
                a3 = FMA(t, wasm_v128_load(w3 + k), a3);
            }
            float s[4];
            wasm_v128_store(s, sum4_f32(a0, a1, a2, a3));
            for (size_t o = 0; o < 4; o++) {
                const float *wo = w + (j + o) * din;
                for (size_t k = kv; k < din; k++) s[o] += xr[k] * wo[k];
                out[r * dout + j + o] = s[o] + (b ? b[j + o] : 0.0f);
            }
        }
        for (; j < dout; j++) out[r * dout + j] = linear_one(xr, w + j * din, din, b ? b[j] : 0.0f);
    }
}

/* Whether any of the n bytes is -128, which has no 7-bit split. */
static int has_min_i8(const int8_t *q, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (q[i] == -128) return 1;
    return 0;
}

/* Four rows at a time as in kernels_simd128.c; each 16 bytes of a row cost two relaxed dots
   (against q+ and q-) instead of two widening loads, two i16 dots and two adds. Items may hold
   -128 (the signed operand: pair sums stay within 2*128*127, no i16 saturation). The visitor's
   q8 comes from model.c's quantizer, which clamps to -127..127; a q8 with -128 (other callers)
   goes to the simd128 kernel. The float combination is the scalar kernel's, in its order:
   bit-identical scores. */
static void score_i8(float *out, const int8_t *const *mats, const float *const *scales, const int8_t *q8,
                     const float *qscale, size_t n_ch, size_t d, size_t row0, size_t count) {
    if (has_min_i8(q8, n_ch * d)) {
        kernels_simd128()->score_i8(out, mats, scales, q8, qscale, n_ch, d, row0, count);
        return;
    }
    size_t r = 0;
    if (d % 16 == 0) {
        for (; r + 4 <= count; r += 4) {
            v128_t tot = wasm_f32x4_splat(0);
            for (size_t c = 0; c < n_ch; c++) {
                const int8_t *qc = q8 + c * d, *m0 = mats[c] + (row0 + r) * d;
                const int8_t *m1 = m0 + d, *m2 = m1 + d, *m3 = m2 + d;
                v128_t p0 = wasm_i32x4_splat(0), p1 = p0, p2 = p0, p3 = p0;
                v128_t n0 = p0, n1 = p0, n2 = p0, n3 = p0;
                for (size_t k = 0; k < d; k += 16) {
                    v128_t qv = wasm_v128_load(qc + k), qp = qpos(qv), qn = qneg(qv), m;
                    m = wasm_v128_load(m0 + k);
                    p0 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, qp, p0);
                    n0 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, qn, n0);
                    m = wasm_v128_load(m1 + k);
                    p1 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, qp, p1);
                    n1 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, qn, n1);
                    m = wasm_v128_load(m2 + k);
                    p2 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, qp, p2);
                    n2 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, qn, n2);
                    m = wasm_v128_load(m3 + k);
                    p3 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, qp, p3);
                    n3 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, qn, n3);
                }
                v128_t dots = wasm_f32x4_convert_i32x4(sum4_i32(wasm_i32x4_sub(p0, n0), wasm_i32x4_sub(p1, n1),
                                                                wasm_i32x4_sub(p2, n2), wasm_i32x4_sub(p3, n3)));
                v128_t sc = wasm_f32x4_mul(wasm_v128_load(scales[c] + row0 + r), wasm_f32x4_splat(qscale[c]));
                tot = wasm_f32x4_add(tot, wasm_f32x4_mul(sc, dots));
            }
            wasm_v128_store(out + r, tot);
        }
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

/* erf_fit.h's rational function, Horner with FMA */
static v128_t erf4(v128_t x) {
    v128_t xc = wasm_f32x4_pmax(wasm_f32x4_pmin(x, wasm_f32x4_splat(ERF_CLAMP)), wasm_f32x4_splat(-ERF_CLAMP));
    v128_t y = wasm_f32x4_mul(xc, xc);
    v128_t p = wasm_f32x4_splat(ERF_P[6]), q = wasm_f32x4_splat(ERF_Q[6]);
    for (int i = 5; i >= 0; i--) {
        p = FMA(p, y, wasm_f32x4_splat(ERF_P[i]));
        q = FMA(q, y, wasm_f32x4_splat(ERF_Q[i]));
    }
    v128_t e = wasm_f32x4_div(wasm_f32x4_mul(xc, p), q);
    return wasm_f32x4_pmax(wasm_f32x4_pmin(e, wasm_f32x4_splat(1.0f)), wasm_f32x4_splat(-1.0f));
}

static void gelu(float *out, const float *x, size_t n) {
    size_t i = 0;
    v128_t half = wasm_f32x4_splat(0.5f), one = wasm_f32x4_splat(1.0f), r2 = wasm_f32x4_splat(0.70710678118654752f);
    for (; i + 4 <= n; i += 4) {
        v128_t v = wasm_v128_load(x + i);
        v128_t e = erf4(wasm_f32x4_mul(v, r2));
        wasm_v128_store(out + i, wasm_f32x4_mul(wasm_f32x4_mul(half, v), wasm_f32x4_add(one, e)));
    }
    for (; i < n; i++) out[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

const mdsrec_kernels *kernels_relaxed(void) {
    /* simd128's set with the overrides above; built on first use (wasm is single-threaded) */
    static mdsrec_kernels set;
    if (!set.name) {
        set = *kernels_simd128();
        set.name = "relaxed";
        set.dot_f32 = dot_f32, set.dot_i8 = dot_i8;
        set.matvec = matvec, set.linear = linear, set.gelu = gelu;
        set.score_i8 = score_i8;
    }
    return &set;
}
const mdsrec_kernels *kernels_active(void) { return kernels_relaxed(); }

#else
const mdsrec_kernels *kernels_relaxed(void) { return 0; }
#endif
