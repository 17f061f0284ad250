/*
 * bundle.c - the bundle format v1 (models/FORMAT.md): the validating reader and the writer.
 *
 * The reader trusts nothing: every offset, size, count and value is checked before it is
 * used, all size arithmetic is done in uint64_t after the factors have been bounded by the
 * format's limits (so no product can overflow), and nothing is read outside buf[0..len).
 * The writer builds a bundle the reader accepts, or refuses the spec with a message.
 *
 * Messages are formatted by a tiny local formatter (msg_format) rather than snprintf so
 * that the core pulls no stdio into the WebAssembly build.
 */
#include "bundle.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "half.h"

const uint8_t BUNDLE_MAGIC[8] = {0x4D, 0x44, 0x53, 0x42, 0x0D, 0x0A, 0x1A, 0x0A};

static const char *const section_names[SEC_KIND_MAX + 1] = {
    "unknown", "CONFIG", "KEYS", "KEY_ORDER", "ITEMS", "SCALES", "POS",
    "ENCODER", "POOL", "GATE", "NEIGHBOURS", "POPULARITY", "CATALOG", "NEIGHBOURS_K"};

const char *bundle_section_name(uint32_t kind) {
    return kind >= 1 && kind <= SEC_KIND_MAX ? section_names[kind] : "unknown";
}

/* Per-channel kinds carry a channel number; the others carry BUNDLE_NO_CHANNEL. */
static int kind_is_per_channel(uint32_t kind) {
    return kind == SEC_ITEMS || kind == SEC_SCALES || kind == SEC_POS || kind == SEC_ENCODER ||
           kind == SEC_POOL || kind == SEC_NEIGHBOURS || kind == SEC_NEIGHBOURS_K;
}

/* ---------------------------------------------------------------- sizes */

/* The float counts in u64: callers bound cfg first, so these never overflow. */
static uint64_t encoder_floats64(const mdsrec_config *cfg) {
    uint64_t d = cfg->dim, f = cfg->ffn_dim;
    uint64_t block = 4 * (d * d + d) /* q k v o */ + 2 * d /* ln1 */ + f * d + f /* w1 b1 */ +
                     d * f + d /* w2 b2 */ + 2 * d /* ln2 */;
    return 2 * d + (uint64_t)cfg->n_blocks * block;
}

static uint64_t pool_floats64(const mdsrec_config *cfg) {
    uint64_t d = cfg->dim;
    return cfg->pool_mode == MDSREC_POOL_NONE ? 0 : 3 * (d * d + d) + 3 * d;
}

static uint64_t gate_floats64(const mdsrec_config *cfg) {
    uint64_t c = cfg->n_channels;
    return c * c * cfg->dim + c;
}

size_t bundle_encoder_floats(const mdsrec_config *cfg) { return (size_t)encoder_floats64(cfg); }
size_t bundle_pool_floats(const mdsrec_config *cfg) { return (size_t)pool_floats64(cfg); }

size_t bundle_dtype_size(uint32_t dtype) {
    switch (dtype) {
    case MDSREC_F32: return 4;
    case MDSREC_F16: return 2;
    case MDSREC_I8: return 1;
    default: return 0;
    }
}

static const char *dtype_name(uint32_t dtype) {
    return dtype == MDSREC_F32 ? "f32" : dtype == MDSREC_F16 ? "f16" : dtype == MDSREC_I8 ? "i8" : "?";
}

/* ---------------------------------------------------------------- messages */

static void msg_put(char *out, size_t cap, size_t *n, const char *s) {
    while (*s && *n + 1 < cap) out[(*n)++] = *s++;
    out[*n] = 0;
}

static void msg_put_u64(char *out, size_t cap, size_t *n, unsigned long long v) {
    char digits[24];
    int i = 23;
    digits[i] = 0;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    msg_put(out, cap, n, digits + i);
}

/* A printf subset: %s, %u, %llu, %d, %x (unsigned, 8 hex digits) and %%. The format
   attribute lets the compiler check the arguments against printf's rules. */
static void msg_vformat(char *out, size_t cap, const char *fmt, va_list ap) {
    size_t n = 0;
    out[0] = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            char one[2] = {*p, 0};
            msg_put(out, cap, &n, one);
            continue;
        }
        p++;
        if (*p == 's') {
            const char *s = va_arg(ap, const char *);
            msg_put(out, cap, &n, s ? s : "(null)");
        } else if (*p == 'u') {
            msg_put_u64(out, cap, &n, va_arg(ap, unsigned));
        } else if (*p == 'l' && p[1] == 'l' && p[2] == 'u') {
            msg_put_u64(out, cap, &n, va_arg(ap, unsigned long long));
            p += 2;
        } else if (*p == 'd') {
            int v = va_arg(ap, int);
            if (v < 0) msg_put(out, cap, &n, "-");
            msg_put_u64(out, cap, &n, v < 0 ? (unsigned long long)(-(long long)v) : (unsigned long long)v);
        } else if (*p == 'x') {
            unsigned v = va_arg(ap, unsigned);
            char hex[11] = "0x";
            for (int i = 0; i < 8; i++) hex[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
            hex[10] = 0;
            msg_put(out, cap, &n, hex);
        } else if (*p == '%') {
            msg_put(out, cap, &n, "%");
        } else {
            break; /* unknown conversion: stop rather than misread the arguments */
        }
    }
}

static mdsrec_status fail(mdsrec_error *err, mdsrec_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static mdsrec_status fail(mdsrec_error *err, mdsrec_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = (int)code;
        msg_vformat(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* "section ITEMS (channel 1)" or "section KEYS": the prefix of every section message. */
static void section_label(char *out, size_t cap, uint32_t kind, uint32_t channel) {
    size_t n = 0;
    out[0] = 0;
    msg_put(out, cap, &n, "section ");
    if (kind >= 1 && kind <= SEC_KIND_MAX) {
        msg_put(out, cap, &n, section_names[kind]);
    } else {
        msg_put(out, cap, &n, "kind ");
        msg_put_u64(out, cap, &n, kind);
    }
    if (channel != BUNDLE_NO_CHANNEL) {
        msg_put(out, cap, &n, " (channel ");
        msg_put_u64(out, cap, &n, channel);
        msg_put(out, cap, &n, ")");
    }
}

/* ---------------------------------------------------------------- value checks */

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

static void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v) {
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static void wrf32(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    wr32(p, u);
}

/* Index of the first non-finite float in f[0..n), or n. */
static size_t first_nonfinite(const float *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(f[i])) return i;
    return n;
}

/* Length of the valid UTF-8 prefix of s[0..n) (n when all of it is valid): shortest
   forms only, no surrogates, nothing above U+10FFFF. */
static size_t utf8_valid_prefix(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, cp = c & 0x07;
        } else {
            return i;
        }
        if (n - i < len) return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += len;
    }
    return n;
}

