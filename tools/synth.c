/* synth.c - seeded random models for `mdsrec synth` and the tests (see synth.h). */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/rng.h"

/* ---------------------------------------------------------------- random numbers */

/* Uniform in [0, 1) from the top 24 bits (exact in a float). */
static float uniform01(uint64_t *s) { return (float)(splitmix64(s) >> 40) * (1.0f / 16777216.0f); }

/* Uniform in [-a, a): standard deviation a/sqrt(3). */
static float uniform_pm(uint64_t *s, float a) { return (2.0f * uniform01(s) - 1.0f) * a; }

/* Uniform integer below n (n >= 1); the modulo bias is irrelevant at these sizes. */
static uint32_t below(uint64_t *s, uint32_t n) { return (uint32_t)(splitmix64(s) % n); }

/* Values with standard deviation sd. */
static void fill_random(float *x, size_t n, float sd, uint64_t *s) {
    float a = sd * 1.7320508f;
    for (size_t i = 0; i < n; i++) x[i] = uniform_pm(s, a);
}

static void fill_const(float *x, size_t n, float v) {
    for (size_t i = 0; i < n; i++) x[i] = v;
}

/* ---------------------------------------------------------------- options */

void synth_defaults(synth_options *o, uint32_t n_items) {
    memset(o, 0, sizeof *o);
    o->n_items = n_items;
    o->dim = 64;
    o->dtype = MDSREC_F32;
    o->n_blocks = 2;
    o->n_heads = 2;
    o->max_len = 50;
    o->neighbours = 10;
    o->nb_compact = 1;
    o->nb_weight_bits = 4;
    o->pool_mode = MDSREC_POOL_LAST;
    o->seed = 1;
    const char *why;
    synth_parse_channels(o, "id,image,text", &why);
}

int synth_parse_channels(synth_options *o, const char *list, const char **why) {
    uint32_t n = 0;
    const char *p = list;
    while (1) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len < 1 || len > 24) {
            *why = "each channel name must be 1..24 bytes";
            return -1;
        }
        if (n == MDSREC_MAX_CHANNELS) {
            *why = "at most 8 channels";
            return -1;
        }
        memcpy(o->names[n], p, len);
        o->names[n][len] = 0;
        const char *nm = o->names[n];
        o->kinds[n] = !strcmp(nm, "id")      ? MDSREC_CHANNEL_ID
                      : !strcmp(nm, "image") ? MDSREC_CHANNEL_IMAGE
                      : !strcmp(nm, "text")  ? MDSREC_CHANNEL_TEXT
                                             : MDSREC_CHANNEL_FEATURE;
        for (uint32_t j = 0; j < n; j++)
            if (!strcmp(o->names[j], nm)) {
                *why = "a channel name appears twice";
                return -1;
            }
        n++;
        if (!end) break;
        p = end + 1;
    }
    o->n_channels = n;
    return 0;
}

/* ---------------------------------------------------------------- the parts */

static int encoder_random(const mdsrec_config *c, uint32_t ch, float *e, uint64_t *s) {
    size_t d = c->dim, f = c->ffn_dim;
    float sd = 1.0f / sqrtf((float)d), sdf = 1.0f / sqrtf((float)f);
    fill_const(e, d, 1), fill_const(e + d, d, 0), e += 2 * d; /* LN_in */
    for (uint32_t b = 0; b < c->channels[ch].n_blocks; b++) {
        for (int m = 0; m < 4; m++) { /* wq bq wk bk wv bv wo bo */
            fill_random(e, d * d, sd, s), e += d * d;
            fill_const(e, d, 0), e += d;
        }
        fill_const(e, d, 1), fill_const(e + d, d, 0), e += 2 * d; /* ln1 */
        fill_random(e, f * d, sd, s), e += f * d;
        fill_const(e, f, 0), e += f;
        fill_random(e, d * f, sdf, s), e += d * f;
        fill_const(e, d, 0), e += d;
        fill_const(e, d, 1), fill_const(e + d, d, 0), e += 2 * d; /* ln2 */
    }
    return 0;
}

