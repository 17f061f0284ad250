/*
 * cmd_graph.c - `mdsrec graph`: the modality relation graphs and the behaviour-only graph of
 * MODEL.md section 1, from a prepared directory's features and the training part of its
 * sequences, into DIR/graph/ (docs/DATASET.md).
 *
 * All graphs are computed in memory before any file is written.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "data/prepared.h"
#include "graph/cooccur.h"
#include "graph/csr.h"
#include "graph/ann.h"
#include "graph/knn.h"
#include "parallel.h"

const char cmd_graph_summary[] = "feature + behaviour graphs (top-k, normalised) for a prepared directory";

typedef struct {
    char *name;
    csr knn, adj;
    double seconds;
} graph_out;

static int write_graph(const char *dir, const graph_out *g, const char *kind, uint32_t k, float beta, uint32_t window,
                       uint32_t threads) {
    char rel[160];
    char *p;
    int rc = -1;
    snprintf(rel, sizeof rel, "graph/%s.knn.csr", g->name);
    if (!(p = path_join(dir, rel)) || csr_write(p, &g->knn) != 0) goto done;
    free(p);
    snprintf(rel, sizeof rel, "graph/%s.adj.csr", g->name);
    if (!(p = path_join(dir, rel)) || csr_write(p, &g->adj) != 0) goto done;
    free(p);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", g->name);
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddNumberToObject(o, "rows", g->knn.n_rows);
    cJSON_AddNumberToObject(o, "k", k);
    cJSON_AddNumberToObject(o, "beta", !strcmp(kind, "behaviour") ? 0 : beta);
    cJSON_AddNumberToObject(o, "window", window);
    cJSON_AddNumberToObject(o, "knn_edges", g->knn.nnz);
    cJSON_AddNumberToObject(o, "adj_edges", g->adj.nnz);
    uint32_t empty = 0;
    for (uint32_t i = 0; i < g->knn.n_rows; i++) empty += g->knn.row_ptr[i + 1] == g->knn.row_ptr[i];
    cJSON_AddNumberToObject(o, "items_without_neighbours", empty);
    cJSON_AddNumberToObject(o, "seconds", g->seconds);
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddBoolToObject(o, "blas", knn_uses_blas());
    snprintf(rel, sizeof rel, "graph/%s.json", g->name);
    p = path_join(dir, rel);
    rc = p ? write_json_file(p, o) : -1;
    cJSON_Delete(o);
done:
    free(p);
    return rc;
}

/* ------------------------------------------------------------------ --show */

static char **load_titles(const char *dir, uint32_t n) {
    char *path = path_join(dir, "catalog.jsonl");
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f) return NULL;
    char **t = calloc(n, sizeof *t);
    char *line = NULL;
    size_t cap = 0;
    for (uint32_t i = 0; t && i < n && getline(&line, &cap, f) > 0; i++) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(o, "title");
        const cJSON *year = cJSON_GetObjectItemCaseSensitive(o, "year");
        if (cJSON_IsString(title)) {
            char buf[512];
            if (cJSON_IsString(year))
                snprintf(buf, sizeof buf, "%s (%s)", title->valuestring, year->valuestring);
            else
                snprintf(buf, sizeof buf, "%s", title->valuestring);
            t[i] = strdup(buf);
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    return t;
}

static int show(const char *dir, const char *keys, const char *list, uint32_t top) {
    dataset s;
    keymap items;
    if (prepared_load(dir, &s, &items) != 0) return CLI_EXIT_FAIL;
    char **titles = load_titles(dir, s.n_items);
    uint32_t nf = 0;
    char **names = list ? NULL : prepared_list_features(dir, &nf);
    int rc = CLI_EXIT_FAIL;
    /* graphs to show: the features (or --features) and behaviour */
    char *all = NULL;
    size_t len = 16;
    for (uint32_t f = 0; f < nf; f++) len += strlen(names[f]) + 1;
    all = malloc(len + (list ? strlen(list) : 0));
    if (!all) goto done;
    all[0] = 0;
    if (list) {
        strcat(all, list);
    } else {
        for (uint32_t f = 0; f < nf; f++) strcat(strcat(all, names[f]), ",");
        strcat(all, "behaviour");
    }
    size_t kl, gl;
    for (const char *kp = keys, *k; (k = cli_list_next(&kp, &kl));) {
        char *key = strndup(k, kl);
        uint32_t i = keymap_find(&items, key);
        if (i == UINT32_MAX) {
            cli_error("--show: \"%s\" is not an item of items.txt", key);
            free(key);
            goto done;
        }
        printf("%s %s\n", key, titles && titles[i] ? titles[i] : "");
        free(key);
        for (const char *gp = all, *g; (g = cli_list_next(&gp, &gl));) {
            char rel[160];
            snprintf(rel, sizeof rel, "graph/%.*s.knn.csr", (int)gl, g);
            char *path = path_join(dir, rel);
            csr m;
            int bad = !path || csr_read(path, &m) != 0;
            free(path);
            if (bad) goto done;
            if (m.n_rows != s.n_items) {
                cli_error("%s: %u rows, items.txt has %u", rel, m.n_rows, s.n_items);
                csr_free(&m);
                goto done;
            }
            printf("  %.*s:\n", (int)gl, g);
            for (uint32_t e = m.row_ptr[i], q = 0; e < m.row_ptr[i + 1] && q < top; e++, q++)
                printf("    %.4f  %s %s\n", m.w[e], keymap_key(&items, m.col[e]),
                       titles && titles[m.col[e]] ? titles[m.col[e]] : "");
            csr_free(&m);
        }
    }
    rc = CLI_EXIT_OK;
done:
    free(all);
    if (titles)
        for (uint32_t i = 0; i < s.n_items; i++) free(titles[i]);
    free(titles);
    for (uint32_t f = 0; f < nf; f++) free(names[f]);
    free(names);
    keymap_free(&items);
    dataset_free(&s);
    return rc;
}

