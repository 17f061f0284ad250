/*
 * test_features_attributes.c - the attribute featurizer (tools/features/attributes.h): JSON
 * lists with numbers and strings, unknown and repeated keys, bad elements, repeated
 * attributes, catalogue cells split at separators, the min_count columns and the IDF weights.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "features/attributes.h"
#include "test_data_helpers.h"

static const char *write_tmp(const char *dir, const char *name, const char *text) {
    static char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static void items_of(keymap *m, int n) {
    keymap_init(m);
    char k[16];
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%d", i + 1);
        keymap_add(m, k, NULL);
    }
}

static double idf(uint32_t n, uint32_t df) { return log((1.0 + n) / (1.0 + df)) + 1.0; }

int main(void) {
    const char *dir = td_dir("attributes");
    keymap items;
    items_of(&items, 4); /* keys "1".."4" */

    /* numbers and strings, an item without a key (3), a repeated attribute (item 2) */
    attr_lists l;
    const char *p = write_tmp(dir, "a.json", "{\"1\": [7, 8], \"2\": [8, \"red\", 8], \"4\": [7]}");
    CHECK(attr_lists_from_json(&l, p, &items, 0) == 0);
    CHECK(l.n_items == 4 && l.vocab.n == 3 && l.repeated == 1 && l.unknown == 0);
    CHECK(l.off[1] - l.off[0] == 2 && l.off[2] - l.off[1] == 2 && l.off[3] == l.off[2] && l.off[4] - l.off[3] == 1);
    CHECK(!strcmp(keymap_key(&l.vocab, l.attr[0]), "7") && !strcmp(keymap_key(&l.vocab, l.attr[3]), "red"));

    /* min_count 2 keeps "7" and "8" (two items each), not "red" */
    uint32_t *cols, width, empty;
    CHECK(attr_columns(&l, 2, &cols, &width) == 0 && width == 2);
    float x[4 * 2];
    CHECK(attr_fill(&l, cols, width, x, &empty) == 0);
    CHECK(empty == 1); /* item 3 */
    CHECK_CLOSE(x[0], idf(4, 2), 1e-6);
    CHECK_CLOSE(x[1], idf(4, 2), 1e-6);
    CHECK(x[2] == 0 && x[3] > 0);                   /* item 2: "8" only among the columns */
    CHECK(x[4] == 0 && x[5] == 0);                  /* item 3: nothing */
    CHECK(x[6] > 0 && x[7] == 0);                   /* item 4: "7" */
    free(cols);
    /* every attribute kept with min_count 1; none with 3 is an error */
    CHECK(attr_columns(&l, 1, &cols, &width) == 0 && width == 3);
    free(cols);
    CHECK(attr_columns(&l, 3, &cols, &width) == -1 && cols == NULL);
    attr_lists_free(&l);

    /* a key that is not an item: an error naming it, or skipped when allowed */
    p = write_tmp(dir, "b.json", "{\"1\": [1], \"99\": [2]}");
    CHECK(attr_lists_from_json(&l, p, &items, 0) == -1);
    CHECK(attr_lists_from_json(&l, p, &items, 1) == 0 && l.unknown == 1 && l.vocab.n == 1);
    attr_lists_free(&l);

    /* wrong shapes */
    const char *bad[] = {"[1, 2]", "{\"1\": 5}", "{\"1\": [1.5]}", "{\"1\": [\"\"]}", "{\"1\": [null]}",
                         "{\"1\": [1], \"1\": [2]}", "{\"1\": [1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = write_tmp(dir, "c.json", bad[i]);
        CHECK_MSG(attr_lists_from_json(&l, p, &items, 1) == -1, "accepted %s", bad[i]);
    }
    char missing[1100];
    snprintf(missing, sizeof missing, "%s/none.json", dir);
    CHECK(attr_lists_from_json(&l, missing, &items, 0) == -1);

    /* catalogue cells: separators, blanks and empty tags */
    const char *cells[4] = {"Drama|Comedy", " Drama | | Thriller ", NULL, "Comedy,Drama"};
    CHECK(attr_lists_from_cells(&l, cells, 4, "|,") == 0);
    CHECK(l.vocab.n == 3 && l.off[4] == 6 && l.off[3] == l.off[2]);
    CHECK(keymap_find(&l.vocab, "Thriller") != UINT32_MAX && keymap_find(&l.vocab, " Drama ") == UINT32_MAX);
    CHECK(attr_columns(&l, 2, &cols, &width) == 0 && width == 2); /* Drama (3 items), Comedy (2) */
    float y[4 * 2];
    CHECK(attr_fill(&l, cols, width, y, &empty) == 0 && empty == 1);
    /* the rarer attribute weighs more */
    uint32_t drama = keymap_find(&l.vocab, "Drama"), jd = cols[0] == drama ? 0 : 1;
    CHECK(y[jd] > 0 && y[1 - jd] > y[jd]);
    free(cols);
    attr_lists_free(&l);
    keymap_free(&items);
    return check_done("test_features_attributes");
}
