/* kernels_simd128.c - the kernels in WebAssembly SIMD128 (see kernels.h). Compiled only
   with -msimd128; tests/ compare every one against kernels_scalar.c. */
#include "kernels.h"

#ifdef __wasm_simd128__
#include <math.h>
#include <wasm_simd128.h>

#include "erf_fit.h"
#include "half.h"

static float hsum(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

static int32_t hsum_i32(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
           wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

static float dot_f32(const float *a, const float *b, size_t n) {
    /* four accumulators hide the add latency */
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8)));
        s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12)));
    }
    for (; i + 4 <= n; i += 4)
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    float s = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Four binary16 values (widened to u32 lanes) to f32. Exact for finite halves: shifting
   the magnitude into a float's place and multiplying by 2^112 rebiases the exponent and
   turns half subnormals into the right floats too. Inf/NaN never reach here (the loader
   rejects them). */
static v128_t half4_to_f32(v128_t h) {
    v128_t mag = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7FFF)), 13);
    v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
    v128_t f = wasm_f32x4_mul(mag, wasm_f32x4_splat(5.192296858534828e33f)); /* 2^112 */
    return wasm_v128_or(f, sign);
}

static float dot_f16(const float *a, const uint16_t *b, size_t n) {
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t h = wasm_v128_load(b + i);
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), half4_to_f32(wasm_u32x4_extend_low_u16x8(h))));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), half4_to_f32(wasm_u32x4_extend_high_u16x8(h))));
    }
    float s = hsum(wasm_f32x4_add(s0, s1));
    for (; i < n; i++) s += a[i] * half_to_float(b[i]);
    return s;
}

/* 16 int8 products summed into four int32 lanes: widen to int16, then pairwise dot. */
static v128_t dot16_i8(v128_t acc, v128_t a, v128_t b) {
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a), wasm_i16x8_extend_low_i8x16(b)));
    return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a), wasm_i16x8_extend_high_i8x16(b)));
}

static int32_t dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    v128_t acc = wasm_i32x4_splat(0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) acc = dot16_i8(acc, wasm_v128_load(a + i), wasm_v128_load(b + i));
    int32_t s = hsum_i32(acc);
    for (; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

static void matvec(float *out, const float *w, const float *x, const float *b, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) out[r] = (b ? b[r] : 0.0f) + dot_f32(w + r * cols, x, cols);
}

/* [sum a, sum b, sum c, sum d], each lane sum as (l0 + l2) + (l1 + l3): a 4x4 transpose
   folded into the adds, instead of twelve lane extractions. */
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

/* One lane sum in sum4_f32's order, for the edges of a tile. */
static float sum1_f32(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 2)) +
           (wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 3));
}

/* One output of linear() alone, summed exactly as inside a tile: lanes over k in steps of
   4, sum1_f32, then the k tail in order, then the bias. */
static float linear_one(const float *x, const float *w, size_t din, float bias) {
    v128_t acc = wasm_f32x4_splat(0);
    size_t k = 0;
    for (; k + 4 <= din; k += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(x + k), wasm_v128_load(w + k)));
    float s = sum1_f32(acc);
    for (; k < din; k++) s += x[k] * w[k];
    return s + bias;
}

/* Tiles of 4 tokens x 2 outputs: 8 accumulators plus 2 weight vectors and a token vector
   stay within the 16 vector registers V8 has on x86-64, and each weight load serves 4
   tokens (the per-token matvec reloaded every weight for every token). */
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
                a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(t, v0));
                a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(t, v1));
                t = wasm_v128_load(x1 + k);
                a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(t, v0));
                a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(t, v1));
                t = wasm_v128_load(x2 + k);
                a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(t, v0));
                a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(t, v1));
                t = wasm_v128_load(x3 + k);
                a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(t, v0));
                a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(t, v1));
            }
            float s[8];
            wasm_v128_store(s, sum4_f32(a00, a10, a20, a30));     /* output j, tokens r..r+3 */
            wasm_v128_store(s + 4, sum4_f32(a01, a11, a21, a31)); /* output j+1 */
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
    /* the tokens left over (the prefix cache's appended click is one): 1 token x 4 outputs,
       four independent sums instead of one chain of adds per output, each in linear_one's
       order (so the same bits as in a 4x2 tile) */
    for (; r < n; r++) {
        const float *xr = x + r * din;
        size_t j = 0;
        for (; j + 4 <= dout; j += 4) {
            const float *w0 = w + j * din, *w1 = w0 + din, *w2 = w1 + din, *w3 = w2 + din;
            v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
            for (size_t k = 0; k < kv; k += 4) {
                v128_t t = wasm_v128_load(xr + k);
                a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(t, wasm_v128_load(w0 + k)));
                a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(t, wasm_v128_load(w1 + k)));
                a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(t, wasm_v128_load(w2 + k)));
                a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(t, wasm_v128_load(w3 + k)));
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

