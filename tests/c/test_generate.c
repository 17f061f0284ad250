/*
 * test_generate.c - `mdsrec generate` (tools/data/genlog.h) at a small size: the same seed
 * gives the same bytes and another seed other bytes; the log has exactly the events and
 * visitors asked for, each visitor's times increase; the planted structure is measurable
 * (popularity skew, consecutive events of a visitor in one category far above chance, item
 * vectors closer within a category than across); and the whole chain prepare -> featurize
 * text -> graph -> train -> eval runs on it, where a trained sasrec beats pop by a margin;
 * eval --sample-users and the approximate graph search (--ann-above 0) on the same data.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "check.h"
#include "test_data_helpers.h"

#define V 2000
#define M 400
#define E 24000
#define C 40

static int same_file(const char *a, const char *b) {
    size_t la, lb;
    uint8_t *x = td_read(a, &la), *y = td_read(b, &lb);
    int same = x && y && la == lb && !memcmp(x, y, la);
    free(x), free(y);
    return same;
}

/* Item index from "i<n>", user index from "u<n>". */
static uint32_t key_index(const char *k) { return (uint32_t)strtoul(k + 1, NULL, 10); }

/* The test NDCG@10 of run 0 of an eval --json file, unmasked protocol (-1 if absent). */
static double ndcg10(const char *path) {
    size_t n;
    char *t = (char *)td_read(path, &n);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "runs"), 0);
    cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "test"), "NDCG@10");
    double x = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(j);
    return x;
}

