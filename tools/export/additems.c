/* additems.c - rows of new items from their features (additems.h). */
#include "export/additems.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/keymap.h"
#include "export/content_topk.h"
#include "export/id_map.h"
#include "train/gemm.h"


/* Copies rows (n x w) scaled to unit norm (zero rows stay zero): the cosine is a dot product. */
static float *unit_rows(const float *x, size_t n, size_t w) {
    float *y = malloc((n * w + 1) * sizeof(float));
    if (!y) return NULL;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < w; j++) s += (double)x[i * w + j] * x[i * w + j];
        float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (size_t j = 0; j < w; j++) y[i * w + j] = x[i * w + j] * inv;
    }
    return y;
}

/* One channel's concatenated features of the new items, in the model's order. */
static float *new_features(const tm_channel *ch, const char *cname, const additems_input *in) {
    float *f = malloc(((size_t)in->n * ch->feat_width + 1) * sizeof(float));
    if (!f) {
        cli_error("out of memory");
        return NULL;
    }
    size_t o = 0;
    for (uint32_t j = 0; j < ch->n_feat; j++) {
        const feature_matrix *fm = NULL;
        for (uint32_t q = 0; q < in->n_feat; q++)
            if (!strcmp(in->feat[q]->name, ch->feat[j])) fm = in->feat[q];
        if (!fm) {
            cli_error("channel %s needs the feature \"%s\" for the new items: none given", cname, ch->feat[j]);
            free(f);
            return NULL;
        }
        if (o + fm->width > ch->feat_width) {
            cli_error("feature \"%s\" of the new items is %u wide: the model's channel %s takes %u in all", fm->name,
                      fm->width, cname, ch->feat_width);
            free(f);
            return NULL;
        }
        for (size_t i = 0; i < in->n; i++)
            memcpy(f + i * ch->feat_width + o, fm->x + i * fm->width, fm->width * sizeof(float));
        o += fm->width;
    }
    if (o != ch->feat_width) {
        cli_error("the new items' features of channel %s are %zu wide, the model expects %u", cname, o,
                  ch->feat_width);
        free(f);
        return NULL;
    }
    return f;
}

/* X (N x d) = the training items' inputs to propagation: F W^T + b (+ E). */
static void project_all(const tm_channel *ch, const float *params, const float *feat, size_t N, size_t d, float *X) {
    if (ch->has_emb)
        memcpy(X, params + ch->o_emb, N * d * sizeof(float));
    else
        memset(X, 0, N * d * sizeof(float));
    gemm(0, 1, N, d, ch->feat_width, 1.0f, feat, ch->feat_width, params + ch->o_w, ch->feat_width, 1.0f, X, d);
    const float *b = params + ch->o_b;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < d; j++) X[i * d + j] += b[j];
}

typedef struct {
    uint32_t *idx; /* per new item: up to C * k training items, their weight below */
    float *w;
    uint32_t *cnt, cap;
} id_mix;

