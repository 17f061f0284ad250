/* test_data_errors.c - bad input to prepare, featurize and graph: each gives a message naming
   the file and the line, field or byte offset, exit status 1 (2 for usage), and leaves the
   prepared directory exactly as it was, with no temp file. */
#include <string.h>

#include "check.h"
#include "test_data_helpers.h"

static const char *D; /* a good prepared directory, rebuilt once */

/* Runs a command that must fail with `status`, a message holding every one of want[] and no
   change to D. */
static void expect_fail(int status, const char *const *want, const char *cmd) {
    int temps0, temps1;
    uint64_t before = td_fingerprint(D, &temps0);
    int rc = td_run("%s", cmd);
    uint64_t after = td_fingerprint(D, &temps1);
    CHECK_MSG(rc == status, "%s: exit %d, expected %d (%s)", cmd, rc, status, td_err);
    for (const char *const *w = want; *w; w++)
        CHECK_MSG(strstr(td_err, *w) != NULL, "%s: message lacks \"%s\": %s", cmd, *w, td_err);
    CHECK_MSG(before == after, "%s: the directory changed", cmd);
    CHECK_MSG(temps1 == 0, "%s: left %d temp files", cmd, temps1);
    /* one line, prefixed with the command */
    CHECK_MSG(!strncmp(td_err, "mdsrec ", 7), "%s: message %s", cmd, td_err);
}

#define FAIL1(cmd, ...)                                          \
    do {                                                         \
        const char *w_[] = {__VA_ARGS__, NULL};                  \
        expect_fail(1, w_, cmd);                                 \
    } while (0)

static char cmdbuf[4096];
static const char *cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *cmd(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmdbuf, sizeof cmdbuf, fmt, ap);
    va_end(ap);
    return cmdbuf;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static void test_prepare(void) {
    FAIL1(cmd("prepare --out %s --inter " FX "shop_ragged.csv --user-col visitor --item-col product --time-col when", D),
          "shop_ragged.csv:3", "expected 3 fields");
    FAIL1(cmd("prepare --out %s --inter " FX "shop_badutf8.tsv --user-col user --item-col item --time-col ts", D),
          "shop_badutf8.tsv:3", "invalid UTF-8", "byte offset 31");
    FAIL1(cmd("prepare --out %s --inter " FX "shop_badtime.tsv --user-col user --item-col item --time-col ts", D),
          "shop_badtime.tsv:3", "\"ts\"", "yesterday");
    FAIL1(cmd("prepare --out %s --inter " FX "no_such_file.inter", D), "no_such_file.inter", "cannot open");
    FAIL1(cmd("prepare --out %s --inter " FX "shop.csv --user-col visitr --item-col product", D), "shop.csv:1",
          "no column \"visitr\"");
    FAIL1(cmd("prepare --out %s --dataset " FX "shop_typo.json", D), "shop_typo.json", "interactions.usr");
    FAIL1(cmd("prepare --out %s --inter " FX "shop.inter --catalog " FX "catalog.item --display title=name", D),
          "catalog.item:1", "no column \"name\"");
    FAIL1(cmd("prepare --out %s --inter " FX "shop.inter --kcore 50", D), "no visitor is left");
    /* A feature matrix listed in the description is checked before anything is written. */
    char json[1200];
    snprintf(json, sizeof json, "%s/bad_feature.json", td_tmp());
    char text[4096];
    snprintf(text, sizeof text,
             "{\"interactions\": {\"path\": \"%s/" FX "shop.inter\"},\n"
             " \"features\": [{\"name\": \"vec\", \"path\": \"%s/" FX "feat.npy\", \"keys\": \"%s/" FX
             "feat_keys_unknown.txt\"}]}\n",
             td_cwd(), td_cwd(), td_cwd());
    write_text(json, text);
    FAIL1(cmd("prepare --out %s --dataset %s", D, json), "feat_keys_unknown.txt:2", "sku-9", "not an item");
    write_text(json, "{\"interactions\": {\"path\": 7}}");
    FAIL1(cmd("prepare --out %s --dataset %s", D, json), "bad_feature.json", "interactions.path", "non-empty string");
    write_text(json, "{\"interactions\": {\"path\": \"x\"},\n \"filters\": [1}");
    FAIL1(cmd("prepare --out %s --dataset %s", D, json), "bad_feature.json:2", "invalid JSON");
    /* usage errors: status 2 */
    const char *none[] = {NULL};
    expect_fail(2, none, cmd("prepare --out %s --inter " FX "shop.inter --kcore many", D));
    expect_fail(2, none, cmd("prepare --out %s --inter", D));
    /* A failed prepare into a new directory does not create it. */
    char fresh[1200];
    snprintf(fresh, sizeof fresh, "%s/never_made", td_tmp());
    CHECK(td_run("prepare --out %s --inter " FX "shop_ragged.csv --user-col visitor --item-col product", fresh) == 1);
    CHECK(!td_exists(fresh));
}

