/*
 * backward.h - the backward passes of the ops in src/ops.h and of one channel's encoder
 * (src/model.c channel_forward), over the activations channel_forward recorded.
 *
 * Convention: every gradient output is ACCUMULATED (+=), never overwritten, so a caller
 * zeroes its gradient buffers once and several uses of one tensor simply add up. Shapes
 * and the [out][in] matrix layout are those of ops.h.
 */
#ifndef MDSREC_TRAIN_BACKWARD_H
#define MDSREC_TRAIN_BACKWARD_H

#include <stddef.h>
#include "src/model.h"

/* LayerNorm of one row of d: given x, the forward's mean and rstd and dy, adds to dx and
   (when not NULL) to dg, db. */
void layernorm_bwd(float *dx, float *dg, float *db, const float *dy, const float *x,
                   float mean, float rstd, const float *g, size_t d);

/* GELU (erf form): dx[i] += dy[i] * GELU'(x[i]). */
void gelu_bwd(float *dx, const float *dy, const float *x, size_t n);

/* Softmax over y[0..n) = softmax(x): dx[i] += y[i] * (dy[i] - sum_j y[j] dy[j]). */
void softmax_bwd(float *dx, const float *dy, const float *y, size_t n);

/* out (n, dout) = x (n, din) W^T + b: dx += dy W (dx may be NULL), dw += dy^T x,
   db += column sums of dy (db may be NULL). */
void linear_bwd(float *dx, float *dw, float *db, const float *dy, const float *x,
                const float *w, size_t n, size_t din, size_t dout);

/* op_causal_attention: from dctx (n, d) adds to dq, dk, dv (n, d). att and drop are the
   forward's [heads][L][L] probabilities and mask (drop NULL: none). */
void causal_attention_bwd(float *dq, float *dk, float *dv, const float *dctx, const float *att,
                          const float *q, const float *k, const float *v, const float *drop,
                          size_t n, size_t d, size_t heads, size_t L);

/* op_gate: g = softmax(Wg u + bg). From dg (n_ch) adds to dwg (n_ch, n_ch*d), dbg (n_ch) and
   du (n_ch*d). g is the forward's output. */
void gate_bwd(float *dwg, float *dbg, float *du, const float *dg, const float *g,
              const float *wg, const float *u, size_t n_ch, size_t d);

/* The backward of channel_forward(cfg, w, rows, n, pool_all, drop, a): du (n, d) is the
   loss gradient on a->u at every position (with pool_all = 0 only row n-1 is read). Adds
   the parameter gradients to gw (an encoder_weights mapped over the gradient arrays with
   encoder_weights_map, the same layout as w; its pointers are written through) and the
   gradient on the item rows to drows (n, d). scratch: channel_bwd_scratch_floats(cfg). */
size_t channel_bwd_scratch_floats(const mdsrec_config *cfg);
void channel_backward(const mdsrec_config *cfg, const encoder_weights *w, const encoder_weights *gw,
                      const channel_acts *a, size_t n, int pool_all, const float *du,
                      float *drows, float *scratch);

#endif
