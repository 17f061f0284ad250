/*
 * test_site.c - `mdsrec site` on bundles made here by `mdsrec synth` and a web/ directory made
 * here (the real demo pages, stand-ins for the scripts and the wasm cores, so the test needs
 * no wasm build): the output layout, the pages' title and bundle, the bundle's rewritten
 * catalogue (titles from a TSV, images by key, every other section kept: the same
 * recommendations), an image downscaled, a site replaced by a second run; and the errors
 * (usage exit 2; bad bundle, image, web/ or --out exit 1 naming it), each leaving the
 * previous site as it was and no temporary directory. Also bundle_replace_catalog directly
 * on an int8 bundle: the item bytes kept exactly, the catalog dropped.
 */
#include <cjson/cJSON.h>
#include <stb_image.h>
#include <stb_image_write.h>

#include "check.h"
#include "mdsrec.h"
#include "src/bundle.h"
#include "export/catalog_gz.h"
#include "test_data_helpers.h"

#define N 12

static const char *const STUBS[] = {"mdsrec.js", "worker.js", "render.js", "kiosk-sw.js", "demo/app.js", "demo/style.css",
                                    "demo/icon.svg", "demo/lock.svg", "wasm/mdsrec-simd.wasm", "wasm/mdsrec-scalar.wasm", NULL};

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f) fwrite(data, 1, len, f), fclose(f);
}

static int contains(const char *path, const char *needle) {
    uint8_t *b = td_read(path, NULL);
    int hit = b && strstr((const char *)b, needle);
    free(b);
    return hit;
}

/* A web/ directory: the real pages, every other file a stand-in naming itself. */
static void make_web(const char *web) {
    char p[1400], cmd[3000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/demo' '%s/wasm' && cp web/index.html web/kiosk.html '%s/'", web, web, web);
    CHECK(system(cmd) == 0);
    for (const char *const *f = STUBS; *f; f++) {
        snprintf(p, sizeof p, "%s/%s", web, *f);
        write_file(p, *f, strlen(*f));
    }
}

/* The bundle's catalogue as parsed JSON (NULL if none or unreadable). */
static cJSON *bundle_catalog(const char *path) {
    size_t len;
    uint8_t *raw = td_read(path, &len);
    void *buf = raw ? aligned_alloc(64, (len + 63) / 64 * 64) : NULL;
    cJSON *j = NULL;
    mdsrec_model *m = NULL;
    if (buf && (memcpy(buf, raw, len), mdsrec_open(buf, len, &m, NULL)) == MDSREC_OK) {
        size_t cl;
        char *c = NULL; /* a site's catalogue is CATALOG_GZ */
        if (!catalog_of_model(m, path, &c, &cl) && c) j = cJSON_ParseWithLength(c, cl);
        free(c);
        mdsrec_close(m);
    }
    free(buf);
    free(raw);
    return j;
}

static const char *field(const cJSON *row, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* No "*.tmp.*" or "*.old.*" entry in dir. */
static int no_leftovers(const char *dir) {
    DIR *d = opendir(dir);
    int clean = d != NULL;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, ".tmp.") || strstr(e->d_name, ".old.")) clean = 0;
    if (d) closedir(d);
    return clean;
}

static void test_replace_catalog(const char *dir) {
    char b[1200];
    snprintf(b, sizeof b, "%s/i8.mdsb", dir);
    CHECK(td_run("synth -o '%s' --items 40 --channels id,text --dim 8 --dtype i8 --catalog --seed 4", b) == 0);
    size_t len;
    uint8_t *raw = td_read(b, &len);
    void *buf = raw ? aligned_alloc(64, (len + 63) / 64 * 64) : NULL;
    if (!buf) {
        CHECK(0);
        free(raw);
        return;
    }
    memcpy(buf, raw, len);
    uint8_t *out = NULL;
    size_t out_len = 0;
    mdsrec_error err;
    CHECK(bundle_replace_catalog(buf, len, NULL, 0, 0, &out, &out_len, &err) == MDSREC_OK);
    bundle_view a, c;
    CHECK(bundle_read(buf, len, &a, NULL) == MDSREC_OK && a.catalog);
    CHECK(out && bundle_read(out, out_len, &c, NULL) == MDSREC_OK);
    if (out) {
        CHECK(c.catalog == NULL);
        CHECK(!memcmp(a.ch[1].items, c.ch[1].items, 40 * 8) && !memcmp(a.ch[1].scales, c.ch[1].scales, 40 * 4));
        CHECK(!memcmp(a.key_bytes, c.key_bytes, a.key_offsets[40]));
        CHECK(out_len < len);
    }
    free(out);
    /* a bundle with a flipped byte is refused, as bundle_read refuses it */
    ((uint8_t *)buf)[len / 2] ^= 0x10;
    CHECK(bundle_replace_catalog(buf, len, "[]", 2, 0, &out, &out_len, &err) == MDSREC_ECHECKSUM && out == NULL);
    free(buf);
    free(raw);
}

