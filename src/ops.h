/*
 * ops.h - the small blocks of the forward pass: LayerNorm, GELU, softmax, linear layers,
 * causal multi-head attention, centralized pooling and the fusion gate. Each is a few lines
 * and works on one sequence; model.c composes them, and the trainer (tools/train) calls the
 * very same functions for its forward and adds the backward beside them.
 *
 * Shapes in comments: (rows, cols), row-major. Matrices W are [out][in]: y = W x + b.
 */
#ifndef MDSREC_OPS_H
#define MDSREC_OPS_H

#include <stddef.h>
#include <stdint.h>

/* out = g * (x - mean) / sqrt(var + eps) + b over one row of d. mean/rstd may be NULL;
   otherwise they receive the row's mean and 1/sqrt(var+eps) (the backward needs them).
   out may alias x. */
void op_layernorm(float *out, float *mean, float *rstd, const float *x,
                  const float *g, const float *b, size_t d, float eps);

/* out[i] = GELU(x[i]) = x/2 (1 + erf(x/sqrt 2)). out may alias x. */
void op_gelu(float *out, const float *x, size_t n);

/* In place softmax over x[0..n), numerically stable. */
void op_softmax(float *x, size_t n);

/* out (n, dout) = x (n, din) W^T + b, W (dout, din), b (dout) or NULL. */
void op_linear(float *out, const float *x, const float *w, const float *b,
               size_t n, size_t din, size_t dout);
/* op_linear with W's packed copy wp (linear_pack, kernels.h) where there is one and the scalar
   set is active; the same bits either way. wp may be NULL. */
void op_linear_p(float *out, const float *x, const float *w, const float *wp, const float *b,
                 size_t n, size_t din, size_t dout);

/* Causal multi-head attention of one sequence, for the query positions t0..n-1 (keys and
   values of every position 0..n-1; t0 > 0 leaves the rows below t0 as they are: attention is
   causal, so they do not depend on the later positions):
   for head h (width dh = d/heads), position t: att[h][t][s] = softmax_{s<=t}(q_t.k_s / sqrt(dh))
   (att[h][t][s] = 0 for s > t), ctx_t = sum_s att'[h][t][s] v_s where att' = att * drop (if
   drop is not NULL: a [heads][L][L] mask of 0 or 1/(1-p) from dropout, else att' = att).
   q, k, v, ctx: (n, d); att and drop: [heads][L][L] with L >= n the row stride. */
void op_causal_attention(float *ctx, float *att, const float *q, const float *k, const float *v,
                         const float *drop, size_t t0, size_t n, size_t d, size_t heads, size_t L);

/* Dropout masks: fills mask[0..n) with 0 (probability p) or 1/(1-p), from a splitmix64
   stream in *rng. p == 0 fills ones. Deterministic for a seed. */
void op_dropout_mask(float *mask, size_t n, float p, uint64_t *rng);

/* The fusion gate: g = softmax(Wg u + bg), u the concatenated visitor vectors (n_ch*d),
   Wg (n_ch, n_ch*d). logits (n_ch) may be NULL. */
void op_gate(float *g, float *logits, const float *wg, const float *bg, const float *u,
             size_t n_ch, size_t d);

#endif /* MDSREC_OPS_H */
