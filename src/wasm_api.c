/*
 * wasm_api.c - the WebAssembly exports (wasm_api.h) over mdsrec.h: one model and one state
 * per instance, plus the bundle buffer, which the instance owns once it is opened.
 *
 * Everything a call returns lives in globals here or in the state, so JS reads it through
 * the instance's memory. recommend and similar allocate nothing: the similar() buffers are
 * sized at open for the longest neighbour row of the bundle.
 */
#include "wasm_api.h"

#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "mdsrec.h"
#include "model.h"

static mdsrec_model *g_model;
static mdsrec_state *g_state;
static void *g_buf;                 /* the bundle bytes, owned from open to close */
static char g_error[256];

static uint32_t *g_sim_items;       /* similar() results, room for g_sim_cap */
static float *g_sim_weights;
static uint32_t g_sim_cap;

static const void *g_result[6];     /* the last result's arrays (mdsrec_wasm_result) */

static void set_error(const char *msg) {
    size_t n = strlen(msg);
    if (n >= sizeof g_error) n = sizeof g_error - 1;
    memcpy(g_error, msg, n);
    g_error[n] = 0;
}

void *mdsrec_wasm_alloc(uint32_t size) {
    /* 16-aligned, as mdsrec_open requires of the bundle; rounded up in 64 bits, since in
       wasm32 a size within 15 bytes of 4 GiB would wrap size_t to a 0-byte block */
    uint64_t rounded = ((uint64_t)size + 15) / 16 * 16;
    if (rounded > SIZE_MAX) return NULL;
    return aligned_alloc(16, (size_t)rounded);
}

void mdsrec_wasm_free(void *p) { free(p); }

void mdsrec_wasm_close(void) {
    mdsrec_state_free(g_state);
    mdsrec_close(g_model);
    free(g_buf);
    free(g_sim_items);
    free(g_sim_weights);
    g_state = NULL, g_model = NULL, g_buf = NULL;
    g_sim_items = NULL, g_sim_weights = NULL, g_sim_cap = 0;
    memset(g_result, 0, sizeof g_result);
}

/* The longest neighbour row over every channel (k for the compact encoding): the most
   similar() can return. */
static uint32_t longest_row(const mdsrec_model *m) {
    uint32_t best = 1;
    for (uint32_t c = 0; c < m->cfg.n_channels; c++) {
        uint32_t r = bundle_nb_max_row(&m->view.ch[c], m->cfg.n_items);
        if (r > best) best = r;
    }
    return best;
}

int mdsrec_wasm_open(void *buf, uint32_t len) {
    mdsrec_wasm_close();
    g_error[0] = 0;
    g_buf = buf;
    mdsrec_error err;
    memset(&err, 0, sizeof err);
    mdsrec_status st = mdsrec_open(buf, len, &g_model, &err);
    if (st) {
        set_error(err.message);
        mdsrec_wasm_close();
        return (int)st;
    }
    st = mdsrec_state_new(g_model, &g_state);
    if (!st) {
        g_sim_cap = longest_row(g_model);
        g_sim_items = malloc(g_sim_cap * sizeof *g_sim_items);
        g_sim_weights = malloc(g_sim_cap * sizeof *g_sim_weights);
        if (!g_sim_items || !g_sim_weights) st = MDSREC_ENOMEM;
    }
    if (st) {
        set_error(mdsrec_status_string(st));
        mdsrec_wasm_close();
        return (int)st;
    }
    return MDSREC_OK;
}

const char *mdsrec_wasm_error_message(void) { return g_error; }

int32_t mdsrec_wasm_info(int32_t field) {
    if (!g_model) return -1;
    const mdsrec_config *c = mdsrec_model_config(g_model);
    switch (field) {
    case 0: return (int32_t)c->n_items;
    case 1: return (int32_t)c->dim;
    case 2: return (int32_t)c->n_channels;
    case 3: return (int32_t)c->max_len;
    case 4: return (int32_t)c->n_blocks;
    case 5: return (int32_t)c->n_heads;
    case 6: return (int32_t)c->ffn_dim;
    case 7: return (int32_t)c->item_dtype;
    case 8: return (int32_t)c->pool_mode;
    case 9: return MDSREC_FORMAT_VERSION;
    default: return -1;
    }
}

const char *mdsrec_wasm_channel_name(uint32_t c) {
    if (!g_model || c >= mdsrec_model_config(g_model)->n_channels) return NULL;
    return mdsrec_model_config(g_model)->channels[c].name;
}

int32_t mdsrec_wasm_channel_kind(uint32_t c) {
    if (!g_model || c >= mdsrec_model_config(g_model)->n_channels) return -1;
    return (int32_t)mdsrec_model_config(g_model)->channels[c].kind;
}

int32_t mdsrec_wasm_find_key(const char *key, uint32_t len) {
    if (!g_model) return -1;
    return (int32_t)mdsrec_find_key(g_model, key, len);
}

const char *mdsrec_wasm_item_key(uint32_t index, uint32_t *len) {
    size_t n = 0;
    const char *k = g_model ? mdsrec_item_key(g_model, index, &n) : NULL;
    if (len) *len = (uint32_t)n;
    return k;
}

const char *mdsrec_wasm_catalog(uint32_t *len) {
    size_t n = 0;
    const char *c = g_model ? mdsrec_catalog(g_model, &n) : NULL;
    if (len) *len = (uint32_t)n;
    return c;
}

int32_t mdsrec_wasm_recommend(const uint32_t *history, uint32_t history_len, uint32_t k, uint32_t flags,
                              const uint32_t *exclude, uint32_t exclude_len, const uint32_t *allow,
                              uint32_t allow_len, uint32_t use_allow) {
    if (!g_model) return -MDSREC_EARG;
    /* an empty allow-list still means "only these": a non-NULL pointer even when JS passes 0 */
    static const uint32_t no_items[1] = {0};
    mdsrec_query q = {history, history_len, k, flags, exclude, exclude_len, NULL, 0};
    if (use_allow) q.allow = allow ? allow : no_items, q.allow_len = allow_len;
    mdsrec_result r;
    mdsrec_status st = mdsrec_recommend(g_model, g_state, &q, &r);
    if (st) return -(int32_t)st;
    g_result[0] = r.items, g_result[1] = r.scores, g_result[2] = r.shares;
    g_result[3] = r.gates, g_result[4] = r.carriers, g_result[5] = r.carrier_weights;
    return (int32_t)r.count;
}

int32_t mdsrec_wasm_similar(uint32_t item, uint32_t channel, uint32_t k) {
    if (!g_model) return -MDSREC_EARG;
    if (k > g_sim_cap) k = g_sim_cap; /* no row is longer */
    uint32_t count = 0;
    mdsrec_status st = mdsrec_similar(g_model, item, channel, k, g_sim_items, g_sim_weights, &count);
    if (st) return -(int32_t)st;
    memset(g_result, 0, sizeof g_result);
    g_result[0] = g_sim_items, g_result[1] = g_sim_weights;
    return (int32_t)count;
}

const void *mdsrec_wasm_result(int32_t field) {
    return field >= 0 && field < 6 ? g_result[field] : NULL;
}

const char *mdsrec_wasm_kernels(void) { return mdsrec_kernels_name(); }