int bundle_key_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Checks a key's bytes (length, NUL, UTF-8). Returns NULL or the problem. */
static const char *key_problem(const uint8_t *k, size_t len) {
    if (len < 1) return "is empty";
    if (len > MDSREC_MAX_KEY_LEN) return "is longer than 255 bytes";
    if (memchr(k, 0, len)) return "contains a NUL byte";
    if (utf8_valid_prefix(k, len) != len) return "is not valid UTF-8";
    return NULL;
}

/* The config's numeric limits (FORMAT.md, CONFIG). Names are checked separately because the
   reader sees raw bytes and the writer C strings. */
static mdsrec_status config_check(const mdsrec_config *c, const char *what, mdsrec_error *err) {
    if (c->n_items < 1 || c->n_items > MDSREC_MAX_ITEMS)
        return fail(err, MDSREC_EFORMAT, "%s: n_items %u outside 1..16777216", what, c->n_items);
    if (c->dim < 1 || c->dim > MDSREC_MAX_DIM)
        return fail(err, MDSREC_EFORMAT, "%s: dim %u outside 1..1024", what, c->dim);
    if (c->n_channels < 1 || c->n_channels > MDSREC_MAX_CHANNELS)
        return fail(err, MDSREC_EFORMAT, "%s: n_channels %u outside 1..8", what, c->n_channels);
    if (c->max_len < 1 || c->max_len > MDSREC_MAX_LEN)
        return fail(err, MDSREC_EFORMAT, "%s: max_len %u outside 1..1024", what, c->max_len);
    if (c->n_blocks > MDSREC_MAX_BLOCKS)
        return fail(err, MDSREC_EFORMAT, "%s: n_blocks %u outside 0..8", what, c->n_blocks);
    if (c->n_heads < 1 || c->n_heads > c->dim || c->dim % c->n_heads)
        return fail(err, MDSREC_EFORMAT, "%s: n_heads %u does not divide dim %u", what, c->n_heads, c->dim);
    if (c->ffn_dim < 1 || c->ffn_dim > 4096)
        return fail(err, MDSREC_EFORMAT, "%s: ffn_dim %u outside 1..4096", what, c->ffn_dim);
    if (c->item_dtype > MDSREC_I8)
        return fail(err, MDSREC_EFORMAT, "%s: unknown item_dtype %u", what, c->item_dtype);
    if (c->pool_mode > MDSREC_POOL_TOKEN)
        return fail(err, MDSREC_EFORMAT, "%s: unknown pool_mode %u", what, c->pool_mode);
    if (c->ln_mode != 0)
        return fail(err, MDSREC_EFORMAT, "%s: unknown ln_mode %u (v1 has only 0, post-LN)", what, c->ln_mode);
    if (!isfinite(c->ln_eps) || !(c->ln_eps > 0))
        return fail(err, MDSREC_EFORMAT, "%s: ln_eps must be finite and > 0", what);
    for (uint32_t i = 0; i < c->n_channels; i++)
        if (c->channels[i].kind > MDSREC_CHANNEL_FEATURE)
            return fail(err, MDSREC_EFORMAT, "%s: channel %u has unknown kind %u", what, i, c->channels[i].kind);
    return MDSREC_OK;
}

/* Channel names: non-empty, valid UTF-8, unique (the NUL-padding is the reader's check). */
static mdsrec_status names_check(const mdsrec_config *c, const char *what, mdsrec_error *err) {
    for (uint32_t i = 0; i < c->n_channels; i++) {
        size_t n = strnlen(c->channels[i].name, 25);
        if (n < 1 || n > 24)
            return fail(err, MDSREC_EFORMAT, "%s: channel %u name must be 1..24 bytes", what, i);
        if (utf8_valid_prefix((const uint8_t *)c->channels[i].name, n) != n)
            return fail(err, MDSREC_EFORMAT, "%s: channel %u name is not valid UTF-8", what, i);
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(c->channels[i].name, c->channels[j].name))
                return fail(err, MDSREC_EFORMAT, "%s: channel name '%s' appears twice", what, c->channels[i].name);
    }
    return MDSREC_OK;
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
    mdsrec_error *err;
} reader;

static mdsrec_status read_header(reader *r, uint32_t *count) {
    const uint8_t *b = r->buf;
    size_t len = r->len;
    if (len < 8 || memcmp(b, BUNDLE_MAGIC, 8) != 0)
        return fail(r->err, MDSREC_EFORMAT, "header: not an mdsrec bundle (bad magic)");
    if (len < 12)
        return fail(r->err, MDSREC_EFORMAT, "header: file is %llu bytes, shorter than the 64-byte header",
                    (unsigned long long)len);
    /* the version first: a future bundle should say so, not complain about its checksum */
    uint32_t version = rd32(b + 8);
    if (version != MDSREC_FORMAT_VERSION)
        return fail(r->err, MDSREC_EVERSION, "header: format version %u, this core reads version %u%s", version,
                    (unsigned)MDSREC_FORMAT_VERSION, version > MDSREC_FORMAT_VERSION ? " (the bundle is newer)" : "");
    if (len < BUNDLE_HEADER_SIZE)
        return fail(r->err, MDSREC_EFORMAT, "header: file is %llu bytes, shorter than the 64-byte header",
                    (unsigned long long)len);
    uint32_t bom = rd32(b + 12);
    if (bom == 0x04030201u)
        return fail(r->err, MDSREC_EFORMAT, "header: byte order mark %x: written in the other byte order", bom);
    if (bom != BUNDLE_BYTE_ORDER)
        return fail(r->err, MDSREC_EFORMAT, "header: bad byte order mark %x", bom);
    if (checksum64(b, 56) != rd64(b + 56))
        return fail(r->err, MDSREC_ECHECKSUM, "header: checksum mismatch");
    if (rd32(b + 16) != BUNDLE_HEADER_SIZE)
        return fail(r->err, MDSREC_EFORMAT, "header: header_size %u, expected 64", rd32(b + 16));
    *count = rd32(b + 20);
    if (*count < 1 || *count > BUNDLE_MAX_SECTIONS)
        return fail(r->err, MDSREC_EFORMAT, "header: section_count %u outside 1..4096", *count);
    uint64_t file_size = rd64(b + 24);
    if (file_size != len)
        return fail(r->err, MDSREC_EFORMAT, "header: file_size %llu but the buffer holds %llu bytes%s",
                    (unsigned long long)file_size, (unsigned long long)len, file_size > len ? " (truncated)" : "");
    if (rd64(b + 32) != BUNDLE_HEADER_SIZE)
        return fail(r->err, MDSREC_EFORMAT, "header: table_offset %llu, expected 64", (unsigned long long)rd64(b + 32));
    if (rd32(b + 48) != 0 || rd32(b + 52) != 0)
        return fail(r->err, MDSREC_EFORMAT, "header: reserved flags are not 0");
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
        return fail(r->err, MDSREC_EFORMAT, "%s: offset %llu is not a multiple of 64", name, (unsigned long long)off);
    if (off < table_end)
        return fail(r->err, MDSREC_EFORMAT, "%s: offset %llu lies inside the header or section table", name,
                    (unsigned long long)off);
    if (off > r->len || size > r->len - off)
        return fail(r->err, MDSREC_EFORMAT, "%s: offset %llu + size %llu is past the end of the file (%llu bytes)",
                    name, (unsigned long long)off, (unsigned long long)size, (unsigned long long)r->len);
    if (off < *prev_end)
        return fail(r->err, MDSREC_EFORMAT, "%s: offset %llu overlaps or precedes the previous section (ends at %llu)",
                    name, (unsigned long long)off, (unsigned long long)*prev_end);
    *prev_end = off + size;
    if (checksum64(r->buf + off, (size_t)size) != sum)
        return fail(r->err, MDSREC_ECHECKSUM, "%s: payload checksum mismatch", name);
    if (kind < 1 || kind > SEC_KIND_MAX) return MDSREC_OK; /* unknown kind: verified, skipped */

    sec_loc *slot;
    if (kind_is_per_channel(kind)) {
        if (channel >= MDSREC_MAX_CHANNELS)
            return fail(r->err, MDSREC_EFORMAT, "%s: channel out of range (at most 8 channels)", name);
        slot = &r->chan[kind][channel];
        if (channel + 1 > r->max_channel_seen[kind]) r->max_channel_seen[kind] = channel + 1;
    } else {
        if (channel != BUNDLE_NO_CHANNEL)
            return fail(r->err, MDSREC_EFORMAT, "%s: a global section must have channel 0xFFFFFFFF", name);
        slot = &r->global[kind];
    }
    if (slot->p) return fail(r->err, MDSREC_EFORMAT, "%s: appears twice in the section table", name);
    slot->p = r->buf + off;
    slot->size = size;
    return MDSREC_OK;
}