static void pool_random(const mdsrec_config *c, float *p, uint64_t *s) {
    size_t d = c->dim;
    for (int m = 0; m < 3; m++) { /* wq bq wk bk wv bv */
        fill_random(p, d * d, 1.0f / sqrtf((float)d), s), p += d * d;
        fill_const(p, d, 0), p += d;
    }
    fill_const(p, d, 1), fill_const(p + d, d, 0), p += 2 * d; /* ln */
    if (c->pool_mode == MDSREC_POOL_TOKEN) fill_random(p, d, 1.0f, s);
    else fill_const(p, d, 0);
}

/* k distinct neighbours per item, never itself, weights descending. */
static int neighbours_random(uint32_t n, uint32_t k, uint32_t *row, uint32_t *index, float *weight, uint64_t *s) {
    if (k > n - 1) k = n - 1;
    uint32_t *cand = NULL;
    if (k && n <= 4 * k) { /* dense: a partial shuffle of the other items */
        cand = malloc(n * sizeof *cand);
        if (!cand) return -1;
    }
    row[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t *out = index + (size_t)i * k;
        float *w = weight + (size_t)i * k;
        if (cand) {
            uint32_t m = 0;
            for (uint32_t j = 0; j < n; j++)
                if (j != i) cand[m++] = j;
            for (uint32_t t = 0; t < k; t++) {
                uint32_t r = t + below(s, m - t), tmp = cand[t];
                cand[t] = cand[r], cand[r] = tmp;
                out[t] = cand[t];
            }
        } else {
            for (uint32_t t = 0; t < k; t++) {
                uint32_t j, dup;
                do { /* sparse: rejection, k is small next to n */
                    j = below(s, n);
                    dup = j == i;
                    for (uint32_t u = 0; u < t && !dup; u++) dup = out[u] == j;
                } while (dup);
                out[t] = j;
            }
        }
        for (uint32_t t = 0; t < k; t++) { /* weights: sorted descending by insertion */
            float v = uniform01(s);
            uint32_t u = t;
            while (u > 0 && w[u - 1] < v) w[u] = w[u - 1], u--;
            w[u] = v;
        }
        row[i + 1] = row[i] + k;
    }
    free(cand);
    return 0;
}

static char *catalog_json(uint32_t n, const char *const *keys, uint64_t *s, size_t *len) {
    size_t cap = (size_t)n * 200 + 16, at = 0;
    char *j = malloc(cap);
    if (!j) return NULL;
    j[at++] = '[';
    for (uint32_t i = 0; i < n; i++) {
        unsigned cents = 100 + below(s, 99900);
        at += (size_t)snprintf(j + at, cap - at,
                               "%s{\"title\":\"Item %u\",\"price\":%u.%02u,\"image\":\"https://example.com/img/%s.jpg\","
                               "\"url\":\"https://example.com/p/%s\"}",
                               i ? "," : "", i, cents / 100, cents % 100, keys[i], keys[i]);
    }
    j[at++] = ']';
    *len = at;
    return j;
}

/* ---------------------------------------------------------------- the model */

void synth_free(synth_model *m) {
    for (int c = 0; c < MDSREC_MAX_CHANNELS; c++) {
        free(m->items[c]), free(m->pos[c]), free(m->encoder[c]), free(m->pool[c]);
        free(m->nb_row[c]), free(m->nb_index[c]), free(m->nb_weight[c]);
    }
    free(m->gate), free(m->popularity), free(m->key_mem), free(m->keys), free(m->catalog);
    memset(m, 0, sizeof *m);
}

