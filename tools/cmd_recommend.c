/* cmd_recommend.c - `mdsrec recommend`: runs the core natively on a bundle for a history of
   item keys and prints the top-k with each channel's share, gate and carrier: a table with
   the catalogue's titles and a reason per item, or JSON with the keys (--json). With
   --candidates, the core's candidate mode (mdsrec_recommend_candidates). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_candidates.h"
#include "cli.h"
#include "export/catalog_gz.h"
#include "options.h"
#include "mdsrec.h"

const char cmd_recommend_summary[] = "top-k recommendations for a history of item keys";

/* A parsed list of item indices. */
typedef struct {
    uint32_t *idx;
    uint32_t n;
    int given;
} key_list;

/* Resolves "KEY,KEY,..." to indices; -1 after naming the unknown key. An empty string is an
   empty list. */
static int resolve(const mdsrec_model *m, const char *path, const char *opt, const char *s, key_list *out) {
    out->given = 1;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    out->idx = malloc(cap * sizeof *out->idx);
    if (!out->idx) {
        cli_error("out of memory");
        return -1;
    }
    out->n = 0;
    if (!*s) return 0;
    const char *p = s;
    while (1) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int64_t i = mdsrec_find_key(m, p, len);
        if (i < 0) {
            cli_error("%s: %s: unknown item key '%.*s'", path, opt, (int)len, p);
            return -1;
        }
        out->idx[out->n++] = (uint32_t)i;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

/* The catalogue's titles by item index (NULL where an item has none, or the bundle no
   catalogue): the table shows what a shop's staff recognise, the keys stay in --json. */
typedef struct {
    cJSON *root;
    const char **title; /* [N] */
} titles;

static void titles_load(const mdsrec_model *m, const char *path, titles *t) {
    memset(t, 0, sizeof *t);
    size_t len;
    char *cat = NULL; /* a CATALOG_GZ that does not inflate is reported, and keys are shown */
    uint32_t n = mdsrec_model_config(m)->n_items;
    int bad = catalog_of_model(m, path, &cat, &len);
    if (!bad && cat) t->root = cJSON_ParseWithLength(cat, len);
    free(cat);
    if (!t->root || !cJSON_IsArray(t->root) || !(t->title = calloc(n ? n : 1, sizeof *t->title)))
        return; /* no catalogue (or no memory for it): keys are shown */
    uint32_t i = 0;
    for (const cJSON *o = t->root->child; o && i < n; o = o->next, i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "title");
        if (cJSON_IsString(v) && v->valuestring[0]) t->title[i] = v->valuestring;
    }
}

static void titles_free(titles *t) {
    cJSON_Delete(t->root);
    free(t->title);
}

/* Prints s[0..len) in `width` columns (code points), cut with "~" when longer, padded unless
   width is 0 (then whole). Titles are UTF-8: a cut never splits a character. */
static void print_cell(const char *s, size_t len, int width) {
    if (!width) {
        printf("%.*s", (int)len, s);
        return;
    }
    size_t cps = 0, i = 0, cut = len;
    for (; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && cps++ == (size_t)width - 1) cut = i;
    size_t shown = cps > (size_t)width ? cut : len;
    printf("%.*s%s", (int)shown, s, cps > (size_t)width ? "~" : "");
    for (size_t k = cps > (size_t)width ? (size_t)width : cps; k < (size_t)width; k++) putchar(' ');
}

/* The item's title, else its key. */
static void print_item(const mdsrec_model *m, const titles *t, uint32_t i, int width) {
    size_t len;
    const char *k = t->title && t->title[i] ? t->title[i] : mdsrec_item_key(m, i, &len);
    if (t->title && t->title[i]) len = strlen(k);
    if (!k) k = "-", len = 1;
    print_cell(k, len, width);
}

/* Why item r is here, from what the core returns: the channel with the largest share and
   that channel's carrier (the history item it pooled most), or the popularity order when the
   history is empty. */
static void print_reason(const mdsrec_model *m, const titles *t, const mdsrec_result *r, uint32_t i) {
    const mdsrec_config *c = mdsrec_model_config(m);
    uint32_t best = 0;
    for (uint32_t ch = 1; ch < r->n_channels; ch++)
        if (r->shares[i * r->n_channels + ch] > r->shares[i * r->n_channels + best]) best = ch;
    if (!r->n_channels || r->carriers[best] == MDSREC_NONE) {
        printf("popular");
        return;
    }
    printf("%s, like ", c->channels[best].name);
    print_item(m, t, r->carriers[best], 0);
}

