/* kernels_scalar.c - the reference kernels: plain C, every build (see kernels.h). The
   compiler may vectorise them natively; the simd128 and vec128 sets are compared against these. */
#include "kernels.h"

#include <math.h>

#include "half.h"

static float dot_f32(const float *a, const float *b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static float dot_f16(const float *a, const uint16_t *b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += a[i] * half_to_float(b[i]);
    return s;
}

static int32_t dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    int32_t s = 0;
    for (size_t i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

static void matvec(float *out, const float *w, const float *x, const float *b, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) out[r] = (b ? b[r] : 0.0f) + dot_f32(w + r * cols, x, cols);
}

/* Four outputs at a time: four independent sums, each still added in order from 0 (so the
   results are bit-identical to matvec's), which gives the CPU four chains to overlap instead
   of one add after another. */
static void linear_rows(float *out, const float *x, const float *w, const float *b, size_t n,
                        size_t din, size_t dout) {
    for (size_t r = 0; r < n; r++) {
        const float *xr = x + r * din;
        float *o = out + r * dout;
        size_t j = 0;
        for (; j + 4 <= dout; j += 4) {
            const float *w0 = w + j * din, *w1 = w0 + din, *w2 = w1 + din, *w3 = w2 + din;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
            for (size_t i = 0; i < din; i++) {
                s0 += w0[i] * xr[i];
                s1 += w1[i] * xr[i];
                s2 += w2[i] * xr[i];
                s3 += w3[i] * xr[i];
            }
            o[j] = (b ? b[j] : 0.0f) + s0;
            o[j + 1] = (b ? b[j + 1] : 0.0f) + s1;
            o[j + 2] = (b ? b[j + 2] : 0.0f) + s2;
            o[j + 3] = (b ? b[j + 3] : 0.0f) + s3;
        }
        for (; j < dout; j++) o[j] = (b ? b[j] : 0.0f) + dot_f32(w + j * din, xr, din);
    }
}

#if defined(__GNUC__)
/* The same sums, many side by side, for the trainer's thousands of tokens a step: 8 outputs
   x 4 tokens a tile. The 8 outputs' weights for each input are transposed into one row of two
   4-lane vectors (GCC/Clang vector extensions, which are plain C to a compiler without SIMD), so
   each lane of a vector add is one output's own serial sum from input 0: the bits stay
   matvec's, three times as fast as linear_rows on the trainer's shapes. Inputs go in blocks of
   LIN_CHUNK, the partial sums parked in out between blocks (a float stored and reloaded is
   exact). */
typedef float lin_f32x4 __attribute__((vector_size(16)));
#define LIN_TOKENS 4
#define LIN_CHUNK 128

/* One tile: nt (1..LIN_TOKENS, a constant where it is inlined) tokens x 8 outputs over inputs
   [i0, i0 + in), continuing the sums parked in out. */
static inline __attribute__((always_inline)) void lin_tile(float *out, const float *xr, size_t din, size_t dout,
                                                           const lin_f32x4 (*wt)[2], size_t in, size_t i0,
                                                           size_t j0, size_t jn, size_t nt) {
    lin_f32x4 acc[LIN_TOKENS][2];
    for (size_t t = 0; t < nt; t++)
        for (size_t l = 0; l < 8; l++) acc[t][l / 4][l % 4] = i0 > 0 && l < jn ? out[t * dout + j0 + l] : 0.0f;
    for (size_t i = 0; i < in; i++)
        for (size_t t = 0; t < nt; t++) {
            float xv = xr[t * din + i];
            acc[t][0] += wt[i][0] * xv;
            acc[t][1] += wt[i][1] * xv;
        }
    for (size_t t = 0; t < nt; t++)
        for (size_t l = 0; l < jn; l++) out[t * dout + j0 + l] = acc[t][l / 4][l % 4];
}

/* The last n % LIN_TOKENS tokens share the transposed weights of the full tiles, so a short
   sequence (Scientific's average is under 7 items) pays no slower path for its tail. */
static void linear_tiles(float *out, const float *x, const float *w, const float *b, size_t n,
                         size_t din, size_t dout) {
    lin_f32x4 wt[LIN_CHUNK][2];
    size_t full = n / LIN_TOKENS * LIN_TOKENS, tail = n - full;
    for (size_t j0 = 0; j0 < dout; j0 += 8) {
        size_t jn = dout - j0 < 8 ? dout - j0 : 8;
        for (size_t i0 = 0; i0 < din; i0 += LIN_CHUNK) {
            size_t in = din - i0 < LIN_CHUNK ? din - i0 : LIN_CHUNK;
            for (size_t i = 0; i < in; i++)
                for (size_t l = 0; l < 8; l++) wt[i][l / 4][l % 4] = l < jn ? w[(j0 + l) * din + i0 + i] : 0.0f;
            const lin_f32x4 (*cw)[2] = (const lin_f32x4 (*)[2])wt;
            for (size_t r = 0; r < full; r += LIN_TOKENS)
                lin_tile(out + r * dout, x + r * din + i0, din, dout, cw, in, i0, j0, jn, LIN_TOKENS);
            float *ot = out + full * dout;
            const float *xt = x + full * din + i0;
            switch (tail) { /* a constant count each, so the accumulators stay in registers */
            case 3: lin_tile(ot, xt, din, dout, cw, in, i0, j0, jn, 3); break;
            case 2: lin_tile(ot, xt, din, dout, cw, in, i0, j0, jn, 2); break;
            case 1: lin_tile(ot, xt, din, dout, cw, in, i0, j0, jn, 1); break;
            default: break;
            }
        }
        for (size_t r = 0; r < n; r++)
            for (size_t l = 0; l < jn; l++) out[r * dout + j0 + l] = (b ? b[j0 + l] : 0.0f) + out[r * dout + j0 + l];
    }
}
#endif

/* Below a full tile the weights' transpose would cost more than the sums: linear_rows. */
static void linear(float *out, const float *x, const float *w, const float *b, size_t n, size_t din,
                   size_t dout) {
#if defined(__GNUC__)
    if (n >= LIN_TOKENS) {
        linear_tiles(out, x, w, b, n, din, dout);
        return;
    }
#endif
    linear_rows(out, x, w, b, n, din, dout);
}

/* ---------------------------------------------------------------- packed weights */

size_t linear_packed_floats(size_t din, size_t dout) { return (dout + 7) / 8 * 8 * din; }

void linear_pack(float *wp, const float *w, size_t din, size_t dout) {
    for (size_t j0 = 0; j0 < dout; j0 += 8)
        for (size_t i = 0; i < din; i++)
            for (size_t l = 0; l < 8; l++) *wp++ = j0 + l < dout ? w[(j0 + l) * din + i] : 0.0f;
}

void linear_packed(float *out, const float *x, const float *wp, const float *b, size_t n, size_t din,
                   size_t dout) {
    for (size_t j0 = 0; j0 < dout; j0 += 8, wp += 8 * din) {
        size_t jn = dout - j0 < 8 ? dout - j0 : 8;
#if defined(__GNUC__)
        /* linear_tiles' tiles over all of din at once: its transposed chunks, made once */
        const lin_f32x4 (*cw)[2] = (const lin_f32x4 (*)[2])wp;
        size_t full = n / LIN_TOKENS * LIN_TOKENS;
        for (size_t r = 0; r < full; r += LIN_TOKENS)
            lin_tile(out + r * dout, x + r * din, din, dout, cw, din, 0, j0, jn, LIN_TOKENS);
        float *ot = out + full * dout;
        const float *xt = x + full * din;
        switch (n - full) {
        case 3: lin_tile(ot, xt, din, dout, cw, din, 0, j0, jn, 3); break;
        case 2: lin_tile(ot, xt, din, dout, cw, din, 0, j0, jn, 2); break;
        case 1: lin_tile(ot, xt, din, dout, cw, din, 0, j0, jn, 1); break;
        default: break;
        }
#else
        for (size_t r = 0; r < n; r++)
            for (size_t l = 0; l < jn; l++) {
                float s = 0.0f;
                for (size_t i = 0; i < din; i++) s += wp[i * 8 + l] * x[r * din + i];
                out[r * dout + j0 + l] = s;
            }
#endif
        for (size_t r = 0; r < n; r++)
            for (size_t l = 0; l < jn; l++) out[r * dout + j0 + l] = (b ? b[j0 + l] : 0.0f) + out[r * dout + j0 + l];
    }
}

/* Four rows at a time for the same reason as linear(): each row's sum keeps the order of
   the one-row loop below (channel by channel, each channel's dot from 0). */
static void score_f32(float *out, const float *const *mats, const float *q, size_t n_ch, size_t d,
                      size_t row0, size_t count) {
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
        for (size_t c = 0; c < n_ch; c++) {
            const float *qc = q + c * d, *m0 = mats[c] + (row0 + r) * d;
            const float *m1 = m0 + d, *m2 = m1 + d, *m3 = m2 + d;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
            for (size_t i = 0; i < d; i++) {
                s0 += qc[i] * m0[i];
                s1 += qc[i] * m1[i];
                s2 += qc[i] * m2[i];
                s3 += qc[i] * m3[i];
            }
            t0 += s0, t1 += s1, t2 += s2, t3 += s3;
        }
        out[r] = t0, out[r + 1] = t1, out[r + 2] = t2, out[r + 3] = t3;
    }
    for (; r < count; r++) {
        float s = 0.0f;
        for (size_t c = 0; c < n_ch; c++) s += dot_f32(q + c * d, mats[c] + (row0 + r) * d, d);
        out[r] = s;
    }
}

