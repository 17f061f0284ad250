/*
 * cmd_featurize.c - `mdsrec featurize text|image|matrix|attributes`: adds a feature matrix
 * (features/NAME.f32 + NAME.json, docs/DATASET.md) to a prepared directory.
 *
 *   text        catalog text fields -> hashed TF-IDF -> seeded projection (features/text.h)
 *   image       image files -> colour/layout/gradient descriptor (features/image.h)
 *   matrix      a precomputed .npy / raw float32 / CSV matrix with its row keys (data/matrix.h)
 *   attributes  per-item attribute lists -> IDF-weighted multi-hot (features/attributes.h)
 *
 * An item that lacks the modality (no catalog row or no text; no image) gets an all-zero row
 * and is listed in "missing" of NAME.json and counted in summary.json. Inputs are read and
 * checked before anything is written. A run where no item has the modality (a mistyped
 * --images, a catalog of other keys) is an error that leaves features/NAME as it was: an
 * all-zero matrix would only degrade the model silently.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "data/catalog.h"
#include "data/source.h"
#include "data/matrix.h"
#include "data/prepared.h"
#include "data/table.h"
#include "features/attributes.h"
#include "features/image.h"
#include "features/text.h"
#include "parallel.h"

const char cmd_featurize_summary[] = "text | image | matrix | attributes -> a feature matrix in a prepared directory";

/* ------------------------------------------------------------------ text */

static int run_text(const char *dir, const dataset_desc *d, const char *name, const text_params *tp) {
    dataset s;
    keymap items;
    if (prepared_load(dir, &s, &items) != 0) return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_FAIL;
    catalog c;
    char **docs = NULL;
    feature_matrix m = {0};
    if (catalog_load(&c, &d->catalog, (const char *const *)d->catalog.text, d->catalog.n_text, &items) != 0) goto done;
    docs = calloc(items.n, sizeof *docs);
    if (!docs) goto oom;
    for (uint32_t i = 0; i < items.n; i++) {
        if (c.row_of[i] == UINT32_MAX) continue;
        size_t len = 1;
        for (uint32_t f = 0; f < d->catalog.n_text; f++) len += strlen(table_cell(&c.t, c.row_of[i], f + 1)) + 1;
        if (!(docs[i] = malloc(len))) goto oom;
        docs[i][0] = 0;
        for (uint32_t f = 0; f < d->catalog.n_text; f++) {
            /* A newline separates tokens like any non-letter: the last word of one field and
               the first of the next form a bigram, as adjacent words do. */
            if (f) strcat(docs[i], "\n");
            strcat(docs[i], table_cell(&c.t, c.row_of[i], f + 1));
        }
    }
    m.rows = items.n;
    m.width = tp->width;
    m.name = strdup(name);
    m.kind = strdup("text");
    m.source = strdup(d->catalog.path);
    m.x = malloc((size_t)m.rows * m.width * sizeof *m.x);
    if (!m.name || !m.kind || !m.source || !m.x) goto oom;
    double t0 = cli_now();
    if (text_featurize((const char *const *)docs, items.n, tp, m.x) != 0) goto done;
    if (feature_matrix_finish(&m, name) != 0) goto done;
    if (m.n_missing == m.rows) {
        cli_error("%s: no item has text in the fields given (%u catalog rows matched an item, %u are not items): "
                  "features/%s left as it was",
                  d->catalog.path, c.matched, c.unknown, name);
        goto done;
    }
    if (prepared_write_feature(dir, &m) != 0) goto done;
    printf("features/%s: %u items, width %u, %u without text (%u catalog rows matched, %u not items, %u repeated) in %.2fs\n",
           name, m.rows, m.width, m.n_missing, c.matched, c.unknown, c.repeated, cli_now() - t0);
    rc = CLI_EXIT_OK;
    goto done;
oom:
    cli_error("out of memory");
done:
    if (docs)
        for (uint32_t i = 0; i < items.n; i++) free(docs[i]);
    free(docs);
    feature_matrix_free(&m);
    if (c.row_of || c.t.cells) catalog_free(&c);
    keymap_free(&items);
    dataset_free(&s);
    return rc;
}

