/*
 * bundle_read.c - the validating reader of bundle format v1 (models/FORMAT.md), and the
 * neighbour-list accessors over what it returns.
 *
 * The reader trusts nothing: every offset, size, count and value is checked before it is
 * used, all size arithmetic is done in uint64_t after the factors have been bounded by the
 * format's limits (so no product can overflow), and nothing is read outside buf[0..len).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"
#include "checksum.h"
#include "half.h"

/* Per-channel kinds carry a channel number; the others carry BUNDLE_NO_CHANNEL. */
static int kind_is_per_channel(uint32_t kind) {
    return kind == SEC_ITEMS || kind == SEC_SCALES || kind == SEC_POS || kind == SEC_ENCODER ||
           kind == SEC_POOL || kind == SEC_NEIGHBOURS || kind == SEC_NEIGHBOURS_K || kind == SEC_PQ_CODEBOOK ||
           kind == SEC_NEIGHBOURS_B;
}

static const char *dtype_name(uint32_t dtype) {
    const char *n = dtype <= MDSREC_PQ ? mdsrec_dtype_name((int)dtype) : NULL; /* the one name table (api.c) */
    return n ? n : "?";
}

/* "section ITEMS (channel 1)" or "section KEYS": the prefix of every section message. */
static void section_label(char *out, size_t cap, uint32_t kind, uint32_t channel) {
    size_t n = 0;
    out[0] = 0;
    bnd_msg_put(out, cap, &n, "section ");
    if (kind >= 1 && kind <= SEC_KIND_MAX) {
        bnd_msg_put(out, cap, &n, bnd_section_names[kind]);
    } else {
        bnd_msg_put(out, cap, &n, "kind ");
        bnd_msg_put_u64(out, cap, &n, kind);
    }
    if (channel != BUNDLE_NO_CHANNEL) {
        bnd_msg_put(out, cap, &n, " (channel ");
        bnd_msg_put_u64(out, cap, &n, channel);
        bnd_msg_put(out, cap, &n, ")");
    }
}

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static float rdf32(const uint8_t *p) {
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---------------------------------------------------------------- reader: structure */

typedef struct {
    const uint8_t *p; /* payload, NULL when the section is absent */
    uint64_t size;
} sec_loc;

typedef struct {
    const uint8_t *buf;
    size_t len;
    sec_loc global[SEC_KIND_MAX + 1];                      /* non-channel kinds */
    sec_loc chan[SEC_KIND_MAX + 1][MDSREC_MAX_CHANNELS];   /* per-channel kinds */
    uint32_t max_channel_seen[SEC_KIND_MAX + 1];           /* for the "channel out of range" check */
    uint32_t version;                                      /* the header's format version */
    mdsrec_error *err;
    const uint8_t *verified; /* per table entry: payload checksum already checked (a stream), or NULL */
    int parts;               /* a bundle_read_part: how much of the bundle to read */
} reader;

static mdsrec_status read_header(reader *r, uint32_t *count) {
    const uint8_t *b = r->buf;
    size_t len = r->len;
    if (len < 8 || memcmp(b, BUNDLE_MAGIC, 8) != 0)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: not an mdsrec bundle (bad magic)");
    if (len < 12)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: file is %llu bytes, shorter than the 64-byte header",
                    (unsigned long long)len);
    /* the version first: a future bundle should say so, not complain about its checksum */
    uint32_t version = rd32(b + 8);
    if (version < MDSREC_FORMAT_VERSION_MIN || version > MDSREC_FORMAT_VERSION)
        return bnd_fail(r->err, MDSREC_EVERSION, "header: format version %u, this core reads versions %u to %u%s", version,
                    (unsigned)MDSREC_FORMAT_VERSION_MIN, (unsigned)MDSREC_FORMAT_VERSION,
                    version > MDSREC_FORMAT_VERSION ? " (the bundle is newer)" : "");
    r->version = version;
    if (len < BUNDLE_HEADER_SIZE)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: file is %llu bytes, shorter than the 64-byte header",
                    (unsigned long long)len);
    uint32_t bom = rd32(b + 12);
    if (bom == 0x04030201u)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: byte order mark %x: written in the other byte order", bom);
    if (bom != BUNDLE_BYTE_ORDER)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: bad byte order mark %x", bom);
    if (checksum64(b, 56) != rd64(b + 56))
        return bnd_fail(r->err, MDSREC_ECHECKSUM, "header: checksum mismatch");
    if (rd32(b + 16) != BUNDLE_HEADER_SIZE)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: header_size %u, expected 64", rd32(b + 16));
    *count = rd32(b + 20);
    if (*count < 1 || *count > BUNDLE_MAX_SECTIONS)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: section_count %u outside 1..4096", *count);
    uint64_t file_size = rd64(b + 24);
    if (file_size != len)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: file_size %llu but the buffer holds %llu bytes%s",
                    (unsigned long long)file_size, (unsigned long long)len, file_size > len ? " (truncated)" : "");
    if (rd64(b + 32) != BUNDLE_HEADER_SIZE)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: table_offset %llu, expected 64", (unsigned long long)rd64(b + 32));
    if (rd32(b + 48) != 0 || rd32(b + 52) != 0)
        return bnd_fail(r->err, MDSREC_EFORMAT, "header: reserved flags are not 0");
    return MDSREC_OK;
}

