/* cmd_site.c - `mdsrec site`: a bundle, its catalogue and the product images as a static
   directory any static host serves (docs/SITE.md): the demo's storefront and kiosk pages with
   the store's name, the shim, the wasm cores, the bundle (its CATALOG rewritten to point at the
   copied images), the images and the kiosk's service worker. Written into a temporary
   directory beside --out and renamed into place, so a failure leaves nothing half-written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "export/catalog_gz.h"
#include "mdsrec.h"
#include "options.h"
#include "src/bundle.h"
#include "data/catalog.h"
#include "data/keymap.h"
#include "data/prepared.h"
#include "data/source.h"
#include "data/utf8.h"
#include "site/files.h"
#include "site/images.h"
#include "site/pages.h"
#include "site/web.h"

const char cmd_site_summary[] = "a bundle, its catalogue and images -> a static storefront and kiosk site";

#define MARKER "mdsrec-site.json"  /* what marks a directory as a site this command wrote */
#define IMAGE_FIELD "\x01image"    /* --catalog's image column, before it becomes "image" */
#define MAX_ORIGINS 16
#define MAX_TITLE 200

typedef struct {
    const char *bundle, *out, *title, *catalog, *key_col, *display, *images, *pattern, *column, *web;
    int catalog_format, remote;
    uint32_t image_size;
} options;

typedef struct {
    char *list[MAX_ORIGINS];
    unsigned n;
    char joined[MAX_ORIGINS * 260];
} origins;

/* The directory part of path ("." for a bare name), malloc'd. */
static char *dir_of(const char *path) {
    const char *s = strrchr(path, '/');
    if (!s) return strdup(".");
    if (s == path) return strdup("/");
    char *d = strndup(path, (size_t)(s - path));
    return d;
}

/* ---------------------------------------------------------------- the catalogue rows */

/* The bundle's own catalogue fields under rows (one object per item): a field --catalog
   gave stays, the others come from the bundle, so a file of pictures or prices alone keeps
   the titles. Nothing when the bundle has no catalogue of n objects. */
static void merge_bundle_rows(const mdsrec_model *m, const char *path, uint32_t n, cJSON *rows) {
    size_t len;
    char *cat = NULL;
    cJSON *base = !catalog_of_model(m, path, &cat, &len) && cat ? cJSON_ParseWithLength(cat, len) : NULL;
    free(cat);
    if (cJSON_IsArray(base) && (uint32_t)cJSON_GetArraySize(base) == n) {
        const cJSON *b = base->child;
        for (cJSON *r = rows->child; r && b; r = r->next, b = b->next) {
            if (!cJSON_IsObject(b)) continue;
            for (const cJSON *f = b->child; f; f = f->next)
                if (f->string && !cJSON_HasObjectItem(r, f->string))
                    cJSON_AddItemToObject(r, f->string, cJSON_Duplicate(f, 1));
        }
    }
    cJSON_Delete(base);
}

/* One JSON object per item, in item order: from --catalog (over the bundle's own fields) (its display fields), the bundle's
   CATALOG, or empty objects. NULL after cli_error. */
