/*
 * cmd_add_items.c - `mdsrec add-items`: new items into a bundle without retraining, and
 * items retired from it (export/additems.h, export/bundle_edit.h). Everything is computed in
 * memory and the bundle is written atomically (temp file + rename): a failing run leaves
 * --out as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "data/keymap.h"
#include "export/additems.h"
#include "export/bundle_edit.h"
#include "export/export.h"
#include "parallel.h"
#include "train/gemm.h"
#include "train/load.h"

const char cmd_add_items_summary[] = "add new items to a bundle from their features (no retraining), or retire items";

/* Reads a file of keys, one a line ("\r" dropped, blank lines skipped), into km; a key twice is
   an error naming the line. 0, or -1 after cli_error. */
static int read_keys(const char *path, keymap *km) {
    size_t len;
    char *buf = (char *)cli_read_file(path, &len);
    if (!buf) return -1;
    uint32_t line = 0;
    int rc = 0;
    for (char *p = buf; *p && !rc;) {
        char *eol = strchr(p, '\n');
        size_t l = eol ? (size_t)(eol - p) : strlen(p);
        line++;
        if (l && p[l - 1] == '\r') l--;
        p[l] = 0;
        if (l > MDSREC_MAX_KEY_LEN) {
            cli_error("%s:%u: a key of %zu bytes (at most %d)", path, line, l, MDSREC_MAX_KEY_LEN);
            rc = -1;
        } else if (l) {
            int added = 0;
            if (keymap_add(km, p, &added) == UINT32_MAX) {
                cli_error("out of memory");
                rc = -1;
            } else if (!added) {
                cli_error("%s:%u: \"%s\" is listed twice (duplicate key)", path, line, p);
                rc = -1;
            }
        }
        if (!eol) break;
        p = eol + 1;
    }
    free(buf);
    return rc;
}

/* The new items of a directory: items.txt, features/NAME.{f32,json}, catalog.jsonl (optional). */
typedef struct {
    keymap items;               /* items.txt */
    uint32_t *pick;             /* the rows added, in items.txt order */
    uint32_t n;
    feature_matrix all[DS_MAX_FEATURES], sel[DS_MAX_FEATURES];
    uint32_t n_feat;
    char **keys;                /* n, pointing into items */
    cJSON **catalog;            /* n objects, or NULL without catalog.jsonl */
} new_dir;

static void new_dir_free(new_dir *nd) {
    for (uint32_t f = 0; f < nd->n_feat; f++) {
        feature_matrix_free(&nd->all[f]);
        free(nd->sel[f].x);
    }
    if (nd->catalog)
        for (uint32_t i = 0; i < nd->n; i++) cJSON_Delete(nd->catalog[i]);
    free(nd->catalog);
    free(nd->keys);
    free(nd->pick);
    keymap_free(&nd->items);
}

/* Reads dir's items (those of keys_file when given) with the features the model's channels
   use. 0, or -1 after cli_error. */
static int new_dir_load(const char *dir, const char *keys_file, const tm_spec *s, new_dir *nd) {
    memset(nd, 0, sizeof *nd);
    keymap_init(&nd->items);
    char *path = path_join(dir, "items.txt");
    int rc = path ? read_keys(path, &nd->items) : -1;
    if (!rc && !nd->items.n) {
        cli_error("%s: no item", path);
        rc = -1;
    }
    free(path);
    if (rc) return -1;
    nd->pick = malloc(nd->items.n * sizeof *nd->pick);
    if (!nd->pick) goto oom;
    if (keys_file) {
        keymap want;
        keymap_init(&want);
        if (read_keys(keys_file, &want)) {
            keymap_free(&want);
            return -1;
        }
        for (uint32_t i = 0; i < want.n; i++) {
            uint32_t r = keymap_find(&nd->items, keymap_key(&want, i));
            if (r == UINT32_MAX) {
                cli_error("%s: \"%s\" is not an item of %s/items.txt (unknown key)", keys_file, keymap_key(&want, i),
                          dir);
                keymap_free(&want);
                return -1;
            }
            nd->pick[nd->n++] = r;
        }
        keymap_free(&want);
    } else {
        for (uint32_t i = 0; i < nd->items.n; i++) nd->pick[nd->n++] = i;
    }
    nd->keys = malloc((nd->n + 1) * sizeof *nd->keys);
    if (!nd->keys) goto oom;
    for (uint32_t i = 0; i < nd->n; i++) nd->keys[i] = nd->items.keys[nd->pick[i]];
    /* every feature a channel projects, once */
    for (uint32_t c = 0; c < s->cfg.n_channels; c++)
        for (uint32_t j = 0; j < s->ch[c].n_feat; j++) {
            const char *name = s->ch[c].feat[j];
            int seen = 0;
            for (uint32_t f = 0; f < nd->n_feat; f++) seen |= !strcmp(nd->all[f].name, name);
            if (seen) continue;
            feature_matrix *m = &nd->all[nd->n_feat];
            if (prepared_load_feature(dir, name, nd->items.n, m)) return -1;
            nd->n_feat++;
            feature_matrix *o = &nd->sel[nd->n_feat - 1];
            *o = *m;
            o->rows = nd->n;
            o->missing = NULL;
            o->n_missing = 0;
            if (!(o->x = malloc(((size_t)nd->n * m->width + 1) * sizeof(float)))) goto oom;
            for (uint32_t i = 0; i < nd->n; i++)
                memcpy(o->x + (size_t)i * m->width, m->x + (size_t)nd->pick[i] * m->width, m->width * sizeof(float));
        }
    /* catalog.jsonl: line i is item i's object */
    path = path_join(dir, "catalog.jsonl");
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (f) {
        cJSON **rows = calloc(nd->items.n, sizeof *rows);
        nd->catalog = calloc(nd->n ? nd->n : 1, sizeof *nd->catalog);
        char *line = NULL;
        size_t cap = 0;
        uint32_t i = 0;
        ssize_t l;
        rc = !rows || !nd->catalog ? -1 : 0;
        while (!rc && (l = getline(&line, &cap, f)) > 0) {
            while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = 0;
            if (!l) continue;
            if (i == nd->items.n) {
                cli_error("%s: more lines than the %u items of items.txt", path, nd->items.n);
                rc = -1;
            } else if (!cJSON_IsObject(rows[i] = cJSON_Parse(line))) {
                cli_error("%s:%u: not a JSON object", path, i + 1);
                rc = -1;
            }
            i++;
        }
        if (!rc && i != nd->items.n) {
            cli_error("%s: %u lines for the %u items of items.txt", path, i, nd->items.n);
            rc = -1;
        }
        if (!rc)
            for (uint32_t q = 0; q < nd->n; q++) {
                nd->catalog[q] = rows[nd->pick[q]];
                rows[nd->pick[q]] = NULL;
            }
        for (uint32_t q = 0; rows && q < nd->items.n; q++) cJSON_Delete(rows[q]);
        free(rows);
        free(line);
        fclose(f);
    }
    free(path);
    return rc;
oom:
    cli_error("out of memory reading %s", dir);
    return -1;
}

