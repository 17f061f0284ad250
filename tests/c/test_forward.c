/*
 * test_forward.c - the core's forward pass and recommend() against an independent
 * double-precision reference of MODEL.md sections 3-4, written here from the spec.
 *
 * The model is assembled by hand (no bundle): random weights, every pool mode, 0 and 2
 * blocks, and channels of 2, 0 and 1 blocks in one model (format v3), f32 / f16 / i8 item
 * matrices. Tolerances: f32 and f16 scores within 2e-4 of the
 * reference relative to the sum of |terms| (float LayerNorm, softmax and GELU against double);
 * i8 within 2e-2 (the visitor vector is quantized to 8 bits by design).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "src/half.h"
#include "src/model.h"
#include "mdsrec.h"

static uint64_t rng = 7;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}
static float frand(float scale) { return (float)((urand() * 2.0 - 1.0) * scale); }

/* ---------------------------------------------------------------- a hand-built model */

typedef struct {
    struct mdsrec_model m;
    float *f32[MDSREC_MAX_CHANNELS]; /* the item matrices as floats (dequantized) */
    void *items[MDSREC_MAX_CHANNELS];
    float *scales[MDSREC_MAX_CHANNELS];
    float *pos[MDSREC_MAX_CHANNELS], *enc[MDSREC_MAX_CHANNELS], *pool[MDSREC_MAX_CHANNELS];
    float *gate;
    uint32_t *pop;
} fixture;

/* B_MIXED as B: n_blocks 2, channel c runs mixed_blocks[c % 3] of them */
#define B_MIXED 3u
static const uint32_t mixed_blocks[3] = {2, 0, 1};

static void fixture_make(fixture *fx, uint32_t N, uint32_t d, uint32_t C, uint32_t L, uint32_t B,
                         uint32_t heads, uint32_t pool_mode, uint32_t dtype) {
    memset(fx, 0, sizeof *fx);
    mdsrec_config *cfg = &fx->m.cfg;
    cfg->n_items = N, cfg->dim = d, cfg->n_channels = C, cfg->max_len = L, cfg->n_blocks = B == B_MIXED ? 2 : B;
    cfg->n_heads = heads, cfg->ffn_dim = 4 * d, cfg->item_dtype = dtype, cfg->pool_mode = pool_mode;
    cfg->ln_eps = 1e-12f;
    for (uint32_t c = 0; c < C; c++) cfg->channels[c].n_blocks = B == B_MIXED ? mixed_blocks[c % 3] : B;
    size_t np = bundle_pool_floats(cfg);
    for (uint32_t c = 0; c < C; c++) {
        size_t ne = bundle_encoder_floats(cfg, c);
        fx->f32[c] = malloc((size_t)N * d * sizeof(float));
        for (size_t i = 0; i < (size_t)N * d; i++) fx->f32[c][i] = frand(1.0f);
        if (dtype == MDSREC_F32) {
            fx->items[c] = fx->f32[c];
        } else if (dtype == MDSREC_F16) {
            uint16_t *h = malloc((size_t)N * d * 2);
            for (size_t i = 0; i < (size_t)N * d; i++) {
                h[i] = float_to_half(fx->f32[c][i]);
                fx->f32[c][i] = half_to_float(h[i]);
            }
            fx->items[c] = h;
        } else {
            int8_t *q = malloc((size_t)N * d);
            fx->scales[c] = malloc(N * sizeof(float));
            for (uint32_t i = 0; i < N; i++) {
                float mx = 0;
                for (uint32_t j = 0; j < d; j++) mx = fmaxf(mx, fabsf(fx->f32[c][(size_t)i * d + j]));
                float s = mx / 127.0f;
                fx->scales[c][i] = s;
                for (uint32_t j = 0; j < d; j++) {
                    long r = lrintf(fx->f32[c][(size_t)i * d + j] / s);
                    q[(size_t)i * d + j] = (int8_t)r;
                    fx->f32[c][(size_t)i * d + j] = s * (float)r;
                }
            }
            fx->items[c] = q;
        }
        fx->pos[c] = malloc((size_t)L * d * sizeof(float));
        for (size_t i = 0; i < (size_t)L * d; i++) fx->pos[c][i] = frand(0.5f);
        fx->enc[c] = malloc(ne * sizeof(float));
        for (size_t i = 0; i < ne; i++) fx->enc[c][i] = frand(0.3f);
        fx->pool[c] = np ? malloc(np * sizeof(float)) : NULL;
        for (size_t i = 0; i < np; i++) fx->pool[c][i] = frand(0.3f);
        fx->m.view.ch[c].items = fx->items[c];
        fx->m.view.ch[c].scales = fx->scales[c];
        fx->m.view.ch[c].pos = fx->pos[c];
        fx->m.view.ch[c].encoder = fx->enc[c];
        fx->m.view.ch[c].pool = fx->pool[c];
        encoder_weights_map(cfg, cfg->channels[c].n_blocks, fx->pos[c], fx->enc[c], fx->pool[c], &fx->m.enc[c]);
    }
    size_t ng = (size_t)C * C * d + C;
    fx->gate = malloc(ng * sizeof(float));
    for (size_t i = 0; i < ng; i++) fx->gate[i] = frand(0.3f);
    fx->pop = malloc(N * sizeof(uint32_t));
    for (uint32_t i = 0; i < N; i++) fx->pop[i] = (i * 7 + 3) % N; /* N coprime to 7 in the tests */
    fx->m.view.gate = fx->gate;
    fx->m.view.popularity = fx->pop;
    fx->m.view.cfg = *cfg;
    fx->m.k = kernels_active();
}