static cJSON *load_rows(const options *o, const mdsrec_model *m, uint32_t n) {
    cJSON *rows = NULL;
    if (o->catalog) {
        keymap items;
        keymap_init(&items);
        dataset_desc d;
        dataset_desc_init(&d);
        char *disp = NULL, *text = NULL;
        for (uint32_t i = 0; i < n; i++) {
            size_t len;
            const char *k = mdsrec_item_key(m, i, &len);
            char *key = strndup(k, len);
            int added = 0;
            if (!key || keymap_add(&items, key, &added) == UINT32_MAX || !added) {
                free(key);
                cli_error("%s: out of memory for its keys", o->bundle);
                goto cat_done;
            }
            free(key);
        }
        const char *shown = o->display ? o->display : "";
        size_t dl = strlen(shown) + (o->column ? strlen(o->column) + 16 : 0);
        if (!(disp = malloc(dl + 1))) goto cat_done;
        snprintf(disp, dl + 1, "%s%s%s%s", shown, o->column ? "," : "", o->column ? IMAGE_FIELD "=" : "",
                 o->column ? o->column : "");
        if (ds_set(&d.catalog.path, o->catalog) || (o->key_col && ds_set(&d.catalog.key, o->key_col)) ||
            ds_set_display_fields(&d, disp) != 0)
            goto cat_done;
        if (o->catalog_format >= 0) d.catalog.format = (table_format)o->catalog_format;
        uint32_t missing = 0;
        if (!(text = catalog_display_jsonl(&d.catalog, &items, &missing))) goto cat_done;
        if (!(rows = cJSON_CreateArray())) goto cat_done;
        char *p = text;
        for (uint32_t i = 0; i < n; i++) {
            char *nl = strchr(p, '\n');
            cJSON *row = nl ? cJSON_ParseWithLength(p, (size_t)(nl - p)) : NULL;
            if (!row) {
                cli_error("%s: the catalogue rows could not be read back (item %u)", o->catalog, i);
                cJSON_Delete(rows);
                rows = NULL;
                goto cat_done;
            }
            cJSON_AddItemToArray(rows, row);
            p = nl + 1;
        }
        if (missing) fprintf(stderr, "mdsrec site: %s: %u of %u items have no catalogue row\n", o->catalog, missing, n);
        merge_bundle_rows(m, o->bundle, n, rows);
    cat_done:
        free(disp);
        free(text);
        dataset_desc_free(&d);
        keymap_free(&items);
        return rows;
    }
    size_t len;
    char *cat = NULL;
    if (catalog_of_model(m, o->bundle, &cat, &len)) return NULL;
    if (!cat) {
        rows = cJSON_CreateArray();
        for (uint32_t i = 0; rows && i < n; i++) cJSON_AddItemToArray(rows, cJSON_CreateObject());
        return rows;
    }
    rows = cJSON_ParseWithLength(cat, len);
    free(cat);
    if (!cJSON_IsArray(rows) || (uint32_t)cJSON_GetArraySize(rows) != n) {
        cli_error("%s: its CATALOG is not a JSON array of %u objects (one per item)", o->bundle, n);
        cJSON_Delete(rows);
        return NULL;
    }
    for (cJSON *r = rows->child; r; r = r->next) {
        if (!cJSON_IsObject(r)) {
            cli_error("%s: its CATALOG holds a %s where an item's object was expected", o->bundle,
                      cJSON_IsArray(r) ? "list" : "value");
            cJSON_Delete(rows);
            return NULL;
        }
    }
    return rows;
}

/* ---------------------------------------------------------------- images */

/* An http(s) URL's origin into og (once); 0, or -1 when the URL has none or too many. */
static int add_origin(origins *og, const char *url) {
    const char *host = strstr(url, "://") + 3;
    size_t n = strcspn(host, "/?#") + (size_t)(host - url);
    if (n == (size_t)(host - url) || n > 255) return -1;
    for (unsigned i = 0; i < og->n; i++)
        if (strlen(og->list[i]) == n && !strncmp(og->list[i], url, n)) return 0;
    if (og->n == MAX_ORIGINS) return -1;
    og->list[og->n++] = strndup(url, n);
    size_t at = strlen(og->joined);
    snprintf(og->joined + at, sizeof og->joined - at, "%s%.*s", at ? " " : "", (int)n, url);
    return 0;
}

static int is_remote(const char *v) { return !strncmp(v, "http://", 7) || !strncmp(v, "https://", 8); }

/* Item i's image: found, copied (or downscaled) into images/, and row's "image" set to its
   path in the site, or to the URL (--remote-images); the field removed when it has none.
   1 when the item got an image, 0 when not, -1 after cli_error. */
