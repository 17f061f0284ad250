/* step.c - one training step, forward and backward (step.h). */
#include "step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backward.h"
#include "gemm.h"
#include "item_rows.h"
#include "parallel.h"
#include "softmax.h"
#include "src/ops.h"
#include "src/rng.h"

#define SCORE_CHUNK 512 /* positions scored at once: SCORE_CHUNK x N floats of logits */
#define JOINT_BYTES ((size_t)256 << 20) /* the joint scoring's logits, at most (32 rows at least) */

typedef struct {
    float *grads;        /* n_params: this thread's encoder and gate gradients */
    float *arena;        /* activations of this thread's windows */
    size_t arena_cap;
    float *scratch;      /* backward scratch */
    float *rows;         /* (L, d) item rows of one window */
    float *du;           /* (L, d) */
} worker;

struct step_ctx {
    const tm_spec *s;
    const tm_inputs *in;
    float p_hidden, p_attn;
    step_fusion fu;
    step_loss lo;
    int threads;
    size_t max_windows;
    worker wk[PARALLEL_MAX_THREADS];
    tm_packed pk;  /* the encoders' linear weights packed, once a step (tmodel.h) */
    float *H, *Hcat, *dHcat, *dH, *items_scratch;
    /* per batch, rows = positions */
    size_t cap_rows;
    float *U;      /* (R, |C| d) visitor vectors u^c */
    float *G;      /* (R, |C|) gates */
    float *V;      /* (R, |C| d) g_c u^c */
    float *dV;     /* (R, |C| d) */
    float *dUa;    /* (R, |C| d) gradient on U from the per-channel auxiliary losses */
    float *drows;  /* (R, |C| d) gradient on the item rows */
    float *logits; /* (SCORE_CHUNK, N) */
    /* the joint full scoring (joint_scoring()): every channel's logits Z_k = U_k H_k^T, from
       which the fused logits are their gated sum, so the auxiliary losses cost no extra sgemm */
    float *zk;     /* (C, chunk_cap, N), allocated with the rows */
    float *dG;     /* (R, |C|) gradient on the gates */
    size_t chunk_cap; /* positions scored at once */
    uint32_t *target;
    size_t *row0;  /* first row of each window */
    size_t *act0;  /* each window's offset in its thread's arena */
    double *loss_part;
    /* sampled softmax (step_loss.negatives = K > 0) */
    double *pop_cdf;  /* N: cumulative sampling weights (STEP_NEG_POPULAR) */
    float *item_lq;   /* N: log(K q_i), the logQ correction of item i */
    uint32_t *cand;   /* K negatives of the batch */
    uint8_t *emb_keep; /* N: step_fusion.emb_drop's draw for the batch in flight */
    float *Hs, *dHs;  /* (K, |C| d): their rows of Hcat, and the gradient on those rows */
    size_t ns;          /* negatives drawn per batch: step_loss.negatives, else aux_negatives */
    size_t logits_cols; /* row stride of logits: max(N, K + 1) */
    /* the scoring pass in flight: rows A (stride |C| d, `width` columns from column `off`),
       scored against Hcat's columns off..off+width; dA written, weighted by `weight` */
    const float *sa_A;
    float *sa_dA;
    size_t sa_width, sa_off;
    float sa_weight;
    /* the batch in flight */
    const float *params;
    const step_window *w;          /* this part's windows */
    const step_window *batch_w;    /* the whole batch (its negatives) */
    size_t count, nrows, chunk0, chunk_rows, batch_count;
    size_t norm;                   /* positions of the whole batch: each term's divisor */
    int oom;
    /* sampled softmax reads H at a few rows only: the item side runs on those (item_rows.h) */
    item_rows rows_set;
    int rows_off;    /* step_set_item_rows(c, 0): the item side over all N rows */
};

/* The config a window of n positions runs with: activations laid out at their own length. */
static mdsrec_config cfg_n(const mdsrec_config *c, size_t n) {
    mdsrec_config x = *c;
    x.max_len = (uint32_t)n;
    return x;
}

static size_t acts_floats(const step_ctx *c, size_t n) {
    mdsrec_config x = cfg_n(&c->s->cfg, n);
    return channel_acts_floats(&x, c->p_hidden > 0 || c->p_attn > 0);
}

