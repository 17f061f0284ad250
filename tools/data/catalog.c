/* catalog.c - catalog rows matched to items (see catalog.h). */
#include "data/catalog.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void catalog_free(catalog *c) {
    table_free(&c->t);
    free(c->row_of);
    memset(c, 0, sizeof *c);
}

int catalog_load(catalog *c, const ds_catalog *d, const char *const *cols, uint32_t ncols, const keymap *items) {
    memset(c, 0, sizeof *c);
    const char **all = malloc((ncols + 1) * sizeof *all);
    if (!all) return -1;
    all[0] = d->key ? d->key : "item_id";
    for (uint32_t i = 0; i < ncols; i++) all[i + 1] = cols[i];
    int rc = table_load(&c->t, d->path, d->format, all, ncols + 1);
    free(all);
    if (rc != 0) return -1;
    c->n_items = items->n;
    c->row_of = malloc((items->n ? items->n : 1) * sizeof *c->row_of);
    if (!c->row_of) {
        cli_error("%s: out of memory", d->path);
        catalog_free(c);
        return -1;
    }
    for (uint32_t i = 0; i < items->n; i++) c->row_of[i] = UINT32_MAX;
    for (uint32_t r = 0; r < c->t.nrows; r++) {
        uint32_t i = keymap_find(items, table_cell(&c->t, r, 0));
        if (i == UINT32_MAX) {
            c->unknown++;
        } else if (c->row_of[i] != UINT32_MAX) {
            c->repeated++;
        } else {
            c->row_of[i] = r;
            c->matched++;
        }
    }
    return 0;
}

typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static int sbuf_add(sbuf *b, const char *s) {
    size_t l = strlen(s);
    if (b->n + l + 2 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + l + 2) nc *= 2;
        char *x = realloc(b->s, nc);
        if (!x) return -1;
        b->s = x;
        b->cap = nc;
    }
    memcpy(b->s + b->n, s, l + 1);
    b->n += l;
    return 0;
}

char *catalog_display_jsonl(const ds_catalog *d, const keymap *items, uint32_t *missing) {
    catalog c;
    if (catalog_load(&c, d, (const char *const *)d->display_col, d->n_display, items) != 0) return NULL;
    sbuf b = {0};
    *missing = 0;
    for (uint32_t i = 0; i < items->n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (c.row_of[i] == UINT32_MAX) {
            (*missing)++;
        } else {
            for (uint32_t f = 0; f < d->n_display; f++) {
                const char *v = table_cell(&c.t, c.row_of[i], f + 1);
                if (!*v) continue;
                char *end;
                double num = strtod(v, &end);
                if (!strcmp(d->display_name[f], "price") && end != v && !*end && num == num) {
                    cJSON_AddNumberToObject(o, d->display_name[f], num);
                } else {
                    cJSON_AddStringToObject(o, d->display_name[f], v);
                }
            }
        }
        char *line = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!line || sbuf_add(&b, line) != 0 || sbuf_add(&b, "\n") != 0) {
            free(line);
            free(b.s);
            catalog_free(&c);
            cli_error("%s: out of memory", d->path);
            return NULL;
        }
        free(line);
    }
    catalog_free(&c);
    if (!b.s) b.s = calloc(1, 1);
    return b.s;
}
