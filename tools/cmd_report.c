/* cmd_report.c - `mdsrec report`: one self-contained static HTML page for a merchandiser from a
   trained run and its prepared data (docs/REPORT.md): the training curve, accuracy against
   popularity, which channel drives the recommendations per category, neighbour lists per
   channel, and catalogue coverage. Charts are inline SVG drawn here (report/html.h, and
   train/plot.h for the curve); the page loads nothing and runs no script. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "options.h"
#include "parallel.h"
#include "eval/evaluate.h"
#include "eval/scorers.h"
#include "export/export.h"
#include "report/html.h"
#include "train/gemm.h"
#include "train/load.h"
#include "train/loop.h"
#include "train/model_scorer.h"
#include "train/plot.h"

const char cmd_report_summary[] = "one static HTML page of a trained run for a merchandiser (charts, no script)";

#define TOP_K 10            /* the visitor's top-10, as the storefront shows */
#define NB_SHOWN 5          /* neighbours shown per example item and channel */
#define MAX_CATEGORIES 12   /* bars; the rest are merged into one */
#define DECILES 10

/* ---------------------------------------------------------------- the catalogue */

/* catalog.jsonl, one parsed object per item (NULL where the line is an empty object or the
   file is absent). */
typedef struct {
    cJSON **row; /* [n_items] */
    uint32_t n_items;
    int present;
} catalogue;

static void catalogue_free(catalogue *c) {
    for (uint32_t i = 0; c->row && i < c->n_items; i++) cJSON_Delete(c->row[i]);
    free(c->row);
    memset(c, 0, sizeof *c);
}

/* Reads dir/catalog.jsonl when it exists: one object a line, a line per item. 0, or -1 after
   cli_error naming the file and the line. */
static int catalogue_load(const char *dir, uint32_t n_items, catalogue *c) {
    memset(c, 0, sizeof *c);
    c->n_items = n_items;
    if (!(c->row = calloc(n_items ? n_items : 1, sizeof *c->row))) return cli_error("out of memory"), -1;
    char *path = path_join(dir, "catalog.jsonl");
    struct stat sb;
    if (!path || stat(path, &sb) != 0) {
        free(path);
        return 0; /* no catalogue: keys stand for titles */
    }
    size_t len;
    char *text = (char *)cli_read_file(path, &len);
    if (!text) {
        free(path);
        return -1;
    }
    c->present = 1;
    uint32_t line = 0;
    int rc = 0;
    for (char *p = text; *p && !rc;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (line >= n_items) {
            cli_error("%s: line %u: more lines than the %u items of items.txt (expected one object per item)", path,
                      line + 1, n_items);
            rc = -1;
            break;
        }
        cJSON *o = cJSON_Parse(p);
        if (!cJSON_IsObject(o)) {
            cli_error("%s: line %u: expected a JSON object (an item's display fields)", path, line + 1);
            cJSON_Delete(o);
            rc = -1;
            break;
        }
        c->row[line++] = o;
        if (!nl) break;
        p = nl + 1;
    }
    if (!rc && line != n_items) {
        cli_error("%s: %u lines, expected %u (one object per item of items.txt)", path, line, n_items);
        rc = -1;
    }
    free(text);
    free(path);
    return rc;
}

/* Item i's string field `name` (a string, or the first string of an array), or NULL. */
static const char *cat_field(const catalogue *c, uint32_t i, const char *name) {
    if (!c->row || i >= c->n_items || !c->row[i]) return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->row[i], name);
    if (cJSON_IsArray(v)) v = v->child;
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* ---------------------------------------------------------------- what the page shows */

typedef struct {
    const char *model_path, *data_path, *bundle_path, *out, *category_field, *images_dir;
    uint32_t visitors, examples, max_image_kb, threads;
} options;

typedef struct {
    loaded_model lm;
    train_state *curve; /* the history drawn: from train.json, else the checkpoint's */
    int curve_from_json;
    metrics acc[2][2];  /* [protocol][model, pop], test split */
    int acc_from_json;
    catalogue cat;
    uint8_t *bundle;
    size_t bundle_len;
    mdsrec_model *m;
    uint32_t *counts;  /* training-part counts per item */
    uint32_t *decile;  /* per item: its popularity decile, 0 = the most popular tenth */
    /* channels per category */
    uint32_t n_ch;
    const char *ch_label[MDSREC_MAX_CHANNELS];
    char **cat_name;   /* distinct categories, cat_of[i] indexes it */
    uint32_t n_cat, *cat_of;
    double *cat_share; /* [n_cat + 1][n_ch]: sums of per-item share fractions; last row: all */
    uint64_t *cat_n;   /* [n_cat + 1]: recommendations behind them */
    /* coverage */
    uint32_t sampled, step;
    uint64_t slots;
    uint8_t *covered;  /* per item: in some sampled top-10 */
    uint64_t dec_slots[DECILES], dec_items[DECILES], dec_covered[DECILES];
    /* neighbours */
    uint32_t n_examples, *example;
    uint8_t *shown;    /* per item: on the page (its image is embedded once) */
} report;