/* One table entry: alignment, bounds, order, checksum, duplicates; records known kinds. */
static mdsrec_status read_entry(reader *r, uint32_t i, uint64_t table_end, uint64_t *prev_end) {
    const uint8_t *e = r->buf + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE;
    uint32_t kind = rd32(e), channel = rd32(e + 4);
    uint64_t off = rd64(e + 8), size = rd64(e + 16), sum = rd64(e + 24);
    char name[64];
    section_label(name, sizeof name, kind, channel);
    if (off % BUNDLE_ALIGN)
        return bnd_fail(r->err, MDSREC_EFORMAT, "%s: offset %llu is not a multiple of 64", name, (unsigned long long)off);
    if (off < table_end)
        return bnd_fail(r->err, MDSREC_EFORMAT, "%s: offset %llu lies inside the header or section table", name,
                    (unsigned long long)off);
    if (off > r->len || size > r->len - off)
        return bnd_fail(r->err, MDSREC_EFORMAT, "%s: offset %llu + size %llu is past the end of the file (%llu bytes)",
                    name, (unsigned long long)off, (unsigned long long)size, (unsigned long long)r->len);
    if (off < *prev_end)
        return bnd_fail(r->err, MDSREC_EFORMAT, "%s: offset %llu overlaps or precedes the previous section (ends at %llu)",
                    name, (unsigned long long)off, (unsigned long long)*prev_end);
    *prev_end = off + size;
    /* a stream checksums each payload as it arrives; the table alone reads none of them */
    int sum_done = r->parts != BUNDLE_READ_ALL || (r->verified && r->verified[i]);
    if (!sum_done && checksum64(r->buf + off, (size_t)size) != sum)
        return bnd_fail(r->err, MDSREC_ECHECKSUM, "%s: payload checksum mismatch", name);
    if (kind < 1 || kind > SEC_KIND_MAX) return MDSREC_OK; /* unknown kind: verified, skipped */

    sec_loc *slot;
    if (kind_is_per_channel(kind)) {
        if (channel >= MDSREC_MAX_CHANNELS)
            return bnd_fail(r->err, MDSREC_EFORMAT, "%s: channel out of range (at most 8 channels)", name);
        slot = &r->chan[kind][channel];
        if (channel + 1 > r->max_channel_seen[kind]) r->max_channel_seen[kind] = channel + 1;
    } else {
        if (channel != BUNDLE_NO_CHANNEL)
            return bnd_fail(r->err, MDSREC_EFORMAT, "%s: a global section must have channel 0xFFFFFFFF", name);
        slot = &r->global[kind];
    }
    if (slot->p) return bnd_fail(r->err, MDSREC_EFORMAT, "%s: appears twice in the section table", name);
    slot->p = r->buf + off;
    slot->size = size;
    return MDSREC_OK;
}

static mdsrec_status read_table(reader *r, uint32_t count) {
    uint64_t table_end = BUNDLE_HEADER_SIZE + (uint64_t)count * BUNDLE_ENTRY_SIZE;
    if (table_end > r->len)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section table: %u entries end at byte %llu, past the end of the file",
                    count, (unsigned long long)table_end);
    if (checksum64(r->buf + BUNDLE_HEADER_SIZE, (size_t)(table_end - BUNDLE_HEADER_SIZE)) != rd64(r->buf + 40))
        return bnd_fail(r->err, MDSREC_ECHECKSUM, "section table: checksum mismatch");
    uint64_t prev_end = table_end;
    for (uint32_t i = 0; i < count; i++) {
        mdsrec_status s = read_entry(r, i, table_end, &prev_end);
        if (s) return s;
    }
    return MDSREC_OK;
}

/* ---------------------------------------------------------------- reader: sections */