/* --features: comma-separated feature names (empty entries are skipped). */
static const char *features_check(const char *v) {
    static const char want[] = "feature names ([A-Za-z0-9_-], not \"behaviour\"), comma-separated";
    size_t l;
    for (const char *p = v, *item; (item = cli_list_next(&p, &l));) {
        char name[80];
        if (l >= sizeof name) return want;
        memcpy(name, item, l);
        name[l] = 0;
        if (l && !valid_channel_name(name)) return want;
    }
    return NULL;
}

int cmd_graph(int argc, char **argv) {
    const char *dir = NULL, *list = NULL, *show_keys = NULL;
    uint32_t top = 5;
    uint32_t k = 10, window = 3, threads = 0, ann_above = 50000, ann_probe = 8;
    float beta = 1.0f;
    const opt rows[] = {
        {"--dir", OPT_STRING, &dir, "DIR", .help = "the prepared directory", .flags = OPT_REQUIRED},
        {"--features", OPT_STRING, &list, "LIST", .help = "feature names, comma-separated", .def = "all in DIR/features",
         .check = features_check},
        {"--k", OPT_U32, &k, "K", .help = "neighbours per item", .min = 1, .max = 1000},
        {"--beta", OPT_FLOAT, &beta, "B", .help = "weight of the behaviour signal", .min = 0, .max = INFINITY},
        {"--window", OPT_U32, &window, "W", .help = "co-occurrence window", .min = 1, .max = 1000},
        {"--threads", OPT_U32, &threads, "N", .help = "worker threads", .min = 0, .max = PARALLEL_MAX_THREADS,
         .def = "all CPUs"},
        {"--ann-above", OPT_U32, &ann_above, "N",
         .help = "catalogues of more than N items use the approximate search (graph/ann.h;\n"
                 "exact is quadratic in the items); 0: always, 4294967295: never"},
        {"--ann-probe", OPT_U32, &ann_probe, "P", .help = "approximate search: clusters searched per item", .min = 1,
         .max = 100000},
        {"--show", OPT_STRING, &show_keys, "KEYS",
         .help = "inspection (reads the graphs already built, writes nothing): item keys,\n"
                 "comma-separated: print their top neighbours in each graph\n"
                 "(with catalog.jsonl titles when there are)"},
        {"--top", OPT_U32, &top, "N", .help = "with --show: neighbours to print"},
    };
    const opt_cmd cmd = {
        "graph",
        .about = "For each feature matrix in DIR/features (or those named), the relation score\n"
                 "r(i,j) = cos(f_i, f_j) + beta * b~(i,j), where b~ is the windowed co-occurrence of the\n"
                 "training part of the sequences (never the last two items), normalised by\n"
                 "sqrt(cnt_i cnt_j). Keeps the top k (r > 0, ties by index), writes graph/NAME.knn.csr,\n"
                 "graph/NAME.adj.csr = D^-1/2 ((K + K^T)/2) D^-1/2 and graph/NAME.json; the same for b~\n"
                 "alone as graph/behaviour.*. Exact up to --ann-above items, then approximate (recall\n"
                 "printed); deterministic for any thread count.",
        .opts = rows,
        .n_opts = OPT_COUNT(rows),
    };
    int prc = opt_parse(&cmd, argc, argv);
    if (prc != OPT_PROCEED) return prc;
    if (show_keys) return show(dir, show_keys, list, top);
    threads = (uint32_t)parallel_threads(threads);

    /* The feature names: the list given, or every features/NAME.json. */
    uint32_t nf = 0;
    char **names = NULL;
    if (list) {
        uint32_t cap = 0;
        size_t l;
        for (const char *p = list, *item; (item = cli_list_next(&p, &l));) {
            if (!l) continue;
            if (nf == cap) {
                cap = cap ? cap * 2 : 8;
                names = realloc(names, cap * sizeof *names);
            }
            names[nf] = strndup(item, l);
            if (!valid_channel_name(names[nf])) {
                cli_error("--features: \"%s\" is not a feature name", names[nf]);
                for (uint32_t q = 0; q <= nf; q++) free(names[q]);
                free(names);
                return CLI_EXIT_USAGE;
            }
            nf++;
        }
    } else {
        names = prepared_list_features(dir, &nf);
    }

    int rc = CLI_EXIT_FAIL;
    dataset s;
    graph_out *g = calloc(nf + 1, sizeof *g);
    csr bt = {0};
    if (!g) goto free_names;
    if (prepared_load(dir, &s, NULL) != 0) goto free_g;
    double t0 = cli_now();
    if (cooccur_build(&s, window, &bt) != 0) goto free_all;
    /* The behaviour-only graph. */
    g[nf].name = strdup("behaviour");
    if (knn_from_sparse(&bt, k, &g[nf].knn) != 0 || csr_symmetric_normalise(&g[nf].knn, &g[nf].adj) != 0) {
        cli_error("out of memory building the behaviour graph");
        goto free_all;
    }
    g[nf].seconds = cli_now() - t0;
    for (uint32_t f = 0; f < nf; f++) {
        double t1 = cli_now();
        feature_matrix m;
        if (prepared_load_feature(dir, names[f], s.n_items, &m) != 0) goto free_all;
        /* An all-zero matrix (left by an older featurize run on a wrong path) has no neighbours
           to give: refuse it rather than write an empty graph the model would train on. */
        size_t nz = 0, cells = (size_t)m.rows * m.width;
        while (nz < cells && m.x[nz] == 0) nz++;
        if (nz == cells) {
            cli_error("%s/features/%s.f32: every row is zero (no item has this feature): featurize it again from "
                      "the right source, or leave it out with --features",
                      dir, names[f]);
            feature_matrix_free(&m);
            goto free_all;
        }
        char label[96];
        snprintf(label, sizeof label, "graph %s", names[f]);
        knn_params kp = {k, beta, threads, label};
        int approx = m.rows > ann_above;
        int bad = approx ? ann_build(m.x, m.rows, m.width, &bt, &kp, ann_probe, &g[f].knn)
                         : knn_build(m.x, m.rows, m.width, &bt, &kp, &g[f].knn);
        if (!bad && approx) /* what the approximation costs, on 200 seeded items */
            printf("graph/%s: approximate search (%u clusters probed per item): recall@%u against exact %.3f\n", names[f],
                   ann_probe, k, ann_recall(m.x, m.rows, m.width, &bt, beta, k, &g[f].knn, 200));
        feature_matrix_free(&m);
        if (bad) goto free_all;
        if (csr_symmetric_normalise(&g[f].knn, &g[f].adj) != 0) {
            cli_error("out of memory normalising the %s graph", names[f]);
            goto free_all;
        }
        g[f].name = strdup(names[f]);
        g[f].seconds = cli_now() - t1;
    }

    char *gdir = path_join(dir, "graph");
    int ok = gdir && ensure_dir(gdir) == 0;
    free(gdir);
    if (!ok) goto free_all;
    for (uint32_t f = 0; f <= nf; f++) {
        if (write_graph(dir, &g[f], f == nf ? "behaviour" : "modality", k, beta, window, threads) != 0) goto free_all;
        printf("graph/%s: %u items, %u knn edges, %u adjacency edges, %.2fs\n", g[f].name, g[f].knn.n_rows,
               g[f].knn.nnz, g[f].adj.nnz, g[f].seconds);
    }
    printf("graphs done in %.2fs (k %u, beta %g, window %u, %u threads, %s)\n", cli_now() - t0, k, beta, window, threads,
           knn_uses_blas() ? "OpenBLAS" : "plain C");
    rc = CLI_EXIT_OK;
free_all:
    dataset_free(&s);
    csr_free(&bt);
free_g:
    for (uint32_t f = 0; f <= nf; f++) {
        free(g[f].name);
        csr_free(&g[f].knn);
        csr_free(&g[f].adj);
    }
    free(g);
free_names:
    for (uint32_t f = 0; f < nf; f++) free(names[f]);
    free(names);
    return rc;
}
