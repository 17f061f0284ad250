/*
 * test_item_rows.c - the item side on a step's rows only (tools/train/item_rows.h) against the
 * whole catalogue's (tmodel.h), on 4,000 items where a few windows' balls cover a fraction:
 *   - forward: H's rows of S equal tm_items_forward's, bit for bit for the id channel (with and
 *     without a graph) and the sparse attribute channel, within 1e-6 for the dense projection;
 *   - backward: from a dH that is random on S and zero elsewhere, the same gradients;
 *   - a whole sampled-softmax step (step_run) with the rows path and with all N rows: the same
 *     loss and gradient; and the balls really are smaller than the catalogue.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gradcheck.h"
#include "train/item_rows.h"
#include "train/step.h"
#include "train/tmodel.h"

#define N_ITEMS 4000
#define DIM 8

static uint64_t rng = 77;

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

/* largest |a - b| over the rows of items[] of two (rows, d) matrices */
static double rows_diff(const float *a, const float *b, const uint32_t *items, size_t n, size_t d) {
    double m = 0;
    for (size_t q = 0; q < n; q++)
        for (size_t j = 0; j < d; j++) m = fmax(m, fabs((double)a[items[q] * d + j] - b[items[q] * d + j]));
    return m;
}

static int ring_graph(csr *g, uint32_t n) {
    if (csr_alloc(g, n, 4 * n)) return -1;
    uint32_t e = 0;
    for (uint32_t i = 0; i < n; i++) {
        static const int off[4] = {-2, -1, 1, 2};
        for (int o = 0; o < 4; o++) {
            g->col[e] = (uint32_t)(((int64_t)i + off[o] + n) % n);
            g->w[e++] = 0.1f + 0.05f * (float)o + 0.01f * (float)(i % 3);
        }
        g->row_ptr[i + 1] = e;
    }
    return 0;
}

