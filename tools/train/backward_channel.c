/*
 * backward_channel.c - the backward of one channel's encoder (src/model.c channel_forward),
 * read bottom to top: pooling, the B post-LN blocks in reverse, the input LayerNorm.
 * It only reads what channel_forward recorded in channel_acts; nothing is recomputed.
 */
#include "backward.h"

#include <math.h>
#include <string.h>

#define W_(p) ((float *)(p)) /* gradient views are mapped as const by encoder_weights_map */

size_t channel_bwd_scratch_floats(const mdsrec_config *cfg) {
    size_t L = cfg->max_len, d = cfg->dim, f = cfg->ffn_dim;
    return 16 * L * d + 2 * L * f + L;
}

/* LayerNorm over n rows of d: dx = 0, then each row's backward (dg, db accumulate). */
static void layernorm_rows_bwd(float *dx, float *dg, float *db, const float *dy, const float *x, const float *mean,
                               const float *rstd, const float *g, size_t n, size_t d) {
    memset(dx, 0, n * d * sizeof(float));
    for (size_t t = 0; t < n; t++)
        layernorm_bwd(dx + t * d, dg, db, dy + t * d, x + t * d, mean[t], rstd[t], g, d);
}

/* A residual r = skip + branch * mask (mask NULL: no dropout), from dr (n floats): the
   gradients on skip and on branch. dbranch may be dr itself. */
static void residual_bwd(float *dskip, float *dbranch, const float *dr, const float *mask, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = dr[i];
        dskip[i] = g;
        dbranch[i] = mask ? g * mask[i] : g;
    }
}

/* Gradient of the pooling at positions t0..n-1 (du rows) into dh (n, d). */
static void pool_backward(const mdsrec_config *cfg, const encoder_weights *w, const encoder_weights *gw,
                          const channel_acts *a, size_t n, size_t t0, const float *du, float *dh,
                          float *S) {
    size_t L = cfg->max_len, d = cfg->dim;
    float *dpr = S, *dc = dpr + d, *dpq = dc + d, *dpk = dpq + d, *dpv = dpk + L * d;
    float *dpa = dpv + L * d;
    float sc = 1.0f / sqrtf((float)d);
    memset(dpk, 0, 2 * L * d * sizeof(float));
    for (size_t t = t0; t < n; t++) {
        memset(dpr, 0, 3 * d * sizeof(float));
        /* u = LN(pr) */
        layernorm_bwd(dpr, W_(gw->pln_g), W_(gw->pln_b), du + t * d, a->pr + t * d, a->pln_mean[t],
                      a->pln_rstd[t], w->pln_g, d);
        /* pr = centre + pctx, pctx = sum_s pa[s] pv_s */
        const float *pa = a->pa + t * L;
        for (size_t j = 0; j < d; j++) dc[j] = dpr[j];
        for (size_t s = 0; s <= t; s++) {
            float dot = 0;
            for (size_t j = 0; j < d; j++) {
                dot += dpr[j] * a->pv[s * d + j];
                dpv[s * d + j] += pa[s] * dpr[j];
            }
            dpa[s] = dot;
        }
        /* pa = softmax(pq . pk / sqrt d) */
        float sum = 0;
        for (size_t s = 0; s <= t; s++) sum += pa[s] * dpa[s];
        for (size_t s = 0; s <= t; s++) {
            float ds = pa[s] * (dpa[s] - sum) * sc;
            for (size_t j = 0; j < d; j++) {
                dpq[j] += ds * a->pk[s * d + j];
                dpk[s * d + j] += ds * a->pq[t * d + j];
            }
        }
        /* pq = Wq centre + bq */
        linear_bwd(dc, W_(gw->pwq), W_(gw->pbq), dpq, a->centre + t * d, w->pwq, 1, d, d);
        /* the centre: h_t, the mean of h_0..h_t, or the learned token */
        if (cfg->pool_mode == MDSREC_POOL_LAST) {
            for (size_t j = 0; j < d; j++) dh[t * d + j] += dc[j];
        } else if (cfg->pool_mode == MDSREC_POOL_MEAN) {
            float inv = 1.0f / (float)(t + 1);
            for (size_t s = 0; s <= t; s++)
                for (size_t j = 0; j < d; j++) dh[s * d + j] += dc[j] * inv;
        } else {
            for (size_t j = 0; j < d; j++) W_(gw->ptoken)[j] += dc[j];
        }
    }
    /* pk = Wk h + bk, pv = Wv h + bv over all n states */
    const float *h = channel_states(w, a);
    linear_bwd(dh, W_(gw->pwk), W_(gw->pbk), dpk, h, w->pwk, n, d, d);
    linear_bwd(dh, W_(gw->pwv), W_(gw->pbv), dpv, h, w->pwv, n, d, d);
}

