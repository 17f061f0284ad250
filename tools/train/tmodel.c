/* tmodel.c - parameter layout, initialisation and the item side of each channel (tmodel.h). */
#include "tmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "gemm.h"
#include "graph_content.h"
#include "src/kernels.h"
#include "src/rng.h"

static const char *const kind_names[] = {"mdsrec", "sasrec", "sasrecf", "pop", "itemknn"};

const char *tm_kind_name(uint32_t kind) { return kind < 5 ? kind_names[kind] : NULL; }

int tm_kind_parse(const char *name) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, kind_names[i])) return i;
    return -1;
}

void tm_layout(tm_spec *s) {
    const mdsrec_config *c = &s->cfg;
    size_t N = c->n_items, d = c->dim, o = 0;
    for (uint32_t k = 0; k < c->n_channels; k++) {
        tm_channel *ch = &s->ch[k];
        ch->o_emb = o;
        if (ch->has_emb) o += N * d;
        ch->o_w = o;
        o += (size_t)ch->feat_width * d;
        ch->o_b = o;
        if (ch->n_feat) o += d;
        if (k > 0 && s->shared_encoder) {
            ch->o_pos = s->ch[0].o_pos;
            ch->o_enc = s->ch[0].o_enc;
            ch->o_pool = s->ch[0].o_pool;
            continue;
        }
        ch->o_pos = o;
        o += (size_t)c->max_len * d;
        ch->o_enc = o;
        o += bundle_encoder_floats(c, k);
        ch->o_pool = o;
        o += bundle_pool_floats(c);
    }
    s->o_gate = o;
    o += (size_t)c->n_channels * c->n_channels * d + c->n_channels;
    s->n_params = o;
}

/* ---------------------------------------------------------------- initialisation */