int main(void) {
    /* features: "image" dense (width 6), "tags" multi-hot (3 of 200: sparse form) */
    dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n_items = N_ITEMS;
    ds.path = "memory";
    static const char *names[2] = {"image", "tags"};
    static const uint32_t widths[2] = {6, 200};
    for (int f = 0; f < 2; f++) {
        feature_matrix *ft = &ds.feat[f];
        ft->name = (char *)names[f];
        ft->rows = N_ITEMS;
        ft->width = widths[f];
        ft->x = calloc((size_t)N_ITEMS * widths[f], sizeof(float));
        for (size_t i = 0; i < N_ITEMS; i++) {
            if (f == 0)
                for (size_t j = 0; j < widths[f]; j++) ft->x[i * widths[f] + j] = gc_uniform(&rng) + 0.6f;
            else
                for (int t = 0; t < 3; t++) ft->x[i * 200 + (size_t)(gc_uniform(&rng) * 99.99f + 100.0f)] = 1.0f;
        }
    }
    ds.n_features = 2;

    tm_spec s;
    memset(&s, 0, sizeof s);
    s.kind = TM_MDSREC;
    s.cfg.n_items = N_ITEMS; s.cfg.dim = DIM; s.cfg.n_channels = 3; s.cfg.max_len = 6;
    s.cfg.n_blocks = 1; s.cfg.n_heads = 2; s.cfg.ffn_dim = 16; s.cfg.ln_eps = 1e-5f;
    for (uint32_t k = 0; k < 3; k++) s.cfg.channels[k].n_blocks = 1;
    s.prop_k = 2;
    s.ch[0].has_emb = 1;
    for (int f = 0; f < 2; f++) {
        tm_channel *ch = &s.ch[1 + f];
        ch->has_emb = f == 1; /* the tags channel also learns ids (--channel-ids) */
        ch->n_feat = 1;
        snprintf(ch->feat[0], sizeof ch->feat[0], "%s", names[f]);
        ch->feat_width = widths[f];
        snprintf(ch->graph, sizeof ch->graph, "%s.adj.csr", names[f]);
    }
    tm_layout(&s);
    tm_inputs in;
    int rc = tm_inputs_bind(&s, &ds, NULL, 1, 3, &in);
    CHECK(rc == 0);
    if (rc) return check_done("test_item_rows");
    CHECK(in.feat_sparse[2].n_rows == N_ITEMS && in.feat_sparse[1].n_rows == 0);
    /* the id and image channels over a ring (i - 2 .. i + 2, uneven weights), whose balls are
       known: radius 2 around an item is 9 items; the tags channel keeps its content graph,
       whose hubs make larger balls */
    for (int k = 0; k < 2; k++) {
        csr_free(&in.graph[k]);
        CHECK(ring_graph(&in.graph[k], N_ITEMS) == 0);
    }

    size_t N = N_ITEMS, d = DIM, C = 3;
    float *params = malloc(s.n_params * sizeof(float));
    tm_init(&s, params, 5);
    for (size_t i = 0; i < s.n_params; i++) params[i] += 0.3f * gc_uniform(&rng);
    float *H = malloc(C * N * d * sizeof(float)), *Hr = malloc(C * N * d * sizeof(float));
    float *scratch = malloc(2 * N * d * sizeof(float));
    item_rows ir;
    CHECK(item_rows_init(&ir, &s) == 0);

    ir.threads = 2; /* the rounds split over two workers give the one-worker bits */
    /* S: 12 items spread over the catalogue, some twice */
    uint32_t S[12];
    for (size_t i = 0; i < 12; i++) S[i] = (uint32_t)((i * 977 + 13) % N);
    item_rows_clear(&ir);
    item_rows_add(&ir, S, 12);
    item_rows_add(&ir, S, 5);
    CHECK(ir.seed_n == 12);

    tm_items_forward(&s, &in, params, H, scratch);
    for (size_t i = 0; i < C * N * d; i++) Hr[i] = NAN; /* rows off S stay unread: poison them */
    item_rows_forward(&ir, &s, &in, params, Hr, scratch);
    for (size_t k = 0; k < C; k++) {
        double e = rows_diff(H + k * N * d, Hr + k * N * d, ir.seed, ir.seed_n, d);
        printf("  forward channel %zu: ball %zu of %zu items, max |diff| %.3g\n", k, ir.ball_n[k], N, e);
        if (k < 2)
            CHECK_MSG(ir.ball_n[k] == 9 * ir.seed_n, "channel %zu: ball %zu", k, ir.ball_n[k]);
        else
            CHECK_MSG(ir.ball_n[k] > ir.seed_n && ir.ball_n[k] < N / 2, "channel %zu: ball %zu", k, ir.ball_n[k]);
        if (k == 1)
            CHECK_MSG(e <= 1e-6 * max_abs(H + k * N * d, N * d), "dense channel: %.3g", e);
        else
            CHECK_MSG(e == 0, "channel %zu not bit for bit: %.3g", k, e);
    }

    /* backward from a dH random on S, zero elsewhere */
    float *dH = calloc(C * N * d, sizeof(float)), *dHr = malloc(C * N * d * sizeof(float));
    float *g = calloc(s.n_params, sizeof(float)), *gr = calloc(s.n_params, sizeof(float));
    for (size_t k = 0; k < C; k++)
        for (size_t q = 0; q < ir.seed_n; q++)
            for (size_t j = 0; j < d; j++) dH[(k * N + ir.seed[q]) * d + j] = gc_uniform(&rng);
    for (size_t i = 0; i < C * N * d; i++) dHr[i] = NAN;
    for (size_t k = 0; k < C; k++)
        for (size_t q = 0; q < ir.seed_n; q++)
            memcpy(dHr + (k * N + ir.seed[q]) * d, dH + (k * N + ir.seed[q]) * d, d * sizeof(float));
    tm_items_backward(&s, &in, dH, g, scratch);
    item_rows_backward(&ir, &s, &in, dHr, gr, scratch);
    for (size_t k = 0; k < C; k++) {
        const tm_channel *ch = &s.ch[k];
        size_t lo = ch->has_emb ? ch->o_emb : ch->o_w, hi = ch->o_b + (ch->n_feat ? d : 0);
        double e = 0, m = max_abs(g + lo, hi - lo);
        size_t nz = 0;
        for (size_t i = lo; i < hi; i++) {
            e = fmax(e, fabs((double)g[i] - gr[i]));
            nz += g[i] != 0;
        }
        printf("  backward channel %zu: %zu non-zero gradients, max |diff| %.3g of %.3g\n", k, nz, e, m);
        CHECK(m > 0 && nz < (hi - lo) / 2 + (ch->n_feat ? ch->feat_width * d : 0));
        if (k == 1)
            CHECK_MSG(e <= 1e-6 * m, "dense channel: %.3g", e);
        else
            CHECK_MSG(e == 0, "channel %zu not bit for bit: %.3g", k, e);
    }

    /* a whole sampled-softmax step, with the aux losses: rows path against all N rows */
    {
        static const uint32_t seqs[3][7] = {{1, 400, 2, 1700, 3, 999, 0}, {5, 5, 800, 10, 6, 1200, 1},
                                            {3, 1, 4, 1, 5, 9, 1500}};
        step_window w[4] = {{seqs[0], 6, 1}, {seqs[1], 3, 2}, {seqs[2], 5, 3}, {seqs[1] + 3, 2, 4}};
        step_loss lo = {16, STEP_NEG_POPULAR, 0.1f, 0};
        step_fusion fu = {0.5f, 0.3f, STEP_GATE_GLOBAL, 0.25f, 0}; /* with --emb-drop's rows */
        uint32_t *counts = calloc(N, sizeof(uint32_t));
        for (size_t i = 0; i < N; i++) counts[i] = (uint32_t)(i % 17);
        float *ga = malloc(s.n_params * sizeof(float)), *gb = malloc(s.n_params * sizeof(float));
        step_ctx *st = step_new(&s, &in, 4, 0.1f, 0.1f, 2);
        CHECK(st != NULL);
        if (st) {
            step_set_fusion(st, &fu);
            CHECK(step_set_loss(st, &lo, counts) == 0);
            double la = step_run(st, params, w, 4, ga);
            step_set_item_rows(st, 0);
            double lb = step_run(st, params, w, 4, gb);
            double e = 0, m = max_abs(gb, s.n_params);
            for (size_t i = 0; i < s.n_params; i++) e = fmax(e, fabs((double)ga[i] - gb[i]));
            printf("  step: loss %.9g (rows) %.9g (all), gradient max |diff| %.3g of %.3g\n", la, lb, e, m);
            CHECK(isfinite(la) && fabs(la - lb) <= 1e-6 * fabs(lb));
            CHECK_MSG(e <= 1e-6 * m, "step gradient: %.3g", e);
            /* and back on: the same as the first run, bit for bit (nothing stale is read) */
            step_set_item_rows(st, 1);
            double lc = step_run(st, params, w, 4, gb);
            CHECK(lc == la && !memcmp(ga, gb, s.n_params * sizeof(float)));
            step_free(st);
        }
        free(counts);
        free(ga);
        free(gb);
    }

    item_rows_free(&ir);
    free(params); free(H); free(Hr); free(scratch); free(dH); free(dHr); free(g); free(gr);
    tm_inputs_free(&in);
    for (int f = 0; f < 2; f++) free(ds.feat[f].x);
    return check_done("test_item_rows");
}
