/* matrix.c - .npy / raw float32 / CSV feature matrices (see matrix.h). */
#include "data/matrix.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/table.h"

void raw_matrix_free(raw_matrix *m) {
    if (m->keys)
        for (uint32_t i = 0; i < m->rows; i++) free(m->keys[i]);
    free(m->keys);
    free(m->x);
    memset(m, 0, sizeof *m);
}

/* IEEE binary16 -> binary32, subnormals, infinities and NaN included. */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {
            /* subnormal: value = man * 2^-24 */
            float v = (float)man * 5.9604644775390625e-8f;
            return sign ? -v : v;
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Finds 'name': in the header dict and returns a pointer just past the colon and spaces. */
static const char *npy_field(const char *hdr, const char *name) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", name);
    const char *p = strstr(hdr, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

int matrix_read_npy(const char *path, raw_matrix *m) {
    memset(m, 0, sizeof *m);
    size_t n;
    uint8_t *buf = cli_read_file(path, &n);
    if (!buf) return -1;
    int rc = -1;
    char *hdr = NULL;
    if (n < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        cli_error("%s: byte offset 0: not a .npy file (expected the magic \"\\x93NUMPY\")", path);
        goto done;
    }
    uint8_t major = buf[6];
    size_t hlen, hoff;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hoff = 10;
    } else if (major == 2 || major == 3) {
        if (n < 12) goto truncated;
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hoff = 12;
    } else {
        cli_error("%s: byte offset 6: unsupported .npy version %u (expected 1, 2 or 3)", path, major);
        goto done;
    }
    if (hoff + hlen > n) goto truncated;
    hdr = strndup((const char *)buf + hoff, hlen);
    if (!hdr) goto done;
    const char *d = npy_field(hdr, "descr"), *fo = npy_field(hdr, "fortran_order"), *sh = npy_field(hdr, "shape");
    if (!d || !fo || !sh) {
        cli_error("%s: header: expected the fields 'descr', 'fortran_order' and 'shape'", path);
        goto done;
    }
    int f16;
    if (!strncmp(d, "'<f4'", 5) || !strncmp(d, "'=f4'", 5)) {
        f16 = 0;
    } else if (!strncmp(d, "'<f2'", 5) || !strncmp(d, "'=f2'", 5)) {
        f16 = 1;
    } else {
        const char *e = *d ? strchr(d + 1, '\'') : NULL; /* d may be the header's final NUL */
        cli_error("%s: header field 'descr': unsupported dtype %.*s (expected '<f4' float32 or '<f2' float16)", path,
                  e ? (int)(e - d + 1) : 8, d);
        goto done;
    }
    int fortran;
    if (!strncmp(fo, "False", 5)) {
        fortran = 0;
    } else if (!strncmp(fo, "True", 4)) {
        fortran = 1;
    } else {
        cli_error("%s: header field 'fortran_order': expected True or False", path);
        goto done;
    }
    unsigned long long dims[3];
    int nd = 0;
    const char *p = sh;
    if (*p++ != '(') goto bad_shape;
    for (;;) {
        while (*p == ' ') p++;
        if (*p == ')') break;
        if (nd == 3) goto bad_shape;
        char *e;
        errno = 0;
        dims[nd] = strtoull(p, &e, 10);
        if (e == p || errno) goto bad_shape;
        nd++;
        p = e;
        while (*p == ' ') p++;
        if (*p == ',') p++;
    }
    if (nd != 2 || dims[0] == 0 || dims[1] == 0 || dims[0] > UINT32_MAX || dims[1] > (1u << 20)) {
    bad_shape:
        cli_error("%s: header field 'shape': expected 2 dimensions (rows, width), found %.40s", path, sh);
        goto done;
    }
    m->rows = (uint32_t)dims[0];
    m->width = (uint32_t)dims[1];
    size_t esz = f16 ? 2 : 4, count = (size_t)m->rows * m->width, doff = hoff + hlen;
    if (n - doff != count * esz) {
        cli_error("%s: byte offset %zu: expected %zu bytes of data for shape (%u, %u), found %zu", path, doff,
                  count * esz, m->rows, m->width, n - doff);
        goto done;
    }
    if (!(m->x = malloc(count * sizeof *m->x))) {
        cli_error("%s: out of memory", path);
        goto done;
    }
    const uint8_t *src = buf + doff;
    for (size_t r = 0; r < m->rows; r++)
        for (size_t c = 0; c < m->width; c++) {
            size_t k = fortran ? c * m->rows + r : r * m->width + c;
            float v;
            if (f16) {
                v = half_to_float((uint16_t)(src[2 * k] | src[2 * k + 1] << 8));
            } else {
                memcpy(&v, src + 4 * k, 4);
            }
            m->x[r * m->width + c] = v;
        }
    rc = 0;
    goto done;
truncated:
    cli_error("%s: truncated .npy header (%zu bytes)", path, n);
done:
    free(hdr);
    free(buf);
    if (rc != 0) raw_matrix_free(m);
    return rc;
}

static int read_f32(const char *path, uint32_t width, raw_matrix *m) {
    memset(m, 0, sizeof *m);
    if (!width) {
        cli_error("%s: a raw float32 matrix needs its row width (\"width\" / --width)", path);
        return -1;
    }
    size_t n;
    uint8_t *buf = cli_read_file(path, &n);
    if (!buf) return -1;
    size_t row = (size_t)width * 4;
    if (n == 0 || n % row) {
        cli_error("%s: %zu bytes is not a whole number of rows of %u float32 values (%zu bytes each)", path, n, width,
                  row);
        free(buf);
        return -1;
    }
    m->rows = (uint32_t)(n / row);
    m->width = width;
    m->x = (float *)buf; /* cli_read_file's buffer is 64-byte aligned and free()-able */
    return 0;
}

static int read_csv_matrix(const char *path, int with_keys, raw_matrix *m) {
    memset(m, 0, sizeof *m);
    size_t n;
    uint8_t *buf = cli_read_file(path, &n);
    if (!buf) return -1;
    int rc = -1;
    uint64_t cap = 0, kcap = 0, line = 0;
    if (table_check_utf8(path, buf, n) != 0) goto done;
    for (char *p = (char *)buf, *end = (char *)buf + n; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        *nl = 0;
        if (nl > p && nl[-1] == '\r') nl[-1] = 0;
        line++;
        char *q = p;
        p = nl + 1;
        if (!*q) continue;
        uint32_t field = 0, vals = 0;
        if (with_keys) {
            char *comma = strchr(q, ',');
            if (!comma) {
                cli_error("%s:%llu: expected \"key,value,value,...\"", path, (unsigned long long)line);
                goto done;
            }
            *comma = 0;
            if (m->rows == kcap) {
                kcap = kcap ? kcap * 2 : 256;
                char **k = realloc(m->keys, kcap * sizeof *k);
                if (!k) goto oom;
                m->keys = k;
            }
            if (!(m->keys[m->rows] = strdup(q))) goto oom;
            q = comma + 1;
            field = 1;
        }
        for (;;) {
            char *e;
            errno = 0;
            float v = strtof(q, &e);
            while (*e == ' ') e++;
            if (e == q || errno || (*e && *e != ',')) {
                cli_error("%s:%llu: field %u: expected a number, found \"%.20s\"", path, (unsigned long long)line,
                          field + vals + 1, q);
                if (with_keys) free(m->keys[m->rows]);
                goto done;
            }
            if ((uint64_t)(m->rows) * (m->width ? m->width : 0) + vals >= cap) {
                cap = cap ? cap * 2 : 4096;
                float *x = realloc(m->x, cap * sizeof *x);
                if (!x) goto oom;
                m->x = x;
            }
            m->x[(uint64_t)m->rows * m->width + vals++] = v;
            if (!*e) break;
            q = e + 1;
        }
        if (m->rows == 0) {
            m->width = vals;
        } else if (vals != m->width) {
            cli_error("%s:%llu: expected %u values as on the first row, found %u", path, (unsigned long long)line,
                      m->width, vals);
            if (with_keys) free(m->keys[m->rows]);
            goto done;
        }
        m->rows++;
    }
    if (m->rows == 0) {
        cli_error("%s: no rows", path);
        goto done;
    }
    rc = 0;
    goto done;
oom:
    cli_error("%s: out of memory", path);
done:
    free(buf);
    if (rc != 0) raw_matrix_free(m);
    return rc;
}

/* Reads a keys file: one key per line. */
static char **read_keys(const char *path, uint32_t *count) {
    size_t n;
    uint8_t *buf = cli_read_file(path, &n);
    if (!buf) return NULL;
    char **keys = NULL;
    uint32_t cap = 0;
    *count = 0;
    if (table_check_utf8(path, buf, n) != 0) goto fail;
    for (char *p = (char *)buf, *end = (char *)buf + n; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        *nl = 0;
        if (nl > p && nl[-1] == '\r') nl[-1] = 0;
        if (*count == cap) {
            cap = cap ? cap * 2 : 256;
            char **k = realloc(keys, cap * sizeof *k);
            if (!k) goto fail;
            keys = k;
        }
        if (!(keys[*count] = strdup(p))) goto fail;
        (*count)++;
        p = nl + 1;
    }
    free(buf);
    if (!keys) keys = calloc(1, sizeof *keys);
    return keys;
fail:
    for (uint32_t i = 0; i < *count; i++) free(keys[i]);
    free(keys);
    free(buf);
    return NULL;
}

static const char *format_of(const ds_feature *f) {
    if (f->format) return f->format;
    size_t l = strlen(f->path);
    if (l >= 4 && !strcmp(f->path + l - 4, ".npy")) return "npy";
    if (l >= 4 && !strcmp(f->path + l - 4, ".csv")) return "csv";
    return "f32";
}

int matrix_import(const ds_feature *f, const keymap *items, feature_matrix *out) {
    memset(out, 0, sizeof *out);
    raw_matrix raw = {0};
    char **keys = NULL;
    uint32_t nkeys = 0;
    uint8_t *seen = NULL;
    int rc = -1;
    const char *fmt = format_of(f);
    int rd;
    if (!strcmp(fmt, "npy")) {
        rd = matrix_read_npy(f->path, &raw);
    } else if (!strcmp(fmt, "f32")) {
        rd = read_f32(f->path, f->width, &raw);
    } else if (!strcmp(fmt, "csv")) {
        rd = read_csv_matrix(f->path, f->keys == NULL, &raw);
    } else {
        cli_error("%s: format \"%s\": expected \"npy\", \"f32\" or \"csv\"", f->path, fmt);
        return -1;
    }
    if (rd != 0) return -1;
    if (f->width && raw.width != f->width) {
        cli_error("%s: rows are %u wide, the description says width %u", f->path, raw.width, f->width);
        goto done;
    }
    const char *keys_path = f->keys ? f->keys : f->path;
    if (f->keys) {
        if (!(keys = read_keys(f->keys, &nkeys))) {
            cli_error("%s: cannot read the row keys", f->keys);
            goto done;
        }
        if (nkeys != raw.rows) {
            cli_error("%s: %u keys but %s has %u rows (shape mismatch)", f->keys, nkeys, f->path, raw.rows);
            goto done;
        }
    } else if (!raw.keys) {
        cli_error("%s: a %s matrix needs a keys file (one item key per row: \"keys\" / --keys)", f->path, fmt);
        goto done;
    }
    char **rk = keys ? keys : raw.keys;
    out->rows = items->n;
    out->width = raw.width;
    out->name = strdup(f->name);
    out->kind = strdup("feature");
    out->source = strdup(f->path);
    out->x = calloc((size_t)out->rows * out->width, sizeof *out->x);
    seen = calloc(items->n ? items->n : 1, 1);
    if (!out->x || !seen || !out->name || !out->kind || !out->source) {
        cli_error("%s: out of memory", f->path);
        goto done;
    }
    uint32_t skipped = 0;
    for (uint32_t r = 0; r < raw.rows; r++) {
        uint32_t i = keymap_find(items, rk[r]);
        if (i == UINT32_MAX) {
            if (f->allow_unknown) {
                skipped++;
                continue;
            }
            cli_error("%s:%u: key \"%.60s\" is not an item of items.txt (set \"allow_unknown\" / --allow-unknown to skip such rows)",
                      keys_path, r + 1, rk[r]);
            goto done;
        }
        if (seen[i]) {
            cli_error("%s:%u: key \"%.60s\" appears twice", keys_path, r + 1, rk[r]);
            goto done;
        }
        seen[i] = 1;
        memcpy(out->x + (size_t)i * out->width, raw.x + (size_t)r * raw.width, raw.width * sizeof(float));
    }
    if (skipped == raw.rows) {
        cli_error("%s: no row's key is an item of items.txt (%u rows, all skipped): nothing to import", keys_path,
                  raw.rows);
        goto done;
    }
    if (skipped) fprintf(stderr, "%s: skipped %u rows whose key is not an item\n", f->path, skipped);
    rc = feature_matrix_finish(out, f->path);
done:
    if (keys)
        for (uint32_t i = 0; i < nkeys; i++) free(keys[i]);
    free(keys);
    free(seen);
    raw_matrix_free(&raw);
    if (rc != 0) feature_matrix_free(out);
    return rc;
}
