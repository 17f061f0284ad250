/* sample.c - a seeded sample of the visitors as a dataset view (see sample.h). */
#include "eval/sample.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "src/rng.h"

int eval_sample_users(const dataset *ds, uint32_t n, uint64_t seed, dataset *view) {
    memset(view, 0, sizeof *view);
    if (n > ds->n_users) n = ds->n_users;
    view->n_items = ds->n_items;
    view->item_keys = ds->item_keys;
    view->off = malloc(((size_t)n + 1) * sizeof *view->off);
    uint8_t *pick = calloc(ds->n_users ? ds->n_users : 1, 1);
    if (!view->off || !pick) goto oom;
    /* selection sampling: visitor u is taken with probability (still needed)/(still left) */
    uint64_t s = seed, total = 0;
    uint32_t need = n;
    for (uint32_t u = 0; u < ds->n_users && need; u++) {
        uint64_t left = ds->n_users - u;
        if ((splitmix64(&s) >> 11) % left < need) pick[u] = 1, need--, total += ds->off[u + 1] - ds->off[u];
    }
    view->seq = malloc((total ? total : 1) * sizeof *view->seq);
    if (!view->seq) goto oom;
    view->off[0] = 0;
    for (uint32_t u = 0; u < ds->n_users; u++) {
        if (!pick[u]) continue;
        uint64_t len = ds->off[u + 1] - ds->off[u], at = view->off[view->n_users];
        memcpy(view->seq + at, ds->seq + ds->off[u], len * sizeof *view->seq);
        view->off[++view->n_users] = at + len;
    }
    free(pick);
    return 0;
oom:
    free(pick);
    eval_sample_free(view);
    cli_error("out of memory sampling %u visitors", n);
    return -1;
}

void eval_sample_free(dataset *view) {
    free(view->off);
    free(view->seq);
    memset(view, 0, sizeof *view);
}
