/*
 * test_train_grad_model.c - finite-difference check of the whole model's gradient: item side
 * (embeddings, feature projections, graph propagation), every channel's encoder and pooling,
 * the gate, the fused score over all items and the cross-entropy (tools/train/step.c), with
 * and without the fusion training options (auxiliary losses, channel dropout, fixed gate) and
 * the training objectives (sampled softmax with uniform or popular negatives and logQ, label
 * smoothing), on a tiny configuration: N = 11 items, d = 8, 2 heads, 1 or 2 blocks, L = 6, three channels
 * (id + two feature matrices with content graphs), and the sasrecf layout.
 *
 * Central differences with eps 1e-2 on float forwards; relative error <= 2e-2 with a floor
 * of 1e-3 on the denominator (the mean cross-entropy's gradients are small).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gradcheck.h"
#include "train/graph_content.h"
#include "train/step.h"
#include "train/tmodel.h"

#define TOL 2e-2
#define FLOOR 1e-3

static uint64_t rng = 4242;
/* the loss of the next run() calls: NULL = full softmax (step_set_loss not called) */
static const step_loss *g_loss;
/* the central differences' step of the next run() calls */
static float g_eps = 1e-2f;
static const uint32_t g_counts[11] = {9, 0, 3, 1, 7, 2, 2, 5, 0, 4, 1};

typedef struct {
    tm_spec *s;
    tm_inputs *in;
    step_ctx *st;
    step_window *w;
    size_t nw;
    float *params, *scratch_grads;
} m_ctx;

static double m_loss(void *p) {
    m_ctx *c = p;
    return step_run(c->st, c->params, c->w, c->nw, c->scratch_grads);
}