static mdsrec_status read_config(reader *r, mdsrec_config *c) {
    const sec_loc *s = &r->global[SEC_CONFIG];
    if (!s->p) return bnd_fail(r->err, MDSREC_EFORMAT, "section CONFIG: missing");
    if (s->size < BUNDLE_CONFIG_FIXED)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section CONFIG: size %llu, shorter than 64", (unsigned long long)s->size);
    const uint8_t *p = s->p;
    memset(c, 0, sizeof *c);
    c->n_items = rd32(p), c->dim = rd32(p + 4), c->n_channels = rd32(p + 8), c->max_len = rd32(p + 12);
    c->n_blocks = rd32(p + 16), c->n_heads = rd32(p + 20), c->ffn_dim = rd32(p + 24);
    c->item_dtype = rd32(p + 28), c->pool_mode = rd32(p + 32), c->ln_mode = rd32(p + 36);
    c->ln_eps = rdf32(p + 40);
    c->item_layout = rd32(p + 44);
    c->weight_dtype = rd32(p + 48), c->pq_m = rd32(p + 52); /* v2 fields; reserved (0) in v1 */
    /* v1 first, so that a v1 bundle keeps its v1 message for these bytes */
    if (r->version < 2 && (c->weight_dtype || c->pq_m))
        return bnd_fail(r->err, MDSREC_EFORMAT, "section CONFIG: reserved field at offset %d is not 0 (format version 1)",
                    c->weight_dtype ? 48 : 52);
    mdsrec_status st = bnd_config_check(c, "section CONFIG", r->err);
    if (st) return st;
    if (r->version < 2 && c->item_dtype == MDSREC_PQ)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section CONFIG: item_dtype 3 (pq) needs format version 2");
    for (int i = 3; i < 5; i++)
        if (rd32(p + 44 + 4 * i)) return bnd_fail(r->err, MDSREC_EFORMAT, "section CONFIG: reserved field at offset %d is not 0", 44 + 4 * i);
    uint64_t want = BUNDLE_CONFIG_FIXED + (uint64_t)c->n_channels * BUNDLE_CHANNEL_RECORD;
    if (s->size != want)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section CONFIG: size %llu, expected %llu", (unsigned long long)s->size,
                    (unsigned long long)want);
    for (uint32_t i = 0; i < c->n_channels; i++) {
        const uint8_t *rec = p + BUNDLE_CONFIG_FIXED + i * BUNDLE_CHANNEL_RECORD;
        size_t n = 0;
        while (n < 24 && rec[n]) n++;
        for (size_t k = n; k < 24; k++)
            if (rec[k]) return bnd_fail(r->err, MDSREC_EFORMAT, "section CONFIG: channel %u name is not NUL-padded", i);
        memcpy(c->channels[i].name, rec, n);
        c->channels[i].name[n] = 0;
        c->channels[i].kind = rd32(rec + 24);
        if (r->version >= 3) { /* the channel's block count; v1 and v2: reserved, every channel has n_blocks */
            c->channels[i].n_blocks = rd32(rec + 28);
        } else {
            if (rd32(rec + 28))
                return bnd_fail(r->err, MDSREC_EFORMAT, "section CONFIG: channel %u reserved field is not 0", i);
            c->channels[i].n_blocks = c->n_blocks;
        }
    }
    st = bnd_config_check(c, "section CONFIG", r->err); /* again, now with the channel kinds */
    if (st) return st;
    return bnd_names_check(c, "section CONFIG", r->err);
}

/* A required section of an exact size; sets *p. */
static mdsrec_status need(reader *r, uint32_t kind, uint32_t channel, uint64_t size, const uint8_t **p) {
    const sec_loc *s = channel == BUNDLE_NO_CHANNEL ? &r->global[kind] : &r->chan[kind][channel];
    char name[64];
    section_label(name, sizeof name, kind, channel);
    if (!s->p) return bnd_fail(r->err, MDSREC_EFORMAT, "%s: missing", name);
    if (s->size != size)
        return bnd_fail(r->err, MDSREC_EFORMAT, "%s: size %llu, expected %llu", name, (unsigned long long)s->size,
                    (unsigned long long)size);
    *p = s->p;
    return MDSREC_OK;
}

/* A float section of n values: exact size, all finite. */
static mdsrec_status need_floats(reader *r, uint32_t kind, uint32_t channel, uint64_t n, const float **out) {
    const uint8_t *p = NULL;
    mdsrec_status st = need(r, kind, channel, n * 4, &p);
    if (st) return st;
    const float *f = (const float *)(const void *)p; /* 64-aligned in a 16-aligned buffer */
    size_t bad = bnd_first_nonfinite(f, (size_t)n);
    if (bad != n) {
        char name[64];
        section_label(name, sizeof name, kind, channel);
        return bnd_fail(r->err, MDSREC_EFORMAT, "%s: value %llu is not finite", name, (unsigned long long)bad);
    }
    *out = f;
    return MDSREC_OK;
}

/* A dense weight array of n values in cfg.weight_dtype: f32 as a float view (*out), else the
   stored bytes (*raw, decoded at open), exact size and every value decodable to a finite float. */
static mdsrec_status need_weights(reader *r, const mdsrec_config *c, uint32_t kind, uint32_t channel, uint64_t n,
                                  const float **out, const uint8_t **raw) {
    if (c->weight_dtype == MDSREC_WEIGHTS_F32) return need_floats(r, kind, channel, n, out);
    const uint8_t *p = NULL;
    mdsrec_status st = need(r, kind, channel, bundle_weights_bytes(c->weight_dtype, n), &p);
    if (st) return st;
    uint64_t bad = bundle_weights_check(c->weight_dtype, p, n);
    if (bad != n) {
        char name[64];
        section_label(name, sizeof name, kind, channel);
        return bnd_fail(r->err, MDSREC_EFORMAT, "%s: value %llu does not decode to a finite %s weight%s", name,
                    (unsigned long long)bad, mdsrec_weight_dtype_name((int)c->weight_dtype),
                    c->weight_dtype == MDSREC_WEIGHTS_Q8 ? " (block scale not finite, negative or too large, or padding not 0)" : "");
    }
    *raw = p;
    return MDSREC_OK;
}