step_ctx *step_new(const tm_spec *s, const tm_inputs *in, size_t max_windows, float p_hidden, float p_attn,
                   int threads) {
    step_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    threads = parallel_clamp(threads);
    c->s = s;
    c->in = in;
    c->p_hidden = p_hidden;
    c->p_attn = p_attn;
    c->threads = threads;
    c->max_windows = max_windows;
    size_t N = s->cfg.n_items, d = s->cfg.dim, C = s->cfg.n_channels, L = s->cfg.max_len;
    int ok = 1;
    for (int t = 0; t < threads; t++) {
        worker *w = &c->wk[t];
        w->grads = calloc(s->n_params, sizeof(float));
        w->scratch = malloc(channel_bwd_scratch_floats(&s->cfg) * sizeof(float));
        w->rows = malloc(L * d * sizeof(float));
        w->du = malloc(L * d * sizeof(float));
        ok &= w->grads && w->scratch && w->rows && w->du;
    }
    c->H = malloc(C * N * d * sizeof(float));
    c->Hcat = malloc(C * N * d * sizeof(float));
    c->dHcat = malloc(C * N * d * sizeof(float));
    c->dH = malloc(C * N * d * sizeof(float));
    c->items_scratch = malloc(2 * N * d * sizeof(float));
    c->logits_cols = N;
    c->logits = malloc((size_t)SCORE_CHUNK * N * sizeof(float));
    /* the joint scoring holds C + 1 chunks of N logits: at most about JOINT_BYTES of them */
    c->chunk_cap = JOINT_BYTES / ((C + 1) * N * sizeof(float));
    c->chunk_cap = c->chunk_cap < 32 ? 32 : c->chunk_cap > SCORE_CHUNK ? SCORE_CHUNK : c->chunk_cap;
    c->row0 = malloc((max_windows + 1) * sizeof(size_t));
    c->act0 = malloc((max_windows + 1) * sizeof(size_t));
    c->loss_part = malloc(PARALLEL_MAX_THREADS * sizeof(double));
    ok &= c->H && c->Hcat && c->dHcat && c->dH && c->items_scratch && c->logits && c->row0 && c->act0 && c->loss_part;
    ok &= tm_packed_alloc(s, &c->pk) == 0;
    if (!ok) {
        step_free(c);
        return NULL;
    }
    return c;
}

void step_set_item_rows(step_ctx *c, int on) { c->rows_off = !on; }

void step_set_fusion(step_ctx *c, const step_fusion *f) {
    c->fu = *f;
    c->cap_rows = 0; /* dUa, dG and zk are allocated with the rows */
}

/* emb_keep for the batch: each item dropped with probability p, from a hash of the batch's
   window seeds (as its negatives), so every part of a batch (and every MPI rank, and a resumed
   run) draws the same. 0, or -1 when out of memory. */
static int draw_emb_keep(step_ctx *c) {
    size_t N = c->s->cfg.n_items;
    if (!c->emb_keep && !(c->emb_keep = malloc(N))) return -1;
    uint64_t x = 0x9E3779B97F4A7C15ull ^ (uint64_t)c->batch_count;
    for (size_t i = 0; i < c->batch_count; i++) {
        x ^= c->batch_w[i].seed;
        (void)splitmix64(&x);
    }
    double p = c->fu.emb_drop;
    for (size_t i = 0; i < N; i++) {
        uint64_t r = splitmix64(&x);
        c->emb_keep[i] = (double)(r >> 11) / 9007199254740992.0 >= p;
    }
    return 0;
}

int step_set_loss(step_ctx *c, const step_loss *l, const uint32_t *counts) {
    size_t N = c->s->cfg.n_items, cd = (size_t)c->s->cfg.n_channels * c->s->cfg.dim;
    size_t K = l->negatives ? l->negatives : l->aux_negatives;
    if (K >= (1u << 24) || l->aux_negatives >= (1u << 24) || !(l->label_smoothing >= 0 && l->label_smoothing < 1) ||
        l->sampler > STEP_NEG_POPULAR || (K && l->sampler == STEP_NEG_POPULAR && !counts))
        return -1;
    free(c->pop_cdf); free(c->item_lq); free(c->cand); free(c->Hs); free(c->dHs);
    c->pop_cdf = NULL; c->item_lq = NULL; c->cand = NULL; c->Hs = NULL; c->dHs = NULL;
    c->lo = *l;
    c->ns = K;
    c->cap_rows = 0; /* whether the scoring is joint may change: reallocate with the rows */
    if (!K) return 0;
    size_t cols = K + 1 > N ? K + 1 : N;
    float *lg = realloc(c->logits, (size_t)SCORE_CHUNK * cols * sizeof(float));
    if (!lg) return -1;
    c->logits = lg;
    c->logits_cols = cols;
    c->item_lq = malloc(N * sizeof(float));
    c->cand = malloc(K * sizeof(uint32_t));
    c->Hs = malloc(K * cd * sizeof(float));
    c->dHs = malloc(K * cd * sizeof(float));
    if (l->sampler == STEP_NEG_POPULAR) c->pop_cdf = malloc(N * sizeof(double));
    int rows_fail = l->negatives && !c->rows_set.n_items && item_rows_init(&c->rows_set, c->s);
    c->rows_set.threads = c->threads;
    if (!c->item_lq || !c->cand || !c->Hs || !c->dHs || (l->sampler == STEP_NEG_POPULAR && !c->pop_cdf) || rows_fail) {
        c->lo.negatives = c->lo.aux_negatives = 0;
        c->ns = 0;
        return -1;
    }
    if (l->sampler == STEP_NEG_POPULAR) {
        /* 1 + count: an item never seen in training can still be drawn, and its logQ is finite */
        double total = 0;
        for (size_t i = 0; i < N; i++) total += 1.0 + counts[i];
        double acc = 0;
        for (size_t i = 0; i < N; i++) {
            acc += 1.0 + counts[i];
            c->pop_cdf[i] = acc / total;
            c->item_lq[i] = (float)log((double)K * (1.0 + counts[i]) / total);
        }
        c->pop_cdf[N - 1] = 1.0;
    } else {
        /* uniform: one constant, which cancels in the softmax; kept so both samplers run the same code */
        for (size_t i = 0; i < N; i++) c->item_lq[i] = (float)log((double)K / (double)N);
    }
    return 0;
}