static void run(const char *label, tm_spec *s, tm_inputs *in, int threads, const step_fusion *fu) {
    static const uint32_t seqs[3][7] = {{1, 4, 2, 7, 3, 9, 0}, {5, 5, 8, 10, 6, 2, 1}, {3, 1, 4, 1, 5, 9, 2}};
    step_window w[4] = {{seqs[0], 6, 1}, {seqs[1], 3, 2}, {seqs[2], 5, 3}, {seqs[1] + 3, 2, 4}};
    tm_layout(s);
    float *params = malloc(s->n_params * sizeof(float));
    float *grads = malloc(s->n_params * sizeof(float));
    float *tmp = malloc(s->n_params * sizeof(float));
    tm_init(s, params, 7);
    /* larger than the init's 0.02 so that every part moves the loss measurably */
    for (size_t i = 0; i < s->n_params; i++) params[i] += 0.3f * gc_uniform(&rng);
    step_ctx *st = step_new(s, in, 4, 0, 0, threads);
    CHECK(st != NULL);
    if (!st) return;
    if (fu) step_set_fusion(st, fu);
    if (g_loss) CHECK(step_set_loss(st, g_loss, g_counts) == 0);
    m_ctx c = {s, in, st, w, 4, params, tmp};
    double loss = step_run(st, params, w, 4, grads);
    CHECK(isfinite(loss) && loss > 0);
    gc_eps = g_eps;
    double worst = 0;
    char name[128];
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        const tm_channel *ch = &s->ch[k];
        struct { const char *what; size_t o, n; } parts[] = {
            {"E", ch->o_emb, ch->has_emb ? (size_t)s->cfg.n_items * s->cfg.dim : 0},
            {"W", ch->o_w, (size_t)ch->feat_width * s->cfg.dim},
            {"b", ch->o_b, ch->n_feat ? s->cfg.dim : 0},
            {"pos", ch->o_pos, 6 * s->cfg.dim},
            {"encoder", ch->o_enc, bundle_encoder_floats(&s->cfg, k)},
            {"pool", ch->o_pool, bundle_pool_floats(&s->cfg)},
        };
        for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
            if (!parts[p].n) continue;
            if (fu && fu->force_out >> k & 1) { /* left out: not one weight of it moves */
                size_t nz = 0;
                for (size_t i = 0; i < parts[p].n; i++) nz += grads[parts[p].o + i] != 0;
                CHECK_MSG(nz == 0, "%s ch %u %s: %zu of %zu gradients not zero", label, k, parts[p].what, nz,
                          parts[p].n);
                continue;
            }
            double e = gc_check(params + parts[p].o, grads + parts[p].o, parts[p].n, 25, m_loss, &c, &rng, FLOOR);
            snprintf(name, sizeof name, "%s ch %u %s", label, k, parts[p].what);
            printf("  %-34s max rel err %.2e\n", name, e);
            CHECK_MSG(e <= TOL, "%s: %.3g", name, e);
            if (e > worst) worst = e;
        }
    }
    size_t ng = s->n_params - s->o_gate, g0 = s->o_gate;
    if (fu && fu->gate_fixed) {
        /* a fixed gate gets no gradient at all; a global one none on Wg, and bg is checked */
        size_t nw = fu->gate_fixed == STEP_GATE_GLOBAL ? (size_t)s->cfg.n_channels * s->cfg.n_channels * s->cfg.dim : ng;
        size_t nz = 0;
        for (size_t i = 0; i < nw; i++) nz += grads[s->o_gate + i] != 0;
        CHECK_MSG(nz == 0, "%s: %zu gate gradients not zero", label, nz);
        ng -= nw;
        g0 += nw;
        if (fu->gate_fixed == STEP_GATE_GLOBAL) {
            size_t nb = 0;
            for (size_t i = 0; i < ng; i++) nb += grads[g0 + i] != 0;
            CHECK_MSG(nb == ng, "%s: %zu of %zu bg gradients are zero", label, ng - nb, ng);
        }
    }
    double e = ng ? gc_check(params + g0, grads + g0, ng, 20, m_loss, &c, &rng, FLOOR) : 0;
    snprintf(name, sizeof name, "%s gate", label);
    printf("  %-34s max rel err %.2e\n", name, e);
    CHECK_MSG(e <= TOL, "%s: %.3g", name, e);
    printf("  %s: worst %.2e, loss %.4f\n", label, fmax(worst, e), loss);
    /* data-parallel shares (step_run_part, dist.h): windows [0,1), [1,1) (empty), [1,3), [3,4)
       add up to the whole batch's objective and gradient, up to float rounding */
    {
        static const size_t cut[5] = {0, 1, 1, 3, 4};
        double lsum = 0, gmax = 0, dmax = 0;
        float *gsum = calloc(s->n_params, sizeof(float));
        step_run(st, params, w, 4, grads);
        for (int part = 0; part < 4 && gsum; part++) {
            double l = step_run_part(st, params, w, 4, cut[part], cut[part + 1], tmp);
            if (cut[part] == cut[part + 1]) CHECK_MSG(l == 0, "%s: an empty share's loss %g", label, l);
            lsum += l;
            for (size_t i = 0; i < s->n_params; i++) gsum[i] += tmp[i];
        }
        for (size_t i = 0; gsum && i < s->n_params; i++) {
            gmax = fmax(gmax, fabs(grads[i]));
            dmax = fmax(dmax, fabs((double)grads[i] - gsum[i]));
        }
        CHECK_MSG(gsum && fabs(lsum - loss) <= 1e-5 * loss, "%s: shares' loss %.9g, batch %.9g", label, lsum, loss);
        CHECK_MSG(gsum && dmax <= 1e-5 * gmax, "%s: shares' gradient off by %.3g (largest %.3g)", label, dmax, gmax);
        CHECK(isnan(step_run_part(st, params, w, 4, 3, 2, tmp)));
        free(gsum);
    }
    gc_eps = 1e-3f;
    step_free(st);
    free(params);
    free(grads);
    free(tmp);
}

