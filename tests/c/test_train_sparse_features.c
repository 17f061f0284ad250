/* test_train_sparse_features.c - a mostly-zero feature matrix (attribute lists) is projected
   through its non-zeros; forward and backward must equal the dense sgemm path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_tmodel_helpers.h"
#include "train/tmodel.h"

#define N 23
#define W 40
#define D 8


int main(void) {
    uint64_t rng = 7;
    dataset ds;
    memory_dataset(&ds, "attributes", N, W, calloc(N * W, sizeof(float)));
    feature_matrix *ft = &ds.feat[0];
    for (size_t i = 0; i < N; i++) /* 2 or 3 attributes an item: 1 in 16 non-zero */
        for (size_t a = 0; a < 2 + i % 2; a++) ft->x[i * W + (i * 7 + a * 13) % W] = 0.5f + (float)a;

    tm_spec s;
    memset(&s, 0, sizeof s);
    s.cfg.n_items = N; s.cfg.dim = D; s.cfg.n_channels = 2; s.cfg.max_len = 4;
    s.cfg.n_blocks = 1; s.cfg.n_heads = 2; s.cfg.ffn_dim = 16; s.cfg.ln_eps = 1e-5f;
    s.cfg.channels[0].n_blocks = s.cfg.channels[1].n_blocks = 1;
    s.kind = TM_MDSREC;
    s.prop_k = 2;
    s.ch[0].has_emb = 1;
    s.ch[1].n_feat = 1;
    snprintf(s.ch[1].feat[0], sizeof s.ch[1].feat[0], "attributes");
    s.ch[1].feat_width = W;
    snprintf(s.ch[1].graph, sizeof s.ch[1].graph, "attributes.adj.csr");
    tm_layout(&s);
    tm_inputs in;
    CHECK(tm_inputs_bind(&s, &ds, NULL, 1, 3, &in) == 0);
    CHECK(in.feat_sparse[1].n_rows == N && in.feat_sparse[0].n_rows == 0);

    size_t np = s.n_params, hn = (size_t)2 * N * D;
    float *p = malloc(np * sizeof(float)), *H1 = malloc(hn * sizeof(float)), *H2 = malloc(hn * sizeof(float));
    float *dH = malloc(hn * sizeof(float)), *g1 = calloc(np, sizeof(float)), *g2 = calloc(np, sizeof(float));
    float *scratch = malloc(3 * N * D * sizeof(float));
    tm_init(&s, p, 3);
    for (size_t i = 0; i < np; i++) p[i] += 0.1f * uni(&rng); /* biases not zero */
    float *dh0 = malloc(hn * sizeof(float));
    for (size_t i = 0; i < hn; i++) dh0[i] = uni(&rng);

    tm_items_forward(&s, &in, p, H1, scratch);
    memcpy(dH, dh0, hn * sizeof(float));
    tm_items_backward(&s, &in, dH, g1, scratch);
    tm_inputs_densify(&in);
    CHECK(in.feat_sparse[1].n_rows == 0);
    tm_items_forward(&s, &in, p, H2, scratch);
    memcpy(dH, dh0, hn * sizeof(float));
    tm_items_backward(&s, &in, dH, g2, scratch);

    double eh = 0, eg = 0, gmax = 0;
    for (size_t i = 0; i < hn; i++) eh = fmax(eh, fabs((double)H1[i] - H2[i]));
    for (size_t i = 0; i < np; i++) eg = fmax(eg, fabs((double)g1[i] - g2[i])), gmax = fmax(gmax, fabs(g2[i]));
    printf("sparse vs dense: |dH| %.2e, |dgrad| %.2e (largest gradient %.2e)\n", eh, eg, gmax);
    CHECK(eh < 1e-5);
    CHECK(gmax > 0.1 && eg < 1e-5);

    tm_inputs_free(&in);
    free(ft->x); free(p); free(H1); free(H2); free(dH); free(g1); free(g2); free(scratch); free(dh0);
    return check_done("test_train_sparse_features");
}