static mdsrec_status read_keys(reader *r, const mdsrec_config *c, bundle_view *v) {
    const sec_loc *s = &r->global[SEC_KEYS];
    uint64_t n = c->n_items, table = 4 * (n + 1);
    if (!s->p) return bnd_fail(r->err, MDSREC_EFORMAT, "section KEYS: missing");
    if (s->size < table)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section KEYS: size %llu, shorter than its %llu-byte offset table",
                    (unsigned long long)s->size, (unsigned long long)table);
    const uint32_t *off = (const uint32_t *)(const void *)s->p;
    const uint8_t *bytes = s->p + table;
    if (off[0] != 0) return bnd_fail(r->err, MDSREC_EFORMAT, "section KEYS: offsets[0] is %u, not 0", off[0]);
    if ((uint64_t)off[n] != s->size - table)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section KEYS: offsets[N] is %u but %llu key bytes follow the table",
                    off[n], (unsigned long long)(s->size - table));
    for (uint64_t i = 0; i < n; i++) {
        /* bounded by offsets[N] too, so no key is read past the section before a later
           decrease would be found */
        if (off[i + 1] < off[i] || off[i + 1] > off[n])
            return bnd_fail(r->err, MDSREC_EFORMAT, "section KEYS: offsets[%llu] out of order", (unsigned long long)(i + 1));
        const char *why = bnd_key_problem(bytes + off[i], off[i + 1] - off[i]);
        if (why) return bnd_fail(r->err, MDSREC_EFORMAT, "section KEYS: key %llu %s", (unsigned long long)i, why);
    }
    v->key_offsets = off;
    v->key_bytes = bytes;
    return MDSREC_OK;
}

/* KEY_ORDER: indices < N in strictly increasing key order. N strictly increasing entries
   over N distinct keys are necessarily a permutation, so no bitmap is needed. */
static mdsrec_status read_key_order(reader *r, const mdsrec_config *c, bundle_view *v) {
    const uint8_t *p = NULL;
    uint64_t n = c->n_items;
    mdsrec_status st = need(r, SEC_KEY_ORDER, BUNDLE_NO_CHANNEL, 4 * n, &p);
    if (st) return st;
    const uint32_t *order = (const uint32_t *)(const void *)p;
    for (uint64_t i = 0; i < n; i++) {
        if (order[i] >= n)
            return bnd_fail(r->err, MDSREC_EFORMAT, "section KEY_ORDER: entry %llu is %u, not below n_items %llu",
                        (unsigned long long)i, order[i], (unsigned long long)n);
        if (i == 0) continue;
        uint32_t a = order[i - 1], b = order[i];
        const uint8_t *ka = v->key_bytes + v->key_offsets[a], *kb = v->key_bytes + v->key_offsets[b];
        if (bundle_key_compare(ka, v->key_offsets[a + 1] - v->key_offsets[a], kb,
                               v->key_offsets[b + 1] - v->key_offsets[b]) >= 0)
            return bnd_fail(r->err, MDSREC_EFORMAT, "section KEY_ORDER: entries %llu and %llu are not in strictly increasing key order",
                        (unsigned long long)(i - 1), (unsigned long long)i);
    }
    v->key_order = order;
    return MDSREC_OK;
}

static mdsrec_status read_items(reader *r, const mdsrec_config *c, uint32_t ch, bundle_view *v) {
    uint64_t count = (uint64_t)c->n_items * c->dim;
    const uint8_t *p = NULL;
    mdsrec_status st = need(r, SEC_ITEMS, ch, bundle_items_bytes(c), &p);
    if (st) return st;
    /* PQ: any code names one of the 256 centroids, so the codes need no check; the centroids
       must be finite */
    if (c->item_dtype == MDSREC_PQ) {
        st = need_floats(r, SEC_PQ_CODEBOOK, ch, bundle_pq_codebook_floats(c), &v->ch[ch].pq_codebook);
        if (st) return st;
    } else if (r->chan[SEC_PQ_CODEBOOK][ch].p) {
        return bnd_fail(r->err, MDSREC_EFORMAT, "section PQ_CODEBOOK (channel %u): present but item_dtype is %s", ch,
                    dtype_name(c->item_dtype));
    }
    if (c->item_dtype == MDSREC_F32) {
        size_t bad = bnd_first_nonfinite((const float *)(const void *)p, (size_t)count);
        if (bad != count)
            return bnd_fail(r->err, MDSREC_EFORMAT, "section ITEMS (channel %u): value %llu (item %llu) is not finite", ch,
                        (unsigned long long)bad, (unsigned long long)(bad / c->dim));
    } else if (c->item_dtype == MDSREC_F16) {
        const uint16_t *h = (const uint16_t *)(const void *)p;
        for (size_t i = 0; i < count; i++)
            if ((h[i] & 0x7C00u) == 0x7C00u)
                return bnd_fail(r->err, MDSREC_EFORMAT, "section ITEMS (channel %u): value %llu (item %llu) is Inf or NaN",
                            ch, (unsigned long long)i, (unsigned long long)(i / c->dim));
    }
    v->ch[ch].items = p;

    const sec_loc *sc = &r->chan[SEC_SCALES][ch];
    if (c->item_dtype != MDSREC_I8) {
        if (sc->p)
            return bnd_fail(r->err, MDSREC_EFORMAT, "section SCALES (channel %u): present but item_dtype is %s", ch,
                        dtype_name(c->item_dtype));
        return MDSREC_OK;
    }
    const float *scales = NULL;
    st = need_floats(r, SEC_SCALES, ch, c->n_items, &scales);
    if (st) return st;
    for (uint32_t i = 0; i < c->n_items; i++)
        if (scales[i] < 0)
            return bnd_fail(r->err, MDSREC_EFORMAT, "section SCALES (channel %u): scale of item %u is negative", ch, i);
    v->ch[ch].scales = scales;
    return MDSREC_OK;
}

