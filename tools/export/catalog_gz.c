/* catalog_gz.c - a bundle's catalogue JSON from CATALOG or CATALOG_GZ, and the gzip member
   that `mdsrec export` writes as CATALOG_GZ (catalog_gz.h). */
#include "export/catalog_gz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cli.h"

int catalog_gzip(const char *json, size_t len, uint8_t **gz, size_t *gz_len) {
    *gz = NULL, *gz_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 16 + 15: a gzip wrapper; deflateInit2 writes mtime 0 and no name */
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        cli_error("cannot start gzip compression of the catalogue");
        return -1;
    }
    if (len > (size_t)UINT32_MAX) {
        deflateEnd(&z);
        cli_error("the catalogue is %zu bytes: more than 4 GiB", len);
        return -1;
    }
    size_t cap = deflateBound(&z, (uLong)len);
    uint8_t *out = malloc(cap ? cap : 1);
    if (!out) {
        deflateEnd(&z);
        cli_error("out of memory for the compressed catalogue (%zu bytes)", cap);
        return -1;
    }
    z.next_in = (Bytef *)json;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH); /* deflateBound leaves room: one call ends the stream */
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(out);
        cli_error("gzip compression of the catalogue failed (%d)", zr);
        return -1;
    }
    *gz = out, *gz_len = n;
    return 0;
}

int catalog_gzip_owned(char **catalog, size_t *len) {
    uint8_t *gz;
    size_t gz_len;
    if (catalog_gzip(*catalog, *len, &gz, &gz_len)) return -1;
    free(*catalog);
    *catalog = (char *)gz, *len = gz_len;
    return 0;
}

/* A malloc'd NUL-terminated copy of s[0..n). */
static char *dup_bytes(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = 0;
    return c;
}

static int catalog_of(const char *plain, size_t plain_len, const uint8_t *gz, size_t gz_len, const char *what,
                      char **json, size_t *len) {
    *json = NULL, *len = 0;
    if (plain) {
        if (!(*json = dup_bytes(plain, plain_len))) {
            cli_error("%s: out of memory for its catalogue (%zu bytes)", what, plain_len);
            return -1;
        }
        *len = plain_len;
        return 0;
    }
    if (!gz) return 0;
    char label[1100];
    snprintf(label, sizeof label, "%s: section CATALOG_GZ", what);
    size_t n = 0;
    uint8_t *in = cli_gunzip(label, gz, gz_len, &n); /* NUL-terminated */
    if (!in) return -1;
    *json = (char *)in, *len = n;
    return 0;
}

int catalog_of_model(const mdsrec_model *m, const char *what, char **json, size_t *len) {
    size_t pl = 0, gl = 0;
    const char *plain = mdsrec_catalog(m, &pl);
    const void *gz = mdsrec_catalog_gzip(m, &gl);
    return catalog_of(plain, pl, gz, gl, what, json, len);
}

int catalog_of_view(const bundle_view *v, const char *what, char **json, size_t *len) {
    return catalog_of(v->catalog, v->catalog_len, v->catalog_gz, v->catalog_gz_len, what, json, len);
}
