/*
 * model.h - MDSRec's inference as llama2.c's run.c lays a model out: the config (mdsrec.h),
 * the weights (views into the bundle, never copies), the activations (every buffer one
 * forward needs, allocated once) and one forward pass, read top to bottom in model.c.
 *
 * The trainer (tools/train) uses these same structs and this same channel_forward: it maps
 * encoder_weights onto its own parameter arrays (same layout as the bundle's ENCODER and
 * POOL sections), keeps one channel_acts per sequence, turns dropout on, asks for the
 * pooled vector at every position, and runs its backward over the recorded activations.
 */
#ifndef MDSREC_MODEL_H
#define MDSREC_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "mdsrec.h"
#include "bundle.h"
#include "kernels.h"

/* ---------------------------------------------------------------- weights */

typedef struct {
    const float *wq, *bq;     /* (d, d), (d) */
    const float *wk, *bk;     /* (d, d), (d) */
    const float *wv, *bv;     /* (d, d), (d) */
    const float *wo, *bo;     /* (d, d), (d) */
    const float *ln1_g, *ln1_b; /* (d) after attention + residual */
    const float *w1, *b1;     /* (f, d), (f) */
    const float *w2, *b2;     /* (d, f), (d) */
    const float *ln2_g, *ln2_b; /* (d) after feed-forward + residual */
    /* optional packed copies of wq..w2 (linear_pack, kernels.h; NULL: none): the trainer
       packs its weights once per step instead of once per sequence */
    const float *wq_p, *wk_p, *wv_p, *wo_p, *w1_p, *w2_p;
} block_weights;

typedef struct {
    uint32_t n_blocks;                 /* the blocks this channel runs (<= cfg->n_blocks) */
    const float *pos;                  /* (L, d) positional embeddings */
    const float *ln_in_g, *ln_in_b;    /* (d) input LayerNorm */
    block_weights blk[MDSREC_MAX_BLOCKS];
    /* centralized pooling; all NULL when pool_mode is MDSREC_POOL_NONE */
    const float *pwq, *pbq;            /* (d, d), (d) */
    const float *pwk, *pbk;            /* (d, d), (d) */
    const float *pwv, *pbv;            /* (d, d), (d) */
    const float *pln_g, *pln_b;        /* (d) */
    const float *ptoken;               /* (d) learned centre (MDSREC_POOL_TOKEN) */
    const float *pwq_p, *pwk_p, *pwv_p; /* optional packed copies, as in block_weights */
} encoder_weights;

/* Points w's fields into the ENCODER floats `enc` of a channel with n_blocks blocks
   (<= cfg->n_blocks; bundle_encoder_floats(cfg, ch) floats), the POOL floats `pool` (NULL when
   pool_mode is 0) and the positional embeddings `pos`, in the bundle's layout. */
void encoder_weights_map(const mdsrec_config *cfg, uint32_t n_blocks, const float *pos, const float *enc,
                         const float *pool, encoder_weights *w);

/* ---------------------------------------------------------------- activations */

/* One attention block's activations. */
typedef struct {
    float *q, *k, *v;  /* (L, d) */
    float *att;        /* (heads, L, L) softmax probabilities */
    float *att_drop;   /* (heads, L, L) dropout mask on att, or NULL */
    float *ctx;        /* (L, d) attention context */
    float *ao;         /* (L, d) Wo ctx + bo */
    float *ao_drop;    /* (L, d) mask, or NULL */
    float *r1;         /* (L, d) block input + dropped ao */
    float *z1;         /* (L, d) LN1(r1) */
    float *ln1_mean, *ln1_rstd; /* (L) */
    float *f1;         /* (L, f) W1 z1 + b1, before GELU */
    float *g1;         /* (L, f) GELU(f1) */
    float *f2;         /* (L, d) W2 g1 + b2 */
    float *f2_drop;    /* (L, d) mask, or NULL */
    float *r2;         /* (L, d) z1 + dropped f2 */
    float *z2;         /* (L, d) LN2(r2): the block output */
    float *ln2_mean, *ln2_rstd; /* (L) */
} block_acts;

/* Everything one channel's forward over one sequence (n <= L positions) records.
   Shapes use L (the row capacity); only the first n rows are meaningful. Dropout masks
   are NULL-able (inference). */