static void print_table(const mdsrec_model *m, const char *path, const mdsrec_result *r) {
    const mdsrec_config *c = mdsrec_model_config(m);
    titles t;
    titles_load(m, path, &t);
    printf("%4s  %-32s %12s", "rank", t.title ? "item" : "key", "score");
    for (uint32_t ch = 0; ch < c->n_channels; ch++) printf(" %12.12s", c->channels[ch].name);
    printf("  why\n");
    for (uint32_t i = 0; i < r->count; i++) {
        printf("%4u  ", i + 1);
        print_item(m, &t, r->items[i], 32);
        printf(" %12.6f", (double)r->scores[i]);
        for (uint32_t ch = 0; ch < r->n_channels; ch++) printf(" %12.6f", (double)r->shares[i * r->n_channels + ch]);
        printf("  ");
        print_reason(m, &t, r, i);
        printf("\n");
    }
    printf("\n%-12s %8s  %s\n", "channel", "gate", "carrier (pooling weight)");
    for (uint32_t ch = 0; ch < r->n_channels; ch++) {
        printf("%-12.12s %8.4f  ", c->channels[ch].name, (double)r->gates[ch]);
        if (r->carriers[ch] == MDSREC_NONE) {
            printf("-\n");
            continue;
        }
        print_item(m, &t, r->carriers[ch], 0);
        printf(" (%.4f)\n", (double)r->carrier_weights[ch]);
    }
    titles_free(&t);
}

static cJSON *key_json(const mdsrec_model *m, uint32_t i) {
    size_t len;
    const char *k = mdsrec_item_key(m, i, &len);
    char buf[MDSREC_MAX_KEY_LEN + 1];
    memcpy(buf, k, len);
    buf[len] = 0;
    return cJSON_CreateString(buf);
}

static int print_json(const mdsrec_model *m, const mdsrec_result *r, const key_list *hist) {
    const mdsrec_config *c = mdsrec_model_config(m);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "kernels", mdsrec_kernels_name());
    cJSON *h = cJSON_AddArrayToObject(root, "history");
    for (uint32_t i = 0; i < hist->n; i++) cJSON_AddItemToArray(h, key_json(m, hist->idx[i]));
    cJSON *chans = cJSON_AddArrayToObject(root, "channels");
    for (uint32_t ch = 0; ch < r->n_channels; ch++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->channels[ch].name);
        cJSON_AddNumberToObject(o, "gate", r->gates[ch]);
        if (r->carriers[ch] == MDSREC_NONE) {
            cJSON_AddNullToObject(o, "carrier");
        } else {
            cJSON_AddItemToObject(o, "carrier", key_json(m, r->carriers[ch]));
            cJSON_AddNumberToObject(o, "carrier_index", r->carriers[ch]);
        }
        cJSON_AddNumberToObject(o, "carrier_weight", r->carrier_weights[ch]);
        cJSON_AddItemToArray(chans, o);
    }
    cJSON *items = cJSON_AddArrayToObject(root, "items");
    for (uint32_t i = 0; i < r->count; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rank", i + 1);
        cJSON_AddNumberToObject(o, "index", r->items[i]);
        cJSON_AddItemToObject(o, "key", key_json(m, r->items[i]));
        cJSON_AddNumberToObject(o, "score", r->scores[i]);
        cJSON *sh = cJSON_AddArrayToObject(o, "shares");
        for (uint32_t ch = 0; ch < r->n_channels; ch++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber(r->shares[i * r->n_channels + ch]));
        cJSON_AddItemToArray(items, o);
    }
    cJSON_AddNumberToObject(root, "scored", r->scored);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        cli_error("out of memory");
        return -1;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return 0;
}

/* Times n calls: mean and median latency on stderr. */
static int time_calls(const mdsrec_model *m, mdsrec_state *s, const mdsrec_query *q, const mdsrec_candidates *c,
                      uint32_t n) {
    double *t = malloc(n * sizeof *t), sum = 0;
    if (!t) {
        cli_error("out of memory");
        return -1;
    }
    mdsrec_result r;
    for (uint32_t i = 0; i < n; i++) {
        double t0 = cli_now();
        mdsrec_recommend_candidates(m, s, q, c, &r);
        t[i] = cli_now() - t0;
        sum += t[i];
    }
    qsort(t, n, sizeof *t, bench_cmp_double);
    double median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    fprintf(stderr, "mdsrec recommend: %u calls (%s kernels): mean %.3f ms, median %.3f ms, min %.3f ms\n", n,
            mdsrec_kernels_name(), sum / n * 1e3, median * 1e3, t[0] * 1e3);
    free(t);
    return 0;
}

typedef struct {
    const char *path, *history, *exclude, *allow;
    uint32_t k, repeat;
    int include_history, json;
    mdsrec_candidates cand;
} options;