/* Panels of 16 rows: 16 sums side by side, each in score_f32's order. */
static void score_f32_panel(float *out, const float *const *mats, const float *q, size_t n_ch, size_t d,
                            size_t row0, size_t count) {
    for (size_t r = 0; r < count; r += MDSREC_PANEL) {
        float t[MDSREC_PANEL] = {0};
        for (size_t c = 0; c < n_ch; c++) {
            const float *qc = q + c * d, *p = mats[c] + (row0 + r) * d;
            float s[MDSREC_PANEL] = {0};
            for (size_t k = 0; k < d; k++, p += MDSREC_PANEL)
                for (size_t j = 0; j < MDSREC_PANEL; j++) s[j] += qc[k] * p[j];
            for (size_t j = 0; j < MDSREC_PANEL; j++) t[j] += s[j];
        }
        for (size_t j = 0; j < MDSREC_PANEL; j++) out[r + j] = t[j];
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

static void score_i8(float *out, const int8_t *const *mats, const float *const *scales, const int8_t *q8,
                     const float *qscale, size_t n_ch, size_t d, size_t row0, size_t count) {
    for (size_t r = 0; r < count; r++) {
        float s = 0.0f;
        for (size_t c = 0; c < n_ch; c++) {
            int32_t dot = dot_i8(q8 + c * d, mats[c] + (row0 + r) * d, d);
            s += scales[c][row0 + r] * qscale[c] * (float)dot;
        }
        out[r] = s;
    }
}

static void gelu(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static size_t above(const float *s, size_t n, float thr, uint32_t *idx) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] > thr) idx[m++] = (uint32_t)i;
    return m;
}