/* The batch's K negatives, from a hash of its windows' seeds. */
static void draw_negatives(step_ctx *c) {
    size_t N = c->s->cfg.n_items, K = c->ns;
    uint64_t x = 0x5DEECE66Dull ^ (uint64_t)c->batch_count;
    for (size_t i = 0; i < c->batch_count; i++) {
        x ^= c->batch_w[i].seed;
        (void)splitmix64(&x);
    }
    for (size_t j = 0; j < K; j++) {
        uint64_t r = splitmix64(&x);
        uint32_t item;
        if (c->pop_cdf) { /* the first item whose cumulative weight passes u */
            double u = (double)(r >> 11) / 9007199254740992.0;
            size_t a = 0, b = N - 1;
            while (a < b) {
                size_t m = a + (b - a) / 2;
                if (c->pop_cdf[m] > u) b = m; else a = m + 1;
            }
            item = (uint32_t)a;
        } else {
            item = (uint32_t)(r % N);
        }
        c->cand[j] = item;
    }
}

/* Their rows of Hcat. */
static void gather_negatives(step_ctx *c) {
    size_t cd = (size_t)c->s->cfg.n_channels * c->s->cfg.dim;
    for (size_t j = 0; j < c->ns; j++) memcpy(c->Hs + j * cd, c->Hcat + (size_t)c->cand[j] * cd, cd * sizeof(float));
}

/* keep[k] = 1 or 0: each channel left out with probability p, independently, from the window's
   own stream (a resumed run draws the same), and every channel of `out` (step_fusion.force_out)
   left out; at least one of the others is always kept. */
static void channel_mask(float p, size_t C, uint32_t out, uint64_t seed, float *keep) {
    uint64_t z = seed ^ 0xC2B2AE3D27D4EB4Full;
    size_t kept = 0, free_n = 0;
    size_t free_k[MDSREC_MAX_CHANNELS];
    for (size_t k = 0; k < C; k++) {
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        keep[k] = p > 0 && (double)(z >> 11) / 9007199254740992.0 < p ? 0.0f : 1.0f;
        if (out >> k & 1) keep[k] = 0.0f;
        else free_k[free_n++] = k;
        kept += keep[k] > 0;
    }
    /* (without `out` the same draw as before it existed) */
    if (!kept && free_n) keep[free_k[(z >> 33) % free_n]] = 1.0f;
}

void step_free(step_ctx *c) {
    if (!c) return;
    for (int t = 0; t < c->threads; t++) {
        worker *w = &c->wk[t];
        free(w->grads);
        free(w->arena);
        free(w->scratch);
        free(w->rows);
        free(w->du);
    }
    free(c->H); free(c->Hcat); free(c->dHcat); free(c->dH); free(c->items_scratch);
    free(c->U); free(c->G); free(c->V); free(c->dV); free(c->dUa); free(c->drows); free(c->logits);
    free(c->target); free(c->row0); free(c->act0); free(c->loss_part); free(c->zk); free(c->dG);
    free(c->pop_cdf); free(c->item_lq); free(c->cand); free(c->Hs); free(c->dHs); free(c->emb_keep);
    item_rows_free(&c->rows_set);
    tm_packed_free(&c->pk);
    free(c);
}

/* The full softmax with auxiliary losses is scored jointly: per channel, then summed. */
static int joint_scoring(const step_ctx *c) { return c->fu.aux_w > 0 && c->ns == 0; }

static int ensure_rows(step_ctx *c, size_t rows) {
    if (rows <= c->cap_rows) return 0;
    size_t cd = (size_t)c->s->cfg.n_channels * c->s->cfg.dim, C = c->s->cfg.n_channels;
    free(c->U); free(c->G); free(c->V); free(c->dV); free(c->dUa); free(c->drows); free(c->target);
    c->dUa = NULL;
    c->U = malloc(rows * cd * sizeof(float));
    c->G = malloc(rows * C * sizeof(float));
    c->V = malloc(rows * cd * sizeof(float));
    c->dV = malloc(rows * cd * sizeof(float));
    c->drows = malloc(rows * cd * sizeof(float));
    c->target = malloc(rows * sizeof(uint32_t));
    if (c->fu.aux_w > 0) c->dUa = malloc(rows * cd * sizeof(float));
    if (!c->U || !c->G || !c->V || !c->dV || !c->drows || !c->target || (c->fu.aux_w > 0 && !c->dUa)) {
        c->cap_rows = 0;
        return -1;
    }
    free(c->dG);
    c->dG = NULL;
    if (joint_scoring(c)) {
        size_t N = c->s->cfg.n_items;
        c->dG = malloc(rows * C * sizeof(float));
        if (!c->zk) c->zk = malloc(C * c->chunk_cap * N * sizeof(float));
        if (!c->dG || !c->zk) {
            c->cap_rows = 0;
            return -1;
        }
    }
    c->cap_rows = rows;
    return 0;
}

/* ---------------------------------------------------------------- item matrices */

/* Hcat's rows (N, |C| d) from H (|C|, N, d), or H's from Hcat's (back), for the n items of
   live, or items 0..n-1 when live is NULL. */
static void hcat_rows(const tm_spec *s, float *H, float *Hcat, const uint32_t *live, size_t n, int back) {
    size_t N = s->cfg.n_items, d = s->cfg.dim, C = s->cfg.n_channels;
    for (size_t q = 0; q < n; q++)
        for (size_t k = 0, i = live ? live[q] : q; k < C; k++) {
            float *h = H + (k * N + i) * d, *hc = Hcat + (i * C + k) * d;
            memcpy(back ? h : hc, back ? hc : h, d * sizeof(float));
        }
}

