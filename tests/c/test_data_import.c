/* test_data_import.c - the importers: table formats (atomic, CSV quoting, TSV, JSON Lines),
   times, sequences (stable sort, repeats, k-core, split), and `mdsrec prepare` on every
   interaction format, the JSON description and the catalog's display fields. */
#include <cjson/cJSON.h>
#include <string.h>

#include "check.h"
#include "test_data_helpers.h"

#include "data/source.h"
#include "data/interactions.h"
#include "data/prepared.h"
#include "data/sequences.h"
#include "data/table.h"
#include "data/utf8.h"

static void test_utf8(void) {
    uint32_t cp;
    CHECK(utf8_decode((const uint8_t *)"\xc3\xa9", 2, &cp) == 2 && cp == 0xE9);
    CHECK(utf8_decode((const uint8_t *)"\xe2\x82\xac", 3, &cp) == 3 && cp == 0x20AC);
    CHECK(utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1F600);
    CHECK(utf8_decode((const uint8_t *)"\xc0\xaf", 2, &cp) == 0);         /* overlong */
    CHECK(utf8_decode((const uint8_t *)"\xed\xa0\x80", 3, &cp) == 0);     /* surrogate */
    CHECK(utf8_decode((const uint8_t *)"\xc3", 1, &cp) == 0);             /* truncated */
    CHECK(utf8_decode((const uint8_t *)"\x80", 1, &cp) == 0);             /* stray continuation */
    CHECK(utf8_check((const uint8_t *)"ab\xc3\x28", 4) == 2);
    CHECK(utf8_check((const uint8_t *)"caf\xc3\xa9", 5) == 5);
    CHECK(utf8_lower('Q') == 'q');
    CHECK(utf8_lower(0xC9) == 0xE9);   /* É -> é */
    CHECK(utf8_lower(0xD7) == 0xD7);   /* the multiplication sign stays */
    CHECK(utf8_lower(0x141) == 0x142); /* Ł -> ł (odd-capital run) */
    CHECK(utf8_lower(0x160) == 0x161); /* Š -> š */
    CHECK(utf8_lower(0x178) == 0xFF);  /* Ÿ -> ÿ */
    CHECK(utf8_lower(0x416) == 0x436); /* Ж -> ж */
    CHECK(utf8_lower(0x3A3) == 0x3C3); /* Σ -> σ */
    CHECK(utf8_is_word('a') && utf8_is_word('7') && utf8_is_word(0xE9) && utf8_is_word(0x4E2D));
    CHECK(!utf8_is_word(' ') && !utf8_is_word('-') && !utf8_is_word(0xD7) && !utf8_is_word(0x2014) && !utf8_is_word(0xA0));
}

static void test_time(void) {
    double t;
    CHECK(parse_time("881250949", &t) == 0 && t == 881250949.0);
    CHECK(parse_time("1.5", &t) == 0 && t == 1.5);
    CHECK(parse_time("1970-01-02", &t) == 0 && t == 86400.0);
    CHECK(parse_time("2016-11-08", &t) == 0 && t == 1478563200.0);
    CHECK(parse_time("2024-01-01T01:40:00Z", &t) == 0 && t == 1704073200.0);
    CHECK(parse_time("2024-01-01 01:40", &t) == 0 && t == 1704073200.0);
    CHECK(parse_time("2024-01-01T01:40:00.25", &t) == 0 && t == 1704073200.25);
    CHECK(parse_time("yesterday", &t) != 0);
    CHECK(parse_time("2024-13-01", &t) != 0);
    CHECK(parse_time("", &t) != 0);
}