static void fixture_free(fixture *fx) {
    for (uint32_t c = 0; c < fx->m.cfg.n_channels; c++) {
        if (fx->items[c] != fx->f32[c]) free(fx->items[c]);
        free(fx->f32[c]), free(fx->scales[c]), free(fx->pos[c]), free(fx->enc[c]), free(fx->pool[c]);
    }
    free(fx->gate), free(fx->pop);
}

/* ---------------------------------------------------------------- the double reference */

static void ref_ln(double *x, const float *g, const float *b, size_t d, double eps) {
    double mu = 0, var = 0;
    for (size_t i = 0; i < d; i++) mu += x[i];
    mu /= (double)d;
    for (size_t i = 0; i < d; i++) var += (x[i] - mu) * (x[i] - mu);
    var /= (double)d;
    for (size_t i = 0; i < d; i++) x[i] = (x[i] - mu) / sqrt(var + eps) * g[i] + b[i];
}

/* y (dout) = W (dout, din) x + b */
static void ref_lin(double *y, const float *w, const float *b, const double *x, size_t din, size_t dout) {
    for (size_t o = 0; o < dout; o++) {
        double s = b ? b[o] : 0;
        for (size_t i = 0; i < din; i++) s += (double)w[o * din + i] * x[i];
        y[o] = s;
    }
}

