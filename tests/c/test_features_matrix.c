/* test_features_matrix.c - imported feature matrices: .npy float32 (C and Fortran order) and
   float16, raw float32, CSV with a key column or a keys file; rows land at their item's
   index, L2-normalised, unknown keys skipped only when allowed. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "test_data_helpers.h"

#include "data/matrix.h"

/* rows of the fixture: sku-3 = (1,0,0,0), sku-1 = (0.6,0.8,0,0), sku-2 = (0,0,3,4) */
static void check_rows(const float *x, float tol) {
    const float want[6][4] = {{0.6f, 0.8f, 0, 0}, {0, 0, 0.6f, 0.8f}, {1, 0, 0, 0}, {0}, {0}, {0}};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++) CHECK_MSG(fabsf(x[i * 4 + j] - want[i][j]) <= tol, "item %d col %d: %g", i, j, x[i * 4 + j]);
}

static void test_import(void) {
    keymap items;
    keymap_init(&items);
    const char *keys[] = {"sku-1", "sku-2", "sku-3", "sku-4", "sku-5", "sku-6"};
    for (int i = 0; i < 6; i++) keymap_add(&items, keys[i], NULL);
    struct {
        const char *path, *keys, *format;
        uint32_t width;
        float tol;
    } cases[] = {
        {FX "feat.npy", FX "feat_keys.txt", NULL, 0, 1e-6f},
        {FX "feat16.npy", FX "feat_keys.txt", NULL, 0, 1e-3f},
        {FX "feat_fortran.npy", FX "feat_keys.txt", "npy", 0, 1e-6f},
        {FX "feat.f32", FX "feat_keys.txt", NULL, 4, 1e-6f},
        {FX "feat.csv", NULL, NULL, 0, 1e-6f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ds_feature f = {.name = "m", .path = (char *)cases[c].path, .keys = (char *)cases[c].keys,
                        .format = (char *)cases[c].format, .width = cases[c].width};
        feature_matrix m;
        int rc = matrix_import(&f, &items, &m);
        CHECK_MSG(rc == 0, "%s", cases[c].path);
        if (rc) continue;
        CHECK(m.rows == 6 && m.width == 4 && m.n_missing == 3 && m.missing[0] == 3 && m.missing[2] == 5);
        check_rows(m.x, cases[c].tol);
        feature_matrix_free(&m);
    }
    /* a CSV of numbers only, with a keys file */
    char csv[1200];
    snprintf(csv, sizeof csv, "%s/plain.csv", td_dir("features_matrix_csv"));
    FILE *fc = fopen(csv, "w");
    fputs("1,0,0,0\n0.6, 0.8, 0, 0\r\n0,0,3,4\n\n", fc);
    fclose(fc);
    ds_feature fk = {.name = "m", .path = csv, .keys = FX "feat_keys.txt"};
    feature_matrix mk;
    CHECK(matrix_import(&fk, &items, &mk) == 0);
    if (mk.x) {
        check_rows(mk.x, 1e-6f);
        feature_matrix_free(&mk);
    }
    /* an unknown key: an error, or a skipped row when allowed */
    ds_feature f = {.name = "m", .path = FX "feat.npy", .keys = FX "feat_keys_unknown.txt"};
    feature_matrix m;
    CHECK(matrix_import(&f, &items, &m) != 0);
    f.allow_unknown = 1;
    CHECK(matrix_import(&f, &items, &m) == 0);
    if (m.x) {
        CHECK(m.n_missing == 4); /* sku-1 now has no row either */
        CHECK(m.x[2 * 4] == 1.0f && m.x[0] == 0);
        feature_matrix_free(&m);
    }
    raw_matrix r;
    CHECK(matrix_read_npy(FX "feat16.npy", &r) == 0 && r.rows == 3 && r.width == 4 && r.x[11] == 4.0f);
    raw_matrix_free(&r);
    CHECK(matrix_read_npy(FX "feat_f8.npy", &r) != 0);
    keymap_free(&items);
}

static void test_command(void) {
    const char *dir = td_dir("features_matrix");
    CHECK(td_run("prepare --out %s --inter " FX "shop.inter", dir) == 0);
    int rc = td_run("featurize matrix --dir %s --name clip --path " FX "feat16.npy --keys " FX "feat_keys.txt", dir);
    CHECK_MSG(rc == 0, "%s", td_err);
    char p[1200];
    snprintf(p, sizeof p, "%s/features/clip.f32", dir);
    size_t n;
    float *x = (float *)td_read(p, &n);
    CHECK(x && n == 6 * 4 * 4);
    if (x) check_rows(x, 1e-3f);
    free(x);
    snprintf(p, sizeof p, "%s/features/clip.json", dir);
    char *meta = (char *)td_read(p, NULL);
    CHECK(meta && strstr(meta, "\"kind\":\t\"feature\"") && strstr(meta, "\"rows\":\t6") && strstr(meta, "feat16.npy"));
    free(meta);
    rc = td_run("featurize matrix --dir %s --name m2 --path " FX "feat.npy --keys " FX "feat_keys_unknown.txt --allow-unknown", dir);
    CHECK_MSG(rc == 0, "%s", td_err);
    CHECK(strstr(td_err, "skipped 1 rows") != NULL);
}

int main(void) {
    test_import();
    test_command();
    return check_done("test_features_matrix");
}
