/* prepared.c - the prepared dataset directory (see prepared.h, docs/DATASET.md). */
#include "data/prepared.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "data/s3rec.h"
#include "data/table.h"
#include "mdsrec.h"

char *path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int ensure_dir(const char *dir) {
    /* Create missing parents first, like mkdir -p. */
    char *parent = strdup(dir);
    if (parent) {
        char *slash = strrchr(parent, '/');
        while (slash && slash > parent && slash[1] == 0) {
            *slash = 0;
            slash = strrchr(parent, '/');
        }
        if (slash && slash > parent) {
            *slash = 0;
            struct stat pst;
            if (stat(parent, &pst) != 0 && ensure_dir(parent) != 0) {
                free(parent);
                return -1;
            }
        }
        free(parent);
    }
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        cli_error("%s: exists and is not a directory", dir);
        return -1;
    }
    cli_error("%s: cannot create the directory: %s", dir, strerror(errno));
    return -1;
}

int valid_channel_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 64 || !strcmp(name, "behaviour")) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int write_json_file(const char *path, const cJSON *v) {
    char *s = cJSON_Print(v);
    if (!s) {
        cli_error("%s: out of memory", path);
        return -1;
    }
    size_t n = strlen(s);
    cli_out o;
    int rc = -1;
    if (cli_out_open(&o, path) == 0) {
        if (fwrite(s, 1, n, o.f) != n || fputc('\n', o.f) == EOF) {
            cli_error("%s: write failed: %s", path, strerror(errno));
            cli_out_abort(&o);
        } else {
            rc = cli_out_commit(&o);
        }
    }
    free(s);
    return rc;
}

cJSON *read_json_file(const char *path) {
    size_t n;
    uint8_t *buf = cli_read_file(path, &n);
    if (!buf) return NULL;
    const char *err = NULL;
    cJSON *v = cJSON_ParseWithOpts((const char *)buf, &err, 0);
    if (!v) {
        size_t off = err ? (size_t)(err - (const char *)buf) : 0;
        uint64_t line = 1;
        for (size_t i = 0; i < off && i < n; i++) line += buf[i] == '\n';
        cli_error("%s:%llu: invalid JSON near byte offset %zu", path, (unsigned long long)line, off);
    }
    free(buf);
    return v;
}

/* ------------------------------------------------------------------ sequences */

int prepared_write_sequences(const char *dir, const dataset *ds) {
    char *items = path_join(dir, "items.txt"), *seqs = path_join(dir, "sequences.tsv");
    int rc = -1;
    cli_out o;
    if (!items || !seqs) {
        cli_error("%s: out of memory", dir);
        goto done;
    }
    if (cli_out_open(&o, items) != 0) goto done;
    for (uint32_t i = 0; i < ds->n_items; i++) fprintf(o.f, "%s\n", ds->item_keys[i]);
    if (cli_out_commit(&o) != 0) goto done;
    if (cli_out_open(&o, seqs) != 0) goto done;
    for (uint32_t u = 0; u < ds->n_users; u++) {
        fprintf(o.f, "%s\t", ds->user_keys[u]);
        const uint32_t *q = ds_seq(ds, u);
        for (uint32_t k = 0; k < ds_len(ds, u); k++) fprintf(o.f, k ? " %u" : "%u", q[k]);
        fputc('\n', o.f);
    }
    if (cli_out_commit(&o) != 0) goto done;
    rc = 0;
done:
    free(items);
    free(seqs);
    return rc;
}

/* The next line of [*p, end) as a NUL-terminated string without its "\r\n" or "\n";
   advances *p past it. NULL at the end. */
static char *next_line(char **p, char *end) {
    if (*p >= end) return NULL;
    char *l = *p, *nl = memchr(l, '\n', (size_t)(end - l));
    if (!nl) nl = end;
    *p = nl + 1;
    if (nl > l && nl[-1] == '\r') nl--;
    *nl = 0;
    return l;
}