typedef struct {
    float *x;              /* (L, d) item row + position, before LN_in */
    float *z0;             /* (L, d) LN_in output, after dropout */
    float *ln0_mean, *ln0_rstd;   /* (L) */
    float *drop0;          /* (L, d) dropout mask on z0, or NULL */
    block_acts blk[MDSREC_MAX_BLOCKS];
    float *h;              /* (L, d) the final states: z2 of the channel's last block, or z0
                              if it has none (set by channel_forward; NULL before) */
    /* pooling, at every position t (pool_all) or at t = n-1 only (inference) */
    float *pk, *pv;        /* (L, d) Wk h + bk, Wv h + bv */
    float *centre;         /* (L, d) the centre q_t (h_t, mean of h_0..h_t, or the token) */
    float *pq;             /* (L, d) Wq q_t + bq */
    float *pa;             /* (L, L) pooling weights: row t over s = 0..t */
    float *pctx;           /* (L, d) sum_s pa[t][s] pv[s] */
    float *pr;             /* (L, d) q_t + pctx_t */
    float *u;              /* (L, d) LN(pr): the visitor vector at t (pool_mode 0: = h) */
    float *pln_mean, *pln_rstd;   /* (L) */
} channel_acts;

/* The final states of a channel with w's blocks: its last block's output, or the input
   LayerNorm's when it has none. The forward sets a->h to it; the backward, which may map the
   activations again, asks here. */
static inline float *channel_states(const encoder_weights *w, const channel_acts *a) {
    return w->n_blocks ? a->blk[w->n_blocks - 1].z2 : a->z0;
}

/* Floats needed by channel_acts for this config, with or without dropout masks; SIZE_MAX
   when the count does not fit a size_t (the largest configs in wasm32). */
size_t channel_acts_floats(const mdsrec_config *cfg, int with_dropout);
/* Lays the fields of a out over mem (channel_acts_floats floats). */
void channel_acts_map(const mdsrec_config *cfg, float *mem, int with_dropout, channel_acts *a);

/* Dropout settings of one forward; NULL or p of 0 means inference. */
typedef struct {
    float p_hidden;   /* after LN_in, after Wo, after W2 */
    float p_attn;     /* on attention probabilities */
    uint64_t *rng;    /* splitmix64 state, advanced */
} dropout_cfg;

/* One channel's encoder over the sequence whose item rows (already dequantized, (n, d))
   are in `rows`: positions, LN_in, B post-LN blocks, pooling. With pool_all the visitor
   vector is computed at every position t (training, next-item at every step); otherwise
   only at t = n-1. Requires 1 <= n <= L. Results in a->h and a->u. */
void channel_forward(const mdsrec_config *cfg, const encoder_weights *w, const float *rows,
                     size_t n, int pool_all, const dropout_cfg *drop, channel_acts *a);

/* channel_forward for the positions t0..n-1 only (0 <= t0 < n): the activations of the
   positions below t0 are read from a as an earlier call left them, for a sequence with the
   same first t0 items. Attention is causal and every other step reads only its own row, so
   the states of a prefix do not depend on what follows it, and op_linear gives a row the same
   bits whichever rows it is computed with: the result is bit-identical to t0 = 0. Inference
   uses it as a prefix cache (a click appended recomputes one position); with t0 = 0 it is
   channel_forward (which the trainer calls), dropout's random stream included. */
void channel_forward_from(const mdsrec_config *cfg, const encoder_weights *w, const float *rows,
                          size_t t0, size_t n, int pool_all, const dropout_cfg *drop, channel_acts *a);

/* ---------------------------------------------------------------- the model */

struct mdsrec_model {
    mdsrec_config cfg;
    bundle_view view;                          /* validated pointers into the bundle */
    encoder_weights enc[MDSREC_MAX_CHANNELS];
    const mdsrec_kernels *k;
    int head_only; /* opened from a bundle still arriving: keys and popularity only (api.c) */
    float *weights;                            /* f32 copies of compact weights, or NULL */
};

/* Opens a model over buf[0..len) whose sections' checksums verified[] (one flag per table
   entry, NULL: none) already checked. head_only: a BUNDLE_READ_HEAD read; such a model finds
   keys, gives the catalog and answers recommend() with an empty history (the popularity
   order); a history or similar() is MDSREC_EARG. Errors as mdsrec_open. */
mdsrec_status model_open_ex(const void *buf, size_t len, const uint8_t *verified, int head_only, mdsrec_model **out,
                            mdsrec_error *err);

#endif /* MDSREC_MODEL_H */
