/* test_regress_data.c - inputs that once crashed the data tools, each at the level of the
   function that broke and end to end through `mdsrec` (exit status, never a signal). Each case
   names how it was found and what went wrong. Fixtures: tests/fixtures/data. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
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

int main(void) {
    column_twice();
    return check_done("test_regress_data");
}