int prepared_load(const char *dir, dataset *ds, keymap *items) {
    memset(ds, 0, sizeof *ds);
    if (items) keymap_init(items);
    char *ipath = path_join(dir, "items.txt"), *spath = path_join(dir, "sequences.tsv");
    uint8_t *ibuf = NULL, *sbuf = NULL;
    keymap km;
    keymap_init(&km);
    int rc = -1;
    size_t in, sn;
    if (!ipath || !spath || !(ds->path = strdup(dir))) goto oom;
    if (!(ibuf = cli_read_file(ipath, &in)) || table_check_utf8(ipath, ibuf, in) != 0) goto done;
    uint64_t line = 0;
    char *l;
    for (char *p = (char *)ibuf; (l = next_line(&p, (char *)ibuf + in));) {
        line++;
        size_t kl = strlen(l);
        if (kl == 0 || kl > MDSREC_MAX_KEY_LEN) {
            cli_error("%s:%llu: item key of %zu bytes (1..%d allowed)", ipath, (unsigned long long)line, kl,
                      MDSREC_MAX_KEY_LEN);
            goto done;
        }
        int added;
        if (keymap_add(&km, l, &added) == UINT32_MAX) goto oom;
        if (!added) {
            cli_error("%s:%llu: item key \"%s\" listed twice", ipath, (unsigned long long)line, l);
            goto done;
        }
    }
    if (km.n == 0) {
        cli_error("%s: no items", ipath);
        goto done;
    }
    if (!(sbuf = cli_read_file(spath, &sn)) || table_check_utf8(spath, sbuf, sn) != 0) goto done;
    uint64_t ucap = 0, scap = 0, npos = 0;
    line = 0;
    ds->n_items = km.n;
    for (char *p = (char *)sbuf; (l = next_line(&p, (char *)sbuf + sn));) {
        line++;
        char *tab = strchr(l, '\t');
        if (!tab) {
            cli_error("%s:%llu: expected \"user<TAB>items\"", spath, (unsigned long long)line);
            goto done;
        }
        *tab = 0;
        if (ds->n_users + 1 >= ucap) {
            ucap = ucap ? ucap * 2 : 1024;
            char **k = realloc(ds->user_keys, ucap * sizeof *k);
            if (!k) goto oom;
            ds->user_keys = k;
            uint64_t *o = realloc(ds->off, (ucap + 1) * sizeof *o);
            if (!o) goto oom;
            ds->off = o;
        }
        if (!(ds->user_keys[ds->n_users] = strdup(l))) goto oom;
        ds->off[ds->n_users] = npos;
        ds->n_users++;
        char *q = tab + 1;
        uint64_t count = 0;
        while (*q) {
            char *e;
            errno = 0;
            unsigned long v = strtoul(q, &e, 10);
            if (count == UINT32_MAX - 1) {
                cli_error("%s:%llu: a sequence of 2^32 items or more", spath, (unsigned long long)line);
                goto done;
            }
            if (e == q || errno || v >= km.n || (*e && *e != ' ')) {
                cli_error("%s:%llu: item %llu: expected an item index below %u", spath, (unsigned long long)line,
                          (unsigned long long)count + 1, km.n);
                goto done;
            }
            if (npos == scap) {
                scap = scap ? scap * 2 : 4096;
                uint32_t *sq = realloc(ds->seq, scap * sizeof *sq);
                if (!sq) goto oom;
                ds->seq = sq;
            }
            ds->seq[npos++] = (uint32_t)v;
            count++;
            q = *e ? e + 1 : e;
        }
        if (count < 3) {
            cli_error("%s:%llu: a sequence needs at least 3 items, found %llu", spath, (unsigned long long)line,
                      (unsigned long long)count);
            goto done;
        }
    }
    if (ds->n_users == 0) {
        cli_error("%s: no sequences", spath);
        goto done;
    }
    ds->off[ds->n_users] = npos;
    if (!(ds->item_keys = calloc(km.n, sizeof *ds->item_keys))) goto oom;
    for (uint32_t i = 0; i < km.n; i++)
        if (!(ds->item_keys[i] = strdup(keymap_key(&km, i)))) goto oom;
    rc = 0;
    goto done;
oom:
    cli_error("%s: out of memory", dir);
done:
    free(ipath);
    free(spath);
    free(ibuf);
    free(sbuf);
    if (rc == 0 && items) {
        *items = km;
    } else {
        keymap_free(&km);
    }
    if (rc != 0) dataset_free(ds);
    return rc;
}

