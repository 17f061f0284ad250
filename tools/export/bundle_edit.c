/* bundle_edit.c - a bundle as an editable copy, retire, append, rebuild (bundle_edit.h). */
#include "export/bundle_edit.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export/catalog_gz.h"
#include "src/bundle.h"
#include "src/half.h"

static float *copy_floats(const float *x, size_t n) {
    float *y = malloc((n ? n : 1) * sizeof(float));
    if (y && n) memcpy(y, x, n * sizeof(float));
    return y;
}

/* Row i of channel c's item matrix as f32, whatever the dtype and layout. */
static void decode_row(const bundle_view *v, uint32_t c, size_t i, float *out) {
    const mdsrec_config *cfg = &v->cfg;
    const bundle_channel *ch = &v->ch[c];
    for (size_t j = 0; j < cfg->dim; j++) {
        size_t o = bundle_item_offset(cfg, i, j);
        if (cfg->item_dtype == MDSREC_F32)
            out[j] = ((const float *)ch->items)[o];
        else if (cfg->item_dtype == MDSREC_F16)
            out[j] = half_to_float(((const uint16_t *)ch->items)[o]);
        else if (cfg->item_dtype == MDSREC_PQ) /* the code's centroid (the rebuild trains anew) */
            out[j] = ch->pq_codebook[((j / (cfg->dim / cfg->pq_m)) * BUNDLE_PQ_K +
                                      ((const uint8_t *)ch->items)[i * cfg->pq_m + j / (cfg->dim / cfg->pq_m)])
                                     * (cfg->dim / cfg->pq_m) + j % (cfg->dim / cfg->pq_m)];
        else
            out[j] = ch->scales[i] * (float)((const int8_t *)ch->items)[o];
    }
}

int edit_bundle_read(const uint8_t *buf, size_t len, const char *what, edit_bundle *b) {
    memset(b, 0, sizeof *b);
    bundle_view v;
    mdsrec_error err;
    if (bundle_read(buf, len, &v, &err) != MDSREC_OK) {
        cli_error("%s: %s", what, err.message);
        return -1;
    }
    const mdsrec_config *cfg = &v.cfg;
    size_t N = cfg->n_items, d = cfg->dim, C = cfg->n_channels;
    b->cfg = *cfg; /* the rebuild keeps the item and weight dtypes */
    /* compact weights (format v2): decoded here, as mdsrec_open does */
    float *decoded = NULL;
    if (cfg->weight_dtype != MDSREC_WEIGHTS_F32 && !(decoded = bundle_weights_decode_all(&v))) goto oom;
    b->keys = calloc(N, sizeof *b->keys);
    b->popularity = malloc(N * sizeof(uint32_t));
    b->gate = copy_floats(v.gate, C * C * d + C);
    if (!b->keys || !b->popularity || !b->gate) goto oom;
    for (size_t i = 0; i < N; i++) {
        size_t l = v.key_offsets[i + 1] - v.key_offsets[i];
        if (!(b->keys[i] = malloc(l + 1))) goto oom;
        memcpy(b->keys[i], v.key_bytes + v.key_offsets[i], l);
        b->keys[i][l] = 0;
    }
    memcpy(b->popularity, v.popularity, N * sizeof(uint32_t));
    b->nb_compact = 1;
    for (uint32_t c = 0; c < C; c++) {
        const bundle_channel *ch = &v.ch[c];
        b->pos[c] = copy_floats(ch->pos, (size_t)cfg->max_len * d);
        b->encoder[c] = copy_floats(ch->encoder, bundle_encoder_floats(cfg, c));
        if (ch->pool) b->pool[c] = copy_floats(ch->pool, bundle_pool_floats(cfg));
        b->items[c] = malloc(N * d * sizeof(float));
        if (!b->pos[c] || !b->encoder[c] || (ch->pool && !b->pool[c]) || !b->items[c]) goto oom;
        for (size_t i = 0; i < N; i++) decode_row(&v, c, i, b->items[c] + i * d);
        if (!ch->nb_kind) continue;
        b->nb_compact = ch->nb_kind == SEC_NEIGHBOURS_K ? 1 : ch->nb_kind == SEC_NEIGHBOURS_B ? 2 : 0;
        if (b->nb_compact && ch->nb_k > b->nb_keep) b->nb_keep = ch->nb_k;
        if (b->nb_compact == 2) b->nb_weight_bits = ch->nb_wbits;
        uint64_t total = bundle_nb_total(ch, (uint32_t)N);
        if (csr_alloc(&b->nb[c], (uint32_t)N, (uint32_t)total)) goto oom;
        uint32_t e = 0;
        for (uint32_t i = 0; i < N; i++) {
            uint32_t cnt = bundle_nb_count(ch, i);
            for (uint32_t r = 0; r < cnt; r++, e++) b->nb[c].col[e] = bundle_nb_get(ch, i, r, &b->nb[c].w[e]);
            b->nb[c].row_ptr[i + 1] = e;
        }
    }
    free(decoded); /* copied */
    decoded = NULL;
    b->coclick_beta = v.coclick_beta, b->coclick_decay = v.coclick_decay;
    b->coclick_channel = v.coclick_channel, b->coclick_max_hist = v.coclick_max_hist;
    b->repeat_weight = v.repeat_weight;
    char *json = NULL;
    size_t json_len = 0;
    if (catalog_of_view(&v, what, &json, &json_len)) {
        edit_bundle_free(b);
        return -1;
    }
    if (json) {
        b->catalog_gzip = v.catalog_gz != NULL;
        b->catalog = cJSON_ParseWithLength(json, json_len);
        free(json);
        if (!cJSON_IsArray(b->catalog) || (size_t)cJSON_GetArraySize(b->catalog) != N) {
            /* the core hands the catalog over unparsed; an edit must keep it in item order */
            cli_error("%s: its catalog is not a JSON array of %zu objects: cannot edit it", what, N);
            edit_bundle_free(b);
            return -1;
        }
    }
    return 0;
oom:
    free(decoded);
    cli_error("%s: out of memory", what);
    edit_bundle_free(b);
    return -1;
}

