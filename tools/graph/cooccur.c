/* cooccur.c - windowed co-occurrence of the training sequences (see cooccur.h). */
#include "graph/cooccur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs BODY with (i, j) for every ordered pair of the training parts within the window. */
#define FOR_EACH_PAIR(BODY)                                                              \
    for (uint32_t u = 0; u < s->n_users; u++) {                                          \
        const uint32_t *t = s->seq + s->off[u];                                          \
        uint64_t tl = ds_train_len(s, u);                                                \
        for (uint64_t p = 0; p < tl; p++)                                                \
            for (uint64_t q = p + 1; q < tl && q - p <= window; q++) {                   \
                if (t[p] == t[q]) continue;                                              \
                uint32_t i = t[p], j = t[q];                                             \
                BODY;                                                                    \
                i = t[q], j = t[p];                                                      \
                BODY;                                                                    \
            }                                                                            \
    }

int cooccur_build(const dataset *s, uint32_t window, csr *bt) {
    memset(bt, 0, sizeof *bt);
    uint32_t n = s->n_items;
    uint64_t *cnt = calloc(n ? n : 1, sizeof *cnt), *row = calloc((size_t)n + 1, sizeof *row);
    uint32_t *cols = NULL;
    int rc = -1;
    if (!cnt || !row) goto oom;
    /* Two passes over the sequences, a bucket per item (a counting sort: O(pairs)), then a
       sort of each item's own columns: no sort of the whole pair list, 4 bytes a pair. */
    for (uint32_t u = 0; u < s->n_users; u++) {
        uint64_t tl = ds_train_len(s, u);
        for (uint64_t p = 0; p < tl; p++) cnt[s->seq[s->off[u] + p]]++;
    }
    FOR_EACH_PAIR((void)j; row[i + 1]++)
    for (uint32_t i = 0; i < n; i++) row[i + 1] += row[i];
    uint64_t np = row[n];
    cols = malloc((np ? np : 1) * sizeof *cols);
    if (!cols) goto oom;
    FOR_EACH_PAIR(cols[row[i]++] = j)
    memmove(row + 1, row, n * sizeof *row); /* the cursors ended at the next row's start */
    row[0] = 0;
    uint64_t distinct = 0;
    for (uint32_t i = 0; i < n; i++) {
        qsort(cols + row[i], row[i + 1] - row[i], sizeof *cols, cmp_u32);
        for (uint64_t a = row[i]; a < row[i + 1]; a++) distinct += a == row[i] || cols[a] != cols[a - 1];
    }
    if (distinct > UINT32_MAX) {
        cli_error("more than 2^32 co-occurring pairs: use a smaller --window");
        goto done;
    }
    if (csr_alloc(bt, n, (uint32_t)distinct) != 0) goto oom;
    uint32_t e = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint64_t a = row[i]; a < row[i + 1];) {
            uint64_t b = a;
            while (b < row[i + 1] && cols[b] == cols[a]) b++;
            uint32_t j = cols[a];
            bt->col[e] = j;
            bt->w[e++] = (float)((double)(b - a) / sqrt((double)cnt[i] * (double)cnt[j]));
            a = b;
        }
        bt->row_ptr[i + 1] = e;
    }
    rc = 0;
    goto done;
oom:
    cli_error("out of memory counting co-occurrences");
done:
    free(cnt);
    free(row);
    free(cols);
    if (rc != 0) csr_free(bt);
    return rc;
}