static void base_cfg(tm_spec *s, uint32_t channels, uint32_t blocks, uint32_t pool) {
    memset(s, 0, sizeof *s);
    s->cfg.n_items = 11; s->cfg.dim = 8; s->cfg.n_channels = channels; s->cfg.max_len = 6;
    s->cfg.n_blocks = blocks; s->cfg.n_heads = 2; s->cfg.ffn_dim = 16; s->cfg.pool_mode = pool;
    s->cfg.ln_eps = 1e-5f;
    for (uint32_t k = 0; k < MDSREC_MAX_CHANNELS; k++) s->cfg.channels[k].n_blocks = blocks;
    s->prop_k = 2;
}

int main(void) {
    /* two feature matrices: 11 items x 5 and x 3, L2-normalised */
    dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n_items = 11;
    ds.path = "memory";
    uint32_t widths[2] = {5, 3};
    const char *names[2] = {"image", "text"};
    for (int f = 0; f < 2; f++) {
        feature_matrix *ft = &ds.feat[f];
        ft->name = (char *)names[f];
        ft->rows = 11;
        ft->width = widths[f];
        ft->x = malloc(11 * widths[f] * sizeof(float));
        for (size_t i = 0; i < 11; i++) {
            double n2 = 0;
            for (size_t j = 0; j < widths[f]; j++) {
                float x = gc_uniform(&rng) + 0.5f;
                ft->x[i * widths[f] + j] = x;
                n2 += x * x;
            }
            for (size_t j = 0; j < widths[f]; j++) ft->x[i * widths[f] + j] /= (float)sqrt(n2);
        }
    }
    ds.n_features = 2;

    for (uint32_t pool = 0; pool <= 3; pool++) {
        tm_spec s;
        base_cfg(&s, 3, pool == 1 ? 2 : 1, pool);
        s.kind = TM_MDSREC;
        s.ch[0].has_emb = 1;
        for (int f = 0; f < 2; f++) {
            tm_channel *ch = &s.ch[1 + f];
            ch->n_feat = 1;
            snprintf(ch->feat[0], sizeof ch->feat[0], "%s", names[f]);
            ch->feat_width = widths[f];
            snprintf(ch->graph, sizeof ch->graph, "%s.adj.csr", names[f]);
        }
        tm_inputs in;
        int rc = tm_inputs_bind(&s, &ds, NULL, 1, 3, &in);
        CHECK(rc == 0);
        if (rc) continue;
        CHECK(in.graph[1].nnz > 0 && in.graph[2].nnz > 0);
        char label[32];
        snprintf(label, sizeof label, "mdsrec pool %u", pool);
        run(label, &s, &in, pool == 2 ? 2 : 1, NULL);
        if (pool == 1) {
            /* the fusion training options: per-channel auxiliary losses and channel dropout
               (window seeds 1..4 leave out some channels), then a fixed gate */
            step_fusion fu = {0.7f, 0.4f, 0, 0, 0};
            run("mdsrec aux + channel drop", &s, &in, 2, &fu);
            step_fusion fx = {0.5f, 0.0f, STEP_GATE_FIXED, 0, 0};
            run("mdsrec aux + fixed gate", &s, &in, 1, &fx);
            /* (the two below on a stream of their own: the draws of the rows after stay as they were) */
            uint64_t keep_rng = rng;
            rng = 99;
            step_fusion fg = {0.5f, 0.3f, STEP_GATE_GLOBAL, 0, 0};
            run("mdsrec aux + global gate", &s, &in, 2, &fg);
            /* graph-smoothed ids (--id-graph): the id channel propagated over a graph too */
            CHECK(graph_content(ds.feat[0].x, 11, widths[0], 3, &in.graph[0]) == 0);
            snprintf(s.ch[0].graph, sizeof s.ch[0].graph, "behaviour.adj.csr");
            run("mdsrec id graph", &s, &in, 2, &fu);
            csr_free(&in.graph[0]);
            memset(&in.graph[0], 0, sizeof in.graph[0]);
            s.ch[0].graph[0] = 0;
            /* --channel-ids: every modality channel adds a learned item embedding to its
               projected features before propagation (E_m[i] + W f_i + b) */
            tm_spec ci = s;
            ci.ch[1].has_emb = ci.ch[2].has_emb = 1;
            run("mdsrec channel ids", &ci, &in, 2, &fx); /* the shipped fusion */
            /* --channel-blocks: modality channels with fewer blocks than the id channel's 2 */
            tm_spec cb = ci;
            cb.cfg.channels[1].n_blocks = 0, cb.cfg.channels[2].n_blocks = 1;
            /* a smaller step: with no block between them, the projection's bias reaches the
               pooling through one LayerNorm, curved enough that the differences' error at a
               step of 1e-2 is 2.7e-2 (it falls with the step squared: 5.9e-3 at 3e-3) */
            g_eps = 3e-3f;
            run("mdsrec channel blocks 2, 0, 1", &cb, &in, 2, &fx);
            g_eps = 1e-2f;
            /* --emb-drop: the batch leaves some items' learned embeddings out of the channels
               with features (their rows: features alone, no gradient), full softmax and sampled
               (the sampled step computes its rows on item_rows' balls) */
            step_fusion fe = {0.5f, 0.0f, STEP_GATE_FIXED, 0.4f, 0};
            run("mdsrec channel ids + emb drop", &ci, &in, 2, &fe);
            step_loss uni_e = {6, STEP_NEG_UNIFORM, 0, 0};
            g_loss = &uni_e;
            run("mdsrec channel ids + emb drop, sampled", &ci, &in, 1, &fe);
            /* --modality-first: the id channel (0) left out of the gate and its own loss, with a
               learned gate and channel dropout on the others (at 0.7 some windows draw none of them:
               one is kept); sampled and full softmax. At the
               step of 3e-3 (the same fusion without it gives 1.3e-2 and 1.4e-2 there; at 1e-2
               both are above TOL from the curvature alone) */
            step_fusion fm = {0.5f, 0.7f, STEP_GATE_LEARNED, 0, 1u};
            g_eps = 3e-3f;
            run("mdsrec modality first, sampled", &ci, &in, 2, &fm);
            g_loss = NULL;
            run("mdsrec modality first", &ci, &in, 2, &fm);
            g_eps = 1e-2f;
            rng = keep_rng;
            /* one encoder and pooling for all three channels: their gradients add up */
            tm_spec sh = s;
            sh.shared_encoder = 1;
            run("mdsrec shared encoder", &sh, &in, 2, NULL);
            /* the training objectives of step_loss: sampled softmax (uniform and popular with
               logQ; 6 negatives of 11 items, so some equal a target and are left out) and label
               smoothing, alone and with the per-channel auxiliary losses */
            step_loss uni = {6, STEP_NEG_UNIFORM, 0, 0}, pop = {6, STEP_NEG_POPULAR, 0.1f, 0}, ls = {0, 0, 0.2f, 0};
            g_loss = &uni;
            run("mdsrec sampled uniform", &s, &in, 2, NULL);
            g_loss = &pop;
            run("mdsrec sampled popular + aux", &s, &in, 1, &fu);
            g_loss = &ls;
            run("mdsrec smoothing + aux", &s, &in, 2, &fu);
            step_loss aux_only = {0, STEP_NEG_UNIFORM, 0, 5};
            g_loss = &aux_only;
            run("mdsrec full + sampled aux", &s, &in, 2, &fu);
            g_loss = NULL;
        }
        tm_inputs_free(&in);
    }
    {
        tm_spec s;
        base_cfg(&s, 1, 2, 0);
        s.kind = TM_SASRECF;
        s.ch[0].has_emb = 1;
        s.ch[0].n_feat = 2;
        snprintf(s.ch[0].feat[0], 25, "image");
        snprintf(s.ch[0].feat[1], 25, "text");
        s.ch[0].feat_width = 8;
        tm_inputs in;
        int rc = tm_inputs_bind(&s, &ds, NULL, 1, 3, &in);
        CHECK(rc == 0);
        if (!rc) run("sasrecf", &s, &in, 1, NULL);
        tm_inputs_free(&in);
    }
    for (int f = 0; f < 2; f++) free(ds.feat[f].x);
    return check_done("test_train_grad_model");
}