/* CATALOG_GZ through the tools: zlib's member inflates to the JSON it came from, `synth
   --catalog-format gzip` writes what `inspect` inflates, and a member whose frame is sound but
   whose body is not fails `inspect` (the core cannot tell) while `recommend` shows keys. */
static void test_catalog_gzip(const char *dir) {
    char j[1200], g[1200], bad[1200];
    snprintf(j, sizeof j, "%s/cj.mdsb", dir);
    snprintf(g, sizeof g, "%s/cg.mdsb", dir);
    snprintf(bad, sizeof bad, "%s/cbad.mdsb", dir);
    const char *args = "--items 60 --channels id,text --dim 8 --catalog --seed 6";
    CHECK(td_run("synth -o '%s' %s", j, args) == 0);
    CHECK(td_run("synth -o '%s' %s --catalog-format gzip", g, args) == 0);
    size_t jl, gl;
    uint8_t *jr = td_read(j, &jl), *gr = td_read(g, &gl);
    void *jb = jr ? aligned_alloc(64, (jl + 63) / 64 * 64) : NULL, *gb = gr ? aligned_alloc(64, (gl + 63) / 64 * 64) : NULL;
    bundle_view jv, gv;
    if (!jb || !gb || (memcpy(jb, jr, jl), memcpy(gb, gr, gl), bundle_read(jb, jl, &jv, NULL)) ||
        bundle_read(gb, gl, &gv, NULL)) {
        CHECK(0);
        goto out;
    }
    CHECK(jv.catalog && !jv.catalog_gz && gv.catalog_gz && !gv.catalog);
    CHECK(gv.catalog_gz_len * 3 < jv.catalog_len); /* repeated field names: gzip takes most of it */
    char *json = NULL;
    size_t n = 0;
    CHECK(catalog_of_view(&gv, g, &json, &n) == 0 && n == jv.catalog_len && json && !memcmp(json, jv.catalog, n));
    free(json);
    CHECK(catalog_of_view(&jv, j, &json, &n) == 0 && n == jv.catalog_len && json && !memcmp(json, jv.catalog, n));
    free(json);
    uint8_t *gz = NULL;
    size_t gzl = 0;
    CHECK(catalog_gzip(jv.catalog, jv.catalog_len, &gz, &gzl) == 0 && gzl == gv.catalog_gz_len &&
          !memcmp(gz, gv.catalog_gz, gzl)); /* deterministic: no name, no time */
    free(gz);
    CHECK(td_run("inspect '%s'", g) == 0 && strstr(td_out, "catalog     gzip, ") && strstr(td_out, "inflates to "));
    char want[64];
    snprintf(want, sizeof want, "inflates to %zu bytes of JSON", jv.catalog_len);
    CHECK_MSG(strstr(td_out, want), "%s", td_out);
    /* recommend shows titles from either form */
    CHECK(td_run("recommend '%s' --history item-000000,item-000001 -k 3", g) == 0 && strstr(td_out, "rank  item"));

    /* a sound frame around a body that is not deflate */
    uint8_t junk[40];
    memset(junk, 0xA5, sizeof junk);
    memcpy(junk, "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10);
    uint8_t *out = NULL;
    size_t ol;
    mdsrec_error err;
    CHECK(bundle_replace_catalog(gb, gl, (const char *)junk, sizeof junk, 1, &out, &ol, &err) == MDSREC_OK);
    bundle_view bv;
    if (out && bundle_read(out, ol, &bv, NULL) == MDSREC_OK) {
        CHECK(catalog_of_view(&bv, bad, &json, &n) == -1 && json == NULL);
        FILE *f = fopen(bad, "wb");
        CHECK(f && fwrite(out, 1, ol, f) == ol);
        if (f) fclose(f);
        CHECK(td_run("inspect '%s'", bad) == 1 && strstr(td_err, "section CATALOG_GZ: not valid gzip data"));
        CHECK(td_run("recommend '%s' --history item-000000 -k 2", bad) == 0 && strstr(td_out, "rank  key") &&
              strstr(td_err, "section CATALOG_GZ"));
    } else {
        CHECK(0);
    }
    free(out);
out:
    free(jb), free(gb), free(jr), free(gr);
}

int main(void) {
    const char *dir = td_dir("site");
    char web[1100], bundle[1100], imgs[1100], tsv[1100], out[1100], p[1400], q[1400];
    snprintf(web, sizeof web, "%s/web", dir);
    snprintf(bundle, sizeof bundle, "%s/shop.mdsb", dir);
    snprintf(imgs, sizeof imgs, "%s/imgs", dir);
    snprintf(tsv, sizeof tsv, "%s/products.tsv", dir);
    snprintf(out, sizeof out, "%s/out/site", dir);
    make_web(web);
    CHECK(td_run("synth -o '%s' --items %d --channels id,image,text --dim 8 --neighbours 3 --catalog --seed 5", bundle, N) == 0);

    /* the catalogue and the images: items 0..5 have one (item 1 a 64x40 PNG to downscale,
       item 2 a JPEG), the others none */
    FILE *f = fopen(tsv, "w");
    fprintf(f, "item_id\tname\tprice\textra\n");
    for (int i = 0; i < N; i++) fprintf(f, "item-%06d\tThing \"%d\" & co\t%d.50\tx\n", i, i, i + 1);
    fclose(f);
    mkdir(imgs, 0777);
    uint8_t px[64 * 40 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/item-%06d.%s", imgs, i, i == 2 ? "jpg" : "png");
        CHECK(i == 2 ? stbi_write_jpg(p, 8, 8, 3, px, 90) : i == 1 ? stbi_write_png(p, 64, 40, 3, px, 64 * 3)
                                                                   : stbi_write_png(p, 8, 8, 3, px, 8 * 3));
    }
    snprintf(p, sizeof p, "%s/unrelated.png", imgs);
    write_file(p, "not an image", 12);

    /* ---------------------------------------------------------------- a site */
    int rc = td_run("site --bundle '%s' --out '%s' --web '%s' --title 'A & B <shop>' --catalog '%s' "
                    "--display title=name,price=price --images '%s' --image-size 16",
                    bundle, out, web, tsv, imgs);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, td_err);
    const char *layout[] = {"index.html", "kiosk.html", "model.mdsb", "mdsrec-site.json", "images", NULL};
    for (const char **l = layout; *l; l++) {
        snprintf(p, sizeof p, "%s/%s", out, *l);
        CHECK_MSG(td_exists(p), "%s missing", p);
    }
    for (const char *const *s = STUBS; *s; s++) {
        snprintf(p, sizeof p, "%s/%s", out, *s);
        snprintf(q, sizeof q, "%s/%s", web, *s);
        CHECK_MSG(td_same_file(p, q), "%s is not a copy of web/", *s);
    }
    snprintf(p, sizeof p, "%s/wasm/mdsrec-relaxed.wasm", out);
    CHECK(!td_exists(p)); /* optional, and absent from this web/ */
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%s", out, k ? "kiosk.html" : "index.html");
        CHECK(contains(p, "<title>A &amp; B &lt;shop&gt;</title>"));
        CHECK(contains(p, "<span id=\"store-name\">A &amp; B &lt;shop&gt;</span>"));
        CHECK(contains(p, "data-model=\"model.mdsb\" data-title=\"A &amp; B &lt;shop&gt;\""));
        CHECK(!contains(p, "data-image-origins"));
    }
    snprintf(p, sizeof p, "%s/kiosk.html", out);
    CHECK(contains(p, "class=\"kiosk\" data-kiosk=\"1\""));

    /* the bundle: the TSV's fields, the site's images, nothing of the synth catalogue */
    snprintf(p, sizeof p, "%s/model.mdsb", out);
    cJSON *cat = bundle_catalog(p);
    CHECK(cJSON_GetArraySize(cat) == N);
    int i = 0, images = 0;
    for (const cJSON *row = cat ? cat->child : NULL; row; row = row->next, i++) {
        char want[64];
        snprintf(want, sizeof want, "Thing \"%d\" & co", i);
        CHECK(field(row, "title") && !strcmp(field(row, "title"), want));
        CHECK(cJSON_IsNumber(cJSON_GetObjectItem(row, "price")));
        CHECK(!cJSON_GetObjectItem(row, "extra"));
        /* the bundle's own fields stay where the TSV has none */
        snprintf(want, sizeof want, "https://example.com/p/item-%06d", i);
        CHECK(field(row, "url") && !strcmp(field(row, "url"), want));
        const char *img = field(row, "image");
        CHECK_MSG((img != NULL) == (i < 6), "item %d: image %s", i, img ? img : "(none)");
        if (!img) continue;
        images++;
        CHECK(!strncmp(img, "images/", 7) && strlen(img) == 7 + 16 + 4);
        CHECK(!strcmp(img + strlen(img) - 4, i == 1 || i == 2 ? ".jpg" : ".png"));
        snprintf(q, sizeof q, "%s/%s", out, img);
        int w = 0, h = 0, c = 0;
        CHECK_MSG(stbi_info(q, &w, &h, &c), "%s", q);
        if (i == 1) CHECK(w == 16 && h == 10); /* 64x40 fitted into 16 */
        if (i == 0) CHECK(w == 8 && h == 8);
        if (i == 0) { /* copied byte for byte */
            snprintf(p, sizeof p, "%s/item-000000.png", imgs);
            CHECK(td_same_file(p, q));
        }
    }
    CHECK(images == 6);
    cJSON_Delete(cat);
    /* the model itself unchanged: the same recommendations as the input bundle */
    char want[8192];
    CHECK(td_run("recommend '%s' --history item-000003,item-000007 -k 5 --json", bundle) == 0);
    memcpy(want, td_out, sizeof want);
    snprintf(p, sizeof p, "%s/model.mdsb", out);
    CHECK(td_run("recommend '%s' --history item-000003,item-000007 -k 5 --json", p) == 0);
    CHECK(td_out[0] && !strcmp(want, td_out));
    snprintf(p, sizeof p, "%s/mdsrec-site.json", out);
    CHECK(contains(p, "\"items\":\t12") && contains(p, "\"images\":\t6"));
    snprintf(p, sizeof p, "%s/out", dir);
    CHECK(no_leftovers(p));

    /* a second run replaces the site */
    rc = td_run("site --bundle '%s' --out '%s/' --web '%s' --title Second", bundle, out, web);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, td_err);
    CHECK(strstr(td_err, "12 catalogue rows name an image") != NULL); /* synth's URLs, not shown */
    snprintf(p, sizeof p, "%s/index.html", out);
    CHECK(contains(p, "<title>Second</title>"));
    snprintf(p, sizeof p, "%s/model.mdsb", out);
    cat = bundle_catalog(p);
    CHECK(cJSON_GetArraySize(cat) == N && field(cat->child, "title") && !field(cat->child, "image"));
    cJSON_Delete(cat);
    snprintf(p, sizeof p, "%s/out", dir);
    CHECK(no_leftovers(p));

    /* --remote-images keeps the catalogue's URLs and names their host on the pages */
    rc = td_run("site --bundle '%s' --out '%s' --web '%s' --image-column image --remote-images", bundle, out, web);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, td_err);
    snprintf(p, sizeof p, "%s/index.html", out);
    CHECK(contains(p, "data-image-origins=\"https://example.com\""));

    /* ---------------------------------------------------------------- errors */
    int temps;
    snprintf(p, sizeof p, "%s/out", dir);
    uint64_t before = td_fingerprint(p, &temps);
    char bad_web[1100], no_img[1100], corrupt[1100], other[1100];
    snprintf(bad_web, sizeof bad_web, "%s/web-nowasm", dir);
    make_web(bad_web);
    snprintf(q, sizeof q, "%s/wasm/mdsrec-simd.wasm", bad_web);
    remove(q);
    snprintf(no_img, sizeof no_img, "%s/noimg", dir);
    mkdir(no_img, 0777);
    snprintf(corrupt, sizeof corrupt, "%s/corrupt.mdsb", dir);
    size_t bl;
    uint8_t *bb = td_read(bundle, &bl);
    if (bb) bb[bl / 2] ^= 0x40, write_file(corrupt, bb, bl), free(bb);
    snprintf(other, sizeof other, "%s/other", dir);
    mkdir(other, 0777);
    snprintf(q, sizeof q, "%s/keep.txt", other);
    write_file(q, "mine", 4);
    struct {
        int code;
        const char *args, *says;
    } cases[] = {
        {2, "--out '%2$s'", "--bundle"},
        {2, "--bundle '%1$s'", "--out"},
        {2, "--bundle '%1$s' --out '%2$s' --catalog x.tsv", "--catalog needs --display NAME=COLUMN,... or --image-column"},
        {2, "--bundle '%1$s' --out '%2$s' --display title", "need --catalog"},
        {2, "--bundle '%1$s' --out '%2$s' --image-pattern '{}.png'", "--image-pattern needs --images"},
        {2, "--bundle '%1$s' --out '%2$s' --title ''", "--title"},
        {2, "--bundle '%1$s' --out '%2$s' --image-size 99999", "--image-size"},
        {1, "--bundle '%1$s' --out '%2$s' --web '%3$s/nowhere'", "nowhere"},
        {1, "--bundle '%1$s' --out '%2$s' --web '%4$s'", "build the wasm cores"},
        {1, "--bundle '%5$s' --out '%2$s' --web '%3$s/web'", "corrupt.mdsb"},
        {1, "--bundle '%1$s' --out '%2$s' --web '%3$s/web' --images '%6$s'", "no item has an image file here"},
        {1, "--bundle '%1$s' --out '%2$s' --web '%3$s/web' --images '%3$s/imgs' --image-pattern unrelated.png{}",
         "no item has an image file here"},
        {1, "--bundle '%1$s' --out '%2$s' --web '%3$s/web' --image-column image", "is on another host"},
        {1, "--bundle '%1$s' --out '%2$s' --web '%3$s/web' --image-column title", "Item 0: no such image file"},
        {1, "--bundle '%1$s' --out '%7$s' --web '%3$s/web'", "not a site written by mdsrec site"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char args[2048];
        /* positional printf arguments: every case picks the paths it needs */
        snprintf(args, sizeof args, cases[c].args, bundle, out, dir, bad_web, corrupt, no_img, other);
        rc = td_run("site %s", args);
        CHECK_MSG(rc == cases[c].code && strstr(td_err, cases[c].says), "case %zu (%s): exit %d, stderr: %s", c, args, rc,
                  td_err);
        snprintf(p, sizeof p, "%s/out", dir);
        CHECK_MSG(td_fingerprint(p, &temps) == before && temps == 0, "case %zu changed the site", c);
    }
    snprintf(q, sizeof q, "%s/keep.txt", other);
    CHECK(td_exists(q) && contains(q, "mine"));
    CHECK(no_leftovers(dir));
    /* a file that is no image, by an item's key */
    snprintf(p, sizeof p, "%s/item-000004.png", no_img);
    write_file(p, "P6\n1 1\n255\n\0\0\0", 14);
    rc = td_run("site --bundle '%s' --out '%s' --web '%s' --images '%s'", bundle, out, web, no_img);
    CHECK_MSG(rc == 1 && strstr(td_err, "item-000004.png") && strstr(td_err, "PNG, JPEG, GIF or WebP"), "exit %d: %s", rc,
              td_err);
    snprintf(p, sizeof p, "%s/out", dir);
    CHECK(td_fingerprint(p, &temps) == before && temps == 0);

    test_replace_catalog(dir);
    test_catalog_gzip(dir);
    return check_done("test_site");
}
