/* test_features_image.c - decoding (progressive and baseline JPEG, PNG), the descriptor's
   blocks and norms, and `mdsrec featurize image` with a key -> file map and with a file name
   pattern, missing images, and the same result for any number of threads. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "test_data_helpers.h"

#include "features/image.h"

static double dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static int has_marker(const char *path, uint8_t m) {
    size_t n;
    uint8_t *b = td_read(path, &n);
    int found = 0;
    for (size_t i = 0; b && i + 1 < n; i++) found |= b[i] == 0xFF && b[i + 1] == m;
    free(b);
    return found;
}

static void test_decode(void) {
    /* The fixtures are what they claim: p1 progressive (SOF2), p3 baseline (SOF0). */
    CHECK(has_marker(FX "images/p1.jpg", 0xC2));
    CHECK(has_marker(FX "images/p3.jpg", 0xC0) && !has_marker(FX "images/p3.jpg", 0xC2));
    float a[IMAGE_DESC_WIDTH], b[IMAGE_DESC_WIDTH], c[IMAGE_DESC_WIDTH];
    char err[200];
    CHECK(image_describe_file(FX "images/p1.jpg", a, err, sizeof err) == 0);
    CHECK(image_describe_file(FX "images/p2.png", b, err, sizeof err) == 0);
    CHECK(image_describe_file(FX "images/p3.jpg", c, err, sizeof err) == 0);
    CHECK_CLOSE(dot(a, a, IMAGE_DESC_WIDTH), 1.0, 1e-5);
    CHECK_CLOSE(dot(b, b, IMAGE_DESC_WIDTH), 1.0, 1e-5);
    CHECK_CLOSE(dot(c, c, IMAGE_DESC_WIDTH), 1.0, 1e-5);
    CHECK(image_describe_file(FX "images/broken.jpg", a, err, sizeof err) == -1 && err[0]);
    CHECK(image_describe_file(FX "images/none.jpg", a, err, sizeof err) == -1);

    /* PNG is lossless: the file's descriptor is the descriptor of its known pixels. */
    static const uint8_t Y[3] = {240, 220, 20}, B[3] = {20, 40, 210};
    uint8_t png_px[2 * 3 * 3];
    const uint8_t *rows[2][3] = {{Y, Y, B}, {Y, B, B}};
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++) memcpy(png_px + 3 * (y * 3 + x), rows[y][x], 3);
    CHECK(image_describe_file(FX "images/p2.png", b, err, sizeof err) == 0);
    image_describe_rgb(png_px, 3, 2, c);
    CHECK(!memcmp(b, c, sizeof b));

    /* The progressive JPEG decodes to (about) its source: red, green / blue, white quadrants. */
    static const uint8_t R[3] = {220, 30, 30}, G[3] = {30, 200, 40}, Bl[3] = {20, 40, 210}, W[3] = {250, 250, 250};
    uint8_t q[4 * 4 * 3];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) memcpy(q + 3 * (y * 4 + x), y < 2 ? (x < 2 ? R : G) : (x < 2 ? Bl : W), 3);
    image_describe_rgb(q, 4, 4, c);
    CHECK(image_describe_file(FX "images/p1.jpg", a, err, sizeof err) == 0);
    /* JPEG's chroma subsampling smears 4x4 pixels, so compare the colour layout block (each
       block is scaled to norm 1/sqrt(3) in the descriptor), and the whole against the PNG */
    double lay = dot(a + 96, c + 96, 48) / sqrt(dot(a + 96, a + 96, 48) * dot(c + 96, c + 96, 48));
    CHECK_MSG(lay > 0.95, "layout cosine %g", lay);
    CHECK(dot(a, c, IMAGE_DESC_WIDTH) > dot(a, b, IMAGE_DESC_WIDTH) + 0.1);
}

static void test_descriptor(void) {
    float d[IMAGE_DESC_WIDTH], e[IMAGE_DESC_WIDTH];
    /* 1x1: no crash, unit norm, no gradient */
    uint8_t px[3] = {10, 200, 30};
    image_describe_rgb(px, 1, 1, d);
    CHECK_CLOSE(dot(d, d, IMAGE_DESC_WIDTH), 1.0, 1e-5);
    double grad = 0;
    for (int i = 96 + 48; i < IMAGE_DESC_WIDTH; i++) grad += fabs(d[i]);
    CHECK(grad == 0);
    /* one colour bin only */
    int nz = 0;
    for (int i = 0; i < 96; i++) nz += d[i] != 0;
    CHECK(nz == 1);
    /* vertical stripes vs horizontal stripes: same colours, different gradients */
    uint8_t v[16 * 16 * 3], h[16 * 16 * 3];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            memset(v + 3 * (y * 16 + x), (x / 2) % 2 ? 255 : 0, 3);
            memset(h + 3 * (y * 16 + x), (y / 2) % 2 ? 255 : 0, 3);
        }
    image_describe_rgb(v, 16, 16, d);
    image_describe_rgb(h, 16, 16, e);
    CHECK_CLOSE(dot(d, e, 96), dot(d, d, 96), 1e-5);              /* colour blocks equal */
    CHECK(dot(d + 144, e + 144, 144) < 0.5 * dot(d + 144, d + 144, 144)); /* gradients differ */
}

