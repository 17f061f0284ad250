/* export.c - trained model -> bundle (export.h). */
#include "export.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/bundle.h"
#include "cli.h"
#include "export/catalog_gz.h"
#include "train/step.h"

/* Popularity order: training counts, most first; ties by lower index (a stable order). */
static const uint32_t *pop_counts;
static int cmp_pop(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (pop_counts[x] != pop_counts[y]) return pop_counts[x] > pop_counts[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* catalog.jsonl (one object a line, item order) -> "[obj,obj,...]"; NULL if absent or if its
   line count is not N (then a warning says why). */
static char *read_catalog(const char *dir, uint32_t n, size_t *len) {
    char path[1100];
    snprintf(path, sizeof path, "%s/catalog.jsonl", dir);
    struct stat sb;
    if (stat(path, &sb) != 0) return NULL;
    size_t flen;
    char *buf = (char *)cli_read_file(path, &flen);
    if (!buf) return NULL;
    char *out = malloc(flen + 3);
    if (!out) {
        free(buf);
        return NULL;
    }
    size_t o = 0, lines = 0;
    out[o++] = '[';
    for (char *p = buf; *p;) {
        char *eol = strchr(p, '\n');
        size_t l = eol ? (size_t)(eol - p) : strlen(p);
        if (l && p[l - 1] == '\r') l--;
        if (l) {
            if (lines) out[o++] = ',';
            memcpy(out + o, p, l);
            o += l;
            lines++;
        }
        if (!eol) break;
        p = eol + 1;
    }
    out[o++] = ']';
    free(buf);
    if (lines != n) {
        fprintf(stderr, "mdsrec %s: %s has %zu lines for %u items: catalog left out\n", cli_command, path, lines, n);
        free(out);
        return NULL;
    }
    *len = o;
    return out;
}

/* Sorts each row strongest first (the format's order), in place. */
static void sort_rows(csr *m) {
    for (uint32_t r = 0; r < m->n_rows; r++)
        for (uint32_t i = m->row_ptr[r] + 1; i < m->row_ptr[r + 1]; i++) {
            float w = m->w[i];
            uint32_t c = m->col[i], j = i;
            while (j > m->row_ptr[r] && m->w[j - 1] < w) {
                m->w[j] = m->w[j - 1];
                m->col[j] = m->col[j - 1];
                j--;
            }
            m->w[j] = w;
            m->col[j] = c;
        }
}

int export_bundle(const train_state *st, const float *params, const dataset *ds, const tm_inputs *in,
                  uint32_t dtype, int with_extras, const export_neighbours *nbo, const export_compact *cx,
                  uint8_t **out, size_t *len, export_info *info) {
    const tm_spec *s = &st->spec;
    size_t N = s->cfg.n_items, d = s->cfg.dim, C = s->cfg.n_channels;
    memset(info, 0, sizeof *info);
    float *H = malloc(C * N * d * sizeof(float)), *Hcat = malloc(C * N * d * sizeof(float));
    float *scratch = malloc(2 * N * d * sizeof(float));
    uint32_t *counts = malloc(N * sizeof(uint32_t)), *order = malloc(N * sizeof(uint32_t));
    csr nb[MDSREC_MAX_CHANNELS];
    memset(nb, 0, sizeof nb);
    char *catalog = NULL;
    size_t catalog_len = 0;
    int rc = -1;
    if (!H || !Hcat || !scratch || !counts || !order) {
        cli_error("export: out of memory");
        goto out;
    }
    step_items(s, in, params, H, Hcat, scratch);

    dataset_train_counts(ds, counts);
    for (uint32_t i = 0; i < N; i++) order[i] = i;
    pop_counts = counts;
    qsort(order, N, sizeof *order, cmp_pop);

    bundle_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.cfg = s->cfg;
    spec.cfg.item_dtype = dtype;
    /* f32 rows in panels: the scoring pass streams them (models/FORMAT.md, "Item layout") */
    spec.cfg.item_layout = dtype == MDSREC_F32 ? MDSREC_LAYOUT_PANEL16 : MDSREC_LAYOUT_ROWS;
    /* pq: the writer trains the codebook from these f32 rows (src/pq.c) */
    spec.cfg.pq_m = dtype != MDSREC_PQ ? 0 : cx && cx->pq_m ? cx->pq_m : (uint32_t)(d % 4 ? d : d / 4);
    spec.cfg.weight_dtype = cx ? cx->weights : MDSREC_WEIGHTS_F32;
    spec.keys = (const char *const *)ds->item_keys;
    spec.gate = params + s->o_gate;
    spec.popularity = order;
    spec.nb_compact = nbo ? nbo->compact : 1;
    spec.nb_keep = nbo ? nbo->keep : 0;
    spec.nb_weight_bits = nbo ? nbo->weight_bits : 0;
    for (uint32_t k = 0; k < C; k++) {
        const tm_channel *ch = &s->ch[k];
        bundle_channel_spec *cs = &spec.ch[k];
        cs->items = H + (size_t)k * N * d;
        cs->pos = params + ch->o_pos;
        cs->encoder = params + ch->o_enc;
        cs->pool = s->cfg.pool_mode ? params + ch->o_pool : NULL;
        if (!with_extras || ds->text_format) continue;
        /* neighbours: the id channel's are the behaviour graph's */
        char path[1200];
        const char *gd = st->graph_dir[0] ? st->graph_dir : NULL;
        const char *name = s->cfg.channels[k].kind == MDSREC_CHANNEL_ID ? "behaviour" : s->cfg.channels[k].name;
        if (gd)
            snprintf(path, sizeof path, "%s/%s.knn.csr", gd, name);
        else
            snprintf(path, sizeof path, "%s/graph/%s.knn.csr", st->data, name);
        struct stat sb;
        if (stat(path, &sb) != 0) {
            fprintf(stderr, "mdsrec %s: %s not found: channel %s has no neighbour list\n", cli_command, path,
                    s->cfg.channels[k].name);
            continue;
        }
        if (csr_read_rows(path, (uint32_t)N, &nb[k])) goto out;
        sort_rows(&nb[k]);
        cs->nb_row = nb[k].row_ptr;
        cs->nb_index = nb[k].col;
        cs->nb_weight = nb[k].w;
        info->neighbours++;
    }
    /* the co-click term (eval/coclick.h) reads the behaviour graph: the id channel's lists */
    for (uint32_t k = 0; with_extras && st->coclick_beta > 0 && k < C && !spec.coclick_beta; k++)
        if (s->cfg.channels[k].kind == MDSREC_CHANNEL_ID && spec.ch[k].nb_row) {
            spec.coclick_beta = st->coclick_beta;
            spec.coclick_decay = st->coclick_decay;
            spec.coclick_channel = k;
            spec.coclick_max_hist = s->cfg.max_len;
        }
    if (with_extras && st->coclick_beta > 0 && !spec.coclick_beta)
        fprintf(stderr, "mdsrec %s: the co-click term needs the id channel's neighbour lists (behaviour.knn.csr): "
                "the bundle ranks without it\n", cli_command);
    info->coclick_beta = spec.coclick_beta;
    /* the repeat term (eval/coclick.h) needs nothing but its weight */
    if (with_extras) spec.repeat_weight = st->repeat_weight;
    info->repeat_weight = spec.repeat_weight;
    if (with_extras && !ds->text_format) {
        catalog = read_catalog(st->data, (uint32_t)N, &catalog_len);
        if (catalog && cx && cx->catalog_gzip) {
            info->catalog_json_bytes = catalog_len;
            if (catalog_gzip_owned(&catalog, &catalog_len)) goto out;
            spec.catalog_gzip = 1;
        }
        spec.catalog = catalog;
        spec.catalog_len = catalog_len;
        info->catalog = catalog != NULL;
        info->catalog_bytes = catalog_len;
    }
    mdsrec_error err;
    if (bundle_build(&spec, out, len, &err) != MDSREC_OK) {
        cli_error("export: %s", err.message);
        goto out;
    }
    rc = 0;
out:
    for (uint32_t k = 0; k < MDSREC_MAX_CHANNELS; k++) csr_free(&nb[k]);
    free(catalog);
    free(H);
    free(Hcat);
    free(scratch);
    free(counts);
    free(order);
    return rc;
}
