/*
 * test_additems_parts.c - the parts of `mdsrec add-items` on their own, on data made here:
 *   - content_topk: the exact top k by dot product against a brute-force scan (positive
 *     scores only, items masked out skipped, ties by the smaller index, strongest first),
 *     the same for 1 and 3 workers, queries and references that cross the block and tile sizes;
 *   - id_map: on rows where the id rows are an exact affine map of the modality rows it finds
 *     that map (and the validation picks the smallest penalty); a huge penalty gives the mean
 *     id row; on noise-only targets the validation picks a large penalty;
 *   - eval --pop-from: pop ranks by another log's counts matched by key, items it lacks last.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "export/content_topk.h"
#include "export/id_map.h"
#include "test_data_helpers.h"

static uint64_t rng = 7;
static float frand(void) { /* uniform in [-1, 1) */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static void test_topk(void) {
    const size_t n = 150, N = 5000, w = 7; /* > one 64-query block, > two 2048-reference tiles */
    const uint32_t k = 6;
    float *q = malloc(n * w * sizeof(float)), *r = malloc(N * w * sizeof(float));
    uint8_t *keep = malloc(N);
    for (size_t i = 0; i < n * w; i++) q[i] = frand();
    for (size_t i = 0; i < N * w; i++) r[i] = roundf(frand() * 4) / 4; /* coarse: many ties */
    for (size_t j = 0; j < N; j++) keep[j] = j % 7 != 3;
    uint32_t *idx1 = calloc(n * k, 4), *idx3 = calloc(n * k, 4), cnt1[150], cnt3[150];
    float *s1 = calloc(n * k, 4), *s3 = calloc(n * k, 4);
    CHECK(content_topk(q, n, r, N, w, keep, k, 1, idx1, s1, cnt1) == 0);
    CHECK(content_topk(q, n, r, N, w, keep, k, 3, idx3, s3, cnt3) == 0);
    CHECK_MSG(!memcmp(cnt1, cnt3, sizeof cnt1) && !memcmp(idx1, idx3, n * k * 4) && !memcmp(s1, s3, n * k * 4),
              "1 and 3 workers disagree");
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        /* brute force: selection of the k best (score desc, index asc) among kept, positive */
        float *s = malloc(N * sizeof(float));
        for (size_t j = 0; j < N; j++) {
            double d = 0;
            for (size_t t = 0; t < w; t++) d += (double)q[i * w + t] * r[j * w + t];
            s[j] = (float)d;
        }
        uint32_t got = 0;
        uint8_t *used = calloc(N, 1);
        for (uint32_t t = 0; t < k; t++) {
            size_t best = N;
            for (size_t j = 0; j < N; j++)
                if (keep[j] && !used[j] && s[j] > 0 && (best == N || s[j] > s[best])) best = j;
            if (best == N) break;
            used[best] = 1;
            /* the tie rule: the smallest index of an equal score (the scan takes the first) */
            bad += t >= cnt1[i] || idx1[i * k + t] != best || fabsf(s1[i * k + t] - s[best]) > 1e-5f;
            got++;
        }
        bad += got != cnt1[i];
        free(used);
        free(s);
    }
    CHECK_MSG(bad == 0, "%d top-k entries differ from the brute force", bad);
    free(q), free(r), free(keep), free(idx1), free(idx3), free(s1), free(s3);
}

