/* item_rows.c - the item side on the rows a step reads (item_rows.h). */
#include "item_rows.h"

#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "parallel.h"

static uint32_t *ball_level_of(const item_rows *r, uint32_t k) { return r->ball[k] + r->n_items; }

int item_rows_init(item_rows *r, const tm_spec *s) {
    memset(r, 0, sizeof *r);
    size_t N = s->cfg.n_items, d = s->cfg.dim, wmax = 0;
    r->n_items = (uint32_t)N;
    r->threads = 1;
    r->stamp = calloc(N, sizeof(uint32_t));
    r->level = malloc(N * sizeof(uint32_t));
    r->queue = malloc(N * sizeof(uint32_t));
    r->seed = malloc(N * sizeof(uint32_t));
    int ok = r->stamp && r->level && r->queue && r->seed;
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        r->ball[k] = malloc(2 * N * sizeof(uint32_t)); /* the items, then their levels */
        ok &= r->ball[k] != NULL;
        if (s->ch[k].feat_width > wmax) wmax = s->ch[k].feat_width;
    }
    r->gather = malloc((size_t)ITEM_ROWS_GATHER * (wmax + d) * sizeof(float));
    if (!ok || !r->gather) {
        item_rows_free(r);
        return -1;
    }
    return 0;
}

void item_rows_free(item_rows *r) {
    free(r->stamp);
    free(r->level);
    free(r->queue);
    free(r->seed);
    free(r->gather);
    for (int k = 0; k < MDSREC_MAX_CHANNELS; k++) free(r->ball[k]);
    memset(r, 0, sizeof *r);
}

/* A fresh stamp: every item unmarked. */
static void next_stamp(item_rows *r) {
    if (++r->cur == 0) {
        memset(r->stamp, 0, r->n_items * sizeof(uint32_t));
        r->cur = 1;
    }
}

void item_rows_clear(item_rows *r) {
    next_stamp(r);
    r->seed_n = 0;
}