void step_items(const tm_spec *s, const tm_inputs *in, const float *params, float *H, float *Hcat, float *scratch) {
    tm_items_forward(s, in, params, H, scratch);
    hcat_rows(s, H, Hcat, NULL, s->cfg.n_items, 0);
}

/* ---------------------------------------------------------------- phase 1: encoders + gate */

/* Windows, rows of U/V, and this thread's encoder gradient ranges. */
static void zero_encoder_grads(const tm_spec *s, float *g) {
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        const tm_channel *ch = &s->ch[k];
        size_t end = ch->o_pool + bundle_pool_floats(&s->cfg);
        memset(g + ch->o_pos, 0, (end - ch->o_pos) * sizeof(float));
    }
    memset(g + s->o_gate, 0, (s->n_params - s->o_gate) * sizeof(float));
}

static void forward_worker(void *p, int tid, int nt) {
    step_ctx *c = p;
    const tm_spec *s = c->s;
    worker *w = &c->wk[tid];
    size_t lo, hi, N = s->cfg.n_items, d = s->cfg.dim, C = s->cfg.n_channels, cd = C * d;
    int drop = c->p_hidden > 0 || c->p_attn > 0;
    parallel_range(c->count, tid, nt, &lo, &hi);
    /* this thread's activations: one arena, windows one after the other */
    size_t need = 0;
    for (size_t i = lo; i < hi; i++) {
        c->act0[i] = need;
        need += C * acts_floats(c, c->w[i].n);
    }
    if (need > w->arena_cap) {
        free(w->arena);
        w->arena = malloc(need * sizeof(float));
        w->arena_cap = w->arena ? need : 0;
        if (!w->arena) {
            c->oom = 1;
            return;
        }
    }
    for (size_t i = lo; i < hi; i++) {
        const step_window *win = &c->w[i];
        size_t n = win->n, r0 = c->row0[i];
        mdsrec_config cn = cfg_n(&s->cfg, n);
        uint64_t rng = win->seed;
        dropout_cfg dc = {c->p_hidden, c->p_attn, &rng};
        float *mem = w->arena + c->act0[i];
        for (uint32_t k = 0; k < C; k++) {
            const float *Hk = c->H + (size_t)k * N * d;
            for (size_t t = 0; t < n; t++) memcpy(w->rows + t * d, Hk + (size_t)win->items[t] * d, d * sizeof(float));
            encoder_weights ew;
            tm_encoder_packed(s, c->params, &c->pk, k, &ew);
            channel_acts a;
            channel_acts_map(&cn, mem, drop, &a);
            channel_forward(&cn, &ew, w->rows, n, 1, drop ? &dc : NULL, &a);
            for (size_t t = 0; t < n; t++) memcpy(c->U + (r0 + t) * cd + k * d, a.u + t * d, d * sizeof(float));
            mem += acts_floats(c, n);
        }
        /* channel dropout: whole channels left out of this window's fusion */
        float keep[MDSREC_MAX_CHANNELS];
        channel_mask(c->fu.channel_drop, C, c->fu.force_out, win->seed, keep);
        /* the gate and the fused visitor vector at every position */
        for (size_t t = 0; t < n; t++) {
            size_t r = r0 + t;
            float *g = c->G + r * C;
            op_gate(g, NULL, tm_gate_w(s, c->params), tm_gate_b(s, c->params), c->U + r * cd, C, d);
            if (c->fu.channel_drop > 0 || c->fu.force_out) { /* the softmax over the kept channels only */
                float sum = 0;
                for (size_t k = 0; k < C; k++) sum += g[k] *= keep[k];
                for (size_t k = 0; k < C; k++) g[k] /= sum;
            }
            for (size_t k = 0; k < C; k++)
                for (size_t j = 0; j < d; j++) c->V[r * cd + k * d + j] = g[k] * c->U[r * cd + k * d + j];
            c->target[r] = win->items[t + 1];
        }
    }
}

/* ---------------------------------------------------------------- phase 2: softmax CE over all items */

static void ce_worker(void *p, int tid, int nt) {
    step_ctx *c = p;
    size_t N = c->s->cfg.n_items, cd = (size_t)c->s->cfg.n_channels * c->s->cfg.dim, lo, hi;
    parallel_range(c->chunk_rows, tid, nt, &lo, &hi);
    if (lo == hi) return;
    /* this thread's rows: logits = V Hcat^T; d loss_mean / d logit = (softmax - onehot) / rows */
    gemm(0, 1, hi - lo, N, cd, 1.0f, c->V + (c->chunk0 + lo) * cd, cd, c->Hcat, cd, 0.0f, c->logits + lo * N, N);
    float eps = c->lo.label_smoothing, scale = 1.0f / (float)c->norm;
    c->loss_part[tid] += eps > 0 ? softmax_ce_rows_smooth(c->logits + lo * N, hi - lo, N, c->target + c->chunk0 + lo, eps, scale)
                                 : softmax_ce_rows(c->logits + lo * N, hi - lo, N, c->target + c->chunk0 + lo, scale);
    /* dV = dlogits Hcat for the same rows */
    gemm(0, 0, hi - lo, cd, N, 1.0f, c->logits + lo * N, N, c->Hcat, cd, 0.0f, c->dV + (c->chunk0 + lo) * cd, cd);
}

