/* kernels_scalar.c - the reference kernels: plain C, every build (see kernels.h). The
   compiler may vectorise them natively; the SIMD set is compared against these. */
#include "kernels.h"
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
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] > thr) idx[m++] = (uint32_t)i;
    return m;
}

static const mdsrec_kernels scalar_set = {
    "scalar", dot_f32, dot_f16, dot_i8, matvec, score_f32, score_f16, score_i8, above,
};

const mdsrec_kernels *kernels_scalar(void) { return &scalar_set; }

#ifndef __wasm_simd128__
const mdsrec_kernels *kernels_simd128(void) { return 0; }
const mdsrec_kernels *kernels_active(void) { return &scalar_set; }
#endif

#include "mdsrec.h"
const char *mdsrec_kernels_name(void) { return kernels_active()->name; }