void item_rows_add(item_rows *r, const uint32_t *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t it = items[i];
        if (r->stamp[it] == r->cur) continue;
        r->stamp[it] = r->cur;
        r->seed[r->seed_n++] = it;
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Channel k's ball of radius R around S, breadth first over g's rows, then in item order with
   each item's level (its distance from S). */
static void make_ball(item_rows *r, uint32_t k, const csr *g, uint32_t R) {
    next_stamp(r);
    size_t qn = 0;
    for (size_t i = 0; i < r->seed_n; i++) {
        uint32_t it = r->seed[i];
        r->stamp[it] = r->cur;
        r->level[it] = 0;
        r->queue[qn++] = it;
    }
    size_t lo = 0;
    for (uint32_t j = 0; j < R; j++) {
        size_t hi = qn;
        for (size_t q = lo; q < hi; q++) {
            uint32_t t = r->queue[q];
            for (uint32_t e = g->row_ptr[t]; e < g->row_ptr[t + 1]; e++) {
                uint32_t c = g->col[e];
                if (r->stamp[c] == r->cur) continue;
                r->stamp[c] = r->cur;
                r->level[c] = j + 1;
                r->queue[qn++] = c;
            }
        }
        lo = hi;
    }
    uint32_t *ball = r->ball[k], *lv = ball_level_of(r, k);
    if (qn < r->n_items / 32) { /* a small ball: sort it */
        memcpy(ball, r->queue, qn * sizeof(uint32_t));
        qsort(ball, qn, sizeof(uint32_t), cmp_u32);
    } else { /* a large one: one pass over the marks is cheaper */
        size_t n = 0;
        for (uint32_t i = 0; i < r->n_items; i++)
            if (r->stamp[i] == r->cur) ball[n++] = i;
    }
    for (size_t i = 0; i < qn; i++) lv[i] = r->level[ball[i]];
    r->ball_n[k] = qn;
}

/* X = [E] + [F W^T + b] on channel k's ball. */
static void ball_inputs(item_rows *r, const tm_spec *s, const tm_inputs *in, const float *p, uint32_t k, float *h) {
    const tm_channel *ch = &s->ch[k];
    size_t d = s->cfg.dim, n = r->ball_n[k], w = ch->feat_width;
    const uint32_t *ball = r->ball[k];
    for (size_t q = 0; q < n; q++) {
        size_t i = ball[q];
        if (ch->has_emb && !(ch->n_feat && in->emb_keep && !in->emb_keep[i]))
            memcpy(h + i * d, p + ch->o_emb + i * d, d * sizeof(float));
        else
            memset(h + i * d, 0, d * sizeof(float));
    }
    if (!ch->n_feat) return;
    const float *W = p + ch->o_w;
    if (in->feat_sparse[k].n_rows) {
        float *wt = in->wt[k];
        const csr *f = &in->feat_sparse[k];
        for (size_t j = 0; j < d; j++)
            for (size_t c = 0; c < w; c++) wt[c * d + j] = W[j * w + c];
        for (size_t q = 0; q < n; q++) {
            size_t i = ball[q];
            for (uint32_t e = f->row_ptr[i]; e < f->row_ptr[i + 1]; e++) {
                const float *wr = wt + (size_t)f->col[e] * d, v = f->w[e];
                for (size_t j = 0; j < d; j++) h[i * d + j] += v * wr[j];
            }
        }
    } else {
        float *fb = r->gather, *xb = r->gather + (size_t)ITEM_ROWS_GATHER * w;
        for (size_t q0 = 0; q0 < n; q0 += ITEM_ROWS_GATHER) {
            size_t m = n - q0 < ITEM_ROWS_GATHER ? n - q0 : ITEM_ROWS_GATHER;
            for (size_t q = 0; q < m; q++)
                memcpy(fb + q * w, in->feat[k] + (size_t)ball[q0 + q] * w, w * sizeof(float));
            for (size_t q = 0; q < m; q++) memcpy(xb + q * d, h + (size_t)ball[q0 + q] * d, d * sizeof(float));
            gemm(0, 1, m, d, w, 1.0f, fb, w, W, w, 1.0f, xb, d);
            for (size_t q = 0; q < m; q++) memcpy(h + (size_t)ball[q0 + q] * d, xb + q * d, d * sizeof(float));
        }
    }
    const float *b = p + ch->o_b;
    for (size_t q = 0; q < n; q++)
        for (size_t j = 0; j < d; j++) h[(size_t)ball[q] * d + j] += b[j];
}

/* One round of propagation, split over the workers by item ranges (each writes its own rows):
   forward, t2 = A t1 on the ball of radius K - j and h += t2 on S; backward, t2 = A^T t1 from
   the ball of radius j - 1 (every worker walks those rows, keeping the edges into its range,
   so each sum adds its terms in the one-thread order) and dh += t2 on the ball of radius j. */
typedef struct {
    const item_rows *r;
    uint32_t k, j, K;
    const csr *g;
    const float *t1;
    float *t2, *h;
    size_t d;
    int backward;
} round_job;

/* The first of the n sorted items at or after item a. */
static size_t lower_bound(const uint32_t *items, size_t n, size_t a) {
    size_t x = 0, y = n;
    while (x < y) {
        size_t m = x + (y - x) / 2;
        if (items[m] < a) x = m + 1; else y = m;
    }
    return x;
}

/* The ball entries [*lo, *hi) whose items fall in worker tid's share [*ilo, *ihi) of the catalogue. */
static void ball_share(const item_rows *r, uint32_t k, int tid, int nt, size_t *lo, size_t *hi, uint32_t *ilo,
                       uint32_t *ihi) {
    size_t a, b;
    parallel_range(r->n_items, tid, nt, &a, &b);
    *ilo = (uint32_t)a;
    *ihi = (uint32_t)b;
    *lo = lower_bound(r->ball[k], r->ball_n[k], a);
    *hi = lower_bound(r->ball[k], r->ball_n[k], b);
}

static void round_worker(void *ctx, int tid, int nt) {
    const round_job *jb = ctx;
    const item_rows *r = jb->r;
    const uint32_t *ball = r->ball[jb->k], *lv = ball_level_of(r, jb->k);
    size_t lo, hi, d = jb->d;
    uint32_t ilo, ihi, j = jb->j, K = jb->K;
    ball_share(r, jb->k, tid, nt, &lo, &hi, &ilo, &ihi);
    if (!jb->backward) {
        for (size_t q = lo; q < hi; q++)
            if (lv[q] <= K - j) csr_spmm_row(jb->g, ball[q], jb->t1, jb->t2, d);
        for (size_t q = lo; q < hi; q++)
            if (lv[q] == 0)
                for (size_t c = 0; c < d; c++) jb->h[(size_t)ball[q] * d + c] += jb->t2[(size_t)ball[q] * d + c];
        return;
    }
    for (size_t q = lo; q < hi; q++)
        if (lv[q] <= j) memset(jb->t2 + (size_t)ball[q] * d, 0, d * sizeof(float));
    const csr *g = jb->g;
    for (size_t q = 0; q < r->ball_n[jb->k]; q++) {
        if (lv[q] > j - 1) continue;
        uint32_t t = ball[q];
        const float *xr = jb->t1 + (size_t)t * d;
        for (uint32_t e = g->row_ptr[t]; e < g->row_ptr[t + 1]; e++) {
            uint32_t col = g->col[e];
            if (col < ilo || col >= ihi) continue;
            float *o = jb->t2 + (size_t)col * d, wt = g->w[e];
            for (size_t c = 0; c < d; c++) o[c] += wt * xr[c];
        }
    }
    for (size_t q = lo; q < hi; q++)
        if (lv[q] <= j)
            for (size_t c = 0; c < d; c++) jb->h[(size_t)ball[q] * d + c] += jb->t2[(size_t)ball[q] * d + c];
}

/* K rounds over channel k's ball, x accumulating them, then divided by K + 1: forward, x holds
   X on the ball and ends with H on S; backward, x holds dH on S (zero on the rest of the ball)
   and ends with dX on the ball. scratch: 2 N d floats. */
static void propagate_rows(item_rows *r, uint32_t k, uint32_t K, const csr *g, float *x, float *scratch, size_t N,
                           size_t d, int backward) {
    const uint32_t *ball = r->ball[k], *lv = ball_level_of(r, k);
    size_t n = r->ball_n[k];
    float *t1 = scratch, *t2 = scratch + N * d;
    for (size_t q = 0; q < n; q++)
        if (!backward || lv[q] == 0) memcpy(t1 + (size_t)ball[q] * d, x + (size_t)ball[q] * d, d * sizeof(float));
    for (uint32_t j = 1; j <= K; j++) {
        round_job jb = {r, k, j, K, g, t1, t2, x, d, backward};
        parallel_run(r->threads, round_worker, &jb);
        float *t = t1;
        t1 = t2;
        t2 = t;
    }
    float inv = 1.0f / (float)(K + 1);
    for (size_t q = 0; q < n; q++)
        if (backward || lv[q] == 0)
            for (size_t c = 0; c < d; c++) x[(size_t)ball[q] * d + c] *= inv;
}

void item_rows_forward(item_rows *r, const tm_spec *s, const tm_inputs *in, const float *params, float *H,
                       float *scratch) {
    size_t N = s->cfg.n_items, d = s->cfg.dim;
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        const csr *g = &in->graph[k];
        uint32_t K = g->n_rows ? s->prop_k : 0;
        make_ball(r, k, g, K);
        float *h = H + (size_t)k * N * d;
        ball_inputs(r, s, in, params, k, h);
        if (!K) continue;
        /* round j is A^j X on the ball of radius K - j; h accumulates the rows of S */
        propagate_rows(r, k, K, g, h, scratch, N, d, 0);
    }
}