/* Box-Muller from the splitmix64 stream: the same numbers on every platform (libm aside). */
static void normal(float *x, size_t n, float std, uint64_t *rng) {
    for (size_t i = 0; i < n; i++) {
        double u1 = ((double)(splitmix64(rng) >> 11) + 1.0) / 9007199254740993.0;
        double u2 = (double)(splitmix64(rng) >> 11) / 9007199254740992.0;
        x[i] = (float)(std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
}

static void ones(const float *p, size_t n) {
    float *x = (float *)p;
    for (size_t i = 0; i < n; i++) x[i] = 1.0f;
}

void tm_init(const tm_spec *s, float *p, uint64_t seed) {
    const mdsrec_config *c = &s->cfg;
    size_t N = c->n_items, d = c->dim, f = c->ffn_dim;
    uint64_t rng = seed ^ 0x6D64737265632121ull;
    memset(p, 0, s->n_params * sizeof(float));
    for (uint32_t k = 0; k < c->n_channels; k++) {
        const tm_channel *ch = &s->ch[k];
        if (ch->has_emb) normal(p + ch->o_emb, N * d, 0.02f, &rng);
        if (ch->n_feat) normal(p + ch->o_w, (size_t)ch->feat_width * d, 0.02f, &rng);
        if (k > 0 && s->shared_encoder) continue; /* channel 0's, initialised once */
        normal(p + ch->o_pos, (size_t)c->max_len * d, 0.02f, &rng);
        encoder_weights w;
        tm_encoder(s, p, k, &w);
        ones(w.ln_in_g, d);
        for (uint32_t b = 0; b < w.n_blocks; b++) {
            block_weights *bw = &w.blk[b];
            normal((float *)bw->wq, d * d, 0.02f, &rng);
            normal((float *)bw->wk, d * d, 0.02f, &rng);
            normal((float *)bw->wv, d * d, 0.02f, &rng);
            normal((float *)bw->wo, d * d, 0.02f, &rng);
            normal((float *)bw->w1, f * d, 0.02f, &rng);
            normal((float *)bw->w2, d * f, 0.02f, &rng);
            ones(bw->ln1_g, d);
            ones(bw->ln2_g, d);
        }
        if (c->pool_mode) {
            normal((float *)w.pwq, d * d, 0.02f, &rng);
            normal((float *)w.pwk, d * d, 0.02f, &rng);
            normal((float *)w.pwv, d * d, 0.02f, &rng);
            ones(w.pln_g, d);
            if (c->pool_mode == MDSREC_POOL_TOKEN) normal((float *)w.ptoken, d, 0.02f, &rng);
        }
    }
    normal(p + s->o_gate, (size_t)c->n_channels * c->n_channels * d, 0.02f, &rng);
}

void tm_encoder(const tm_spec *s, const float *p, uint32_t c, encoder_weights *w) {
    const tm_channel *ch = &s->ch[c];
    encoder_weights_map(&s->cfg, s->cfg.channels[c].n_blocks, p + ch->o_pos, p + ch->o_enc, s->cfg.pool_mode ? p + ch->o_pool : NULL, w);
}

/* Walks channel c's linear weights in a fixed order (blocks' wq wk wv wo w1 w2, then pooling's
   wq wk wv): for each, its weights, shape and the slot of its packed pointer in w. */
typedef struct {
    const float **src_w;
    const float **dst_p;
    size_t din, dout;
} lin_ref;

static size_t encoder_linears(const tm_spec *s, encoder_weights *w, lin_ref *out) {
    size_t d = s->cfg.dim, f = s->cfg.ffn_dim, n = 0;
    for (uint32_t b = 0; b < w->n_blocks; b++) {
        block_weights *bw = &w->blk[b];
        out[n++] = (lin_ref){&bw->wq, &bw->wq_p, d, d};
        out[n++] = (lin_ref){&bw->wk, &bw->wk_p, d, d};
        out[n++] = (lin_ref){&bw->wv, &bw->wv_p, d, d};
        out[n++] = (lin_ref){&bw->wo, &bw->wo_p, d, d};
        out[n++] = (lin_ref){&bw->w1, &bw->w1_p, d, f};
        out[n++] = (lin_ref){&bw->w2, &bw->w2_p, f, d};
    }
    if (w->pwq) {
        out[n++] = (lin_ref){&w->pwq, &w->pwq_p, d, d};
        out[n++] = (lin_ref){&w->pwk, &w->pwk_p, d, d};
        out[n++] = (lin_ref){&w->pwv, &w->pwv_p, d, d};
    }
    return n;
}

#define TM_MAX_LINEARS (6 * MDSREC_MAX_BLOCKS + 3)

int tm_packed_alloc(const tm_spec *s, tm_packed *pk) {
    /* each channel's copies one after another: its first float, once */
    static const float none; /* the shapes only: what tm_encoder maps, without parameters */
    size_t n = 0;
    for (uint32_t c = 0; c < s->cfg.n_channels; c++) {
        encoder_weights w;
        lin_ref ref[TM_MAX_LINEARS];
        memset(&w, 0, sizeof w);
        uint32_t nb = s->cfg.channels[c].n_blocks;
        w.n_blocks = nb < s->cfg.n_blocks ? nb : s->cfg.n_blocks;
        w.pwq = s->cfg.pool_mode != MDSREC_POOL_NONE ? &none : NULL;
        pk->off[c] = n;
        size_t m = encoder_linears(s, &w, ref);
        for (size_t i = 0; i < m; i++) n += linear_packed_floats(ref[i].din, ref[i].dout);
    }
    pk->floats = n;
    pk->buf = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64 + 64);
    return pk->buf ? 0 : -1;
}

/* tm_encoder with the packed pointers of channel c set in w (at pk's offsets) */
static void encoder_packed(const tm_spec *s, const float *params, const tm_packed *pk, uint32_t c, encoder_weights *w,
                           lin_ref *ref, size_t *n) {
    tm_encoder(s, params, c, w);
    *n = encoder_linears(s, w, ref);
    float *p = pk->buf + pk->off[c];
    for (size_t i = 0; i < *n; i++) {
        *ref[i].dst_p = p;
        p += linear_packed_floats(ref[i].din, ref[i].dout);
    }
}

void tm_pack(const tm_spec *s, const float *params, tm_packed *pk) {
    for (uint32_t c = 0; c < s->cfg.n_channels; c++) {
        encoder_weights w;
        lin_ref ref[TM_MAX_LINEARS];
        size_t n;
        encoder_packed(s, params, pk, c, &w, ref, &n);
        for (size_t i = 0; i < n; i++) linear_pack((float *)*ref[i].dst_p, *ref[i].src_w, ref[i].din, ref[i].dout);
    }
}

void tm_encoder_packed(const tm_spec *s, const float *params, const tm_packed *pk, uint32_t c, encoder_weights *w) {
    if (pk && pk->buf) {
        lin_ref ref[TM_MAX_LINEARS];
        size_t n;
        encoder_packed(s, params, pk, c, w, ref, &n);
    } else {
        tm_encoder(s, params, c, w);
    }
}

void tm_packed_free(tm_packed *pk) {
    free(pk->buf);
    pk->buf = NULL;
    pk->floats = 0;
}

/* ---------------------------------------------------------------- inputs */

/* A feature matrix with at most one non-zero in 8 also as CSR rows, with a width x d scratch;
   a denser one is left alone (sp->n_rows 0). 0, or -1 when out of memory. */
static int sparse_form(const float *f, size_t N, size_t width, size_t d, csr *sp, float **wt) {
    size_t nnz = 0;
    for (size_t i = 0; i < N * width; i++) nnz += f[i] != 0.0f;
    if (nnz * 8 > N * width || nnz >= UINT32_MAX) return 0;
    *wt = malloc(width * d * sizeof(float));
    if (!*wt || csr_alloc(sp, (uint32_t)N, (uint32_t)nnz)) {
        free(*wt);
        *wt = NULL;
        return -1;
    }
    uint32_t e = 0;
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < width; j++)
            if (f[i * width + j] != 0.0f) {
                sp->col[e] = (uint32_t)j;
                sp->w[e++] = f[i * width + j];
            }
        sp->row_ptr[i + 1] = e;
    }
    return 0;
}

