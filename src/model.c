/*
 * model.c - MDSRec's forward pass and scoring (MODEL.md sections 3 and 4), read top to
 * bottom: weights mapping, activation layout, one channel's encoder, then recommend():
 * encode every channel, fuse with the gate, score every item (or, in candidate mode, the
 * candidates that candidates.c marks), keep the top k.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "half.h"
#include "ops.h"
#include "topk.h"

/* ---------------------------------------------------------------- weights */

void encoder_weights_map(const mdsrec_config *cfg, uint32_t n_blocks, const float *pos, const float *enc,
                         const float *pool, encoder_weights *w) {
    size_t d = cfg->dim, f = cfg->ffn_dim;
    memset(w, 0, sizeof *w);
    w->n_blocks = n_blocks < cfg->n_blocks ? n_blocks : cfg->n_blocks;
    w->pos = pos;
    const float *p = enc;
    w->ln_in_g = p; p += d;
    w->ln_in_b = p; p += d;
    for (uint32_t b = 0; b < w->n_blocks; b++) {
        block_weights *bw = &w->blk[b];
        bw->wq = p; p += d * d;
        bw->bq = p; p += d;
        bw->wk = p; p += d * d;
        bw->bk = p; p += d;
        bw->wv = p; p += d * d;
        bw->bv = p; p += d;
        bw->wo = p; p += d * d;
        bw->bo = p; p += d;
        bw->ln1_g = p; p += d;
        bw->ln1_b = p; p += d;
        bw->w1 = p; p += f * d;
        bw->b1 = p; p += f;
        bw->w2 = p; p += d * f;
        bw->b2 = p; p += d;
        bw->ln2_g = p; p += d;
        bw->ln2_b = p; p += d;
    }
    if (cfg->pool_mode != MDSREC_POOL_NONE && pool) {
        p = pool;
        w->pwq = p; p += d * d;
        w->pbq = p; p += d;
        w->pwk = p; p += d * d;
        w->pbk = p; p += d;
        w->pwv = p; p += d * d;
        w->pbv = p; p += d;
        w->pln_g = p; p += d;
        w->pln_b = p; p += d;
        w->ptoken = p;
    }
}

/* ---------------------------------------------------------------- activations */

/* Walks the layout once; with mem == NULL it only counts. One function for both keeps the
   count and the map from drifting apart. Counts in 64 bits: the largest configs the format
   allows need more than 2^32 floats (8 blocks of heads * L * L attention weights), past a
   wasm32 size_t. */
static uint64_t acts_layout(const mdsrec_config *cfg, float *mem, int with_dropout, channel_acts *a) {
    uint64_t L = cfg->max_len, d = cfg->dim, f = cfg->ffn_dim, H = cfg->n_heads;
    uint64_t used = 0;
#define TAKE(field, count)                                 \
    do {                                                   \
        if (a) a->field = mem ? mem + (size_t)used : NULL; \
        used += (count);                                   \
    } while (0)
    if (a) memset(a, 0, sizeof *a);
    TAKE(x, L * d);
    TAKE(z0, L * d);
    TAKE(ln0_mean, L);
    TAKE(ln0_rstd, L);
    if (with_dropout) TAKE(drop0, L * d);
    for (uint32_t b = 0; b < cfg->n_blocks; b++) {
        TAKE(blk[b].q, L * d);
        TAKE(blk[b].k, L * d);
        TAKE(blk[b].v, L * d);
        TAKE(blk[b].att, H * L * L);
        if (with_dropout) TAKE(blk[b].att_drop, H * L * L);
        TAKE(blk[b].ctx, L * d);
        TAKE(blk[b].ao, L * d);
        if (with_dropout) TAKE(blk[b].ao_drop, L * d);
        TAKE(blk[b].r1, L * d);
        TAKE(blk[b].z1, L * d);
        TAKE(blk[b].ln1_mean, L);
        TAKE(blk[b].ln1_rstd, L);
        TAKE(blk[b].f1, L * f);
        TAKE(blk[b].g1, L * f);
        TAKE(blk[b].f2, L * d);
        if (with_dropout) TAKE(blk[b].f2_drop, L * d);
        TAKE(blk[b].r2, L * d);
        TAKE(blk[b].z2, L * d);
        TAKE(blk[b].ln2_mean, L);
        TAKE(blk[b].ln2_rstd, L);
    }
    TAKE(pk, L * d);
    TAKE(pv, L * d);
    TAKE(centre, L * d);
    TAKE(pq, L * d);
    TAKE(pa, L * L);
    TAKE(pctx, L * d);
    TAKE(pr, L * d);
    TAKE(u, L * d);
    TAKE(pln_mean, L);
    TAKE(pln_rstd, L);
#undef TAKE
    return used; /* a->h stays NULL: the forward points it at its channel's last block */
}

