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
#include "bundle_stream.h"
#include "mdsrec.h"
#include "model.h"

static mdsrec_model *g_model;
static mdsrec_state *g_state;
static void *g_buf;                 /* the bundle bytes, owned from open to close */
static char g_error[256];
static bundle_stream *g_stream;     /* the bundle while it arrives (stream_begin .. complete) */

static uint32_t *g_sim_items;       /* similar() results, room for g_sim_cap */
static float *g_sim_weights;
static uint32_t g_sim_cap;

/* the last result's arrays (the mdsrec_wasm_result_* exports) */
static struct {
    const uint32_t *items;
    const float *scores, *shares, *gates;
    const uint32_t *carriers;
    const float *carrier_weights;
} g_result;

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
    free(g_stream);
    g_stream = NULL;
    free(g_sim_items);
    free(g_sim_weights);
    g_state = NULL, g_model = NULL, g_buf = NULL;
    g_sim_items = NULL, g_sim_weights = NULL, g_sim_cap = 0;
    memset(&g_result, 0, sizeof g_result);
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

/* Opens g_model over g_buf (the whole bundle, or its head while it arrives) and its state. */
static int open_model(uint32_t len, const uint8_t *verified, int head_only) {
    mdsrec_error err;
    memset(&err, 0, sizeof err);
    mdsrec_state_free(g_state);
    mdsrec_close(g_model);
    g_state = NULL, g_model = NULL;
    mdsrec_status st = model_open_ex(g_buf, len, verified, head_only, &g_model, &err);
    if (st) {
        set_error(err.message);
        mdsrec_wasm_close();
        return (int)st;
    }
    st = mdsrec_state_new(g_model, &g_state);
    if (!st && !head_only) {
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

int mdsrec_wasm_open(void *buf, uint32_t len) {
    mdsrec_wasm_close();
    g_error[0] = 0;
    g_buf = buf;
    return open_model(len, NULL, 0);
}

int mdsrec_wasm_stream_begin(void *buf, uint32_t len) {
    mdsrec_wasm_close();
    g_error[0] = 0;
    g_buf = buf;
    g_stream = malloc(sizeof *g_stream);
    if (!g_stream) {
        set_error("out of memory");
        mdsrec_wasm_close();
        return MDSREC_ENOMEM;
    }
    bundle_stream_init(g_stream, buf, len);
    return MDSREC_OK;
}

int mdsrec_wasm_stream_feed(uint32_t avail) {
    if (!g_stream) return g_model ? 2 : -MDSREC_EARG;
    mdsrec_error err;
    memset(&err, 0, sizeof err);
    mdsrec_status st = bundle_stream_feed(g_stream, avail, &err);
    if (st) {
        set_error(err.message);
        mdsrec_wasm_close();
        return -(int)st;
    }
    uint32_t len = (uint32_t)g_stream->len;
    if (bundle_stream_complete(g_stream)) {
        int r = open_model(len, g_stream->verified, 0);
        if (r) return -r;
        free(g_stream);
        g_stream = NULL;
        return 2;
    }
    if (g_model) return 1;
    if (!bundle_stream_head_ready(g_stream)) return 0;
    int r = open_model(len, g_stream->verified, 1);
    return r ? -r : 1;
}

const char *mdsrec_wasm_error_message(void) { return g_error; }

/* A field of the open model's config, or -1 when none is open. */
#define CONFIG_FIELD(f) (g_model ? (int32_t)mdsrec_model_config(g_model)->f : -1)
int32_t mdsrec_wasm_info_n_items(void) { return CONFIG_FIELD(n_items); }
int32_t mdsrec_wasm_info_dim(void) { return CONFIG_FIELD(dim); }
int32_t mdsrec_wasm_info_n_channels(void) { return CONFIG_FIELD(n_channels); }
int32_t mdsrec_wasm_info_max_len(void) { return CONFIG_FIELD(max_len); }
int32_t mdsrec_wasm_info_n_blocks(void) { return CONFIG_FIELD(n_blocks); }
int32_t mdsrec_wasm_info_n_heads(void) { return CONFIG_FIELD(n_heads); }
int32_t mdsrec_wasm_info_ffn_dim(void) { return CONFIG_FIELD(ffn_dim); }
int32_t mdsrec_wasm_info_item_dtype(void) { return CONFIG_FIELD(item_dtype); }
int32_t mdsrec_wasm_info_pool_mode(void) { return CONFIG_FIELD(pool_mode); }
int32_t mdsrec_wasm_info_format_version(void) { return g_model ? MDSREC_FORMAT_VERSION : -1; }
#undef CONFIG_FIELD

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

const void *mdsrec_wasm_catalog(uint32_t *len) {
    size_t n = 0;
    const void *c = g_model ? mdsrec_catalog(g_model, &n) : NULL;
    if (g_model && !c) c = mdsrec_catalog_gzip(g_model, &n);
    if (len) *len = (uint32_t)n;
    return c;
}

int32_t mdsrec_wasm_recommend(const uint32_t *history, uint32_t history_len, uint32_t k, uint32_t flags,
                              const uint32_t *exclude, uint32_t exclude_len, const uint32_t *allow,
                              uint32_t allow_len, uint32_t use_allow, uint32_t candidates, uint32_t popular_head,
                              uint32_t hops, uint32_t neighbours) {
    if (!g_model) return -MDSREC_EARG;
    /* an empty allow-list still means "only these": a non-NULL pointer even when JS passes 0 */
    static const uint32_t no_items[1] = {0};
    mdsrec_query q = {history, history_len, k, flags, exclude, exclude_len, NULL, 0};
    if (use_allow) q.allow = allow ? allow : no_items, q.allow_len = allow_len;
    mdsrec_candidates cand = {candidates, popular_head, hops, neighbours};
    mdsrec_result r;
    mdsrec_status st = mdsrec_recommend_candidates(g_model, g_state, &q, &cand, &r);
    if (st) return -(int32_t)st;
    g_result.items = r.items, g_result.scores = r.scores, g_result.shares = r.shares;
    g_result.gates = r.gates, g_result.carriers = r.carriers, g_result.carrier_weights = r.carrier_weights;
    return (int32_t)r.count;
}

int32_t mdsrec_wasm_similar(uint32_t item, uint32_t channel, uint32_t k) {
    if (!g_model) return -MDSREC_EARG;
    if (k > g_sim_cap) k = g_sim_cap; /* no row is longer */
    uint32_t count = 0;
    mdsrec_status st = mdsrec_similar(g_model, item, channel, k, g_sim_items, g_sim_weights, &count);
    if (st) return -(int32_t)st;
    memset(&g_result, 0, sizeof g_result);
    g_result.items = g_sim_items, g_result.scores = g_sim_weights;
    return (int32_t)count;
}

const uint32_t *mdsrec_wasm_result_items(void) { return g_result.items; }
const float *mdsrec_wasm_result_scores(void) { return g_result.scores; }
const float *mdsrec_wasm_result_shares(void) { return g_result.shares; }
const float *mdsrec_wasm_result_gates(void) { return g_result.gates; }
const uint32_t *mdsrec_wasm_result_carriers(void) { return g_result.carriers; }
const float *mdsrec_wasm_result_carrier_weights(void) { return g_result.carrier_weights; }

const char *mdsrec_wasm_status_name(int32_t status) {
    switch (status) {
    case MDSREC_OK: return "MDSREC_OK";
    case MDSREC_ENOMEM: return "MDSREC_ENOMEM";
    case MDSREC_EARG: return "MDSREC_EARG";
    case MDSREC_EFORMAT: return "MDSREC_EFORMAT";
    case MDSREC_EVERSION: return "MDSREC_EVERSION";
    case MDSREC_ECHECKSUM: return "MDSREC_ECHECKSUM";
    case MDSREC_EKEY: return "MDSREC_EKEY";
    case MDSREC_ENOTFOUND: return "MDSREC_ENOTFOUND";
    default: return NULL;
    }
}

const char *mdsrec_wasm_kernels(void) { return mdsrec_kernels_name(); }
