/* fuzz_tokenizer.c - libFuzzer harness for the text featurizer (tools/features/text.c): any
   bytes as item descriptions, one per line. text_tokenize must give tokens of 1..255 bytes of
   valid UTF-8 with no separator inside; text_featurize rows must be finite and either all
   zero or of unit length. */
#include <math.h>
#include <string.h>

#include "data/utf8.h"
#include "features/text.h"
#include "fuzz_util.h"

static void on_token(const char *tok, size_t len, void *ctx) {
    (void)ctx;
    EXPECT(len >= 1 && len <= 255);
    EXPECT(tok[len] == 0 && strlen(tok) == len);
    /* whole code points only (a long token is cut between two), each a word character */
    for (size_t at = 0; at < len;) {
        uint32_t cp;
        int n = utf8_decode((const uint8_t *)tok + at, len - at, &cp);
        EXPECT(n > 0 && utf8_is_word(cp));
        at += (size_t)(n > 0 ? n : 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    enum { MAX_DOCS = 8, WIDTH = 8 };
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    text_tokenize(text, on_token, NULL);

    /* the same bytes as up to MAX_DOCS documents, one per line (a NUL ends the last) */
    const char *docs[MAX_DOCS];
    uint32_t n = 0;
    for (char *p = text; p && n < MAX_DOCS;) {
        docs[n++] = p;
        p = strchr(p, '\n');
        if (p) *p++ = 0;
    }
    float out[MAX_DOCS * WIDTH];
    text_params tp = {WIDTH, size, 10, (int)(size & 1)};
    if (text_featurize(docs, n, &tp, out) == 0) {
        for (uint32_t i = 0; i < n; i++) {
            double norm = 0;
            for (uint32_t j = 0; j < WIDTH; j++) {
                EXPECT(isfinite(out[i * WIDTH + j]));
                norm += (double)out[i * WIDTH + j] * out[i * WIDTH + j];
            }
            EXPECT(norm == 0 || fabs(norm - 1) < 1e-3);
        }
    }
    free(text);
    return 0;
}