/* One modality channel: neighbours, projection, propagation. */
static int feature_channel(const loaded_model *m, uint32_t c, const additems_input *in, const uint32_t *bidx,
                           const uint8_t *keep, additems_params *p, edit_append *a, id_mix *mix, uint32_t n_modal) {
    const tm_spec *s = &m->st->spec;
    const tm_channel *ch = &s->ch[c];
    size_t N = s->cfg.n_items, d = s->cfg.dim, n = in->n, W = ch->feat_width, k = p->k;
    const char *cname = s->cfg.channels[c].name;
    int rc = -1;
    float *fn = new_features(ch, cname, in);
    float *fn_u = fn ? unit_rows(fn, n, W) : NULL, *ft_u = fn_u ? unit_rows(m->in.feat[c], N, W) : NULL;
    uint32_t *top = malloc((n * k + 1) * sizeof(uint32_t)), *cnt = malloc((n + 1) * sizeof(uint32_t));
    float *sim = malloc((n * k + 1) * sizeof(float));
    float *X = NULL, *P = NULL;
    if (!fn || !fn_u || !ft_u || !sim || !top || !cnt || csr_alloc(&a->nb[c], (uint32_t)n, (uint32_t)(n * k))) goto oom;
    double t0 = cli_now();
    csr *nb = &a->nb[c];
    if (content_topk(fn_u, n, ft_u, N, W, keep, (uint32_t)k, p->threads, top, sim, cnt)) goto oom;
    for (size_t i = 0; i < n; i++) {
        uint32_t e = nb->row_ptr[i];
        for (uint32_t t = 0; t < cnt[i]; t++, e++) {
            nb->col[e] = top[i * k + t]; /* a training item for now; the bundle index at the end */
            nb->w[e] = sim[i * k + t];
        }
        nb->row_ptr[i + 1] = e;
        if (!cnt[i]) p->without[c]++;
    }
    nb->nnz = nb->row_ptr[n];
    p->seconds_knn += cli_now() - t0;
    t0 = cli_now();

    /* x = W f + b (+ the neighbours' embeddings), then the K rounds over the new edges */
    float *rows = a->rows[c];
    gemm(0, 1, n, d, W, 1.0f, fn, W, m->params + ch->o_w, W, 0.0f, rows, d);
    const float *bias = m->params + ch->o_b;
    uint32_t K = m->in.graph[c].n_rows ? s->prop_k : 0;
    if (K || ch->has_emb) {
        if (!(X = malloc(N * d * sizeof(float))) || !(P = malloc(N * d * sizeof(float)))) goto oom;
    }
    for (size_t i = 0; i < n; i++) {
        float *r = rows + i * d;
        for (size_t j = 0; j < d; j++) r[j] += bias[j];
        double sum = 0;
        for (uint32_t e = nb->row_ptr[i]; e < nb->row_ptr[i + 1]; e++) sum += nb->w[e];
        for (uint32_t e = nb->row_ptr[i]; e < nb->row_ptr[i + 1]; e++) {
            float ak = (float)(nb->w[e] / sum);
            if (ch->has_emb && !p->emb_zero) {
                const float *E = m->params + ch->o_emb + (size_t)nb->col[e] * d;
                for (size_t j = 0; j < d; j++) r[j] += ak * E[j];
            }
            /* the id channel's mix: this channel's share of the content neighbours */
            uint32_t q = mix->cnt[i]++;
            mix->idx[(size_t)i * mix->cap + q] = nb->col[e];
            mix->w[(size_t)i * mix->cap + q] = ak / (float)n_modal;
        }
    }
    if (K) {
        project_all(ch, m->params, m->in.feat[c], N, d, X);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) rows[i * d + j] /= (float)(K + 1);
        for (uint32_t round = 0; round < K; round++) {
            /* X holds A^round of the training projections */
            for (size_t i = 0; i < n; i++) {
                double sum = 0;
                for (uint32_t e = nb->row_ptr[i]; e < nb->row_ptr[i + 1]; e++) sum += nb->w[e];
                for (uint32_t e = nb->row_ptr[i]; e < nb->row_ptr[i + 1]; e++) {
                    float ak = (float)(nb->w[e] / sum) / (float)(K + 1);
                    const float *xk = X + (size_t)nb->col[e] * d;
                    for (size_t j = 0; j < d; j++) rows[i * d + j] += ak * xk[j];
                }
            }
            if (round + 1 < K) {
                csr_spmm(&m->in.graph[c], X, P, d);
                float *t = X;
                X = P;
                P = t;
            }
        }
    }
    if (s->cfg.channels[c].kind == MDSREC_CHANNEL_ID) {
        /* the id channel with features (--id-features, the default since session 10): its
           graph is the behaviour graph, where a new item has no edge yet. As an isolated node
           it would get x / (K + 1), shorter than a trained row, and never rank; its
           content neighbours stand in for the items it will be bought with instead (the
           propagation above ran over them), and its "bought together" list stays empty */
        for (size_t i = 0; i <= n; i++) nb->row_ptr[i] = 0;
        nb->nnz = 0;
    }
    for (uint32_t e = 0; e < nb->nnz; e++) nb->col[e] = bidx[nb->col[e]];
    p->seconds_rows += cli_now() - t0;
    rc = 0;
    goto done;
