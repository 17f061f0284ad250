/* graph_content.c - cosine top-k graph, symmetrised and normalised (graph_content.h). */
#include "graph_content.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gemm.h"

typedef struct {
    uint32_t r, c;
    float w;
} edge;

static int cmp_edge(const void *a, const void *b) {
    const edge *x = a, *y = b;
    if (x->r != y->r) return x->r < y->r ? -1 : 1;
    if (x->c != y->c) return x->c < y->c ? -1 : 1;
    return 0;
}

int graph_content(const float *f, uint32_t n, uint32_t width, uint32_t k, csr *out) {
    memset(out, 0, sizeof *out);
    if (k >= n) k = n - 1;
    const size_t blk = 256;
    float *sim = malloc(blk * (size_t)n * sizeof(float));
    edge *e = malloc(2 * (size_t)n * (k ? k : 1) * sizeof(edge));
    uint32_t *top = malloc((k + 1) * sizeof(uint32_t));
    if (!sim || !e || !top) goto oom;
    size_t ne = 0;
    for (size_t r0 = 0; r0 < n; r0 += blk) {
        size_t rows = n - r0 < blk ? n - r0 : blk;
        gemm(0, 1, rows, n, width, 1.0f, f + r0 * width, width, f, width, 0.0f, sim, n);
        for (size_t i = 0; i < rows; i++) {
            float *s = sim + i * n;
            s[r0 + i] = -INFINITY; /* no self loop */
            /* insertion into a small sorted list: k is ~10 */
            uint32_t cnt = 0;
            for (uint32_t j = 0; j < n; j++) {
                if (!(s[j] > 0.0f)) continue;
                if (cnt == k && s[j] <= s[top[cnt - 1]]) continue;
                uint32_t p = cnt < k ? cnt++ : k - 1;
                while (p > 0 && s[top[p - 1]] < s[j]) {
                    top[p] = top[p - 1];
                    p--;
                }
                top[p] = j;
            }
            for (uint32_t t = 0; t < cnt; t++) {
                float w = 0.5f * s[top[t]];
                e[ne++] = (edge){(uint32_t)(r0 + i), top[t], w};
                e[ne++] = (edge){top[t], (uint32_t)(r0 + i), w};
            }
        }
    }
    qsort(e, ne, sizeof *e, cmp_edge);
    /* merge duplicates (an edge kept from both ends) */
    size_t m = 0;
    for (size_t i = 0; i < ne; i++) {
        if (m && e[m - 1].r == e[i].r && e[m - 1].c == e[i].c)
            e[m - 1].w += e[i].w;
        else
            e[m++] = e[i];
    }
    out->n_rows = n;
    out->nnz = (uint32_t)m;
    out->row_ptr = calloc((size_t)n + 1, sizeof(uint32_t));
    out->col = malloc((m ? m : 1) * sizeof(uint32_t));
    out->w = malloc((m ? m : 1) * sizeof(float));
    float *deg = calloc(n, sizeof(float));
    if (!out->row_ptr || !out->col || !out->w || !deg) {
        free(deg);
        goto oom;
    }
    for (size_t i = 0; i < m; i++) {
        out->row_ptr[e[i].r + 1]++;
        deg[e[i].r] += e[i].w;
    }
    for (uint32_t r = 0; r < n; r++) out->row_ptr[r + 1] += out->row_ptr[r];
    for (size_t i = 0; i < m; i++) {
        out->col[i] = e[i].c;
        out->w[i] = e[i].w / sqrtf(deg[e[i].r] * deg[e[i].c]);
    }
    free(deg);
    free(sim);
    free(e);
    free(top);
    return 0;
oom:
    cli_error("content graph of %u items: out of memory", n);
    free(sim);
    free(e);
    free(top);
    csr_free(out);
    return -1;
}