static mdsrec_status read_table(reader *r, uint32_t count) {
    uint64_t table_end = BUNDLE_HEADER_SIZE + (uint64_t)count * BUNDLE_ENTRY_SIZE;
    if (table_end > r->len)
        return fail(r->err, MDSREC_EFORMAT, "section table: %u entries end at byte %llu, past the end of the file",
                    count, (unsigned long long)table_end);
    if (checksum64(r->buf + BUNDLE_HEADER_SIZE, (size_t)(table_end - BUNDLE_HEADER_SIZE)) != rd64(r->buf + 40))
        return fail(r->err, MDSREC_ECHECKSUM, "section table: checksum mismatch");
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
    if (!s->p) return fail(r->err, MDSREC_EFORMAT, "section CONFIG: missing");
    if (s->size < BUNDLE_CONFIG_FIXED)
        return fail(r->err, MDSREC_EFORMAT, "section CONFIG: size %llu, shorter than 64", (unsigned long long)s->size);
    const uint8_t *p = s->p;
    memset(c, 0, sizeof *c);
    c->n_items = rd32(p), c->dim = rd32(p + 4), c->n_channels = rd32(p + 8), c->max_len = rd32(p + 12);
    c->n_blocks = rd32(p + 16), c->n_heads = rd32(p + 20), c->ffn_dim = rd32(p + 24);
    c->item_dtype = rd32(p + 28), c->pool_mode = rd32(p + 32), c->ln_mode = rd32(p + 36);
    c->ln_eps = rdf32(p + 40);
    mdsrec_status st = config_check(c, "section CONFIG", r->err);
    if (st) return st;
    for (int i = 0; i < 5; i++)
        if (rd32(p + 44 + 4 * i)) return fail(r->err, MDSREC_EFORMAT, "section CONFIG: reserved field %d is not 0", i);
    uint64_t want = BUNDLE_CONFIG_FIXED + (uint64_t)c->n_channels * BUNDLE_CHANNEL_RECORD;
    if (s->size != want)
        return fail(r->err, MDSREC_EFORMAT, "section CONFIG: size %llu, expected %llu", (unsigned long long)s->size,
                    (unsigned long long)want);
    for (uint32_t i = 0; i < c->n_channels; i++) {
        const uint8_t *rec = p + BUNDLE_CONFIG_FIXED + i * BUNDLE_CHANNEL_RECORD;
        size_t n = 0;
        while (n < 24 && rec[n]) n++;
        for (size_t k = n; k < 24; k++)
            if (rec[k]) return fail(r->err, MDSREC_EFORMAT, "section CONFIG: channel %u name is not NUL-padded", i);
        memcpy(c->channels[i].name, rec, n);
        c->channels[i].name[n] = 0;
        c->channels[i].kind = rd32(rec + 24);
        if (rd32(rec + 28)) return fail(r->err, MDSREC_EFORMAT, "section CONFIG: channel %u reserved field is not 0", i);
    }
    st = config_check(c, "section CONFIG", r->err); /* again, now with the channel kinds */
    if (st) return st;
    return names_check(c, "section CONFIG", r->err);
}