void item_rows_backward(item_rows *r, const tm_spec *s, const tm_inputs *in, float *dH, float *grads,
                        float *scratch) {
    size_t N = s->cfg.n_items, d = s->cfg.dim;
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        const tm_channel *ch = &s->ch[k];
        const csr *g = &in->graph[k];
        uint32_t K = g->n_rows ? s->prop_k : 0;
        const uint32_t *ball = r->ball[k], *lv = ball_level_of(r, k);
        size_t n = r->ball_n[k], w = ch->feat_width;
        float *dh = dH + (size_t)k * N * d;
        for (size_t q = 0; q < n; q++) /* dH is zero off S */
            if (lv[q]) memset(dh + (size_t)ball[q] * d, 0, d * sizeof(float));
        if (K) {
            /* dX = mean over j of (A^T)^j dH: round j scatters from the ball of radius j - 1 */
            propagate_rows(r, k, K, g, dh, scratch, N, d, 1);
        }
        if (ch->has_emb) {
            float *ge = grads + ch->o_emb;
            const uint8_t *keep = ch->n_feat ? in->emb_keep : NULL; /* tmodel.h: emb_keep */
            for (size_t q = 0; q < n; q++)
                if (!keep || keep[ball[q]])
                    for (size_t c = 0; c < d; c++) ge[(size_t)ball[q] * d + c] += dh[(size_t)ball[q] * d + c];
        }
        if (!ch->n_feat) continue;
        float *gw = grads + ch->o_w;
        if (in->feat_sparse[k].n_rows) {
            float *wt = in->wt[k];
            const csr *f = &in->feat_sparse[k];
            memset(wt, 0, w * d * sizeof(float));
            for (size_t q = 0; q < n; q++) {
                size_t i = ball[q];
                for (uint32_t e = f->row_ptr[i]; e < f->row_ptr[i + 1]; e++) {
                    float *wr = wt + (size_t)f->col[e] * d, v = f->w[e];
                    for (size_t c = 0; c < d; c++) wr[c] += v * dh[i * d + c];
                }
            }
            for (size_t c = 0; c < d; c++)
                for (size_t j = 0; j < w; j++) gw[c * w + j] += wt[j * d + c];
        } else {
            /* dW (d, w) += dX^T F over the ball's rows, gathered */
            float *fb = r->gather, *xb = r->gather + (size_t)ITEM_ROWS_GATHER * w;
            for (size_t q0 = 0; q0 < n; q0 += ITEM_ROWS_GATHER) {
                size_t m = n - q0 < ITEM_ROWS_GATHER ? n - q0 : ITEM_ROWS_GATHER;
                for (size_t q = 0; q < m; q++) {
                    memcpy(fb + q * w, in->feat[k] + (size_t)ball[q0 + q] * w, w * sizeof(float));
                    memcpy(xb + q * d, dh + (size_t)ball[q0 + q] * d, d * sizeof(float));
                }
                gemm(1, 0, d, w, m, 1.0f, xb, d, fb, w, 1.0f, gw, w);
            }
        }
        float *gb = grads + ch->o_b;
        for (size_t q = 0; q < n; q++)
            for (size_t c = 0; c < d; c++) gb[c] += dh[(size_t)ball[q] * d + c];
    }
}
