/*
 * cmd_prepare.c - `mdsrec prepare`: a store's interaction log (and optionally its catalog
 * and precomputed feature matrices) -> the prepared directory of docs/DATASET.md.
 *
 * Everything is read, checked and computed in memory first; files are written only when
 * all inputs were good, each atomically, so bad input leaves the directory as it was.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "data/catalog.h"
#include "data/source.h"
#include "data/interactions.h"
#include "data/matrix.h"
#include "data/prepared.h"
#include "data/sequences.h"

const char cmd_prepare_summary[] = "interactions (+ catalog, feature matrices) -> a prepared dataset directory";

/* --inter-format: the table formats, then "sequences" (one visitor per line). */
#define INTER_SEQUENCES (TABLE_JSONL + 1)
static const char *inter_format_name(int v) {
    return v == INTER_SEQUENCES ? "sequences" : opt_table_format_enum.name(v);
}
static int inter_format_value(const char *s) {
    return !strcmp(s, "sequences") ? INTER_SEQUENCES : opt_table_format_enum.value(s);
}
static const opt_enum inter_format_enum = {inter_format_name, inter_format_value};

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static cJSON *summary_json(const dataset *s, const seq_stats *st, const dataset_desc *d, const seq_filters *f) {
    cJSON *o = cJSON_CreateObject();
    uint64_t total = s->off[s->n_users], mn = UINT64_MAX, mx = 0, train = 0;
    uint64_t *lens = malloc(s->n_users * sizeof *lens);
    for (uint32_t u = 0; u < s->n_users; u++) {
        uint64_t l = ds_len(s, u);
        train += ds_train_len(s, u);
        if (lens) lens[u] = l;
        mn = l < mn ? l : mn;
        mx = l > mx ? l : mx;
    }
    double median = 0;
    if (lens) {
        qsort(lens, s->n_users, sizeof *lens, cmp_u64);
        median = s->n_users % 2 ? (double)lens[s->n_users / 2]
                                : 0.5 * (double)(lens[s->n_users / 2 - 1] + lens[s->n_users / 2]);
        free(lens);
    }
    cJSON_AddNumberToObject(o, "users", s->n_users);
    cJSON_AddNumberToObject(o, "items", s->n_items);
    cJSON_AddNumberToObject(o, "interactions", (double)total);
    cJSON *len = cJSON_AddObjectToObject(o, "length");
    cJSON_AddNumberToObject(len, "min", (double)mn);
    cJSON_AddNumberToObject(len, "max", (double)mx);
    cJSON_AddNumberToObject(len, "mean", (double)total / s->n_users);
    cJSON_AddNumberToObject(len, "median", median);
    cJSON *split = cJSON_AddObjectToObject(o, "split");
    cJSON_AddNumberToObject(split, "train_interactions", (double)train);
    cJSON_AddNumberToObject(split, "validation_targets", s->n_users);
    cJSON_AddNumberToObject(split, "test_targets", s->n_users);
    cJSON *in = cJSON_AddObjectToObject(o, "input");
    cJSON_AddStringToObject(in, "interactions", d->inter.path);
    cJSON_AddNumberToObject(in, "rows", (double)st->raw_interactions);
    cJSON_AddNumberToObject(in, "users", st->raw_users);
    cJSON_AddNumberToObject(in, "items", st->raw_items);
    cJSON *fl = cJSON_AddObjectToObject(o, "filters");
    cJSON_AddNumberToObject(fl, "kcore", f->kcore);
    cJSON_AddBoolToObject(fl, "dedup_consecutive", f->dedup);
    cJSON_AddNumberToObject(fl, "min_length", f->min_len);
    cJSON_AddNumberToObject(fl, "removed_repeats", (double)st->removed_repeats);
    cJSON_AddNumberToObject(fl, "removed_by_kcore", (double)st->removed_kcore);
    cJSON_AddNumberToObject(fl, "dropped_short_users", st->dropped_short_users);
    cJSON_AddObjectToObject(o, "missing");
    return o;
}