/* A required section of an exact size; sets *p. */
static mdsrec_status need(reader *r, uint32_t kind, uint32_t channel, uint64_t size, const uint8_t **p) {
    const sec_loc *s = channel == BUNDLE_NO_CHANNEL ? &r->global[kind] : &r->chan[kind][channel];
    char name[64];
    section_label(name, sizeof name, kind, channel);
    if (!s->p) return fail(r->err, MDSREC_EFORMAT, "%s: missing", name);
    if (s->size != size)
        return fail(r->err, MDSREC_EFORMAT, "%s: size %llu, expected %llu", name, (unsigned long long)s->size,
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
    size_t bad = first_nonfinite(f, (size_t)n);
    if (bad != n) {
        char name[64];
        section_label(name, sizeof name, kind, channel);
        return fail(r->err, MDSREC_EFORMAT, "%s: value %llu is not finite", name, (unsigned long long)bad);
    }
    *out = f;
    return MDSREC_OK;
}

static mdsrec_status read_keys(reader *r, const mdsrec_config *c, bundle_view *v) {
    const sec_loc *s = &r->global[SEC_KEYS];
    uint64_t n = c->n_items, table = 4 * (n + 1);
    if (!s->p) return fail(r->err, MDSREC_EFORMAT, "section KEYS: missing");
    if (s->size < table)
        return fail(r->err, MDSREC_EFORMAT, "section KEYS: size %llu, shorter than its %llu-byte offset table",
                    (unsigned long long)s->size, (unsigned long long)table);
    const uint32_t *off = (const uint32_t *)(const void *)s->p;
    const uint8_t *bytes = s->p + table;
    if (off[0] != 0) return fail(r->err, MDSREC_EFORMAT, "section KEYS: offsets[0] is %u, not 0", off[0]);
    if ((uint64_t)off[n] != s->size - table)
        return fail(r->err, MDSREC_EFORMAT, "section KEYS: offsets[N] is %u but %llu key bytes follow the table",
                    off[n], (unsigned long long)(s->size - table));
    for (uint64_t i = 0; i < n; i++) {
        /* bounded by offsets[N] too, so no key is read past the section before a later
           decrease would be found */
        if (off[i + 1] < off[i] || off[i + 1] > off[n])
            return fail(r->err, MDSREC_EFORMAT, "section KEYS: offsets[%llu] out of order", (unsigned long long)(i + 1));
        const char *why = key_problem(bytes + off[i], off[i + 1] - off[i]);
        if (why) return fail(r->err, MDSREC_EFORMAT, "section KEYS: key %llu %s", (unsigned long long)i, why);
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
            return fail(r->err, MDSREC_EFORMAT, "section KEY_ORDER: entry %llu is %u, not below n_items %llu",
                        (unsigned long long)i, order[i], (unsigned long long)n);
        if (i == 0) continue;
        uint32_t a = order[i - 1], b = order[i];
        const uint8_t *ka = v->key_bytes + v->key_offsets[a], *kb = v->key_bytes + v->key_offsets[b];
        if (bundle_key_compare(ka, v->key_offsets[a + 1] - v->key_offsets[a], kb,
                               v->key_offsets[b + 1] - v->key_offsets[b]) >= 0)
            return fail(r->err, MDSREC_EFORMAT, "section KEY_ORDER: entries %llu and %llu are not in strictly increasing key order",
                        (unsigned long long)(i - 1), (unsigned long long)i);
    }
    v->key_order = order;
    return MDSREC_OK;
}

static mdsrec_status read_items(reader *r, const mdsrec_config *c, uint32_t ch, bundle_view *v) {
    uint64_t count = (uint64_t)c->n_items * c->dim;
    const uint8_t *p = NULL;
    mdsrec_status st = need(r, SEC_ITEMS, ch, count * bundle_dtype_size(c->item_dtype), &p);
    if (st) return st;
    if (c->item_dtype == MDSREC_F32) {
        size_t bad = first_nonfinite((const float *)(const void *)p, (size_t)count);
        if (bad != count)
            return fail(r->err, MDSREC_EFORMAT, "section ITEMS (channel %u): value %llu (item %llu) is not finite", ch,
                        (unsigned long long)bad, (unsigned long long)(bad / c->dim));
    } else if (c->item_dtype == MDSREC_F16) {
        const uint16_t *h = (const uint16_t *)(const void *)p;
        for (size_t i = 0; i < count; i++)
            if ((h[i] & 0x7C00u) == 0x7C00u)
                return fail(r->err, MDSREC_EFORMAT, "section ITEMS (channel %u): value %llu (item %llu) is Inf or NaN",
                            ch, (unsigned long long)i, (unsigned long long)(i / c->dim));
    }
    v->ch[ch].items = p;

    const sec_loc *sc = &r->chan[SEC_SCALES][ch];
    if (c->item_dtype != MDSREC_I8) {
        if (sc->p)
            return fail(r->err, MDSREC_EFORMAT, "section SCALES (channel %u): present but item_dtype is %s", ch,
                        dtype_name(c->item_dtype));
        return MDSREC_OK;
    }
    const float *scales = NULL;
    st = need_floats(r, SEC_SCALES, ch, c->n_items, &scales);
    if (st) return st;
    for (uint32_t i = 0; i < c->n_items; i++)
        if (scales[i] < 0)
            return fail(r->err, MDSREC_EFORMAT, "section SCALES (channel %u): scale of item %u is negative", ch, i);
    v->ch[ch].scales = scales;
    return MDSREC_OK;
}

/* NEIGHBOURS: u32 n, u32 nnz, u32 row_ptr[N+1], u32 index[nnz], f32 weight[nnz]. */
static mdsrec_status read_neighbours(reader *r, const mdsrec_config *c, uint32_t ch, bundle_view *v) {
    const sec_loc *s = &r->chan[SEC_NEIGHBOURS][ch];
    if (!s->p) return MDSREC_OK; /* optional */
    uint64_t n = c->n_items, head = 8 + 4 * (n + 1);
    if (s->size < head)
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): size %llu, shorter than its %llu-byte head",
                    ch, (unsigned long long)s->size, (unsigned long long)head);
    const uint32_t *w = (const uint32_t *)(const void *)s->p;
    if (w[0] != n)
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): n is %u, expected n_items %llu", ch, w[0],
                    (unsigned long long)n);
    uint64_t nnz = w[1];
    if (s->size != head + 8 * nnz)
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): size %llu, expected %llu for nnz %llu", ch,
                    (unsigned long long)s->size, (unsigned long long)(head + 8 * nnz), (unsigned long long)nnz);
    const uint32_t *row = w + 2, *index = row + n + 1;
    const float *weight = (const float *)(const void *)(index + nnz);
    if (row[0] != 0 || row[n] != nnz)
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): row_ptr must run from 0 to nnz %llu", ch,
                    (unsigned long long)nnz);
    for (uint64_t i = 0; i < n; i++) {
        if (row[i + 1] < row[i])
            return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): row_ptr decreases at item %llu", ch,
                        (unsigned long long)i);
        /* bounded by nnz too, so no row is read past index[] and weight[] before a later
           decrease would be found (as offsets[N] bounds the KEYS offsets) */
        if (row[i + 1] > nnz)
            return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): row_ptr[%llu] is %u, past nnz %llu", ch,
                        (unsigned long long)(i + 1), row[i + 1], (unsigned long long)nnz);
        for (uint32_t j = row[i]; j < row[i + 1]; j++) {
            if (index[j] >= n)
                return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): item %llu has neighbour %u, not below n_items %llu",
                            ch, (unsigned long long)i, index[j], (unsigned long long)n);
            if (!isfinite(weight[j]))
                return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): item %llu has a non-finite weight",
                            ch, (unsigned long long)i);
            if (j > row[i] && weight[j] > weight[j - 1])
                return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS (channel %u): item %llu's neighbours are not strongest first",
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
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): size %llu, shorter than its 16-byte head",
                    ch, (unsigned long long)s->size);
    const uint8_t *p = s->p;
    if (rd32(p) != n)
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): n is %u, expected n_items %llu", ch,
                    rd32(p), (unsigned long long)n);
    if (n > BUNDLE_NB_K_MAX_ITEMS)
        return fail(r->err, MDSREC_EFORMAT,
                    "section NEIGHBOURS_K (channel %u): n_items %llu, the compact encoding holds at most 16777215", ch,
                    (unsigned long long)n);
    uint32_t k = rd32(p + 4);
    if (k < 1 || k > BUNDLE_NB_K_MAX)
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): k %u outside 1..1024", ch, k);
    float w_min = rdf32(p + 8), w_max = rdf32(p + 12);
    if (!isfinite(w_min) || !isfinite(w_max) || !(w_min <= w_max))
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): w_min and w_max must be finite, w_min <= w_max", ch);
    uint64_t want = 16 + 4 * n * k; /* n < 2^24, k <= 1024: no overflow */
    if (s->size != want)
        return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): size %llu, expected %llu for n %llu and k %u",
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
                return fail(r->err, MDSREC_EFORMAT,
                            "section NEIGHBOURS_K (channel %u): item %llu has a neighbour at rank %u after padding (padding only at a row's tail)",
                            ch, (unsigned long long)i, j);
            if ((x & BUNDLE_NB_INDEX_MASK) >= n)
                return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): item %llu has neighbour %u, not below n_items %llu",
                            ch, (unsigned long long)i, x & BUNDLE_NB_INDEX_MASK, (unsigned long long)n);
            if (j > 0 && (x >> 24) > (row[j - 1] >> 24))
                return fail(r->err, MDSREC_EFORMAT, "section NEIGHBOURS_K (channel %u): item %llu's neighbours are not strongest first",
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
    uint32_t x = c->nb_packed[(size_t)item * c->nb_k + j];
    *weight = bundle_nb_dequant(c->nb_w_min, c->nb_w_max, x >> 24);
    return x & BUNDLE_NB_INDEX_MASK;
}

