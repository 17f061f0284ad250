/* cmd_bench.c - `mdsrec bench`: the native side of the benchmark (bench/, scripts/bench.sh).
   Times the same cases as the browser page on the same bundles, with the same histories, so
   the report can set wasm beside native. Build with -DMDSREC_NATIVE_ARCH=ON for the numbers
   that go into docs/BENCH.md. --candidates adds candidate mode against the full scan
   (bench_candidates.h), on synthetic histories or on a prepared dataset's visitors (--data). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_candidates.h"
#include "cli.h"
#include "eval/sample.h"
#include "options.h"
#include "mdsrec.h"

const char cmd_bench_summary[] = "time recommend() on bundles (the native side of npm run bench)";

/* The bench's history generator; bench/worker.js computes the same with Math.imul. */
static uint32_t bench_history(uint32_t j, uint32_t t, uint32_t n) {
    return (j * 2654435761u + t * 40503u + 17u) % n;
}


typedef struct {
    uint32_t calls, warmup, len, k;
    mdsrec_candidates cand;      /* cand.candidates: run the candidate case */
    const char *data;            /* its histories from this prepared directory (NULL: synthetic) */
    const dataset *visitors;     /* the sampled visitors of data */
} options;

/* The candidate case of one bundle (bench_candidates.h). */
static int bench_cand_case(const mdsrec_model *m, const options *o) {
    bench_histories h;
    uint64_t dropped = 0;
    int rc = o->data ? bench_histories_data(o->visitors, m, &h, &dropped)
                     : bench_histories_synthetic(o->calls, 1, o->len, mdsrec_model_config(m)->n_items, bench_history, &h);
    if (rc) return -1;
    if (dropped) fprintf(stderr, "mdsrec bench: %s: %llu items of the histories are not in the bundle (dropped)\n",
                         o->data, (unsigned long long)dropped);
    rc = bench_candidates(m, &h, o->warmup, o->k, &o->cand, o->data ? o->data : "synthetic");
    bench_histories_free(&h);
    return rc;
}

/* Times o->calls calls of one case (append: 0 fresh, 1 one new click); p50/p95 in ms. */
static int time_case(const mdsrec_model *m, mdsrec_state *s, const options *o, int append, double *p50,
                     double *p95) {
    uint32_t n = mdsrec_model_config(m)->n_items;
    uint32_t *h = malloc(o->len * sizeof *h);
    double *t = malloc(o->calls * sizeof *t);
    if (!h || !t) {
        free(h), free(t);
        cli_error("out of memory");
        return -1;
    }
    for (uint32_t c = 0; c < o->warmup + o->calls; c++) {
        uint32_t j = c + 1; /* call 0's history is the one whose top-k the report compares */
        for (uint32_t i = 0; i < o->len; i++)
            h[i] = append && i + 1 < o->len ? bench_history(0, i, n) : bench_history(j, i, n);
        mdsrec_query q = {h, o->len, o->k, 0, NULL, 0, NULL, 0};
        mdsrec_result r;
        double t0 = cli_now();
        mdsrec_status st = mdsrec_recommend(m, s, &q, &r);
        double dt = cli_now() - t0;
        if (st) {
            free(h), free(t);
            cli_error("recommend failed: %s", mdsrec_status_string(st));
            return -1;
        }
        if (c >= o->warmup) t[c - o->warmup] = dt * 1e3;
    }
    qsort(t, o->calls, sizeof *t, bench_cmp_double);
    *p50 = bench_quantile(t, o->calls, 0.5), *p95 = bench_quantile(t, o->calls, 0.95);
    free(h), free(t);
    return 0;
}

static int bench_one(const char *path, const options *o, int first) {
    double t0 = cli_now();
    size_t len;
    uint8_t *buf = cli_read_file(path, &len);
    if (!buf) return -1;
    double t_read = cli_now();
    mdsrec_model *m = NULL;
    mdsrec_state *s = NULL;
    mdsrec_error err = {0};
    mdsrec_status st = mdsrec_open(buf, len, &m, &err);
    if (st) {
        cli_error("%s: invalid bundle (%s): %s", path, mdsrec_status_string(st), err.message);
        free(buf);
        return -1;
    }
    double t_open = cli_now();
    int rc = -1;
    if ((st = mdsrec_state_new(m, &s))) {
        cli_error("%s: %s", path, mdsrec_status_string(st));
        goto done;
    }
    const mdsrec_config *c = mdsrec_model_config(m);
    uint32_t n = c->n_items;
    /* call 0: the reference top-k, and the first recommendation of the load time */
    uint32_t *h = malloc(o->len * sizeof *h);
    if (!h) goto done;
    for (uint32_t i = 0; i < o->len; i++) h[i] = bench_history(0, i, n);
    mdsrec_query q = {h, o->len, o->k, 0, NULL, 0, NULL, 0};
    mdsrec_result r;
    st = mdsrec_recommend(m, s, &q, &r);
    double t_first = cli_now();
    free(h);
    if (st) {
        cli_error("%s: recommend failed: %s", path, mdsrec_status_string(st));
        goto done;
    }
    printf("%s{\"file\":\"%s\",\"items\":%u,\"dtype\":%u,\"bytes\":%zu,\"kernels\":\"%s\",", first ? "" : ",\n",
           path, n, c->item_dtype, len, mdsrec_kernels_name());
    printf("\"read_ms\":%.3f,\"open_ms\":%.3f,\"first_ms\":%.3f,\"topk\":[", (t_read - t0) * 1e3,
           (t_open - t_read) * 1e3, (t_first - t_open) * 1e3);
    for (uint32_t i = 0; i < r.count; i++) printf("%s%u", i ? "," : "", r.items[i]);
    printf("],\"scores\":[");
    for (uint32_t i = 0; i < r.count; i++) printf("%s%.9g", i ? "," : "", (double)r.scores[i]);
    printf("]");
    for (int append = 0; append < 2; append++) {
        double p50, p95;
        if (time_case(m, s, o, append, &p50, &p95)) goto done;
        printf(",\"%s\":{\"p50_ms\":%.4f,\"p95_ms\":%.4f}", append ? "append" : "fresh", p50, p95);
    }
    if (o->cand.candidates && bench_cand_case(m, o)) goto done;
    printf("}");
    fflush(stdout);
    rc = 0;
done:
    mdsrec_state_free(s);
    mdsrec_close(m);
    free(buf);
    return rc;
}