/* The merchandiser's word for a channel: what it compares. */
static const char *channel_label(const mdsrec_config *c, uint32_t ch) {
    switch (c->channels[ch].kind) {
    case MDSREC_CHANNEL_ID: return "bought together";
    case MDSREC_CHANNEL_IMAGE: return "look";
    case MDSREC_CHANNEL_TEXT: return "description";
    default: return c->channels[ch].name;
    }
}

/* RUN's train.json: beside model.ckpt (RUN a directory) or beside the checkpoint file. */
static void train_json_path(const char *run, char *buf, size_t cap) {
    struct stat sb;
    if (stat(run, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(buf, cap, "%s/train.json", run);
        return;
    }
    const char *slash = strrchr(run, '/');
    if (slash) snprintf(buf, cap, "%.*s/train.json", (int)(slash - run), run);
    else snprintf(buf, cap, "train.json");
}

static int metrics_from_json(const cJSON *o, metrics *m) {
    static const char *const hr[3] = {"HR@5", "HR@10", "HR@20"}, *const nd[3] = {"NDCG@5", "NDCG@10", "NDCG@20"};
    memset(m, 0, sizeof *m);
    for (int k = 0; k < 3; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, hr[k]), *b = cJSON_GetObjectItemCaseSensitive(o, nd[k]);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b)) return -1;
        m->hr[k] = a->valuedouble, m->ndcg[k] = b->valuedouble;
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "MRR"), *u = cJSON_GetObjectItemCaseSensitive(o, "users");
    if (!cJSON_IsNumber(r)) return -1;
    m->mrr = r->valuedouble;
    m->count = cJSON_IsNumber(u) ? (uint64_t)u->valuedouble : 0;
    return 0;
}

/* The training history and the test metrics the run recorded (train.json); what is not there
   comes from the checkpoint (its history up to the best epoch) and from scoring the model. */
static int load_history(report *r, const options *o) {
    char path[1200];
    train_json_path(o->model_path, path, sizeof path);
    if (!(r->curve = malloc(sizeof *r->curve))) return cli_error("out of memory"), -1;
    *r->curve = *r->lm.st;
    struct stat sb;
    if (stat(path, &sb) == 0) {
        cJSON *j = read_json_file(path);
        if (!j) return -1;
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(j, "epochs");
        if (!cJSON_IsArray(ep)) {
            cli_error("%s: no \"epochs\" array (expected the run's log, as mdsrec train writes it)", path);
            cJSON_Delete(j);
            return -1;
        }
        train_state *c = r->curve;
        c->n_hist = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, ep) {
            if (c->n_hist == CKPT_MAX_EPOCHS) break;
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "epoch"), *l = cJSON_GetObjectItemCaseSensitive(e, "loss"),
                        *v = cJSON_GetObjectItemCaseSensitive(e, "valid_ndcg10"),
                        *h = cJSON_GetObjectItemCaseSensitive(e, "valid_hr10");
            if (!cJSON_IsNumber(n) || !cJSON_IsNumber(l) || !cJSON_IsNumber(v)) {
                cli_error("%s: epochs[%u]: expected numbers \"epoch\", \"loss\" and \"valid_ndcg10\"", path, c->n_hist);
                cJSON_Delete(j);
                return -1;
            }
            c->hist[c->n_hist++] = (ckpt_epoch){(uint32_t)n->valuedouble, l->valuedouble,
                                                cJSON_IsNumber(h) ? h->valuedouble : 0, v->valuedouble, 0};
        }
        const cJSON *be = cJSON_GetObjectItemCaseSensitive(j, "best_epoch"),
                    *bn = cJSON_GetObjectItemCaseSensitive(j, "best_valid_ndcg10");
        if (cJSON_IsNumber(be) && cJSON_IsNumber(bn)) c->best_epoch = (uint32_t)be->valuedouble, c->best_ndcg = bn->valuedouble;
        r->curve_from_json = 1;
        const cJSON *po = cJSON_GetObjectItemCaseSensitive(j, "protocols");
        const cJSON *pu = cJSON_GetObjectItemCaseSensitive(po, "unmasked"), *pm = cJSON_GetObjectItemCaseSensitive(po, "masked");
        r->acc_from_json = !metrics_from_json(cJSON_GetObjectItemCaseSensitive(pu, "test"), &r->acc[EVAL_UNMASKED][0]) &&
                           !metrics_from_json(cJSON_GetObjectItemCaseSensitive(pm, "test"), &r->acc[EVAL_MASKED][0]);
        cJSON_Delete(j);
    }
    if (!r->acc_from_json) {
        /* a run still training, or an older one: score the checkpoint as `mdsrec eval` does */
        model_scorer ms;
        eval_scorer sc;
        metrics sums[2];
        uint32_t *const no_ranks[2] = {NULL, NULL};
        if (model_scorer_init(&ms, &r->lm.st->spec, &r->lm.in, r->lm.params, (int)o->threads, &sc))
            return cli_error("out of memory"), -1;
        /* with the terms the run chose after training, as train.json's numbers have them */
        csr cg;
        coclick_scorer cs;
        if (train_terms_scorer(r->lm.st, &r->lm.ds, 0, &sc, &cg, &cs)) {
            model_scorer_free(&ms);
            return -1;
        }
        int rc = evaluate_protocols(&r->lm.ds, EVAL_TEST, &sc, (int)o->threads, sums, no_ranks);
        model_scorer_free(&ms);
        csr_free(&cg);
        if (rc) return cli_error("out of memory"), -1;
        for (int p = 0; p < 2; p++) r->acc[p][0] = metrics_mean(&sums[p]);
    }
    return 0;
}