uint32_t bundle_nb_max_row(const bundle_channel *c, uint32_t n_items) {
    if (c->nb_kind == SEC_NEIGHBOURS_K) return c->nb_k;
    if (c->nb_kind != SEC_NEIGHBOURS) return 0;
    uint32_t best = 0;
    for (uint32_t i = 0; i < n_items; i++)
        if (c->nb_row[i + 1] - c->nb_row[i] > best) best = c->nb_row[i + 1] - c->nb_row[i];
    return best;
}

uint64_t bundle_nb_total(const bundle_channel *c, uint32_t n_items) {
    if (c->nb_kind == SEC_NEIGHBOURS) return c->nb_row[n_items];
    uint64_t t = 0;
    if (c->nb_kind == SEC_NEIGHBOURS_K)
        for (uint32_t i = 0; i < n_items; i++) t += bundle_nb_count(c, i);
    return t;
}

static mdsrec_status read_channel(reader *r, const mdsrec_config *c, uint32_t ch, bundle_view *v) {
    mdsrec_status st = read_items(r, c, ch, v);
    if (!st) st = need_floats(r, SEC_POS, ch, (uint64_t)c->max_len * c->dim, &v->ch[ch].pos);
    if (!st) st = need_floats(r, SEC_ENCODER, ch, encoder_floats64(c), &v->ch[ch].encoder);
    if (st) return st;
    if (c->pool_mode == MDSREC_POOL_NONE) {
        if (r->chan[SEC_POOL][ch].p)
            return fail(r->err, MDSREC_EFORMAT, "section POOL (channel %u): present but pool_mode is 0", ch);
    } else {
        st = need_floats(r, SEC_POOL, ch, pool_floats64(c), &v->ch[ch].pool);
        if (st) return st;
    }
    if (r->chan[SEC_NEIGHBOURS][ch].p && r->chan[SEC_NEIGHBOURS_K][ch].p)
        return fail(r->err, MDSREC_EFORMAT,
                    "section NEIGHBOURS_K (channel %u): the channel also has a NEIGHBOURS section (at most one of the two)", ch);
    st = read_neighbours(r, c, ch, v);
    if (!st) st = read_neighbours_k(r, c, ch, v);
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
    if (!seen) return fail(r->err, MDSREC_ENOMEM, "section POPULARITY: out of memory for its check");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = order[i];
        if (x >= n || (seen[x / 8] >> (x % 8) & 1)) {
            free(seen);
            return fail(r->err, MDSREC_EFORMAT, "section POPULARITY: entry %u (%u) %s", i, x,
                        x >= n ? "is not below n_items" : "repeats an item: not a permutation");
        }
        seen[x / 8] |= (uint8_t)(1u << (x % 8));
    }
    free(seen);
    v->popularity = order;
    return MDSREC_OK;
}

mdsrec_status bundle_read(const void *buf, size_t len, bundle_view *view, mdsrec_error *err) {
    if (err) err->code = 0, err->message[0] = 0;
    if (!buf || !view) return fail(err, MDSREC_EARG, "bundle_read: NULL argument");
    if ((uintptr_t)buf % 16) return fail(err, MDSREC_EARG, "bundle buffer is not 16-byte aligned");
    reader *r = calloc(1, sizeof *r); /* ~2 KB: off the (small wasm) stack */
    if (!r) return fail(err, MDSREC_ENOMEM, "out of memory");
    r->buf = buf, r->len = len, r->err = err;
    bundle_view v;
    memset(&v, 0, sizeof v);
    uint32_t count = 0;
    mdsrec_status st = read_header(r, &count);
    if (!st) st = read_table(r, count);
    if (!st) st = read_config(r, &v.cfg);
    const mdsrec_config *c = &v.cfg;
    for (uint32_t k = 1; !st && k <= SEC_KIND_MAX; k++)
        if (kind_is_per_channel(k) && r->max_channel_seen[k] > c->n_channels)
            st = fail(err, MDSREC_EFORMAT, "section %s (channel %u): channel out of range (n_channels %u)",
                      section_names[k], r->max_channel_seen[k] - 1, c->n_channels);
    if (!st) st = read_keys(r, c, &v);
    if (!st) st = read_key_order(r, c, &v);
    for (uint32_t ch = 0; !st && ch < c->n_channels; ch++) st = read_channel(r, c, ch, &v);
    if (!st) st = need_floats(r, SEC_GATE, BUNDLE_NO_CHANNEL, gate_floats64(c), &v.gate);
    if (!st) st = read_popularity(r, c, &v);
    if (!st && r->global[SEC_CATALOG].p) {
        const sec_loc *s = &r->global[SEC_CATALOG];
        size_t bad = utf8_valid_prefix(s->p, (size_t)s->size);
        if (bad != s->size)
            st = fail(err, MDSREC_EFORMAT, "section CATALOG: invalid UTF-8 at byte %llu", (unsigned long long)bad);
        v.catalog = (const char *)s->p;
        v.catalog_len = (size_t)s->size;
    }
    free(r);
    if (st) return st;
    *view = v;
    return MDSREC_OK;
}

/* ---------------------------------------------------------------- writer */

/* A merge sort of item indices by key (C11's qsort has no context argument). */
typedef struct {
    const char *const *keys;
    const size_t *lens;
} key_ctx;

static int key_less(const key_ctx *k, uint32_t a, uint32_t b) {
    return bundle_key_compare((const uint8_t *)k->keys[a], k->lens[a], (const uint8_t *)k->keys[b], k->lens[b]) < 0;
}

static void sort_by_key(const key_ctx *k, uint32_t *a, uint32_t *tmp, size_t n) {
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi) tmp[o++] = key_less(k, a[j], a[i]) ? a[j++] : a[i++];
            while (i < mid) tmp[o++] = a[i++];
            while (j < hi) tmp[o++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
}

/* One section to write: where it goes and what fills it. */
typedef struct {
    uint32_t kind, channel;
    uint64_t size, offset;
} out_sec;

#define MAX_OUT_SECS (6 + 6 * MDSREC_MAX_CHANNELS)

typedef struct {
    const bundle_spec *spec;
    mdsrec_error *err;
    size_t *key_len;      /* N */
    uint32_t *key_order;  /* N */
    uint64_t key_bytes;
    uint64_t nnz[MDSREC_MAX_CHANNELS];     /* neighbours written (after nb_keep) */
    uint32_t nb_k[MDSREC_MAX_CHANNELS];     /* compact: entries per item */
    float nb_w_min[MDSREC_MAX_CHANNELS], nb_w_max[MDSREC_MAX_CHANNELS]; /* compact: weight range */
    out_sec sec[MAX_OUT_SECS];
    uint32_t n_sec;
} writer;