/* NEIGHBOURS: u32 n, u32 nnz, u32 row_ptr[N+1], u32 index[nnz], f32 weight[nnz]. */
static mdsrec_status read_neighbours(reader *r, const mdsrec_config *c, uint32_t ch, bundle_view *v) {
    const sec_loc *s = &r->chan[SEC_NEIGHBOURS][ch];
    if (!s->p) return MDSREC_OK; /* optional */
    uint64_t n = c->n_items, head = 8 + 4 * (n + 1);
    if (s->size < head)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): size %llu, shorter than its %llu-byte head",
                    ch, (unsigned long long)s->size, (unsigned long long)head);
    const uint32_t *w = (const uint32_t *)(const void *)s->p;
    if (w[0] != n)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): n is %u, expected n_items %llu", ch, w[0],
                    (unsigned long long)n);
    uint64_t nnz = w[1];
    if (s->size != head + 8 * nnz)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): size %llu, expected %llu for nnz %llu", ch,
                    (unsigned long long)s->size, (unsigned long long)(head + 8 * nnz), (unsigned long long)nnz);
    const uint32_t *row = w + 2, *index = row + n + 1;
    const float *weight = (const float *)(const void *)(index + nnz);
    if (row[0] != 0 || row[n] != nnz)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): row_ptr must run from 0 to nnz %llu", ch,
                    (unsigned long long)nnz);
    for (uint64_t i = 0; i < n; i++) {
        if (row[i + 1] < row[i])
            return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): row_ptr decreases at item %llu", ch,
                        (unsigned long long)i);
        /* bounded by nnz too, so no row is read past index[] and weight[] before a later
           decrease would be found (as offsets[N] bounds the KEYS offsets) */
        if (row[i + 1] > nnz)
            return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): row_ptr[%llu] is %u, past nnz %llu", ch,
                        (unsigned long long)(i + 1), row[i + 1], (unsigned long long)nnz);
        for (uint32_t j = row[i]; j < row[i + 1]; j++) {
            if (index[j] >= n)
                return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): item %llu has neighbour %u, not below n_items %llu",
                            ch, (unsigned long long)i, index[j], (unsigned long long)n);
            if (!isfinite(weight[j]))
                return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): item %llu has a non-finite weight",
                            ch, (unsigned long long)i);
            if (j > row[i] && weight[j] > weight[j - 1])
                return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): item %llu's neighbours are not strongest first",
                            ch, (unsigned long long)i);
        }
    }
    v->ch[ch].nb_kind = SEC_NEIGHBOURS;
    v->ch[ch].nb_row = row;
    v->ch[ch].nb_index = index;
    v->ch[ch].nb_weight = weight;
    return MDSREC_OK;
}

/* NEIGHBOURS_K: u32 n, u32 k, f32 w_min, f32 w_max, u32 entry[N][k] (index | q << 24, rows
   padded at the tail with BUNDLE_NB_PAD, q non-increasing along a row). */