/* pop on the same data, through the eval layer's scorer. */
static int score_pop(report *r, const options *o) {
    pop_scorer ps = {0};
    eval_scorer sc;
    metrics sums[2];
    uint32_t *const no_ranks[2] = {NULL, NULL};
    int rc = pop_scorer_init(&ps, &r->lm.ds, &sc);
    if (!rc) rc = evaluate_protocols(&r->lm.ds, EVAL_TEST, &sc, (int)o->threads, sums, no_ranks);
    pop_scorer_free(&ps);
    if (rc) return cli_error("out of memory"), -1;
    for (int p = 0; p < 2; p++) r->acc[p][1] = metrics_mean(&sums[p]);
    return 0;
}

/* The bundle the browser would run: --bundle, else the run exported in memory (f32, with
   its neighbour lists and catalogue). */
static int open_bundle(report *r, const options *o) {
    if (o->bundle_path) {
        if (!(r->bundle = cli_read_file(o->bundle_path, &r->bundle_len))) return -1;
    } else {
        export_info info;
        if (export_bundle(r->lm.st, r->lm.params, &r->lm.ds, &r->lm.in, MDSREC_F32, 1, NULL, NULL, &r->bundle, &r->bundle_len,
                          &info))
            return -1;
    }
    const char *what = o->bundle_path ? o->bundle_path : "the run's bundle";
    mdsrec_error err = {0};
    mdsrec_status st = mdsrec_open(r->bundle, r->bundle_len, &r->m, &err);
    if (st) {
        cli_error("%s: invalid bundle (%s): %s", what, mdsrec_status_string(st), err.message);
        return -1;
    }
    if (mdsrec_model_config(r->m)->n_items != r->lm.ds.n_items) {
        cli_error("%s: %u items, expected the %u of %s", what, mdsrec_model_config(r->m)->n_items, r->lm.ds.n_items,
                  r->lm.ds.path ? r->lm.ds.path : "the data");
        return -1;
    }
    return 0;
}

