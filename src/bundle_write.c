/*
 * bundle_write.c - the writer of bundle format v1 (models/FORMAT.md): it checks a spec,
 * lays out the sections, fills them and their checksums, and builds a bundle the reader
 * accepts, or refuses the spec with a message.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"
#include "checksum.h"
#include "half.h"
#include "pq.h"

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

#define MAX_OUT_SECS (7 + 6 * MDSREC_MAX_CHANNELS)

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

/* A dense weight array in the config's weight dtype; f16 overflow is the spec's fault. */
static mdsrec_status put_weights(writer *w, uint8_t *p, const float *x, uint64_t n, const char *what, uint32_t ch) {
    if (bundle_weights_encode(w->spec->cfg.weight_dtype, x, (size_t)n, p)) {
        if (ch == BUNDLE_NO_CHANNEL) return bnd_fail(w->err, MDSREC_EARG, "spec: %s has a value outside the f16 range", what);
        return bnd_fail(w->err, MDSREC_EARG, "spec: channel %u %s has a value outside the f16 range", ch, what);
    }
    return MDSREC_OK;
}

/* A float array of the spec: present and finite. ch is BUNDLE_NO_CHANNEL for global ones. */
static mdsrec_status spec_floats(writer *w, const float *f, uint64_t n, const char *what, uint32_t ch) {
    char name[48];
    size_t at = 0;
    name[0] = 0;
    if (ch != BUNDLE_NO_CHANNEL) {
        bnd_msg_put(name, sizeof name, &at, "channel ");
        bnd_msg_put_u64(name, sizeof name, &at, ch);
        bnd_msg_put(name, sizeof name, &at, " ");
    }
    bnd_msg_put(name, sizeof name, &at, what);
    if (!f) return bnd_fail(w->err, MDSREC_EARG, "spec: %s is NULL", name);
    size_t bad = bnd_first_nonfinite(f, (size_t)n);
    if (bad != n) return bnd_fail(w->err, MDSREC_EARG, "spec: %s value %llu is not finite", name, (unsigned long long)bad);
    return MDSREC_OK;
}