static mdsrec_status read_neighbours_k(reader *r, const mdsrec_config *c, uint32_t ch, bundle_view *v) {
    const sec_loc *s = &r->chan[SEC_NEIGHBOURS_K][ch];
    if (!s->p) return MDSREC_OK; /* optional */
    uint64_t n = c->n_items;
    if (s->size < 16)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): size %llu, shorter than its 16-byte head",
                    ch, (unsigned long long)s->size);
    const uint8_t *p = s->p;
    if (rd32(p) != n)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): n is %u, expected n_items %llu", ch,
                    rd32(p), (unsigned long long)n);
    if (n > BUNDLE_NB_K_MAX_ITEMS)
        return bnd_fail(r->err, MDSREC_EFORMAT,
                    "section NEIGHBOURS_K (channel %u): n_items %llu, the compact encoding holds at most 16777215", ch,
                    (unsigned long long)n);
    uint32_t k = rd32(p + 4);
    if (k < 1 || k > BUNDLE_NB_K_MAX)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): k %u outside 1..1024", ch, k);
    float w_min = rdf32(p + 8), w_max = rdf32(p + 12);
    if (!isfinite(w_min) || !isfinite(w_max) || !(w_min <= w_max))
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): w_min and w_max must be finite, w_min <= w_max", ch);
    uint64_t want = 16 + 4 * n * k; /* n < 2^24, k <= 1024: no overflow */
    if (s->size != want)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): size %llu, expected %llu for n %llu and k %u",
                    ch, (unsigned long long)s->size, (unsigned long long)want, (unsigned long long)n, k);
    const uint32_t *e = (const uint32_t *)(const void *)(p + 16); /* 64-aligned section + 16 */
    for (uint64_t i = 0; i < n; i++) {
        const uint32_t *row = e + i * k;
        int padded = 0;
        for (uint32_t j = 0; j < k; j++) {
            uint32_t x = row[j];
            if (x == BUNDLE_NB_PAD) {
                padded = 1;
                continue;
            }
            if (padded)
                return bnd_fail(r->err, MDSREC_EFORMAT,
                            "section NEIGHBOURS_K (channel %u): item %llu has a neighbour at rank %u after padding (padding only at a row's tail)",
                            ch, (unsigned long long)i, j);
            if ((x & BUNDLE_NB_INDEX_MASK) >= n)
                return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): item %llu has neighbour %u, not below n_items %llu",
                            ch, (unsigned long long)i, x & BUNDLE_NB_INDEX_MASK, (unsigned long long)n);
            if (j > 0 && (x >> 24) > (row[j - 1] >> 24))
                return bnd_fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): item %llu's neighbours are not strongest first",
                            ch, (unsigned long long)i);
        }
    }
    v->ch[ch].nb_kind = SEC_NEIGHBOURS_K;
    v->ch[ch].nb_packed = e;
    v->ch[ch].nb_k = k;
    v->ch[ch].nb_w_min = w_min;
    v->ch[ch].nb_w_max = w_max;
    return MDSREC_OK;
}

/* ---------------------------------------------------------------- neighbour access */

float bundle_nb_dequant(float w_min, float w_max, uint32_t q) {
    return (float)((double)w_min + (double)q * ((double)w_max - (double)w_min) / 255.0);
}

uint32_t bundle_nb_count(const bundle_channel *c, uint32_t item) {
    if (c->nb_kind == SEC_NEIGHBOURS) return c->nb_row[item + 1] - c->nb_row[item];
    if (c->nb_kind == SEC_NEIGHBOURS_B) {
        uint32_t n = 0, q, pad = (1u << c->nb_ibits) - 1;
        while (n < c->nb_k && bundle_nbits_get(c, item, n, &q) != pad) n++; /* padding only at the tail */
        return n;
    }
    if (c->nb_kind != SEC_NEIGHBOURS_K) return 0;
    const uint32_t *row = c->nb_packed + (size_t)item * c->nb_k;
    uint32_t n = 0;
    while (n < c->nb_k && row[n] != BUNDLE_NB_PAD) n++; /* the padding is only at the tail */
    return n;
}

uint32_t bundle_nb_get(const bundle_channel *c, uint32_t item, uint32_t j, float *weight) {
    if (c->nb_kind == SEC_NEIGHBOURS) {
        uint32_t at = c->nb_row[item] + j;
        *weight = c->nb_weight[at];
        return c->nb_index[at];
    }
    if (c->nb_kind == SEC_NEIGHBOURS_B) {
        uint32_t q, x = bundle_nbits_get(c, item, j, &q);
        *weight = bundle_nbits_dequant(c->nb_w_min, c->nb_w_max, q, c->nb_wbits);
        return x;
    }
    uint32_t x = c->nb_packed[(size_t)item * c->nb_k + j];
    *weight = bundle_nb_dequant(c->nb_w_min, c->nb_w_max, x >> 24);
    return x & BUNDLE_NB_INDEX_MASK;
}

uint32_t bundle_nb_max_row(const bundle_channel *c, uint32_t n_items) {
    if (c->nb_kind == SEC_NEIGHBOURS_K || c->nb_kind == SEC_NEIGHBOURS_B) return c->nb_k;
    if (c->nb_kind != SEC_NEIGHBOURS) return 0;
    uint32_t best = 0;
    for (uint32_t i = 0; i < n_items; i++)
        if (c->nb_row[i + 1] - c->nb_row[i] > best) best = c->nb_row[i + 1] - c->nb_row[i];
    return best;
}

uint64_t bundle_nb_total(const bundle_channel *c, uint32_t n_items) {
    if (c->nb_kind == SEC_NEIGHBOURS) return c->nb_row[n_items];
    uint64_t t = 0;
    if (c->nb_kind == SEC_NEIGHBOURS_K || c->nb_kind == SEC_NEIGHBOURS_B)
        for (uint32_t i = 0; i < n_items; i++) t += bundle_nb_count(c, i);
    return t;
}