static void ref_softmax(double *x, size_t n) {
    double m = x[0], s = 0;
    for (size_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    for (size_t i = 0; i < n; i++) s += (x[i] = exp(x[i] - m));
    for (size_t i = 0; i < n; i++) x[i] /= s;
}

/* One channel: returns u (d) and the index (into hist) of the largest pooling weight. */
static size_t ref_channel(const fixture *fx, uint32_t c, const uint32_t *hist, size_t n, double *u) {
    const mdsrec_config *cfg = &fx->m.cfg;
    size_t d = cfg->dim, f = cfg->ffn_dim, H = cfg->n_heads, dh = d / H;
    const encoder_weights *w = &fx->m.enc[c];
    double *z = calloc(n * d, sizeof(double)), *q = calloc(n * d, sizeof(double)), *k = calloc(n * d, sizeof(double));
    double *v = calloc(n * d, sizeof(double)), *ctx = calloc(n * d, sizeof(double)), *tmp = calloc(f + d, sizeof(double));
    double *a = calloc(n, sizeof(double));
    for (size_t t = 0; t < n; t++) {
        for (size_t i = 0; i < d; i++) z[t * d + i] = (double)fx->f32[c][(size_t)hist[t] * d + i] + w->pos[t * d + i];
        ref_ln(z + t * d, w->ln_in_g, w->ln_in_b, d, cfg->ln_eps);
    }
    for (uint32_t b = 0; b < cfg->channels[c].n_blocks; b++) {
        const block_weights *bw = &w->blk[b];
        for (size_t t = 0; t < n; t++) {
            ref_lin(q + t * d, bw->wq, bw->bq, z + t * d, d, d);
            ref_lin(k + t * d, bw->wk, bw->bk, z + t * d, d, d);
            ref_lin(v + t * d, bw->wv, bw->bv, z + t * d, d, d);
        }
        for (size_t h = 0; h < H; h++)
            for (size_t t = 0; t < n; t++) {
                for (size_t s = 0; s <= t; s++) {
                    double dot = 0;
                    for (size_t j = 0; j < dh; j++) dot += q[t * d + h * dh + j] * k[s * d + h * dh + j];
                    a[s] = dot / sqrt((double)dh);
                }
                ref_softmax(a, t + 1);
                for (size_t j = 0; j < dh; j++) {
                    double s2 = 0;
                    for (size_t s = 0; s <= t; s++) s2 += a[s] * v[s * d + h * dh + j];
                    ctx[t * d + h * dh + j] = s2;
                }
            }
        for (size_t t = 0; t < n; t++) {
            double *zt = z + t * d;
            ref_lin(tmp, bw->wo, bw->bo, ctx + t * d, d, d);
            for (size_t i = 0; i < d; i++) zt[i] += tmp[i];
            ref_ln(zt, bw->ln1_g, bw->ln1_b, d, cfg->ln_eps);
            ref_lin(tmp, bw->w1, bw->b1, zt, d, f);
            for (size_t i = 0; i < f; i++) tmp[i] = 0.5 * tmp[i] * (1.0 + erf(tmp[i] / sqrt(2.0)));
            double *o = tmp + f;
            ref_lin(o, bw->w2, bw->b2, tmp, f, d);
            for (size_t i = 0; i < d; i++) zt[i] += o[i];
            ref_ln(zt, bw->ln2_g, bw->ln2_b, d, cfg->ln_eps);
        }
    }
    size_t best = n - 1;
    if (cfg->pool_mode == MDSREC_POOL_NONE) {
        memcpy(u, z + (n - 1) * d, d * sizeof(double));
    } else {
        double *cen = calloc(d, sizeof(double)), *qq = calloc(d, sizeof(double)), *kk = calloc(d, sizeof(double));
        for (size_t i = 0; i < d; i++) {
            if (cfg->pool_mode == MDSREC_POOL_LAST) cen[i] = z[(n - 1) * d + i];
            else if (cfg->pool_mode == MDSREC_POOL_TOKEN) cen[i] = w->ptoken[i];
            else {
                for (size_t t = 0; t < n; t++) cen[i] += z[t * d + i];
                cen[i] /= (double)n;
            }
        }
        ref_lin(qq, w->pwq, w->pbq, cen, d, d);
        for (size_t t = 0; t < n; t++) {
            ref_lin(kk, w->pwk, w->pbk, z + t * d, d, d);
            double dot = 0;
            for (size_t i = 0; i < d; i++) dot += qq[i] * kk[i];
            a[t] = dot / sqrt((double)d);
        }
        ref_softmax(a, n);
        best = 0;
        for (size_t t = 1; t < n; t++)
            if (a[t] > a[best]) best = t;
        for (size_t i = 0; i < d; i++) u[i] = cen[i];
        for (size_t t = 0; t < n; t++) {
            ref_lin(kk, w->pwv, w->pbv, z + t * d, d, d);
            for (size_t i = 0; i < d; i++) u[i] += a[t] * kk[i];
        }
        ref_ln(u, w->pln_g, w->pln_b, d, cfg->ln_eps);
        free(cen), free(qq), free(kk);
    }
    free(z), free(q), free(k), free(v), free(ctx), free(tmp), free(a);
    return best;
}

/* Reference scores of every item (and gates, carriers) for the last min(len, L) items. */
static void ref_scores(const fixture *fx, const uint32_t *history, size_t len, double *scores,
                       double *mag, double *gates, uint32_t *carriers) {
    const mdsrec_config *cfg = &fx->m.cfg;
    size_t d = cfg->dim, C = cfg->n_channels, N = cfg->n_items;
    size_t n = len < cfg->max_len ? len : cfg->max_len;
    const uint32_t *hist = history + (len - n);
    double *u = calloc(C * d, sizeof(double));
    for (uint32_t c = 0; c < C; c++) carriers[c] = hist[ref_channel(fx, c, hist, n, u + c * d)];
    for (size_t c = 0; c < C; c++) {
        double s = fx->gate[C * C * d + c];
        for (size_t j = 0; j < C * d; j++) s += (double)fx->gate[c * C * d + j] * u[j];
        gates[c] = s;
    }
    ref_softmax(gates, C);
    for (size_t i = 0; i < N; i++) {
        scores[i] = mag[i] = 0;
        for (size_t c = 0; c < C; c++)
            for (size_t j = 0; j < d; j++) {
                double t = gates[c] * u[c * d + j] * fx->f32[c][i * d + j];
                scores[i] += t;
                mag[i] += fabs(t);
            }
    }
    free(u);
}

/* ---------------------------------------------------------------- the checks */

static const char *dtype_name[] = {"f32", "f16", "i8"};

static void check_against_reference(uint32_t B, uint32_t pool_mode, uint32_t dtype) {
    const uint32_t N = 101, d = 16, C = 3, L = 8;
    fixture fx;
    fixture_make(&fx, N, d, C, L, B, 2, pool_mode, dtype);
    mdsrec_state *st = NULL;
    CHECK(mdsrec_state_new(&fx.m, &st) == MDSREC_OK);
    double tol = dtype == MDSREC_I8 ? 2e-2 : 2e-4;
    double *ref = malloc(N * sizeof(double)), *mag = malloc(N * sizeof(double)), gates[MDSREC_MAX_CHANNELS];
    float *got = malloc(N * sizeof(float));
    uint32_t carriers[MDSREC_MAX_CHANNELS];
    /* histories: one item, a few, exactly L, longer than L (the last L are read) */
    static const uint32_t lens[] = {1, 3, 8, 13};
    for (size_t li = 0; li < 4; li++) {
        uint32_t hist[13];
        for (uint32_t t = 0; t < lens[li]; t++) hist[t] = (t * 37 + li * 11 + 5) % N;
        ref_scores(&fx, hist, lens[li], ref, mag, gates, carriers);
        CHECK(mdsrec_score_all(&fx.m, st, hist, lens[li], got) == MDSREC_OK);
        int ok = 1;
        for (uint32_t i = 0; i < N; i++)
            if (fabs(got[i] - ref[i]) > tol * (mag[i] + 1e-9)) {
                ok = 0;
                fprintf(stderr, "item %u: %.7g vs ref %.7g\n", i, got[i], ref[i]);
                break;
            }
        CHECK_MSG(ok, "score_all vs reference: B=%u pool=%u %s len=%u", B, pool_mode, dtype_name[dtype], lens[li]);

        /* recommend: the top-k of score_all, history excluded, gates and carriers as the reference */
        mdsrec_query q = {hist, lens[li], 10, 0, NULL, 0, NULL, 0};
        mdsrec_result r;
        CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
        CHECK(r.count == 10 && r.n_channels == C);
        double gsum = 0;
        for (uint32_t c = 0; c < C; c++) {
            gsum += r.gates[c];
            CHECK_CLOSE(r.gates[c], gates[c], 1e-3);
            CHECK(r.carriers[c] == carriers[c] || pool_mode != MDSREC_POOL_NONE);
        }
        CHECK_CLOSE(gsum, 1.0, 1e-5);
        /* ordering: best first, no history item, and nothing better left out */
        int order_ok = 1;
        for (uint32_t j = 0; j < r.count; j++) {
            for (uint32_t t = 0; t < lens[li]; t++)
                if (r.items[j] == hist[t]) order_ok = 0;
            if (j && r.scores[j] > r.scores[j - 1]) order_ok = 0;
            if (r.scores[j] != got[r.items[j]]) order_ok = 0;
            double share_sum = 0;
            for (uint32_t c = 0; c < C; c++) share_sum += r.shares[j * C + c];
            if (fabs(share_sum - r.scores[j]) > 1e-4 * (fabs(r.scores[j]) + 1)) order_ok = 0;
        }
        for (uint32_t i = 0; i < N; i++) {
            int in_hist = 0, in_res = 0;
            for (uint32_t t = 0; t < lens[li]; t++) in_hist |= hist[t] == i;
            for (uint32_t j = 0; j < r.count; j++) in_res |= r.items[j] == i;
            if (!in_hist && !in_res && got[i] > r.scores[r.count - 1]) order_ok = 0;
        }
        CHECK_MSG(order_ok, "recommend order: B=%u pool=%u %s len=%u", B, pool_mode, dtype_name[dtype], lens[li]);
    }
    free(ref), free(mag), free(got);
    mdsrec_state_free(st);
    fixture_free(&fx);
}

static int contains(const uint32_t *v, uint32_t n, uint32_t x) {
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

static void check_query_options(void) {
    const uint32_t N = 53, C = 2;
    fixture fx;
    fixture_make(&fx, N, 8, C, 6, 1, 2, MDSREC_POOL_LAST, MDSREC_F32);
    mdsrec_state *st = NULL;
    CHECK(mdsrec_state_new(&fx.m, &st) == MDSREC_OK);
    uint32_t hist[] = {4, 9, 4, 30};
    mdsrec_result r;

    /* include the history: the top-k of all items */
    mdsrec_query q = {hist, 4, N, MDSREC_INCLUDE_HISTORY, NULL, 0, NULL, 0};
    CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
    CHECK(r.count == N);
    /* k above N: every eligible item (N minus the 3 distinct history items) */
    q.flags = 0;
    q.k = 1000;
    CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
    CHECK(r.count == N - 3);
    CHECK(!contains(r.items, r.count, 4) && !contains(r.items, r.count, 9) && !contains(r.items, r.count, 30));
    /* extra exclusions */
    uint32_t excl[] = {0, 1, 2, 2};
    q.exclude = excl, q.exclude_len = 4;
    CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
    CHECK(r.count == N - 6 && !contains(r.items, r.count, 0) && !contains(r.items, r.count, 2));
    /* the bitmaps were cleared: the same call without exclusions gets them back */
    q.exclude = NULL, q.exclude_len = 0;
    CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
    CHECK(r.count == N - 3 && contains(r.items, r.count, 2));
    /* allow-list: only those, each once, history still excluded */
    uint32_t allow[] = {7, 9, 7, 11, 12};
    q.allow = allow, q.allow_len = 5, q.k = 10;
    CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
    CHECK(r.count == 3 && contains(r.items, 3, 7) && contains(r.items, 3, 11) && contains(r.items, 3, 12));
    /* allowed items are ranked exactly as in the full scan */
    uint32_t allow_all[53];
    for (uint32_t i = 0; i < N; i++) allow_all[i] = N - 1 - i;
    q.allow = allow_all, q.allow_len = N, q.k = 5;
    uint32_t via_allow[5];
    CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
    memcpy(via_allow, r.items, sizeof via_allow);
    q.allow = NULL, q.allow_len = 0;
    CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
    CHECK(memcmp(via_allow, r.items, sizeof via_allow) == 0);
    /* the empty allow-list (not NULL) allows nothing */
    q.allow = allow, q.allow_len = 0;
    CHECK(mdsrec_recommend(&fx.m, st, &q, &r) == MDSREC_OK);
    CHECK(r.count == 0);

    /* empty history: popularity order, minus exclusions */
    mdsrec_query e = {NULL, 0, 4, 0, excl, 2, NULL, 0};
    CHECK(mdsrec_recommend(&fx.m, st, &e, &r) == MDSREC_OK);
    uint32_t expect[4], m = 0;
    for (uint32_t i = 0; i < N && m < 4; i++)
        if (fx.pop[i] != 0 && fx.pop[i] != 1) expect[m++] = fx.pop[i];
    CHECK(r.count == 4 && memcmp(r.items, expect, sizeof expect) == 0);
    CHECK(r.carriers[0] == MDSREC_NONE && r.gates[0] == 0.0f);

    /* a history longer than L recommends as its last L items */
    uint32_t longh[20], tail[6];
    for (uint32_t i = 0; i < 20; i++) longh[i] = (i * 5 + 1) % N;
    memcpy(tail, longh + 14, sizeof tail);
    float *s1 = malloc(N * sizeof(float)), *s2 = malloc(N * sizeof(float));
    CHECK(mdsrec_score_all(&fx.m, st, longh, 20, s1) == MDSREC_OK);
    CHECK(mdsrec_score_all(&fx.m, st, tail, 6, s2) == MDSREC_OK);
    CHECK(memcmp(s1, s2, N * sizeof(float)) == 0);
    free(s1), free(s2);

    /* argument errors */
    uint32_t bad[] = {N};
    float sc[53];
    mdsrec_query z = {hist, 4, 0, 0, NULL, 0, NULL, 0};
    CHECK(mdsrec_recommend(&fx.m, st, &z, &r) == MDSREC_EARG); /* k = 0 */
    z.k = 3, z.history = bad, z.history_len = 1;
    CHECK(mdsrec_recommend(&fx.m, st, &z, &r) == MDSREC_EARG);
    z.history = hist, z.history_len = 4, z.exclude = bad, z.exclude_len = 1;
    CHECK(mdsrec_recommend(&fx.m, st, &z, &r) == MDSREC_EARG);
    z.exclude = NULL, z.exclude_len = 0, z.allow = bad, z.allow_len = 1;
    CHECK(mdsrec_recommend(&fx.m, st, &z, &r) == MDSREC_EARG);
    z.allow = NULL, z.allow_len = 0, z.history = NULL;
    CHECK(mdsrec_recommend(&fx.m, st, &z, &r) == MDSREC_EARG); /* NULL history of length 4 */
    CHECK(mdsrec_recommend(NULL, st, &q, &r) == MDSREC_EARG);
    CHECK(mdsrec_recommend(&fx.m, NULL, &q, &r) == MDSREC_EARG);
    CHECK(mdsrec_recommend(&fx.m, st, NULL, &r) == MDSREC_EARG);
    CHECK(mdsrec_recommend(&fx.m, st, &q, NULL) == MDSREC_EARG);
    CHECK(mdsrec_score_all(&fx.m, st, hist, 0, sc) == MDSREC_EARG);
    CHECK(mdsrec_score_all(&fx.m, st, bad, 1, sc) == MDSREC_EARG);
    CHECK(mdsrec_state_new(NULL, &st) == MDSREC_EARG);
    /* a state of another model */
    fixture other;
    fixture_make(&other, N, 8, C, 6, 1, 2, MDSREC_POOL_LAST, MDSREC_F32);
    CHECK(mdsrec_recommend(&other.m, st, &q, &r) == MDSREC_EARG);
    fixture_free(&other);
    mdsrec_state_free(st);
    fixture_free(&fx);
}

/* The prefix cache (model.c): a state that saw a shorter, a changed or a slid history before
   must score exactly (bit for bit) as a new state does: appended clicks, a change in the
   middle, the same history again, a history longer than L (all positions shift), a shorter one. */
static void check_prefix_cache(uint32_t B, uint32_t pool_mode, uint32_t dtype) {
    const uint32_t N = 101, L = 8;
    fixture fx;
    fixture_make(&fx, N, 16, 3, L, B, 2, pool_mode, dtype);
    mdsrec_state *warm = NULL;
    CHECK(mdsrec_state_new(&fx.m, &warm) == MDSREC_OK);
    float *a = malloc(N * sizeof(float)), *b = malloc(N * sizeof(float));
    uint32_t h[12] = {3, 17, 44, 9, 100, 0, 51, 77, 23, 64, 5, 88};
    static const struct { uint32_t len; int change_at; } steps[] = {
        {5, -1}, {6, -1}, {7, -1}, {8, -1}, {8, -1}, {8, 3}, {9, -1}, {12, -1}, {4, -1}, {4, 0}, {1, -1}, {2, -1}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i].change_at >= 0) h[steps[i].change_at] = (h[steps[i].change_at] + 13) % N;
        mdsrec_state *fresh = NULL;
        CHECK(mdsrec_state_new(&fx.m, &fresh) == MDSREC_OK);
        CHECK(mdsrec_score_all(&fx.m, warm, h, steps[i].len, a) == MDSREC_OK);
        CHECK(mdsrec_score_all(&fx.m, fresh, h, steps[i].len, b) == MDSREC_OK);
        CHECK_MSG(memcmp(a, b, N * sizeof(float)) == 0, "prefix cache: pool %u %s step %zu differs from a new state",
                  pool_mode, dtype_name[dtype], i);
        mdsrec_state_free(fresh);
    }
    free(a), free(b);
    mdsrec_state_free(warm);
    fixture_free(&fx);
}

int main(void) {
    printf("kernels: %s\n", kernels_active()->name);
    static const uint32_t pools[] = {MDSREC_POOL_NONE, MDSREC_POOL_LAST, MDSREC_POOL_MEAN, MDSREC_POOL_TOKEN};
    for (uint32_t dt = 0; dt < 3; dt++)
        for (size_t p = 0; p < 4; p++)
            for (uint32_t B = 0; B <= B_MIXED; B++)
                if (B != 1) check_against_reference(B, pools[p], dt);
    check_query_options();
    for (uint32_t dt = 0; dt < 3; dt++)
        for (size_t p = 0; p < 4; p++) {
            check_prefix_cache(2, pools[p], dt);
            check_prefix_cache(B_MIXED, pools[p], dt);
        }
    return check_done("test_forward");
}