int cmd_bench(int argc, char **argv) {
    options o = {200, 20, 50, 10, {0, 100, 1, 0}, NULL, NULL};
    int cand_on = 0, cand_opt = 0;
    uint32_t n_visitors = 2000;
    uint64_t seed = 1;
    const char *files[64];
    opt_list file_list = {files, 0, 64};
    const opt rows[] = {
        {"--calls", OPT_U32, &o.calls, "N", .help = "timed calls per case", .min = 1, .max = UINT32_MAX},
        {"--warmup", OPT_U32, &o.warmup, "N", .help = "untimed calls first"},
        {"--len", OPT_U32, &o.len, "L", .help = "history length", .min = 1, .max = UINT32_MAX},
        {"-k", OPT_U32, &o.k, "K", .help = "results per call", .min = 1, .max = UINT32_MAX},
        {"--candidates", OPT_FLAG, &cand_on,
         .help = "also time candidate mode against the full scan: speed-up, candidates scored, recall\n"
                 "of the full scan's top-k (bench/NOTES.md, \"Candidate mode\")"},
        BENCH_CANDIDATE_OPTS(o.cand, cand_opt),
        {"--data", OPT_STRING, &o.data, "DIR",
         .help = "--candidates: the histories are the test cases of this prepared directory's visitors,\n"
                 "one call each (history: all but the last item; also the hit rate of the last)",
         .def = "synthetic, as fresh", .given = &cand_opt},
        {"--visitors", OPT_U32, &n_visitors, "N", .help = "--data: a seeded sample of N visitors", .min = 1,
         .max = UINT32_MAX, .given = &cand_opt},
        {"--seed", OPT_U64, &seed, "S", .help = "--data: the sample's seed", .given = &cand_opt},
    };
    const opt_cmd cmd = {
        "bench",
        .about = "For each bundle: load time (read + open + state), then recommend() latency for two\n"
                 "cases, one JSON object per bundle on stdout:\n"
                 "  fresh   a new history of --len items on every call (a full forward)\n"
                 "  append  the same first --len - 1 items and a new last click on every call\n"
                 "Histories are bench_history(j, t) = (j*2654435761 + t*40503 + 17) mod 2^32 mod N, the\n"
                 "same as bench/worker.js, so the top-k of call 0 can be compared across runtimes.\n"
                 "--candidates adds \"candidates\": the fresh histories (or --data's visitors) through the\n"
                 "full scan and through candidate mode, each on its own state, timed side by side, with\n"
                 "the candidates scored and the recall of the full scan's top-k in the candidates' top-k.",
        .opts = rows,
        .n_opts = OPT_COUNT(rows),
        .pos_name = "FILE",
        .pos = &file_list,
        .pos_min = 1,
    };
    int rc = opt_parse(&cmd, argc, argv);
    if (rc != OPT_PROCEED) return rc;
    if (cand_opt && !cand_on)
        return opt_usage_error(&cmd, "--popular-head, --hops, --neighbours, --data, --visitors and --seed need --candidates");
    o.cand.candidates = (uint32_t)cand_on;
    dataset ds, sample;
    memset(&ds, 0, sizeof ds), memset(&sample, 0, sizeof sample);
    if (o.data) {
        if (dataset_load(o.data, &ds)) return CLI_EXIT_FAIL;
        if (eval_sample_users(&ds, n_visitors, seed, &sample)) {
            dataset_free(&ds);
            return CLI_EXIT_FAIL;
        }
        o.visitors = &sample;
    }
    int nf = (int)file_list.n;
    rc = CLI_EXIT_OK;
    printf("[");
    for (int i = 0; i < nf && rc == CLI_EXIT_OK; i++)
        if (bench_one(files[i], &o, i == 0)) rc = CLI_EXIT_FAIL;
    printf("]\n");
    if (o.data) eval_sample_free(&sample), dataset_free(&ds);
    return rc;
}