static mdsrec_status spec_keys(writer *w) {
    const bundle_spec *s = w->spec;
    uint32_t n = s->cfg.n_items;
    if (!s->keys) return bnd_fail(w->err, MDSREC_EARG, "spec: keys is NULL");
    w->key_len = malloc(n * sizeof *w->key_len);
    w->key_order = malloc(n * sizeof *w->key_order);
    uint32_t *tmp = malloc(n * sizeof *tmp);
    if (!w->key_len || !w->key_order || !tmp) {
        free(tmp);
        return bnd_fail(w->err, MDSREC_ENOMEM, "spec: out of memory for the key index");
    }
    w->key_bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!s->keys[i]) {
            free(tmp);
            return bnd_fail(w->err, MDSREC_EARG, "spec: key %u is NULL", i);
        }
        w->key_len[i] = strnlen(s->keys[i], MDSREC_MAX_KEY_LEN + 1);
        const char *why = bnd_key_problem((const uint8_t *)s->keys[i], w->key_len[i]);
        if (why) {
            free(tmp);
            return bnd_fail(w->err, MDSREC_EARG, "spec: key %u %s", i, why);
        }
        w->key_bytes += w->key_len[i];
        w->key_order[i] = i;
    }
    key_ctx k = {s->keys, w->key_len};
    sort_by_key(&k, w->key_order, tmp, n);
    free(tmp);
    for (uint32_t i = 1; i < n; i++)
        if (!key_less(&k, w->key_order[i - 1], w->key_order[i]))
            return bnd_fail(w->err, MDSREC_EARG, "spec: key '%s' appears twice", s->keys[w->key_order[i]]);
    if (w->key_bytes > UINT32_MAX) return bnd_fail(w->err, MDSREC_EARG, "spec: keys total more than 4 GiB");
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
    if (w->spec->nb_compact == 2 && w->spec->nb_weight_bits > 8)
        return bnd_fail(w->err, MDSREC_EARG, "spec: nb_weight_bits %u outside 0..8", w->spec->nb_weight_bits);
    if (w->spec->nb_compact == 1 && n > BUNDLE_NB_K_MAX_ITEMS)
        return bnd_fail(w->err, MDSREC_EARG,
                    "spec: channel %u neighbours: the compact encoding needs n_items below 16777216 (write them as CSR)", ch);
    if (!c->nb_index || !c->nb_weight)
        return bnd_fail(w->err, MDSREC_EARG, "spec: channel %u neighbours: index or weight is NULL", ch);
    if (c->nb_row[0] != 0) return bnd_fail(w->err, MDSREC_EARG, "spec: channel %u neighbours: row_ptr[0] is not 0", ch);
    for (uint32_t i = 0; i < n; i++) {
        if (c->nb_row[i + 1] < c->nb_row[i])
            return bnd_fail(w->err, MDSREC_EARG, "spec: channel %u neighbours: row_ptr decreases at item %u", ch, i);
        for (uint32_t j = c->nb_row[i]; j < c->nb_row[i + 1]; j++) {
            if (c->nb_index[j] >= n || !isfinite(c->nb_weight[j]))
                return bnd_fail(w->err, MDSREC_EARG, "spec: channel %u neighbours of item %u: index out of range or weight not finite", ch, i);
            if (j > c->nb_row[i] && c->nb_weight[j] > c->nb_weight[j - 1])
                return bnd_fail(w->err, MDSREC_EARG, "spec: channel %u neighbours of item %u are not strongest first", ch, i);
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
        return bnd_fail(w->err, MDSREC_EARG,
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
    mdsrec_status st = bnd_config_check(c, "spec: cfg", w->err);
    if (!st) st = bnd_names_check(c, "spec: cfg", w->err);
    if (st) { /* the same limits as the reader's, but here it is the caller's argument */
        if (w->err) w->err->code = MDSREC_EARG;
        return MDSREC_EARG;
    }
    if (c->item_dtype == MDSREC_PQ && c->n_items > UINT32_MAX / 2)
        return bnd_fail(w->err, MDSREC_EARG, "spec: too many items for pq");
    if ((st = spec_keys(w))) return st;
    uint64_t n = c->n_items, d = c->dim;
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        const bundle_channel_spec *cs = &s->ch[ch];
        if ((st = spec_floats(w, cs->items, n * d, "items", ch))) return st;
        if ((st = spec_floats(w, cs->pos, (uint64_t)c->max_len * d, "pos", ch))) return st;
        if ((st = spec_floats(w, cs->encoder, bnd_encoder_floats64(c, ch), "encoder", ch))) return st;
        if (c->pool_mode != MDSREC_POOL_NONE && (st = spec_floats(w, cs->pool, bnd_pool_floats64(c), "pool", ch))) return st;
        if ((st = spec_neighbours(w, ch))) return st;
    }
    if ((st = spec_floats(w, s->gate, bnd_gate_floats64(c), "gate", BUNDLE_NO_CHANNEL))) return st;
    if (!s->popularity) return bnd_fail(w->err, MDSREC_EARG, "spec: popularity is NULL");
    uint8_t *seen = calloc((n + 7) / 8, 1);
    if (!seen) return bnd_fail(w->err, MDSREC_ENOMEM, "spec: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = s->popularity[i];
        if (x >= n || (seen[x / 8] >> (x % 8) & 1)) {
            free(seen);
            return bnd_fail(w->err, MDSREC_EARG, "spec: popularity is not a permutation (entry %u)", i);
        }
        seen[x / 8] |= (uint8_t)(1u << (x % 8));
    }
    free(seen);
    if (s->catalog && !s->catalog_gzip && bnd_utf8_valid_prefix((const uint8_t *)s->catalog, s->catalog_len) != s->catalog_len)
        return bnd_fail(w->err, MDSREC_EARG, "spec: catalog is not valid UTF-8");
    if (s->coclick_beta != 0.0f) {
        if (!(s->coclick_beta > 0.0f && s->coclick_beta <= 1e6f))
            return bnd_fail(w->err, MDSREC_EARG, "spec: coclick_beta must be in (0, 1e6]");
        if (!(s->coclick_decay >= 0.0f && s->coclick_decay <= 1.0f))
            return bnd_fail(w->err, MDSREC_EARG, "spec: coclick_decay must be in [0, 1]");
        if (s->coclick_channel >= c->n_channels || !s->ch[s->coclick_channel].nb_row)
            return bnd_fail(w->err, MDSREC_EARG, "spec: coclick_channel must be a channel with neighbour lists");
        if (s->coclick_max_hist < 1 || s->coclick_max_hist > c->max_len)
            return bnd_fail(w->err, MDSREC_EARG, "spec: coclick_max_hist must be in 1 .. max_len");
    }
    if (!(s->repeat_weight >= -1e6f && s->repeat_weight <= 1e6f))
        return bnd_fail(w->err, MDSREC_EARG, "spec: repeat_weight must be finite, in [-1e6, 1e6]");
    const uint8_t *gz = (const uint8_t *)s->catalog;
    if (s->catalog && s->catalog_gzip && (s->catalog_len < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8 || (gz[3] & 0xe0)))
        return bnd_fail(w->err, MDSREC_EARG, "spec: catalog_gzip is set but the catalog is not a gzip member");
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
    /* the catalog next: with the keys and popularity it is all a popularity answer needs, so a
       bundle still downloading can answer with it (bundle_stream.h) */
    if (w->spec->catalog)
        add_sec(w, w->spec->catalog_gzip ? SEC_CATALOG_GZ : SEC_CATALOG, BUNDLE_NO_CHANNEL, w->spec->catalog_len);
    uint32_t wd = c->weight_dtype;
    add_sec(w, SEC_GATE, BUNDLE_NO_CHANNEL, bundle_weights_bytes(wd, bnd_gate_floats64(c)));
    if (w->spec->coclick_beta > 0.0f) add_sec(w, SEC_COCLICK, BUNDLE_NO_CHANNEL, 16);
    if (w->spec->repeat_weight != 0.0f) add_sec(w, SEC_REPEAT, BUNDLE_NO_CHANNEL, 4);
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        add_sec(w, SEC_ITEMS, ch, bundle_items_bytes(c));
        if (c->item_dtype == MDSREC_I8) add_sec(w, SEC_SCALES, ch, 4 * n);
        if (c->item_dtype == MDSREC_PQ) add_sec(w, SEC_PQ_CODEBOOK, ch, 4 * bundle_pq_codebook_floats(c));
        add_sec(w, SEC_POS, ch, bundle_weights_bytes(wd, (uint64_t)c->max_len * d));
        add_sec(w, SEC_ENCODER, ch, bundle_weights_bytes(wd, bnd_encoder_floats64(c, ch)));
        if (c->pool_mode != MDSREC_POOL_NONE) add_sec(w, SEC_POOL, ch, bundle_weights_bytes(wd, bnd_pool_floats64(c)));
        if (w->spec->ch[ch].nb_row && w->spec->nb_compact == 2)
            add_sec(w, SEC_NEIGHBOURS_B, ch, bnd_nbits_bytes((uint32_t)n, w->nb_k[ch], w->spec->nb_weight_bits));
        else if (w->spec->ch[ch].nb_row && w->spec->nb_compact) add_sec(w, SEC_NEIGHBOURS_K, ch, 16 + 4 * n * w->nb_k[ch]);
        else if (w->spec->ch[ch].nb_row) add_sec(w, SEC_NEIGHBOURS, ch, 8 + 4 * (n + 1) + 8 * w->nnz[ch]);
    }
    uint64_t at = BUNDLE_HEADER_SIZE + (uint64_t)w->n_sec * BUNDLE_ENTRY_SIZE;
    for (uint32_t i = 0; i < w->n_sec; i++) {
        at = (at + BUNDLE_ALIGN - 1) / BUNDLE_ALIGN * BUNDLE_ALIGN;
        w->sec[i].offset = at;
        at += w->sec[i].size;
    }
    return at;
}