static void test_matrix(void) {
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat_badmagic.npy --keys " FX "feat_keys.txt", D),
          "feat_badmagic.npy", "byte offset 0", "magic");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat_f8.npy --keys " FX "feat_keys.txt", D),
          "feat_f8.npy", "'descr'", "'<f8'");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat.npy --keys " FX "feat_keys_short.txt", D),
          "feat_keys_short.txt", "2 keys", "3 rows", "shape mismatch");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat.npy --keys " FX "feat_keys_unknown.txt", D),
          "feat_keys_unknown.txt:2", "\"sku-9\"");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat_ragged.csv", D), "feat_ragged.csv:2",
          "expected 4 values");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat.f32 --keys " FX "feat_keys.txt --width 5", D),
          "feat.f32", "48 bytes");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat.npy --keys " FX "feat_keys.txt --width 5", D),
          "feat.npy", "width 5");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat_missing.npy --keys " FX "feat_keys.txt", D),
          "feat_missing.npy", "cannot open");
    char keys[1200];
    snprintf(keys, sizeof keys, "%s/keys_bad_utf8.txt", td_tmp());
    write_text(keys, "sku-3\nsku-\xff\nsku-2\n");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat.npy --keys %s", D, keys), "keys_bad_utf8.txt:2",
          "invalid UTF-8");
    char csv[1200];
    snprintf(csv, sizeof csv, "%s/feat_nan.csv", td_tmp());
    write_text(csv, "sku-3,1,0\nsku-1,abc,0\n");
    FAIL1(cmd("featurize matrix --dir %s --name m --path %s", D, csv), "feat_nan.csv:2", "field 2", "expected a number");
    const char *none[] = {NULL};
    expect_fail(2, none, cmd("featurize matrix --dir %s --path " FX "feat.csv", D));           /* no --name */
    expect_fail(2, none, cmd("featurize matrix --dir %s --name behaviour --path " FX "feat.csv", D));
    expect_fail(2, none, cmd("featurize matrix --dir %s --name m --path " FX "feat.csv --format xls", D));
}

static void test_image_text(void) {
    /* the map's header line read as a key */
    FAIL1(cmd("featurize image --dir %s --images " FX "images --image-map " FX "images/map.tsv", D), "map.tsv:1",
          "\"item\"", "not an item");
    char map[1200];
    snprintf(map, sizeof map, "%s/map_broken.tsv", td_tmp());
    write_text(map, "sku-1\tp1.jpg\nsku-2\tbroken.jpg\n");
    FAIL1(cmd("featurize image --dir %s --images " FX "images --image-map %s", D, map), "broken.jpg", "item 1",
          "cannot decode");
    write_text(map, "sku-1\tp1.jpg\nsku-2\tp9.jpg\n");
    FAIL1(cmd("featurize image --dir %s --images " FX "images --image-map %s", D, map), "map_broken.tsv:2",
          "p9.jpg does not exist");
    write_text(map, "sku-1\tp1.jpg\nsku-1\tp3.jpg\n");
    FAIL1(cmd("featurize image --dir %s --images " FX "images --image-map %s", D, map), "map_broken.tsv:2",
          "mapped twice");
    write_text(map, "sku-1 p1.jpg\n");
    FAIL1(cmd("featurize image --dir %s --images " FX "images --image-map %s", D, map), "map_broken.tsv:1",
          "key<TAB>file");
    FAIL1(cmd("featurize text --dir %s --catalog " FX "catalog.item --text-fields title,colour", D), "catalog.item:1",
          "no column \"colour\"");
    char cat[1200];
    snprintf(cat, sizeof cat, "%s/catalog_bad.jsonl", td_tmp());
    write_text(cat, "{\"item_id\": \"sku-1\", \"title\": \"ok\"}\n{\"item_id\": \"sku-2\", \"title\": \"caf\xe9\"}\n");
    FAIL1(cmd("featurize text --dir %s --catalog %s --text-fields title", D, cat), "catalog_bad.jsonl:2",
          "invalid UTF-8");
    write_text(cat, "{\"item_id\": \"sku-1\", \"title\": \"ok\"}\n[1, 2]\n");
    FAIL1(cmd("featurize text --dir %s --catalog %s --text-fields title", D, cat), "catalog_bad.jsonl:2",
          "JSON object");
    write_text(cat, "{\"item_id\": \"sku-1\", \"title\": \"ok\"\n");
    FAIL1(cmd("featurize text --dir %s --catalog %s --text-fields title", D, cat), "catalog_bad.jsonl:1",
          "parse error");
    /* no usable input (issue 18 item 2): an error that leaves D as it was, never a matrix of
       zero rows over the existing one */
    FAIL1(cmd("featurize image --dir %s --images %s/no_such_images", D, td_tmp()), "no_such_images",
          "No such file or directory", "left as it was");
    FAIL1(cmd("featurize image --dir %s --images " FX "catalog.item", D), "catalog.item", "not a directory");
    FAIL1(cmd("featurize image --dir %s --images " FX "images --pattern 'zz{}.png'", D), "no item has an image",
          "zz{}.png");
    FAIL1(cmd("featurize image --dir %s --name text --images " FX "images --pattern 'zz{}.png'", D),
          "features/text left as it was");
    char same[512];
    snprintf(same, sizeof same, "%.400s/same_images", td_tmp());
    snprintf(cmdbuf, sizeof cmdbuf, "rm -rf '%s' && mkdir -p '%s' && cp " FX "images/p1.jpg '%s/sku-1.jpg' && cp " FX
             "images/p1.jpg '%s/sku-2.jpg'", same, same, same, same);
    CHECK(system(cmdbuf) == 0);
    FAIL1(cmd("featurize image --dir %s --images %s", D, same), "same_images", "2 images found are all alike",
          "--no-center");
    write_text(cat, "{\"item_id\": \"other-1\", \"title\": \"a shirt\"}\n{\"item_id\": \"sku-2\", \"title\": \"\"}\n");
    FAIL1(cmd("featurize text --dir %s --catalog %s --text-fields title", D, cat), "catalog_bad.jsonl",
          "no item has text", "1 catalog rows matched");
    char keys[1200];
    snprintf(keys, sizeof keys, "%s/keys_none.txt", td_tmp());
    write_text(keys, "x-1\nx-2\nx-3\n");
    FAIL1(cmd("featurize matrix --dir %s --name m --path " FX "feat.npy --keys %s --allow-unknown", D, keys),
          "keys_none.txt", "no row's key is an item");
    char csv[1200];
    snprintf(csv, sizeof csv, "%s/feat_zero.csv", td_tmp());
    write_text(csv, "sku-1,0,0\nsku-2,0,0\n");
    FAIL1(cmd("featurize matrix --dir %s --name m --path %s", D, csv), "feat_zero.csv", "every row of an item is zero");
    /* a directory that was never prepared */
    FAIL1(cmd("featurize text --dir %s/nowhere --catalog " FX "catalog.item --text-fields title", td_tmp()),
          "nowhere/items.txt", "cannot open");
}