/* Resolves the lists, recommends, prints. */
static int run(const options *o, const mdsrec_model *m, mdsrec_state *s) {
    key_list hist = {0}, excl = {0}, allow = {0};
    int rc = CLI_EXIT_FAIL;
    if ((o->history && resolve(m, o->path, "--history", o->history, &hist)) ||
        (o->exclude && resolve(m, o->path, "--exclude", o->exclude, &excl)) ||
        (o->allow && resolve(m, o->path, "--allow", o->allow, &allow)))
        goto done;
    mdsrec_query q = {hist.idx, hist.n, o->k, o->include_history ? MDSREC_INCLUDE_HISTORY : 0,
                      excl.idx, excl.n, NULL, 0};
    if (allow.given) q.allow = allow.idx, q.allow_len = allow.n;
    mdsrec_result r;
    mdsrec_status st = mdsrec_recommend_candidates(m, s, &q, &o->cand, &r);
    if (st) {
        cli_error("%s: recommend failed: %s", o->path, mdsrec_status_string(st));
        goto done;
    }
    if (o->repeat && time_calls(m, s, &q, &o->cand, o->repeat)) goto done;
    if (o->json) {
        if (print_json(m, &r, &hist)) goto done;
    } else {
        print_table(m, o->path, &r);
        if (o->cand.candidates) printf("\nscored %u of %u items (candidate mode)\n", r.scored, mdsrec_model_config(m)->n_items);
    }
    rc = CLI_EXIT_OK;
done:
    free(hist.idx), free(excl.idx), free(allow.idx);
    return rc;
}

int cmd_recommend(int argc, char **argv) {
    options o = {0};
    o.k = 10;
    o.cand.popular_head = 100, o.cand.hops = 1;
    int cand_on = 0, cand_opt = 0;
    const char *file[1];
    opt_list files = {file, 0, 1};
    const opt rows[] = {
        {"--history", OPT_STRING, &o.history, "KEY,KEY,...", .help = "the visitor's history", .def = "empty"},
        {"-k", OPT_U32, &o.k, "N", .help = "results wanted", .min = 1, .max = UINT32_MAX},
        {"--include-history", OPT_FLAG, &o.include_history, .help = "do not exclude the history items from the results"},
        {"--exclude", OPT_STRING, &o.exclude, "KEY,...", .help = "items never returned"},
        {"--allow", OPT_STRING, &o.allow, "KEY,...", .help = "only these items may be returned"},
        {"--json", OPT_FLAG, &o.json, .help = "JSON output (item keys) instead of the table (titles)"},
        {"--repeat", OPT_U32, &o.repeat, "N", .help = "time N calls; mean and median latency on stderr", .min = 1,
         .max = UINT32_MAX, .def = ""},
        {"--candidates", OPT_FLAG, &cand_on,
         .help = "candidate mode: score only the popular head and the items the neighbour lists reach\n"
                 "from the history (bench/NOTES.md, \"Candidate mode\")"},
        BENCH_CANDIDATE_OPTS(o.cand, cand_opt),
    };
    const opt_cmd cmd = {
        "recommend",
        .about = "Loads the bundle and recommends for a history of item keys (oldest first; none: the\n"
                 "popularity order).",
        .opts = rows,
        .n_opts = OPT_COUNT(rows),
        .pos_name = "FILE",
        .pos = &files,
        .pos_min = 1,
    };
    int rc = opt_parse(&cmd, argc, argv);
    if (rc != OPT_PROCEED) return rc;
    if (cand_opt && !cand_on) return opt_usage_error(&cmd, "--popular-head, --hops and --neighbours need --candidates");
    o.cand.candidates = (uint32_t)cand_on;
    o.path = file[0];
    size_t len;
    uint8_t *buf = cli_read_file(o.path, &len);
    if (!buf) return CLI_EXIT_FAIL;
    mdsrec_model *m = NULL;
    mdsrec_state *s = NULL;
    mdsrec_error err = {0};
    mdsrec_status st = mdsrec_open(buf, len, &m, &err);
    if (st) {
        cli_error("%s: invalid bundle (%s): %s", o.path, mdsrec_status_string(st), err.message);
        free(buf);
        return CLI_EXIT_FAIL;
    }
    st = mdsrec_state_new(m, &s);
    if (st) {
        cli_error("%s: %s", o.path, mdsrec_status_string(st));
        rc = CLI_EXIT_FAIL;
    } else {
        rc = run(&o, m, s);
    }
    mdsrec_state_free(s);
    mdsrec_close(m);
    free(buf);
    return rc;
}
