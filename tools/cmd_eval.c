/* cmd_eval.c - `mdsrec eval`: MODEL.md 6 on checkpoints, bundles or baselines; table + JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "options.h"
#include "eval/evaluate.h"
#include "eval/sample.h"
#include "eval/scorers.h"
#include "parallel.h"
#include "train/gemm.h"
#include "train/load.h"
#include "train/loop.h"
#include "train/model_scorer.h"

const char cmd_eval_summary[] = "leave-one-out full-ranking metrics of models, bundles or baselines";

#define MAX_RUNS 64

/* Every run is scored under both protocols (EVAL_UNMASKED, EVAL_MASKED) in one pass. */
typedef struct {
    char label[64];
    metrics m[2][2];      /* [protocol][valid, test] (means) */
    uint32_t *rank[2][2]; /* with --ranks: each visitor's rank of the target, [protocol][split] */
    uint32_t n_users;
} run_result;

enum { COCLICK_STORED, COCLICK_TUNE, COCLICK_OFF };
static const char *const coclick_names[] = {"stored", "tune", "off", NULL};

/* Wraps a model's scorer *sc in its co-click and repeat terms (eval/coclick.h): the stored
   weights, or with tune ones chosen now on validation (printed); no repeat term with
   no_repeat, no co-click term where the data has no behaviour graph. 0, or -1 after cli_error. */
static int model_coclick(const char *name, loaded_model *lm, int tune, int no_repeat, int threads, eval_scorer *sc,
                         csr *cg, coclick_scorer *cs) {
    if (!tune) return train_terms_scorer(lm->st, &lm->ds, no_repeat, sc, cg, cs);
    int have = train_coclick_graph(lm->st, &lm->ds, cg);
    if (have < 0) return have;
    coclick_params p;
    double v0, v1;
    uint32_t L = lm->st->spec.cfg.max_len;
    if (coclick_tune(&lm->ds, sc, have ? cg : NULL, L, !no_repeat, threads, &p, &v0, &v1)) {
        cli_error("out of memory");
        return -1;
    }
    fprintf(stderr,
            "mdsrec eval: %s: co-click beta %g (decay %g), repeat %g on validation: NDCG@10 (mean of both "
            "protocols) %.4f -> %.4f\n", name,
            (double)p.beta, (double)p.decay, (double)p.repeat, v0, v1);
    if (coclick_any(&p)) coclick_scorer_init(cs, sc, have ? cg : NULL, lm->ds.n_items, &p, sc);
    return 0;
}

static int eval_view(const dataset *ds, const eval_scorer *sc, int threads, int splits, int want_ranks,
                     run_result *r) {
    r->n_users = ds->n_users;
    for (int s = 0; s < 2; s++) {
        if (!(splits & (1 << s))) continue;
        for (int p = 0; p < 2 && want_ranks; p++)
            if (!(r->rank[p][s] = malloc((ds->n_users ? ds->n_users : 1) * sizeof(uint32_t)))) return -1;
        metrics sums[2];
        uint32_t *const rk[2] = {r->rank[EVAL_UNMASKED][s], r->rank[EVAL_MASKED][s]};
        if (evaluate_protocols(ds, (eval_split)s, sc, threads, sums, rk)) return -1;
        for (int p = 0; p < 2; p++) r->m[p][s] = metrics_mean(&sums[p]);
    }
    return 0;
}

/* --sample-users: 0 ranks every visitor; else this many, drawn with a fixed seed so every
   run of one invocation (and of any other) sees the same visitors. */
static uint32_t sample_users;

static int eval_scorer_both(const dataset *full, const eval_scorer *sc, int threads, int splits, int want_ranks,
                            run_result *r) {
    dataset view;
    const dataset *ds = full;
    if (sample_users && sample_users < full->n_users) {
        if (eval_sample_users(full, sample_users, 1, &view)) return -1;
        ds = &view;
    }
    int rc = eval_view(ds, sc, threads, splits, want_ranks, r);
    if (ds != full) eval_sample_free(&view);
    return rc;
}

static void free_results(run_result *res, int n) {
    for (int i = 0; i < n; i++)
        for (int p = 0; p < 2; p++) free(res[i].rank[p][0]), free(res[i].rank[p][1]);
    free(res);
}

static const char *const protocol_key[2] = {"unmasked", "masked"};
static const char *const protocol_title[2] = {"history not masked (MODEL.md 6)",
                                             "history masked (as the S3-Rec family of published tables)"};

