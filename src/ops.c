/* ops.c - the forward pass's small blocks (see ops.h). Plain C on one sequence; the dot
   products inside go through the kernel table. */
#include "ops.h"

#include <math.h>

#include "kernels.h"
#include "rng.h"

void op_layernorm(float *out, float *mean, float *rstd, const float *x,
                  const float *g, const float *b, size_t d, float eps) {
    /* two passes (mean, then variance) for accuracy; d is small */
    float mu = 0.0f;
    for (size_t i = 0; i < d; i++) mu += x[i];
    mu /= (float)d;
    float var = 0.0f;
    for (size_t i = 0; i < d; i++) {
        float c = x[i] - mu;
        var += c * c;
    }
    var /= (float)d;
    float rs = 1.0f / sqrtf(var + eps);
    if (mean) *mean = mu;
    if (rstd) *rstd = rs;
    for (size_t i = 0; i < d; i++) out[i] = (x[i] - mu) * rs * g[i] + b[i];
}

void op_gelu(float *out, const float *x, size_t n) {
    kernels_active()->gelu(out, x, n);
}

void op_softmax(float *x, size_t n) {
    if (n == 0) return;
    float m = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - m);
        s += x[i];
    }
    float inv = 1.0f / s;
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

void op_linear(float *out, const float *x, const float *w, const float *b,
               size_t n, size_t din, size_t dout) {
    kernels_active()->linear(out, x, w, b, n, din, dout);
}

void op_linear_p(float *out, const float *x, const float *w, const float *wp, const float *b,
                 size_t n, size_t din, size_t dout) {
    const mdsrec_kernels *k = kernels_active();
#ifndef __wasm__ /* only the native trainer packs: the browser's core stays as small as it was */
    if (wp && k == kernels_scalar()) {
        linear_packed(out, x, wp, b, n, din, dout);
        return;
    }
#else
    (void)wp;
#endif
    k->linear(out, x, w, b, n, din, dout);
}

void op_causal_attention(float *ctx, float *att, const float *q, const float *k, const float *v,
                         const float *drop, size_t t0, size_t n, size_t d, size_t heads, size_t L) {
    const mdsrec_kernels *kern = kernels_active();
    size_t dh = d / heads;
    float scale = 1.0f / sqrtf((float)dh);
    for (size_t h = 0; h < heads; h++) {
        for (size_t t = t0; t < n; t++) {
            float *a = att + (h * L + t) * L;
            const float *qt = q + t * d + h * dh;
            /* scores against positions 0..t only: the future is masked */
            for (size_t s = 0; s <= t; s++) a[s] = kern->dot_f32(qt, k + s * d + h * dh, dh) * scale;
            op_softmax(a, t + 1);
            for (size_t s = t + 1; s < n; s++) a[s] = 0.0f;
            float *c = ctx + t * d + h * dh;
            for (size_t j = 0; j < dh; j++) c[j] = 0.0f;
            const float *dm = drop ? drop + (h * L + t) * L : 0;
            for (size_t s = 0; s <= t; s++) {
                float p = dm ? a[s] * dm[s] : a[s];
                const float *vs = v + s * d + h * dh;
                for (size_t j = 0; j < dh; j++) c[j] += p * vs[j];
            }
        }
    }
}

void op_dropout_mask(float *mask, size_t n, float p, uint64_t *rng) {
    if (p <= 0.0f) {
        for (size_t i = 0; i < n; i++) mask[i] = 1.0f;
        return;
    }
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        double u = (double)(splitmix64(rng) >> 11) * (1.0 / 9007199254740992.0); /* [0,1) */
        mask[i] = u < p ? 0.0f : keep;
    }
}

void op_gate(float *g, float *logits, const float *wg, const float *bg, const float *u,
             size_t n_ch, size_t d) {
    kernels_active()->matvec(g, wg, u, bg, n_ch, n_ch * d);
    if (logits)
        for (size_t c = 0; c < n_ch; c++) logits[c] = g[c];
    op_softmax(g, n_ch);
}