/* Sampled softmax over this thread's rows of the chunk: logits row r = [a_r . h_{y_r}, a_r . h_{s_1}
   .. a_r . h_{s_K}] - logQ, a negative equal to y_r left out; dA_r = dz_0 h_{y_r} + sum_j dz_j h_{s_j}. */
static void ce_sampled_worker(void *p, int tid, int nt) {
    step_ctx *c = p;
    size_t K = c->ns, ld = K + 1, cd = (size_t)c->s->cfg.n_channels * c->s->cfg.dim;
    size_t w = c->sa_width, off = c->sa_off, lo, hi;
    parallel_range(c->chunk_rows, tid, nt, &lo, &hi);
    if (lo == hi) return;
    float *Z = c->logits + lo * ld;
    const float *A = c->sa_A + lo * cd;
    gemm(0, 1, hi - lo, K, w, 1.0f, A, cd, c->Hs + off, cd, 0.0f, Z + 1, ld);
    double loss = 0;
    for (size_t i = 0; i < hi - lo; i++) {
        float *z = Z + i * ld;
        uint32_t y = c->target[c->chunk0 + lo + i];
        const float *a = A + i * cd, *hy = c->Hcat + (size_t)y * cd + off;
        float pos = 0;
        for (size_t j = 0; j < w; j++) pos += a[j] * hy[j];
        z[0] = pos - c->item_lq[y];
        for (size_t j = 0; j < K; j++) z[1 + j] = c->cand[j] == y ? -INFINITY : z[1 + j] - c->item_lq[c->cand[j]];
        loss += softmax_ce_row_smooth(z, ld, 0, c->lo.label_smoothing, c->sa_weight / (float)c->norm);
    }
    c->loss_part[tid] += c->sa_weight * loss;
    float *dA = c->sa_dA + lo * cd;
    gemm(0, 0, hi - lo, w, K, 1.0f, Z + 1, ld, c->Hs + off, cd, 0.0f, dA, cd);
    for (size_t i = 0; i < hi - lo; i++) {
        uint32_t y = c->target[c->chunk0 + lo + i];
        const float *hy = c->Hcat + (size_t)y * cd + off;
        float g = Z[i * ld];
        for (size_t j = 0; j < w; j++) dA[i * cd + j] += g * hy[j];
    }
}

/* dHs[negatives lo..hi) = dz[:, 1 + j]^T A over the chunk's rows: split by negatives */
static void dhs_worker(void *p, int tid, int nt) {
    step_ctx *c = p;
    size_t K = c->ns, cd = (size_t)c->s->cfg.n_channels * c->s->cfg.dim, lo, hi;
    parallel_range(K, tid, nt, &lo, &hi);
    if (lo == hi) return;
    gemm(1, 0, hi - lo, c->sa_width, c->chunk_rows, 1.0f, c->logits + 1 + lo, K + 1, c->sa_A, cd, 0.0f,
         c->dHs + lo * cd + c->sa_off, cd);
}

/* One sampled-softmax pass over the chunk: rows A (stride |C| d) against Hcat's columns
   off..off+width, into dA and dHcat. */
static void sampled_pass(step_ctx *c, const float *A, float *dA, size_t width, size_t off, float weight) {
    size_t K = c->ns, cd = (size_t)c->s->cfg.n_channels * c->s->cfg.dim;
    c->sa_A = A;
    c->sa_dA = dA;
    c->sa_width = width;
    c->sa_off = off;
    c->sa_weight = weight;
    parallel_run(c->threads, ce_sampled_worker, c);
    parallel_run(c->threads, dhs_worker, c);
    /* scatter in a fixed order: negatives, then each row's target */
    for (size_t j = 0; j < K; j++) {
        float *dst = c->dHcat + (size_t)c->cand[j] * cd + off;
        const float *src = c->dHs + j * cd + off;
        for (size_t t = 0; t < width; t++) dst[t] += src[t];
    }
    for (size_t i = 0; i < c->chunk_rows; i++) {
        float g = c->logits[i * (K + 1)];
        float *dst = c->dHcat + (size_t)c->target[c->chunk0 + i] * cd + off;
        const float *a = A + i * cd;
        for (size_t t = 0; t < width; t++) dst[t] += g * a[t];
    }
}

static void dhcat_worker(void *p, int tid, int nt) {
    step_ctx *c = p;
    size_t N = c->s->cfg.n_items, cd = (size_t)c->s->cfg.n_channels * c->s->cfg.dim, lo, hi;
    parallel_range(N, tid, nt, &lo, &hi);
    if (lo == hi) return;
    gemm(1, 0, hi - lo, cd, c->chunk_rows, 1.0f, c->logits + lo, N, c->V + c->chunk0 * cd, cd, 1.0f,
         c->dHcat + lo * cd, cd);
}

/* The joint scoring over this thread's rows of the chunk. Z_k = U_k H_k^T for every channel;
   the fused logits are F = sum_k g_k Z_k (= V Hcat^T); dF from the fused loss, dg_k = dF . Z_k
   (= dV_k . u_k), and each Z_k becomes the gradient on channel k's logits, g_k dF plus aux_w
   times its own loss's; then dU_k = dZ_k H_k, the whole gradient on u_k but the gate's part.
   C sgemm of width d forward and 2C backward, where scoring F and each Z_k apart costs twice. */