/* A float array of the spec: present and finite. ch is BUNDLE_NO_CHANNEL for global ones. */
static mdsrec_status spec_floats(writer *w, const float *f, uint64_t n, const char *what, uint32_t ch) {
    char name[48];
    size_t at = 0;
    name[0] = 0;
    if (ch != BUNDLE_NO_CHANNEL) {
        msg_put(name, sizeof name, &at, "channel ");
        msg_put_u64(name, sizeof name, &at, ch);
        msg_put(name, sizeof name, &at, " ");
    }
    msg_put(name, sizeof name, &at, what);
    if (!f) return fail(w->err, MDSREC_EARG, "spec: %s is NULL", name);
    size_t bad = first_nonfinite(f, (size_t)n);
    if (bad != n) return fail(w->err, MDSREC_EARG, "spec: %s value %llu is not finite", name, (unsigned long long)bad);
    return MDSREC_OK;
}

static mdsrec_status spec_keys(writer *w) {
    const bundle_spec *s = w->spec;
    uint32_t n = s->cfg.n_items;
    if (!s->keys) return fail(w->err, MDSREC_EARG, "spec: keys is NULL");
    w->key_len = malloc(n * sizeof *w->key_len);
    w->key_order = malloc(n * sizeof *w->key_order);
    uint32_t *tmp = malloc(n * sizeof *tmp);
    if (!w->key_len || !w->key_order || !tmp) {
        free(tmp);
        return fail(w->err, MDSREC_ENOMEM, "spec: out of memory for the key index");
    }
    w->key_bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!s->keys[i]) {
            free(tmp);
            return fail(w->err, MDSREC_EARG, "spec: key %u is NULL", i);
        }
        w->key_len[i] = strnlen(s->keys[i], MDSREC_MAX_KEY_LEN + 1);
        const char *why = key_problem((const uint8_t *)s->keys[i], w->key_len[i]);
        if (why) {
            free(tmp);
            return fail(w->err, MDSREC_EARG, "spec: key %u %s", i, why);
        }
        w->key_bytes += w->key_len[i];
        w->key_order[i] = i;
    }
    key_ctx k = {s->keys, w->key_len};
    sort_by_key(&k, w->key_order, tmp, n);
    free(tmp);
    for (uint32_t i = 1; i < n; i++)
        if (!key_less(&k, w->key_order[i - 1], w->key_order[i]))
            return fail(w->err, MDSREC_EARG, "spec: key '%s' appears twice", s->keys[w->key_order[i]]);
    if (w->key_bytes > UINT32_MAX) return fail(w->err, MDSREC_EARG, "spec: keys total more than 4 GiB");
    return MDSREC_OK;
}

/* The neighbours row i keeps: all of them, or the first (strongest) nb_keep. */
static uint32_t kept(const writer *w, const bundle_channel_spec *c, uint32_t i) {
    uint32_t len = c->nb_row[i + 1] - c->nb_row[i], keep = w->spec->nb_keep;
    return keep && len > keep ? keep : len;
}

static mdsrec_status spec_neighbours(writer *w, uint32_t ch) {
    const bundle_channel_spec *c = &w->spec->ch[ch];
    uint32_t n = w->spec->cfg.n_items;
    if (!c->nb_row) return MDSREC_OK;
    if (w->spec->nb_compact && n > BUNDLE_NB_K_MAX_ITEMS)
        return fail(w->err, MDSREC_EARG,
                    "spec: channel %u neighbours: the compact encoding needs n_items below 16777216 (write them as CSR)", ch);
    if (!c->nb_index || !c->nb_weight)
        return fail(w->err, MDSREC_EARG, "spec: channel %u neighbours: index or weight is NULL", ch);
    if (c->nb_row[0] != 0) return fail(w->err, MDSREC_EARG, "spec: channel %u neighbours: row_ptr[0] is not 0", ch);
    for (uint32_t i = 0; i < n; i++) {
        if (c->nb_row[i + 1] < c->nb_row[i])
            return fail(w->err, MDSREC_EARG, "spec: channel %u neighbours: row_ptr decreases at item %u", ch, i);
        for (uint32_t j = c->nb_row[i]; j < c->nb_row[i + 1]; j++) {
            if (c->nb_index[j] >= n || !isfinite(c->nb_weight[j]))
                return fail(w->err, MDSREC_EARG, "spec: channel %u neighbours of item %u: index out of range or weight not finite", ch, i);
            if (j > c->nb_row[i] && c->nb_weight[j] > c->nb_weight[j - 1])
                return fail(w->err, MDSREC_EARG, "spec: channel %u neighbours of item %u are not strongest first", ch, i);
        }
    }
    uint64_t nnz = 0;
    uint32_t longest = 0;
    float lo = 0, hi = 0; /* the kept weights' range (0, 0 when there are none) */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m = kept(w, c, i);
        if (m && nnz == 0) lo = hi = c->nb_weight[c->nb_row[i]];
        if (m) /* rows are strongest first: the first and the last kept bound the row */
            hi = fmaxf(hi, c->nb_weight[c->nb_row[i]]), lo = fminf(lo, c->nb_weight[c->nb_row[i] + m - 1]);
        nnz += m;
        if (m > longest) longest = m;
    }
    if (w->spec->nb_compact && longest > BUNDLE_NB_K_MAX)
        return fail(w->err, MDSREC_EARG,
                    "spec: channel %u neighbours: %u for one item, the compact encoding holds at most 1024 (keep fewer)", ch,
                    longest);
    w->nnz[ch] = nnz;
    w->nb_k[ch] = longest ? longest : 1; /* k >= 1: a channel of empty rows is all padding */
    w->nb_w_min[ch] = lo, w->nb_w_max[ch] = hi;
    return MDSREC_OK;
}

static mdsrec_status spec_check(writer *w) {
    const bundle_spec *s = w->spec;
    const mdsrec_config *c = &s->cfg;
    mdsrec_status st = config_check(c, "spec: cfg", w->err);
    if (!st) st = names_check(c, "spec: cfg", w->err);
    if (st) { /* the same limits as the reader's, but here it is the caller's argument */
        if (w->err) w->err->code = MDSREC_EARG;
        return MDSREC_EARG;
    }
    if ((st = spec_keys(w))) return st;
    uint64_t n = c->n_items, d = c->dim;
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        const bundle_channel_spec *cs = &s->ch[ch];
        if ((st = spec_floats(w, cs->items, n * d, "items", ch))) return st;
        if ((st = spec_floats(w, cs->pos, (uint64_t)c->max_len * d, "pos", ch))) return st;
        if ((st = spec_floats(w, cs->encoder, encoder_floats64(c), "encoder", ch))) return st;
        if (c->pool_mode != MDSREC_POOL_NONE && (st = spec_floats(w, cs->pool, pool_floats64(c), "pool", ch))) return st;
        if ((st = spec_neighbours(w, ch))) return st;
    }
    if ((st = spec_floats(w, s->gate, gate_floats64(c), "gate", BUNDLE_NO_CHANNEL))) return st;
    if (!s->popularity) return fail(w->err, MDSREC_EARG, "spec: popularity is NULL");
    uint8_t *seen = calloc((n + 7) / 8, 1);
    if (!seen) return fail(w->err, MDSREC_ENOMEM, "spec: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = s->popularity[i];
        if (x >= n || (seen[x / 8] >> (x % 8) & 1)) {
            free(seen);
            return fail(w->err, MDSREC_EARG, "spec: popularity is not a permutation (entry %u)", i);
        }
        seen[x / 8] |= (uint8_t)(1u << (x % 8));
    }
    free(seen);
    if (s->catalog && utf8_valid_prefix((const uint8_t *)s->catalog, s->catalog_len) != s->catalog_len)
        return fail(w->err, MDSREC_EARG, "spec: catalog is not valid UTF-8");
    return MDSREC_OK;
}