static void test_command(void) {
    const char *dir = td_dir("features_image");
    CHECK(td_run("prepare --out %s --inter " FX "shop.inter", dir) == 0);
    int rc = td_run("featurize image --dir %s --images " FX "images --image-map " FX "images/map.tsv --map-header --threads 1 --no-center", dir);
    CHECK_MSG(rc == 0, "%s", td_err);
    CHECK(strstr(td_out, "3 without an image") != NULL);
    char p[1200], q[1200];
    snprintf(p, sizeof p, "%s/features/image.json", dir);
    char *meta = (char *)td_read(p, NULL);
    CHECK(meta && strstr(meta, "\"missing\":\t[3, 4, 5]") && strstr(meta, "\"kind\":\t\"image\"") && strstr(meta, "\"width\":\t288"));
    free(meta);
    snprintf(p, sizeof p, "%s/features/image.f32", dir);
    size_t n;
    float *x = (float *)td_read(p, &n);
    CHECK(x && n == 6 * IMAGE_DESC_WIDTH * 4);
    float ref[IMAGE_DESC_WIDTH];
    char err[200];
    image_describe_file(FX "images/p3.jpg", ref, err, sizeof err);
    if (x) {
        CHECK(!memcmp(x + 2 * IMAGE_DESC_WIDTH, ref, sizeof ref)); /* sku-3 = item 2 = p3.jpg */
        CHECK(dot(x + 5 * IMAGE_DESC_WIDTH, x + 5 * IMAGE_DESC_WIDTH, IMAGE_DESC_WIDTH) == 0);
    }
    free(x);
    /* more threads, same bytes */
    rc = td_run("featurize image --dir %s --name image3 --images " FX "images --image-map " FX "images/map.tsv --map-header --threads 3 --no-center", dir);
    CHECK_MSG(rc == 0, "%s", td_err);
    snprintf(q, sizeof q, "%s/features/image3.f32", dir);
    CHECK(td_same_file(p, q));
    /* the default centres the descriptors on their mean: still unit rows, zero rows kept */
    rc = td_run("featurize image --dir %s --name centred --images " FX "images --image-map " FX "images/map.tsv --map-header", dir);
    CHECK_MSG(rc == 0, "%s", td_err);
    snprintf(q, sizeof q, "%s/features/centred.f32", dir);
    x = (float *)td_read(q, &n);
    CHECK(x && n == 6 * IMAGE_DESC_WIDTH * 4 && !td_same_file(p, q));
    for (int i = 0; x && i < 6; i++) {
        double nn = dot(x + i * IMAGE_DESC_WIDTH, x + i * IMAGE_DESC_WIDTH, IMAGE_DESC_WIDTH);
        if (i < 3)
            CHECK_CLOSE(nn, 1.0, 1e-5);
        else
            CHECK(nn == 0);
    }
    /* three centred rows sum to zero before normalisation, so no two point the same way */
    if (x) CHECK(dot(x, x + IMAGE_DESC_WIDTH, IMAGE_DESC_WIDTH) < 0.5);
    free(x);

    /* Without a map: the file name is the pattern applied to the key; absent files are missing. */
    const char *d2 = td_dir("features_image_pattern");
    CHECK(td_run("prepare --out %s --inter " FX "digits_seq.txt --inter-format sequences", d2) == 0);
    rc = td_run("featurize image --dir %s --images " FX "images --pattern 'p{}.jpg' --threads 2", d2);
    CHECK_MSG(rc == 0, "%s", td_err);
    snprintf(p, sizeof p, "%s/features/image.json", d2);
    meta = (char *)td_read(p, NULL);
    CHECK(meta && strstr(meta, "\"missing\":\t[1, 3]")); /* items "2" (p2 is a PNG) and "4" */
    free(meta);
    /* the same through a dataset description */
    char json[1200];
    snprintf(json, sizeof json, "%s/images.json", d2);
    FILE *f = fopen(json, "w");
    fprintf(f, "{\"images\": {\"dir\": \"%s/" FX "images\", \"pattern\": \"p{}.jpg\"}}\n", td_cwd());
    fclose(f);
    rc = td_run("featurize image --dir %s --name viajson --dataset %s", d2, json);
    CHECK_MSG(rc == 0, "%s", td_err);
    snprintf(p, sizeof p, "%s/features/image.f32", d2);
    snprintf(q, sizeof q, "%s/features/viajson.f32", d2);
    CHECK(td_same_file(p, q));
}

int main(void) {
    test_decode();
    test_descriptor();
    test_command();
    return check_done("test_features_image");
}