int tm_inputs_bind(const tm_spec *s, const dataset *ds, const char *graph_dir, int content_only,
                   uint32_t knn_k, tm_inputs *in) {
    memset(in, 0, sizeof *in);
    size_t N = s->cfg.n_items;
    if (ds->n_items != N) {
        cli_error("%s: %u items, the model has %zu", ds->path, ds->n_items, N);
        return -1;
    }
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        const tm_channel *ch = &s->ch[k];
        if (ch->n_feat) {
            int idx[DS_MAX_FEATURES];
            uint32_t width = 0;
            for (uint32_t j = 0; j < ch->n_feat; j++) {
                idx[j] = dataset_feature(ds, ch->feat[j]);
                if (idx[j] < 0) {
                    cli_error("%s: no feature matrix named '%s'", ds->path, ch->feat[j]);
                    goto fail;
                }
                width += ds->feat[idx[j]].width;
            }
            if (width != ch->feat_width) {
                cli_error("%s: features of channel %s are %u wide, the model expects %u", ds->path,
                          s->cfg.channels[k].name, width, ch->feat_width);
                goto fail;
            }
            if (ch->n_feat == 1) {
                in->feat[k] = ds->feat[idx[0]].x;
            } else {
                float *cat = malloc(N * width * sizeof(float));
                if (!cat) {
                    cli_error("out of memory for the concatenated features");
                    goto fail;
                }
                for (size_t i = 0; i < N; i++) {
                    size_t o = 0;
                    for (uint32_t j = 0; j < ch->n_feat; j++) {
                        const feature_matrix *f = &ds->feat[idx[j]];
                        memcpy(cat + i * width + o, f->x + i * f->width, f->width * sizeof(float));
                        o += f->width;
                    }
                }
                in->feat[k] = in->feat_owned[k] = cat;
            }
        }
        if (in->feat[k] && sparse_form(in->feat[k], N, ch->feat_width, s->cfg.dim, &in->feat_sparse[k], &in->wt[k])) {
            cli_error("out of memory for the sparse features");
            goto fail;
        }
        if (ch->graph[0]) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", graph_dir ? graph_dir : ".", ch->graph);
            struct stat st;
            if (!content_only && graph_dir && stat(path, &st) == 0) {
                if (csr_read_rows(path, (uint32_t)N, &in->graph[k])) goto fail;
            } else if (in->feat[k]) {
                if (!content_only)
                    fprintf(stderr, "mdsrec %s: %s not found: building a content-only graph (k=%u)\n",
                            cli_command, path, knn_k);
                if (graph_content(in->feat[k], (uint32_t)N, ch->feat_width, knn_k, &in->graph[k])) goto fail;
            } else {
                cli_error("%s: not found, and channel %s has no features to build one", path, s->cfg.channels[k].name);
                goto fail;
            }
        }
    }
    return 0;
fail:
    tm_inputs_free(in);
    return -1;
}

void tm_inputs_densify(tm_inputs *in) {
    for (int k = 0; k < MDSREC_MAX_CHANNELS; k++) {
        csr_free(&in->feat_sparse[k]);
        free(in->wt[k]);
        in->wt[k] = NULL;
    }
}

void tm_inputs_free(tm_inputs *in) {
    tm_inputs_densify(in);
    for (int k = 0; k < MDSREC_MAX_CHANNELS; k++) {
        free(in->feat_owned[k]);
        csr_free(&in->graph[k]);
    }
    memset(in, 0, sizeof *in);
}

/* ---------------------------------------------------------------- item side */

/* out = A^T x (A square, n_rows x n_rows); out must not alias x. */
static void spmm_t(const csr *a, const float *x, float *out, size_t d) {
    memset(out, 0, (size_t)a->n_rows * d * sizeof(float));
    for (uint32_t r = 0; r < a->n_rows; r++) {
        const float *xr = x + (size_t)r * d;
        for (uint32_t e = a->row_ptr[r]; e < a->row_ptr[r + 1]; e++) {
            float *o = out + (size_t)a->col[e] * d, w = a->w[e];
            for (size_t j = 0; j < d; j++) o[j] += w * xr[j];
        }
    }
}

/* H = mean(X, A X, ..., A^K X), in place on x; t1, t2: N d scratch. transpose: use A^T
   (the backward of the forward's linear map). */