static void score_pq(float *out, const uint8_t *const *codes, const float *const *luts, size_t n_ch, size_t m,
                     size_t row0, size_t count) {
    for (size_t r = 0; r < count; r++) {
        float s = 0.0f;
        for (size_t c = 0; c < n_ch; c++) {
            const uint8_t *code = codes[c] + (row0 + r) * m;
            const float *lut = luts[c];
            for (size_t j = 0; j < m; j++, lut += 256) s += lut[code[j]];
        }
        out[r] = s;
    }
}

static const mdsrec_kernels scalar_set = {
    "scalar", dot_f32, dot_f16, dot_i8, matvec, linear, gelu, score_f32, score_f32_panel, score_f16, score_i8, above,
    score_pq,
};

const mdsrec_kernels *kernels_scalar(void) { return &scalar_set; }

#ifndef __wasm_simd128__
const mdsrec_kernels *kernels_simd128(void) { return 0; }
#ifdef MDSREC_VEC_ACTIVE
const mdsrec_kernels *kernels_active(void) { return kernels_vec128() ? kernels_vec128() : &scalar_set; }
#else
const mdsrec_kernels *kernels_active(void) { return &scalar_set; }
#endif
#endif

#include "mdsrec.h"
const char *mdsrec_kernels_name(void) { return kernels_active()->name; }