oom:
    if (fn) cli_error("channel %s: out of memory", cname);
done:
    free(fn);
    free(fn_u);
    free(ft_u);
    free(sim);
    free(top);
    free(cnt);
    free(X);
    free(P);
    return rc;
}

/* The id rows of the new items (additems.h, additems_id_rule) from the bundle's id rows H
   (nb x d) and each new item's weighted content neighbours in mix. -1: out of memory. */
static int id_rows(const float *H, uint32_t nb, size_t d, const uint32_t *bidx, const id_mix *mix, size_t n,
                   additems_id_rule rule, float *out) {
    double *mu = calloc(d, sizeof(double)), *r = malloc(d * sizeof(double));
    if (!mu || !r) {
        free(mu);
        free(r);
        return -1;
    }
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < d; j++) mu[j] += H[i * d + j];
    for (size_t j = 0; j < d; j++) mu[j] /= nb ? nb : 1;
    for (size_t i = 0; i < n; i++) {
        float *o = out + i * d;
        double sum = 0;
        for (uint32_t q = 0; q < mix->cnt[i]; q++) sum += mix->w[i * mix->cap + q];
        /* CENTRED: the neighbours' deviations from the rows' centre are what tells this item
           apart, the centre is what every item shares (it must not be amplified below) */
        const double *centre = rule == ADDITEMS_ID_CENTRED || rule == ADDITEMS_ID_CENTRE ? mu : NULL;
        double spread = 0, n2 = 0;
        for (size_t j = 0; j < d; j++) r[j] = 0;
        for (uint32_t q = 0; q < mix->cnt[i]; q++) {
            double w = mix->w[i * mix->cap + q] / sum, hn = 0;
            const float *h = H + (size_t)bidx[mix->idx[i * mix->cap + q]] * d;
            for (size_t j = 0; j < d; j++) {
                double x = h[j] - (centre ? centre[j] : 0);
                r[j] += w * x;
                hn += x * x;
            }
            spread += w * sqrt(hn);
        }
        for (size_t j = 0; j < d; j++) n2 += r[j] * r[j];
        /* a mean of k rows pointing different ways is shorter than they are: SCALED and
           CENTRED give it their (weighted mean) length back */
        double scale = (rule == ADDITEMS_ID_SCALED || rule == ADDITEMS_ID_CENTRED) && n2 > 0 ? spread / sqrt(n2) : 1.0;
        if (rule == ADDITEMS_ID_CENTRE) scale = 0; /* the centre alone */
        if (rule == ADDITEMS_ID_ZERO) scale = 0, centre = NULL;
        for (size_t j = 0; j < d; j++) o[j] = (float)((centre ? centre[j] : 0) + r[j] * scale);
    }
    free(mu);
    free(r);
    return 0;
}

