/*
 * table_harness.h - the body of the table importer harnesses (fuzz_csv.c, fuzz_tsv.c,
 * fuzz_atomic.c, fuzz_jsonl.c), each of which defines TABLE_FMT and includes this file.
 *
 * Any bytes as a store's interaction file: table_load with the columns user_id, item_id,
 * timestamp (and item_id again: a column may be requested twice), then interactions_load,
 * which adds the key checks and the time parser; for TSV also the "user item item ..."
 * sequence format. Whatever loads must have the counts it claims, non-NULL cells, line
 * numbers that grow, finite times and keys with no tab or line break.
 */
#include <math.h>
#include <string.h>

#include "data/interactions.h"
#include "data/table.h"
#include "fuzz_util.h"

#ifndef TABLE_FMT
#error "define TABLE_FMT before including table_harness.h"
#endif

static void check_interactions(const interactions *x) {
    EXPECT(x->n >= 1);
    for (uint64_t r = 0; r < x->n; r++) {
        EXPECT(x->user[r] < x->users.n && x->item[r] < x->items.n);
        EXPECT(isfinite(x->time[r]));
    }
    for (uint32_t i = 0; i < x->items.n; i++) {
        const char *k = keymap_key(&x->items, i);
        EXPECT(k && *k && !strpbrk(k, "\t\n\r"));
        EXPECT(keymap_find(&x->items, k) == i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size, ".txt");
    static const char *const cols[4] = {"user_id", "item_id", "timestamp", "item_id"};
    table t;
    if (table_load(&t, path, TABLE_FMT, cols, 4) == 0) {
        EXPECT(t.ncols == 4 && (t.nrows == 0 || (t.cells && t.line)));
        for (uint32_t r = 0; r < t.nrows; r++) {
            for (uint32_t c = 0; c < 4; c++) EXPECT(table_cell(&t, r, c) != NULL);
            EXPECT(!strcmp(table_cell(&t, r, 1), table_cell(&t, r, 3)));
            EXPECT(t.line[r] >= 1 && (r == 0 || t.line[r] > t.line[r - 1]));
        }
        table_free(&t);
    } else {
        EXPECT(t.cells == NULL && t.nrows == 0);
    }

    interactions x;
    inter_source src = {path, TABLE_FMT, 0, NULL, NULL, "timestamp"};
    if (interactions_load(&x, &src) == 0) {
        check_interactions(&x);
        interactions_free(&x);
    }
    if (TABLE_FMT == TABLE_TSV) {
        src.sequences = 1;
        if (interactions_load(&x, &src) == 0) {
            check_interactions(&x);
            interactions_free(&x);
        }
    }
    return 0;
}