static void test_id_map(void) {
    const size_t N = 600;
    const uint32_t d = 4, M = 2;
    float *x[2], *y = malloc(N * d * sizeof(float)), *noise = malloc(N * d * sizeof(float));
    double A[2][4][4], c[4];
    for (uint32_t m = 0; m < M; m++) {
        x[m] = malloc(N * d * sizeof(float));
        for (size_t i = 0; i < N * d; i++) x[m][i] = frand();
        for (uint32_t a = 0; a < d; a++)
            for (uint32_t b = 0; b < d; b++) A[m][a][b] = frand();
    }
    for (uint32_t b = 0; b < d; b++) c[b] = frand();
    for (size_t i = 0; i < N; i++)
        for (uint32_t b = 0; b < d; b++) {
            double v = c[b];
            for (uint32_t m = 0; m < M; m++)
                for (uint32_t a = 0; a < d; a++) v += x[m][i * d + a] * A[m][a][b];
            y[i * d + b] = (float)v;
            noise[i * d + b] = frand();
        }
    /* new rows: the map must carry them exactly */
    float nx0[8], nx1[8], out[8];
    for (int t = 0; t < 8; t++) nx0[t] = frand(), nx1[t] = frand();
    const float *nx[2] = {nx0, nx1};
    id_map map;
    CHECK(id_map_fit(&map, (const float *const *)x, M, N, d, y, -1) == 0);
    CHECK_MSG(map.ridge == 1e-4, "validation chose ridge %g on exact data", map.ridge);
    id_map_apply(&map, nx, 2, out);
    double err = 0;
    for (int i = 0; i < 2; i++)
        for (uint32_t b = 0; b < d; b++) {
            double v = c[b];
            for (uint32_t m = 0; m < M; m++)
                for (uint32_t a = 0; a < d; a++) v += nx[m][i * d + a] * A[m][a][b];
            err = fmax(err, fabs(out[i * d + b] - v));
        }
    CHECK_MSG(err < 0.02, "exact affine map recovered to %g", err);
    id_map_free(&map);
    /* a huge penalty: every row gets the mean id row (the intercept is not penalised) */
    CHECK(id_map_fit(&map, (const float *const *)x, M, N, d, y, 1e9) == 0);
    id_map_apply(&map, nx, 2, out);
    err = 0;
    for (uint32_t b = 0; b < d; b++) {
        double mean = 0;
        for (size_t i = 0; i < N; i++) mean += y[i * d + b] / N;
        err = fmax(err, fmax(fabs(out[b] - mean), fabs(out[d + b] - mean)));
    }
    CHECK_MSG(err < 1e-3, "huge penalty: off the mean row by %g", err);
    id_map_free(&map);
    /* targets unrelated to the inputs: the validation prefers shrinking hard */
    CHECK(id_map_fit(&map, (const float *const *)x, M, N, d, noise, -1) == 0);
    CHECK_MSG(map.ridge >= 1, "noise: validation chose ridge %g", map.ridge);
    id_map_free(&map);
    free(x[0]), free(x[1]), free(y), free(noise);
}

static void write_dir(const char *dir, const char *items, const char *seqs) {
    char p[1200];
    snprintf(p, sizeof p, "%s/items.txt", dir);
    FILE *f = fopen(p, "w");
    fputs(items, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/sequences.tsv", dir);
    f = fopen(p, "w");
    fputs(seqs, f);
    fclose(f);
}

static void test_pop_from(void) {
    char ev[1024], src[1024], js[1200];
    snprintf(ev, sizeof ev, "%s", td_dir("additems_parts/eval"));
    snprintf(src, sizeof src, "%s", td_dir("additems_parts/src"));
    snprintf(js, sizeof js, "%s/pop.json", ev);
    /* eval: items a b c n (n new); visitor 1's target a, visitor 2's target n. In eval's own
       training parts n is the most clicked; in src (no n) a is. */
    write_dir(ev, "a\nb\nc\nn\n", "u1\t3 3 3 1 0\nu2\t3 3 3 2 3\n");
    write_dir(src, "c\nb\na\n", "v1\t2 2 2 1 0\nv2\t2 2 1 0 0\n");
    CHECK_MSG(td_run("eval --data '%s' --baseline pop --pop-from '%s' --split test --ranks --json '%s'", ev, src,
                     js) == 0,
              "eval --pop-from: %s", td_err);
    size_t len = 0;
    FILE *f = fopen(js, "rb");
    char buf[65536] = {0};
    if (f) len = fread(buf, 1, sizeof buf - 1, f), fclose(f);
    CHECK(len > 0);
    /* the unmasked ranks (the last "ranks" of the file; the masked protocol's come first):
       a first by src's counts (5 in its training parts, b 1, c 0), n last: 0 like c, and a
       tie counts against */
    char *r = NULL;
    for (char *t = strstr(buf, "\"ranks\""); t; t = strstr(t + 1, "\"ranks\"")) r = t;
    CHECK_MSG(r != NULL, "no ranks in %s", js);
    if (r) {
        char *lb = strchr(r, '[');
        int r1 = 0, r2 = 0;
        CHECK(lb && sscanf(lb, "[%d ,%d]", &r1, &r2) == 2);
        CHECK_MSG(r1 == 1, "visitor 1's target a ranks %d, want 1", r1);
        CHECK_MSG(r2 == 4, "visitor 2's new target ranks %d, want 4 (last)", r2);
    }
    CHECK_MSG(td_run("eval --data '%s' --baseline itemknn --pop-from '%s'", ev, src) == 2 &&
                  strstr(td_err, "--pop-from needs --baseline pop"),
              "usage: %s", td_err);
}

int main(void) {
    test_topk();
    test_id_map();
    test_pop_from();
    return check_done("test_additems_parts");
}
