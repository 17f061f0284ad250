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
#include "data/args.h"
#include "data/catalog.h"
#include "data/source.h"
#include "data/interactions.h"
#include "data/matrix.h"
#include "data/prepared.h"
#include "data/sequences.h"

const char cmd_prepare_summary[] = "interactions (+ catalog, feature matrices) -> a prepared dataset directory";

static void usage(FILE *to) {
    fprintf(to,
            "usage: mdsrec prepare --out DIR [--dataset FILE.json] [options]\n"
            "\n"
            "Reads a store's interactions, builds one time-ordered sequence per visitor, applies the\n"
            "filters and writes DIR/items.txt, sequences.tsv, summary.json, and catalog.jsonl and\n"
            "features/ when the description has a catalog with display fields or feature matrices\n"
            "(docs/DATASET.md, docs/IMPORT.md). Flags override the JSON description.\n"
            "\n"
            "  --dataset FILE.json    dataset description (docs/IMPORT.md)\n"
            "  --out DIR              the prepared directory (created if absent)\n"
            "  --inter PATH           interaction file\n"
            "  --inter-format F       auto (by extension), atomic, tsv, csv, jsonl, sequences\n"
            "  --user-col C           user column (default user_id)\n"
            "  --item-col C           item column (default item_id)\n"
            "  --time-col C           time column (number or ISO 8601 date); none: file order\n"
            "  --catalog PATH         catalog file, for the display fields\n"
            "  --catalog-format F     auto, atomic, tsv, csv, jsonl\n"
            "  --key-col C            the catalog's item key column (default item_id)\n"
            "  --display LIST         display fields, NAME=COLUMN,... (e.g. title=name,price=price)\n"
            "  --kcore K              iterated k-core filter on users and items (default off)\n"
            "  --dedup                remove consecutive repeats of an item\n"
            "\n"
            "exit codes: 0 success, 1 bad input or failure (the message names the file and line\n"
            "or field), 2 usage error\n");
}

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
    int rc = CLI_EXIT_USAGE, miss = 0, dedup_flag = 0;
    uint32_t kcore = 0;
    int have_kcore = 0;
    /* Flags are collected first and applied after the JSON file, so they override it. */
    const char *inter = NULL, *ifmt = NULL, *ucol = NULL, *icol = NULL, *tcol = NULL;
    const char *cat = NULL, *cfmt = NULL, *kcol = NULL, *disp = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (arg_flag(argv, i, "help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            dataset_desc_free(&d);
            return CLI_EXIT_OK;
        } else if ((v = arg_value(argc, argv, &i, "out", &miss))) {
            out = v;
        } else if ((v = arg_value(argc, argv, &i, "dataset", &miss))) {
            json = v;
        } else if ((v = arg_value(argc, argv, &i, "inter", &miss))) {
            inter = v;
        } else if ((v = arg_value(argc, argv, &i, "inter-format", &miss))) {
            ifmt = v;
        } else if ((v = arg_value(argc, argv, &i, "user-col", &miss))) {
            ucol = v;
        } else if ((v = arg_value(argc, argv, &i, "item-col", &miss))) {
            icol = v;
        } else if ((v = arg_value(argc, argv, &i, "time-col", &miss))) {
            tcol = v;
        } else if ((v = arg_value(argc, argv, &i, "catalog", &miss))) {
            cat = v;
        } else if ((v = arg_value(argc, argv, &i, "catalog-format", &miss))) {
            cfmt = v;
        } else if ((v = arg_value(argc, argv, &i, "key-col", &miss))) {
            kcol = v;
        } else if ((v = arg_value(argc, argv, &i, "display", &miss))) {
            disp = v;
        } else if ((v = arg_value(argc, argv, &i, "kcore", &miss))) {
            if (cli_parse_u32(v, &kcore) != 0) {
                cli_error("--kcore: expected a non-negative integer, found \"%s\"", v);
                goto usage_fail;
            }
            have_kcore = 1;
        } else if (arg_flag(argv, i, "dedup")) {
            dedup_flag = 1;
        } else {
            if (!miss) cli_error("unknown option \"%s\" (see mdsrec prepare --help)", argv[i]);
            goto usage_fail;
        }
        if (miss) goto usage_fail;
    }
    if (!out) {
        cli_error("--out DIR is required (see mdsrec prepare --help)");
        goto usage_fail;
    }
    rc = CLI_EXIT_FAIL;
    if (json && dataset_desc_load_json(&d, json) != 0) goto done;
    rc = CLI_EXIT_USAGE;
    if (inter) ds_set(&d.inter.path, inter);
    if (ifmt) {
        d.inter.sequences = !strcmp(ifmt, "sequences");
        if (!d.inter.sequences && table_format_parse(ifmt, &d.inter.format) != 0) {
            cli_error("--inter-format: expected auto, atomic, tsv, csv, jsonl or sequences, found \"%s\"", ifmt);
            goto usage_fail;
        }
    }
    if (ucol) ds_set(&d.inter.user, ucol);
    if (icol) ds_set(&d.inter.item, icol);
    if (tcol) ds_set(&d.inter.time, tcol);
    if (cat) ds_set(&d.catalog.path, cat);
    if (cfmt && table_format_parse(cfmt, &d.catalog.format) != 0) {
        cli_error("--catalog-format: expected auto, atomic, tsv, csv or jsonl, found \"%s\"", cfmt);
        goto usage_fail;
    }
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
