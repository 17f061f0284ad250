/* test_regress_data.c - inputs that once crashed the data tools, each at the level of the
   function that broke and end to end through `mdsrec` (exit status, never a signal). Each case
   names how it was found and what went wrong. Fixtures: tests/fixtures/data. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/interactions.h"
#include "data/matrix.h"
#include "data/table.h"
#include "test_data_helpers.h"

/* ---------------------------------------------------------------- a column requested twice */

/* Found by review of table_load while writing its fuzz harness: each requested column's field
   was moved out of the record, so a column requested twice (a display field naming the key
   column, two display fields over one column, a text field listed twice) got NULL the second
   time, and `mdsrec prepare --display title=name,label=name` died of a NULL dereference. */
static void column_twice(void) {
    static const table_format fmts[] = {TABLE_CSV, TABLE_JSONL, TABLE_ATOMIC};
    static const char *const files[] = {FX "catalog.csv", FX "catalog.jsonl", FX "catalog.item"};
    for (int f = 0; f < 3; f++) {
        table t;
        static const char *const keys[] = {"sku", "id", "item_id"}, *const names[] = {"name", "title", "title"};
        const char *cols[4] = {keys[f], names[f], names[f], keys[f]};
        int rc = table_load(&t, files[f], fmts[f], cols, 4);
        CHECK_MSG(rc == 0, "%s", files[f]);
        if (rc) continue;
        CHECK(t.nrows > 0);
        for (uint32_t r = 0; r < t.nrows; r++) {
            const char *a = table_cell(&t, r, 1), *b = table_cell(&t, r, 2);
            const char *k = table_cell(&t, r, 0), *k2 = table_cell(&t, r, 3);
            CHECK_MSG(a && b && !strcmp(a, b) && a != b, "%s row %u: name", files[f], r);
            CHECK_MSG(k && k2 && !strcmp(k, k2) && k != k2, "%s row %u: key", files[f], r);
        }
        table_free(&t);
    }

    /* end to end: display fields over one column, and over the key column */
    static const char *const displays[] = {"title=name,label=name", "id=sku,title=name"};
    for (int i = 0; i < 2; i++) {
        const char *D = td_dir("regress_column_twice");
        char out[1100];
        snprintf(out, sizeof out, "%s/p", D);
        int rc = td_run("prepare --out %s --inter " FX "shop.csv --user-col visitor --item-col product --time-col when"
                        " --catalog " FX "catalog.csv --key-col sku --display %s",
                        out, displays[i]);
        CHECK_MSG(rc == 0, "--display %s: exit %d: %s", displays[i], rc, td_err);
        char path[1200];
        snprintf(path, sizeof path, "%s/catalog.jsonl", out);
        size_t n = 0;
        char *text = (char *)td_read(path, &n);
        CHECK_MSG(text && strstr(text, i == 0 ? "\"label\":\"Crème Brûlée Mix\"" : "\"id\":\"sku-1\""), "%s",
                  text ? text : "(no catalog.jsonl)");
        free(text);
    }
}

/* ---------------------------------------------------------------- a time that is not finite */

/* Found by review of parse_time while writing fuzz_csv's contract check (times finite): it took
   strtod's "nan", "inf" and "-infinity" as times, and a NaN made the sort by time
   inconsistent, so `mdsrec prepare` wrote sequences in an arbitrary order without a word. */
static void time_not_finite(void) {
    static const char *const bad[] = {"nan", "NaN", "inf", "-inf", "infinity", "-nan(0x1)", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double t = 0;
        CHECK_MSG(parse_time(bad[i], &t) == -1, "parse_time(\"%s\") = %g", bad[i], t);
    }
    double t = 0;
    CHECK(parse_time("1700000000.5", &t) == 0 && t == 1700000000.5);
    CHECK(parse_time("-3", &t) == 0 && t == -3);
    CHECK(parse_time("1970-01-02", &t) == 0 && t == 86400);

    const char *D = td_dir("regress_time_nan");
    char csv[1100], out[1100];
    snprintf(csv, sizeof csv, "%s/inter.csv", D);
    snprintf(out, sizeof out, "%s/p", D);
    FILE *f = fopen(csv, "w");
    if (!f) return;
    fputs("user_id,item_id,timestamp\nu1,i1,5\nu1,i2,nan\nu1,i3,7\n", f);
    fclose(f);
    int rc = td_run("prepare --out %s --inter %s --time-col timestamp", out, csv);
    CHECK_MSG(rc == 1 && strstr(td_err, "inter.csv:3:") && strstr(td_err, "timestamp"), "exit %d: %s", rc, td_err);
    CHECK(!td_exists(out));
}

/* ---------------------------------------------------------------- .npy header ending at 'descr': */

/* Found by fuzz_npy in its first minute (tests/fuzz/corpus/npy/regress-descr-at-header-end.npy):
   when the header ends right after "'descr': ", the unsupported-dtype message looked for the
   closing quote from one byte past the header's terminating NUL, reading past its block (ASan:
   heap-buffer-overflow in strchr). */
static void npy_descr_at_end(void) {
    static const char hdr[] = "{'fortran_order': False, 'shape': (1, 1), 'descr': ";
    const char *D = td_dir("regress_npy");
    char path[1100];
    snprintf(path, sizeof path, "%s/cut.npy", D);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    uint16_t hlen = (uint16_t)(sizeof hdr - 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hlen & 0xFF, f), fputc(hlen >> 8, f);
    fwrite(hdr, 1, hlen, f);
    fwrite("\0\0\x80\x3f", 1, 4, f);
    fclose(f);
    raw_matrix m;
    CHECK(matrix_read_npy(path, &m) == -1 && m.x == NULL);
    /* and through the CLI, into a prepared directory: exit 1 naming the file and the field */
    char prep[1100];
    snprintf(prep, sizeof prep, "%s/p", D);
    int rc = td_run("prepare --out %s --inter " FX "shop.inter", prep);
    CHECK_MSG(rc == 0, "setup: %s", td_err);
    rc = td_run("featurize matrix --dir %s --name m --path %s --keys " FX "feat_keys.txt", prep, path);
    CHECK_MSG(rc == 1 && strstr(td_err, "cut.npy") && strstr(td_err, "descr"), "exit %d: %s", rc, td_err);
}

int main(void) {
    column_twice();
    npy_descr_at_end();
    time_not_finite();
    return check_done("test_regress_data");
}