void channel_backward(const mdsrec_config *cfg, const encoder_weights *w, const encoder_weights *gw,
                      const channel_acts *a, size_t n, int pool_all, const float *du,
                      float *drows, float *scratch) {
    size_t L = cfg->max_len, d = cfg->dim, f = cfg->ffn_dim, H = cfg->n_heads;
    size_t nd = n * d, t0 = pool_all ? 0 : n - 1;
    float *dh = scratch, *dr = dh + L * d, *dz1 = dr + L * d, *df2 = dz1 + L * d;
    float *dctx = df2 + L * d, *dq = dctx + L * d, *dk = dq + L * d, *dv = dk + L * d;
    float *din = dv + L * d, *dg1 = din + L * d, *df1 = dg1 + L * f, *pool_s = df1 + L * f;

    /* ---- pooling: gradient on the states h */
    memset(dh, 0, nd * sizeof(float));
    if (cfg->pool_mode == MDSREC_POOL_NONE)
        memcpy(dh + t0 * d, du + t0 * d, (n - t0) * d * sizeof(float));
    else
        pool_backward(cfg, w, gw, a, n, t0, du, dh, pool_s);

    /* ---- the blocks, last first; dh holds the gradient on the block's output */
    for (size_t b = w->n_blocks; b-- > 0;) {
        const block_weights *k = &w->blk[b];
        const block_weights *g = &gw->blk[b];
        const float *in = b ? a->blk[b - 1].z2 : a->z0;
        const float *ao_m = a->blk[b].ao_drop, *f2_m = a->blk[b].f2_drop;
        /* z2 = LN2(r2), r2 = z1 + f2 * mask */
        layernorm_rows_bwd(dr, W_(g->ln2_g), W_(g->ln2_b), dh, a->blk[b].r2, a->blk[b].ln2_mean,
                           a->blk[b].ln2_rstd, k->ln2_g, n, d);
        residual_bwd(dz1, df2, dr, f2_m, nd);
        /* f2 = W2 GELU(f1) + b2, f1 = W1 z1 + b1 */
        memset(dg1, 0, n * f * sizeof(float));
        memset(df1, 0, n * f * sizeof(float));
        linear_bwd(dg1, W_(g->w2), W_(g->b2), df2, a->blk[b].g1, k->w2, n, f, d);
        gelu_bwd(df1, dg1, a->blk[b].f1, n * f);
        linear_bwd(dz1, W_(g->w1), W_(g->b1), df1, a->blk[b].z1, k->w1, n, d, f);
        /* z1 = LN1(r1), r1 = in + ao * mask */
        layernorm_rows_bwd(dr, W_(g->ln1_g), W_(g->ln1_b), dz1, a->blk[b].r1, a->blk[b].ln1_mean,
                           a->blk[b].ln1_rstd, k->ln1_g, n, d);
        residual_bwd(din, dr, dr, ao_m, nd); /* dr is now the gradient on ao */
        /* ao = Wo ctx + bo; ctx = attention(q, k, v) */
        memset(dctx, 0, nd * sizeof(float));
        memset(dq, 0, nd * sizeof(float));
        memset(dk, 0, nd * sizeof(float));
        memset(dv, 0, nd * sizeof(float));
        linear_bwd(dctx, W_(g->wo), W_(g->bo), dr, a->blk[b].ctx, k->wo, n, d, d);
        causal_attention_bwd(dq, dk, dv, dctx, a->blk[b].att, a->blk[b].q, a->blk[b].k, a->blk[b].v,
                             a->blk[b].att_drop, n, d, H, L);
        linear_bwd(din, W_(g->wq), W_(g->bq), dq, in, k->wq, n, d, d);
        linear_bwd(din, W_(g->wk), W_(g->bk), dk, in, k->wk, n, d, d);
        linear_bwd(din, W_(g->wv), W_(g->bv), dv, in, k->wv, n, d, d);
        memcpy(dh, din, nd * sizeof(float));
    }

    /* ---- z0 = LN_in(x) * mask, x = rows + pos */
    for (size_t i = 0; i < nd; i++)
        if (a->drop0) dh[i] *= a->drop0[i];
    layernorm_rows_bwd(dr, W_(gw->ln_in_g), W_(gw->ln_in_b), dh, a->x, a->ln0_mean, a->ln0_rstd, w->ln_in_g, n, d);
    float *gpos = W_(gw->pos);
    for (size_t i = 0; i < nd; i++) {
        drows[i] += dr[i];
        gpos[i] += dr[i];
    }
}