static void joint_worker(void *p, int tid, int nt) {
    step_ctx *c = p;
    size_t N = c->s->cfg.n_items, d = c->s->cfg.dim, C = c->s->cfg.n_channels, cd = C * d, lo, hi;
    parallel_range(c->chunk_rows, tid, nt, &lo, &hi);
    if (lo == hi) return;
    size_t m = hi - lo, r = c->chunk0 + lo, stride = c->chunk_cap * N;
    float *F = c->logits + lo * N;
    const uint32_t *y = c->target + r;
    for (size_t k = 0; k < C; k++) {
        float *Z = c->zk + k * stride + lo * N;
        if (c->fu.force_out >> k & 1) /* left out: its gate is 0, so its logits never count */
            memset(Z, 0, m * N * sizeof(float));
        else
            gemm(0, 1, m, N, d, 1.0f, c->U + r * cd + k * d, cd, c->Hcat + k * d, cd, 0.0f, Z, N);
    }
    for (size_t i = 0; i < m; i++) {
        const float *g = c->G + (r + i) * C;
        float *f = F + i * N;
        const float *z0 = c->zk + lo * N + i * N;
        for (size_t j = 0; j < N; j++) f[j] = g[0] * z0[j];
        for (size_t k = 1; k < C; k++) {
            const float *zk = z0 + k * stride;
            for (size_t j = 0; j < N; j++) f[j] += g[k] * zk[j];
        }
    }
    float eps = c->lo.label_smoothing, scale = 1.0f / (float)c->norm, ascale = c->fu.aux_w / (float)c->norm;
    double loss = eps > 0 ? softmax_ce_rows_smooth(F, m, N, y, eps, scale) : softmax_ce_rows(F, m, N, y, scale);
    for (size_t i = 0; i < m; i++)
        for (size_t k = 0; k < C; k++) {
            const float *f = F + i * N, *zk = c->zk + k * stride + (lo + i) * N;
            c->dG[(r + i) * C + k] = softmax_dot(f, zk, N);
        }
    for (size_t k = 0; k < C; k++) {
        float *Z = c->zk + k * stride + lo * N;
        if (c->fu.force_out >> k & 1) { /* its own loss is off too (Z stays 0): no gradient */
            for (size_t i = 0; i < m; i++) memset(c->dUa + (r + i) * cd + k * d, 0, d * sizeof(float));
            continue;
        }
        loss += c->fu.aux_w * (eps > 0 ? softmax_ce_rows_smooth(Z, m, N, y, eps, ascale) : softmax_ce_rows(Z, m, N, y, ascale));
        for (size_t i = 0; i < m; i++) {
            float gk = c->G[(r + i) * C + k];
            float *z = Z + i * N;
            const float *f = F + i * N;
            for (size_t j = 0; j < N; j++) z[j] += gk * f[j];
        }
        gemm(0, 0, m, d, N, 1.0f, Z, N, c->Hcat + k * d, cd, 0.0f, c->dUa + r * cd + k * d, cd);
    }
    c->loss_part[tid] += loss;
}

/* dHcat[items lo..hi), channel k += dZ_k[:, lo..hi)^T U_k: split by items */
static void joint_dhcat_worker(void *p, int tid, int nt) {
    step_ctx *c = p;
    size_t N = c->s->cfg.n_items, d = c->s->cfg.dim, C = c->s->cfg.n_channels, cd = C * d, lo, hi;
    parallel_range(N, tid, nt, &lo, &hi);
    if (lo == hi) return;
    for (size_t k = 0; k < C; k++)
        if (!(c->fu.force_out >> k & 1)) /* a channel left out has dZ = 0 */
            gemm(1, 0, hi - lo, d, c->chunk_rows, 1.0f, c->zk + k * c->chunk_cap * N + lo, N,
                 c->U + c->chunk0 * cd + k * d, cd, 1.0f, c->dHcat + lo * cd + k * d, cd);
}

/* ---------------------------------------------------------------- phase 3: backward of gate + encoders */