static void put_config(const mdsrec_config *c, uint8_t *p) {
    int v3 = bundle_blocks_vary(c);
    wr32(p, c->n_items), wr32(p + 4, c->dim), wr32(p + 8, c->n_channels), wr32(p + 12, c->max_len);
    wr32(p + 16, c->n_blocks), wr32(p + 20, c->n_heads), wr32(p + 24, c->ffn_dim);
    wr32(p + 28, c->item_dtype), wr32(p + 32, c->pool_mode), wr32(p + 36, c->ln_mode);
    wrf32(p + 40, c->ln_eps);
    wr32(p + 44, c->item_layout);
    wr32(p + 48, c->weight_dtype), wr32(p + 52, c->pq_m);
    for (uint32_t i = 0; i < c->n_channels; i++) {
        uint8_t *rec = p + BUNDLE_CONFIG_FIXED + i * BUNDLE_CHANNEL_RECORD;
        memcpy(rec, c->channels[i].name, strnlen(c->channels[i].name, 24));
        wr32(rec + 24, c->channels[i].kind);
        if (v3) wr32(rec + 28, c->channels[i].n_blocks); /* reserved (0) before v3 */
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
static mdsrec_status put_items(writer *w, uint32_t ch, uint8_t *p, uint8_t *scales_p, uint8_t *cb_p) {
    const mdsrec_config *c = &w->spec->cfg;
    const float *x = w->spec->ch[ch].items;
    size_t n = c->n_items, d = c->dim;
    if (c->item_dtype == MDSREC_PQ) { /* k-means here, from the f32 rows (pq.c) */
        size_t nf = (size_t)bundle_pq_codebook_floats(c);
        float *cb = malloc(nf * sizeof *cb);
        if (!cb || pq_train(x, n, d, c->pq_m, cb, p)) {
            free(cb);
            return bnd_fail(w->err, MDSREC_ENOMEM, "bundle_build: out of memory training channel %u's pq codebook", ch);
        }
        put_floats(cb_p, cb, nf);
        free(cb);
    } else if (c->item_dtype == MDSREC_F32 && c->item_layout == MDSREC_LAYOUT_PANEL16) {
        size_t full = n - n % MDSREC_PANEL; /* rows in whole panels; the rest stay row-major */
        for (size_t i = 0; i < full; i++)
            for (size_t j = 0; j < d; j++) wrf32(p + 4 * bundle_item_offset(c, i, j), x[i * d + j]);
        put_floats(p + 4 * full * d, x + full * d, (n - full) * d);
    } else if (c->item_dtype == MDSREC_F32) {
        put_floats(p, x, n * d);
    } else if (c->item_dtype == MDSREC_F16) {
        for (size_t i = 0; i < n * d; i++) {
            uint16_t h = float_to_half(x[i]);
            if ((h & 0x7C00u) == 0x7C00u)
                return bnd_fail(w->err, MDSREC_EARG, "spec: channel %u item %llu has a value outside the f16 range", ch,
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
    mdsrec_status st = put_weights(w, sec_ptr(w, buf, SEC_GATE, BUNDLE_NO_CHANNEL), s->gate, bnd_gate_floats64(c), "gate",
                                   BUNDLE_NO_CHANNEL);
    if (st) return st;
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        const bundle_channel_spec *cs = &s->ch[ch];
        st = put_items(w, ch, sec_ptr(w, buf, SEC_ITEMS, ch), sec_ptr(w, buf, SEC_SCALES, ch),
                       sec_ptr(w, buf, SEC_PQ_CODEBOOK, ch));
        if (!st) st = put_weights(w, sec_ptr(w, buf, SEC_POS, ch), cs->pos, (uint64_t)c->max_len * c->dim, "pos", ch);
        if (!st) st = put_weights(w, sec_ptr(w, buf, SEC_ENCODER, ch), cs->encoder, bnd_encoder_floats64(c, ch), "encoder", ch);
        if (!st && c->pool_mode != MDSREC_POOL_NONE)
            st = put_weights(w, sec_ptr(w, buf, SEC_POOL, ch), cs->pool, bnd_pool_floats64(c), "pool", ch);
        if (st) return st;
        if (cs->nb_row && s->nb_compact == 2)
            bnd_nbits_put(sec_ptr(w, buf, SEC_NEIGHBOURS_B, ch), c->n_items, w->nb_k[ch], s->nb_weight_bits, w->nb_w_min[ch],
                          w->nb_w_max[ch], cs->nb_row, cs->nb_index, cs->nb_weight, s->nb_keep);
        else if (cs->nb_row && s->nb_compact) put_neighbours_k(w, ch, sec_ptr(w, buf, SEC_NEIGHBOURS_K, ch));
        else if (cs->nb_row) put_neighbours(w, ch, sec_ptr(w, buf, SEC_NEIGHBOURS, ch));
    }
    if (s->catalog && s->catalog_len)
        memcpy(sec_ptr(w, buf, s->catalog_gzip ? SEC_CATALOG_GZ : SEC_CATALOG, BUNDLE_NO_CHANNEL), s->catalog, s->catalog_len);
    if (s->coclick_beta > 0.0f) {
        uint8_t *p = sec_ptr(w, buf, SEC_COCLICK, BUNDLE_NO_CHANNEL);
        wr32(p, s->coclick_channel), wrf32(p + 4, s->coclick_beta), wrf32(p + 8, s->coclick_decay);
        wr32(p + 12, s->coclick_max_hist);
    }
    if (s->repeat_weight != 0.0f) wrf32(sec_ptr(w, buf, SEC_REPEAT, BUNDLE_NO_CHANNEL), s->repeat_weight);

    /* the table (in offset order), then the header, each with its checksum */
    uint8_t *table = buf + BUNDLE_HEADER_SIZE;
    for (uint32_t i = 0; i < w->n_sec; i++) {
        const out_sec *o = &w->sec[i];
        uint8_t *e = table + (size_t)i * BUNDLE_ENTRY_SIZE;
        wr32(e, o->kind), wr32(e + 4, o->channel), wr64(e + 8, o->offset), wr64(e + 16, o->size);
        wr64(e + 24, checksum64(buf + o->offset, (size_t)o->size));
    }
    memcpy(buf, BUNDLE_MAGIC, 8);
    /* the oldest version that holds what is used, so other bundles stay readable by older
       cores: 3 for channels of fewer blocks than n_blocks, 2 for compact weights or PQ */
    uint32_t version = c->weight_dtype != MDSREC_WEIGHTS_F32 || c->item_dtype == MDSREC_PQ ? 2u : 1u;
    if (bundle_blocks_vary(c)) version = 3;
    wr32(buf + 8, version), wr32(buf + 12, BUNDLE_BYTE_ORDER), wr32(buf + 16, BUNDLE_HEADER_SIZE);
    wr32(buf + 20, w->n_sec), wr64(buf + 24, total), wr64(buf + 32, BUNDLE_HEADER_SIZE);
    wr64(buf + 40, checksum64(table, (size_t)w->n_sec * BUNDLE_ENTRY_SIZE));
    wr64(buf + 56, checksum64(buf, 56));
    return MDSREC_OK;
}

mdsrec_status bundle_build(const bundle_spec *spec, uint8_t **out, size_t *out_len, mdsrec_error *err) {
    if (err) err->code = 0, err->message[0] = 0;
    if (!spec || !out || !out_len) return bnd_fail(err, MDSREC_EARG, "bundle_build: NULL argument");
    *out = NULL, *out_len = 0;
    writer w;
    memset(&w, 0, sizeof w);
    w.spec = spec, w.err = err;
    mdsrec_status st = spec_check(&w);
    uint8_t *buf = NULL;
    if (!st) {
        uint64_t total = plan_layout(&w);
        if (total > SIZE_MAX - 64) {
            st = bnd_fail(err, MDSREC_ENOMEM, "bundle_build: %llu bytes do not fit this address space", (unsigned long long)total);
        } else {
            /* zeroed, so padding and reserved fields are 0; 64-aligned like the sections */
            size_t cap = ((size_t)total + 63) / 64 * 64;
            buf = aligned_alloc(64, cap);
            if (!buf) st = bnd_fail(err, MDSREC_ENOMEM, "bundle_build: out of memory for %llu bytes", (unsigned long long)total);
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
