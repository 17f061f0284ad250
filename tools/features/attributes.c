/* attributes.c - attribute lists to an IDF-weighted multi-hot matrix (attributes.h). */
#include "attributes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

void attr_lists_free(attr_lists *l) {
    keymap_free(&l->vocab);
    free(l->off);
    free(l->attr);
    memset(l, 0, sizeof *l);
}

/* A growing (item, attribute) pair list, sorted into per-item runs at the end. */
typedef struct {
    uint32_t *item, *attr;
    uint64_t n, cap;
} pairs;

static int pairs_add(pairs *p, uint32_t item, uint32_t attr) {
    if (p->n == p->cap) {
        uint64_t cap = p->cap ? 2 * p->cap : 1024;
        uint32_t *a = realloc(p->item, cap * sizeof *a);
        if (!a) return -1;
        p->item = a;
        uint32_t *b = realloc(p->attr, cap * sizeof *b);
        if (!b) return -1;
        p->attr = b;
        p->cap = cap;
    }
    p->item[p->n] = item;
    p->attr[p->n] = attr;
    p->n++;
    return 0;
}

/* Counting sort by item (stable: each item keeps its source order), dropping repeats. */
static int pairs_finish(attr_lists *l, pairs *p, uint32_t n_items) {
    l->n_items = n_items;
    l->off = calloc((size_t)n_items + 1, sizeof *l->off);
    l->attr = malloc((p->n ? p->n : 1) * sizeof *l->attr);
    uint8_t *seen = calloc(l->vocab.n ? l->vocab.n : 1, 1);
    int rc = -1;
    if (!l->off || !l->attr || !seen) goto done;
    for (uint64_t k = 0; k < p->n; k++) l->off[p->item[k] + 1]++;
    for (uint32_t i = 0; i < n_items; i++) l->off[i + 1] += l->off[i];
    uint64_t *fill = malloc(((size_t)n_items + 1) * sizeof *fill);
    if (!fill) goto done;
    memcpy(fill, l->off, ((size_t)n_items + 1) * sizeof *fill);
    for (uint64_t k = 0; k < p->n; k++) l->attr[fill[p->item[k]]++] = p->attr[k];
    free(fill);
    /* compact each item's run: a repeated attribute counts once */
    uint64_t w = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        uint64_t a = l->off[i], b = l->off[i + 1];
        l->off[i] = w;
        for (uint64_t k = a; k < b; k++) {
            uint32_t t = l->attr[k];
            if (seen[t]) {
                l->repeated++;
                continue;
            }
            seen[t] = 1;
            l->attr[w++] = t;
        }
        for (uint64_t k = l->off[i]; k < w; k++) seen[l->attr[k]] = 0;
    }
    l->off[n_items] = w;
    rc = 0;
done:
    free(seen);
    free(p->item);
    free(p->attr);
    if (rc) cli_error("out of memory");
    return rc;
}

int attr_lists_from_json(attr_lists *l, const char *path, const keymap *items, int allow_unknown) {
    memset(l, 0, sizeof *l);
    keymap_init(&l->vocab);
    size_t len;
    uint8_t *buf = cli_read_file(path, &len);
    if (!buf) return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)buf, len, &end, 0);
    pairs p = {0};
    uint8_t *listed = calloc(items->n ? items->n : 1, 1);
    int rc = -1;
    if (!listed) {
        cli_error("out of memory");
        goto done;
    }
    if (!root) {
        size_t at = end ? (size_t)(end - (const char *)buf) : 0;
        cli_error("%s: not valid JSON near byte offset %zu", path, at);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        cli_error("%s: expected an object {item key: [attribute, ...]}", path);
        goto done;
    }
    for (const cJSON *e = root->child; e; e = e->next) {
        uint32_t item = keymap_find(items, e->string);
        if (item == UINT32_MAX) {
            if (!allow_unknown) {
                cli_error("%s: key \"%.64s\" is not an item of the prepared directory (--allow-unknown skips such keys)",
                          path, e->string);
                goto done;
            }
            l->unknown++;
            continue;
        }
        if (listed[item]) {
            cli_error("%s: key \"%.64s\" is listed twice", path, e->string);
            goto done;
        }
        listed[item] = 1;
        if (!cJSON_IsArray(e)) {
            cli_error("%s: key \"%.64s\": expected an array of attributes", path, e->string);
            goto done;
        }
        uint32_t k = 0;
        for (const cJSON *a = e->child; a; a = a->next, k++) {
            char num[32];
            const char *name;
            if (cJSON_IsNumber(a) && a->valuedouble == floor(a->valuedouble) && fabs(a->valuedouble) < 1e15) {
                snprintf(num, sizeof num, "%.0f", a->valuedouble);
                name = num;
            } else if (cJSON_IsString(a) && a->valuestring[0]) {
                name = a->valuestring;
            } else {
                cli_error("%s: key \"%.64s\", element %u: expected an integer or a non-empty string", path, e->string, k);
                goto done;
            }
            uint32_t t = keymap_add(&l->vocab, name, NULL);
            if (t == UINT32_MAX || pairs_add(&p, item, t)) {
                cli_error("out of memory");
                goto done;
            }
        }
    }
    rc = pairs_finish(l, &p, items->n);
    p.item = p.attr = NULL;
