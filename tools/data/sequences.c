/* sequences.c - sort, filter and number visitor sequences (see sequences.h). */
#include "data/sequences.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const interactions *sort_x;

/* Order by user, then time, then input position: a stable sort by time within a user. */
static int cmp_rows(const void *a, const void *b) {
    uint64_t i = *(const uint64_t *)a, j = *(const uint64_t *)b;
    const interactions *x = sort_x;
    if (x->user[i] != x->user[j]) return x->user[i] < x->user[j] ? -1 : 1;
    if (x->time[i] != x->time[j]) return x->time[i] < x->time[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Removes a a -> a inside each user's run; returns the number removed. */
static uint64_t dedup_runs(uint32_t *items, uint64_t *off, uint32_t n_users) {
    uint64_t w = 0, removed = 0, start = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        uint64_t end = off[u + 1], begin = w;
        for (uint64_t k = start; k < end; k++) {
            if (w > begin && items[w - 1] == items[k]) {
                removed++;
                continue;
            }
            items[w++] = items[k];
        }
        start = end;
        off[u + 1] = w;
    }
    return removed;
}

int sequences_build(dataset *s, seq_stats *st, const interactions *x, const seq_filters *f) {
    memset(s, 0, sizeof *s);
    memset(st, 0, sizeof *st);
    uint32_t nu = x->users.n, ni = x->items.n;
    st->raw_interactions = x->n;
    st->raw_users = nu;
    st->raw_items = ni;
    uint64_t *order = malloc(x->n * sizeof *order);
    uint32_t *items = malloc(x->n * sizeof *items);
    uint64_t *off = calloc((size_t)nu + 1, sizeof *off);
    uint32_t *ucnt = calloc(nu ? nu : 1, sizeof *ucnt), *icnt = calloc(ni ? ni : 1, sizeof *icnt);
    uint32_t *newid = malloc((ni ? ni : 1) * sizeof *newid);
    int rc = -1;
    if (!order || !items || !off || !ucnt || !icnt || !newid) goto oom;
    /* A counting sort by user (stable, O(n)), then a sort by time inside each user's run
       only where the run is out of order: a log in time order costs no comparison sort, and
       otherwise the sorts are of single visitors, not of the whole log. */
    for (uint64_t k = 0; k < x->n; k++) off[x->user[k] + 1]++;
    for (uint32_t u = 0; u < nu; u++) off[u + 1] += off[u];
    for (uint64_t k = 0; k < x->n; k++) order[off[x->user[k]]++] = k;
    memmove(off + 1, off, nu * sizeof *off); /* the cursors ended at the next user's start */
    off[0] = 0;
    sort_x = x;
    for (uint32_t u = 0; u < nu; u++) {
        uint64_t a = off[u], b = off[u + 1], k = a + 1;
        while (k < b && x->time[order[k]] >= x->time[order[k - 1]]) k++;
        if (k < b) qsort(order + a, b - a, sizeof *order, cmp_rows);
    }
    for (uint64_t k = 0; k < x->n; k++) items[k] = x->item[order[k]];
    if (f->dedup) st->removed_repeats = dedup_runs(items, off, nu);

    /* Iterated k-core: counts are recomputed until no user or item falls under k. Removing
       an item can make two equal items adjacent, so the repeats are removed again. */
    if (f->kcore > 1) {
        for (;;) {
            memset(icnt, 0, ni * sizeof *icnt);
            for (uint64_t k = 0; k < off[nu]; k++) icnt[items[k]]++;
            int changed = 0;
            uint64_t w = 0, start = 0;
            for (uint32_t u = 0; u < nu; u++) {
                uint64_t end = off[u + 1], begin = w;
                if (end - start >= f->kcore)
                    for (uint64_t k = start; k < end; k++)
                        if (icnt[items[k]] >= f->kcore) items[w++] = items[k];
                if (w - begin < f->kcore) w = begin; /* the user is gone */
                if (w - begin != end - start) changed = 1;
                start = end;
                off[u + 1] = w;
            }
            if (f->dedup) {
                uint64_t r = dedup_runs(items, off, nu);
                st->removed_repeats += r;
                if (r) changed = 1;
            }
            if (!changed) break;
        }
        st->removed_kcore = x->n - st->removed_repeats - off[nu];
    }

    /* Drop users too short for the split, then number the items that are left. */
    uint32_t min_len = f->min_len ? f->min_len : 3;
    uint64_t w = 0, start = 0;
    for (uint32_t u = 0; u < nu; u++) {
        uint64_t end = off[u + 1], n = end - start;
        if (n > 0 && n < min_len) st->dropped_short_users++;
        if (n >= min_len) {
            memmove(items + w, items + start, n * sizeof *items);
            w += n;
        }
        ucnt[u] = n >= min_len ? (uint32_t)n : 0;
        start = end;
    }
    memset(icnt, 0, ni * sizeof *icnt);
    for (uint64_t k = 0; k < w; k++) icnt[items[k]] = 1;
    for (uint32_t i = 0; i < ni; i++) newid[i] = icnt[i] ? s->n_items++ : UINT32_MAX;
    for (uint32_t u = 0; u < nu; u++) s->n_users += ucnt[u] > 0;
    if (s->n_users == 0) {
        cli_error("no visitor is left with at least %u interactions after filtering (%llu interactions read)", min_len,
                  (unsigned long long)x->n);
        goto done;
    }
    s->user_keys = calloc(s->n_users, sizeof *s->user_keys);
    s->item_keys = calloc(s->n_items, sizeof *s->item_keys);
    s->off = malloc(((size_t)s->n_users + 1) * sizeof *s->off);
    s->seq = malloc(w * sizeof *s->seq);
    if (!s->user_keys || !s->item_keys || !s->off || !s->seq) goto oom;
    for (uint32_t i = 0; i < ni; i++)
        if (newid[i] != UINT32_MAX && !(s->item_keys[newid[i]] = strdup(keymap_key(&x->items, i)))) goto oom;
    uint32_t v = 0;
    uint64_t pos = 0;
    s->off[0] = 0;
    for (uint32_t u = 0; u < nu; u++) {
        if (!ucnt[u]) continue;
        if (!(s->user_keys[v] = strdup(keymap_key(&x->users, u)))) goto oom;
        for (uint32_t k = 0; k < ucnt[u]; k++, pos++) s->seq[pos] = newid[items[pos]];
        s->off[++v] = pos;
    }
    rc = 0;
    goto done;
oom:
    cli_error("out of memory building the sequences");
done:
    free(order);
    free(items);
    free(off);
    free(ucnt);
    free(icnt);
    free(newid);
    if (rc != 0) dataset_free(s);
    return rc;
}