/* ------------------------------------------------------------------ image */

typedef struct {
    char **paths; /* per item: the file, or NULL (missing) */
    uint32_t n;
    float *x;
    atomic_uint next, done;
    pthread_mutex_t lock;
    atomic_uint err_item; /* lowest failing item, UINT32_MAX = none (written under lock) */
    char err[256];
    cli_progress bar;
} image_job;

static void image_worker(void *arg, int tid, int nt) {
    (void)tid;
    (void)nt;
    image_job *J = arg;
    char why[200];
    for (;;) {
        uint32_t i = atomic_fetch_add(&J->next, 1);
        if (i >= J->n) break;
        /* Items after a known failure are skipped: only the lowest failing one is reported,
           so the message does not depend on thread timing. */
        if (J->paths[i] && i < atomic_load(&J->err_item) &&
            image_describe_file(J->paths[i], J->x + (size_t)i * IMAGE_DESC_WIDTH, why, sizeof why) != 0) {
            pthread_mutex_lock(&J->lock);
            if (i < atomic_load(&J->err_item)) {
                atomic_store(&J->err_item, i);
                snprintf(J->err, sizeof J->err, "%s: cannot decode the image of item %u: %s", J->paths[i], i, why);
            }
            pthread_mutex_unlock(&J->lock);
        }
        atomic_fetch_add(&J->done, 1);
    }
}