uint32_t edit_bundle_find(const edit_bundle *b, const char *key) {
    for (uint32_t i = 0; i < b->cfg.n_items; i++)
        if (!strcmp(b->keys[i], key)) return i;
    return UINT32_MAX;
}

int edit_bundle_retire(edit_bundle *b, const char *list, uint32_t *removed) {
    uint32_t N = b->cfg.n_items, d = b->cfg.dim;
    *removed = 0;
    uint32_t *map = calloc(N, sizeof *map); /* 1 = retire, then the new index or UINT32_MAX */
    if (!map) {
        cli_error("out of memory");
        return -1;
    }
    size_t l;
    for (const char *p = list, *item; (item = cli_list_next(&p, &l));) {
        if (!l) continue;
        char key[MDSREC_MAX_KEY_LEN + 2];
        snprintf(key, sizeof key, "%.*s", (int)(l < sizeof key - 1 ? l : sizeof key - 1), item);
        uint32_t i = edit_bundle_find(b, key);
        if (i == UINT32_MAX || map[i]) {
            cli_error("--retire: \"%s\" %s", key, i == UINT32_MAX ? "is not an item of the bundle" : "is named twice");
            free(map);
            return -1;
        }
        map[i] = 1;
        ++*removed;
    }
    if (*removed == N) {
        cli_error("--retire: every item of the bundle would go; a bundle needs at least one");
        free(map);
        return -1;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < N; i++) map[i] = map[i] ? UINT32_MAX : n++;
    for (uint32_t i = 0; i < N; i++) {
        if (map[i] == UINT32_MAX) {
            free(b->keys[i]);
            continue;
        }
        b->keys[map[i]] = b->keys[i];
        for (uint32_t c = 0; c < b->cfg.n_channels; c++)
            memmove(b->items[c] + (size_t)map[i] * d, b->items[c] + (size_t)i * d, d * sizeof(float));
    }
    for (uint32_t c = 0; c < b->cfg.n_channels; c++) {
        csr *m = &b->nb[c];
        if (!m->n_rows) continue;
        /* in place: row_ptr[r + 1] is rewritten before row i + 1 is read, so each row's start
           is the previous row's end as it was read, not row_ptr[i] */
        uint32_t e = 0, r = 0, lo = m->row_ptr[0];
        for (uint32_t i = 0; i < N; i++) {
            uint32_t hi = m->row_ptr[i + 1];
            if (map[i] != UINT32_MAX) {
                for (uint32_t q = lo; q < hi; q++)
                    if (map[m->col[q]] != UINT32_MAX) {
                        m->col[e] = map[m->col[q]];
                        m->w[e++] = m->w[q];
                    }
                m->row_ptr[++r] = e;
            }
            lo = hi;
        }
        m->n_rows = n;
        m->nnz = e;
    }
    uint32_t q = 0;
    for (uint32_t i = 0; i < N; i++)
        if (map[b->popularity[i]] != UINT32_MAX) b->popularity[q++] = map[b->popularity[i]];
    if (b->catalog)
        for (uint32_t i = N; i-- > 0;)
            if (map[i] == UINT32_MAX) cJSON_DeleteItemFromArray(b->catalog, (int)i);
    b->cfg.n_items = n;
    free(map);
    return 0;
}