static void test_tables(void) {
    table t;
    const char *cols[] = {"visitor", "note", "when"};
    CHECK(table_load(&t, FX "shop.csv", TABLE_AUTO, cols, 3) == 0);
    CHECK(t.nrows == 14);
    CHECK(!strcmp(table_cell(&t, 0, 0), "u1"));
    CHECK(!strcmp(table_cell(&t, 0, 1), "big, red"));
    CHECK(!strcmp(table_cell(&t, 1, 1), "say \"hi\""));
    CHECK(!strcmp(table_cell(&t, 2, 1), "plain"));
    CHECK(!strcmp(table_cell(&t, 0, 2), "2024-01-01T01:40:00Z")); /* CRLF stripped */
    CHECK(t.line[0] == 2 && t.line[13] == 15);
    table_free(&t);

    const char *acols[] = {"item_id", "title", "price"};
    CHECK(table_load(&t, FX "catalog.item", TABLE_AUTO, acols, 3) == 0); /* atomic: "title:token_seq" */
    CHECK(t.nrows == 8);
    CHECK(!strcmp(table_cell(&t, 0, 1), "Crème Brûlée Mix"));
    CHECK(!strcmp(table_cell(&t, 7, 1), "")); /* empty field */
    table_free(&t);

    const char *jcols[] = {"id", "tags", "price", "absent"};
    CHECK(table_load(&t, FX "catalog.jsonl", TABLE_AUTO, jcols, 4) == 0);
    CHECK(t.nrows == 8);
    CHECK(!strcmp(table_cell(&t, 0, 1), "Dessert mix vanilla")); /* array joined */
    CHECK(!strcmp(table_cell(&t, 0, 2), "4.5"));                /* number printed */
    CHECK(!strcmp(table_cell(&t, 0, 3), ""));                   /* absent member */
    table_free(&t);

    const char *ccols[] = {"sku", "description"};
    CHECK(table_load(&t, FX "catalog.csv", TABLE_CSV, ccols, 2) == 0);
    CHECK(!strcmp(table_cell(&t, 0, 1), "Dessert mix, vanilla"));
    table_free(&t);

    /* A quoted field may hold a line break; the next row's line number accounts for it. */
    char path[1100];
    snprintf(path, sizeof path, "%s/multiline.csv", td_dir("data_import_ml"));
    FILE *f = fopen(path, "w");
    fputs("a,b\n\"x\ny\",1\nz,2\n", f);
    fclose(f);
    const char *mcols[] = {"a", "b"};
    CHECK(table_load(&t, path, TABLE_AUTO, mcols, 2) == 0);
    CHECK(t.nrows == 2 && !strcmp(table_cell(&t, 0, 0), "x\ny") && t.line[1] == 4);
    table_free(&t);
}

static void test_sequences(void) {
    interactions x;
    inter_source src = {FX "shop.inter", TABLE_AUTO, 0, NULL, NULL, "timestamp"};
    CHECK(interactions_load(&x, &src) == 0);
    CHECK(x.n == 14 && x.users.n == 4 && x.items.n == 6);
    seq_filters f = {0, 0, 3};
    dataset s;
    seq_stats st;
    CHECK(sequences_build(&s, &st, &x, &f) == 0);
    CHECK(s.n_users == 3 && s.n_items == 6 && st.dropped_short_users == 1);
    /* u1 has sku-3 and sku-4 both at time 300: file order decides (stable). */
    uint32_t u1[] = {0, 1, 2, 3}, u3[] = {0, 5, 5, 1};
    CHECK(ds_len(&s, 0) == 4 && !memcmp(s.seq + s.off[0], u1, sizeof u1));
    CHECK(ds_len(&s, 2) == 4 && !memcmp(s.seq + s.off[2], u3, sizeof u3));
    CHECK(ds_train_len(&s, 0) == 2);
    /* the split (MODEL.md 6): train on 0 1, validate on 2, test on 3 */
    CHECK(ds_history_len(&s, 0, DS_VALID) == 2 && ds_valid_target(&s, 0) == 2);
    CHECK(ds_history_len(&s, 0, DS_TEST) == 3 && ds_test_target(&s, 0) == 3);
    CHECK(!strcmp(s.item_keys[5], "sku-6") && !strcmp(s.user_keys[2], "u3"));
    dataset_free(&s);

    seq_filters dd = {0, 1, 3};
    CHECK(sequences_build(&s, &st, &x, &dd) == 0);
    CHECK(st.removed_repeats == 1 && ds_len(&s, 2) == 3);
    dataset_free(&s);

    /* 2-core: sku-4 and sku-5 (one interaction each) go; everything else has 2; then u4
       (2 items) is dropped as too short for the split. */
    seq_filters kc = {2, 0, 3};
    CHECK(sequences_build(&s, &st, &x, &kc) == 0);
    CHECK(s.n_users == 3 && s.n_items == 4 && st.removed_kcore == 2);
    uint32_t k3[] = {0, 3, 3, 1}; /* u3: sku-1 sku-6 sku-6 sku-2, sku-6 is now item 3 */
    CHECK(ds_len(&s, 2) == 4 && !memcmp(s.seq + s.off[2], k3, sizeof k3));
    dataset_free(&s);

    /* 3-core: removing u4 and then u3 leaves sku-1..3 with two interactions each, so the
       iteration removes everything: an error, not an empty set. */
    seq_filters k3c = {3, 0, 3};
    CHECK(sequences_build(&s, &st, &x, &k3c) != 0);
    seq_filters k9 = {9, 0, 3};
    CHECK(sequences_build(&s, &st, &x, &k9) != 0); /* nothing left: an error, not an empty set */
    interactions_free(&x);
}