/* parallel_wait's poll: redraws the bar; 0 once every image is done. */
static int image_busy(void *arg) {
    image_job *J = arg;
    cli_progress_update(&J->bar, atomic_load(&J->done));
    return atomic_load(&J->done) < J->n;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* pattern with every "{}" replaced by name. */
static char *apply_pattern(const char *pattern, const char *name) {
    size_t n = strlen(pattern) + 1, ln = strlen(name);
    for (const char *p = strstr(pattern, "{}"); p; p = strstr(p + 2, "{}")) n += ln;
    char *out = malloc(n), *o = out;
    if (!out) return NULL;
    for (const char *p = pattern; *p;) {
        if (p[0] == '{' && p[1] == '}') {
            memcpy(o, name, ln);
            o += ln;
            p += 2;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

static int run_image(const char *dir, const dataset_desc *d, const char *name, int allow_unknown, uint32_t threads,
                     int center) {
    const ds_images *im = &d->images;
    dataset s;
    keymap items;
    if (prepared_load(dir, &s, &items) != 0) return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_FAIL;
    char **mapped = calloc(items.n, sizeof *mapped); /* per item: name from the map */
    uint32_t *map_line = calloc(items.n, sizeof *map_line);
    image_job J = {.n = items.n};
    atomic_init(&J.err_item, UINT32_MAX);
    atomic_init(&J.next, 0);
    atomic_init(&J.done, 0);
    pthread_mutex_init(&J.lock, NULL);
    J.paths = calloc(items.n, sizeof *J.paths);
    feature_matrix m = {0};
    uint8_t *buf = NULL;
    if (!mapped || !map_line || !J.paths) goto oom;
    const char *pattern = im->pattern ? im->pattern : im->map ? "{}" : "{}.jpg";
    /* A typo in --images must not pass for "no item has an image" and zero the features. */
    struct stat sd;
    int no_dir = stat(im->dir, &sd) != 0;
    if (no_dir || !S_ISDIR(sd.st_mode)) {
        cli_error("%s: %s (expected the directory of the images): features/%s left as it was", im->dir,
                  no_dir ? strerror(errno) : "not a directory", name);
        goto done;
    }
    if (im->map) {
        size_t n;
        if (!(buf = cli_read_file(im->map, &n)) || table_check_utf8(im->map, buf, n) != 0) goto done;
        uint32_t line = 0, unknown = 0;
        for (char *p = (char *)buf, *end = (char *)buf + n; p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) nl = end;
            *nl = 0;
            if (nl > p && nl[-1] == '\r') nl[-1] = 0;
            char *l = p;
            p = nl + 1;
            if (++line == 1 && im->map_header) continue;
            if (!*l) continue;
            char *tab = strchr(l, '\t');
            if (!tab || !tab[1]) {
                cli_error("%s:%u: expected \"key<TAB>file\"", im->map, line);
                goto done;
            }
            *tab = 0;
            char *file = tab + 1, *t2 = strchr(file, '\t');
            if (t2) *t2 = 0; /* further columns are ignored */
            uint32_t i = keymap_find(&items, l);
            if (i == UINT32_MAX) {
                if (allow_unknown) {
                    unknown++;
                    continue;
                }
                cli_error("%s:%u: key \"%.60s\" is not an item of items.txt (--allow-unknown skips such lines)", im->map,
                          line, l);
                goto done;
            }
            if (mapped[i]) {
                cli_error("%s:%u: key \"%.60s\" is mapped twice (first on line %u)", im->map, line, l, map_line[i]);
                goto done;
            }
            if (!(mapped[i] = strdup(file))) goto oom;
            map_line[i] = line;
        }
        if (unknown) fprintf(stderr, "%s: skipped %u lines whose key is not an item\n", im->map, unknown);
    }
    /* Resolve every item's file before decoding anything, so a bad map fails fast. */
    uint32_t found = 0;
    for (uint32_t i = 0; i < items.n; i++) {
        if (im->map && !mapped[i]) continue;
        char *fname = apply_pattern(pattern, im->map ? mapped[i] : keymap_key(&items, i));
        char *path = fname ? path_join(im->dir, fname) : NULL;
        free(fname);
        if (!path) goto oom;
        if (!file_exists(path)) {
            if (im->map) {
                cli_error("%s:%u: the image file %s does not exist", im->map, map_line[i], path);
                free(path);
                goto done;
            }
            free(path);
            continue;
        }
        J.paths[i] = path;
        found++;
    }
    if (!found) {
        cli_error("%s: no item has an image file here (file names from pattern \"%s\"%s): features/%s left as it was",
                  im->dir, pattern, im->map ? " and the map" : ", the item key for {}", name);
        goto done;
    }
    m.rows = items.n;
    m.width = IMAGE_DESC_WIDTH;
    m.name = strdup(name);
    m.kind = strdup("image");
    m.source = strdup(im->dir);
    m.x = calloc((size_t)m.rows * m.width, sizeof *m.x);
    if (!m.name || !m.kind || !m.source || !m.x) goto oom;
    J.x = m.x;
    parallel_group pool;
    double t0 = cli_now();
    cli_progress_start(&J.bar, "images", items.n);
    int started = parallel_start(&pool, parallel_threads(threads), image_worker, &J);
    if (!started) {
        cli_progress_end(&J.bar);
        cli_error("cannot start a thread");
        goto done;
    }
    parallel_wait(&pool, image_busy, &J);
    cli_progress_end(&J.bar);
    if (atomic_load(&J.err_item) != UINT32_MAX) {
        cli_error("%s", J.err);
        goto done;
    }
    if (center && feature_matrix_center(&m) != 0) goto oom;
    if (feature_matrix_finish(&m, name) != 0) goto done;
    if (m.n_missing == m.rows) { /* every image alike: centring left nothing to tell them apart */
        cli_error("%s: the %u images found are all alike (zero after centring; --no-center keeps them): features/%s "
                  "left as it was",
                  im->dir, found, name);
        goto done;
    }
    if (prepared_write_feature(dir, &m) != 0) goto done;
    printf("features/%s: %u items, width %u, %u without an image, decoded in %.2fs on %d threads\n", name, m.rows,
           m.width, m.n_missing, cli_now() - t0, started);
    rc = CLI_EXIT_OK;
    goto done;
oom:
    cli_error("out of memory");
done:
    if (mapped)
        for (uint32_t i = 0; i < items.n; i++) free(mapped[i]);
    if (J.paths)
        for (uint32_t i = 0; i < items.n; i++) free(J.paths[i]);
    free(mapped);
    free(map_line);
    free(J.paths);
    free(buf);
    pthread_mutex_destroy(&J.lock);
    feature_matrix_free(&m);
    keymap_free(&items);
    dataset_free(&s);
    return rc;
}

/* ------------------------------------------------------------------ matrix */

static int run_matrix(const char *dir, const ds_feature *f) {
    dataset s;
    keymap items;
    if (prepared_load(dir, &s, &items) != 0) return CLI_EXIT_FAIL;
    feature_matrix m;
    int rc = CLI_EXIT_FAIL;
    if (matrix_import(f, &items, &m) == 0) {
        if (m.n_missing == m.rows)
            cli_error("%s: every row of an item is zero (no item has this feature): features/%s left as it was",
                      f->path, f->name);
        else if (prepared_write_feature(dir, &m) == 0) {
            printf("features/%s: %u items, width %u, %u missing\n", m.name, m.rows, m.width, m.n_missing);
            rc = CLI_EXIT_OK;
        }
        feature_matrix_free(&m);
    }
    keymap_free(&items);
    dataset_free(&s);
    return rc;
}

/* ------------------------------------------------------------------ attributes */

/* Per-item attribute lists, from a JSON file (json_path) or a catalogue column (d->catalog with
   one text field, split at seps), as an IDF-weighted multi-hot matrix (features/attributes.h). */
static int run_attributes(const char *dir, const dataset_desc *d, const char *json_path, const char *seps,
                          const char *name, uint32_t min_count, int allow_unknown) {
    dataset s;
    keymap items;
    if (prepared_load(dir, &s, &items) != 0) return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_FAIL;
    attr_lists l = {0};
    catalog c = {0};
    uint32_t *cols = NULL, width = 0, empty = 0;
    feature_matrix m = {0};
    const char **cells = NULL;
    double t0 = cli_now();
    if (json_path) {
        if (attr_lists_from_json(&l, json_path, &items, allow_unknown) != 0) goto done;
    } else {
        if (catalog_load(&c, &d->catalog, (const char *const *)d->catalog.text, 1, &items) != 0) goto done;
        cells = calloc(items.n ? items.n : 1, sizeof *cells);
        if (!cells) goto oom;
        for (uint32_t i = 0; i < items.n; i++)
            if (c.row_of[i] != UINT32_MAX) cells[i] = table_cell(&c.t, c.row_of[i], 1);
        if (attr_lists_from_cells(&l, cells, items.n, seps) != 0) goto done;
    }
    if (attr_columns(&l, min_count, &cols, &width) != 0) goto done;
    m.rows = items.n;
    m.width = width;
    m.name = strdup(name);
    m.kind = strdup("attributes");
    m.source = strdup(json_path ? json_path : d->catalog.path);
    m.x = malloc((size_t)m.rows * m.width * sizeof *m.x);
    if (!m.name || !m.kind || !m.source || !m.x) goto oom;
    if (attr_fill(&l, cols, width, m.x, &empty) != 0) goto done;
    if (empty == items.n) {
        cli_error("%s: no item has an attribute carried by %u or more items: nothing written",
                  json_path ? json_path : d->catalog.path, min_count);
        goto done;
    }
    if (feature_matrix_finish(&m, name) != 0 || prepared_write_feature(dir, &m) != 0) goto done;
    printf("features/%s: %u items, %u attributes as columns (of %u; min count %u), %u items without one, "
           "%u keys not items, %u repeats in %.2fs\n",
           name, m.rows, width, l.vocab.n, min_count, m.n_missing, l.unknown, l.repeated, cli_now() - t0);
    rc = CLI_EXIT_OK;
    goto done;
oom:
    cli_error("out of memory");
done:
    free(cells);
    free(cols);
    feature_matrix_free(&m);
    attr_lists_free(&l);
    if (c.row_of || c.t.cells) catalog_free(&c);
    keymap_free(&items);
    dataset_free(&s);
    return rc;
}

/* ------------------------------------------------------------------ options */

/* --name: a feature name. */
static const char *name_check(const char *v) {
    return valid_channel_name(v) ? NULL : "a name of letters, digits, _ and - (not \"behaviour\")";
}

static const char *const matrix_format_names[] = {"npy", "f32", "csv", NULL};

static const char *seps_check(const char *v) { return v[0] ? NULL : "at least one separator character"; }

/* The options every kind shares. */
#define COMMON_ROWS                                                                                                   \
    {"--dir", OPT_STRING, &dir, "DIR", .help = "the prepared directory (from mdsrec prepare)", .flags = OPT_REQUIRED}, \
    {"--dataset", OPT_STRING, &json, "FILE.json", .help = "dataset description (docs/IMPORT.md); flags override it"}

#define EPILOG                                                                                                        \
    "Adds DIR/features/NAME.f32 and NAME.json (docs/DATASET.md) for the items of DIR/items.txt.\n"                    \
    "Items lacking the modality get a zero row and are listed in \"missing\"; when no item\n"                  \
    "has it, nothing is written (exit 1) and an existing features/NAME stays."

int cmd_featurize(int argc, char **argv) {
    const opt_cmd top = {
        "featurize",
        .usage = "text|image|matrix|attributes --dir DIR [options]",
        .about = "  text        catalog text fields -> hashed TF-IDF -> seeded projection\n"
                 "  image       image files -> colour/layout/gradient descriptor\n"
                 "  matrix      a precomputed .npy / raw float32 / CSV matrix with its row keys\n"
                 "  attributes  per-item attribute lists (JSON, or a catalog column of tags)\n"
                 "\n" EPILOG "\n\n"
                 "The options of each: mdsrec featurize text|image|matrix|attributes --help",
    };
    if (argc < 2) return opt_usage_error(&top, "expected a kind: text, image, matrix or attributes");
    const char *kind = argv[1];
    if (!strcmp(kind, "--help") || !strcmp(kind, "-h")) {
        opt_help(&top, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(kind, "text") && strcmp(kind, "image") && strcmp(kind, "matrix") && strcmp(kind, "attributes")) {
        cli_error("unknown kind \"%s\": expected text, image, matrix or attributes (see mdsrec featurize --help)", kind);
        return CLI_EXIT_USAGE;
    }
    dataset_desc d;
    dataset_desc_init(&d);
    const char *dir = NULL, *json = NULL, *name = NULL;
    const char *cat = NULL, *kcol = NULL, *fields = NULL;
    const char *imdir = NULL, *immap = NULL, *pattern = NULL;
    const char *path = NULL, *keys = NULL;
    text_params tp = {.width = 256, .seed = 1, .buckets_log2 = 18};
    uint32_t threads = 0, width = 0;
    int map_header = 0, allow_unknown = 0, no_center = 0, rc = CLI_EXIT_USAGE;
    int cfmt = -1, mfmt = -1; /* -1: not given */
    const char *column = NULL, *seps = "|,;";
    uint32_t min_count = 2;
    const opt text_rows[] = {
        COMMON_ROWS,
        {"--name", OPT_STRING, &name, "NAME", .help = "feature name", .check = name_check, .def = "text"},
        {"--catalog", OPT_STRING, &cat, "PATH", .help = "catalog file"},
        {"--catalog-format", OPT_CHOICE, &cfmt, .help = "the catalog's format", .lookup = &opt_table_format_enum,
         .def = "auto"},
        {"--key-col", OPT_STRING, &kcol, "C", .help = "item key column", .def = "item_id"},
        {"--text-fields", OPT_STRING, &fields, "LIST", .help = "columns to use, comma-separated (e.g. movie_title,class)"},
        {"--width", OPT_U32, &tp.width, "W", .help = "output width", .min = 1, .max = 65536},
        {"--seed", OPT_U64, &tp.seed, "S", .help = "projection seed"},
        {"--buckets-log2", OPT_U32, &tp.buckets_log2, "B", .help = "hashing buckets 2^B", .min = 4, .max = 24},
        {"--unigrams", OPT_FLAG, &tp.unigrams_only, .help = "no bigrams"},
    };
    const opt image_rows[] = {
        COMMON_ROWS,
        {"--name", OPT_STRING, &name, "NAME", .help = "feature name", .check = name_check, .def = "image"},
        {"--images", OPT_STRING, &imdir, "DIR", .help = "image directory"},
        {"--image-map", OPT_STRING, &immap, "TSV", .help = "\"key<TAB>file\" lines (a mapped file that is absent is an error)"},
        {"--map-header", OPT_FLAG, &map_header, .help = "the map's first line is a header"},
        {"--pattern", OPT_STRING, &pattern, "P",
         .help = "file name from the key or mapped name, {} = it; without a map\nan absent file is missing",
         .def = "{} with a map, {}.jpg without"},
        {"--threads", OPT_U32, &threads, "N", .help = "decoding threads", .min = 0, .max = PARALLEL_MAX_THREADS,
         .def = "all CPUs"},
        {"--no-center", OPT_FLAG, &no_center,
         .help = "keep the raw descriptors (default: subtract the mean\n"
                 "descriptor of the items with an image, then L2-normalise)"},
        {"--allow-unknown", OPT_FLAG, &allow_unknown, .help = "skip map lines whose key is not an item (else an error)"},
    };
    const opt matrix_rows[] = {
        COMMON_ROWS,
        {"--name", OPT_STRING, &name, "NAME", .help = "feature name", .check = name_check, .flags = OPT_REQUIRED},
        {"--path", OPT_STRING, &path, "FILE", .help = "the matrix: .npy (float32/float16), raw float32 or CSV",
         .def = "the --dataset feature of that name"},
        {"--format", OPT_CHOICE, &mfmt, .help = "the file's format", .names = matrix_format_names,
         .def = "by extension, else f32"},
        {"--keys", OPT_STRING, &keys, "FILE",
         .help = "row keys, one per line (CSV without it: first column is the key)"},
        {"--width", OPT_U32, &width, "W", .help = "row width (required for f32)", .min = 1, .max = 65536, .def = ""},
        {"--allow-unknown", OPT_FLAG, &allow_unknown, .help = "skip rows whose key is not an item (else an error)"},
    };
    const opt attr_rows[] = {
        COMMON_ROWS,
        {"--name", OPT_STRING, &name, "NAME", .help = "feature name", .check = name_check, .def = "attributes"},
        {"--path", OPT_STRING, &path, "FILE.json",
         .help = "{item key: [attribute, ...]} (the S3-Rec *_item2attributes.json)"},
        {"--catalog", OPT_STRING, &cat, "PATH", .help = "or a catalog file with a column of tags"},
        {"--catalog-format", OPT_CHOICE, &cfmt, .help = "the catalog's format", .lookup = &opt_table_format_enum,
         .def = "auto"},
        {"--key-col", OPT_STRING, &kcol, "C", .help = "item key column", .def = "item_id"},
        {"--column", OPT_STRING, &column, "C", .help = "the catalog column that lists each item's tags"},
        {"--separators", OPT_STRING, &seps, "CHARS", .help = "characters that separate the tags of a cell",
         .check = seps_check},
        {"--min-count", OPT_U32, &min_count, "N", .help = "keep attributes carried by at least N items", .min = 1,
         .max = UINT32_MAX},
        {"--allow-unknown", OPT_FLAG, &allow_unknown, .help = "skip JSON keys that are not items (else an error)"},
    };
    const int is_text = !strcmp(kind, "text"), is_image = !strcmp(kind, "image"), is_attr = !strcmp(kind, "attributes");
    const opt_cmd cmd = {
        is_text ? "featurize text" : is_image ? "featurize image" : is_attr ? "featurize attributes" : "featurize matrix",
        .about = is_text    ? "catalog text fields -> hashed TF-IDF -> seeded projection (features/text.h)"
                 : is_image ? "image files -> colour/layout/gradient descriptor (features/image.h)"
                 : is_attr  ? "per-item attribute lists (brand, categories, tags) -> IDF-weighted multi-hot\n"
                              "(features/attributes.h)"
                            : "a precomputed .npy / raw float32 / CSV matrix with its row keys (data/matrix.h)",
        .opts = is_text ? text_rows : is_image ? image_rows : is_attr ? attr_rows : matrix_rows,
        .n_opts = is_text    ? OPT_COUNT(text_rows)
                  : is_image ? OPT_COUNT(image_rows)
                  : is_attr  ? OPT_COUNT(attr_rows)
                             : OPT_COUNT(matrix_rows),
        .epilog = EPILOG,
    };
    int prc = opt_parse(&cmd, argc - 1, argv + 1);
    if (prc != OPT_PROCEED) {
        dataset_desc_free(&d);
        return prc;
    }
    if (json && dataset_desc_load_json(&d, json) != 0) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (!name) name = is_text ? "text" : is_image ? "image" : "attributes"; /* matrix: a required row */
    if (!strcmp(kind, "text")) {
        if (cat) ds_set(&d.catalog.path, cat);
        if (cfmt >= 0) d.catalog.format = (table_format)cfmt;
        if (kcol) ds_set(&d.catalog.key, kcol);
        if (fields && ds_set_text_fields(&d, fields) != 0) goto done;
        if (!d.catalog.path || !d.catalog.n_text) {
            cli_error("text needs a catalog and its text fields: --catalog PATH --text-fields A,B or a --dataset "
                      "with \"catalog\": {\"path\", \"text\"}");
            goto done;
        }
        rc = run_text(dir, &d, name, &tp);
    } else if (is_attr) {
        if (path && (cat || column)) {
            rc = opt_usage_error(&cmd, "--path and --catalog/--column are two sources: give one");
            goto done;
        }
        if (cat) ds_set(&d.catalog.path, cat);
        if (cfmt >= 0) d.catalog.format = (table_format)cfmt;
        if (kcol) ds_set(&d.catalog.key, kcol);
        if (column && ds_set_text_fields(&d, column) != 0) goto done;
        if (!path && (!d.catalog.path || !column)) {
            rc = opt_usage_error(&cmd, "attributes needs --path FILE.json, or --catalog PATH --column C");
            goto done;
        }
        rc = run_attributes(dir, &d, path, seps, name, min_count, allow_unknown);
    } else if (!strcmp(kind, "image")) {
        if (imdir) ds_set(&d.images.dir, imdir);
        if (immap) ds_set(&d.images.map, immap);
        if (map_header) d.images.map_header = 1;
        if (pattern) ds_set(&d.images.pattern, pattern);
        if (!d.images.dir) {
            cli_error("image needs --images DIR or a --dataset with \"images\": {\"dir\"}");
            goto done;
        }
        rc = run_image(dir, &d, name, allow_unknown, threads, !no_center);
    } else {
        /* matrix: the flags describe one matrix; without --path, a --dataset's feature of
           that name. */
        ds_feature f = {0}, *src = NULL;
        for (uint32_t k = 0; k < d.n_features; k++)
            if (!strcmp(d.features[k].name, name)) src = &d.features[k];
        if (src) f = *src;
        f.name = (char *)name;
        if (path) f.path = (char *)path;
        if (mfmt >= 0) f.format = (char *)matrix_format_names[mfmt];
        if (keys) f.keys = (char *)keys;
        if (width) f.width = width;
        if (allow_unknown) f.allow_unknown = 1;
        if (!f.path) {
            cli_error("matrix needs --path FILE (or a --dataset feature named \"%s\")", name);
            goto done;
        }
        int known = !f.format; /* a --dataset's "format" is checked here, the flag by its row */
        for (int q = 0; f.format && matrix_format_names[q]; q++) known |= !strcmp(f.format, matrix_format_names[q]);
        if (!known) {
            cli_error("--format: expected npy, f32 or csv, found \"%s\"", f.format);
            goto done;
        }
        rc = run_matrix(dir, &f);
    }
done:
    dataset_desc_free(&d);
    return rc;
}