static int item_image(const options *o, const char *base, const char *key, cJSON *row, const char *img_dir,
                      origins *og) {
    char *src = NULL;
    const char *field = !o->column ? NULL : o->catalog ? IMAGE_FIELD : o->column;
    if (field) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, field);
        const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
        if (!s || !*s) {
            cJSON_DeleteItemFromObjectCaseSensitive(row, IMAGE_FIELD);
            cJSON_DeleteItemFromObjectCaseSensitive(row, "image");
            return 0;
        }
        if (is_remote(s)) {
            if (!o->remote) {
                cli_error("%s: item \"%s\": its image \"%.200s\" is on another host: copy the images into a folder "
                          "(--images DIR, with the catalogue's file names in --image-column), or pass --remote-images "
                          "to load them from there (that host then sees which products each visitor is shown)",
                          o->catalog ? o->catalog : o->bundle, key, s);
                return -1;
            }
            if (add_origin(og, s) != 0) {
                cli_error("%s: item \"%s\": image URL \"%.200s\": no host, or more than %d image hosts", 
                          o->catalog ? o->catalog : o->bundle, key, s, MAX_ORIGINS);
                return -1;
            }
            cJSON *url = cJSON_CreateString(s);
            cJSON_DeleteItemFromObjectCaseSensitive(row, IMAGE_FIELD);
            if (!url || (cJSON_GetObjectItemCaseSensitive(row, "image") ? !cJSON_ReplaceItemInObjectCaseSensitive(row, "image", url)
                                                                       : !cJSON_AddItemToObject(row, "image", url)))
                return -1;
            return 1;
        }
        if (strstr(s, ":") && strcspn(s, ":") < strcspn(s, "/")) {
            cli_error("%s: item \"%s\": image \"%.200s\": expected a file path or an http(s) URL",
                      o->catalog ? o->catalog : o->bundle, key, s);
            return -1;
        }
        src = s[0] == '/' ? strdup(s) : path_join(o->images ? o->images : base, s);
        if (!src) return -1;
    } else if (o->images) {
        src = site_image_find(o->images, o->pattern, key);
        if (!src) {
            cJSON_DeleteItemFromObjectCaseSensitive(row, "image");
            return 0;
        }
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(row, "image");
        return 0;
    }
    char stem[24], name[64];
    snprintf(stem, sizeof stem, "%016llx", (unsigned long long)fnv1a64(key, strlen(key), FNV1A64_INIT));
    int rc = site_image_put(src, img_dir, stem, o->image_size, name, sizeof name);
    if (rc != 0) fprintf(stderr, "mdsrec site: (the image of item \"%s\")\n", key);
    free(src);
    if (rc != 0) return -1;
    char rel[80];
    snprintf(rel, sizeof rel, "images/%s", name);
    cJSON *v = cJSON_CreateString(rel);
    cJSON_DeleteItemFromObjectCaseSensitive(row, IMAGE_FIELD);
    cJSON_DeleteItemFromObjectCaseSensitive(row, "image");
    if (!v || !cJSON_AddItemToObject(row, "image", v)) return -1;
    return 1;
}

/* ---------------------------------------------------------------- the site */

static int copy_list(const char *web, const char *tmp, const char *const *files, int optional) {
    for (const char *const *f = files; *f; f++) {
        char *src = path_join(web, *f), *dst = path_join(tmp, *f);
        int rc = !src || !dst ? -1 : optional && access(src, R_OK) != 0 ? 0 : site_copy_file(src, dst);
        free(src);
        free(dst);
        if (rc) return -1;
    }
    return 0;
}

static int write_manifest(const char *tmp, const options *o, uint32_t n, uint32_t with_image, const origins *og) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "title", o->title);
    cJSON_AddStringToObject(j, "model", "model.mdsb");
    cJSON_AddNumberToObject(j, "items", n);
    cJSON_AddNumberToObject(j, "images", with_image);
    cJSON *arr = cJSON_AddArrayToObject(j, "imageOrigins");
    for (unsigned i = 0; arr && i < og->n; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(og->list[i]));
    cJSON_AddStringToObject(j, "pages", "index.html (storefront), kiosk.html (kiosk, offline)");
    char *p = path_join(tmp, MARKER);
    int rc = p ? write_json_file(p, j) : -1;
    free(p);
    cJSON_Delete(j);
    return rc;
}