static mdsrec_status options_check(const synth_options *o, mdsrec_error *err) {
    const char *why = NULL;
    if (o->n_items < 1 || o->n_items > MDSREC_MAX_ITEMS) why = "items must be 1..16777216";
    else if (o->nb_compact == 1 && o->neighbours && o->n_items > BUNDLE_NB_K_MAX_ITEMS)
        why = "compact neighbours need items below 16777216 (--neighbours-format csr, or --neighbours 0)";
    else if (o->nb_compact && o->neighbours > BUNDLE_NB_K_MAX && o->n_items - 1 > BUNDLE_NB_K_MAX)
        why = "compact neighbours: at most 1024 per item (--neighbours-format csr for more)";
    else if (o->dim < 1 || o->dim > 1024) why = "dim must be 1..1024";
    else if (o->n_channels < 1 || o->n_channels > MDSREC_MAX_CHANNELS) why = "channels: 1..8 of them";
    else if (o->n_heads < 1 || o->dim % o->n_heads) why = "heads must divide dim";
    else if (o->n_blocks > MDSREC_MAX_BLOCKS) why = "blocks must be 0..8";
    else if (o->max_len < 1 || o->max_len > MDSREC_MAX_LEN) why = "max-len must be 1..1024";
    else if (o->dtype > MDSREC_PQ) why = "unknown dtype";
    else if (o->dtype == MDSREC_PQ && o->pq_m && (o->pq_m > o->dim || o->dim % o->pq_m)) why = "--pq-m must divide dim";
    else if (o->dtype != MDSREC_PQ && o->pq_m) why = "--pq-m needs --dtype pq";
    else if (o->weights > MDSREC_WEIGHTS_Q8) why = "unknown weights dtype";
    else if (o->layout_set && o->layout == MDSREC_LAYOUT_PANEL16 && o->dtype != MDSREC_F32)
        why = "--layout panels needs --dtype f32";
    else if (o->pool_mode > MDSREC_POOL_TOKEN) why = "unknown pool mode";
    else if (o->coclick_beta > 0 && !o->neighbours) why = "--coclick needs neighbour lists (--neighbours K)";
    for (uint32_t i = 0; !why && o->channel_blocks_set && i < o->n_channels; i++)
        if (o->channel_blocks[i] > o->n_blocks) why = "a channel's blocks must be at most --blocks";
    if (!why) return MDSREC_OK;
    if (err) {
        err->code = MDSREC_EARG;
        snprintf(err->message, sizeof err->message, "%s", why);
    }
    return MDSREC_EARG;
}

static mdsrec_status oom(mdsrec_error *err) {
    if (err) {
        err->code = MDSREC_ENOMEM;
        snprintf(err->message, sizeof err->message, "out of memory");
    }
    return MDSREC_ENOMEM;
}

