/*
 * api.c - the parts of mdsrec.h around the forward pass: open and close, the config, keys,
 * catalog, neighbour lookups and status names. The forward pass, the state and recommend
 * live in model.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "kernels.h"
#include "mdsrec.h"
#include "model.h"

/* ---------------------------------------------------------------- open and close */

static mdsrec_status open_fail(mdsrec_error *err, mdsrec_status code, const char *msg) {
    if (err) {
        err->code = (int)code;
        size_t n = strlen(msg);
        if (n >= sizeof err->message) n = sizeof err->message - 1;
        memcpy(err->message, msg, n);
        err->message[n] = 0;
    }
    return code;
}

mdsrec_status mdsrec_open(const void *buf, size_t len, mdsrec_model **out, mdsrec_error *err) {
    return model_open_ex(buf, len, NULL, 0, out, err);
}

mdsrec_status model_open_ex(const void *buf, size_t len, const uint8_t *verified, int head_only, mdsrec_model **out,
                            mdsrec_error *err) {
    if (out) *out = NULL;
    if (!out) return open_fail(err, MDSREC_EARG, "mdsrec_open: out is NULL");
    if (!buf) return open_fail(err, MDSREC_EARG, "mdsrec_open: buffer is NULL");
    /* the sections are read in place as float and u32 arrays, and SIMD loads want 16 bytes */
    if ((uintptr_t)buf % 16) return open_fail(err, MDSREC_EARG, "mdsrec_open: buffer is not 16-byte aligned");

    mdsrec_model *m = calloc(1, sizeof *m);
    if (!m) return open_fail(err, MDSREC_ENOMEM, "mdsrec_open: out of memory");
    mdsrec_status st = bundle_read_ex(buf, len, verified, head_only ? BUNDLE_READ_HEAD : BUNDLE_READ_ALL, &m->view, err);
    if (st) {
        free(m);
        return st;
    }
    m->cfg = m->view.cfg;
    m->head_only = head_only;
    /* compact dense weights (format v2): decoded once here, so the forward reads f32 as ever */
    if (!head_only && m->cfg.weight_dtype != MDSREC_WEIGHTS_F32) {
        m->weights = bundle_weights_decode_all(&m->view);
        if (!m->weights) {
            free(m);
            return open_fail(err, MDSREC_ENOMEM, "mdsrec_open: out of memory for the decoded weights");
        }
    }
    for (uint32_t c = 0; !head_only && c < m->cfg.n_channels; c++) {
        const bundle_channel *ch = &m->view.ch[c];
        encoder_weights_map(&m->cfg, m->cfg.channels[c].n_blocks, ch->pos, ch->encoder, ch->pool, &m->enc[c]);
    }
    m->k = kernels_active();
    if (err) err->code = 0, err->message[0] = 0;
    *out = m;
    return MDSREC_OK;
}

void mdsrec_close(mdsrec_model *model) {
    if (model) free(model->weights);
    free(model);
}

const mdsrec_config *mdsrec_model_config(const mdsrec_model *model) { return model ? &model->cfg : NULL; }

/* ---------------------------------------------------------------- keys and catalog */

static const uint8_t *key_at(const mdsrec_model *m, uint32_t i, size_t *len) {
    const uint32_t *off = m->view.key_offsets;
    *len = off[i + 1] - off[i];
    return m->view.key_bytes + off[i];
}