static int build(const options *o, const char *web, const char *tmp) {
    double t0 = cli_now();
    size_t len;
    uint8_t *buf = cli_read_file(o->bundle, &len), *nb = NULL;
    if (!buf) return -1;
    mdsrec_model *m = NULL;
    mdsrec_error err = {0};
    cJSON *rows = NULL;
    char *json = NULL, *base = NULL, *img_dir = NULL;
    origins og = {0};
    int rc = -1;
    if (mdsrec_open(buf, len, &m, &err) != MDSREC_OK) {
        cli_error("%s: %s", o->bundle, err.message);
        goto done;
    }
    uint32_t n = mdsrec_model_config(m)->n_items, with_image = 0;
    if (!(rows = load_rows(o, m, n))) goto done;
    base = dir_of(o->catalog ? o->catalog : o->bundle);
    const char *sub[] = {"demo", "wasm", "images"};
    for (int i = 0; i < 3; i++) {
        char *d = path_join(tmp, sub[i]);
        int bad = !d || site_mkdirs(d) != 0;
        if (i == 2 && !bad) img_dir = d;
        else free(d);
        if (bad) goto done;
    }
    cli_progress bar;
    cli_progress_start(&bar, "images", n);
    uint32_t i = 0, had_image = 0;
    for (cJSON *row = rows->child; row; row = row->next, i++) {
        size_t kl;
        const char *k = mdsrec_item_key(m, i, &kl);
        char key[MDSREC_MAX_KEY_LEN + 1];
        memcpy(key, k, kl);
        key[kl] = 0;
        had_image += cJSON_GetObjectItemCaseSensitive(row, "image") != NULL;
        int got = item_image(o, base, key, row, img_dir, &og);
        if (got < 0) {
            cli_progress_end(&bar);
            goto done;
        }
        with_image += (uint32_t)got;
        cli_progress_update(&bar, i + 1);
    }
    cli_progress_end(&bar);
    if (o->images && !o->column && !with_image) {
        cli_error("%s: no item has an image file here (file names %s from the item key): expected one or more",
                  o->images, o->pattern ? o->pattern : "KEY.jpg, .jpeg, .png, .webp or .gif");
        goto done;
    }
    if (!o->images && !o->column && had_image)
        fprintf(stderr, "mdsrec site: %u catalogue rows name an image; the site shows none of them without --images "
                        "or --image-column (a site copies its images, see docs/SITE.md)\n", had_image);
    if (!(json = cJSON_PrintUnformatted(rows))) goto done;
    size_t nl, gz_len;
    uint8_t *gz; /* the site's catalogue as CATALOG_GZ: a fifth of the JSON's bytes to download */
    if (catalog_gzip(json, strlen(json), &gz, &gz_len)) goto done;
    mdsrec_status rs = bundle_replace_catalog(buf, len, (const char *)gz, gz_len, 1, &nb, &nl, &err);
    free(gz);
    if (rs != MDSREC_OK) {
        cli_error("%s: %s", o->bundle, err.message);
        goto done;
    }
    char *model = path_join(tmp, "model.mdsb");
    int wr = model ? cli_write_file(model, nb, nl) : -1;
    free(model);
    if (wr) goto done;
    if (copy_list(web, tmp, SITE_WEB_FILES, 0) || copy_list(web, tmp, SITE_WEB_OPTIONAL, 1)) goto done;
    for (const char *const *pg = SITE_WEB_PAGES; *pg; pg++) {
        char *src = path_join(web, *pg), *dst = path_join(tmp, *pg);
        int bad = !src || !dst || site_write_page(src, dst, o->title, "model.mdsb", og.joined) != 0;
        free(src);
        free(dst);
        if (bad) goto done;
    }
    if (write_manifest(tmp, o, n, with_image, &og) != 0) goto done;
    fprintf(stderr, "mdsrec site: %u items, %u with an image, bundle %zu bytes, in %.2f s\n", n, with_image, nl,
            cli_now() - t0);
    rc = 0;
done:
    for (unsigned j = 0; j < og.n; j++) free(og.list[j]);
    free(img_dir);
    free(base);
    free(json);
    free(nb);
    cJSON_Delete(rows);
    mdsrec_close(m);
    free(buf);
    return rc;
}

static const char *title_check(const char *v) {
    size_t n = strlen(v);
    return n && n <= MAX_TITLE && utf8_check((const uint8_t *)v, n) == n ? NULL : "1..200 bytes of UTF-8";
}

