/*
 * bundle_common.c - what the bundle reader and writer share (bundle_internal.h): section
 * names and sizes, the error messages, the value checks.
 *
 * Messages are formatted by a tiny local formatter (bnd_fail) rather than snprintf so that
 * the core pulls no stdio into the WebAssembly build.
 */
#include "bundle_internal.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

const uint8_t BUNDLE_MAGIC[8] = {0x4D, 0x44, 0x53, 0x42, 0x0D, 0x0A, 0x1A, 0x0A};

const char *const bnd_section_names[SEC_KIND_MAX + 1] = {
    "unknown", "CONFIG", "KEYS", "KEY_ORDER", "ITEMS", "SCALES", "POS",
    "ENCODER", "POOL", "GATE", "NEIGHBOURS", "POPULARITY", "CATALOG", "NEIGHBOURS_K",
    "PQ_CODEBOOK", "NEIGHBOURS_B", "CATALOG_GZ", "COCLICK", "REPEAT"};

const char *bundle_section_name(uint32_t kind) {
    return kind >= 1 && kind <= SEC_KIND_MAX ? bnd_section_names[kind] : "unknown";
}

/* ---------------------------------------------------------------- sizes */

/* The float counts in u64: callers bound cfg first, so these never overflow. */
static uint64_t encoder_floats_blocks(const mdsrec_config *cfg, uint32_t n_blocks) {
    uint64_t d = cfg->dim, f = cfg->ffn_dim;
    uint64_t block = 4 * (d * d + d) /* q k v o */ + 2 * d /* ln1 */ + f * d + f /* w1 b1 */ +
                     d * f + d /* w2 b2 */ + 2 * d /* ln2 */;
    return 2 * d + (uint64_t)n_blocks * block;
}

uint64_t bnd_encoder_floats64(const mdsrec_config *cfg, uint32_t ch) {
    return encoder_floats_blocks(cfg, cfg->channels[ch].n_blocks);
}

uint64_t bnd_pool_floats64(const mdsrec_config *cfg) {
    uint64_t d = cfg->dim;
    return cfg->pool_mode == MDSREC_POOL_NONE ? 0 : 3 * (d * d + d) + 3 * d;
}

uint64_t bnd_gate_floats64(const mdsrec_config *cfg) {
    uint64_t c = cfg->n_channels;
    return c * c * cfg->dim + c;
}

int bundle_blocks_vary(const mdsrec_config *cfg) {
    for (uint32_t i = 0; i < cfg->n_channels && i < MDSREC_MAX_CHANNELS; i++)
        if (cfg->channels[i].n_blocks != cfg->n_blocks) return 1;
    return 0;
}

size_t bundle_encoder_floats(const mdsrec_config *cfg, uint32_t ch) { return (size_t)bnd_encoder_floats64(cfg, ch); }
size_t bundle_pool_floats(const mdsrec_config *cfg) { return (size_t)bnd_pool_floats64(cfg); }

size_t bundle_dtype_size(uint32_t dtype) {
    switch (dtype) {
    case MDSREC_F32: return 4;
    case MDSREC_F16: return 2;
    case MDSREC_I8: return 1;
    default: return 0;
    }
}

uint64_t bundle_items_bytes(const mdsrec_config *cfg) {
    if (cfg->item_dtype == MDSREC_PQ) return (uint64_t)cfg->n_items * cfg->pq_m;
    return (uint64_t)cfg->n_items * cfg->dim * bundle_dtype_size(cfg->item_dtype);
}

uint64_t bundle_pq_codebook_floats(const mdsrec_config *cfg) { return (uint64_t)BUNDLE_PQ_K * cfg->dim; }

size_t bundle_item_offset(const mdsrec_config *cfg, size_t i, size_t j) {
    size_t d = cfg->dim, full = cfg->n_items - cfg->n_items % MDSREC_PANEL;
    if (cfg->item_layout != MDSREC_LAYOUT_PANEL16 || i >= full) return i * d + j;
    return (i - i % MDSREC_PANEL) * d + j * MDSREC_PANEL + i % MDSREC_PANEL;
}

/* ---------------------------------------------------------------- messages */

void bnd_msg_put(char *out, size_t cap, size_t *n, const char *s) {
    while (*s && *n + 1 < cap) out[(*n)++] = *s++;
    out[*n] = 0;
}

void bnd_msg_put_u64(char *out, size_t cap, size_t *n, unsigned long long v) {
    char digits[24];
    int i = 23;
    digits[i] = 0;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    bnd_msg_put(out, cap, n, digits + i);
}

/* A printf subset: %s, %u, %llu, %d, %x (unsigned, 8 hex digits) and %%. The format
   attribute lets the compiler check the arguments against printf's rules. */
static void msg_vformat(char *out, size_t cap, const char *fmt, va_list ap) {
    size_t n = 0;
    out[0] = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            char one[2] = {*p, 0};
            bnd_msg_put(out, cap, &n, one);
            continue;
        }
        p++;
        if (*p == 's') {
            const char *s = va_arg(ap, const char *);
            bnd_msg_put(out, cap, &n, s ? s : "(null)");
        } else if (*p == 'u') {
            bnd_msg_put_u64(out, cap, &n, va_arg(ap, unsigned));
        } else if (*p == 'l' && p[1] == 'l' && p[2] == 'u') {
            bnd_msg_put_u64(out, cap, &n, va_arg(ap, unsigned long long));
            p += 2;
        } else if (*p == 'd') {
            int v = va_arg(ap, int);
            if (v < 0) bnd_msg_put(out, cap, &n, "-");
            bnd_msg_put_u64(out, cap, &n, v < 0 ? (unsigned long long)(-(long long)v) : (unsigned long long)v);
        } else if (*p == 'x') {
            unsigned v = va_arg(ap, unsigned);
            char hex[11] = "0x";
            for (int i = 0; i < 8; i++) hex[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
            hex[10] = 0;
            bnd_msg_put(out, cap, &n, hex);
        } else if (*p == '%') {
            bnd_msg_put(out, cap, &n, "%");
        } else {
            break; /* unknown conversion: stop rather than misread the arguments */
        }
    }
}