static mdsrec_status read_channel(reader *r, const mdsrec_config *c, uint32_t ch, bundle_view *v) {
    bundle_channel *bc = &v->ch[ch];
    mdsrec_status st = read_items(r, c, ch, v);
    if (!st) st = need_weights(r, c, SEC_POS, ch, (uint64_t)c->max_len * c->dim, &bc->pos, &bc->pos_raw);
    if (!st) st = need_weights(r, c, SEC_ENCODER, ch, bnd_encoder_floats64(c, ch), &bc->encoder, &bc->encoder_raw);
    if (st) return st;
    if (c->pool_mode == MDSREC_POOL_NONE) {
        if (r->chan[SEC_POOL][ch].p)
            return bnd_fail(r->err, MDSREC_EFORMAT, "section POOL (channel %u): present but pool_mode is 0", ch);
    } else {
        st = need_weights(r, c, SEC_POOL, ch, bnd_pool_floats64(c), &bc->pool, &bc->pool_raw);
        if (st) return st;
    }
    if (r->chan[SEC_NEIGHBOURS][ch].p && r->chan[SEC_NEIGHBOURS_K][ch].p)
        return bnd_fail(r->err, MDSREC_EFORMAT,
                    "section NEIGHBOURS_K (channel %u): the channel also has a NEIGHBOURS section (at most one of the two)", ch);
    const sec_loc *nb = &r->chan[SEC_NEIGHBOURS_B][ch];
    if (nb->p && (r->chan[SEC_NEIGHBOURS][ch].p || r->chan[SEC_NEIGHBOURS_K][ch].p))
        return bnd_fail(r->err, MDSREC_EFORMAT,
                    "section NEIGHBOURS_B (channel %u): the channel also has a NEIGHBOURS or NEIGHBOURS_K section (at most one neighbour section)", ch);
    st = read_neighbours(r, c, ch, v);
    if (!st) st = read_neighbours_k(r, c, ch, v);
    if (!st && nb->p) st = bnd_nbits_read(nb->p, nb->size, c->n_items, ch, bc, r->err);
    return st;
}

/* POPULARITY: a permutation, proved with a temporary bitmap. */
static mdsrec_status read_popularity(reader *r, const mdsrec_config *c, bundle_view *v) {
    const uint8_t *p = NULL;
    uint32_t n = c->n_items;
    mdsrec_status st = need(r, SEC_POPULARITY, BUNDLE_NO_CHANNEL, 4 * (uint64_t)n, &p);
    if (st) return st;
    const uint32_t *order = (const uint32_t *)(const void *)p;
    uint8_t *seen = calloc((n + 7) / 8, 1);
    if (!seen) return bnd_fail(r->err, MDSREC_ENOMEM, "section POPULARITY: out of memory for its check");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = order[i];
        if (x >= n || (seen[x / 8] >> (x % 8) & 1)) {
            free(seen);
            return bnd_fail(r->err, MDSREC_EFORMAT, "section POPULARITY: entry %u (%u) %s", i, x,
                        x >= n ? "is not below n_items" : "repeats an item: not a permutation");
        }
        seen[x / 8] |= (uint8_t)(1u << (x % 8));
    }
    free(seen);
    v->popularity = order;
    return MDSREC_OK;
}

mdsrec_status bundle_read(const void *buf, size_t len, bundle_view *view, mdsrec_error *err) {
    return bundle_read_ex(buf, len, NULL, BUNDLE_READ_ALL, view, err);
}

/* The sections that BUNDLE_READ_HEAD reads (a catalog only when present). */
int bundle_is_head_kind(uint32_t kind) {
    return kind == SEC_CONFIG || kind == SEC_KEYS || kind == SEC_KEY_ORDER || kind == SEC_POPULARITY ||
           kind == SEC_CATALOG || kind == SEC_CATALOG_GZ;
}

static mdsrec_status read_catalog(reader *r, bundle_view *v) {
    const sec_loc *s = &r->global[SEC_CATALOG];
    if (!s->p) return MDSREC_OK;
    size_t bad = bnd_utf8_valid_prefix(s->p, (size_t)s->size);
    if (bad != s->size)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section CATALOG: invalid UTF-8 at byte %llu", (unsigned long long)bad);
    v->catalog = (const char *)s->p;
    v->catalog_len = (size_t)s->size;
    return MDSREC_OK;
}

/* CATALOG_GZ: the core hands the gzip member on without inflating it (the shim's
   DecompressionStream and the tools' zlib do), so only its frame is checked here: a gzip
   header (RFC 1952: 1f 8b, method 8, no reserved flag) and room for the 8-byte trailer. */
static mdsrec_status read_catalog_gz(reader *r, bundle_view *v) {
    const sec_loc *s = &r->global[SEC_CATALOG_GZ];
    if (!s->p) return MDSREC_OK;
    if (r->global[SEC_CATALOG].p)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section CATALOG_GZ: the bundle also has a CATALOG section (at most one of the two)");
    if (s->size < 18 || s->p[0] != 0x1f || s->p[1] != 0x8b || s->p[2] != 8 || (s->p[3] & 0xe0))
        return bnd_fail(r->err, MDSREC_EFORMAT, "section CATALOG_GZ: not a gzip member (RFC 1952 header with method 8, at least 18 bytes)");
    v->catalog_gz = s->p;
    v->catalog_gz_len = (size_t)s->size;
    return MDSREC_OK;
}

/* COCLICK: the co-click term's parameters (FORMAT.md); the channel it names must have
   neighbour lists, which read_channel has read by now. */
