/* bundle_link.c - new items linked back into the older items' neighbour lists (bundle_edit.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export/bundle_edit.h"

typedef struct {
    uint32_t row, item;
    float w;
} cand;

/* By row, then strongest first, then the smaller item. */
static int cand_cmp(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    if (a->row != b->row) return a->row < b->row ? -1 : 1;
    if (a->w != b->w) return a->w > b->w ? -1 : 1;
    return a->item < b->item ? -1 : a->item > b->item;
}

/* Channel c: merges the candidates (sorted) into the lists, writing a new CSR. */
static int merge_channel(csr *m, const cand *cs, size_t nc, uint32_t first, uint32_t k, uint64_t *linked) {
    uint32_t n = m->n_rows;
    size_t cap = (size_t)m->nnz + nc;
    csr out = {0};
    out.n_rows = n;
    out.row_ptr = malloc((n + 1) * sizeof(uint32_t));
    out.col = malloc((cap + 1) * sizeof(uint32_t));
    out.w = malloc((cap + 1) * sizeof(float));
    if (!out.row_ptr || !out.col || !out.w) {
        csr_free(&out);
        return -1;
    }
    size_t q = 0, e = 0;
    out.row_ptr[0] = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t lo = m->row_ptr[j], hi = m->row_ptr[j + 1], len = hi - lo;
        uint32_t keep = j < first && len < k ? k : len; /* new items' own lists are left alone */
        uint32_t put = 0;
        while (put < keep && (lo < hi || (q < nc && cs[q].row == j))) {
            int take_new = q < nc && cs[q].row == j && (lo == hi || cs[q].w > m->w[lo]);
            if (take_new) {
                out.col[e] = cs[q].item, out.w[e] = cs[q++].w;
                ++*linked;
            } else {
                out.col[e] = m->col[lo], out.w[e] = m->w[lo++];
            }
            e++, put++;
        }
        while (q < nc && cs[q].row == j) q++; /* the ones that did not make it */
        out.row_ptr[j + 1] = (uint32_t)e;
    }
    out.nnz = (uint32_t)e;
    csr_free(m);
    *m = out;
    return 0;
}

int edit_bundle_link_back(edit_bundle *b, uint32_t first, uint32_t k, uint64_t *linked) {
    *linked = 0;
    for (uint32_t c = 0; c < b->cfg.n_channels; c++) {
        csr *m = &b->nb[c];
        if (!m->n_rows || first >= m->n_rows) continue;
        size_t nc = 0;
        for (uint32_t i = first; i < m->n_rows; i++)
            for (uint32_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; e++) nc += m->col[e] < first;
        if (!nc) continue;
        cand *cs = malloc(nc * sizeof *cs);
        if (!cs) goto oom;
        size_t t = 0;
        for (uint32_t i = first; i < m->n_rows; i++)
            for (uint32_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; e++)
                if (m->col[e] < first) cs[t++] = (cand){m->col[e], i, m->w[e]};
        qsort(cs, nc, sizeof *cs, cand_cmp);
        uint64_t before = *linked;
        int rc = merge_channel(m, cs, nc, first, k, linked);
        free(cs);
        if (rc) {
            *linked = before;
            goto oom;
        }
    }
    return 0;
oom:
    /* channels merged before this one keep their new links: say so rather than pretend */
    cli_error("out of memory linking new items back into neighbour lists (%llu links made)",
              (unsigned long long)*linked);
    return -1;
}