/* prepare on each interaction format gives the same items.txt and sequences.tsv. */
static void test_prepare_formats(void) {
    const char *base = td_dir("data_import_formats");
    const char *runs[][2] = {
        {"atomic", "--inter " FX "shop.inter"},
        {"csv", "--inter " FX "shop.csv --user-col visitor --item-col product --time-col when"},
        {"tsv", "--inter " FX "shop.tsv --user-col user --item-col item --time-col ts"},
        {"jsonl", "--inter " FX "shop.jsonl --user-col u --item-col i --time-col t"},
        {"seq", "--inter " FX "shop_seq.txt --inter-format sequences"},
        {"history", "--inter " FX "shop_history.inter --inter-format sequences"}, /* RecBole header skipped */
    };
    char ref_items[1200], ref_seq[1200];
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        int rc = td_run("prepare --out '%s/%s' %s", base, runs[r][0], runs[r][1]);
        CHECK_MSG(rc == 0, "%s: rc %d: %s", runs[r][0], rc, td_err);
        char items[1200], seq[1200];
        snprintf(items, sizeof items, "%s/%s/items.txt", base, runs[r][0]);
        snprintf(seq, sizeof seq, "%s/%s/sequences.tsv", base, runs[r][0]);
        if (r == 0) {
            strcpy(ref_items, items);
            strcpy(ref_seq, seq);
            char *txt = (char *)td_read(seq, NULL);
            CHECK(txt && !strcmp(txt, "u1\t0 1 2 3\nu2\t2 0 1 4\nu3\t0 5 5 1\n"));
            free(txt);
            txt = (char *)td_read(items, NULL);
            CHECK(txt && !strcmp(txt, "sku-1\nsku-2\nsku-3\nsku-4\nsku-5\nsku-6\n"));
            free(txt);
        } else {
            CHECK_MSG(td_same_file(items, ref_items), "%s items.txt differs", runs[r][0]);
            CHECK_MSG(td_same_file(seq, ref_seq), "%s sequences.tsv differs", runs[r][0]);
        }
    }
    /* The summary: counts, lengths, split, filters. */
    char p[1200];
    snprintf(p, sizeof p, "%s/atomic/summary.json", base);
    char *txt = (char *)td_read(p, NULL);
    cJSON *s = txt ? cJSON_Parse(txt) : NULL;
    CHECK(s != NULL);
    if (s) {
        CHECK(cJSON_GetObjectItem(s, "users")->valueint == 3);
        CHECK(cJSON_GetObjectItem(s, "items")->valueint == 6);
        CHECK(cJSON_GetObjectItem(s, "interactions")->valueint == 12);
        cJSON *len = cJSON_GetObjectItem(s, "length");
        CHECK(cJSON_GetObjectItem(len, "min")->valueint == 4 && cJSON_GetObjectItem(len, "median")->valueint == 4);
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "split"), "train_interactions")->valueint == 6);
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "filters"), "dropped_short_users")->valueint == 1);
    }
    cJSON_Delete(s);
    free(txt);
    /* The summary is printed too. */
    CHECK(td_run("prepare --out '%s/again' --inter " FX "shop.inter --kcore 2 --dedup", base) == 0);
    CHECK(strstr(td_out, "2 users, 3 items") != NULL);
}

