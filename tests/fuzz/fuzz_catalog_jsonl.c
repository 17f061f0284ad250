/* fuzz_catalog_jsonl.c - libFuzzer harness for the catalog importer (tools/data/catalog.c) on
   a JSON Lines catalog: any bytes as the catalog of a few known items, turned into
   catalog.jsonl's display lines. The output must be one JSON object per item, in item order,
   holding only the display fields. */
#include <cjson/cJSON.h>
#include <string.h>

#include "data/catalog.h"
#include "data/keymap.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const keys[] = {"sku-1", "sku-2", "3", "é"};
    keymap items;
    keymap_init(&items);
    for (size_t i = 0; i < 4; i++)
        if (keymap_add(&items, keys[i], NULL) == UINT32_MAX) abort();

    ds_catalog d;
    memset(&d, 0, sizeof d);
    d.path = (char *)fuzz_file(data, size, ".jsonl");
    d.format = TABLE_JSONL;
    d.key = "id";
    /* the price parser, a column shown twice and the key column shown */
    char *names[] = {"title", "price", "tags", "label", "id"}, *cols[] = {"title", "price", "tags", "title", "id"};
    for (int i = 0; i < 5; i++) d.display_name[i] = names[i], d.display_col[i] = cols[i];
    d.n_display = 5;

    uint32_t missing = 0;
    char *text = catalog_display_jsonl(&d, &items, &missing);
    if (text) {
        EXPECT(missing <= items.n);
        uint32_t lines = 0;
        for (char *p = text; *p; lines++) {
            char *nl = strchr(p, '\n');
            EXPECT(nl != NULL); /* every line ends in a newline */
            *nl = 0;
            cJSON *o = cJSON_Parse(p);
            EXPECT(o && cJSON_IsObject(o));
            const cJSON *f;
            cJSON_ArrayForEach(f, o) {
                int known = 0;
                for (int i = 0; i < 5; i++) known |= !strcmp(f->string, names[i]);
                EXPECT(known);
            }
            cJSON_Delete(o);
            p = nl + 1;
        }
        EXPECT(lines == items.n);
        free(text);
    }
    keymap_free(&items);
    return 0;
}
