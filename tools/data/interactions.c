/* interactions.c - interaction logs to (user, item, time) triples (see interactions.h). */
#include "data/interactions.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int parse_time(const char *s, double *out) {
    if (!*s) return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    /* strtod also reads "nan" and "inf": not times, and a NaN would break the sort by time */
    if (!errno && *end == 0 && end != s && isfinite(v)) {
        *out = v;
        return 0;
    }
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0;
    double frac = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d)) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &se)) return -1;
            if (*p == '.') {
                double scale = 0.1;
                p++;
                if (!isdigit((unsigned char)*p)) return -1;
                while (isdigit((unsigned char)*p)) frac += (*p++ - '0') * scale, scale /= 10;
            }
        }
        if (h > 23 || mi > 59 || se > 60) return -1;
    }
    if (*p == 'Z') p++;
    if (*p) return -1;
    *out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + se + frac;
    return 0;
}

void interactions_free(interactions *x) {
    keymap_free(&x->users);
    keymap_free(&x->items);
    free(x->user);
    free(x->item);
    free(x->time);
    memset(x, 0, sizeof *x);
}

static int push(interactions *x, uint64_t *cap, uint32_t u, uint32_t i, double t) {
    if (x->n == *cap) {
        uint64_t nc = *cap ? *cap * 2 : 4096;
        uint32_t *a = realloc(x->user, nc * sizeof *a);
        if (!a) return -1;
        x->user = a;
        uint32_t *b = realloc(x->item, nc * sizeof *b);
        if (!b) return -1;
        x->item = b;
        double *c = realloc(x->time, nc * sizeof *c);
        if (!c) return -1;
        x->time = c;
        *cap = nc;
    }
    x->user[x->n] = u;
    x->item[x->n] = i;
    x->time[x->n] = t;
    x->n++;
    return 0;
}

static int check_key(const char *path, uint64_t line, const char *col, const char *key) {
    if (!*key) {
        cli_error("%s:%llu: column \"%s\": empty key", path, (unsigned long long)line, col);
        return -1;
    }
    if (strpbrk(key, "\t\n\r")) {
        cli_error("%s:%llu: column \"%s\": a key may not hold a tab or line break", path, (unsigned long long)line,
                  col);
        return -1;
    }
    return 0;
}

/* A RecBole atomic header field: "name:token", "name:token_seq", "name:float", "name:float_seq". */
static int is_typed_header(const char *field) {
    const char *c = strrchr(field, ':');
    return c && (!strcmp(c, ":token") || !strcmp(c, ":token_seq") || !strcmp(c, ":float") || !strcmp(c, ":float_seq"));
}

static int load_sequences(interactions *x, const char *path) {
    size_t n;
    uint8_t *buf = cli_read_file(path, &n);
    if (!buf) return -1;
    int rc = -1;
    uint64_t cap = 0, line = 0;
    if (table_check_utf8(path, buf, n) != 0) goto done;
    char *p = (char *)buf, *end = (char *)buf + n;
    cli_progress bar;
    cli_progress_start(&bar, "reading", n);
    while (p < end) {
        if ((line & 0xFFF) == 0) cli_progress_update(&bar, (uint64_t)(p - (char *)buf));
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        *nl = 0;
        line++;
        char *s2 = NULL;
        char *user = strtok_r(p, " \t\r", &s2);
        p = nl + 1;
        if (!user) continue;
        if (line == 1 && is_typed_header(user)) continue; /* RecBole "user_id:token item_id_list:token_seq ..." */
        uint32_t u = keymap_add(&x->users, user, NULL);
        if (u == UINT32_MAX) goto oom;
        double pos = 0;
        for (char *it = strtok_r(NULL, " \t\r", &s2); it; it = strtok_r(NULL, " \t\r", &s2)) {
            uint32_t i = keymap_add(&x->items, it, NULL);
            if (i == UINT32_MAX || push(x, &cap, u, i, pos++) != 0) goto oom;
        }
    }
    cli_progress_end(&bar);
    if (x->n == 0) {
        cli_error("%s: no interactions in the file (expected lines \"user item item ...\")", path);
        goto done;
    }
    rc = 0;
    goto done;
oom:
    cli_error("%s: out of memory", path);
done:
    free(buf);
    return rc;
}

/* interactions_load's row sink. */
typedef struct {
    interactions *x;
    const inter_source *src;
    const char *ucol, *icol;
    int has_time;
    uint64_t cap, row;
} row_sink;

static int take_row(void *ctx, char **cells, uint64_t line) {
    row_sink *k = ctx;
    const char *path = k->src->path;
    if (check_key(path, line, k->ucol, cells[0]) || check_key(path, line, k->icol, cells[1])) return -1;
    double tm = (double)k->row++;
    if (k->has_time && parse_time(cells[2], &tm) != 0) {
        cli_error("%s:%llu: column \"%s\": expected a number or an ISO 8601 date, found \"%.40s\"", path,
                  (unsigned long long)line, k->src->time_col, cells[2]);
        return -1;
    }
    uint32_t u = keymap_add(&k->x->users, cells[0], NULL), i = keymap_add(&k->x->items, cells[1], NULL);
    if (u == UINT32_MAX || i == UINT32_MAX || push(k->x, &k->cap, u, i, tm) != 0) {
        cli_error("%s: out of memory", path);
        return -1;
    }
    return 0;
}

int interactions_load(interactions *x, const inter_source *src) {
    memset(x, 0, sizeof *x);
    keymap_init(&x->users);
    keymap_init(&x->items);
    if (src->sequences) {
        if (load_sequences(x, src->path) != 0) {
            interactions_free(x);
            return -1;
        }
        return 0;
    }
    const char *ucol = src->user_col && *src->user_col ? src->user_col : "user_id";
    const char *icol = src->item_col && *src->item_col ? src->item_col : "item_id";
    int has_time = src->time_col && *src->time_col;
    const char *cols[3] = {ucol, icol, src->time_col};
    row_sink k = {x, src, ucol, icol, has_time, 0, 0};
    /* Rows are taken one at a time (table_scan): the log is never held as strings. */
    if (table_scan(src->path, src->format, cols, has_time ? 3 : 2, take_row, &k) != 0) {
        interactions_free(x);
        return -1;
    }
    if (x->n == 0) {
        cli_error("%s: no interactions in the file", src->path);
        interactions_free(x);
        return -1;
    }
    return 0;
}