/* The JSON description: interactions, filters, catalog display fields, a feature matrix. */
static void test_prepare_json(void) {
    const char *dir = td_dir("data_import_json");
    int rc = td_run("prepare --out '%s/p' --dataset " FX "shop.json", dir);
    CHECK_MSG(rc == 0, "rc %d: %s", rc, td_err);
    char p[1200];
    snprintf(p, sizeof p, "%s/p/sequences.tsv", dir);
    char *txt = (char *)td_read(p, NULL);
    CHECK(txt && !strcmp(txt, "u1\t0 1 2 3\nu2\t2 0 1 4\nu3\t0 5 1\n")); /* dedup_consecutive */
    free(txt);
    snprintf(p, sizeof p, "%s/p/catalog.jsonl", dir);
    txt = (char *)td_read(p, NULL);
    CHECK(txt != NULL);
    if (txt) {
        /* line i = item i; the first catalog row of sku-1 wins over the repeated one; price a number */
        char *l2 = strchr(txt, '\n');
        CHECK(l2 && !strncmp(txt, "{\"title\":\"Crème Brûlée Mix\",\"price\":4.5,\"image\":\"p1.jpg\"}", (size_t)(l2 - txt)));
        int lines = 0;
        for (char *c = txt; *c; c++) lines += *c == '\n';
        CHECK(lines == 6);
        CHECK(strstr(txt, "\n{\"price\":2}\n") != NULL); /* sku-5: empty title left out */
    }
    free(txt);
    snprintf(p, sizeof p, "%s/p/features/vec.json", dir);
    txt = (char *)td_read(p, NULL);
    cJSON *m = txt ? cJSON_Parse(txt) : NULL;
    CHECK(m && cJSON_GetObjectItem(m, "width")->valueint == 4 && cJSON_GetArraySize(cJSON_GetObjectItem(m, "missing")) == 3);
    cJSON_Delete(m);
    free(txt);
    /* prepared_load reads back what prepare wrote. */
    snprintf(p, sizeof p, "%s/p", dir);
    dataset s;
    keymap items;
    CHECK(prepared_load(p, &s, &items) == 0);
    CHECK(s.n_users == 3 && s.n_items == 6 && keymap_find(&items, "sku-6") == 5 && ds_len(&s, 2) == 3);
    dataset_free(&s);
    keymap_free(&items);
}

/* The example description in docs/IMPORT.md is valid. */
static void test_doc_example(void) {
    char *doc = (char *)td_read("docs/IMPORT.md", NULL);
    CHECK(doc != NULL);
    if (!doc) return;
    char *a = strstr(doc, "```json\n"), *b = a ? strstr(a + 8, "```") : NULL;
    CHECK(a && b);
    if (a && b) {
        char path[1200];
        snprintf(path, sizeof path, "%s/import_example.json", td_dir("data_import_doc"));
        FILE *f = fopen(path, "w");
        fwrite(a + 8, 1, (size_t)(b - a - 8), f);
        fclose(f);
        dataset_desc d;
        dataset_desc_init(&d);
        CHECK(dataset_desc_load_json(&d, path) == 0);
        CHECK(d.inter.format == TABLE_CSV && !strcmp(d.inter.time, "Order Date"));
        CHECK(d.catalog.n_text == 3 && d.catalog.n_display == 4 && d.n_features == 2 && d.features[1].width == 64);
        CHECK(d.images.map_header == 1 && strstr(d.images.map, "photos/map.tsv"));
        dataset_desc_free(&d);
    }
    free(doc);
}

static void test_help(void) {
    CHECK(td_run("prepare --help") == 0 && strstr(td_out, "exit codes") != NULL);
    CHECK(td_run("featurize --help") == 0 && strstr(td_out, "exit codes") != NULL);
    CHECK(td_run("graph --help") == 0 && strstr(td_out, "exit codes") != NULL);
    CHECK(td_run("prepare") == 2);
    CHECK(td_run("featurize sound --dir x") == 2);
    CHECK(td_run("graph --k 0 --dir x") == 2);
}

int main(void) {
    test_utf8();
    test_time();
    test_tables();
    test_sequences();
    test_prepare_formats();
    test_prepare_json();
    test_doc_example();
    test_help();
    return check_done("test_data_import");
}