mdsrec_status bnd_fail(mdsrec_error *err, mdsrec_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = (int)code;
        msg_vformat(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---------------------------------------------------------------- value checks */

/* Index of the first non-finite float in f[0..n), or n. */
size_t bnd_first_nonfinite(const float *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(f[i])) return i;
    return n;
}

/* Length of the valid UTF-8 prefix of s[0..n) (n when all of it is valid): shortest
   forms only, no surrogates, nothing above U+10FFFF. */
size_t bnd_utf8_valid_prefix(const uint8_t *s, size_t n) {
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
const char *bnd_key_problem(const uint8_t *k, size_t len) {
    if (len < 1) return "is empty";
    if (len > MDSREC_MAX_KEY_LEN) return "is longer than 255 bytes";
    if (memchr(k, 0, len)) return "contains a NUL byte";
    if (bnd_utf8_valid_prefix(k, len) != len) return "is not valid UTF-8";
    return NULL;
}

/* The config's numeric limits (FORMAT.md, CONFIG). Names are checked separately because the
   reader sees raw bytes and the writer C strings. */
mdsrec_status bnd_config_check(const mdsrec_config *c, const char *what, mdsrec_error *err) {
    if (c->n_items < 1 || c->n_items > MDSREC_MAX_ITEMS)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: n_items %u outside 1..16777216", what, c->n_items);
    if (c->dim < 1 || c->dim > MDSREC_MAX_DIM)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: dim %u outside 1..1024", what, c->dim);
    if (c->n_channels < 1 || c->n_channels > MDSREC_MAX_CHANNELS)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: n_channels %u outside 1..8", what, c->n_channels);
    if (c->max_len < 1 || c->max_len > MDSREC_MAX_LEN)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: max_len %u outside 1..1024", what, c->max_len);
    if (c->n_blocks > MDSREC_MAX_BLOCKS)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: n_blocks %u outside 0..8", what, c->n_blocks);
    if (c->n_heads < 1 || c->n_heads > c->dim || c->dim % c->n_heads)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: n_heads %u does not divide dim %u", what, c->n_heads, c->dim);
    if (c->ffn_dim < 1 || c->ffn_dim > 4096)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: ffn_dim %u outside 1..4096", what, c->ffn_dim);
    if (c->item_dtype > MDSREC_PQ)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: unknown item_dtype %u", what, c->item_dtype);
    if (c->item_dtype == MDSREC_PQ && (c->pq_m < 1 || c->pq_m > c->dim || c->dim % c->pq_m))
        return bnd_fail(err, MDSREC_EFORMAT, "%s: pq_m %u does not divide dim %u (item_dtype pq)", what, c->pq_m, c->dim);
    if (c->item_dtype != MDSREC_PQ && c->pq_m)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: pq_m %u but item_dtype is not pq (expected 0)", what, c->pq_m);
    if (c->weight_dtype > MDSREC_WEIGHTS_Q8)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: unknown weight_dtype %u", what, c->weight_dtype);
    if (c->item_layout > MDSREC_LAYOUT_PANEL16)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: unknown item_layout %u", what, c->item_layout);
    if (c->item_layout == MDSREC_LAYOUT_PANEL16 && c->item_dtype != MDSREC_F32)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: item_layout 1 (panels of 16 rows) needs item_dtype f32", what);
    if (c->pool_mode > MDSREC_POOL_TOKEN)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: unknown pool_mode %u", what, c->pool_mode);
    if (c->ln_mode != 0)
        return bnd_fail(err, MDSREC_EFORMAT, "%s: unknown ln_mode %u (v1 has only 0, post-LN)", what, c->ln_mode);
    if (!isfinite(c->ln_eps) || !(c->ln_eps > 0))
        return bnd_fail(err, MDSREC_EFORMAT, "%s: ln_eps must be finite and > 0", what);
    for (uint32_t i = 0; i < c->n_channels; i++) {
        if (c->channels[i].kind > MDSREC_CHANNEL_FEATURE)
            return bnd_fail(err, MDSREC_EFORMAT, "%s: channel %u has unknown kind %u", what, i, c->channels[i].kind);
        if (c->channels[i].n_blocks > c->n_blocks)
            return bnd_fail(err, MDSREC_EFORMAT, "%s: channel %u has %u blocks, more than n_blocks %u", what, i,
                            c->channels[i].n_blocks, c->n_blocks);
    }
    return MDSREC_OK;
}

/* Channel names: non-empty, valid UTF-8, unique (the NUL-padding is the reader's check). */
mdsrec_status bnd_names_check(const mdsrec_config *c, const char *what, mdsrec_error *err) {
    for (uint32_t i = 0; i < c->n_channels; i++) {
        size_t n = strnlen(c->channels[i].name, 25);
        if (n < 1 || n > 24)
            return bnd_fail(err, MDSREC_EFORMAT, "%s: channel %u name must be 1..24 bytes", what, i);
        if (bnd_utf8_valid_prefix((const uint8_t *)c->channels[i].name, n) != n)
            return bnd_fail(err, MDSREC_EFORMAT, "%s: channel %u name is not valid UTF-8", what, i);
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(c->channels[i].name, c->channels[j].name))
                return bnd_fail(err, MDSREC_EFORMAT, "%s: channel name '%s' appears twice", what, c->channels[i].name);
    }
    return MDSREC_OK;
}