static const char *const id_rule_names[] = {"centred", "regress", "scaled", "mean", "centre", "zero", NULL};

int cmd_add_items(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *bundle = NULL, *from = NULL, *keys = NULL, *retire = NULL, *out = NULL;
    uint32_t k = 10, threads = 0;
    int id_rule = 0, new_emb = 0;
    static const char *const new_emb_names[] = {"neighbours", "zero", NULL};
    const opt rows[] = {
        {"--out", OPT_STRING, &out, "FILE", .help = "the new bundle (written atomically)", .flags = OPT_REQUIRED,
         .alias = "-o"},
        {"--bundle", OPT_STRING, &bundle, "FILE", .help = "the bundle to add to", .def = "exported from --model"},
        {"--model", OPT_STRING, &model, "PATH", .help = "the trained run (a checkpoint or its directory): its\n"
                                                          "projections and graphs place the new items"},
        {"--data", OPT_STRING, &data, "DIR", .help = "the run's prepared directory", .def = "the one the checkpoint names"},
        {"--from", OPT_STRING, &from, "DIR",
         .help = "the new items: DIR/items.txt, DIR/features/NAME.{f32,json} for\n"
                 "each feature the model uses (the same featurizer and width as\n"
                 "training), DIR/catalog.jsonl (optional, one object a line)"},
        {"--keys", OPT_STRING, &keys, "FILE", .help = "add only these items of --from (one key a line)",
         .def = "all of them"},
        {"--retire", OPT_STRING, &retire, "KEYS",
         .help = "item keys to remove from the bundle, comma-separated: their rows,\n"
                 "keys, catalog entries and every neighbour entry naming them go"},
        {"--k", OPT_U32, &k, "K", .help = "content neighbours per new item and channel", .min = 1, .max = 1000},
        {"--id-row", OPT_CHOICE, &id_rule, .help = "how the new items' id rows are made: centred (their content\n"
                                                           "neighbours' id rows around the mean row), regress (from their\n"
                                                           "modality rows, fit on the bundle's items), ... (docs/ADD-ITEMS.md);\n"
                                                           "an id channel trained with the features (--id-features, the\n"
                                                           "default) gets its row from them instead",
         .names = id_rule_names, .def = "centred"},
        {"--new-emb", OPT_CHOICE, &new_emb,
         .help = "a new item's learned-embedding term in the channels that have one\n"
                 "besides the features: neighbours (its content neighbours' embeddings,\n"
                 "weighted) or zero (the features alone: what `train --emb-drop` trains)",
         .names = new_emb_names, .def = "neighbours"},
        {"--threads", OPT_U32, &threads, "N", .help = "worker threads", .min = 0, .max = PARALLEL_MAX_THREADS,
         .def = "every core"},
    };
    const opt_cmd cmd = {
        "add-items",
        .about = "Adds items the model never trained on to a bundle, from their features: each modality\n"
                 "channel's row is the trained projection of the item's features propagated over its\n"
                 "top-k content neighbours among the training items (as `mdsrec graph` and training do,\n"
                 "without behaviour), its neighbour lists are those neighbours, and its id row is made from\n"
                 "those neighbours' id rows (--id-row). The new items enter their neighbours' lists\n"
                 "where they beat the weakest entry.\n"
                 "Existing rows are unchanged. Retired items are removed.\n"
                 "The bundle format is unchanged.",
        .opts = rows,
        .n_opts = OPT_COUNT(rows),
    };
    int prc = opt_parse(&cmd, argc, argv);
    if (prc != OPT_PROCEED) return prc;
    if (!from && !retire) return opt_usage_error(&cmd, "nothing to do: give --from DIR and/or --retire KEYS");
    if (from && !model) return opt_usage_error(&cmd, "--from needs --model: the run's projections place new items");
    if (!bundle && !model) return opt_usage_error(&cmd, "give --bundle FILE or --model PATH (exported in memory)");
    if (keys && !from) return opt_usage_error(&cmd, "--keys needs --from");
    gemm_set_threads(parallel_threads(threads));

    double t0 = cli_now();
    int rc = CLI_EXIT_FAIL;
    loaded_model m;
    memset(&m, 0, sizeof m);
    edit_bundle b;
    memset(&b, 0, sizeof b);
    new_dir nd;
    memset(&nd, 0, sizeof nd);
    keymap_init(&nd.items);
    edit_append a;
    memset(&a, 0, sizeof a);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (model && load_model(model, data, &m)) goto done;
    double t_load = cli_now() - t0, t1 = cli_now();
    if (bundle) {
        if (!(buf = cli_read_file(bundle, &len))) goto done;
    } else {
        export_info info;
        if (export_bundle(m.st, m.params, &m.ds, &m.in, MDSREC_F32, 1, NULL, NULL, &buf, &len, &info)) goto done;
    }
    const char *what = bundle ? bundle : "the exported bundle";
    if (edit_bundle_read(buf, len, what, &b)) goto done;
    free(buf);
    buf = NULL;
    double t_read = cli_now() - t1;
    uint32_t n0 = b.cfg.n_items, retired = 0;
    uint64_t linked = 0;
    if (retire && edit_bundle_retire(&b, retire, &retired)) goto done;
    additems_params p = {.k = k, .id_rule = (additems_id_rule)id_rule, .emb_zero = new_emb == 1,
                         .threads = parallel_threads(threads)};
    if (from) {
        if (new_dir_load(from, keys, &m.st->spec, &nd)) goto done;
        keymap have;
        keymap_init(&have);
        int bad = 0;
        for (uint32_t i = 0; i < b.cfg.n_items && !bad; i++) bad = keymap_add(&have, b.keys[i], NULL) == UINT32_MAX;
        for (uint32_t i = 0; i < nd.n && !bad; i++)
            if (keymap_find(&have, nd.keys[i]) != UINT32_MAX) {
                cli_error("%s: \"%s\" is already an item of %s (duplicate key): retire it first to replace it", from,
                          nd.keys[i], what);
                bad = 1;
            }
        keymap_free(&have);
        if (bad) goto done;
        additems_input in = {.n = nd.n, .keys = nd.keys, .n_feat = nd.n_feat};
        for (uint32_t f = 0; f < nd.n_feat; f++) in.feat[f] = &nd.sel[f];
        if (additems_rows(&m, &b, &in, &p, &a)) goto done;
        a.catalog = nd.catalog;
        uint32_t first = b.cfg.n_items;
        if (edit_bundle_append(&b, &a) || edit_bundle_link_back(&b, first, k, &linked)) goto done;
    }
    t1 = cli_now();
    if (edit_bundle_build(&b, &buf, &len)) goto done;
    double t_build = cli_now() - t1;
    t1 = cli_now();
    if (cli_write_file(out, buf, len)) goto done;
    double t_write = cli_now() - t1;
    printf("%s: %u items (%u before, %u added, %u retired), %zu bytes in %.2f s", out, b.cfg.n_items, n0, nd.n,
           retired, len, cli_now() - t0);
    printf("\n  seconds: model %.2f, bundle read %.2f", t_load, t_read);
    if (from) printf(", neighbours %.2f, rows %.2f", p.seconds_knn, p.seconds_rows);
    printf(", bundle build %.2f, write %.2f\n", t_build, t_write);
    if (from)
        printf("  %llu entries of older items' neighbour lists now name a new item\n", (unsigned long long)linked);
    if (from && p.id_rule == ADDITEMS_ID_REGRESS)
        printf("  id rows: the regression from the modality rows (ridge %g)\n", p.id_ridge);
    for (uint32_t c = 0; from && c < b.cfg.n_channels; c++)
        if (p.without[c])
            printf("  channel %s: %u new items without a content neighbour (no feature, or none similar): their "
                   "row is the projection alone\n",
                   b.cfg.channels[c].name, p.without[c]);
    rc = CLI_EXIT_OK;
done:
    free(buf);
    additems_free(&a);
    new_dir_free(&nd);
    edit_bundle_free(&b);
    if (model) loaded_model_free(&m);
    return rc;
}