static void backward_worker(void *p, int tid, int nt) {
    step_ctx *c = p;
    const tm_spec *s = c->s;
    worker *w = &c->wk[tid];
    size_t lo, hi, d = s->cfg.dim, C = s->cfg.n_channels, cd = C * d;
    int drop = c->p_hidden > 0 || c->p_attn > 0;
    parallel_range(c->count, tid, nt, &lo, &hi);
    zero_encoder_grads(s, w->grads);
    float *gwg = w->grads + s->o_gate, *gbg = gwg + (size_t)C * cd;
    float du_all[MDSREC_MAX_CHANNELS * MDSREC_MAX_DIM];
    for (size_t i = lo; i < hi; i++) {
        const step_window *win = &c->w[i];
        size_t n = win->n, r0 = c->row0[i];
        mdsrec_config cn = cfg_n(&s->cfg, n);
        /* the gate: v_c = g_c u_c, g = softmax(Wg u + bg) */
        for (size_t t = 0; t < n; t++) {
            size_t r = r0 + t;
            const float *g = c->G + r * C, *u = c->U + r * cd, *dv = c->dV + r * cd;
            float dg[MDSREC_MAX_CHANNELS];
            if (c->dG) { /* the joint scoring: dUa holds every part of dU but the gate's */
                memcpy(du_all, c->dUa + r * cd, cd * sizeof(float));
                memcpy(dg, c->dG + r * C, C * sizeof(float));
            }
            for (size_t k = 0; !c->dG && k < C; k++) {
                float z = 0;
                for (size_t j = 0; j < d; j++) {
                    z += dv[k * d + j] * u[k * d + j];
                    du_all[k * d + j] = g[k] * dv[k * d + j] + (c->dUa ? c->dUa[r * cd + k * d + j] : 0.0f);
                }
                dg[k] = z;
            }
            if (C > 1) gate_bwd(gwg, gbg, du_all, dg, g, tm_gate_w(s, c->params), u, C, d);
            for (size_t k = 0; k < C; k++) /* the gate reads u_k; a channel left out learns nothing */
                if (c->fu.force_out >> k & 1) memset(du_all + k * d, 0, d * sizeof(float));
            memcpy(c->U + r * cd, du_all, cd * sizeof(float)); /* U now holds dU */
        }
        float *mem = w->arena + c->act0[i];
        for (uint32_t k = 0; k < C; k++) {
            encoder_weights ew, gw;
            tm_encoder(s, c->params, k, &ew);
            tm_encoder(s, w->grads, k, &gw);
            channel_acts a;
            channel_acts_map(&cn, mem, drop, &a);
            for (size_t t = 0; t < n; t++) memcpy(w->du + t * d, c->U + (r0 + t) * cd + k * d, d * sizeof(float));
            float *dr = w->rows;
            memset(dr, 0, n * d * sizeof(float));
            channel_backward(&cn, &ew, &gw, &a, n, 1, w->du, dr, w->scratch);
            for (size_t t = 0; t < n; t++) memcpy(c->drows + (r0 + t) * cd + k * d, dr + t * d, d * sizeof(float));
            mem += acts_floats(c, n);
        }
    }
}

/* ---------------------------------------------------------------- the step */

double step_run(step_ctx *c, const float *params, const step_window *w, size_t count, float *grads) {
    return step_run_part(c, params, w, count, 0, count, grads);
}

double step_run_part(step_ctx *c, const float *params, const step_window *batch, size_t batch_count, size_t lo,
                     size_t hi, float *grads) {
    const tm_spec *s = c->s;
    size_t N = s->cfg.n_items, d = s->cfg.dim, C = s->cfg.n_channels, cd = C * d;
    if (batch_count > c->max_windows || lo > hi || hi > batch_count) return NAN;
    const step_window *w = batch + lo;
    size_t count = hi - lo, rows = 0, norm = 0;
    for (size_t i = 0; i < batch_count; i++) norm += batch[i].n;
    for (size_t i = 0; i < count; i++) {
        c->row0[i] = rows;
        rows += w[i].n;
    }
    if (ensure_rows(c, rows)) return NAN;
    c->params = params;
    c->w = w;
    c->count = count;
    c->nrows = rows;
    c->batch_w = batch;
    c->batch_count = batch_count;
    c->norm = norm ? norm : 1;
    c->oom = 0;
    tm_pack(s, params, &c->pk);

    /* item matrices (under sampled softmax only the rows read: the windows' items, their
       targets and the negatives), and every window's encoders and gate */
    if (c->ns) draw_negatives(c);
    /* the item side's inputs, with this batch's embedding dropout when there is one */
    tm_inputs in = *c->in;
    if (c->fu.emb_drop > 0) {
        if (draw_emb_keep(c)) return NAN;
        in.emb_keep = c->emb_keep;
    }
    item_rows *ir = c->lo.negatives && !c->rows_off ? &c->rows_set : NULL;
    if (ir) {
        item_rows_clear(ir);
        for (size_t i = 0; i < count; i++) item_rows_add(ir, w[i].items, w[i].n + 1);
        item_rows_add(ir, c->cand, c->ns);
        item_rows_forward(ir, s, &in, params, c->H, c->items_scratch);
    } else {
        tm_items_forward(s, &in, params, c->H, c->items_scratch);
    }
    /* the item rows in play: the set's, or all N */
    const uint32_t *live = ir ? ir->seed : NULL;
    size_t n_live = ir ? ir->seed_n : N;
    hcat_rows(s, c->H, c->Hcat, live, n_live, 0);
    if (c->ns) gather_negatives(c);
    parallel_run(c->threads, forward_worker, c);
    if (c->oom) return NAN;

    /* scores over all items, cross-entropy, and their gradients, a chunk of positions at a time:
       logits = V Hcat^T; dV = dlogits Hcat; dHcat = dlogits^T V */
    for (size_t q = 0; q < n_live; q++) memset(c->dHcat + (live ? live[q] : q) * cd, 0, cd * sizeof(float));
    for (int t = 0; t < c->threads; t++) c->loss_part[t] = 0;
    size_t chunk = c->dG ? c->chunk_cap : SCORE_CHUNK;
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t m = rows - r0 < chunk ? rows - r0 : chunk;
        c->chunk0 = r0;
        c->chunk_rows = m;
        if (c->dG) {
            parallel_run(c->threads, joint_worker, c);
            parallel_run(c->threads, joint_dhcat_worker, c);
            continue;
        }
        if (c->lo.negatives) { /* the fused score: the target and K negatives per position */
            sampled_pass(c, c->V + r0 * cd, c->dV + r0 * cd, cd, 0, 1.0f);
        } else {
            parallel_run(c->threads, ce_worker, c);
            parallel_run(c->threads, dhcat_worker, c);
        }
        /* each channel's own score, sampled (over all items, the joint scoring above has it) */
        for (size_t k = 0; c->ns && c->fu.aux_w > 0 && k < C; k++) {
            if (!(c->fu.force_out >> k & 1)) {
                sampled_pass(c, c->U + r0 * cd + k * d, c->dUa + r0 * cd + k * d, d, k * d, c->fu.aux_w);
                continue;
            }
            for (size_t i = 0; i < m; i++) memset(c->dUa + (r0 + i) * cd + k * d, 0, d * sizeof(float));
        }
    }
    double loss = 0;
    for (int t = 0; t < c->threads; t++) loss += c->loss_part[t];

    /* gate and encoders backward */
    parallel_run(c->threads, backward_worker, c);

    /* reduce, in a fixed order: threads 0..T-1, then item rows window by window */
    memset(grads, 0, s->n_params * sizeof(float));
    for (int t = 0; t < c->threads; t++) {
        const float *g = c->wk[t].grads;
        for (uint32_t k = 0; k < (s->shared_encoder ? 1u : C); k++) { /* shared: one copy */
            const tm_channel *ch = &s->ch[k];
            size_t end = ch->o_pool + bundle_pool_floats(&s->cfg);
            for (size_t i = ch->o_pos; i < end; i++) grads[i] += g[i];
        }
        for (size_t i = s->o_gate; i < s->n_params; i++) grads[i] += g[i];
    }
    if (c->fu.gate_fixed == STEP_GATE_FIXED)
        memset(grads + s->o_gate, 0, (s->n_params - s->o_gate) * sizeof(float));
    else if (c->fu.gate_fixed == STEP_GATE_GLOBAL) /* Wg only: softmax(bg) is every visitor's gate */
        memset(grads + s->o_gate, 0, (size_t)C * cd * sizeof(float));
    hcat_rows(s, c->dH, c->dHcat, live, n_live, 1);
    for (size_t i = 0; i < count; i++)
        for (size_t t = 0; t < w[i].n; t++) {
            size_t r = c->row0[i] + t;
            uint32_t item = w[i].items[t];
            for (size_t k = 0; k < C; k++) {
                float *dst = c->dH + (k * N + item) * d;
                const float *src = c->drows + r * cd + k * d;
                for (size_t j = 0; j < d; j++) dst[j] += src[j];
            }
        }
    if (ir)
        item_rows_backward(ir, s, &in, c->dH, grads, c->items_scratch);
    else
        tm_items_backward(s, &in, c->dH, grads, c->items_scratch);
    return loss / (double)c->norm;
}