int main(void) {
    const char *d = td_dir("generate");
    char a[1200], b[1200], c[1200], p[1200];
    snprintf(a, sizeof a, "%s/a", d), snprintf(b, sizeof b, "%s/b", d), snprintf(c, sizeof c, "%s/c", d);
    const char *shape = "--visitors 2000 --items 400 --events 24000 --categories 40 --follow 0.3 --stay 0.45";
    CHECK(td_run("generate --out '%s' %s --seed 7", a, shape) == 0);
    CHECK(td_run("generate --out '%s' %s --seed 7", b, shape) == 0);
    CHECK(td_run("generate --out '%s' %s --seed 8", c, shape) == 0);
    const char *files[] = {"interactions.tsv", "catalog.tsv", "vec.npy", "vec_keys.txt", "dataset.json"};
    for (int k = 0; k < 5; k++) {
        char fa[1300], fb[1300];
        snprintf(fa, sizeof fa, "%s/%s", a, files[k]), snprintf(fb, sizeof fb, "%s/%s", b, files[k]);
        CHECK_MSG(same_file(fa, fb), "%s differs between two runs with one seed", files[k]);
    }
    {
        char fa[1300], fc[1300];
        snprintf(fa, sizeof fa, "%s/interactions.tsv", a), snprintf(fc, sizeof fc, "%s/interactions.tsv", c);
        CHECK(!same_file(fa, fc));
    }
    /* usage: too few events for the visitors */
    CHECK(td_run("generate --out '%s/x' --visitors 10 --items 5 --events 29", d) == 2);
    CHECK(strstr(td_err, "--events must be at least 3 x --visitors") != NULL);

    /* the catalogue's categories */
    static char cat_of[M][32];
    char path[1300];
    snprintf(path, sizeof path, "%s/catalog.tsv", a);
    FILE *f = fopen(path, "r");
    char line[512];
    uint32_t rows = 0;
    CHECK(f && fgets(line, sizeof line, f) && !strcmp(line, "item_id\ttitle\tcategory\tprice\n"));
    while (f && fgets(line, sizeof line, f)) {
        char key[32], cat[32];
        if (sscanf(line, "%31[^\t]\t%*[^\t]\t%31[^\t]", key, cat) != 2) break;
        uint32_t i = key_index(key);
        if (i < M) snprintf(cat_of[i], sizeof cat_of[i], "%s", cat), rows++;
    }
    if (f) fclose(f);
    CHECK_MSG(rows == M, "%u catalogue rows", rows);

    /* the log: counts, time order per visitor, popularity, category locality */
    static uint32_t last_item[V], cnt[M];
    static double last_time[V];
    static uint32_t seen[V];
    snprintf(path, sizeof path, "%s/interactions.tsv", a);
    f = fopen(path, "r");
    uint64_t events = 0, pairs = 0, same_cat = 0, backwards = 0;
    CHECK(f && fgets(line, sizeof line, f) && !strcmp(line, "user_id\titem_id\ttimestamp\n"));
    while (f && fgets(line, sizeof line, f)) {
        char uk[32], ik[32];
        double t;
        if (sscanf(line, "%31s %31s %lf", uk, ik, &t) != 3) break;
        uint32_t u = key_index(uk), i = key_index(ik);
        if (u >= V || i >= M) break;
        events++, cnt[i]++;
        if (seen[u]) {
            pairs++;
            same_cat += !strcmp(cat_of[i], cat_of[last_item[u]]);
            backwards += t < last_time[u];
        }
        seen[u]++, last_item[u] = i, last_time[u] = t;
    }
    if (f) fclose(f);
    uint32_t users = 0, short_users = 0;
    for (uint32_t u = 0; u < V; u++) users += seen[u] > 0, short_users += seen[u] > 0 && seen[u] < 3;
    CHECK_MSG(events == E && users == V && short_users == 0, "%llu events, %u users, %u shorter than 3",
              (unsigned long long)events, users, short_users);
    CHECK(backwards == 0);
    /* popularity: the top 10% of items take a large share (uniform: 10%) */
    uint32_t sorted[M];
    memcpy(sorted, cnt, sizeof sorted);
    for (uint32_t i = 1; i < M; i++)
        for (uint32_t j = i; j > 0 && sorted[j] > sorted[j - 1]; j--) {
            uint32_t t = sorted[j];
            sorted[j] = sorted[j - 1], sorted[j - 1] = t;
        }
    uint64_t top = 0;
    for (uint32_t i = 0; i < M / 10; i++) top += sorted[i];
    double top_share = (double)top / (double)E;
    printf("  top 10%% of items: %.3f of the events\n", top_share);
    CHECK_MSG(top_share > 0.4, "top-10%% share %.3f", top_share);
    /* locality: P(same category) for consecutive events, against the chance of two independent
       events (sum over categories of the squared share) */
    double chance = 0;
    for (uint32_t i = 0; i < M; i++) {
        uint64_t in_cat = 0;
        for (uint32_t j = 0; j < M; j++) in_cat += !strcmp(cat_of[i], cat_of[j]) ? cnt[j] : 0;
        chance += (double)cnt[i] / E * (double)in_cat / E;
    }
    double locality = pairs ? (double)same_cat / (double)pairs : 0;
    printf("  consecutive events in one category: %.3f (chance %.3f)\n", locality, chance);
    CHECK_MSG(locality > 0.6 && chance < 0.15, "locality %.3f, chance %.3f", locality, chance);

    /* the vectors: cosine within a category well above across */
    snprintf(path, sizeof path, "%s/vec.npy", a);
    size_t n;
    uint8_t *npy = td_read(path, &n);
    uint32_t hl = npy && n > 10 ? (uint32_t)(npy[8] | npy[9] << 8) : 0;
    CHECK(npy && n == 10 + hl + (size_t)M * 32 * 4 && strstr((const char *)npy + 10, "(400, 32)"));
    if (npy && n == 10 + hl + (size_t)M * 32 * 4) {
        const float *x = (const float *)(npy + 10 + hl);
        double in = 0, out = 0;
        uint64_t nin = 0, nout = 0;
        for (uint32_t i = 0; i < M; i++)
            for (uint32_t j = i + 1; j < M; j++) {
                double dot = 0;
                for (int k = 0; k < 32; k++) dot += (double)x[i * 32 + k] * x[j * 32 + k];
                if (!strcmp(cat_of[i], cat_of[j])) in += dot, nin++;
                else out += dot, nout++;
            }
        printf("  mean cosine within a category %.3f, across %.3f\n", in / nin, out / nout);
        CHECK(nin && nout && in / nin > 0.35 && fabs(out / nout) < 0.1);
    }
    free(npy);

    /* the chain on it */
    snprintf(p, sizeof p, "%s/prep", d);
    CHECK(td_run("prepare --dataset '%s/dataset.json' --out '%s'", a, p) == 0);
    CHECK(strstr(td_out, "2000 users, 400 items, 24000 interactions") != NULL);
    CHECK(td_run("featurize text --dir '%s' --dataset '%s/dataset.json'", p, a) == 0);
    CHECK(td_run("graph --dir '%s' --threads 2", p) == 0);
    CHECK(strstr(td_out, "graph/vec") && strstr(td_out, "graph/text") && strstr(td_out, "graph/behaviour"));
    CHECK(td_run("train --data '%s' --out '%s/sas' --model sasrec --dim 32 --max-len 20 --blocks 1 --heads 2 "
                 "--epochs 12 --lr 5e-3 --seed 3 --quiet --threads 2",
                 p, d) == 0);
    CHECK(td_run("eval --model '%s/sas' --json '%s/sas.json'", d, d) == 0);
    CHECK(td_run("eval --baseline pop --data '%s' --json '%s/pop.json'", p, d) == 0);
    char js[1300];
    snprintf(js, sizeof js, "%s/sas.json", d);
    double sas = ndcg10(js);
    snprintf(js, sizeof js, "%s/pop.json", d);
    double pop = ndcg10(js);
    printf("  test NDCG@10: sasrec %.4f, pop %.4f\n", sas, pop);
    CHECK_MSG(pop > 0 && sas > pop + 0.15, "sasrec %.4f, pop %.4f", sas, pop);

    /* eval --sample-users: at least every visitor is the full evaluation; fewer is a seeded
       sample (the same twice) whose estimate is near the full one */
    CHECK(td_run("eval --baseline pop --data '%s' --sample-users 5000 --json '%s/pop_all.json'", p, d) == 0);
    snprintf(js, sizeof js, "%s/pop_all.json", d);
    CHECK(ndcg10(js) == pop);
    CHECK(td_run("eval --baseline pop --data '%s' --sample-users 800 --json '%s/pop_s1.json'", p, d) == 0);
    CHECK(td_run("eval --baseline pop --data '%s' --sample-users 800 --json '%s/pop_s2.json'", p, d) == 0);
    snprintf(js, sizeof js, "%s/pop_s1.json", d);
    double s1 = ndcg10(js);
    snprintf(js, sizeof js, "%s/pop_s2.json", d);
    CHECK(s1 == ndcg10(js) && s1 != pop && fabs(s1 - pop) < 0.05);

    /* the approximate neighbour search, forced on this small catalogue: it reports its recall
       against exact, which is high on these clustered vectors */
    CHECK(td_run("graph --dir '%s' --threads 2 --ann-above 0 --features vec", p) == 0);
    const char *rec = strstr(td_out, "recall@10 against exact ");
    double recall = rec ? atof(rec + strlen("recall@10 against exact ")) : -1;
    printf("  approximate vec graph: recall@10 %.3f\n", recall);
    CHECK_MSG(recall > 0.8 && recall <= 1, "recall %.3f", recall);
    return check_done("test_generate");
}
