/* softmax.c - softmax cross-entropy rows (softmax.h). */
#include "softmax.h"

#include <math.h>
#include <string.h>

#define LANES 8

static inline float exp_nonpos(float x) {
    /* e^x = 2^n e^r with n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 in two
       parts, so r is exact to float), e^r by Cephes' degree-6 minimax polynomial, 2^n built in
       the exponent bits. The magic constant 1.5 * 2^23 rounds to nearest without a libm call. */
    x = x > -87.0f ? x : -87.0f;
    x = x < 0.0f ? x : 0.0f;
    float t = x * 1.44269504088896341f;
    float n = (t + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * r * r + r + 1.0f;
    union { int32_t i; float f; } scale = {((int32_t)n + 127) * (1 << 23)};
    return e * scale.f;
}

float softmax_exp(float x) { return exp_nonpos(x); }

static float row_max(const float *z, size_t n) {
    float m[LANES];
    size_t j = 0;
    for (size_t l = 0; l < LANES; l++) m[l] = -INFINITY;
    for (; j + LANES <= n; j += LANES)
        for (size_t l = 0; l < LANES; l++) m[l] = m[l] > z[j + l] ? m[l] : z[j + l];
    float mx = -INFINITY;
    for (size_t l = 0; l < LANES; l++) mx = m[l] > mx ? m[l] : mx;
    for (; j < n; j++) mx = z[j] > mx ? z[j] : mx;
    return mx;
}

float softmax_dot(const float *a, const float *b, size_t n) {
    float s[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (size_t l = 0; l < LANES; l++) s[l] += a[j + l] * b[j + l];
    float sum = 0;
    for (size_t l = 0; l < LANES; l++) sum += s[l];
    for (; j < n; j++) sum += a[j] * b[j];
    return sum;
}

/* exp_nonpos on four lanes, in GCC/Clang vector extensions (plain SSE2 on x86-64): the same
   operations in the same order, so each lane gives exp_nonpos's bits. The scalar loop does not
   vectorise (its clamps and the exponent's type pun read as control flow to the compiler), and
   the exponentials of the full softmax are a tenth of an epoch. */
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));

static inline f32x4 exp_nonpos4(f32x4 x) {
    const f32x4 lo = {-87.0f, -87.0f, -87.0f, -87.0f}, zero = {0.0f, 0.0f, 0.0f, 0.0f};
    i32x4 m = x > lo; /* lanes of -1 where true: a NaN takes the bound, as in exp_nonpos */
    x = (f32x4)(((i32x4)x & m) | ((i32x4)lo & ~m));
    m = x < zero;
    x = (f32x4)((i32x4)x & m);
    f32x4 t = x * 1.44269504088896341f;
    f32x4 n = (t + 12582912.0f) - 12582912.0f;
    f32x4 r = x - n * 0.693359375f + n * 2.12194440e-4f;
    f32x4 p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    f32x4 e = p * r * r + r + 1.0f;
    i32x4 bits = (__builtin_convertvector(n, i32x4) + 127) * (1 << 23);
    return e * (f32x4)bits;
}

/* z[j] = e^(z[j] - mx); returns their sum (two passes: each one vectorises) */
static float exp_sum(float *z, size_t n, float mx) {
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        f32x4 v;
        memcpy(&v, z + j, sizeof v);
        v = exp_nonpos4(v - mx);
        memcpy(z + j, &v, sizeof v);
    }
    for (; j < n; j++) z[j] = exp_nonpos(z[j] - mx);
    float s[LANES] = {0};
    j = 0;
    for (; j + LANES <= n; j += LANES)
        for (size_t l = 0; l < LANES; l++) s[l] += z[j + l];
    float sum = 0;
    for (size_t l = 0; l < LANES; l++) sum += s[l];
    for (; j < n; j++) sum += z[j];
    return sum;
}

double softmax_ce_rows(float *z, size_t m, size_t N, const uint32_t *y, float scale) {
    double loss = 0;
    for (size_t i = 0; i < m; i++, z += N) {
        float mx = row_max(z, N), zy = z[y[i]];
        float sum = exp_sum(z, N, mx);
        loss += log((double)sum) - (double)(zy - mx);
        float sc = scale / sum;
        for (size_t j = 0; j < N; j++) z[j] *= sc;
        z[y[i]] -= scale;
    }
    return loss;
}

double softmax_ce_row_smooth(float *z, size_t n, size_t y, float eps, float scale) {
    float mx = row_max(z, n);
    double sum = 0, zsum = 0;
    size_t live = 0;
    for (size_t j = 0; j < n; j++) {
        if (z[j] == -INFINITY) continue;
        zsum += (double)(z[j] - mx);
        live++;
    }
    double zy = (double)(z[y] - mx);
    /* a left-out entry becomes -0.0f, which no exp returns: its sign marks it below */
    for (size_t j = 0; j < n; j++) {
        z[j] = z[j] == -INFINITY ? -0.0f : softmax_exp(z[j] - mx);
        sum += z[j];
    }
    double lse = log(sum);
    /* -sum_j t_j log p_j with t = (1 - eps) onehot(y) + eps / live on every live entry */
    double loss = lse - (1.0 - eps) * zy - eps * zsum / (double)live;
    float sc = scale / (float)sum, spread = eps > 0 ? scale * eps / (float)live : 0.0f;
    for (size_t j = 0; j < n; j++) z[j] = signbit(z[j]) ? 0.0f : z[j] * sc - spread;
    z[y] -= scale * (1.0f - eps);
    return loss;
}

double softmax_ce_rows_smooth(float *z, size_t m, size_t N, const uint32_t *y, float eps, float scale) {
    double loss = 0;
    for (size_t i = 0; i < m; i++, z += N) loss += softmax_ce_row_smooth(z, N, y[i], eps, scale);
    return loss;
}