/* Four rows at a time: one load of q serves four rows, and sum4_f32 reduces the four dot
   products together; the four scores are stored as one vector. */
static void score_f32(float *out, const float *const *mats, const float *q, size_t n_ch, size_t d,
                      size_t row0, size_t count) {
    size_t r = 0;
    if (d % 4 == 0) {
        for (; r + 4 <= count; r += 4) {
            v128_t tot = wasm_f32x4_splat(0);
            for (size_t c = 0; c < n_ch; c++) {
                const float *qc = q + c * d, *m0 = mats[c] + (row0 + r) * d;
                const float *m1 = m0 + d, *m2 = m1 + d, *m3 = m2 + d;
                v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
                for (size_t k = 0; k < d; k += 4) {
                    v128_t qv = wasm_v128_load(qc + k);
                    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(qv, wasm_v128_load(m0 + k)));
                    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(qv, wasm_v128_load(m1 + k)));
                    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(qv, wasm_v128_load(m2 + k)));
                    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(qv, wasm_v128_load(m3 + k)));
                }
                tot = wasm_f32x4_add(tot, sum4_f32(a0, a1, a2, a3));
            }
            wasm_v128_store(out + r, tot);
        }
    }
    for (; r < count; r++) {
        float s = 0.0f;
        for (size_t c = 0; c < n_ch; c++) s += dot_f32(q + c * d, mats[c] + (row0 + r) * d, d);
        out[r] = s;
    }
}

/* 16 rows a step: one splat of q[k] serves four vectors of the panel's 64 contiguous bytes.
   Measured in Chromium 156 on 100k x 3 x 64 rows: 2.0 ms against 3.3-4.7 ms for score_f32's
   four row streams (bench/NOTES.md). */
static void score_f32_panel(float *out, const float *const *mats, const float *q, size_t n_ch, size_t d,
                            size_t row0, size_t count) {
    for (size_t r = 0; r < count; r += MDSREC_PANEL) {
        v128_t t0 = wasm_f32x4_splat(0), t1 = t0, t2 = t0, t3 = t0;
        for (size_t c = 0; c < n_ch; c++) {
            const float *qc = q + c * d, *p = mats[c] + (row0 + r) * d;
            v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
            for (size_t k = 0; k < d; k++, p += MDSREC_PANEL) {
                v128_t qv = wasm_v128_load32_splat(qc + k);
                a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(qv, wasm_v128_load(p)));
                a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(qv, wasm_v128_load(p + 4)));
                a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(qv, wasm_v128_load(p + 8)));
                a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(qv, wasm_v128_load(p + 12)));
            }
            t0 = wasm_f32x4_add(t0, a0), t1 = wasm_f32x4_add(t1, a1);
            t2 = wasm_f32x4_add(t2, a2), t3 = wasm_f32x4_add(t3, a3);
        }
        wasm_v128_store(out + r, t0), wasm_v128_store(out + r + 4, t1);
        wasm_v128_store(out + r + 8, t2), wasm_v128_store(out + r + 12, t3);
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

/* The integer dot products are exact, and the per-row float combination below is the
   scalar kernel's, in the same order ((scale * qscale) * dot, channel by channel, from 0):
   i8 scores are bit-identical to the scalar set's.
   Four rows at a time: each widened piece of q serves four rows, the four int32 sums are
   reduced together (sum4_i32), converted and scaled as one vector. */