static mdsrec_status read_coclick(reader *r, const mdsrec_config *c, bundle_view *v) {
    if (!r->global[SEC_COCLICK].p) return MDSREC_OK;
    const uint8_t *p = NULL;
    mdsrec_status st = need(r, SEC_COCLICK, BUNDLE_NO_CHANNEL, 16, &p);
    if (st) return st;
    uint32_t ch = rd32(p), max_hist = rd32(p + 12);
    float beta = rdf32(p + 4), decay = rdf32(p + 8);
    if (ch >= c->n_channels)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section COCLICK: channel %u, the bundle has %u", ch, c->n_channels);
    if (!v->ch[ch].nb_kind)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section COCLICK: channel %u has no neighbour lists to read", ch);
    if (!(beta > 0.0f && beta <= 1e6f))
        return bnd_fail(r->err, MDSREC_EFORMAT, "section COCLICK: beta must be in (0, 1e6]");
    if (!(decay >= 0.0f && decay <= 1.0f))
        return bnd_fail(r->err, MDSREC_EFORMAT, "section COCLICK: decay must be in [0, 1]");
    if (max_hist < 1 || max_hist > c->max_len)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section COCLICK: max_hist %u, expected 1 .. max_len %u", max_hist,
                        c->max_len);
    v->coclick_beta = beta, v->coclick_decay = decay;
    v->coclick_channel = ch, v->coclick_max_hist = max_hist;
    return MDSREC_OK;
}

/* REPEAT: the repeat term's weight (FORMAT.md). */
static mdsrec_status read_repeat(reader *r, bundle_view *v) {
    if (!r->global[SEC_REPEAT].p) return MDSREC_OK;
    const uint8_t *p = NULL;
    mdsrec_status st = need(r, SEC_REPEAT, BUNDLE_NO_CHANNEL, 4, &p);
    if (st) return st;
    float w = rdf32(p);
    if (!(w >= -1e6f && w <= 1e6f) || w == 0.0f)
        return bnd_fail(r->err, MDSREC_EFORMAT, "section REPEAT: weight must be finite, nonzero, in [-1e6, 1e6]");
    v->repeat_weight = w;
    return MDSREC_OK;
}

mdsrec_status bundle_read_ex(const void *buf, size_t len, const uint8_t *verified, int parts, bundle_view *view,
                             mdsrec_error *err) {
    if (err) err->code = 0, err->message[0] = 0;
    if (!buf || !view) return bnd_fail(err, MDSREC_EARG, "bundle_read: NULL argument");
    if ((uintptr_t)buf % 16) return bnd_fail(err, MDSREC_EARG, "bundle buffer is not 16-byte aligned");
    if (parts == BUNDLE_READ_HEAD && !verified) return bnd_fail(err, MDSREC_EARG, "bundle_read: HEAD needs verified");
    reader *r = calloc(1, sizeof *r); /* ~2 KB: off the (small wasm) stack */
    if (!r) return bnd_fail(err, MDSREC_ENOMEM, "out of memory");
    r->buf = buf, r->len = len, r->err = err, r->verified = verified, r->parts = parts;
    bundle_view v;
    memset(&v, 0, sizeof v);
    uint32_t count = 0;
    mdsrec_status st = read_header(r, &count);
    if (!st) st = read_table(r, count);
    /* HEAD reads only head sections: the caller must have verified every one of them */
    for (uint32_t i = 0; !st && parts == BUNDLE_READ_HEAD && i < count; i++)
        if (bundle_is_head_kind(rd32(r->buf + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE)) && !verified[i])
            st = bnd_fail(err, MDSREC_EARG, "bundle_read: a head section has not been verified");
    if (parts == BUNDLE_READ_TABLE) {
        free(r);
        return st;
    }
    if (!st) st = read_config(r, &v.cfg);
    const mdsrec_config *c = &v.cfg;
    for (uint32_t k = 1; !st && k <= SEC_KIND_MAX; k++)
        if (kind_is_per_channel(k) && r->max_channel_seen[k] > c->n_channels)
            st = bnd_fail(err, MDSREC_EFORMAT, "section %s (channel %u): channel out of range (n_channels %u)",
                      bnd_section_names[k], r->max_channel_seen[k] - 1, c->n_channels);
    if (!st) st = read_keys(r, c, &v);
    if (!st) st = read_key_order(r, c, &v);
    for (uint32_t ch = 0; !st && parts == BUNDLE_READ_ALL && ch < c->n_channels; ch++) st = read_channel(r, c, ch, &v);
    if (!st && parts == BUNDLE_READ_ALL)
        st = need_weights(r, c, SEC_GATE, BUNDLE_NO_CHANNEL, bnd_gate_floats64(c), &v.gate, &v.gate_raw);
    if (!st && parts == BUNDLE_READ_ALL) st = read_coclick(r, c, &v);
    if (!st && parts == BUNDLE_READ_ALL) st = read_repeat(r, &v);
    if (!st) st = read_popularity(r, c, &v);
    if (!st) st = read_catalog(r, &v);
    if (!st) st = read_catalog_gz(r, &v);
    free(r);
    if (st) return st;
    *view = v;
    return MDSREC_OK;
}