done:
    free(p.item);
    free(p.attr);
    free(listed);
    cJSON_Delete(root);
    free(buf);
    if (rc) attr_lists_free(l);
    return rc;
}

int attr_lists_from_cells(attr_lists *l, const char *const *cells, uint32_t n_items, const char *seps) {
    memset(l, 0, sizeof *l);
    keymap_init(&l->vocab);
    pairs p = {0};
    char tag[256];
    for (uint32_t i = 0; i < n_items; i++) {
        const char *s = cells[i];
        while (s && *s) {
            size_t n = strcspn(s, seps);
            const char *a = s, *b = s + n;
            while (a < b && (*a == ' ' || *a == '\t')) a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
            if (b > a) {
                size_t m = (size_t)(b - a) < sizeof tag - 1 ? (size_t)(b - a) : sizeof tag - 1;
                memcpy(tag, a, m);
                tag[m] = 0;
                uint32_t t = keymap_add(&l->vocab, tag, NULL);
                if (t == UINT32_MAX || pairs_add(&p, i, t)) {
                    free(p.item);
                    free(p.attr);
                    attr_lists_free(l);
                    cli_error("out of memory");
                    return -1;
                }
            }
            s += n;
            if (*s) s++;
        }
    }
    if (pairs_finish(l, &p, n_items)) {
        attr_lists_free(l);
        return -1;
    }
    return 0;
}

/* df[a] = items carrying attribute a. */
static uint32_t *doc_freq(const attr_lists *l) {
    uint32_t *df = calloc(l->vocab.n ? l->vocab.n : 1, sizeof *df);
    if (df)
        for (uint64_t k = 0; k < l->off[l->n_items]; k++) df[l->attr[k]]++;
    return df;
}

int attr_columns(const attr_lists *l, uint32_t min_count, uint32_t **cols, uint32_t *width) {
    *cols = NULL;
    *width = 0;
    uint32_t *df = doc_freq(l);
    uint32_t *c = malloc((l->vocab.n ? l->vocab.n : 1) * sizeof *c);
    if (!df || !c) {
        free(df);
        free(c);
        cli_error("out of memory");
        return -1;
    }
    uint32_t w = 0;
    for (uint32_t a = 0; a < l->vocab.n; a++)
        if (df[a] >= min_count) c[w++] = a;
    free(df);
    if (!w) {
        free(c);
        cli_error("no attribute is carried by %u or more items (%u distinct attributes in all)", min_count,
                  l->vocab.n);
        return -1;
    }
    *cols = c;
    *width = w;
    return 0;
}

int attr_fill(const attr_lists *l, const uint32_t *cols, uint32_t width, float *out, uint32_t *empty) {
    uint32_t *df = doc_freq(l);
    /* column of each vocabulary entry, UINT32_MAX = not a column */
    uint32_t *col_of = malloc((l->vocab.n ? l->vocab.n : 1) * sizeof *col_of);
    memset(out, 0, (size_t)l->n_items * width * sizeof *out);
    *empty = 0;
    if (!df || !col_of) {
        free(df);
        free(col_of);
        cli_error("out of memory");
        return -1;
    }
    for (uint32_t a = 0; a < l->vocab.n; a++) col_of[a] = UINT32_MAX;
    for (uint32_t j = 0; j < width; j++) col_of[cols[j]] = j;
    for (uint32_t i = 0; i < l->n_items; i++) {
        int any = 0;
        for (uint64_t k = l->off[i]; k < l->off[i + 1]; k++) {
            uint32_t a = l->attr[k], j = col_of[a];
            if (j == UINT32_MAX) continue;
            out[(size_t)i * width + j] = (float)(log((1.0 + l->n_items) / (1.0 + df[a])) + 1.0);
            any = 1;
        }
        *empty += !any;
    }
    free(df);
    free(col_of);
    return 0;
}