int cmd_site(int argc, char **argv) {
    options o = {.title = "Shop", .catalog_format = -1, .image_size = 480};
    const opt rows[] = {
        {"--bundle", OPT_STRING, &o.bundle, "FILE", .help = "the model bundle (.mdsb)", .flags = OPT_REQUIRED},
        {"--out", OPT_STRING, &o.out, "DIR", .help = "the site directory (written atomically; a site written\n"
                                                      "before is replaced, anything else refused)", .flags = OPT_REQUIRED,
         .alias = "-o"},
        {"--title", OPT_STRING, &o.title, "TEXT", .help = "the store's name on the pages", .check = title_check},
        {"--catalog", OPT_STRING, &o.catalog, "PATH",
         .help = "a catalogue file, read as `mdsrec prepare` reads it (else the\nbundle's own catalogue)"},
        {"--catalog-format", OPT_CHOICE, &o.catalog_format, .help = "the catalogue's format",
         .lookup = &opt_table_format_enum, .def = "auto"},
        {"--key-col", OPT_STRING, &o.key_col, "C", .help = "the catalogue's item key column", .def = "item_id"},
        {"--display", OPT_STRING, &o.display, "LIST",
         .help = "with --catalog: the fields shown, NAME=COLUMN,... (title=name,price=price);\n"
                 "they replace the bundle's fields of the same name"},
        {"--images", OPT_STRING, &o.images, "DIR",
         .help = "folder of product images: by item key (KEY.jpg, .jpeg, .png,\n.webp, .gif), or the files "
                 "--image-column names"},
        {"--image-pattern", OPT_STRING, &o.pattern, "P", .help = "with --images: the file name, {} for the key",
         .def = "KEY.jpg, .jpeg, .png, .webp, .gif"},
        {"--image-column", OPT_STRING, &o.column, "NAME",
         .help = "the catalogue field holding each item's image: a file (relative\nto --images, else to the "
                 "catalogue's folder) or an http(s) URL"},
        {"--image-size", OPT_U32, &o.image_size, "PX",
         .help = "a PNG or JPEG larger than PX on its longer side is downscaled;\n0 copies every image as it is",
         .min = 0, .max = 8192},
        {"--remote-images", OPT_FLAG, &o.remote,
         .help = "keep http(s) image URLs (their host sees which products a\nvisitor is shown); else they are an error"},
        {"--web", OPT_STRING, &o.web, "DIR", .help = "mdsrec's web/ directory", .def = "found beside the executable"},
    };
    const opt_cmd cmd = {"site",
                         .about = "Writes a static site from a bundle, its catalogue and product images: the storefront\n"
                                  "(index.html) and the kiosk (kiosk.html, works offline), with the shim, the wasm cores,\n"
                                  "the bundle and the images. Serve the directory with any static host (docs/SITE.md).",
                         .opts = rows,
                         .n_opts = OPT_COUNT(rows)};
    int rc = opt_parse(&cmd, argc, argv);
    if (rc != OPT_PROCEED) return rc;
    if (o.catalog && !o.display && !o.column)
        return opt_usage_error(&cmd, "--catalog needs --display NAME=COLUMN,... or --image-column NAME");
    if (!o.catalog && (o.display || o.key_col || o.catalog_format >= 0))
        return opt_usage_error(&cmd, "--display, --key-col and --catalog-format need --catalog");
    if (o.pattern && !o.images) return opt_usage_error(&cmd, "--image-pattern needs --images");
    if (o.pattern && o.column) return opt_usage_error(&cmd, "--image-pattern and --image-column exclude each other");
    if (o.pattern && !strstr(o.pattern, "{}")) return opt_usage_error(&cmd, "--image-pattern: expected {} for the key");
    char web[4096];
    if (site_find_web(o.web, web, sizeof web) != 0) return CLI_EXIT_FAIL;
    /* "site/" and "site" are one directory: the temporary one goes beside it, not inside */
    size_t ol = strlen(o.out), tl = ol + 32;
    while (ol > 1 && o.out[ol - 1] == '/') ol--;
    char *out = strndup(o.out, ol), *tmp = malloc(tl);
    if (!out || !tmp) {
        free(out);
        free(tmp);
        return CLI_EXIT_FAIL;
    }
    snprintf(tmp, tl, "%s.tmp.%ld", out, (long)getpid());
    site_remove_tree(tmp);
    rc = site_mkdirs(tmp) != 0 || build(&o, web, tmp) != 0 || site_commit_dir(tmp, out, MARKER) != 0;
    if (rc) site_remove_tree(tmp);
    else printf("%s: the storefront is index.html, the kiosk kiosk.html (serve it: node scripts/serve.mjs --root %s)\n",
                out, out);
    free(out);
    free(tmp);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