static void test_graph(void) {
    FAIL1(cmd("graph --dir %s --features nothing", D), "features/nothing.json", "cannot open");
    /* a feature left from another dataset: rows differ from items.txt */
    char p[1200];
    snprintf(p, sizeof p, "%s/features/stale.json", D);
    write_text(p, "{\"name\": \"stale\", \"kind\": \"feature\", \"width\": 2, \"rows\": 9, \"missing\": [], \"source\": \"\"}\n");
    snprintf(p, sizeof p, "%s/features/stale.f32", D);
    write_text(p, "0123456701234567012345670123456701234567012345670123456701234567012345670");
    FAIL1(cmd("graph --dir %s", D), "stale.json", "\"rows\"", "9 rows", "6 items");
    snprintf(p, sizeof p, "%s/features/stale.json", D);
    write_text(p, "{\"name\": \"stale\", \"kind\": \"feature\", \"width\": 2, \"rows\": 6, \"missing\": [], \"source\": \"\"}\n");
    FAIL1(cmd("graph --dir %s", D), "stale.f32", "73 bytes", "48 bytes");
    /* an all-zero matrix (left by an older tool) is refused, not turned into an empty graph */
    snprintf(p, sizeof p, "%s/features/stale.f32", D);
    FILE *zf = fopen(p, "wb");
    for (int i = 0; i < 48; i++) fputc(0, zf);
    fclose(zf);
    FAIL1(cmd("graph --dir %s", D), "stale.f32", "every row is zero", "--features");
    snprintf(p, sizeof p, "%s/features/stale.json", D);
    remove(p);
    snprintf(p, sizeof p, "%s/features/stale.f32", D);
    remove(p);
    snprintf(p, sizeof p, "%s/sequences.tsv", D);
    char *keep = (char *)td_read(p, NULL);
    write_text(p, "u1\t0 1 2\nu2\t0 9 1\n");
    FAIL1(cmd("graph --dir %s", D), "sequences.tsv:2", "item 2", "below 6");
    write_text(p, "u1\t0 1\n");
    FAIL1(cmd("graph --dir %s", D), "sequences.tsv:1", "at least 3");
    /* one reader for every command (tools/data/prepared.h): train and eval refuse it too */
    FAIL1(cmd("eval --baseline pop --data %s", D), "sequences.tsv:1", "at least 3");
    FAIL1(cmd("train --data %s --out %s/short --epochs 1", D, td_tmp()), "sequences.tsv:1", "at least 3");
    write_text(p, keep);
    free(keep);
    const char *none[] = {NULL};
    expect_fail(2, none, cmd("graph --dir %s --beta -1", D));
    expect_fail(2, none, cmd("graph --dir %s --window x", D));
    expect_fail(2, none, cmd("graph"));
}

int main(void) {
    D = td_dir("data_errors_prepared");
    int rc = td_run("prepare --out %s --dataset " FX "shop.json", D);
    CHECK_MSG(rc == 0, "setup: %s", td_err);
    rc = td_run("featurize text --dir %s --dataset " FX "shop.json", D);
    CHECK_MSG(rc == 0, "setup: %s", td_err);
    rc = td_run("graph --dir %s", D);
    CHECK_MSG(rc == 0, "setup: %s", td_err);
    test_prepare();
    test_matrix();
    test_image_text();
    test_graph();
    return check_done("test_data_errors");
}
