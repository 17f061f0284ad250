/* test_features_text.c - the tokenizer (UTF-8, case folding, splitting), the hashed TF-IDF
   projection (unit norm, determinism, seed, similarity order, empty text) and
   `mdsrec featurize text` on the atomic, CSV and JSON Lines catalogs. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "test_data_helpers.h"

#include "features/text.h"

typedef struct {
    char toks[32][64];
    int n;
} tokbuf;

static void collect(const char *tok, size_t len, void *ctx) {
    tokbuf *b = ctx;
    if (b->n < 32 && len < 64) {
        memcpy(b->toks[b->n], tok, len + 1);
        b->n++;
    }
}

static void test_tokenizer(void) {
    tokbuf b = {0};
    size_t n = text_tokenize("Crème BRÛLÉE-mix, 2x250g; ŁÓDŹ Straße ΣΟΦΊΑ Москва 東京", collect, &b);
    const char *want[] = {"crème", "brûlée", "mix", "2x250g", "łódź", "straße", "σοφία", "москва", "東京"};
    CHECK(n == 9 && b.n == 9);
    for (int i = 0; i < 9 && i < b.n; i++) CHECK_MSG(!strcmp(b.toks[i], want[i]), "token %d: %s", i, b.toks[i]);
    tokbuf c = {0};
    CHECK(text_tokenize("  --  ", collect, &c) == 0);
    tokbuf d = {0};
    CHECK(text_tokenize("a\xff" "b", collect, &d) == 2); /* an invalid byte splits */
    tokbuf e = {0};
    CHECK(text_tokenize("naïve×café÷tea", collect, &e) == 3 && !strcmp(e.toks[1], "café"));
}

static double dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static void test_featurize(void) {
    const char *docs[] = {
        "red cotton shirt with long sleeves",
        "red cotton shirt with short sleeves",
        "garden hose, green, 20 m",
        "",
        "RED Cotton SHIRT with long sleeves!",
        NULL,
    };
    enum { N = 6, W = 64 };
    float x[N * W], y[N * W];
    text_params p = {.width = W, .seed = 7, .buckets_log2 = 16};
    CHECK(text_featurize(docs, N, &p, x) == 0);
    for (int i = 0; i < N; i++) {
        double nn = dot(x + i * W, x + i * W, W);
        if (i == 3 || i == 5)
            CHECK(nn == 0); /* no text: zero row */
        else
            CHECK_CLOSE(nn, 1.0, 1e-5);
    }
    /* case and punctuation do not matter; near-duplicates are closer than unrelated text */
    CHECK_CLOSE(dot(x, x + 4 * W, W), 1.0, 1e-5);
    CHECK(dot(x, x + 1 * W, W) > dot(x, x + 2 * W, W) + 0.3);
    /* deterministic for a seed, different for another */
    CHECK(text_featurize(docs, N, &p, y) == 0);
    CHECK(!memcmp(x, y, sizeof x));
    p.seed = 8;
    CHECK(text_featurize(docs, N, &p, y) == 0);
    CHECK(memcmp(x, y, sizeof x) != 0);
    /* unigrams only: word order no longer matters */
    const char *swapped[] = {"shirt red", "red shirt"};
    float u[2 * W];
    p.unigrams_only = 1;
    CHECK(text_featurize(swapped, 2, &p, u) == 0);
    CHECK_CLOSE(dot(u, u + W, W), 1.0, 1e-5);
    p.unigrams_only = 0;
    CHECK(text_featurize(swapped, 2, &p, u) == 0);
    CHECK(dot(u, u + W, W) < 0.999);
}

static float *read_f32(const char *dir, const char *name, size_t *n) {
    char p[1200];
    snprintf(p, sizeof p, "%s/features/%s.f32", dir, name);
    size_t len;
    float *x = (float *)td_read(p, &len);
    *n = len / 4;
    return x;
}

static void test_command(void) {
    const char *dir = td_dir("features_text");
    CHECK(td_run("prepare --out %s --inter " FX "shop.inter", dir) == 0);
    int rc = td_run("featurize text --dir %s --catalog " FX "catalog.item --text-fields title,descr --width 32", dir);
    CHECK_MSG(rc == 0, "%s", td_err);
    CHECK(strstr(td_out, "1 without text") != NULL);
    size_t n;
    float *a = read_f32(dir, "text", &n);
    CHECK(a && n == 6 * 32);
    char p[1200];
    snprintf(p, sizeof p, "%s/features/text.json", dir);
    char *meta = (char *)td_read(p, NULL);
    CHECK(meta && strstr(meta, "\"missing\":\t[4]") && strstr(meta, "\"kind\":\t\"text\"") && strstr(meta, "\"width\":\t32"));
    free(meta);
    snprintf(p, sizeof p, "%s/summary.json", dir);
    meta = (char *)td_read(p, NULL);
    CHECK(meta && strstr(meta, "\"text\":\t1"));
    free(meta);
    /* sku-1 (item 0, vanilla dessert mix) is closer to sku-3 (item 2) than to the hose */
    if (a) {
        CHECK(dot(a, a + 2 * 32, 32) > dot(a, a + 3 * 32, 32));
        double z = dot(a + 4 * 32, a + 4 * 32, 32);
        CHECK(z == 0);
    }
    /* the same text from CSV (quoted commas) and from JSON Lines gives the same matrix */
    rc = td_run("featurize text --dir %s --name csvtext --catalog " FX "catalog.csv --key-col sku --text-fields name,description --width 32", dir);
    CHECK_MSG(rc == 0, "%s", td_err);
    float *b = read_f32(dir, "csvtext", &n);
    CHECK(a && b && n == 6 * 32 && !memcmp(a, b, n * 4));
    rc = td_run("featurize text --dir %s --name jtext --catalog " FX "catalog.jsonl --key-col id --text-fields title,tags --width 32", dir);
    CHECK_MSG(rc == 0, "%s", td_err);
    float *c = read_f32(dir, "jtext", &n);
    /* JSON tags are joined with spaces where the atomic file has ", ": the same tokens */
    CHECK(a && c && n == 6 * 32 && !memcmp(a, c, n * 4));
    free(a);
    free(b);
    free(c);
}

int main(void) {
    test_tokenizer();
    test_featurize();
    test_command();
    return check_done("test_features_text");
}