/* ---------------------------------------------------------------- visitor vectors (no dropout) */

typedef struct {
    const tm_spec *s;
    const float *params, *H;
    const tm_packed *pk;
    const uint32_t *const *hist;
    const uint32_t *len;
    size_t count;
    float *v;
} visit_ctx;

static void visit_worker(void *p, int tid, int nt) {
    visit_ctx *c = p;
    const tm_spec *s = c->s;
    size_t lo, hi, N = s->cfg.n_items, d = s->cfg.dim, C = s->cfg.n_channels, L = s->cfg.max_len;
    parallel_range(c->count, tid, nt, &lo, &hi);
    float *mem = malloc(channel_acts_floats(&s->cfg, 0) * sizeof(float));
    float *rows = malloc(L * d * sizeof(float));
    float u[MDSREC_MAX_CHANNELS * MDSREC_MAX_DIM];
    for (size_t i = lo; i < hi && mem && rows; i++) {
        size_t n = c->len[i] < L ? c->len[i] : L;
        if (n == 0) { /* nothing to read: a zero vector scores every item 0 */
            memset(c->v + i * C * d, 0, C * d * sizeof(float));
            continue;
        }
        const uint32_t *h = c->hist[i] + (c->len[i] - n);
        mdsrec_config cn = cfg_n(&s->cfg, n);
        for (uint32_t k = 0; k < C; k++) {
            const float *Hk = c->H + (size_t)k * N * d;
            for (size_t t = 0; t < n; t++) memcpy(rows + t * d, Hk + (size_t)h[t] * d, d * sizeof(float));
            encoder_weights ew;
            tm_encoder_packed(s, c->params, c->pk, k, &ew);
            channel_acts a;
            channel_acts_map(&cn, mem, 0, &a);
            channel_forward(&cn, &ew, rows, n, 0, NULL, &a);
            memcpy(u + k * d, a.u + (n - 1) * d, d * sizeof(float));
        }
        float g[MDSREC_MAX_CHANNELS];
        op_gate(g, NULL, tm_gate_w(s, c->params), tm_gate_b(s, c->params), u, C, d);
        for (size_t k = 0; k < C; k++)
            for (size_t j = 0; j < d; j++) c->v[i * C * d + k * d + j] = g[k] * u[k * d + j];
    }
    free(mem);
    free(rows);
}

void step_visitors(const tm_spec *s, const float *params, const tm_packed *pk, const float *H,
                   const uint32_t *const *hist, const uint32_t *len, size_t count, float *v, int threads) {
    visit_ctx c = {s, params, H, pk, hist, len, count, v};
    parallel_run(threads, visit_worker, &c);
}
