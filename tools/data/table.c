/* table.c - atomic/TSV/CSV/JSON Lines reader (see table.h). */
#include "data/table.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/utf8.h"

int table_format_parse(const char *name, table_format *out) {
    static const char *names[] = {"auto", "atomic", "tsv", "csv", "jsonl"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, names[i])) {
            *out = (table_format)i;
            return 0;
        }
    return -1;
}

const char *table_format_name(table_format f) {
    static const char *names[] = {"auto", "atomic", "tsv", "csv", "jsonl"};
    return names[f];
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

table_format table_format_guess(const char *path) {
    /* a gzip file is read through (cli_read_file): its format is that of the name before .gz */
    size_t n = strlen(path);
    if (n > 3 && ends_with(path, ".gz")) {
        char inner[4096];
        snprintf(inner, sizeof inner, "%.*s", (int)(n - 3 < sizeof inner - 1 ? n - 3 : sizeof inner - 1), path);
        return table_format_guess(inner);
    }
    if (ends_with(path, ".inter") || ends_with(path, ".item") || ends_with(path, ".user")) return TABLE_ATOMIC;
    if (ends_with(path, ".csv")) return TABLE_CSV;
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson")) return TABLE_JSONL;
    return TABLE_TSV;
}

int table_check_utf8(const char *path, const uint8_t *buf, uint64_t n) {
    size_t bad = utf8_check(buf, n);
    if (bad == n) return 0;
    uint64_t line = 1;
    for (size_t i = 0; i < bad; i++) line += buf[i] == '\n';
    cli_error("%s:%llu: invalid UTF-8 at byte offset %zu (byte 0x%02x)", path, (unsigned long long)line, bad, buf[bad]);
    return -1;
}

void table_free(table *t) {
    if (t->cells)
        for (uint64_t i = 0; i < (uint64_t)t->nrows * t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    free(t->line);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------ record splitting */

/* The fields of one record, each a malloc'd NUL-terminated string. */
typedef struct {
    char **f;
    uint32_t n, cap;
} fields;

static void fields_clear(fields *fs) {
    for (uint32_t i = 0; i < fs->n; i++) free(fs->f[i]);
    fs->n = 0;
}

static int fields_push(fields *fs, const char *s, size_t len) {
    if (fs->n == fs->cap) {
        uint32_t nc = fs->cap ? fs->cap * 2 : 16;
        char **f = realloc(fs->f, nc * sizeof *f);
        if (!f) return -1;
        fs->f = f;
        fs->cap = nc;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = 0;
    fs->f[fs->n++] = c;
    return 0;
}

typedef struct {
    const char *path;
    const char *buf;
    size_t n, pos;
    uint64_t line;  /* line of buf[pos] */
    char *scratch;  /* unescaped CSV field */
    size_t scratch_cap;
} reader;

/* The next line of r (call while r->pos < r->n): its bounds in *s, *e (the '\n' left out),
   r moved past it; returns its number. */
static uint64_t take_line(reader *r, size_t *s, size_t *e) {
    size_t a = r->pos, b = a;
    while (b < r->n && r->buf[b] != '\n') b++;
    r->pos = b < r->n ? b + 1 : b;
    *s = a;
    *e = b;
    return r->line++;
}

/* Splits the next non-blank line at tabs. 1 = a record, 0 = end of file, -1 = error. */
static int next_tsv(reader *r, fields *fs, uint64_t *start_line) {
    fields_clear(fs);
    while (r->pos < r->n) {
        size_t s, e;
        uint64_t line = take_line(r, &s, &e);
        size_t end = e;
        if (end > s && r->buf[end - 1] == '\r') end--;
        if (end == s) continue; /* blank line */
        *start_line = line;
        size_t a = s;
        for (size_t i = s; i <= end; i++) {
            if (i == end || r->buf[i] == '\t') {
                if (fields_push(fs, r->buf + a, i - a) != 0) goto oom;
                a = i + 1;
            }
        }
        return 1;
    }
    return 0;
oom:
    cli_error("%s: out of memory", r->path);
    return -1;
}

/* One CSV record (RFC 4180). 1 = a record, 0 = end of file, -1 = error. */
static int next_csv(reader *r, fields *fs, uint64_t *start_line) {
    fields_clear(fs);
    /* Skip blank lines between records. */
    while (r->pos < r->n && (r->buf[r->pos] == '\n' || r->buf[r->pos] == '\r')) {
        if (r->buf[r->pos] == '\n') r->line++;
        r->pos++;
    }
    if (r->pos >= r->n) return 0;
    *start_line = r->line;
    for (;;) {
        size_t len = 0;
        if (r->pos < r->n && r->buf[r->pos] == '"') {
            uint64_t qline = r->line;
            size_t qpos = r->pos;
            r->pos++;
            for (;;) {
                if (r->pos >= r->n) {
                    cli_error("%s:%llu: unterminated quoted field starting at byte offset %zu", r->path,
                              (unsigned long long)qline, qpos);
                    return -1;
                }
                char c = r->buf[r->pos++];
                if (c == '"') {
                    if (r->pos < r->n && r->buf[r->pos] == '"') {
                        r->pos++; /* "" is one quote */
                    } else {
                        break;
                    }
                }
                if (c == '\n') r->line++;
                if (len + 1 >= r->scratch_cap) {
                    size_t nc = r->scratch_cap ? r->scratch_cap * 2 : 256;
                    char *s = realloc(r->scratch, nc);
                    if (!s) goto oom;
                    r->scratch = s;
                    r->scratch_cap = nc;
                }
                r->scratch[len++] = c;
            }
            if (r->pos < r->n && r->buf[r->pos] != ',' && r->buf[r->pos] != '\n' && r->buf[r->pos] != '\r') {
                cli_error("%s:%llu: field %u: unexpected character after a closing quote (byte offset %zu)", r->path,
                          (unsigned long long)r->line, fs->n + 1, r->pos);
                return -1;
            }
            if (fields_push(fs, r->scratch ? r->scratch : "", len) != 0) goto oom;
        } else {
            size_t a = r->pos;
            while (r->pos < r->n && r->buf[r->pos] != ',' && r->buf[r->pos] != '\n') {
                if (r->buf[r->pos] == '"') {
                    cli_error("%s:%llu: field %u: a quote inside an unquoted field (byte offset %zu)", r->path,
                              (unsigned long long)r->line, fs->n + 1, r->pos);
                    return -1;
                }
                r->pos++;
            }
            size_t e = r->pos;
            if (e > a && r->buf[e - 1] == '\r' && (e == r->n || r->buf[e] == '\n')) e--;
            if (fields_push(fs, r->buf + a, e - a) != 0) goto oom;
        }
        if (r->pos < r->n && r->buf[r->pos] == '\r') r->pos++;
        if (r->pos >= r->n) return 1;
        if (r->buf[r->pos] == ',') {
            r->pos++;
            continue;
        }
        /* newline ends the record */
        r->pos++;
        r->line++;
        return 1;
    }
oom:
    cli_error("%s: out of memory", r->path);
    return -1;
}

/* ------------------------------------------------------------------ JSON Lines */

static char *json_cell(const cJSON *v) {
    if (!v || cJSON_IsNull(v)) return strdup("");
    if (cJSON_IsString(v)) return strdup(v->valuestring);
    if (cJSON_IsArray(v)) {
        size_t cap = 64, len = 0;
        char *out = malloc(cap);
        if (!out) return NULL;
        out[0] = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            char *s = json_cell(e);
            if (!s) {
                free(out);
                return NULL;
            }
            size_t sl = strlen(s);
            if (len + sl + 2 > cap) {
                while (len + sl + 2 > cap) cap *= 2;
                char *o = realloc(out, cap);
                if (!o) {
                    free(s);
                    free(out);
                    return NULL;
                }
                out = o;
            }
            if (len && sl) out[len++] = ' ';
            memcpy(out + len, s, sl + 1);
            len += sl;
            free(s);
        }
        return out;
    }
    return cJSON_PrintUnformatted(v);
}

static int load_jsonl(reader *r, const char *const *cols, uint32_t ncols, char **row, table_row_fn fn, void *ctx) {
    char *linebuf = NULL;
    size_t linecap = 0;
    int rc = -1;
    while (r->pos < r->n) {
        size_t s, e;
        uint64_t line = take_line(r, &s, &e);
        size_t a = s;
        while (a < e && (r->buf[a] == ' ' || r->buf[a] == '\t' || r->buf[a] == '\r')) a++;
        if (a == e) continue;
        if (e - s + 1 > linecap) {
            linecap = e - s + 1;
            char *nb = realloc(linebuf, linecap);
            if (!nb) goto oom;
            linebuf = nb;
        }
        memcpy(linebuf, r->buf + s, e - s);
        linebuf[e - s] = 0;
        const char *err_at = NULL;
        cJSON *obj = cJSON_ParseWithOpts(linebuf, &err_at, 0);
        if (!obj || !cJSON_IsObject(obj)) {
            size_t off = obj ? 0 : (size_t)(err_at ? err_at - linebuf : 0);
            cli_error("%s:%llu: expected one JSON object per line (%s at column %zu)", r->path, (unsigned long long)line,
                      obj ? "not an object" : "parse error", off + 1);
            cJSON_Delete(obj);
            goto done;
        }
        int bad = 0;
        for (uint32_t j = 0; j < ncols; j++)
            if (!(row[j] = json_cell(cJSON_GetObjectItemCaseSensitive(obj, cols[j])))) bad = 1;
        cJSON_Delete(obj);
        if (bad) {
            for (uint32_t j = 0; j < ncols; j++) free(row[j]), row[j] = NULL;
            goto oom;
        }
        int took = fn(ctx, row, line);
        for (uint32_t j = 0; j < ncols; j++) free(row[j]), row[j] = NULL;
        if (took != 0) goto done;
    }
    rc = 0;
    goto done;
oom:
    cli_error("%s: out of memory", r->path);
done:
    free(linebuf);
    return rc;
}

/* ------------------------------------------------------------------ load */

int table_scan(const char *path, table_format fmt, const char *const *cols, uint32_t ncols, table_row_fn fn,
               void *ctx) {
    if (fmt == TABLE_AUTO) fmt = table_format_guess(path);
    size_t n;
    uint8_t *buf = cli_read_file(path, &n);
    if (!buf) return -1;
    int rc = -1;
    fields fs = {0};
    uint32_t *colidx = NULL;
    char **row = calloc(ncols ? ncols : 1, sizeof *row);
    reader r = {.path = path, .buf = (const char *)buf, .n = n, .pos = 0, .line = 1};
    if (!row) goto oom;
    if (table_check_utf8(path, buf, n) != 0) goto done;
    if (n >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) r.pos = 3; /* byte-order mark */
    if (fmt == TABLE_JSONL) {
        rc = load_jsonl(&r, cols, ncols, row, fn, ctx);
        goto done;
    }
    int (*next)(reader *, fields *, uint64_t *) = fmt == TABLE_CSV ? next_csv : next_tsv;
    uint64_t line;
    int got = next(&r, &fs, &line);
    if (got < 0) goto done;
    if (got == 0) {
        cli_error("%s: empty file: expected a header line naming the columns", path);
        goto done;
    }
    if (fmt == TABLE_ATOMIC)
        for (uint32_t i = 0; i < fs.n; i++) {
            char *colon = strrchr(fs.f[i], ':');
            if (colon) *colon = 0;
        }
    uint32_t nhead = fs.n;
    colidx = malloc((ncols ? ncols : 1) * sizeof *colidx);
    if (!colidx) goto oom;
    for (uint32_t j = 0; j < ncols; j++) {
        colidx[j] = UINT32_MAX;
        for (uint32_t i = 0; i < nhead; i++)
            if (!strcmp(fs.f[i], cols[j])) {
                colidx[j] = i;
                break;
            }
        if (colidx[j] == UINT32_MAX) {
            /* Name the columns that are there so a typo is easy to see. */
            size_t cap = 256, len = 0;
            char have[256];
            have[0] = 0;
            for (uint32_t i = 0; i < nhead && len + 4 < cap; i++)
                len += (size_t)snprintf(have + len, cap - len, "%s\"%s\"", i ? ", " : "", fs.f[i]);
            cli_error("%s:%llu: no column \"%s\" in the header (columns: %s)", path, (unsigned long long)line, cols[j],
                      have);
            goto done;
        }
    }
    uint64_t rows = 0;
    cli_progress bar;
    cli_progress_start(&bar, "reading", n);
    while ((got = next(&r, &fs, &line)) == 1) {
        if ((rows++ & 0xFFFF) == 0) cli_progress_update(&bar, r.pos);
        if (fs.n != nhead) {
            cli_error("%s:%llu: expected %u fields as in the header, found %u", path, (unsigned long long)line, nhead,
                      fs.n);
            goto done;
        }
        /* The fields are lent to fn (a column requested twice, a display field over the key
           column, is lent twice); fn takes the ones it keeps by setting them to NULL. */
        for (uint32_t j = 0; j < ncols; j++) row[j] = fs.f[colidx[j]];
        int took = fn(ctx, row, line);
        for (uint32_t j = 0; j < ncols; j++)
            if (!row[j]) fs.f[colidx[j]] = NULL;
        if (took != 0) goto done;
        fields_clear(&fs);
    }
    cli_progress_end(&bar);
    if (got < 0) goto done;
    rc = 0;
    goto done;
oom:
    cli_error("%s: out of memory", path);
done:
    fields_clear(&fs);
    free(fs.f);
    free(colidx);
    free(r.scratch);
    free(row);
    free(buf);
    return rc;
}

/* table_load's row sink: keeps a copy of every row. */
static int store_row(void *ctx, char **cells, uint64_t line) {
    table *t = ctx;
    if (t->nrows == UINT32_MAX) {
        cli_error("line %llu: more than %u rows", (unsigned long long)line, UINT32_MAX - 1);
        return -1;
    }
    if (t->nrows == 0 || (t->nrows >= 1024 && !(t->nrows & (t->nrows - 1)))) {
        uint64_t cap = t->nrows ? 2ull * t->nrows : 1024;
        char **c = realloc(t->cells, cap * (t->ncols ? t->ncols : 1) * sizeof *c);
        if (c) t->cells = c;
        uint32_t *l = c ? realloc(t->line, cap * sizeof *l) : NULL;
        if (l) t->line = l;
        if (!c || !l) goto oom;
    }
    char **dst = t->cells + (uint64_t)t->nrows * t->ncols;
    for (uint32_t j = 0; j < t->ncols; j++) {
        uint32_t k = 0;
        while (k < j && cells[k] != cells[j]) k++;
        if (!(dst[j] = k < j ? strdup(cells[j]) : cells[j])) {
            while (j > 0) free(dst[--j]);
            goto oom;
        }
    }
    for (uint32_t j = 0; j < t->ncols; j++) cells[j] = NULL; /* all kept */
    t->line[t->nrows++] = (uint32_t)line;
    return 0;
oom:
    cli_error("out of memory reading a table");
    return -1;
}

int table_load(table *t, const char *path, table_format fmt, const char *const *cols, uint32_t ncols) {
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    int rc = table_scan(path, fmt, cols, ncols, store_row, t);
    if (rc != 0) table_free(t);
    return rc;
}
