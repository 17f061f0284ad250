/* cooccur.c - windowed co-occurrence of the training sequences (see cooccur.h). */
#include "graph/cooccur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int cooccur_build(const dataset *s, uint32_t window, csr *bt) {
    memset(bt, 0, sizeof *bt);
    uint32_t n = s->n_items;
    uint64_t *cnt = calloc(n ? n : 1, sizeof *cnt);
    size_t np = 0;
    for (uint32_t u = 0; u < s->n_users; u++) {
        uint64_t tl = ds_train_len(s, u);
        for (uint64_t p = 0; p < tl; p++) np += 2 * (tl - p - 1 < window ? tl - p - 1 : window);
    }
    uint64_t *pairs = malloc((np ? np : 1) * sizeof *pairs);
    int rc = -1;
    if (!cnt || !pairs) goto oom;
    cli_progress bar;
    cli_progress_start(&bar, "co-occurrence", s->n_users);
    size_t k = 0;
    for (uint32_t u = 0; u < s->n_users; u++) {
        const uint32_t *t = s->seq + s->off[u];
        uint64_t tl = ds_train_len(s, u);
        for (uint64_t p = 0; p < tl; p++) {
            cnt[t[p]]++;
            for (uint64_t q = p + 1; q < tl && q - p <= window; q++) {
                if (t[p] == t[q]) continue;
                pairs[k++] = (uint64_t)t[p] << 32 | t[q];
                pairs[k++] = (uint64_t)t[q] << 32 | t[p];
            }
        }
        cli_progress_update(&bar, u);
    }
    cli_progress_end(&bar);
    qsort(pairs, k, sizeof *pairs, cmp_u64);
    size_t distinct = 0;
    for (size_t a = 0; a < k; a++) distinct += a == 0 || pairs[a] != pairs[a - 1];
    if (distinct > UINT32_MAX) {
        cli_error("more than 2^32 co-occurring pairs: use a smaller --window");
        goto done;
    }
    if (csr_alloc(bt, n, (uint32_t)distinct) != 0) goto oom;
    size_t e = 0;
    for (size_t a = 0; a < k;) {
        size_t b = a;
        while (b < k && pairs[b] == pairs[a]) b++;
        uint32_t i = (uint32_t)(pairs[a] >> 32), j = (uint32_t)pairs[a];
        bt->col[e] = j;
        bt->w[e] = (float)((double)(b - a) / sqrt((double)cnt[i] * (double)cnt[j]));
        bt->row_ptr[i + 1]++;
        e++;
        a = b;
    }
    for (uint32_t i = 0; i < n; i++) bt->row_ptr[i + 1] += bt->row_ptr[i];
    rc = 0;
    goto done;
oom:
    cli_error("out of memory counting co-occurrences");
done:
    free(cnt);
    free(pairs);
    if (rc != 0) csr_free(bt);
    return rc;
}
