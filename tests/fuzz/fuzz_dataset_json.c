/* fuzz_dataset_json.c - libFuzzer harness for the dataset description reader
   (dataset_desc_load_json, tools/data/source.c): any bytes as the JSON file. Whatever loads must
   be freed cleanly (LeakSanitizer) and hold consistent counts. */
#include <string.h>

#include "data/source.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dataset_desc d;
    dataset_desc_init(&d);
    if (dataset_desc_load_json(&d, fuzz_file(data, size, ".json")) == 0) {
        EXPECT(d.catalog.n_text <= DS_MAX_TEXT && d.catalog.n_display <= DS_MAX_DISPLAY);
        EXPECT(d.n_features <= DS_MAX_FEATURES);
        for (uint32_t i = 0; i < d.catalog.n_text; i++) EXPECT(d.catalog.text[i] != NULL);
        for (uint32_t i = 0; i < d.catalog.n_display; i++)
            EXPECT(d.catalog.display_name[i] && d.catalog.display_col[i]);
        for (uint32_t i = 0; i < d.n_features; i++) EXPECT(d.features[i].path != NULL);
    }
    dataset_desc_free(&d); /* also after a failure: a half-filled description must free cleanly */
    return 0;
}