int64_t mdsrec_find_key(const mdsrec_model *model, const char *key, size_t len) {
    if (!model || !key || len > MDSREC_MAX_KEY_LEN) return -1;
    /* bisect KEY_ORDER, which the loader proved strictly increasing under this comparison */
    const uint32_t *order = model->view.key_order;
    size_t lo = 0, hi = model->cfg.n_items;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t klen;
        const uint8_t *k = key_at(model, order[mid], &klen);
        int c = bundle_key_compare(k, klen, (const uint8_t *)key, len);
        if (c == 0) return order[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

const char *mdsrec_item_key(const mdsrec_model *model, uint32_t index, size_t *len) {
    if (!model || index >= model->cfg.n_items) {
        if (len) *len = 0;
        return NULL;
    }
    size_t n;
    const uint8_t *k = key_at(model, index, &n);
    if (len) *len = n;
    return (const char *)k;
}

const char *mdsrec_catalog(const mdsrec_model *model, size_t *len) {
    if (!model || !model->view.catalog) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = model->view.catalog_len;
    return model->view.catalog;
}

const void *mdsrec_catalog_gzip(const mdsrec_model *model, size_t *len) {
    if (!model || !model->view.catalog_gz) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = model->view.catalog_gz_len;
    return model->view.catalog_gz;
}

/* ---------------------------------------------------------------- similar */

mdsrec_status mdsrec_similar(const mdsrec_model *model, uint32_t item, uint32_t channel, uint32_t k,
                             uint32_t *items, float *weights, uint32_t *count) {
    if (count) *count = 0;
    if (!model || !items || !weights || !count || k == 0) return MDSREC_EARG;
    if (item >= model->cfg.n_items || channel >= model->cfg.n_channels || model->head_only) return MDSREC_EARG;
    const bundle_channel *ch = &model->view.ch[channel];
    if (!ch->nb_kind) return MDSREC_ENOTFOUND;
    /* rows are stored strongest first (either encoding), so the first k are the answer */
    uint32_t n = bundle_nb_count(ch, item);
    if (n > k) n = k;
    for (uint32_t j = 0; j < n; j++) items[j] = bundle_nb_get(ch, item, j, &weights[j]);
    *count = n;
    return MDSREC_OK;
}

/* ---------------------------------------------------------------- misc */

const char *mdsrec_status_string(int status) {
    switch (status) {
    case MDSREC_OK: return "ok";
    case MDSREC_ENOMEM: return "out of memory";
    case MDSREC_EARG: return "bad argument";
    case MDSREC_EFORMAT: return "corrupt or invalid bundle";
    case MDSREC_EVERSION: return "unsupported bundle format version";
    case MDSREC_ECHECKSUM: return "checksum mismatch";
    case MDSREC_EKEY: return "unknown item key";
    case MDSREC_ENOTFOUND: return "section not in the bundle";
    default: return "unknown status";
    }
}

/* ---------------------------------------------------------------- names of the enums */

static const char *const dtype_names[] = {"f32", "f16", "i8", "pq"}; /* by mdsrec_dtype */
static const char *const dtype_long[] = {"fp32", "fp16", "int8", "pq"}; /* accepted spellings */
static const char *const weight_names[] = {"f32", "f16", "q8"};     /* by mdsrec_weight_dtype */
static const char *const pool_names[] = {"none", "last", "mean", "token"}; /* by mdsrec_pool_mode */

const char *mdsrec_dtype_name(int dtype) {
    return dtype >= 0 && dtype < (int)(sizeof dtype_names / sizeof *dtype_names) ? dtype_names[dtype] : NULL;
}

int mdsrec_dtype_from_name(const char *name) {
    for (int i = 0; name && i < (int)(sizeof dtype_names / sizeof *dtype_names); i++)
        if (!strcmp(name, dtype_names[i]) || !strcmp(name, dtype_long[i])) return i;
    return -1;
}

const char *mdsrec_weight_dtype_name(int dtype) {
    return dtype >= 0 && dtype < (int)(sizeof weight_names / sizeof *weight_names) ? weight_names[dtype] : NULL;
}

const char *mdsrec_pool_name(int mode) {
    return mode >= 0 && mode < (int)(sizeof pool_names / sizeof *pool_names) ? pool_names[mode] : NULL;
}

int mdsrec_pool_from_name(const char *name) {
    for (int i = 0; name && i < (int)(sizeof pool_names / sizeof *pool_names); i++)
        if (!strcmp(name, pool_names[i])) return i;
    return -1;
}