static void score_i8(float *out, const int8_t *const *mats, const float *const *scales, const int8_t *q8,
                     const float *qscale, size_t n_ch, size_t d, size_t row0, size_t count) {
    size_t r = 0;
    if (d % 16 == 0) {
        for (; r + 4 <= count; r += 4) {
            v128_t tot = wasm_f32x4_splat(0);
            for (size_t c = 0; c < n_ch; c++) {
                const int8_t *qc = q8 + c * d, *m0 = mats[c] + (row0 + r) * d;
                const int8_t *m1 = m0 + d, *m2 = m1 + d, *m3 = m2 + d;
                v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
                for (size_t k = 0; k < d; k += 16) {
                    /* load8x8_s widens 8 bytes as it loads (one pmovsxbw from memory on x86):
                       no separate load and no high-half shuffle per row */
                    v128_t ql = wasm_i16x8_load8x8(qc + k), qh = wasm_i16x8_load8x8(qc + k + 8);
                    a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(ql, wasm_i16x8_load8x8(m0 + k)));
                    a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(ql, wasm_i16x8_load8x8(m1 + k)));
                    a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(ql, wasm_i16x8_load8x8(m2 + k)));
                    a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(ql, wasm_i16x8_load8x8(m3 + k)));
                    a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(qh, wasm_i16x8_load8x8(m0 + k + 8)));
                    a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(qh, wasm_i16x8_load8x8(m1 + k + 8)));
                    a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(qh, wasm_i16x8_load8x8(m2 + k + 8)));
                    a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(qh, wasm_i16x8_load8x8(m3 + k + 8)));
                }
                v128_t dots = wasm_f32x4_convert_i32x4(sum4_i32(a0, a1, a2, a3));
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

static v128_t erf4(v128_t x) {
    /* pmin/pmax: one instruction each on x86, where min/max need NaN fix-ups (no NaN here) */
    v128_t xc = wasm_f32x4_pmax(wasm_f32x4_pmin(x, wasm_f32x4_splat(ERF_CLAMP)), wasm_f32x4_splat(-ERF_CLAMP));
    v128_t y = wasm_f32x4_mul(xc, xc);
    v128_t p = wasm_f32x4_splat(ERF_P[6]), q = wasm_f32x4_splat(ERF_Q[6]);
    for (int i = 5; i >= 0; i--) {
        p = wasm_f32x4_add(wasm_f32x4_mul(p, y), wasm_f32x4_splat(ERF_P[i]));
        q = wasm_f32x4_add(wasm_f32x4_mul(q, y), wasm_f32x4_splat(ERF_Q[i]));
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

static size_t above(const float *s, size_t n, float thr, uint32_t *idx) {
    v128_t t = wasm_f32x4_splat(thr);
    size_t m = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        /* one test for 16 scores: most blocks have none above the threshold */
        v128_t g0 = wasm_f32x4_gt(wasm_v128_load(s + i), t);
        v128_t g1 = wasm_f32x4_gt(wasm_v128_load(s + i + 4), t);
        v128_t g2 = wasm_f32x4_gt(wasm_v128_load(s + i + 8), t);
        v128_t g3 = wasm_f32x4_gt(wasm_v128_load(s + i + 12), t);
        if (!wasm_v128_any_true(wasm_v128_or(wasm_v128_or(g0, g1), wasm_v128_or(g2, g3)))) continue;
        for (size_t j = i; j < i + 16; j++)
            if (s[j] > thr) idx[m++] = (uint32_t)j;
    }
    for (; i < n; i++)
        if (s[i] > thr) idx[m++] = (uint32_t)i;
    return m;
}

/* Four rows in the lanes of one sum: SIMD128 has no gather, so the table lookups are scalar
   loads into lanes, and the adds are a quarter of the scalar set's. Each lane adds in the
   scalar order. */
static void score_pq(float *out, const uint8_t *const *codes, const float *const *luts, size_t n_ch, size_t m,
                     size_t row0, size_t count) {
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (size_t c = 0; c < n_ch; c++) {
            const uint8_t *p0 = codes[c] + (row0 + r) * m, *p1 = p0 + m, *p2 = p1 + m, *p3 = p2 + m;
            const float *lut = luts[c];
            for (size_t j = 0; j < m; j++, lut += 256)
                acc = wasm_f32x4_add(acc, wasm_f32x4_make(lut[p0[j]], lut[p1[j]], lut[p2[j]], lut[p3[j]]));
        }
        wasm_v128_store(out + r, acc);
    }
    /* the last 0-3 rows: the scalar reference, which adds in the same order */
    if (r < count) kernels_scalar()->score_pq(out + r, codes, luts, n_ch, m, row0 + r, count - r);
}

static const mdsrec_kernels simd_set = {
    "simd128", dot_f32, dot_f16, dot_i8, matvec, linear, gelu, score_f32, score_f32_panel, score_f16, score_i8, above,
    score_pq,
};

const mdsrec_kernels *kernels_simd128(void) { return &simd_set; }
#ifndef __wasm_relaxed_simd__ /* else kernels_relaxed.c's set is the active one */
const mdsrec_kernels *kernels_active(void) { return &simd_set; }
#endif

#else
/* Built without -msimd128: kernels_scalar.c provides kernels_simd128() (NULL) and
   kernels_active(). */
typedef int kernels_simd128_unused;
#endif