static void add_sec(writer *w, uint32_t kind, uint32_t channel, uint64_t size) {
    out_sec *s = &w->sec[w->n_sec++];
    s->kind = kind, s->channel = channel, s->size = size;
}

/* Lists the sections in file order and assigns 64-aligned offsets; returns the file size. */
static uint64_t plan_layout(writer *w) {
    const mdsrec_config *c = &w->spec->cfg;
    uint64_t n = c->n_items, d = c->dim;
    add_sec(w, SEC_CONFIG, BUNDLE_NO_CHANNEL, BUNDLE_CONFIG_FIXED + (uint64_t)c->n_channels * BUNDLE_CHANNEL_RECORD);
    add_sec(w, SEC_KEYS, BUNDLE_NO_CHANNEL, 4 * (n + 1) + w->key_bytes);
    add_sec(w, SEC_KEY_ORDER, BUNDLE_NO_CHANNEL, 4 * n);
    add_sec(w, SEC_POPULARITY, BUNDLE_NO_CHANNEL, 4 * n);
    add_sec(w, SEC_GATE, BUNDLE_NO_CHANNEL, 4 * gate_floats64(c));
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        add_sec(w, SEC_ITEMS, ch, n * d * bundle_dtype_size(c->item_dtype));
        if (c->item_dtype == MDSREC_I8) add_sec(w, SEC_SCALES, ch, 4 * n);
        add_sec(w, SEC_POS, ch, 4 * (uint64_t)c->max_len * d);
        add_sec(w, SEC_ENCODER, ch, 4 * encoder_floats64(c));
        if (c->pool_mode != MDSREC_POOL_NONE) add_sec(w, SEC_POOL, ch, 4 * pool_floats64(c));
        if (w->spec->ch[ch].nb_row && w->spec->nb_compact) add_sec(w, SEC_NEIGHBOURS_K, ch, 16 + 4 * n * w->nb_k[ch]);
        else if (w->spec->ch[ch].nb_row) add_sec(w, SEC_NEIGHBOURS, ch, 8 + 4 * (n + 1) + 8 * w->nnz[ch]);
    }
    if (w->spec->catalog) add_sec(w, SEC_CATALOG, BUNDLE_NO_CHANNEL, w->spec->catalog_len);
    uint64_t at = BUNDLE_HEADER_SIZE + (uint64_t)w->n_sec * BUNDLE_ENTRY_SIZE;
    for (uint32_t i = 0; i < w->n_sec; i++) {
        at = (at + BUNDLE_ALIGN - 1) / BUNDLE_ALIGN * BUNDLE_ALIGN;
        w->sec[i].offset = at;
        at += w->sec[i].size;
    }
    return at;
}

static void put_config(const mdsrec_config *c, uint8_t *p) {
    wr32(p, c->n_items), wr32(p + 4, c->dim), wr32(p + 8, c->n_channels), wr32(p + 12, c->max_len);
    wr32(p + 16, c->n_blocks), wr32(p + 20, c->n_heads), wr32(p + 24, c->ffn_dim);
    wr32(p + 28, c->item_dtype), wr32(p + 32, c->pool_mode), wr32(p + 36, c->ln_mode);
    wrf32(p + 40, c->ln_eps);
    for (uint32_t i = 0; i < c->n_channels; i++) {
        uint8_t *rec = p + BUNDLE_CONFIG_FIXED + i * BUNDLE_CHANNEL_RECORD;
        memcpy(rec, c->channels[i].name, strnlen(c->channels[i].name, 24));
        wr32(rec + 24, c->channels[i].kind);
    }
}

static void put_keys(const writer *w, uint8_t *p) {
    uint32_t n = w->spec->cfg.n_items, at = 0;
    uint8_t *bytes = p + 4 * ((size_t)n + 1);
    for (uint32_t i = 0; i < n; i++) {
        wr32(p + 4 * (size_t)i, at);
        memcpy(bytes + at, w->spec->keys[i], w->key_len[i]);
        at += (uint32_t)w->key_len[i];
    }
    wr32(p + 4 * (size_t)n, at);
}

static void put_u32s(uint8_t *p, const uint32_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) wr32(p + 4 * i, v[i]);
}

static void put_floats(uint8_t *p, const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) wrf32(p + 4 * i, v[i]);
}

/* The item matrix in the bundle's dtype. f16 values past 65504 are refused (they would
   become Inf, which the reader rejects). */
static mdsrec_status put_items(writer *w, uint32_t ch, uint8_t *p, uint8_t *scales_p) {
    const mdsrec_config *c = &w->spec->cfg;
    const float *x = w->spec->ch[ch].items;
    size_t n = c->n_items, d = c->dim;
    if (c->item_dtype == MDSREC_F32) {
        put_floats(p, x, n * d);
    } else if (c->item_dtype == MDSREC_F16) {
        for (size_t i = 0; i < n * d; i++) {
            uint16_t h = float_to_half(x[i]);
            if ((h & 0x7C00u) == 0x7C00u)
                return fail(w->err, MDSREC_EARG, "spec: channel %u item %llu has a value outside the f16 range", ch,
                            (unsigned long long)(i / d));
            p[2 * i] = (uint8_t)h, p[2 * i + 1] = (uint8_t)(h >> 8);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            const float *row = x + i * d;
            float m = 0;
            for (size_t j = 0; j < d; j++) m = fmaxf(m, fabsf(row[j]));
            float scale = m / 127.0f; /* 0 for an all-zero row: every q is then 0 */
            for (size_t j = 0; j < d; j++) {
                long q = scale > 0 ? lrintf(row[j] / scale) : 0;
                q = q > 127 ? 127 : q < -127 ? -127 : q;
                p[i * d + j] = (uint8_t)(int8_t)q;
            }
            wrf32(scales_p + 4 * i, scale);
        }
    }
    return MDSREC_OK;
}