int dataset_load(const char *path, dataset *ds) {
    memset(ds, 0, sizeof *ds);
    struct stat st;
    if (stat(path, &st) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    return S_ISDIR(st.st_mode) ? prepared_load(path, ds, NULL) : s3rec_load(path, ds);
}

void dataset_free(dataset *ds) {
    if (ds->user_keys)
        for (uint32_t u = 0; u < ds->n_users; u++) free(ds->user_keys[u]);
    if (ds->item_keys)
        for (uint32_t i = 0; i < ds->n_items; i++) free(ds->item_keys[i]);
    free(ds->user_keys);
    free(ds->item_keys);
    free(ds->off);
    free(ds->seq);
    for (uint32_t f = 0; f < ds->n_features; f++) feature_matrix_free(&ds->feat[f]);
    free(ds->path);
    memset(ds, 0, sizeof *ds);
}

void dataset_train_counts(const dataset *ds, uint32_t *counts) {
    memset(counts, 0, ds->n_items * sizeof *counts);
    for (uint32_t u = 0; u < ds->n_users; u++) {
        const uint32_t *s = ds_seq(ds, u);
        for (uint32_t t = 0; t < ds_train_len(ds, u); t++) counts[s[t]]++;
    }
}

int dataset_load_features(dataset *ds) {
    if (ds->text_format || !ds->path) return 0;
    uint32_t n;
    char **names = prepared_list_features(ds->path, &n);
    int rc = 0;
    if (n > DS_MAX_FEATURES) {
        cli_error("%s/features: %u feature matrices, at most %d", ds->path, n, DS_MAX_FEATURES);
        rc = -1;
    }
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        rc = prepared_load_feature(ds->path, names[i], ds->n_items, &ds->feat[ds->n_features]);
        if (rc == 0) ds->n_features++;
    }
    for (uint32_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int dataset_feature(const dataset *ds, const char *name) {
    for (uint32_t i = 0; i < ds->n_features; i++)
        if (!strcmp(ds->feat[i].name, name)) return (int)i;
    return -1;
}

uint32_t feature_channel_kind(const feature_matrix *m) {
    if (m->kind && !strcmp(m->kind, "image")) return MDSREC_CHANNEL_IMAGE;
    if (m->kind && !strcmp(m->kind, "text")) return MDSREC_CHANNEL_TEXT;
    return MDSREC_CHANNEL_FEATURE;
}

/* ------------------------------------------------------------------ features */

void feature_matrix_free(feature_matrix *m) {
    free(m->name);
    free(m->kind);
    free(m->source);
    free(m->x);
    free(m->missing);
    memset(m, 0, sizeof *m);
}

int feature_matrix_finish(feature_matrix *m, const char *what) {
    free(m->missing);
    m->missing = NULL;
    m->n_missing = 0;
    uint32_t cap = 0;
    for (uint32_t i = 0; i < m->rows; i++) {
        float *r = m->x + (uint64_t)i * m->width;
        double ss = 0;
        for (uint32_t j = 0; j < m->width; j++) {
            if (!isfinite(r[j])) {
                cli_error("%s: row %u, value %u: not a finite number", what, i, j);
                return -1;
            }
            ss += (double)r[j] * r[j];
        }
        if (ss > 0) {
            float inv = (float)(1.0 / sqrt(ss));
            for (uint32_t j = 0; j < m->width; j++) r[j] *= inv;
            continue;
        }
        if (m->n_missing == cap) {
            cap = cap ? cap * 2 : 64;
            uint32_t *ms = realloc(m->missing, cap * sizeof *ms);
            if (!ms) {
                cli_error("%s: out of memory", what);
                return -1;
            }
            m->missing = ms;
        }
        m->missing[m->n_missing++] = i;
    }
    return 0;
}

int feature_matrix_center(feature_matrix *m) {
    double *mean = calloc(m->width ? m->width : 1, sizeof *mean);
    uint8_t *present = calloc(m->rows ? m->rows : 1, 1);
    if (!mean || !present) {
        free(mean);
        free(present);
        return -1;
    }
    uint64_t count = 0;
    for (uint32_t i = 0; i < m->rows; i++) {
        const float *r = m->x + (uint64_t)i * m->width;
        for (uint32_t j = 0; j < m->width && !present[i]; j++) present[i] = r[j] != 0;
        if (!present[i]) continue;
        count++;
        for (uint32_t j = 0; j < m->width; j++) mean[j] += r[j];
    }
    /* With a single image the centred row would vanish; centring needs two. */
    for (uint32_t i = 0; count >= 2 && i < m->rows; i++) {
        if (!present[i]) continue;
        float *r = m->x + (uint64_t)i * m->width;
        for (uint32_t j = 0; j < m->width; j++) r[j] = (float)(r[j] - mean[j] / (double)count);
    }
    free(mean);
    free(present);
    return 0;
}

static int update_summary(const char *dir, const feature_matrix *m) {
    char *path = path_join(dir, "summary.json");
    if (!path) return -1;
    cJSON *sum = NULL;
    FILE *probe = fopen(path, "rb");
    if (probe) {
        fclose(probe);
        sum = read_json_file(path);
        if (!sum) {
            free(path);
            return -1;
        }
    } else {
        sum = cJSON_CreateObject();
    }
    cJSON *miss = cJSON_GetObjectItemCaseSensitive(sum, "missing");
    if (!cJSON_IsObject(miss)) {
        cJSON_DeleteItemFromObjectCaseSensitive(sum, "missing");
        miss = cJSON_AddObjectToObject(sum, "missing");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(miss, m->name);
    cJSON_AddNumberToObject(miss, m->name, m->n_missing);
    int rc = write_json_file(path, sum);
    cJSON_Delete(sum);
    free(path);
    return rc;
}

int prepared_write_feature(const char *dir, const feature_matrix *m) {
    char *fdir = path_join(dir, "features");
    char name[96];
    char *f32 = NULL, *js = NULL;
    int rc = -1;
    cJSON *meta = NULL;
    if (!fdir) return -1;
    if (ensure_dir(fdir) != 0) goto done;
    snprintf(name, sizeof name, "%s.f32", m->name);
    f32 = path_join(fdir, name);
    snprintf(name, sizeof name, "%s.json", m->name);
    js = path_join(fdir, name);
    if (!f32 || !js) goto done;
    /* The matrix is written as the host holds it; the tool only builds on little-endian
       hosts (x86-64, arm64), which is what the format asks for. */
    if (cli_write_file(f32, m->x, (size_t)m->rows * m->width * sizeof(float)) != 0) goto done;
    meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "name", m->name);
    cJSON_AddStringToObject(meta, "kind", m->kind);
    cJSON_AddNumberToObject(meta, "width", m->width);
    cJSON_AddNumberToObject(meta, "rows", m->rows);
    cJSON *miss = cJSON_AddArrayToObject(meta, "missing");
    for (uint32_t i = 0; i < m->n_missing; i++) cJSON_AddItemToArray(miss, cJSON_CreateNumber(m->missing[i]));
    cJSON_AddStringToObject(meta, "source", m->source ? m->source : "");
    if (write_json_file(js, meta) != 0) goto done;
    rc = update_summary(dir, m);
done:
    cJSON_Delete(meta);
    free(fdir);
    free(f32);
    free(js);
    return rc;
}

int prepared_load_feature(const char *dir, const char *name, uint32_t n_items, feature_matrix *m) {
    memset(m, 0, sizeof *m);
    char rel[128];
    snprintf(rel, sizeof rel, "features/%s.json", name);
    char *js = path_join(dir, rel);
    snprintf(rel, sizeof rel, "features/%s.f32", name);
    char *f32 = path_join(dir, rel);
    cJSON *meta = NULL;
    uint8_t *buf = NULL;
    int rc = -1;
    if (!js || !f32) goto done;
    if (!(meta = read_json_file(js))) goto done;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(meta, "width");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(meta, "rows");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(meta, "kind");
    if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 1e6 || !cJSON_IsNumber(r)) {
        cli_error("%s: field \"width\" or \"rows\": expected positive integers", js);
        goto done;
    }
    if ((uint32_t)r->valuedouble != n_items) {
        cli_error("%s: field \"rows\": %u rows but items.txt has %u items (run featurize again after prepare)", js,
                  (uint32_t)r->valuedouble, n_items);
        goto done;
    }
    m->name = strdup(name);
    m->kind = strdup(cJSON_IsString(k) ? k->valuestring : "feature");
    m->rows = n_items;
    m->width = (uint32_t)w->valuedouble;
    size_t n;
    if (!(buf = cli_read_file(f32, &n))) goto done;
    if (n != (size_t)m->rows * m->width * sizeof(float)) {
        cli_error("%s: %zu bytes, expected %u rows x %u floats = %zu bytes", f32, n, m->rows, m->width,
                  (size_t)m->rows * m->width * sizeof(float));
        goto done;
    }
    if (!(m->x = malloc(n ? n : 1))) goto done;
    memcpy(m->x, buf, n);
    rc = 0;
done:
    if (rc != 0) feature_matrix_free(m);
    cJSON_Delete(meta);
    free(buf);
    free(js);
    free(f32);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **prepared_list_features(const char *dir, uint32_t *n) {
    *n = 0;
    char *fdir = path_join(dir, "features");
    DIR *d = fdir ? opendir(fdir) : NULL;
    free(fdir);
    if (!d) return NULL;
    char **names = NULL;
    uint32_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".json")) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        names[*n] = strndup(e->d_name, l - 5);
        if (!valid_channel_name(names[*n])) {
            free(names[*n]);
            continue;
        }
        (*n)++;
    }
    closedir(d);
    if (*n) qsort(names, *n, sizeof *names, cmp_str);
    return names;
}
