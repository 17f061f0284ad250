/* backward_ops.c - the backward of each op in src/ops.h (contracts in backward.h). */
#include "backward.h"
#include "gemm.h"

#include <math.h>
#include <string.h>

void layernorm_bwd(float *dx, float *dg, float *db, const float *dy, const float *x,
                   float mean, float rstd, const float *g, size_t d) {
    /* y = g*xhat + b, xhat = (x-mean)*rstd:
       dx = rstd * (gdy - mean(gdy) - xhat * mean(gdy*xhat)) */
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < d; i++) {
        float xh = (x[i] - mean) * rstd;
        float gdy = g[i] * dy[i];
        s1 += gdy;
        s2 += gdy * xh;
        if (dg) dg[i] += dy[i] * xh;
        if (db) db[i] += dy[i];
    }
    float m1 = (float)(s1 / (double)d), m2 = (float)(s2 / (double)d);
    for (size_t i = 0; i < d; i++) {
        float xh = (x[i] - mean) * rstd;
        dx[i] += rstd * (g[i] * dy[i] - m1 - xh * m2);
    }
}

void gelu_bwd(float *dx, const float *dy, const float *x, size_t n) {
    /* d/dx [x Phi(x)] = Phi(x) + x phi(x) */
    for (size_t i = 0; i < n; i++) {
        float cdf = 0.5f * (1.0f + erff(x[i] * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * x[i] * x[i]);
        dx[i] += dy[i] * (cdf + x[i] * pdf);
    }
}

void softmax_bwd(float *dx, const float *dy, const float *y, size_t n) {
    float s = 0;
    for (size_t i = 0; i < n; i++) s += y[i] * dy[i];
    for (size_t i = 0; i < n; i++) dx[i] += y[i] * (dy[i] - s);
}

void linear_bwd(float *dx, float *dw, float *db, const float *dy, const float *x,
                const float *w, size_t n, size_t din, size_t dout) {
    /* two sgemm: the window's rows at once run several times faster than row by row */
    gemm(1, 0, dout, din, n, 1.0f, dy, dout, x, din, 1.0f, dw, din);             /* dW += dY^T X */
    if (dx) gemm(0, 0, n, din, dout, 1.0f, dy, dout, w, din, 1.0f, dx, din);     /* dX += dY W */
    if (db)
        for (size_t r = 0; r < n; r++)
            for (size_t o = 0; o < dout; o++) db[o] += dy[r * dout + o];
}

void causal_attention_bwd(float *dq, float *dk, float *dv, const float *dctx, const float *att,
                          const float *q, const float *k, const float *v, const float *drop,
                          size_t n, size_t d, size_t heads, size_t L) {
    size_t dh = d / heads;
    float sc = 1.0f / sqrtf((float)dh);
    float datt[MDSREC_MAX_LEN];
    for (size_t h = 0; h < heads; h++) {
        size_t o = h * dh;
        for (size_t t = 0; t < n; t++) {
            const float *a = att + (h * L + t) * L;
            const float *m = drop ? drop + (h * L + t) * L : NULL;
            const float *gc = dctx + t * d + o;
            /* ctx_t = sum_s a'[s] v_s, a' = a * m */
            for (size_t s = 0; s <= t; s++) {
                float ms = m ? m[s] : 1.0f;
                float dot = 0;
                for (size_t j = 0; j < dh; j++) dot += gc[j] * v[s * d + o + j];
                datt[s] = dot * ms;
                float as = a[s] * ms;
                for (size_t j = 0; j < dh; j++) dv[s * d + o + j] += as * gc[j];
            }
            /* softmax backward, then the scaled dot products */
            float sum = 0;
            for (size_t s = 0; s <= t; s++) sum += a[s] * datt[s];
            for (size_t s = 0; s <= t; s++) {
                float ds = a[s] * (datt[s] - sum) * sc;
                if (ds == 0.0f) continue;
                for (size_t j = 0; j < dh; j++) {
                    dq[t * d + o + j] += ds * k[s * d + o + j];
                    dk[s * d + o + j] += ds * q[t * d + o + j];
                }
            }
        }
    }
}

void gate_bwd(float *dwg, float *dbg, float *du, const float *dg, const float *g,
              const float *wg, const float *u, size_t n_ch, size_t d) {
    size_t w = n_ch * d;
    float s = 0;
    for (size_t c = 0; c < n_ch; c++) s += g[c] * dg[c];
    for (size_t c = 0; c < n_ch; c++) {
        float dl = g[c] * (dg[c] - s);
        dbg[c] += dl;
        for (size_t j = 0; j < w; j++) {
            dwg[c * w + j] += dl * u[j];
            du[j] += dl * wg[c * w + j];
        }
    }
}