int edit_bundle_append(edit_bundle *b, edit_append *a) {
    size_t N = b->cfg.n_items, n = a->n, d = b->cfg.dim, T = N + n;
    char **keys = realloc(b->keys, T * sizeof *keys);
    if (!keys) goto oom;
    b->keys = keys;
    uint32_t *pop = realloc(b->popularity, T * sizeof *pop);
    if (!pop) goto oom;
    b->popularity = pop;
    for (uint32_t c = 0; c < b->cfg.n_channels; c++) {
        float *rows = realloc(b->items[c], T * d * sizeof(float));
        if (!rows) goto oom;
        b->items[c] = rows;
    }
    for (uint32_t c = 0; c < b->cfg.n_channels; c++) {
        csr *m = &b->nb[c], *x = &a->nb[c];
        if (!m->n_rows && !x->n_rows) continue;
        uint32_t add = x->n_rows ? x->nnz : 0, nnz = m->nnz + add;
        uint32_t *rp = realloc(m->row_ptr, (T + 1) * sizeof *rp);
        if (rp) m->row_ptr = rp;
        uint32_t *col = rp ? realloc(m->col, (nnz ? nnz : 1) * sizeof *col) : NULL;
        if (col) m->col = col;
        float *w = col ? realloc(m->w, (nnz ? nnz : 1) * sizeof *w) : NULL;
        if (!w) goto oom;
        m->w = w;
        if (!m->n_rows) memset(m->row_ptr, 0, (N + 1) * sizeof *rp); /* a channel without lists gets empty rows */
        for (size_t i = 0; i < n; i++) {
            uint32_t lo = x->n_rows ? x->row_ptr[i] : 0, hi = x->n_rows ? x->row_ptr[i + 1] : 0;
            if (hi > lo) { /* x->col is NULL for a channel without new lists (memcpy's NULL is UB) */
                memcpy(m->col + m->row_ptr[N + i], x->col + lo, (hi - lo) * sizeof *col);
                memcpy(m->w + m->row_ptr[N + i], x->w + lo, (hi - lo) * sizeof *w);
            }
            m->row_ptr[N + i + 1] = m->row_ptr[N + i] + (hi - lo);
        }
        m->n_rows = (uint32_t)T;
        m->nnz = nnz;
    }
    /* nothing can fail past here but the keys and catalog objects */
    for (size_t i = 0; i < n; i++) {
        if (!(b->keys[N + i] = strdup(a->keys[i]))) goto oom_keys;
        b->popularity[N + i] = (uint32_t)(N + i);
        for (uint32_t c = 0; c < b->cfg.n_channels; c++)
            memcpy(b->items[c] + (N + i) * d, a->rows[c] + i * d, d * sizeof(float));
        if (b->catalog) {
            cJSON *o = a->catalog && a->catalog[i] ? a->catalog[i] : cJSON_CreateObject();
            if (a->catalog) a->catalog[i] = NULL;
            if (o && !a->catalog) cJSON_AddStringToObject(o, "id", a->keys[i]);
            if (!o || !cJSON_AddItemToArray(b->catalog, o)) goto oom_keys;
        }
        b->cfg.n_items = (uint32_t)(N + i + 1);
    }
    return 0;
oom_keys:
    cli_error("out of memory appending %zu items", n);
    return -1;
oom:
    cli_error("out of memory appending %zu items", n);
    return -1;
}

int edit_bundle_build(const edit_bundle *b, uint8_t **out, size_t *len) {
    bundle_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.cfg = b->cfg;
    spec.keys = (const char *const *)b->keys;
    spec.gate = b->gate;
    spec.popularity = b->popularity;
    spec.nb_compact = b->nb_compact;
    spec.nb_keep = b->nb_keep;
    spec.nb_weight_bits = b->nb_weight_bits;
    spec.coclick_beta = b->coclick_beta, spec.coclick_decay = b->coclick_decay;
    spec.coclick_channel = b->coclick_channel, spec.coclick_max_hist = b->coclick_max_hist;
    spec.repeat_weight = b->repeat_weight;
    char *catalog = NULL;
    if (b->catalog) {
        if (!(catalog = cJSON_PrintUnformatted(b->catalog))) {
            cli_error("out of memory printing the catalog");
            return -1;
        }
        spec.catalog_len = strlen(catalog);
        /* written back in the form it came in */
        if (b->catalog_gzip && catalog_gzip_owned(&catalog, &spec.catalog_len)) {
            free(catalog);
            return -1;
        }
        spec.catalog = catalog;
        spec.catalog_gzip = b->catalog_gzip;
    }
    for (uint32_t c = 0; c < b->cfg.n_channels; c++) {
        bundle_channel_spec *cs = &spec.ch[c];
        cs->items = b->items[c];
        cs->pos = b->pos[c];
        cs->encoder = b->encoder[c];
        cs->pool = b->pool[c];
        if (b->nb[c].n_rows) {
            cs->nb_row = b->nb[c].row_ptr;
            cs->nb_index = b->nb[c].col;
            cs->nb_weight = b->nb[c].w;
        }
    }
    mdsrec_error err;
    mdsrec_status st = bundle_build(&spec, out, len, &err);
    free(catalog);
    if (st != MDSREC_OK) {
        cli_error("building the bundle: %s", err.message);
        return -1;
    }
    return 0;
}

void edit_bundle_free(edit_bundle *b) {
    if (b->keys)
        for (uint32_t i = 0; i < b->cfg.n_items; i++) free(b->keys[i]);
    free(b->keys);
    free(b->popularity);
    free(b->gate);
    for (int c = 0; c < MDSREC_MAX_CHANNELS; c++) {
        free(b->items[c]);
        free(b->pos[c]);
        free(b->encoder[c]);
        free(b->pool[c]);
        csr_free(&b->nb[c]);
    }
    cJSON_Delete(b->catalog);
    memset(b, 0, sizeof *b);
}
