/*
 * bundle_recatalog.c - a copy of a bundle with its CATALOG section replaced (models/FORMAT.md):
 * every other section's bytes and checksum are kept exactly (an i8 or f16 model is not
 * re-quantized, as a round trip through bundle_build would do), the new catalog goes after the
 * head sections, where the writer puts it.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"
#include "checksum.h"

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align64(uint64_t x) { return (x + BUNDLE_ALIGN - 1) / BUNDLE_ALIGN * BUNDLE_ALIGN; }

static int is_catalog_kind(uint32_t kind) { return kind == SEC_CATALOG || kind == SEC_CATALOG_GZ; }

/* Places the sections of `in` but its catalogs, and catalog[0..catalog_len) (when not empty)
   before the first of them past the head, from offset `at`: a streamed download can then
   answer with titles before the channels arrive (bundle_stream.h). With b NULL it only
   measures; else it copies the payloads into b and writes the table at b + HEADER. Returns
   the end of the last section; *n_out the entries. */
static uint64_t lay_out(const uint8_t *in, uint32_t n_in, uint64_t at, const char *catalog, size_t catalog_len,
                        int gzip, uint8_t *b, uint32_t *n_out) {
    uint8_t *table = b ? b + BUNDLE_HEADER_SIZE : NULL;
    int add = catalog_len > 0;
    *n_out = 0;
    for (uint32_t i = 0; i <= n_in; i++) {
        const uint8_t *e = i < n_in ? in + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE : NULL;
        if (e && is_catalog_kind(get32(e))) continue;
        if (add && (!e || !bundle_is_head_kind(get32(e)))) {
            at = align64(at);
            if (b) {
                memcpy(b + at, catalog, catalog_len);
                uint8_t *t = table + (size_t)*n_out * BUNDLE_ENTRY_SIZE;
                put32(t, gzip ? SEC_CATALOG_GZ : SEC_CATALOG), put32(t + 4, BUNDLE_NO_CHANNEL), put64(t + 8, at);
                put64(t + 16, catalog_len), put64(t + 24, checksum64(b + at, catalog_len));
            }
            ++*n_out;
            at += catalog_len;
            add = 0;
        }
        if (!e) break;
        uint64_t size = get64(e + 16);
        at = align64(at);
        if (b) {
            memcpy(b + at, in + get64(e + 8), (size_t)size);
            uint8_t *t = table + (size_t)*n_out * BUNDLE_ENTRY_SIZE;
            memcpy(t, e, BUNDLE_ENTRY_SIZE);
            put64(t + 8, at); /* kind, channel, size and checksum stay */
        }
        ++*n_out;
        at += size;
    }
    return at;
}

mdsrec_status bundle_replace_catalog(const void *buf, size_t len, const char *catalog, size_t catalog_len, int gzip,
                                     uint8_t **out, size_t *out_len, mdsrec_error *err) {
    if (err) err->code = 0, err->message[0] = 0;
    if (!buf || !out || !out_len || (!catalog && catalog_len))
        return bnd_fail(err, MDSREC_EARG, "bundle_replace_catalog: NULL argument");
    *out = NULL, *out_len = 0;
    bundle_view v;
    mdsrec_status st = bundle_read(buf, len, &v, err); /* so the table below is known sound */
    if (st) return st;
    const uint8_t *in = buf;
    uint32_t n_in = get32(in + 20), n_out = 0;
    int add = catalog_len > 0;
    uint32_t had = (v.catalog || v.catalog_gz) ? 1u : 0u;
    if (n_in - had + (uint32_t)add == 0 || n_in + 1 > BUNDLE_MAX_SECTIONS)
        return bnd_fail(err, MDSREC_EARG, "bundle_replace_catalog: %u sections leave no room for a catalog", n_in);
    /* the layout: the kept sections in their order, the catalog after the head's */
    uint32_t n_new = n_in - had + (uint32_t)add;
    uint64_t first = align64(BUNDLE_HEADER_SIZE + (uint64_t)n_new * BUNDLE_ENTRY_SIZE);
    uint64_t total = lay_out(in, n_in, first, catalog, catalog_len, gzip, NULL, &n_out);
    if (total > SIZE_MAX - BUNDLE_ALIGN)
        return bnd_fail(err, MDSREC_ENOMEM, "bundle_replace_catalog: %llu bytes do not fit", (unsigned long long)total);
    size_t cap = (size_t)align64(total);
    uint8_t *b = aligned_alloc(BUNDLE_ALIGN, cap);
    if (!b) return bnd_fail(err, MDSREC_ENOMEM, "bundle_replace_catalog: out of memory for %zu bytes", cap);
    memset(b, 0, cap);
    uint8_t *table = b + BUNDLE_HEADER_SIZE;
    lay_out(in, n_in, first, catalog, catalog_len, gzip, b, &n_out);
    memcpy(b, in, 56); /* magic, version, byte order, sizes: then the fields that change */
    put32(b + 20, n_out), put64(b + 24, total), put64(b + 32, BUNDLE_HEADER_SIZE);
    put64(b + 40, checksum64(table, (size_t)n_out * BUNDLE_ENTRY_SIZE));
    put64(b + 56, checksum64(b, 56));
    /* read back, so a fault here can never leave a bundle the core refuses */
    st = bundle_read(b, (size_t)total, &v, err);
    if (st) {
        free(b);
        return st;
    }
    *out = b, *out_len = (size_t)total;
    return MDSREC_OK;
}