int cmd_prepare(int argc, char **argv) {
    dataset_desc d;
    dataset_desc_init(&d);
    const char *out = NULL, *json = NULL;
    int rc = CLI_EXIT_USAGE, dedup_flag = 0;
    uint32_t kcore = 0;
    int have_kcore = 0;
    /* Flags are collected first and applied after the JSON file, so they override it. */
    const char *inter = NULL, *ucol = NULL, *icol = NULL, *tcol = NULL;
    const char *cat = NULL, *kcol = NULL, *disp = NULL;
    int ifmt = -1, cfmt = -1; /* -1: not given */
    const opt rows[] = {
        {"--dataset", OPT_STRING, &json, "FILE.json", .help = "dataset description (docs/IMPORT.md)"},
        {"--out", OPT_STRING, &out, "DIR", .help = "the prepared directory (created if absent)", .flags = OPT_REQUIRED},
        {"--inter", OPT_STRING, &inter, "PATH", .help = "interaction file"},
        {"--inter-format", OPT_CHOICE, &ifmt, "F", .help = "auto (by extension), atomic, tsv, csv, jsonl, sequences",
         .lookup = &inter_format_enum, .def = "auto"},
        {"--user-col", OPT_STRING, &ucol, "C", .help = "user column", .def = "user_id"},
        {"--item-col", OPT_STRING, &icol, "C", .help = "item column", .def = "item_id"},
        {"--time-col", OPT_STRING, &tcol, "C", .help = "time column (number or ISO 8601 date)",
         .def = "the file order; atomic files: timestamp"},
        {"--catalog", OPT_STRING, &cat, "PATH", .help = "catalog file, for the display fields"},
        {"--catalog-format", OPT_CHOICE, &cfmt, .help = "the catalog's format", .lookup = &opt_table_format_enum,
         .def = "auto"},
        {"--key-col", OPT_STRING, &kcol, "C", .help = "the catalog's item key column", .def = "item_id"},
        {"--display", OPT_STRING, &disp, "LIST", .help = "display fields, NAME=COLUMN,... (e.g. title=name,price=price)"},
        {"--kcore", OPT_U32, &kcore, "K", .help = "iterated k-core filter on users and items", .given = &have_kcore,
         .def = "off"},
        {"--dedup", OPT_FLAG, &dedup_flag, .help = "remove consecutive repeats of an item"},
    };
    const opt_cmd cmd = {
        "prepare",
        .usage = "--out DIR [--dataset FILE.json] [options]",
        .about = "Reads a store's interactions, builds one time-ordered sequence per visitor, applies the\n"
                 "filters and writes DIR/items.txt, sequences.tsv, summary.json, and catalog.jsonl and\n"
                 "features/ when the description has a catalog with display fields or feature matrices\n"
                 "(docs/DATASET.md, docs/IMPORT.md). Flags override the JSON description.",
        .opts = rows,
        .n_opts = OPT_COUNT(rows),
    };
    int prc = opt_parse(&cmd, argc, argv);
    if (prc != OPT_PROCEED) {
        dataset_desc_free(&d);
        return prc;
    }
    rc = CLI_EXIT_FAIL;
    if (json && dataset_desc_load_json(&d, json) != 0) goto done;
    rc = CLI_EXIT_USAGE;
    if (inter) ds_set(&d.inter.path, inter);
    if (ifmt >= 0) {
        d.inter.sequences = ifmt == INTER_SEQUENCES;
        if (!d.inter.sequences) d.inter.format = (table_format)ifmt;
    }
    if (ucol) ds_set(&d.inter.user, ucol);
    if (icol) ds_set(&d.inter.item, icol);
    if (tcol) ds_set(&d.inter.time, tcol);
    if (cat) ds_set(&d.catalog.path, cat);
    if (cfmt >= 0) d.catalog.format = (table_format)cfmt;
    if (kcol) ds_set(&d.catalog.key, kcol);
    if (disp && ds_set_display_fields(&d, disp) != 0) goto usage_fail;
    if (have_kcore) d.kcore = kcore;
    if (dedup_flag) d.dedup = 1;
    if (!d.inter.path) {
        cli_error("no interactions: give --inter PATH or a --dataset with \"interactions\"");
        goto usage_fail;
    }
    /* A RecBole .inter names its time column "timestamp"; elsewhere the order of the file is
       the time order unless a column is named. */
    if (!d.inter.time && !d.inter.sequences &&
        (d.inter.format == TABLE_ATOMIC || (d.inter.format == TABLE_AUTO && table_format_guess(d.inter.path) == TABLE_ATOMIC)))
        ds_set(&d.inter.time, "timestamp");

    rc = CLI_EXIT_FAIL;
    double t0 = cli_now();
    interactions x;
    inter_source src = {d.inter.path, d.inter.format, d.inter.sequences, d.inter.user, d.inter.item, d.inter.time};
    if (interactions_load(&x, &src) != 0) goto done;
    seq_filters f = {d.kcore, d.dedup, 3};
    dataset s;
    seq_stats st;
    int built = sequences_build(&s, &st, &x, &f);
    interactions_free(&x);
    if (built != 0) goto done;

    keymap items;
    keymap_init(&items);
    for (uint32_t i = 0; i < s.n_items; i++) keymap_add(&items, s.item_keys[i], NULL);
    char *catalog_text = NULL;
    uint32_t catalog_missing = 0;
    feature_matrix fm[DS_MAX_FEATURES];
    uint32_t n_fm = 0;
    cJSON *sum = NULL;
    if (d.catalog.path && d.catalog.n_display &&
        !(catalog_text = catalog_display_jsonl(&d.catalog, &items, &catalog_missing)))
        goto cleanup;
    for (; n_fm < d.n_features; n_fm++)
        if (matrix_import(&d.features[n_fm], &items, &fm[n_fm]) != 0) goto cleanup;

    /* All inputs are good: write. */
    sum = summary_json(&s, &st, &d, &f);
    if (catalog_text) cJSON_AddNumberToObject(cJSON_GetObjectItem(sum, "missing"), "catalog", catalog_missing);
    char *path = NULL;
    if (ensure_dir(out) != 0 || prepared_write_sequences(out, &s) != 0) goto cleanup;
    if (!(path = path_join(out, "summary.json")) || write_json_file(path, sum) != 0) {
        free(path);
        goto cleanup;
    }
    free(path);
    if (catalog_text) {
        path = path_join(out, "catalog.jsonl");
        int w = path ? cli_write_file(path, catalog_text, strlen(catalog_text)) : -1;
        free(path);
        if (w != 0) goto cleanup;
    }
    for (uint32_t k = 0; k < n_fm; k++)
        if (prepared_write_feature(out, &fm[k]) != 0) goto cleanup;

    printf("prepared %s in %.2fs: %u users, %u items, %llu interactions (input: %llu rows, %u users, %u items)\n", out,
           cli_now() - t0, s.n_users, s.n_items, (unsigned long long)s.off[s.n_users],
           (unsigned long long)st.raw_interactions, st.raw_users, st.raw_items);
    const cJSON *len = cJSON_GetObjectItem(sum, "length");
    printf("  sequence length: min %g, median %g, mean %.1f, max %g\n", cJSON_GetObjectItem(len, "min")->valuedouble,
           cJSON_GetObjectItem(len, "median")->valuedouble, cJSON_GetObjectItem(len, "mean")->valuedouble,
           cJSON_GetObjectItem(len, "max")->valuedouble);
    printf("  filters: kcore %u, dedup %s; removed %llu repeats, %llu by k-core, %u users shorter than 3\n", f.kcore,
           f.dedup ? "on" : "off", (unsigned long long)st.removed_repeats, (unsigned long long)st.removed_kcore,
           st.dropped_short_users);
    if (catalog_text) printf("  catalog.jsonl: %u items without a catalog row\n", catalog_missing);
    for (uint32_t k = 0; k < n_fm; k++)
        printf("  features/%s: width %u, %u items missing\n", fm[k].name, fm[k].width, fm[k].n_missing);
    rc = CLI_EXIT_OK;
cleanup:
    cJSON_Delete(sum);
    for (uint32_t k = 0; k < n_fm; k++) feature_matrix_free(&fm[k]);
    free(catalog_text);
    keymap_free(&items);
    dataset_free(&s);
    goto done;
usage_fail:
    rc = CLI_EXIT_USAGE;
done:
    dataset_desc_free(&d);
    return rc;
}