size_t channel_acts_floats(const mdsrec_config *cfg, int with_dropout) {
    uint64_t n = acts_layout(cfg, NULL, with_dropout, NULL);
    return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

void channel_acts_map(const mdsrec_config *cfg, float *mem, int with_dropout, channel_acts *a) {
    acts_layout(cfg, mem, with_dropout, a);
}

/* ---------------------------------------------------------------- one channel's encoder */

/* dst[i] += src[i] * mask[i] (mask NULL: no dropout) */
static void add_dropped(float *dst, const float *src, const float *mask, size_t n) {
    if (mask)
        for (size_t i = 0; i < n; i++) dst[i] += src[i] * mask[i];
    else
        for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

void channel_forward(const mdsrec_config *cfg, const encoder_weights *w, const float *rows,
                     size_t n, int pool_all, const dropout_cfg *drop, channel_acts *a) {
    channel_forward_from(cfg, w, rows, 0, n, pool_all, drop, a);
}

void channel_forward_from(const mdsrec_config *cfg, const encoder_weights *w, const float *rows,
                          size_t t0, size_t n, int pool_all, const dropout_cfg *drop, channel_acts *a) {
    size_t d = cfg->dim, f = cfg->ffn_dim, L = cfg->max_len, H = cfg->n_heads;
    size_t m = n - t0, o = t0 * d; /* the positions computed, and their first float */
    float eps = cfg->ln_eps;
    int training = drop && (drop->p_hidden > 0.0f || drop->p_attn > 0.0f);

    /* input: item row + position, LayerNorm, dropout */
    for (size_t t = t0; t < n; t++) {
        float *x = a->x + t * d;
        for (size_t i = 0; i < d; i++) x[i] = rows[t * d + i] + w->pos[t * d + i];
        op_layernorm(a->z0 + t * d, a->ln0_mean + t, a->ln0_rstd + t, x, w->ln_in_g, w->ln_in_b, d, eps);
    }
    if (training && a->drop0) {
        op_dropout_mask(a->drop0 + o, m * d, drop->p_hidden, drop->rng);
        for (size_t i = o; i < n * d; i++) a->z0[i] *= a->drop0[i];
    }

    /* attention blocks, post-LN: z = LN1(z + attn(z)); z = LN2(z + ffn(z)) */
    const float *z = a->z0;
    for (uint32_t b = 0; b < w->n_blocks; b++) {
        const block_weights *bw = &w->blk[b];
        block_acts *s = &a->blk[b];

        /* q, k, v projections */
        op_linear_p(s->q + o, z + o, bw->wq, bw->wq_p, bw->bq, m, d, d);
        op_linear_p(s->k + o, z + o, bw->wk, bw->wk_p, bw->bk, m, d, d);
        op_linear_p(s->v + o, z + o, bw->wv, bw->wv_p, bw->bv, m, d, d);

        /* causal multi-head attention (dropout on the probabilities when training) */
        const float *att_drop = NULL;
        if (training && s->att_drop) {
            op_dropout_mask(s->att_drop, H * L * L, drop->p_attn, drop->rng);
            att_drop = s->att_drop;
        }
        op_causal_attention(s->ctx, s->att, s->q, s->k, s->v, att_drop, t0, n, d, H, L);

        /* output projection, dropout, residual, LayerNorm */
        op_linear_p(s->ao + o, s->ctx + o, bw->wo, bw->wo_p, bw->bo, m, d, d);
        const float *ao_drop = NULL;
        if (training && s->ao_drop) {
            op_dropout_mask(s->ao_drop + o, m * d, drop->p_hidden, drop->rng);
            ao_drop = s->ao_drop + o;
        }
        memcpy(s->r1 + o, z + o, m * d * sizeof(float));
        add_dropped(s->r1 + o, s->ao + o, ao_drop, m * d);
        for (size_t t = t0; t < n; t++)
            op_layernorm(s->z1 + t * d, s->ln1_mean + t, s->ln1_rstd + t, s->r1 + t * d, bw->ln1_g, bw->ln1_b, d, eps);

        /* feed-forward: W2 GELU(W1 z + b1) + b2, dropout, residual, LayerNorm */
        op_linear_p(s->f1 + t0 * f, s->z1 + o, bw->w1, bw->w1_p, bw->b1, m, d, f);
        op_gelu(s->g1 + t0 * f, s->f1 + t0 * f, m * f);
        op_linear_p(s->f2 + o, s->g1 + t0 * f, bw->w2, bw->w2_p, bw->b2, m, f, d);
        const float *f2_drop = NULL;
        if (training && s->f2_drop) {
            op_dropout_mask(s->f2_drop + o, m * d, drop->p_hidden, drop->rng);
            f2_drop = s->f2_drop + o;
        }
        memcpy(s->r2 + o, s->z1 + o, m * d * sizeof(float));
        add_dropped(s->r2 + o, s->f2 + o, f2_drop, m * d);
        for (size_t t = t0; t < n; t++)
            op_layernorm(s->z2 + t * d, s->ln2_mean + t, s->ln2_rstd + t, s->r2 + t * d, bw->ln2_g, bw->ln2_b, d, eps);
        z = s->z2;
    }
    const float *h = a->h = channel_states(w, a); /* == z */

    /* the positions whose visitor vector is wanted: every new one, or the last */
    size_t p0 = pool_all ? t0 : n - 1;

    /* plain SASRec: the visitor vector is the last state */
    if (cfg->pool_mode == MDSREC_POOL_NONE) {
        memcpy(a->u + p0 * d, h + p0 * d, (n - p0) * d * sizeof(float));
        return;
    }

    /* interest-centralized pooling: keys and values of the new states */
    op_linear_p(a->pk + o, h + o, w->pwk, w->pwk_p, w->pbk, m, d, d);
    op_linear_p(a->pv + o, h + o, w->pwv, w->pwv_p, w->pbv, m, d, d);
    float scale = 1.0f / sqrtf((float)d);
    /* the interest centres q_t, then their projections in one call (one tile pass, not one
       short call per position) */
    for (size_t t = p0; t < n; t++) {
        float *q = a->centre + t * d;
        if (cfg->pool_mode == MDSREC_POOL_LAST) {
            memcpy(q, h + t * d, d * sizeof(float));
        } else if (cfg->pool_mode == MDSREC_POOL_MEAN) {
            for (size_t i = 0; i < d; i++) q[i] = 0.0f;
            for (size_t s = 0; s <= t; s++)
                for (size_t i = 0; i < d; i++) q[i] += h[s * d + i];
            for (size_t i = 0; i < d; i++) q[i] /= (float)(t + 1);
        } else {
            memcpy(q, w->ptoken, d * sizeof(float));
        }
    }
    op_linear_p(a->pq + p0 * d, a->centre + p0 * d, w->pwq, w->pwq_p, w->pbq, n - p0, d, d);
    for (size_t t = p0; t < n; t++) {
        const float *q = a->centre + t * d;
        /* a_s = softmax_s((Wq q + bq).(Wk h_s + bk) / sqrt(d)) over s <= t */
        float *pa = a->pa + t * L;
        for (size_t s = 0; s <= t; s++) pa[s] = kernels_active()->dot_f32(a->pq + t * d, a->pk + s * d, d) * scale;
        op_softmax(pa, t + 1);
        for (size_t s = t + 1; s < n; s++) pa[s] = 0.0f;
        /* u = LN(q + sum_s a_s (Wv h_s + bv)) */
        float *c = a->pctx + t * d;
        for (size_t i = 0; i < d; i++) c[i] = 0.0f;
        for (size_t s = 0; s <= t; s++)
            for (size_t i = 0; i < d; i++) c[i] += pa[s] * a->pv[s * d + i];
        float *r = a->pr + t * d;
        for (size_t i = 0; i < d; i++) r[i] = q[i] + c[i];
        op_layernorm(a->u + t * d, a->pln_mean + t, a->pln_rstd + t, r, w->pln_g, w->pln_b, d, eps);
    }
}

/* ---------------------------------------------------------------- inference state */

#define SCORE_BLOCK 1024

struct mdsrec_state {
    const mdsrec_model *model;
    float *acts_mem;       /* |C| * channel_acts_floats(cfg, 0) */
    channel_acts acts[MDSREC_MAX_CHANNELS]; /* one per channel: they persist as the prefix cache */
    uint32_t *cached;      /* (L) the history whose states acts[] hold */
    size_t cached_n;       /* its length; 0: nothing cached */
    float *rows;           /* (L, d) dequantized history rows of one channel */
    uint32_t *hist;        /* (L) the history items read */
    float *u;              /* (|C|, d) visitor vectors */
    float *q;              /* (|C|, d) gate-scaled visitor vectors */
    int8_t *q8;            /* (|C|, d) quantized q (i8 models) */
    float *luts;           /* (|C|, pq_m, 256) q's lookup tables (pq models), else NULL */
    float qscale[MDSREC_MAX_CHANNELS];
    float gates[MDSREC_MAX_CHANNELS];
    uint32_t carriers[MDSREC_MAX_CHANNELS];
    float carrier_w[MDSREC_MAX_CHANNELS];
    float *block;          /* (SCORE_BLOCK) scores of one block of rows */
    uint32_t *cand;        /* (SCORE_BLOCK) rows of a block above the threshold */
    uint8_t *excluded;     /* N bits */
    uint8_t *allowed;      /* N bits */
    uint32_t *cset;        /* candidate mode: the candidate set, N bits in u32 words (candidates.h) */
    uint32_t *cfront;      /* candidate mode: the items of the first step, when a second follows */
    float *cc;             /* the history terms (COCLICK, REPEAT): (N) each item's co-click and
                              repeat terms for the last history scored, 0 elsewhere; NULL
                              without either section */
    uint8_t *cc_block;     /* (N / SCORE_BLOCK + 1) 1 where a block of cc may be nonzero */
    int cc_on;             /* cc holds the terms of the history being scored */
    uint32_t *res_items;   /* (N) */
    float *res_scores;     /* (N) */
    float *res_shares;     /* (N, |C|) */
};

static int bit_get(const uint8_t *m, uint32_t i) { return (m[i >> 3] >> (i & 7)) & 1; }
static void bit_set(uint8_t *m, uint32_t i) { m[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static void bit_clear(uint8_t *m, uint32_t i) { m[i >> 3] &= (uint8_t)~(1u << (i & 7)); }

mdsrec_status mdsrec_state_new(const mdsrec_model *model, mdsrec_state **out) {
    if (!model || !out) return MDSREC_EARG;
    *out = NULL;
    const mdsrec_config *cfg = &model->cfg;
    size_t N = cfg->n_items, d = cfg->dim, C = cfg->n_channels, L = cfg->max_len;
    mdsrec_state *s = calloc(1, sizeof *s);
    if (!s) return MDSREC_ENOMEM;
    s->model = model;
    /* the activations are the one size that can pass size_t (wasm32); the others are at most
       N * |C| * 4 = 2^29 bytes under the format's limits. One set per channel: they are the
       prefix cache. */
    size_t per_ch = channel_acts_floats(cfg, 0);
    if (per_ch > SIZE_MAX / sizeof(float) / C) {
        free(s);
        return MDSREC_ENOMEM;
    }
    s->acts_mem = malloc(C * per_ch * sizeof(float));
    s->cached = malloc(L * sizeof(uint32_t));
    s->rows = malloc(L * d * sizeof(float));
    s->hist = malloc(L * sizeof(uint32_t));
    s->u = malloc(C * d * sizeof(float));
    s->q = malloc(C * d * sizeof(float));
    s->q8 = malloc(C * d);
    int pq = cfg->item_dtype == MDSREC_PQ;
    if (pq) s->luts = malloc(C * cfg->pq_m * BUNDLE_PQ_K * sizeof(float));
    s->block = malloc(SCORE_BLOCK * sizeof(float));
    s->cand = malloc(SCORE_BLOCK * sizeof(uint32_t));
    s->excluded = calloc((N + 7) / 8, 1);
    s->allowed = calloc((N + 7) / 8, 1);
    s->cset = calloc(candidates_words(cfg->n_items), sizeof(uint32_t));
    s->cfront = calloc(candidates_words(cfg->n_items), sizeof(uint32_t));
    if (model->view.coclick_beta > 0 || model->view.repeat_weight != 0) {
        s->cc = calloc(N, sizeof(float));
        s->cc_block = calloc(N / SCORE_BLOCK + 1, 1);
        if (!s->cc || !s->cc_block) {
            mdsrec_state_free(s);
            return MDSREC_ENOMEM;
        }
    }
    s->res_items = malloc(N * sizeof(uint32_t));
    s->res_scores = malloc(N * sizeof(float));
    s->res_shares = malloc(N * C * sizeof(float));
    if (!s->acts_mem || !s->cached || !s->rows || !s->hist || !s->u || !s->q || !s->q8 || !s->block || !s->cand ||
        !s->excluded || !s->allowed || !s->cset || !s->cfront || !s->res_items || !s->res_scores || !s->res_shares ||
        (pq && !s->luts)) {
        mdsrec_state_free(s);
        return MDSREC_ENOMEM;
    }
    for (size_t c = 0; c < C; c++) channel_acts_map(cfg, s->acts_mem + c * per_ch, 0, &s->acts[c]);
    *out = s;
    return MDSREC_OK;
}

void mdsrec_state_free(mdsrec_state *s) {
    if (!s) return;
    free(s->acts_mem);
    free(s->cached);
    free(s->rows);
    free(s->hist);
    free(s->u);
    free(s->q);
    free(s->q8);
    free(s->luts);
    free(s->block);
    free(s->cand);
    free(s->excluded);
    free(s->allowed);
    free(s->cset);
    free(s->cfront);
    free(s->cc);
    free(s->cc_block);
    free(s->res_items);
    free(s->res_scores);
    free(s->res_shares);
    free(s);
}

/* ---------------------------------------------------------------- the forward pass */

/* Row i of channel c's item matrix as floats. */
static void item_row(const mdsrec_model *m, uint32_t c, uint32_t i, float *out) {
    size_t d = m->cfg.dim;
    const bundle_channel *ch = &m->view.ch[c];
    switch (m->cfg.item_dtype) {
    case MDSREC_F32:
        if (m->cfg.item_layout == MDSREC_LAYOUT_ROWS) {
            memcpy(out, (const float *)ch->items + (size_t)i * d, d * sizeof(float));
        } else {
            for (size_t j = 0; j < d; j++) out[j] = ((const float *)ch->items)[bundle_item_offset(&m->cfg, i, j)];
        }
        break;
    case MDSREC_F16: {
        const uint16_t *r = (const uint16_t *)ch->items + (size_t)i * d;
        for (size_t j = 0; j < d; j++) out[j] = half_to_float(r[j]);
        break;
    }
    case MDSREC_PQ: { /* each code's centroid, sub-space after sub-space */
        size_t M = m->cfg.pq_m, ds = d / M;
        const uint8_t *code = (const uint8_t *)ch->items + (size_t)i * M;
        for (size_t j = 0; j < M; j++)
            memcpy(out + j * ds, ch->pq_codebook + (j * BUNDLE_PQ_K + code[j]) * ds, ds * sizeof(float));
        break;
    }
    default: {
        const int8_t *r = (const int8_t *)ch->items + (size_t)i * d;
        float sc = ch->scales[i];
        for (size_t j = 0; j < d; j++) out[j] = sc * (float)r[j];
        break;
    }
    }
}

/* Encodes the history (n <= L items in s->hist) in every channel, fuses the channels with
   the gate, and leaves the gate-scaled visitor vectors in s->q (and s->q8 for i8). */
static void visitor_forward(const mdsrec_model *m, mdsrec_state *s, size_t n) {
    const mdsrec_config *cfg = &m->cfg;
    size_t d = cfg->dim, C = cfg->n_channels, L = cfg->max_len;

    /* the prefix cache: positions whose item (and so, attention being causal, whose states)
       are those of the last call are not computed again. A click appended to a history
       shorter than L recomputes one position; a history that slid (longer than L) or changed
       early recomputes from there. Position n-1 is always recomputed (it is where pooling
       reads, and costs one token). */
    size_t t0 = 0;
    while (t0 < n - 1 && t0 < s->cached_n && s->cached[t0] == s->hist[t0]) t0++;

    /* each channel on its own: item rows, encoder, pooled visitor vector u_c */
    for (size_t c = 0; c < C; c++) {
        channel_acts *a = &s->acts[c];
        for (size_t t = t0; t < n; t++) item_row(m, (uint32_t)c, s->hist[t], s->rows + t * d);
        channel_forward_from(cfg, &m->enc[c], s->rows, t0, n, 0, NULL, a);
        memcpy(s->u + c * d, a->u + (n - 1) * d, d * sizeof(float));

        /* the history item that carried this channel's interest: the largest pooling weight */
        if (cfg->pool_mode == MDSREC_POOL_NONE) {
            s->carriers[c] = s->hist[n - 1];
            s->carrier_w[c] = 1.0f;
        } else {
            const float *pa = a->pa + (n - 1) * L;
            size_t best = 0;
            for (size_t t = 1; t < n; t++)
                if (pa[t] > pa[best]) best = t;
            s->carriers[c] = s->hist[best];
            s->carrier_w[c] = pa[best];
        }
    }

    memcpy(s->cached, s->hist, n * sizeof(uint32_t));
    s->cached_n = n;

    /* fusion gate g = softmax(Wg [u_0..u_C-1] + bg), and q_c = g_c u_c */
    const float *wg = m->view.gate, *bg = m->view.gate + C * C * d;
    op_gate(s->gates, NULL, wg, bg, s->u, C, d);
    for (size_t c = 0; c < C; c++)
        for (size_t i = 0; i < d; i++) s->q[c * d + i] = s->gates[c] * s->u[c * d + i];

    /* pq items: q_c against every centroid of every sub-space, so scoring is table lookups */
    if (cfg->item_dtype == MDSREC_PQ) {
        size_t M = cfg->pq_m, ds = d / M;
        for (size_t c = 0; c < C; c++) {
            const float *cb = m->view.ch[c].pq_codebook;
            float *lut = s->luts + c * M * BUNDLE_PQ_K;
            for (size_t j = 0; j < M; j++) {
                const float *qj = s->q + c * d + j * ds;
                for (size_t k = 0; k < BUNDLE_PQ_K; k++) {
                    const float *ck = cb + (j * BUNDLE_PQ_K + k) * ds;
                    float t = 0.0f;
                    for (size_t e = 0; e < ds; e++) t += qj[e] * ck[e];
                    lut[j * BUNDLE_PQ_K + k] = t;
                }
            }
        }
    }

    /* i8 items: quantize q per channel too, so scoring stays in integer arithmetic */
    if (cfg->item_dtype == MDSREC_I8) {
        for (size_t c = 0; c < C; c++) {
            float mx = 0.0f;
            for (size_t i = 0; i < d; i++) mx = fmaxf(mx, fabsf(s->q[c * d + i]));
            float sc = mx / 127.0f;
            s->qscale[c] = sc;
            for (size_t i = 0; i < d; i++) {
                float v = sc > 0.0f ? s->q[c * d + i] / sc : 0.0f;
                long r = lrintf(v);
                s->q8[c * d + i] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
            }
        }
    }
}

/* ---------------------------------------------------------------- the history terms */

/* Adds the co-click term of history h[0..n) to s->cc: item i gets
   beta * sum_t decay^(n-1-t) w(h_t -> i) over the last max_hist clicks, newest first, from
   the COCLICK channel's neighbour lists (FORMAT.md). */
static void coclick_walk(const mdsrec_model *m, mdsrec_state *s, const uint32_t *h, size_t n) {
    const bundle_view *v = &m->view;
    const bundle_channel *c = &v->ch[v->coclick_channel];
    size_t t0 = n > v->coclick_max_hist ? n - v->coclick_max_hist : 0;
    float f = v->coclick_beta;
    for (size_t t = n; t-- > t0 && f > 0.0f; f *= v->coclick_decay) {
        uint32_t cnt = bundle_nb_count(c, h[t]);
        for (uint32_t j = 0; j < cnt; j++) {
            float w;
            uint32_t i = bundle_nb_get(c, h[t], j, &w);
            s->cc[i] += f * w;
            s->cc_block[i / SCORE_BLOCK] = 1;
        }
    }
}

/* The terms of a history in s->cc, the last call's cleared first (block by block: the whole
   history is not kept, and clearing costs at most N floats, less than one scoring pass):
   the co-click term of its last n clicks (s->hist[0..n)) and, with repeat, the repeat term of
   every click of history[0..len): REPEAT's weight once per click (FORMAT.md). The recommend
   calls that leave the history out skip the repeat term: those items are never returned. */
static void history_terms(const mdsrec_model *m, mdsrec_state *s, size_t n, const uint32_t *history, uint32_t len,
                          int repeat) {
    if (!s->cc) return;
    size_t blocks = m->cfg.n_items / SCORE_BLOCK + 1;
    for (size_t b = 0; b < blocks; b++)
        if (s->cc_block[b]) {
            size_t r0 = b * SCORE_BLOCK, r1 = r0 + SCORE_BLOCK < m->cfg.n_items ? r0 + SCORE_BLOCK : m->cfg.n_items;
            memset(s->cc + r0, 0, (r1 - r0) * sizeof(float));
            s->cc_block[b] = 0;
        }
    if (m->view.coclick_beta > 0) coclick_walk(m, s, s->hist, n);
    float w = m->view.repeat_weight;
    for (uint32_t t = 0; repeat && w != 0.0f && t < len; t++) {
        s->cc[history[t]] += w;
        s->cc_block[history[t] / SCORE_BLOCK] = 1;
    }
    s->cc_on = 1;
}

/* The channel whose share holds the history terms: COCLICK's, else the first. */
static uint32_t history_terms_channel(const mdsrec_model *m) {
    return m->view.coclick_beta > 0 ? m->view.coclick_channel : 0;
}

/* out[0..count) += the term of rows [row0, row0 + count), block by block where it has any. */
static void history_terms_add(const mdsrec_state *s, size_t row0, size_t count, float *out) {
    for (size_t r = row0; r < row0 + count;) {
        size_t end = (r / SCORE_BLOCK + 1) * SCORE_BLOCK;
        if (end > row0 + count) end = row0 + count;
        if (s->cc_block[r / SCORE_BLOCK])
            for (size_t i = r; i < end; i++) out[i - row0] += s->cc[i];
        r = end;
    }
}

/* score_rows for MDSREC_LAYOUT_PANEL16 (f32): whole panels through the panel kernel; rows of a
   partial panel (a single row for the winners' shares or an allow-list) gathered one at a
   time; the row-major tail past the last whole panel through score_f32. */
static void score_rows_panel(const mdsrec_model *m, const mdsrec_state *s, size_t c0, size_t nc,
                             size_t row0, size_t count, float *out) {
    size_t d = m->cfg.dim, P = MDSREC_PANEL, full = m->cfg.n_items - m->cfg.n_items % P;
    const float *mats[MDSREC_MAX_CHANNELS];
    for (size_t c = 0; c < nc; c++) mats[c] = m->view.ch[c0 + c].items;
    const float *q = s->q + c0 * d;
    size_t r = row0, end = row0 + count;
    while (r < end) {
        if (r >= full) { /* the row-major tail */
            m->k->score_f32(out + (r - row0), mats, q, nc, d, r, end - r);
            return;
        }
        size_t whole = (end < full ? end : full) - r;
        whole -= whole % P;
        if (r % P == 0 && whole) {
            m->k->score_f32_panel(out + (r - row0), mats, q, nc, d, r, whole);
            r += whole;
            continue;
        }
        float sum = 0.0f; /* one row inside a panel: its column j lies at stride P */
        for (size_t c = 0; c < nc; c++) {
            const float *p = mats[c] + bundle_item_offset(&m->cfg, r, 0);
            float t = 0.0f;
            for (size_t j = 0; j < d; j++) t += q[c * d + j] * p[j * P];
            sum += t;
        }
        out[r - row0] = sum;
        r++;
    }
}

/* Scores rows [row0, row0+count) of the channels [c0, c0+nc) into out. */
static void score_rows_model(const mdsrec_model *m, const mdsrec_state *s, size_t c0, size_t nc,
                             size_t row0, size_t count, float *out);

/* The scores of rows [row0, row0 + count) from channels [c0, c0 + nc): each channel's
   g_c <u_c, H_c[i]>, summed, plus the history terms (when the bundle has them) in the share of
   history_terms_channel, so that the shares still add up to the score. */
static void score_rows(const mdsrec_model *m, const mdsrec_state *s, size_t c0, size_t nc,
                       size_t row0, size_t count, float *out) {
    score_rows_model(m, s, c0, nc, row0, count, out);
    uint32_t cc = history_terms_channel(m);
    if (s->cc && s->cc_on && c0 <= cc && cc < c0 + nc) history_terms_add(s, row0, count, out);
}

static void score_rows_model(const mdsrec_model *m, const mdsrec_state *s, size_t c0, size_t nc,
                             size_t row0, size_t count, float *out) {
    size_t d = m->cfg.dim;
    if (m->cfg.item_layout == MDSREC_LAYOUT_PANEL16) {
        score_rows_panel(m, s, c0, nc, row0, count, out);
        return;
    }
    const void *mats[MDSREC_MAX_CHANNELS];
    const float *scales[MDSREC_MAX_CHANNELS];
    for (size_t c = 0; c < nc; c++) {
        mats[c] = m->view.ch[c0 + c].items;
        scales[c] = m->view.ch[c0 + c].scales;
        /* pq: the channel's lookup tables in the scales' place */
        if (s->luts) scales[c] = s->luts + (c0 + c) * m->cfg.pq_m * BUNDLE_PQ_K;
    }
    switch (m->cfg.item_dtype) {
    case MDSREC_F32:
        m->k->score_f32(out, (const float *const *)mats, s->q + c0 * d, nc, d, row0, count);
        break;
    case MDSREC_F16:
        m->k->score_f16(out, (const uint16_t *const *)mats, s->q + c0 * d, nc, d, row0, count);
        break;
    case MDSREC_PQ:
        m->k->score_pq(out, (const uint8_t *const *)mats, scales, nc, m->cfg.pq_m, row0, count);
        break;
    default:
        m->k->score_i8(out, (const int8_t *const *)mats, scales, s->q8 + c0 * d, s->qscale + c0, nc, d, row0, count);
        break;
    }
}

/* The last min(len, L) items of the history into s->hist; returns how many. */
static size_t take_history(const mdsrec_model *m, mdsrec_state *s, const uint32_t *history, uint32_t len) {
    size_t n = len < m->cfg.max_len ? len : m->cfg.max_len;
    memcpy(s->hist, history + (len - n), n * sizeof(uint32_t));
    return n;
}

static int indices_ok(const uint32_t *v, uint32_t len, uint32_t N) {
    if (len && !v) return 0;
    for (uint32_t i = 0; i < len; i++)
        if (v[i] >= N) return 0;
    return 1;
}

mdsrec_status mdsrec_score_all(const mdsrec_model *m, mdsrec_state *s, const uint32_t *history,
                               uint32_t history_len, float *scores) {
    if (!m || !s || !scores || s->model != m || history_len == 0 || m->head_only) return MDSREC_EARG;
    if (!indices_ok(history, history_len, m->cfg.n_items)) return MDSREC_EARG;
    size_t n = take_history(m, s, history, history_len);
    visitor_forward(m, s, n);
    history_terms(m, s, n, history, history_len, 1);
    size_t N = m->cfg.n_items;
    for (size_t row0 = 0; row0 < N; row0 += SCORE_BLOCK) {
        size_t cnt = N - row0 < SCORE_BLOCK ? N - row0 : SCORE_BLOCK;
        score_rows(m, s, 0, m->cfg.n_channels, row0, cnt, scores + row0);
    }
    return MDSREC_OK;
}

/* ---------------------------------------------------------------- recommend */

/* Empty history: the most popular eligible items. */
static void recommend_popular(const mdsrec_model *m, mdsrec_state *s, topk *t, int use_allow) {
    uint32_t N = m->cfg.n_items;
    for (uint32_t r = 0; r < N && t->count < t->cap; r++) {
        uint32_t i = m->view.popularity[r];
        if (bit_get(s->excluded, i) || (use_allow && !bit_get(s->allowed, i))) continue;
        /* popularity order is already best first: store directly, no heap needed */
        t->index[t->count] = i;
        t->score[t->count] = 1.0f - (float)r / (float)N;
        t->count++;
    }
}

/* One streaming pass over every item: score a block, let the SIMD threshold test reject
   most rows, offer the rest to the heap. */
static void recommend_scan(const mdsrec_model *m, mdsrec_state *s, topk *t) {
    size_t N = m->cfg.n_items, C = m->cfg.n_channels;
    for (size_t row0 = 0; row0 < N; row0 += SCORE_BLOCK) {
        size_t cnt = N - row0 < SCORE_BLOCK ? N - row0 : SCORE_BLOCK;
        score_rows(m, s, 0, C, row0, cnt, s->block);
        size_t nc = m->k->above(s->block, cnt, topk_threshold(t), s->cand);
        for (size_t j = 0; j < nc; j++) {
            uint32_t i = (uint32_t)row0 + s->cand[j];
            if (!bit_get(s->excluded, i)) topk_push(t, i, s->block[s->cand[j]]);
        }
    }
}

/* Allow-list: score only the allowed items (each once). Returns how many it scored. */
static uint32_t recommend_allowed(const mdsrec_model *m, mdsrec_state *s, topk *t, const uint32_t *allow, uint32_t len) {
    size_t C = m->cfg.n_channels;
    uint32_t distinct = 0;
    for (uint32_t j = 0; j < len; j++) {
        uint32_t i = allow[j];
        if (!bit_get(s->allowed, i)) continue; /* a duplicate, already scored */
        bit_clear(s->allowed, i);
        if (bit_get(s->excluded, i)) continue;
        distinct++;
        float sc;
        score_rows(m, s, 0, C, i, 1, &sc);
        topk_push(t, i, sc);
    }
    return distinct;
}

/* ---------------------------------------------------------------- candidate mode */

/* The rows to score with row i so that its score has the full scan's bits, as [*g0, *g1).
   The full scan scores blocks from multiples of SCORE_BLOCK, and the f32 row-major kernels
   take a block's rows four at a time from its start, the last N mod 4 alone, and a row's dot
   in a group of four is added in another order than alone: there i goes with its aligned
   group of four, as in the scan. Every other kernel adds each row alone in one order whatever
   its neighbours (kernels.h: i8, f16 and pq scores, and f32 rows inside the panels of
   MDSREC_LAYOUT_PANEL16, are the scalar reference's bits in every set), so i goes alone; the
   row-major tail past the last panel is grouped from its start, a multiple of 16. */
static void scan_group(const mdsrec_config *cfg, uint32_t i, uint32_t *g0, uint32_t *g1) {
    uint32_t N = cfg->n_items;
    if (cfg->item_dtype != MDSREC_F32 ||
        (cfg->item_layout == MDSREC_LAYOUT_PANEL16 && i < N - N % MDSREC_PANEL)) {
        *g0 = i, *g1 = i + 1;
        return;
    }
    *g0 = i & ~3u;
    *g1 = N - *g0 < 4 ? N : *g0 + 4;
}

typedef struct {
    uint32_t row0, end; /* the rows scored together: [row0, end), at most SCORE_BLOCK */
    uint32_t n;         /* candidates among them, in s->cand */
} cand_run;

/* Scores a run's rows in one call and offers its candidates to the top-k under the full
   scan's rule (in increasing index order, not excluded, above the threshold: so a NaN or
   -inf score is never taken, as there). */
static void run_flush(const mdsrec_model *m, mdsrec_state *s, topk *t, cand_run *r) {
    if (!r->n) return;
    score_rows(m, s, 0, m->cfg.n_channels, r->row0, r->end - r->row0, s->block);
    for (uint32_t j = 0; j < r->n; j++) {
        uint32_t i = s->cand[j];
        float sc = s->block[i - r->row0];
        if (sc > topk_threshold(t) && !bit_get(s->excluded, i)) topk_push(t, i, sc);
    }
    r->n = 0;
}

/* Scores the candidates marked in s->cset in increasing index order, clearing the map as it
   reads it. Candidates whose groups touch or overlap share one kernel call (a dense set then
   streams as the full scan does). */
static void recommend_set(const mdsrec_model *m, mdsrec_state *s, topk *t) {
    size_t words = candidates_words(m->cfg.n_items);
    cand_run r = {0, 0, 0};
    for (size_t w = 0; w < words; w++) {
        uint32_t bits = s->cset[w];
        if (!bits) continue;
        s->cset[w] = 0;
        while (bits) {
            uint32_t i = (uint32_t)w * 32 + (uint32_t)__builtin_ctz(bits), g0, g1;
            bits &= bits - 1;
            scan_group(&m->cfg, i, &g0, &g1);
            if (r.n && (g0 > r.end || g1 - r.row0 > SCORE_BLOCK)) run_flush(m, s, t, &r);
            if (!r.n) r.row0 = g0, r.end = g1;
            if (g1 > r.end) r.end = g1;
            s->cand[r.n++] = i;
        }
    }
    run_flush(m, s, t, &r);
}

mdsrec_status mdsrec_recommend(const mdsrec_model *m, mdsrec_state *s, const mdsrec_query *q,
                               mdsrec_result *out) {
    return mdsrec_recommend_candidates(m, s, q, NULL, out);
}

mdsrec_status mdsrec_recommend_candidates(const mdsrec_model *m, mdsrec_state *s, const mdsrec_query *q,
                                          const mdsrec_candidates *opts, mdsrec_result *out) {
    if (!m || !s || !q || !out || s->model != m || q->k == 0) return MDSREC_EARG;
    if (opts && opts->candidates && opts->hops > 2) return MDSREC_EARG;
    if (m->head_only && q->history_len) return MDSREC_EARG; /* no weights yet: popularity only */
    uint32_t N = m->cfg.n_items, C = m->cfg.n_channels;
    if (!indices_ok(q->history, q->history_len, N) || !indices_ok(q->exclude, q->exclude_len, N))
        return MDSREC_EARG;
    int use_allow = q->allow != NULL;
    if (use_allow && !indices_ok(q->allow, q->allow_len, N)) return MDSREC_EARG;

    /* exclusions and the allow-list as bitmaps, cleared again before returning */
    int skip_history = !(q->flags & MDSREC_INCLUDE_HISTORY);
    if (skip_history)
        for (uint32_t j = 0; j < q->history_len; j++) bit_set(s->excluded, q->history[j]);
    for (uint32_t j = 0; j < q->exclude_len; j++) bit_set(s->excluded, q->exclude[j]);
    if (use_allow)
        for (uint32_t j = 0; j < q->allow_len; j++) bit_set(s->allowed, q->allow[j]);

    topk t;
    topk_init(&t, q->k < N ? q->k : N, s->res_items, s->res_scores);
    size_t n = 0;
    uint32_t scored = 0;
    if (q->history_len == 0) {
        recommend_popular(m, s, &t, use_allow);
        memset(s->gates, 0, sizeof s->gates);
        memset(s->carrier_w, 0, sizeof s->carrier_w);
        for (uint32_t c = 0; c < C; c++) s->carriers[c] = MDSREC_NONE;
        memset(s->res_shares, 0, (size_t)t.count * C * sizeof(float));
    } else {
        n = take_history(m, s, q->history, q->history_len);
        visitor_forward(m, s, n);
        history_terms(m, s, n, q->history, q->history_len, !skip_history);
        if (use_allow) {
            scored = recommend_allowed(m, s, &t, q->allow, q->allow_len);
        } else if (opts && opts->candidates && candidates_available(&m->view)) {
            scored = candidates_mark(&m->view, s->hist, n, !skip_history, opts, s->cset, s->cfront);
            recommend_set(m, s, &t);
        } else {
            scored = N;
            recommend_scan(m, s, &t);
        }
        topk_finish(&t);
        /* each channel's share g_c <u_c, H_c[i]> of the winners' scores */
        for (uint32_t r = 0; r < t.count; r++)
            for (uint32_t c = 0; c < C; c++)
                score_rows(m, s, c, 1, s->res_items[r], 1, s->res_shares + (size_t)r * C + c);
    }

    /* leave the bitmaps clean for the next call */
    if (skip_history)
        for (uint32_t j = 0; j < q->history_len; j++) bit_clear(s->excluded, q->history[j]);
    for (uint32_t j = 0; j < q->exclude_len; j++) bit_clear(s->excluded, q->exclude[j]);
    if (use_allow)
        for (uint32_t j = 0; j < q->allow_len; j++) bit_clear(s->allowed, q->allow[j]);

    out->count = t.count;
    out->n_channels = C;
    out->items = s->res_items;
    out->scores = s->res_scores;
    out->shares = s->res_shares;
    out->gates = s->gates;
    out->carriers = s->carriers;
    out->carrier_weights = s->carrier_w;
    out->scored = scored;
    return MDSREC_OK;
}