/* NEIGHBOURS (CSR): each row's first kept() entries. */
static void put_neighbours(const writer *w, uint32_t ch, uint8_t *p) {
    const bundle_channel_spec *c = &w->spec->ch[ch];
    size_t n = w->spec->cfg.n_items, nnz = (size_t)w->nnz[ch];
    wr32(p, (uint32_t)n), wr32(p + 4, (uint32_t)nnz);
    uint8_t *row = p + 8, *index = row + 4 * (n + 1), *weight = index + 4 * nnz;
    size_t at = 0;
    wr32(row, 0);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m = kept(w, c, i);
        put_u32s(index + 4 * at, c->nb_index + c->nb_row[i], m);
        put_floats(weight + 4 * at, c->nb_weight + c->nb_row[i], m);
        at += m;
        wr32(row + 4 * ((size_t)i + 1), (uint32_t)at);
    }
}

/* The 8-bit code of weight x in [lo, hi]: the nearest of the 256 levels bundle_nb_dequant
   gives back. Monotone in x, so rows strongest first keep non-increasing codes. */
static uint32_t nb_quant(float x, float lo, float hi) {
    double range = (double)hi - (double)lo;
    if (!(range > 0)) return 0;
    double q = floor(((double)x - (double)lo) / range * 255.0 + 0.5);
    return q < 0 ? 0 : q > 255 ? 255 : (uint32_t)q;
}

/* NEIGHBOURS_K: u32 n, k, f32 w_min, w_max, then k entries per item, padded at the tail. */
static void put_neighbours_k(const writer *w, uint32_t ch, uint8_t *p) {
    const bundle_channel_spec *c = &w->spec->ch[ch];
    uint32_t n = w->spec->cfg.n_items, k = w->nb_k[ch];
    float lo = w->nb_w_min[ch], hi = w->nb_w_max[ch];
    wr32(p, n), wr32(p + 4, k), wrf32(p + 8, lo), wrf32(p + 12, hi);
    uint8_t *e = p + 16;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m = kept(w, c, i), at = c->nb_row[i];
        for (uint32_t j = 0; j < k; j++, e += 4)
            wr32(e, j < m ? c->nb_index[at + j] | nb_quant(c->nb_weight[at + j], lo, hi) << 24 : BUNDLE_NB_PAD);
    }
}

static uint8_t *sec_ptr(const writer *w, uint8_t *buf, uint32_t kind, uint32_t channel) {
    for (uint32_t i = 0; i < w->n_sec; i++)
        if (w->sec[i].kind == kind && w->sec[i].channel == channel) return buf + w->sec[i].offset;
    return NULL;
}

static mdsrec_status fill(writer *w, uint8_t *buf, uint64_t total) {
    const bundle_spec *s = w->spec;
    const mdsrec_config *c = &s->cfg;
    size_t n = c->n_items;
    put_config(c, sec_ptr(w, buf, SEC_CONFIG, BUNDLE_NO_CHANNEL));
    put_keys(w, sec_ptr(w, buf, SEC_KEYS, BUNDLE_NO_CHANNEL));
    put_u32s(sec_ptr(w, buf, SEC_KEY_ORDER, BUNDLE_NO_CHANNEL), w->key_order, n);
    put_u32s(sec_ptr(w, buf, SEC_POPULARITY, BUNDLE_NO_CHANNEL), s->popularity, n);
    put_floats(sec_ptr(w, buf, SEC_GATE, BUNDLE_NO_CHANNEL), s->gate, (size_t)gate_floats64(c));
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        const bundle_channel_spec *cs = &s->ch[ch];
        mdsrec_status st = put_items(w, ch, sec_ptr(w, buf, SEC_ITEMS, ch), sec_ptr(w, buf, SEC_SCALES, ch));
        if (st) return st;
        put_floats(sec_ptr(w, buf, SEC_POS, ch), cs->pos, (size_t)c->max_len * c->dim);
        put_floats(sec_ptr(w, buf, SEC_ENCODER, ch), cs->encoder, (size_t)encoder_floats64(c));
        if (c->pool_mode != MDSREC_POOL_NONE)
            put_floats(sec_ptr(w, buf, SEC_POOL, ch), cs->pool, (size_t)pool_floats64(c));
        if (cs->nb_row && s->nb_compact) put_neighbours_k(w, ch, sec_ptr(w, buf, SEC_NEIGHBOURS_K, ch));
        else if (cs->nb_row) put_neighbours(w, ch, sec_ptr(w, buf, SEC_NEIGHBOURS, ch));
    }
    if (s->catalog && s->catalog_len) memcpy(sec_ptr(w, buf, SEC_CATALOG, BUNDLE_NO_CHANNEL), s->catalog, s->catalog_len);

    /* the table (in offset order), then the header, each with its checksum */
    uint8_t *table = buf + BUNDLE_HEADER_SIZE;
    for (uint32_t i = 0; i < w->n_sec; i++) {
        const out_sec *o = &w->sec[i];
        uint8_t *e = table + (size_t)i * BUNDLE_ENTRY_SIZE;
        wr32(e, o->kind), wr32(e + 4, o->channel), wr64(e + 8, o->offset), wr64(e + 16, o->size);
        wr64(e + 24, checksum64(buf + o->offset, (size_t)o->size));
    }
    memcpy(buf, BUNDLE_MAGIC, 8);
    wr32(buf + 8, MDSREC_FORMAT_VERSION), wr32(buf + 12, BUNDLE_BYTE_ORDER), wr32(buf + 16, BUNDLE_HEADER_SIZE);
    wr32(buf + 20, w->n_sec), wr64(buf + 24, total), wr64(buf + 32, BUNDLE_HEADER_SIZE);
    wr64(buf + 40, checksum64(table, (size_t)w->n_sec * BUNDLE_ENTRY_SIZE));
    wr64(buf + 56, checksum64(buf, 56));
    return MDSREC_OK;
}

mdsrec_status bundle_build(const bundle_spec *spec, uint8_t **out, size_t *out_len, mdsrec_error *err) {
    if (err) err->code = 0, err->message[0] = 0;
    if (!spec || !out || !out_len) return fail(err, MDSREC_EARG, "bundle_build: NULL argument");
    *out = NULL, *out_len = 0;
    writer w;
    memset(&w, 0, sizeof w);
    w.spec = spec, w.err = err;
    mdsrec_status st = spec_check(&w);
    uint8_t *buf = NULL;
    if (!st) {
        uint64_t total = plan_layout(&w);
        if (total > SIZE_MAX - 64) {
            st = fail(err, MDSREC_ENOMEM, "bundle_build: %llu bytes do not fit this address space", (unsigned long long)total);
        } else {
            /* zeroed, so padding and reserved fields are 0; 64-aligned like the sections */
            size_t cap = ((size_t)total + 63) / 64 * 64;
            buf = aligned_alloc(64, cap);
            if (!buf) st = fail(err, MDSREC_ENOMEM, "bundle_build: out of memory for %llu bytes", (unsigned long long)total);
            else memset(buf, 0, cap);
        }
        if (!st) st = fill(&w, buf, total);
        if (!st) *out = buf, *out_len = (size_t)total;
    }
    if (st) free(buf);
    free(w.key_len);
    free(w.key_order);
    return st;
}