mdsrec_status synth_make(const synth_options *o, synth_model *m, mdsrec_error *err) {
    memset(m, 0, sizeof *m);
    mdsrec_status st = options_check(o, err);
    if (st) return st;
    bundle_spec *sp = &m->spec;
    mdsrec_config *c = &sp->cfg;
    c->n_items = o->n_items, c->dim = o->dim, c->n_channels = o->n_channels, c->max_len = o->max_len;
    c->n_blocks = o->n_blocks, c->n_heads = o->n_heads;
    c->ffn_dim = 4 * o->dim > 4096 ? 4096 : 4 * o->dim;
    c->item_dtype = o->dtype;
    c->pq_m = o->dtype != MDSREC_PQ ? 0 : o->pq_m ? o->pq_m : o->dim % 4 ? o->dim : o->dim / 4;
    c->weight_dtype = o->weights;
    c->item_layout = o->layout_set ? o->layout : o->dtype == MDSREC_F32 ? MDSREC_LAYOUT_PANEL16 : MDSREC_LAYOUT_ROWS;
    c->pool_mode = o->pool_mode, c->ln_mode = 0, c->ln_eps = 1e-5f;
    sp->nb_compact = o->nb_compact;
    sp->nb_weight_bits = o->nb_weight_bits;
    if (o->coclick_beta > 0) {
        sp->coclick_beta = o->coclick_beta, sp->coclick_decay = 0.3f;
        sp->coclick_channel = 0, sp->coclick_max_hist = o->max_len;
    }
    sp->repeat_weight = o->repeat_weight;
    for (uint32_t i = 0; i < o->n_channels; i++) {
        memcpy(c->channels[i].name, o->names[i], sizeof c->channels[i].name);
        c->channels[i].kind = o->kinds[i];
        c->channels[i].n_blocks = o->channel_blocks_set ? o->channel_blocks[i] : o->n_blocks;
    }
    size_t n = o->n_items, d = o->dim;

    /* keys item-000000 ... (wider past a million), in one block of 16-byte slots */
    m->key_mem = malloc(n * 16);
    m->keys = malloc(n * sizeof *m->keys);
    if (!m->key_mem || !m->keys) return oom(err);
    for (size_t i = 0; i < n; i++) {
        snprintf(m->key_mem + 16 * i, 16, "item-%06u", (unsigned)i);
        m->keys[i] = m->key_mem + 16 * i;
    }
    sp->keys = m->keys;

    /* one stream per part, so a part's values do not depend on the sizes of the others */
    uint64_t s = o->seed * 0x2545F4914F6CDD1Dull + 1;
    m->popularity = malloc(n * sizeof *m->popularity);
    m->gate = malloc(((size_t)c->n_channels * c->n_channels * d + c->n_channels) * sizeof *m->gate);
    if (!m->popularity || !m->gate) return oom(err);
    for (size_t i = 0; i < n; i++) m->popularity[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = below(&s, (uint32_t)i + 1);
        uint32_t t = m->popularity[i];
        m->popularity[i] = m->popularity[j], m->popularity[j] = t;
    }
    fill_random(m->gate, (size_t)c->n_channels * c->n_channels * d, 1.0f / sqrtf((float)(c->n_channels * d)), &s);
    fill_const(m->gate + (size_t)c->n_channels * c->n_channels * d, c->n_channels, 0);
    sp->popularity = m->popularity, sp->gate = m->gate;

    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        uint64_t cs = (o->seed + 1000003ull * (ch + 1)) * 0x9E3779B97F4A7C15ull;
        bundle_channel_spec *cp = &sp->ch[ch];
        m->items[ch] = malloc(n * d * sizeof(float));
        m->pos[ch] = malloc((size_t)c->max_len * d * sizeof(float));
        m->encoder[ch] = malloc(bundle_encoder_floats(c, ch) * sizeof(float));
        if (!m->items[ch] || !m->pos[ch] || !m->encoder[ch]) return oom(err);
        /* rows of norm about 1, so scores spread and the top-k is not all ties */
        fill_random(m->items[ch], n * d, 1.0f / sqrtf((float)d), &cs);
        fill_random(m->pos[ch], (size_t)c->max_len * d, 0.02f, &cs);
        encoder_random(c, ch, m->encoder[ch], &cs);
        cp->items = m->items[ch], cp->pos = m->pos[ch], cp->encoder = m->encoder[ch];
        if (c->pool_mode != MDSREC_POOL_NONE) {
            m->pool[ch] = malloc(bundle_pool_floats(c) * sizeof(float));
            if (!m->pool[ch]) return oom(err);
            pool_random(c, m->pool[ch], &cs);
            cp->pool = m->pool[ch];
        }
        if (o->neighbours && n > 1) {
            uint32_t k = o->neighbours > n - 1 ? (uint32_t)n - 1 : o->neighbours;
            m->nb_row[ch] = malloc((n + 1) * sizeof(uint32_t));
            m->nb_index[ch] = malloc(n * k * sizeof(uint32_t) + 4);
            m->nb_weight[ch] = malloc(n * k * sizeof(float) + 4);
            if (!m->nb_row[ch] || !m->nb_index[ch] || !m->nb_weight[ch]) return oom(err);
            if (neighbours_random((uint32_t)n, k, m->nb_row[ch], m->nb_index[ch], m->nb_weight[ch], &cs)) return oom(err);
            cp->nb_row = m->nb_row[ch], cp->nb_index = m->nb_index[ch], cp->nb_weight = m->nb_weight[ch];
        }
    }
    if (o->catalog) {
        m->catalog = catalog_json((uint32_t)n, m->keys, &s, &sp->catalog_len);
        if (!m->catalog) return oom(err);
        sp->catalog = m->catalog;
    }
    return MDSREC_OK;
}

mdsrec_status synth_bundle(const synth_options *o, uint8_t **out, size_t *out_len, mdsrec_error *err) {
    synth_model m;
    mdsrec_status st = synth_make(o, &m, err);
    if (!st) st = bundle_build(&m.spec, out, out_len, err);
    synth_free(&m);
    return st;
}
