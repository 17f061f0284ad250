/* s3rec.c - the S3-Rec one-line-per-user text format, imported into a dataset (s3rec.h). */
#include "data/s3rec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---------------------------------------------------------------- growing arrays */

typedef struct {
    uint32_t *v;
    size_t n, cap;
} u32vec;

static int u32_push(u32vec *a, uint32_t x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 1024;
        uint32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static int u64_push(uint64_t **v, size_t *n, size_t *cap, uint64_t x) {
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        uint64_t *nv = realloc(*v, c * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return 0;
}

int s3rec_load(const char *path, dataset *ds) {
    memset(ds, 0, sizeof *ds);
    size_t len;
    char *buf = (char *)cli_read_file(path, &len);
    if (!buf) return -1;
    /* first pass: the largest item id, so ids map to indices by increasing id */
    u32vec raw = {0};
    uint64_t *off = NULL;
    size_t n_off = 0, off_cap = 0;
    int rc = -1;
    uint32_t max_id = 0;
    size_t line = 0, skipped = 0;
    char *p = buf;
    if (u64_push(&off, &n_off, &off_cap, 0)) goto oom;
    while (*p) {
        line++;
        char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        char *q = p;
        size_t start = raw.n;
        int first = 1;
        while (q < eol) {
            while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
            if (q >= eol) break;
            char *end;
            errno = 0;
            unsigned long v = strtoul(q, &end, 10);
            if (end == q || errno || v > 0xFFFFFFF0ul || (end < eol && *end != ' ' && *end != '\t' && *end != '\r')) {
                cli_error("%s:%zu: not a number at column %zu", path, line, (size_t)(q - p) + 1);
                goto out;
            }
            q = end;
            if (first) { /* the user id */
                first = 0;
                continue;
            }
            if (u32_push(&raw, (uint32_t)v)) goto oom;
            if (v > max_id) max_id = (uint32_t)v;
        }
        if (!first) {
            if (raw.n - start < 3) {
                raw.n = start; /* too short for the leave-one-out split */
                skipped++;
            } else if (raw.n - start >= UINT32_MAX) {
                cli_error("%s:%zu: a sequence of 2^32 items or more", path, line);
                goto out;
            } else if (u64_push(&off, &n_off, &off_cap, raw.n)) {
                goto oom;
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    if (n_off < 2) {
        cli_error("%s: no sequence of 3 or more items", path);
        goto out;
    }
    {
        uint32_t *map = malloc(((size_t)max_id + 1) * sizeof *map);
        if (!map) goto oom;
        for (size_t i = 0; i <= max_id; i++) map[i] = UINT32_MAX;
        for (size_t i = 0; i < raw.n; i++) map[raw.v[i]] = 0;
        uint32_t n = 0;
        for (size_t i = 0; i <= max_id; i++)
            if (map[i] == 0) map[i] = n++;
        ds->n_items = n;
        ds->item_keys = calloc(n, sizeof *ds->item_keys);
        if (!ds->item_keys) {
            free(map);
            goto oom;
        }
        for (size_t i = 0; i <= max_id; i++)
            if (map[i] != UINT32_MAX) {
                char k[16];
                snprintf(k, sizeof k, "%zu", i);
                ds->item_keys[map[i]] = strdup(k);
                if (!ds->item_keys[map[i]]) {
                    free(map);
                    goto oom;
                }
            }
        for (size_t i = 0; i < raw.n; i++) raw.v[i] = map[raw.v[i]];
        free(map);
    }
    if (n_off - 1 > UINT32_MAX || !(ds->path = strdup(path))) goto oom;
    ds->n_users = (uint32_t)(n_off - 1);
    ds->off = off;
    ds->seq = raw.v;
    ds->text_format = 1;
    off = NULL;
    raw.v = NULL;
    if (skipped) fprintf(stderr, "mdsrec %s: %s: skipped %zu sequences shorter than 3\n", cli_command, path, skipped);
    rc = 0;
    goto out;
oom:
    cli_error("%s: out of memory", path);
out:
    free(raw.v);
    free(off);
    free(buf);
    if (rc != 0) dataset_free(ds);
    return rc;
}