int additems_rows(const loaded_model *m, const edit_bundle *b, const additems_input *in, additems_params *p,
                  edit_append *a) {
    const tm_spec *s = &m->st->spec;
    size_t N = s->cfg.n_items, d = s->cfg.dim, C = s->cfg.n_channels, n = in->n;
    memset(a, 0, sizeof *a);
    memset(p->without, 0, sizeof p->without);
    p->seconds_knn = p->seconds_rows = 0;
    if (!p->k) p->k = 10;
    if (b->cfg.n_channels != C || b->cfg.dim != d) {
        cli_error("the bundle has %u channels of %u, the model %zu of %zu: not the model's bundle", b->cfg.n_channels,
                  b->cfg.dim, C, d);
        return -1;
    }
    uint32_t n_modal = 0;
    for (uint32_t c = 0; c < C; c++) {
        if (strcmp(b->cfg.channels[c].name, s->cfg.channels[c].name)) {
            cli_error("the bundle's channel %u is \"%s\", the model's \"%s\": not the model's bundle", c,
                      b->cfg.channels[c].name, s->cfg.channels[c].name);
            return -1;
        }
        n_modal += s->ch[c].n_feat > 0;
    }
    if (!n_modal) {
        cli_error("the model has no content channel: a new item's features cannot place it (train with features)");
        return -1;
    }
    int rc = -1;
    keymap km;
    keymap_init(&km);
    uint32_t *bidx = malloc(N * sizeof *bidx);
    uint8_t *keep = malloc(N + 1); /* training items still in the bundle (not retired) */
    id_mix mix = {0};
    mix.cap = n_modal * p->k;
    mix.idx = malloc((n * mix.cap + 1) * sizeof(uint32_t));
    mix.w = malloc((n * mix.cap + 1) * sizeof(float));
    mix.cnt = calloc(n ? n : 1, sizeof(uint32_t));
    if (!bidx || !keep || !mix.idx || !mix.w || !mix.cnt) goto oom;
    for (uint32_t i = 0; i < b->cfg.n_items; i++)
        if (keymap_add(&km, b->keys[i], NULL) == UINT32_MAX) goto oom;
    for (size_t i = 0; i < N; i++) keep[i] = (bidx[i] = keymap_find(&km, m->ds.item_keys[i])) != UINT32_MAX;
    a->n = (uint32_t)n;
    a->keys = in->keys;
    for (uint32_t c = 0; c < C; c++)
        if (!(a->rows[c] = calloc(n * d + 1, sizeof(float)))) goto oom;
    for (uint32_t c = 0; c < C; c++)
        if (s->ch[c].n_feat && feature_channel(m, c, in, bidx, keep, p, a, &mix, n_modal)) goto fail;
    /* channels without features (id): from the content neighbours' rows (additems.h) */
    double t_id = cli_now();
    const float *Xb[MDSREC_MAX_CHANNELS], *Xn[MDSREC_MAX_CHANNELS];
    uint32_t n_in = 0;
    for (uint32_t c = 0; c < C; c++)
        if (s->ch[c].n_feat) Xb[n_in] = b->items[c], Xn[n_in++] = a->rows[c];
    for (uint32_t c = 0; c < C; c++) {
        if (s->ch[c].n_feat) continue;
        if (p->id_rule == ADDITEMS_ID_REGRESS) {
            id_map map;
            if (id_map_fit(&map, Xb, n_in, b->cfg.n_items, (uint32_t)d, b->items[c], -1)) goto oom;
            p->id_ridge = map.ridge;
            id_map_apply(&map, Xn, n, a->rows[c]);
            id_map_free(&map);
            for (size_t i = 0; i < n; i++) p->without[c] += !mix.cnt[i];
            continue;
        }
        if (id_rows(b->items[c], b->cfg.n_items, d, bidx, &mix, n, p->id_rule, a->rows[c])) goto oom;
        for (size_t i = 0; i < n; i++) p->without[c] += !mix.cnt[i];
    }
    p->seconds_rows += cli_now() - t_id;
    rc = 0;
    goto done;
oom:
    cli_error("out of memory adding %zu items", n);
fail:
    additems_free(a);
done:
    keymap_free(&km);
    free(bidx);
    free(keep);
    free(mix.idx);
    free(mix.w);
    free(mix.cnt);
    return rc;
}

void additems_free(edit_append *a) {
    for (int c = 0; c < MDSREC_MAX_CHANNELS; c++) {
        free(a->rows[c]);
        csr_free(&a->nb[c]);
    }
    a->rows[0] = NULL;
    memset(a, 0, sizeof *a);
}