/* Items by training count, most first (ties: lower index first, as the bundle's popularity). */
static const uint32_t *g_counts;
static int by_count(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (g_counts[x] != g_counts[y]) return g_counts[x] > g_counts[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Category index of every item, by the catalogue's field; everything in one (unnamed)
   category when the catalogue or the field is absent. */
static int assign_categories(report *r, const options *o) {
    uint32_t n = r->lm.ds.n_items;
    if (!(r->cat_of = calloc(n ? n : 1, sizeof *r->cat_of))) return -1;
    uint32_t cap = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *v = cat_field(&r->cat, i, o->category_field);
        if (!v) {
            r->cat_of[i] = UINT32_MAX; /* uncategorised */
            continue;
        }
        /* "Comedy|Drama": a list; the first is the item's category */
        size_t len = strcspn(v, "|");
        uint32_t k = 0;
        while (k < r->n_cat && (strlen(r->cat_name[k]) != len || memcmp(r->cat_name[k], v, len))) k++;
        if (k == r->n_cat) {
            if (r->n_cat == cap) {
                cap = cap ? 2 * cap : 16;
                char **t = realloc(r->cat_name, cap * sizeof *t);
                if (!t) return -1;
                r->cat_name = t;
            }
            if (!(r->cat_name[k] = malloc(len + 1))) return -1;
            memcpy(r->cat_name[k], v, len);
            r->cat_name[k][len] = 0;
            r->n_cat++;
        }
        r->cat_of[i] = k;
    }
    return 0;
}

/* Every step-th visitor's top-10 for their whole history (what they would be shown next):
   each recommendation's channel shares, by the recommended item's category, and which items
   and popularity deciles the recommendations reach. */
static int sample_visitors(report *r, const options *o) {
    const dataset *ds = &r->lm.ds;
    const mdsrec_config *cfg = mdsrec_model_config(r->m);
    r->n_ch = cfg->n_channels;
    for (uint32_t c = 0; c < r->n_ch; c++) r->ch_label[c] = channel_label(cfg, c);
    size_t rows = (size_t)r->n_cat + 2; /* categories, uncategorised, all */
    if (!(r->cat_share = calloc(rows * (r->n_ch ? r->n_ch : 1), sizeof *r->cat_share)) ||
        !(r->cat_n = calloc(rows, sizeof *r->cat_n)) || !(r->covered = calloc(ds->n_items, 1)))
        return cli_error("out of memory"), -1;
    r->step = ds->n_users > o->visitors ? (ds->n_users + o->visitors - 1) / o->visitors : 1;
    mdsrec_state *s;
    if (mdsrec_state_new(r->m, &s)) return cli_error("out of memory"), -1;
    int rc = 0;
    for (uint32_t u = 0; u < ds->n_users && !rc; u += r->step) {
        mdsrec_query q = {ds_seq(ds, u), ds_len(ds, u), TOP_K, 0, NULL, 0, NULL, 0};
        mdsrec_result res;
        mdsrec_status st = mdsrec_recommend(r->m, s, &q, &res);
        if (st) {
            cli_error("visitor %u: recommend failed: %s", u, mdsrec_status_string(st));
            rc = -1;
            break;
        }
        r->sampled++;
        for (uint32_t k = 0; k < res.count; k++) {
            uint32_t it = res.items[k];
            r->slots++;
            r->covered[it] = 1;
            r->dec_slots[r->decile[it]]++;
            /* a channel's part of this recommendation: its positive term over all positive
               terms (a negative term argues against the item, it does not drive it) */
            double tot = 0;
            for (uint32_t c = 0; c < res.n_channels; c++) tot += fmax(0, res.shares[k * res.n_channels + c]);
            if (!(tot > 0)) continue;
            size_t row = r->cat_of[it] == UINT32_MAX ? r->n_cat : r->cat_of[it];
            for (uint32_t c = 0; c < res.n_channels; c++) {
                double f = fmax(0, res.shares[k * res.n_channels + c]) / tot;
                r->cat_share[row * r->n_ch + c] += f;
                r->cat_share[(r->n_cat + 1) * r->n_ch + c] += f;
            }
            r->cat_n[row]++;
            r->cat_n[r->n_cat + 1]++;
        }
    }
    mdsrec_state_free(s);
    for (uint32_t i = 0; i < ds->n_items; i++) {
        r->dec_items[r->decile[i]]++;
        r->dec_covered[r->decile[i]] += r->covered[i];
    }
    return rc;
}

/* The examples (the most popular items) and every item the page shows. */
static int pick_examples(report *r, const uint32_t *order, const options *o) {
    uint32_t n = r->lm.ds.n_items;
    r->n_examples = o->examples < n ? o->examples : n;
    if (!(r->example = malloc((r->n_examples ? r->n_examples : 1) * sizeof *r->example)) || !(r->shown = calloc(n, 1)))
        return cli_error("out of memory"), -1;
    for (uint32_t e = 0; e < r->n_examples; e++) {
        r->example[e] = order[e];
        r->shown[order[e]] = 1;
        for (uint32_t c = 0; c < mdsrec_model_config(r->m)->n_channels; c++) {
            uint32_t it[NB_SHOWN], cnt = 0;
            float w[NB_SHOWN];
            if (mdsrec_similar(r->m, order[e], c, NB_SHOWN, it, w, &cnt) == MDSREC_OK)
                for (uint32_t k = 0; k < cnt; k++) r->shown[it[k]] = 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- writing the page */

static const char *item_title(const report *r, uint32_t i) {
    const char *t = cat_field(&r->cat, i, "title");
    return t ? t : r->lm.ds.item_keys[i];
}

/* The image bytes of item i when the catalogue names a local file of at most max bytes in a
   format the browser shows (PNG, JPEG, GIF, WebP); NULL otherwise (a URL: the page must load
   nothing). */
static uint8_t *item_image(const report *r, const options *o, uint32_t i, size_t *len, const char **mime) {
    const char *p = cat_field(&r->cat, i, "image");
    if (!p || strstr(p, "://") || !strncmp(p, "//", 2) || !strncmp(p, "data:", 5)) return NULL;
    char path[4096];
    if (p[0] == '/') snprintf(path, sizeof path, "%s", p);
    else snprintf(path, sizeof path, "%s/%s", o->images_dir ? o->images_dir : r->lm.ds.path, p);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > (uint64_t)o->max_image_kb * 1024 ||
        sb.st_size < 12)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *b = malloc((size_t)sb.st_size);
    size_t n = b ? fread(b, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    if (!b || n != (size_t)sb.st_size) {
        free(b);
        return NULL;
    }
    *len = n;
    if (!memcmp(b, "\x89PNG", 4)) *mime = "image/png";
    else if (!memcmp(b, "\xff\xd8\xff", 3)) *mime = "image/jpeg";
    else if (!memcmp(b, "GIF8", 4)) *mime = "image/gif";
    else if (!memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) *mime = "image/webp";
    else {
        free(b);
        return NULL;
    }
    return b;
}

/* One CSS rule per shown item with an embedded image, so an image on the page many times is
   in the file once. Marks the items that have one (shown = 2). */
static void write_image_rules(FILE *f, report *r, const options *o) {
    for (uint32_t i = 0; i < r->lm.ds.n_items; i++) {
        if (!r->shown[i]) continue;
        size_t len;
        const char *mime;
        uint8_t *b = item_image(r, o, i, &len, &mime);
        if (!b) continue;
        fprintf(f, ".im%u{background-image:url(data:%s;base64,", i, mime);
        html_base64(f, b, len);
        fprintf(f, ")}\n");
        free(b);
        r->shown[i] = 2;
    }
}

/* The first letter of up to two words of s (whole UTF-8 characters), for a tile without image. */
static void write_initials(FILE *f, const char *s) {
    int got = 0;
    for (const char *p = s; *p && got < 2; p++) {
        if ((p == s || p[-1] == ' ') && *p != ' ') {
            size_t n = 1;
            while (((unsigned char)p[n] & 0xC0) == 0x80) n++;
            html_text_n(f, p, n);
            got++;
        }
    }
}

/* An item's card: its picture (or a coloured tile with initials), its title, and a note. */
static void write_card(FILE *f, const report *r, uint32_t i, const char *note) {
    const char *t = item_title(r, i);
    fprintf(f, "<div class=\"card\">");
    if (r->shown[i] == 2) {
        fprintf(f, "<div class=\"pic im%u\" role=\"img\" aria-label=\"", i);
        html_text(f, t);
        fprintf(f, "\"></div>");
    } else {
        uint32_t h = 2166136261u;
        for (const char *c = r->lm.ds.item_keys[i]; *c; c++) h = (h ^ (uint8_t)*c) * 16777619u;
        fprintf(f, "<div class=\"pic ph\" style=\"background:hsl(%u,45%%,55%%)\">", h % 360);
        write_initials(f, t);
        fprintf(f, "</div>");
    }
    fprintf(f, "<div class=\"t\" title=\"");
    html_text(f, r->lm.ds.item_keys[i]);
    fprintf(f, "\">");
    html_text(f, t);
    fprintf(f, "</div>");
    if (note) {
        fprintf(f, "<div class=\"n\">");
        html_text(f, note);
        fprintf(f, "</div>");
    }
    fprintf(f, "</div>");
}

static const char CSS[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1100px;padding:16px 24px;"
    "color:#222;background:#fafafa}\n"
    "h1{font-size:1.6em;margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\n"
    "section{background:#fff;border:1px solid #e4e4e4;border-radius:6px;padding:4px 18px 14px;margin:14px 0}\n"
    "table{border-collapse:collapse;margin:.6em 0}th,td{padding:4px 10px;border-bottom:1px solid #eee;text-align:right}\n"
    "th:first-child,td:first-child{text-align:left}.better{color:#2a7a2a;font-weight:600}.worse{color:#b22}\n"
    ".note{color:#666;font-size:.9em}svg.chart,section>svg{max-width:100%;height:auto;display:block;margin:.5em 0}\n"
    ".row{display:flex;gap:8px;align-items:flex-start;margin:8px 0}.row .arrow{align-self:center;color:#999}\n"
    ".card{width:104px;font-size:12px}.pic{width:96px;height:96px;border-radius:6px;background-size:cover;"
    "background-position:center;background-color:#eee}\n"
    ".ph{display:flex;align-items:center;justify-content:center;color:#fff;font-size:30px;font-weight:600}\n"
    ".t{margin-top:3px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.n{color:#777}\n"
    ".seed .pic{outline:3px solid #1f77b4}\n";

static void write_accuracy(FILE *f, const report *r) {
    static const char *const ptitle[2] = {"not masked", "masked"};
    fprintf(f, "<section id=\"accuracy\"><h2>Accuracy against popularity</h2>\n"
               "<p class=\"note\">Test split: each visitor's last item is hidden and every item of the catalogue is "
               "ranked for it (leave-one-out, full ranking). HR@10: how often the hidden item is in the top 10; "
               "NDCG@10 also rewards ranking it higher. <code>pop</code> recommends the best sellers to everyone. "
               "History not masked: every item competes; masked: items the visitor already has cannot be "
               "recommended (as published tables rank). The model's numbers are %s.</p>\n",
            r->acc_from_json ? "those the run recorded in train.json" : "the checkpoint scored now (train.json has none)");
    fprintf(f, "<table id=\"accuracy-table\"><tr><th>protocol</th><th>model</th><th>HR@5</th><th>HR@10</th>"
               "<th>HR@20</th><th>NDCG@5</th><th>NDCG@10</th><th>NDCG@20</th><th>MRR</th><th>NDCG@10 vs pop</th></tr>\n");
    for (int p = 0; p < 2; p++)
        for (int w = 0; w < 2; w++) {
            const metrics *m = &r->acc[p][w];
            fprintf(f, "<tr data-protocol=\"%s\" data-model=\"%s\"><td>%s</td><td>%s</td>", p ? "masked" : "unmasked",
                    w ? "pop" : "run", ptitle[p], w ? "pop" : tm_kind_name(r->lm.st->spec.kind));
            for (int k = 0; k < 3; k++) fprintf(f, "<td>%.4f</td>", m->hr[k]);
            for (int k = 0; k < 3; k++) fprintf(f, "<td>%.4f</td>", m->ndcg[k]);
            fprintf(f, "<td>%.4f</td>", m->mrr);
            if (w) {
                fprintf(f, "<td></td>");
            } else {
                double pn = r->acc[p][1].ndcg[1], d = pn > 0 ? 100 * (m->ndcg[1] - pn) / pn : 0;
                if (pn > 0)
                    fprintf(f, "<td class=\"%s\">%+.1f%%</td>", d >= 0 ? "better" : "worse", d);
                else
                    fprintf(f, "<td>-</td>");
            }
            fprintf(f, "</tr>\n");
        }
    fprintf(f, "</table>\n");
    /* the terms chosen on validation after training (docs/TRAINING.md), in a merchandiser's words */
    const train_state *st = r->lm.st;
    if (st->coclick_beta > 0 || st->repeat_weight != 0) {
        fprintf(f, "<p id=\"terms\">Added to the model's scores after training, each weight chosen on validation:");
        if (st->coclick_beta > 0)
            fprintf(f, " the products clicked right after the visitor's recent ones (co-click term, weight %g);",
                    (double)st->coclick_beta);
        if (st->repeat_weight != 0)
            fprintf(f, " %g per earlier click of the same product (repeat term): your visitors %s.",
                    (double)st->repeat_weight,
                    st->repeat_weight < 0 ? "rarely come back to a product they clicked, so it is ranked lower"
                                          : "often come back to a product they clicked, so it is ranked higher");
        fprintf(f, "</p>\n");
    }
    fprintf(f, "</section>\n");
}

static void write_channels(FILE *f, const report *r, const options *o) {
    fprintf(f, "<section id=\"channels\"><h2>What drives the recommendations</h2>\n<p class=\"note\">");
    if (r->step == 1)
        fprintf(f, "For all %u visitors, their", r->sampled);
    else
        fprintf(f, "For %u of the %u visitors (one in %u, in file order), their", r->sampled, r->lm.ds.n_users, r->step);
    fprintf(f, " top %d for everything they "
               "viewed. Each recommendation's score is a sum of one term per channel: \"look\" compares product "
               "images, \"description\" product texts, \"bought together\" what visitors had together. A bar shows, "
               "for the recommended items of a category, each channel's average part of the positive terms "
               "(the number in brackets: recommendations behind the bar).",
            TOP_K);
    if (!r->n_cat) {
        fprintf(f, " The catalogue has no \"");
        html_text(f, o->category_field);
        fprintf(f, "\" field, so all items form one group.");
    }
    fprintf(f, "</p>\n");
    if (!r->n_ch || !r->cat_n[r->n_cat + 1]) {
        fprintf(f, "<p>The model has no channel terms to compare (a popularity model).</p></section>\n");
        return;
    }
    /* rows: all, then the categories with the most recommendations, then the rest merged */
    size_t max_rows = MAX_CATEGORIES + 3;
    const char **label = calloc(max_rows, sizeof *label);
    uint64_t *cnt = calloc(max_rows, sizeof *cnt);
    double *share = calloc(max_rows * r->n_ch, sizeof *share);
    uint32_t *ord = malloc((r->n_cat + 1) * sizeof *ord);
    if (!label || !cnt || !share || !ord) {
        free(label), free(cnt), free(share), free(ord);
        fprintf(f, "<p>(out of memory)</p></section>\n");
        return;
    }
    size_t n = 0;
    label[n] = "all recommendations";
    cnt[n] = r->cat_n[r->n_cat + 1];
    for (uint32_t c = 0; c < r->n_ch; c++) share[c] = r->cat_share[(r->n_cat + 1) * r->n_ch + c] / (double)cnt[n];
    n++;
    uint32_t m = 0;
    for (uint32_t k = 0; k <= r->n_cat; k++)
        if (r->cat_n[k]) ord[m++] = k;
    /* by recommendations, most first (insertion sort: a few hundred categories at most matter) */
    for (uint32_t a = 1; a < m; a++)
        for (uint32_t b = a; b > 0 && r->cat_n[ord[b]] > r->cat_n[ord[b - 1]]; b--) {
            uint32_t t = ord[b];
            ord[b] = ord[b - 1], ord[b - 1] = t;
        }
    if (r->n_cat) {
        double *rest = share + (MAX_CATEGORIES + 1) * r->n_ch;
        uint64_t rest_n = 0;
        for (uint32_t a = 0; a < m; a++) {
            uint32_t k = ord[a];
            if (a < MAX_CATEGORIES) {
                label[n] = k == r->n_cat ? "(no category)" : r->cat_name[k];
                cnt[n] = r->cat_n[k];
                for (uint32_t c = 0; c < r->n_ch; c++) share[n * r->n_ch + c] = r->cat_share[k * r->n_ch + c] / (double)cnt[n];
                n++;
            } else {
                for (uint32_t c = 0; c < r->n_ch; c++) rest[c] += r->cat_share[k * r->n_ch + c];
                rest_n += r->cat_n[k];
            }
        }
        if (rest_n) {
            label[n] = "other categories";
            cnt[n] = rest_n;
            for (uint32_t c = 0; c < r->n_ch; c++) share[n * r->n_ch + c] = rest[c] / (double)rest_n;
            n++;
        }
    }
    svg_stacked_bars(f, label, cnt, n, r->ch_label, r->n_ch, share);
    fprintf(f, "</section>\n");
    free(label), free(cnt), free(share), free(ord);
}

static void write_neighbours(FILE *f, const report *r) {
    const mdsrec_config *cfg = mdsrec_model_config(r->m);
    fprintf(f, "<section id=\"neighbours\"><h2>Similar products per channel</h2>\n"
               "<p class=\"note\">The %u best sellers (outlined) and their closest items in each channel's graph, "
               "strongest first: what \"similar items\" shows next to a product, and what the channel passes on "
               "during training.</p>\n", r->n_examples);
    for (uint32_t c = 0; c < cfg->n_channels; c++) {
        fprintf(f, "<h3>");
        html_text(f, channel_label(cfg, c));
        fprintf(f, " <span class=\"note\">(channel ");
        html_text(f, cfg->channels[c].name);
        fprintf(f, ")</span></h3>\n");
        int any = 0;
        for (uint32_t e = 0; e < r->n_examples; e++) {
            uint32_t it[NB_SHOWN], cnt = 0;
            float w[NB_SHOWN];
            if (mdsrec_similar(r->m, r->example[e], c, NB_SHOWN, it, w, &cnt) != MDSREC_OK) break;
            any = 1;
            fprintf(f, "<div class=\"row\"><div class=\"seed\">");
            write_card(f, r, r->example[e], "best seller");
            fprintf(f, "</div><div class=\"arrow\">&rarr;</div>");
            for (uint32_t k = 0; k < cnt; k++) {
                char note[32];
                snprintf(note, sizeof note, "weight %.3f", (double)w[k]);
                write_card(f, r, it[k], note);
            }
            if (!cnt) fprintf(f, "<p class=\"note\">no neighbours</p>");
            fprintf(f, "</div>\n");
        }
        if (!any) fprintf(f, "<p class=\"note\">No neighbour list for this channel in the bundle.</p>\n");
    }
    fprintf(f, "</section>\n");
}

static void write_coverage(FILE *f, const report *r) {
    uint64_t covered = 0;
    for (uint32_t d = 0; d < DECILES; d++) covered += r->dec_covered[d];
    uint32_t n = r->lm.ds.n_items;
    fprintf(f, "<section id=\"coverage\"><h2>Coverage of the catalogue</h2>\n"
               "<p><strong id=\"coverage-share\">%.1f%%</strong> of the catalogue (%llu of %u items) is in the "
               "top %d of at least one of the %u sampled visitors.</p>\n"
               "<p class=\"note\">Items are ranked by how often they were bought or viewed in training and cut "
               "into ten equal groups (decile 1: the best-selling tenth). The chart shows where the %llu "
               "recommendations of the sample land; a long-tail-friendly model reaches the later deciles.</p>\n",
            n ? 100.0 * (double)covered / n : 0.0, (unsigned long long)covered, n, TOP_K, r->sampled,
            (unsigned long long)r->slots);
    const char *lab[DECILES];
    char labs[DECILES][12];
    double v[DECILES];
    for (int d = 0; d < DECILES; d++) {
        snprintf(labs[d], sizeof labs[d], "%d", d + 1);
        lab[d] = labs[d];
        v[d] = r->slots ? 100.0 * (double)r->dec_slots[d] / (double)r->slots : 0;
    }
    svg_histogram(f, lab, v, DECILES, 1, "popularity decile (1 = best sellers)", "% of recommendations");
    fprintf(f, "<table id=\"coverage-table\"><tr><th>decile</th><th>items</th><th>items recommended</th>"
               "<th>recommendations</th></tr>\n");
    for (int d = 0; d < DECILES; d++)
        fprintf(f, "<tr><td>%d</td><td>%llu</td><td>%llu</td><td>%llu</td></tr>\n", d + 1,
                (unsigned long long)r->dec_items[d], (unsigned long long)r->dec_covered[d],
                (unsigned long long)r->dec_slots[d]);
    fprintf(f, "</table></section>\n");
}

static int write_page(report *r, const options *o) {
    cli_out out;
    if (cli_out_open(&out, o->out)) return -1;
    FILE *f = out.f;
    const train_state *st = r->lm.st;
    const mdsrec_config *cfg = mdsrec_model_config(r->m);
    char title[1400];
    snprintf(title, sizeof title, "%s on %s", tm_kind_name(st->spec.kind), r->lm.ds.path ? r->lm.ds.path : st->data);
    fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
               "img-src data:\">\n<title>MDSRec report: ");
    html_text(f, title);
    fprintf(f, "</title>\n<style>\n%s", CSS);
    write_image_rules(f, r, o);
    fprintf(f, "</style></head><body>\n<h1>What the model learned</h1>\n<p>");
    html_text(f, title);
    fprintf(f, ": %u items, %u visitors, channels ", r->lm.ds.n_items, r->lm.ds.n_users);
    for (uint32_t c = 0; c < cfg->n_channels; c++) {
        fprintf(f, "%s", c ? ", " : "");
        html_text(f, channel_label(cfg, c));
    }
    fprintf(f, "%s; seed %llu; best epoch %u of %u.</p>\n", cfg->n_channels ? "" : "none",
            (unsigned long long)st->seed, r->curve->best_epoch, r->curve->n_hist);

    fprintf(f, "<section id=\"training\"><h2>Training curve</h2>\n<p class=\"note\">Training loss (blue, left) "
               "and validation NDCG@10 (red, right) per epoch; the dot marks the best epoch, the one kept%s.</p>\n",
            r->curve_from_json ? "" : " (train.json is missing: the history up to the best epoch, from model.ckpt)");
    if (r->curve->n_hist)
        plot_svg(f, r->curve, title);
    else /* `train --model pop --out`: counted, not trained */
        fprintf(f, "<p>This run has no training epochs (a %s model is counted, not trained).</p>\n",
                tm_kind_name(st->spec.kind));
    fprintf(f, "</section>\n");
    write_accuracy(f, r);
    write_channels(f, r, o);
    write_neighbours(f, r);
    write_coverage(f, r);
    fprintf(f, "<section id=\"new-items\"><h2>New items added</h2><p>No items added.</p></section>\n"
               "<p class=\"note\">Written by mdsrec report; this page loads nothing and runs no script.</p>\n"
               "</body></html>\n");
    if (ferror(f)) {
        cli_error("%s: write failed", o->out);
        cli_out_abort(&out);
        return -1;
    }
    return cli_out_commit(&out);
}

static void report_free(report *r) {
    mdsrec_close(r->m);
    free(r->bundle);
    catalogue_free(&r->cat);
    free(r->curve), free(r->counts), free(r->decile), free(r->cat_of), free(r->cat_share), free(r->cat_n);
    free(r->covered), free(r->example), free(r->shown);
    for (uint32_t k = 0; k < r->n_cat; k++) free(r->cat_name[k]);
    free(r->cat_name);
    loaded_model_free(&r->lm);
}

/* What the run and the data must be, said before the readers' own messages (which name a
   file but not what a report needs from it). */
static int check_inputs(const options *o) {
    struct stat sb;
    char p[4200];
    if (stat(o->model_path, &sb) != 0) {
        cli_error("%s: no such run (expected the directory mdsrec train --out wrote, with model.ckpt and train.json)",
                  o->model_path);
        return -1;
    }
    snprintf(p, sizeof p, "%s/model.ckpt", o->model_path);
    if (S_ISDIR(sb.st_mode) && stat(p, &sb) != 0) {
        cli_error("%s: missing (expected the run's trained model, as mdsrec train writes it)", p);
        return -1;
    }
    if (!o->data_path) return 0;
    if (stat(o->data_path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cli_error("%s: no such directory (expected a prepared directory: items.txt, sequences.tsv, catalog.jsonl)",
                  o->data_path);
        return -1;
    }
    return 0;
}

static int run(report *r, const options *o) {
    if (check_inputs(o) || load_model(o->model_path, o->data_path, &r->lm)) return -1;
    uint32_t n = r->lm.ds.n_items;
    if (load_history(r, o) || score_pop(r, o) || catalogue_load(r->lm.ds.path, n, &r->cat) || open_bundle(r, o))
        return -1;
    uint32_t *order = malloc(n * sizeof *order);
    r->counts = malloc(n * sizeof *r->counts);
    r->decile = malloc(n * sizeof *r->decile);
    if (!order || !r->counts || !r->decile || assign_categories(r, o)) {
        free(order);
        return cli_error("out of memory"), -1;
    }
    dataset_train_counts(&r->lm.ds, r->counts);
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    g_counts = r->counts;
    qsort(order, n, sizeof *order, by_count);
    for (uint32_t k = 0; k < n; k++) r->decile[order[k]] = (uint32_t)((uint64_t)k * DECILES / n);
    int rc = sample_visitors(r, o) || pick_examples(r, order, o) ? -1 : 0;
    free(order);
    return rc ? -1 : write_page(r, o);
}

int cmd_report(int argc, char **argv) {
    options o = {0};
    o.visitors = 1000, o.examples = 4, o.max_image_kb = 64, o.category_field = "category";
    const opt rows[] = {
        {"--model", OPT_STRING, &o.model_path, "RUN", .help = "the training directory (model.ckpt, train.json)",
         .flags = OPT_REQUIRED},
        {"--out", OPT_STRING, &o.out, "FILE", .help = "the HTML page", .flags = OPT_REQUIRED},
        {"--data", OPT_STRING, &o.data_path, "DIR", .help = "the prepared directory", .def = "the one the run names"},
        {"--bundle", OPT_STRING, &o.bundle_path, "FILE",
         .help = "the exported bundle to sample and take neighbours from", .def = "the run, exported in memory"},
        {"--visitors", OPT_U32, &o.visitors, "N", .help = "visitors sampled (every k-th) for channels and coverage",
         .min = 1, .max = UINT32_MAX},
        {"--examples", OPT_U32, &o.examples, "N", .help = "best sellers shown with their neighbours", .min = 1,
         .max = 100},
        {"--category-field", OPT_STRING, &o.category_field, "NAME",
         .help = "the catalog.jsonl field that groups items (\"A|B\": the first)"},
        {"--images", OPT_STRING, &o.images_dir, "DIR", .help = "where relative image paths of the catalogue are",
         .def = "the prepared directory"},
        {"--max-image-kb", OPT_U32, &o.max_image_kb, "KB",
         .help = "embed a local image only up to this size (larger: a tile with initials)", .min = 0, .max = 65536},
        {"--threads", OPT_U32, &o.threads, "N", .help = "worker threads", .min = 0, .max = PARALLEL_MAX_THREADS,
         .def = "every core"},
    };
    const opt_cmd cmd = {
        "report",
        .about = "Writes one self-contained HTML page (inline CSS and SVG, no script, nothing loaded): the\n"
                 "training curve, test accuracy against popularity, which channel drives the recommendations\n"
                 "per category, neighbour lists per channel and the catalogue's coverage.",
        .opts = rows,
        .n_opts = OPT_COUNT(rows),
    };
    int prc = opt_parse(&cmd, argc, argv);
    if (prc != OPT_PROCEED) return prc;
    o.threads = (uint32_t)parallel_threads(o.threads);
    gemm_set_threads(1); /* our workers split every sgemm themselves */
    report r;
    memset(&r, 0, sizeof r);
    int rc = run(&r, &o);
    report_free(&r);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
