/* test_graph_behaviour.c - `mdsrec graph` end to end: no validation or test interaction (the
   last two items of a sequence) changes any behaviour weight or any modality graph, while a
   training interaction does; the output is the same for any thread count. */
#include <string.h>

#include "check.h"
#include "test_data_helpers.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

enum { USERS = 60, ITEMS = 45 };
static uint32_t seqs[USERS][20], lens[USERS];

/* Writes a prepared directory by hand: the same items.txt and features in every variant;
   sequences.tsv from seqs. */
static void write_dir(const char *dir) {
    char p[1200];
    snprintf(p, sizeof p, "%s/items.txt", dir);
    FILE *f = fopen(p, "w");
    for (int i = 0; i < ITEMS; i++) fprintf(f, "item%d\n", i);
    fclose(f);
    snprintf(p, sizeof p, "%s/sequences.tsv", dir);
    f = fopen(p, "w");
    for (int u = 0; u < USERS; u++) {
        fprintf(f, "user%d\t", u);
        for (uint32_t k = 0; k < lens[u]; k++) fprintf(f, k ? " %u" : "%u", seqs[u][k]);
        fputc('\n', f);
    }
    fclose(f);
    /* a CSV feature matrix, imported through the tool */
    snprintf(p, sizeof p, "%s/../feat.csv", dir);
    f = fopen(p, "w");
    uint64_t keep = rng;
    rng = 12345;
    for (int i = 0; i < ITEMS; i++) {
        if (i % 9 == 4) continue; /* a few items without the modality */
        fprintf(f, "item%d", i);
        for (int d = 0; d < 8; d++) fprintf(f, ",%d", (int)rnd(21) - 10);
        fputc('\n', f);
    }
    fclose(f);
    rng = keep;
    int rc = td_run("featurize matrix --dir %s --name feat --path %s", dir, p);
    CHECK_MSG(rc == 0, "%s", td_err);
}

static int graph_files_equal(const char *a, const char *b, const char *name) {
    char pa[1200], pb[1200];
    int same = 1;
    const char *kinds[] = {"knn", "adj"};
    for (int k = 0; k < 2; k++) {
        snprintf(pa, sizeof pa, "%s/graph/%s.%s.csr", a, name, kinds[k]);
        snprintf(pb, sizeof pb, "%s/graph/%s.%s.csr", b, name, kinds[k]);
        same &= td_same_file(pa, pb);
    }
    return same;
}

int main(void) {
    for (int u = 0; u < USERS; u++) {
        lens[u] = 5 + rnd(14);
        for (uint32_t k = 0; k < lens[u]; k++) seqs[u][k] = rnd(ITEMS);
    }
    const char *a = td_dir("graph_behaviour/a");
    write_dir(a);
    int rc = td_run("graph --dir %s --k 6 --window 3 --threads 1", a);
    CHECK_MSG(rc == 0, "%s", td_err);

    /* Change only the last two items of every sequence. */
    for (int u = 0; u < USERS; u++) {
        seqs[u][lens[u] - 1] = (seqs[u][lens[u] - 1] + 1 + rnd(ITEMS - 1)) % ITEMS;
        seqs[u][lens[u] - 2] = (seqs[u][lens[u] - 2] + 1 + rnd(ITEMS - 1)) % ITEMS;
    }
    const char *b = td_dir("graph_behaviour/b");
    write_dir(b);
    rc = td_run("graph --dir %s --k 6 --window 3 --threads 3", b);
    CHECK_MSG(rc == 0, "%s", td_err);
    CHECK_MSG(graph_files_equal(a, b, "behaviour"), "validation/test items changed the behaviour graph");
    CHECK_MSG(graph_files_equal(a, b, "feat"), "validation/test items changed the feature graph");

    /* Positive control: one training interaction does change them. */
    seqs[0][0] = (seqs[0][0] + 1) % ITEMS;
    seqs[0][1] = (seqs[0][1] + 7) % ITEMS;
    const char *c = td_dir("graph_behaviour/c");
    write_dir(c);
    rc = td_run("graph --dir %s --k 6 --window 3", c);
    CHECK_MSG(rc == 0, "%s", td_err);
    CHECK(!graph_files_equal(b, c, "behaviour"));

    /* Determinism: the same directory again, another thread count, identical files. */
    rc = td_run("graph --dir %s --k 6 --window 3 --threads 2", a);
    CHECK_MSG(rc == 0, "%s", td_err);
    CHECK(graph_files_equal(a, b, "behaviour") && graph_files_equal(a, b, "feat"));

    /* graph/NAME.json records the parameters; beta 0 = content only */
    char p[1200];
    snprintf(p, sizeof p, "%s/graph/feat.json", a);
    char *meta = (char *)td_read(p, NULL);
    CHECK(meta && strstr(meta, "\"k\":\t6") && strstr(meta, "\"window\":\t3") && strstr(meta, "\"beta\":\t1"));
    free(meta);
    rc = td_run("graph --dir %s --k 6 --beta 0", c);
    CHECK_MSG(rc == 0, "%s", td_err);
    rc = td_run("graph --dir %s --k 6 --beta 0", a);
    CHECK(graph_files_equal(a, c, "feat")); /* without behaviour, the training change is invisible */

    /* --show prints neighbours from the files */
    rc = td_run("graph --dir %s --show item0,item5 --top 3", a);
    CHECK_MSG(rc == 0 && strstr(td_out, "item0") && strstr(td_out, "  behaviour:"), "%s%s", td_out, td_err);
    CHECK(td_run("graph --dir %s --show nosuchitem", a) == 1);
    return check_done("test_graph_behaviour");
}