static void propagate(const csr *a, uint32_t K, float *x, float *t1, float *t2, size_t d, int transpose) {
    size_t nd = (size_t)a->n_rows * d;
    memcpy(t1, x, nd * sizeof(float));
    for (uint32_t r = 0; r < K; r++) {
        if (transpose)
            spmm_t(a, t1, t2, d);
        else
            csr_spmm(a, t1, t2, d);
        for (size_t i = 0; i < nd; i++) x[i] += t2[i];
        float *t = t1;
        t1 = t2;
        t2 = t;
    }
    float inv = 1.0f / (float)(K + 1);
    for (size_t i = 0; i < nd; i++) x[i] *= inv;
}

void tm_items_forward(const tm_spec *s, const tm_inputs *in, const float *p, float *H, float *scratch) {
    size_t N = s->cfg.n_items, d = s->cfg.dim;
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        const tm_channel *ch = &s->ch[k];
        float *h = H + (size_t)k * N * d;
        if (ch->has_emb)
            memcpy(h, p + ch->o_emb, N * d * sizeof(float));
        else
            memset(h, 0, N * d * sizeof(float));
        if (ch->has_emb && ch->n_feat && in->emb_keep)
            for (size_t i = 0; i < N; i++)
                if (!in->emb_keep[i]) memset(h + i * d, 0, d * sizeof(float));
        if (ch->n_feat && in->feat_sparse[k].n_rows) {
            /* X += F W^T over F's non-zeros: W (d, w) transposed once, so each is a row of d */
            const float *W = p + ch->o_w;
            float *wt = in->wt[k];
            const csr *f = &in->feat_sparse[k];
            for (size_t j = 0; j < d; j++)
                for (size_t c = 0; c < ch->feat_width; c++) wt[c * d + j] = W[j * ch->feat_width + c];
            for (size_t i = 0; i < N; i++)
                for (uint32_t e = f->row_ptr[i]; e < f->row_ptr[i + 1]; e++) {
                    const float *wr = wt + (size_t)f->col[e] * d, v = f->w[e];
                    for (size_t j = 0; j < d; j++) h[i * d + j] += v * wr[j];
                }
        } else if (ch->n_feat) {
            /* X += F W^T: (N, w) x (w, d) */
            gemm(0, 1, N, d, ch->feat_width, 1.0f, in->feat[k], ch->feat_width, p + ch->o_w, ch->feat_width,
                 1.0f, h, d);
        }
        if (ch->n_feat) {
            const float *b = p + ch->o_b;
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < d; j++) h[i * d + j] += b[j];
        }
        if (in->graph[k].n_rows) propagate(&in->graph[k], s->prop_k, h, scratch, scratch + N * d, d, 0);
    }
}

void tm_items_backward(const tm_spec *s, const tm_inputs *in, float *dH, float *g, float *scratch) {
    size_t N = s->cfg.n_items, d = s->cfg.dim;
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        const tm_channel *ch = &s->ch[k];
        float *dh = dH + (size_t)k * N * d;
        if (in->graph[k].n_rows) propagate(&in->graph[k], s->prop_k, dh, scratch, scratch + N * d, d, 1);
        if (ch->has_emb) {
            float *ge = g + ch->o_emb;
            const uint8_t *keep = ch->n_feat ? in->emb_keep : NULL;
            for (size_t i = 0; i < N; i++)
                if (!keep || keep[i])
                    for (size_t j = 0; j < d; j++) ge[i * d + j] += dh[i * d + j];
        }
        if (ch->n_feat && in->feat_sparse[k].n_rows) {
            /* dW^T (w, d) = F^T dX over F's non-zeros, then added to dW (d, w) */
            float *wt = in->wt[k], *gw = g + ch->o_w;
            const csr *f = &in->feat_sparse[k];
            memset(wt, 0, ch->feat_width * d * sizeof(float));
            for (size_t i = 0; i < N; i++)
                for (uint32_t e = f->row_ptr[i]; e < f->row_ptr[i + 1]; e++) {
                    float *wr = wt + (size_t)f->col[e] * d, v = f->w[e];
                    for (size_t j = 0; j < d; j++) wr[j] += v * dh[i * d + j];
                }
            for (size_t j = 0; j < d; j++)
                for (size_t c = 0; c < ch->feat_width; c++) gw[j * ch->feat_width + c] += wt[c * d + j];
        } else if (ch->n_feat) {
            /* dW (d, w) += dX^T F */
            gemm(1, 0, d, ch->feat_width, N, 1.0f, dh, d, in->feat[k], ch->feat_width, 1.0f, g + ch->o_w,
                 ch->feat_width);
        }
        if (ch->n_feat) {
            /* db += column sums of dX */
            float *gb = g + ch->o_b;
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < d; j++) gb[j] += dh[i * d + j];
        }
    }
}