/* Per-visitor ranks of one protocol as {"valid": [...], "test": [...]}. */
static cJSON *ranks_json(const run_result *r, int p) {
    static const char *const sname[2] = {"valid", "test"};
    cJSON *rk = cJSON_CreateObject();
    for (int s = 0; s < 2; s++) {
        if (!r->rank[p][s]) continue;
        cJSON *a = cJSON_AddArrayToObject(rk, sname[s]);
        for (uint32_t u = 0; u < r->n_users; u++) cJSON_AddItemToArray(a, cJSON_CreateNumber(r->rank[p][s][u]));
    }
    return rk;
}

/* Field j of a metrics struct as a flat array: hr[3], ndcg[3], mrr. */
static double *field(metrics *m, int j) { return j < 3 ? &m->hr[j] : j < 6 ? &m->ndcg[j - 3] : &m->mrr; }

static const char *const split_names[] = {"valid", "test", "both", NULL}; /* index + 1: a bit per split */
static const char *const baseline_names[] = {"pop", "itemknn", "contentknn", NULL};

int cmd_eval(int argc, char **argv) {
    const char *models[MAX_RUNS], *bundles[MAX_RUNS], *data = NULL, *json = NULL, *pop_from = NULL;
    opt_list model_list = {models, 0, MAX_RUNS}, bundle_list = {bundles, 0, MAX_RUNS};
    int baseline_i = -1, split_i = 2, mask = 0, want_ranks = 0;
    uint32_t threads = 0, knn_k = 100, max_len = 50;
    int coclick = 0, no_repeat = 0;
    const opt rows[] = {
        {"--model", OPT_LIST, &model_list, "PATH",
         .help = "a checkpoint (or the training directory); repeat it for several\n"
                 "seeds: each row is printed, then their mean and standard deviation"},
        {"--bundle", OPT_LIST, &bundle_list, "FILE",
         .help = "an exported bundle, scored by the core (mdsrec_score_all) on --data; repeatable"},
        {"--baseline", OPT_CHOICE, &baseline_i, .help = "a baseline, on --data", .names = baseline_names},
        {"--data", OPT_STRING, &data, "PATH", .help = "the dataset", .def = "the one the checkpoint names"},
        {"--split", OPT_CHOICE, &split_i, .help = "the splits scored", .names = split_names},
        {"--mask-history", OPT_FLAG, &mask,
         .help = "the main table and the JSON's top-level numbers and ranks are the\n"
                 "history-masked protocol (both are always printed and in the JSON)"},
        {"--pop-from", OPT_STRING, &pop_from, "DIR",
         .help = "pop counts the training parts of DIR's sequences instead, by item\n"
                 "key; items DIR lacks count 0 (cold start: items newer than the log)"},
        {"--coclick", OPT_CHOICE, &coclick, .names = coclick_names,
         .help = "a checkpoint's co-click term (docs/TRAINING.md): stored (the weight\n"
                 "train chose), tune (chosen now on validation, for older runs) or off",
         .def = "stored"},
        {"--no-repeat", OPT_FLAG, &no_repeat,
         .help = "leave a checkpoint's repeat term out (with --coclick tune: choose beta alone)"},
        {"--knn-k", OPT_U32, &knn_k, "K", .help = "itemknn neighbours", .min = 1, .max = UINT32_MAX},
        {"--max-len", OPT_U32, &max_len, "L", .help = "itemknn history read"},
        {"--json", OPT_STRING, &json, "FILE", .help = "write the results as JSON"},
        {"--ranks", OPT_FLAG, &want_ranks,
         .help = "also write each visitor's rank of the target into the JSON (per run\n"
                 "and split: \"ranks\", visitor order), for paired comparisons"},
        {"--sample-users", OPT_U32, &sample_users, "N",
         .help = "rank a seeded sample of N visitors (a log too large for every one)", .def = "every visitor"},
        {"--threads", OPT_U32, &threads, "N", .help = "worker threads", .min = 0, .max = PARALLEL_MAX_THREADS,
         .def = "every core"},
    };
    const opt_cmd cmd = {"eval", .usage = "(--model PATH... | --bundle FILE... | --baseline NAME) [options]",
                         .opts = rows, .n_opts = OPT_COUNT(rows)};
    int prc = opt_parse(&cmd, argc, argv);
    if (prc != OPT_PROCEED) return prc;
    int splits = split_i + 1;
    int n_models = (int)model_list.n, n_bundles = (int)bundle_list.n;
    const char *baseline = baseline_i >= 0 ? baseline_names[baseline_i] : NULL;
    int n_runs = n_models + n_bundles + (baseline ? 1 : 0);
    /* the rules across options, each with its own message */
    if (n_runs == 0) return opt_usage_error(&cmd, "nothing to evaluate: give --model, --bundle or --baseline");
    if (pop_from && (!baseline || strcmp(baseline, "pop"))) return opt_usage_error(&cmd, "--pop-from needs --baseline pop");
    if ((n_bundles || baseline) && !data)
        return opt_usage_error(&cmd, "--%s needs --data PATH", n_bundles ? "bundle" : "baseline");
    if (want_ranks && !json) return opt_usage_error(&cmd, "--ranks needs --json FILE");
    threads = (uint32_t)parallel_threads(threads);
    gemm_set_threads(1); /* our workers split every sgemm themselves */

    run_result *res = calloc((size_t)n_runs, sizeof *res);
    if (!res) return CLI_EXIT_FAIL;
    int r = 0, rc = 0;
    for (int i = 0; i < n_models && !rc; i++, r++) {
        loaded_model lm;
        if (load_model(models[i], data, &lm)) {
            rc = -1;
            break;
        }
        model_scorer ms;
        eval_scorer sc;
        csr cg = {0};
        coclick_scorer cs;
        rc = model_scorer_init(&ms, &lm.st->spec, &lm.in, lm.params, (int)threads, &sc);
        /* the terms' grid and both splits score the same histories again: each forward once */
        if (!rc) (void)model_scorer_memo(&ms, 2 * (size_t)lm.ds.n_users);
        if (!rc && coclick != COCLICK_OFF) rc = model_coclick(models[i], &lm, coclick == COCLICK_TUNE, no_repeat, (int)threads, &sc, &cg,
                                                          &cs);
        if (!rc) rc = eval_scorer_both(&lm.ds, &sc, (int)threads, splits, want_ranks, &res[r]);
        csr_free(&cg);
        snprintf(res[r].label, sizeof res[r].label, "%s s%llu", tm_kind_name(lm.st->spec.kind),
                 (unsigned long long)lm.st->seed);
        model_scorer_free(&ms);
        loaded_model_free(&lm);
        if (rc) cli_error("%s: out of memory", models[i]);
    }
    dataset ds;
    int have_ds = 0;
    if (!rc && (n_bundles || baseline)) {
        if (dataset_load(data, &ds)) rc = -1;
        else have_ds = 1;
    }
    for (int i = 0; i < n_bundles && !rc; i++, r++) {
        size_t len;
        uint8_t *buf = cli_read_file(bundles[i], &len);
        mdsrec_model *m = NULL;
        mdsrec_error err;
        if (!buf) {
            rc = -1;
            break;
        }
        if (mdsrec_open(buf, len, &m, &err) != MDSREC_OK) {
            cli_error("%s: %s", bundles[i], err.message);
            free(buf);
            rc = -1;
            break;
        }
        if (mdsrec_model_config(m)->n_items != ds.n_items) {
            cli_error("%s: %u items, %s has %u", bundles[i], mdsrec_model_config(m)->n_items, data, ds.n_items);
            rc = -1;
        } else {
            bundle_scorer bs;
            eval_scorer sc;
            rc = bundle_scorer_init(&bs, m, (int)threads, &sc);
            if (!rc) rc = eval_scorer_both(&ds, &sc, (int)threads, splits, want_ranks, &res[r]);
            bundle_scorer_free(&bs);
            const char *base = strrchr(bundles[i], '/');
            snprintf(res[r].label, sizeof res[r].label, "%.60s", base ? base + 1 : bundles[i]);
        }
        mdsrec_close(m);
        free(buf);
    }
    if (!rc && baseline) {
        eval_scorer sc;
        pop_scorer ps = {0};
        knn_scorer ks;
        memset(&ks, 0, sizeof ks);
        dataset src;
        memset(&src, 0, sizeof src);
        if (pop_from && dataset_load(pop_from, &src)) rc = -1;
        else if (pop_from) rc = pop_scorer_init_from(&ps, &ds, &src, &sc);
        else rc = !strcmp(baseline, "pop")  ? pop_scorer_init(&ps, &ds, &sc)
             : !strcmp(baseline, "itemknn") ? knn_scorer_init(&ks, &ds, knn_k, max_len, &sc)
                                            : content_knn_scorer_init(&ks, &ds, knn_k, max_len, &sc);
        if (!rc) rc = eval_scorer_both(&ds, &sc, (int)threads, splits, want_ranks, &res[r]);
        snprintf(res[r].label, sizeof res[r].label, "%s", baseline);
        if (pop_from) dataset_free(&src);
        pop_scorer_free(&ps);
        knn_scorer_free(&ks);
        r++;
    }
    if (have_ds) dataset_free(&ds);
    if (rc) {
        free_results(res, n_runs);
        return CLI_EXIT_FAIL;
    }

    /* the tables (the main protocol first), and mean/std over the checkpoints when there are
       several; the JSON's top-level numbers and ranks are the main protocol's, "protocols" has
       both */
    int main_p = mask ? EVAL_MASKED : EVAL_UNMASKED;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "history_masked", mask);
    cJSON *runs = cJSON_AddArrayToObject(j, "runs");
    cJSON *aggs = cJSON_CreateObject(); /* protocol -> split -> {mean, std, runs} */
    const char *sname[2] = {"valid", "test"};
    for (int q = 0; q < 2; q++) {
        int p = q == 0 ? main_p : 1 - main_p;
        printf("%s== %s\n", q ? "\n" : "", protocol_title[p]);
        for (int s = 0; s < 2; s++) {
            if (!(splits & (1 << s))) continue;
            metrics_print_header(stdout, sname[s]);
            for (int i = 0; i < n_runs; i++) metrics_print_row(stdout, res[i].label, &res[i].m[p][s]);
            if (n_models > 1) {
                metrics mean = {{0}, {0}, 0, 0}, sd = {{0}, {0}, 0, 0};
                for (int f = 0; f < 7; f++) {
                    double a = 0, b = 0;
                    for (int i = 0; i < n_models; i++) a += *field(&res[i].m[p][s], f);
                    a /= n_models;
                    for (int i = 0; i < n_models; i++) b += pow(*field(&res[i].m[p][s], f) - a, 2);
                    *field(&mean, f) = a;
                    *field(&sd, f) = sqrt(b / (n_models - 1)); /* sample standard deviation */
                }
                metrics_print_row(stdout, "mean (models)", &mean);
                metrics_print_row(stdout, "std (models)", &sd);
                cJSON *ap = cJSON_GetObjectItem(aggs, protocol_key[p]);
                if (!ap) ap = cJSON_AddObjectToObject(aggs, protocol_key[p]);
                cJSON *o = cJSON_AddObjectToObject(ap, sname[s]);
                cJSON_AddItemToObject(o, "mean", metrics_to_json(&mean));
                cJSON_AddItemToObject(o, "std", metrics_to_json(&sd));
                cJSON_AddNumberToObject(o, "runs", n_models);
            }
        }
    }
    cJSON *agg_main = cJSON_GetObjectItem(aggs, protocol_key[main_p]);
    if (agg_main) cJSON_AddItemToObject(j, "aggregate", cJSON_Duplicate(agg_main, 1));
    for (int i = 0; i < n_runs; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "label", res[i].label);
        for (int s = 0; s < 2; s++)
            if (splits & (1 << s)) cJSON_AddItemToObject(o, sname[s], metrics_to_json(&res[i].m[main_p][s]));
        cJSON *po = cJSON_AddObjectToObject(o, "protocols");
        for (int p = 0; p < 2; p++) {
            cJSON *pp = cJSON_AddObjectToObject(po, protocol_key[p]);
            for (int s = 0; s < 2; s++)
                if (splits & (1 << s)) cJSON_AddItemToObject(pp, sname[s], metrics_to_json(&res[i].m[p][s]));
            if (want_ranks && p != main_p) /* the main protocol's are "ranks" above */
                cJSON_AddItemToObject(pp, "ranks", ranks_json(&res[i], p));
        }
        if (want_ranks) cJSON_AddItemToObject(o, "ranks", ranks_json(&res[i], main_p));
        cJSON_AddItemToArray(runs, o);
    }
    if (cJSON_GetArraySize(aggs)) cJSON_AddItemToObject(j, "aggregate_protocols", aggs);
    else cJSON_Delete(aggs);
    if (json) {
        char *text = cJSON_Print(j);
        if (!text || cli_write_file(json, text, strlen(text))) rc = -1;
        free(text);
    }
    cJSON_Delete(j);
    free_results(res, n_runs);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
