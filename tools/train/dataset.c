/* dataset.c - reading a prepared dataset directory or an S3-Rec text file (dataset.h). */
#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "mdsrec.h"

/* ---------------------------------------------------------------- CSR */

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

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* ---------------------------------------------------------------- S3-Rec text format */

static int load_text(const char *path, dataset *ds) {
    size_t len;
    char *buf = (char *)cli_read_file(path, &len);
    if (!buf) return -1;
    /* first pass: the largest item id, so ids map to indices by increasing id */
    u32vec raw = {0}, off = {0};
    int rc = -1;
    uint32_t max_id = 0;
    size_t line = 0, skipped = 0;
    char *p = buf;
    if (u32_push(&off, 0)) goto oom;
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
            } else if (u32_push(&off, (uint32_t)raw.n)) {
                goto oom;
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    if (off.n < 2) {
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
        ds->keys = calloc(n, sizeof *ds->keys);
        if (!ds->keys) {
            free(map);
            goto oom;
        }
        for (size_t i = 0; i <= max_id; i++)
            if (map[i] != UINT32_MAX) {
                char k[16];
                snprintf(k, sizeof k, "%zu", i);
                ds->keys[map[i]] = strdup(k);
                if (!ds->keys[map[i]]) {
                    free(map);
                    goto oom;
                }
            }
        for (size_t i = 0; i < raw.n; i++) raw.v[i] = map[raw.v[i]];
        free(map);
    }
    ds->n_users = (uint32_t)(off.n - 1);
    ds->off = off.v;
    ds->items = raw.v;
    ds->text_format = 1;
    off.v = raw.v = NULL;
    if (skipped) fprintf(stderr, "mdsrec %s: %s: skipped %zu sequences shorter than 3\n", cli_command, path, skipped);
    rc = 0;
    goto out;
oom:
    cli_error("%s: out of memory", path);
out:
    free(raw.v);
    free(off.v);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- prepared directory */

static int load_dir(const char *dir, dataset *ds) {
    char *ip = join(dir, "items.txt"), *sp = join(dir, "sequences.tsv");
    char *ibuf = NULL, *sbuf = NULL;
    u32vec raw = {0}, off = {0};
    int rc = -1;
    size_t len;
    if (!ip || !sp) goto oom;
    if (!(ibuf = (char *)cli_read_file(ip, &len))) goto out;
    /* items.txt: one key a line */
    size_t n = 0;
    for (char *p = ibuf; *p;) {
        char *eol = strchr(p, '\n');
        n++;
        if (!eol) break;
        p = eol + 1;
    }
    ds->keys = calloc(n ? n : 1, sizeof *ds->keys);
    if (!ds->keys) goto oom;
    n = 0;
    for (char *p = ibuf; *p;) {
        char *eol = strchr(p, '\n');
        if (eol) *eol = 0;
        size_t kl = strlen(p);
        if (kl && p[kl - 1] == '\r') p[--kl] = 0;
        if (kl == 0 || kl > MDSREC_MAX_KEY_LEN) {
            cli_error("%s:%zu: key of %zu bytes (1..%d allowed)", ip, n + 1, kl, MDSREC_MAX_KEY_LEN);
            ds->n_items = (uint32_t)n;
            goto out;
        }
        if (!(ds->keys[n++] = strdup(p))) goto oom;
        ds->n_items = (uint32_t)n;
        if (!eol) break;
        p = eol + 1;
    }
    if (n == 0) {
        cli_error("%s: no items", ip);
        goto out;
    }
    /* sequences.tsv: user<TAB>i1 i2 ... */
    if (!(sbuf = (char *)cli_read_file(sp, &len))) goto out;
    if (u32_push(&off, 0)) goto oom;
    size_t line = 0;
    for (char *p = sbuf; *p;) {
        line++;
        char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        char *tab = memchr(p, '\t', (size_t)(eol - p));
        if (!tab) {
            if (eol == p || (eol == p + 1 && *p == '\r')) {
                p = *eol ? eol + 1 : eol;
                continue;
            }
            cli_error("%s:%zu: no tab after the user key", sp, line);
            goto out;
        }
        size_t start = raw.n;
        for (char *q = tab + 1; q < eol;) {
            while (q < eol && (*q == ' ' || *q == '\r')) q++;
            if (q >= eol) break;
            char *end;
            errno = 0;
            unsigned long v = strtoul(q, &end, 10);
            if (end == q || errno || v >= ds->n_items) {
                cli_error("%s:%zu: bad item index at column %zu (%u items)", sp, line, (size_t)(q - p) + 1, ds->n_items);
                goto out;
            }
            if (u32_push(&raw, (uint32_t)v)) goto oom;
            q = end;
        }
        if (raw.n - start < 3)
            raw.n = start;
        else if (u32_push(&off, (uint32_t)raw.n))
            goto oom;
        p = *eol ? eol + 1 : eol;
    }
    if (off.n < 2) {
        cli_error("%s: no sequence of 3 or more items", sp);
        goto out;
    }
    ds->n_users = (uint32_t)(off.n - 1);
    ds->off = off.v;
    ds->items = raw.v;
    off.v = raw.v = NULL;
    rc = 0;
    goto out;
oom:
    cli_error("%s: out of memory", dir);
out:
    free(ip);
    free(sp);
    free(ibuf);
    free(sbuf);
    free(raw.v);
    free(off.v);
    return rc;
}

int dataset_load(const char *path, dataset *ds) {
    memset(ds, 0, sizeof *ds);
    struct stat st;
    if (stat(path, &st) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    ds->path = strdup(path);
    if (!ds->path) return -1;
    int rc = S_ISDIR(st.st_mode) ? load_dir(path, ds) : load_text(path, ds);
    if (rc) dataset_free(ds);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static uint32_t kind_of(const char *s) {
    if (!strcmp(s, "image")) return MDSREC_CHANNEL_IMAGE;
    if (!strcmp(s, "text")) return MDSREC_CHANNEL_TEXT;
    return MDSREC_CHANNEL_FEATURE;
}

int dataset_load_features(dataset *ds) {
    if (ds->text_format) return 0;
    char *fdir = join(ds->path, "features");
    if (!fdir) return -1;
    DIR *dir = opendir(fdir);
    if (!dir) {
        free(fdir);
        return 0; /* no features: an id-only dataset */
    }
    char *names[64];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && nn < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) names[nn++] = strndup(e->d_name, l - 5);
    }
    closedir(dir);
    qsort(names, nn, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < nn && rc == 0; i++) {
        if (ds->n_features == DS_MAX_FEATURES) {
            cli_error("%s: more than %d feature matrices", fdir, DS_MAX_FEATURES);
            rc = -1;
            break;
        }
        char jn[300], fn[300];
        snprintf(jn, sizeof jn, "%s.json", names[i]);
        snprintf(fn, sizeof fn, "%s.f32", names[i]);
        char *jp = join(fdir, jn), *fp = join(fdir, fn);
        size_t len;
        char *js = jp ? (char *)cli_read_file(jp, &len) : NULL;
        cJSON *j = js ? cJSON_Parse(js) : NULL;
        ds_feature *f = &ds->feat[ds->n_features];
        if (!j) {
            if (js) cli_error("%s: not valid JSON", jp);
            rc = -1;
        } else {
            cJSON *w = cJSON_GetObjectItem(j, "width"), *k = cJSON_GetObjectItem(j, "kind");
            cJSON *r = cJSON_GetObjectItem(j, "rows");
            if (!cJSON_IsNumber(w) || w->valuedouble < 1 || (r && cJSON_IsNumber(r) && (uint32_t)r->valuedouble != ds->n_items)) {
                cli_error("%s: missing width, or rows not %u", jp, ds->n_items);
                rc = -1;
            } else {
                snprintf(f->name, sizeof f->name, "%s", names[i]);
                f->kind = cJSON_IsString(k) ? kind_of(k->valuestring) : MDSREC_CHANNEL_FEATURE;
                f->width = (uint32_t)w->valuedouble;
                size_t flen;
                uint8_t *data = cli_read_file(fp, &flen);
                if (!data) {
                    rc = -1;
                } else if (flen != (size_t)f->width * ds->n_items * 4) {
                    cli_error("%s: %zu bytes, expected %u rows of %u floats", fp, flen, ds->n_items, f->width);
                    free(data);
                    rc = -1;
                } else {
                    f->data = (float *)data;
                    ds->n_features++;
                }
            }
        }
        cJSON_Delete(j);
        free(js);
        free(jp);
        free(fp);
    }
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(fdir);
    return rc;
}

int dataset_feature(const dataset *ds, const char *name) {
    for (uint32_t i = 0; i < ds->n_features; i++)
        if (!strcmp(ds->feat[i].name, name)) return (int)i;
    return -1;
}

void dataset_free(dataset *ds) {
    if (ds->keys)
        for (uint32_t i = 0; i < ds->n_items; i++) free(ds->keys[i]);
    free(ds->keys);
    free(ds->off);
    free(ds->items);
    for (uint32_t i = 0; i < ds->n_features; i++) free(ds->feat[i].data);
    free(ds->path);
    memset(ds, 0, sizeof *ds);
}

void dataset_train_counts(const dataset *ds, uint32_t *counts) {
    memset(counts, 0, ds->n_items * sizeof *counts);
    for (uint32_t u = 0; u < ds->n_users; u++) {
        const uint32_t *s = ds_seq(ds, u);
        for (uint32_t t = 0; t + 2 < ds_len(ds, u); t++) counts[s[t]]++;
    }
}
