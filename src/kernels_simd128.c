/* kernels_simd128.c - the kernels in WebAssembly SIMD128 (see kernels.h). Compiled only
   with -msimd128; tests/ compare every one against kernels_scalar.c. */
#include "kernels.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>

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

static void score_f32(float *out, const float *const *mats, const float *q, size_t n_ch, size_t d,
                      size_t row0, size_t count) {
    for (size_t r = 0; r < count; r++) {
        float s = 0.0f;
        for (size_t c = 0; c < n_ch; c++) s += dot_f32(q + c * d, mats[c] + (row0 + r) * d, d);
        out[r] = s;
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
   scalar kernel's, in the same order: i8 scores are bit-identical across the two sets. */
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

static const mdsrec_kernels simd_set = {
    "simd128", dot_f32, dot_f16, dot_i8, matvec, score_f32, score_f16, score_i8, above,
};

const mdsrec_kernels *kernels_simd128(void) { return &simd_set; }
const mdsrec_kernels *kernels_active(void) { return &simd_set; }

#else
/* Built without -msimd128: kernels_scalar.c provides kernels_simd128() (NULL) and
   kernels_active(). */
typedef int kernels_simd128_unused;
#endif
