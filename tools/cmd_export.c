/* cmd_export.c - `mdsrec export`: a trained model as a bundle; size and quantization cost. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "eval/evaluate.h"
#include "eval/scorers.h"
#include "export/export.h"
#include "parallel.h"
#include "train/gemm.h"
#include "train/load.h"

const char cmd_export_summary[] = "export a trained model as a bundle (f32, f16, i8 or pq) with neighbours and catalog";

/* Test NDCG@10 and HR@10 of a bundle in memory, through the core. */
static int bundle_metrics(uint8_t *buf, size_t len, const dataset *ds, int threads, metrics *out) {
    mdsrec_model *m;
    mdsrec_error err;
    if (mdsrec_open(buf, len, &m, &err) != MDSREC_OK) {
        cli_error("the exported bundle does not open: %s", err.message);
        return -1;
    }
    bundle_scorer bs;
    eval_scorer sc;
    int rc = bundle_scorer_init(&bs, m, threads, &sc);
    metrics sums;
    if (!rc) rc = evaluate(ds, EVAL_TEST, &sc, 0, threads, &sums, NULL);
    bundle_scorer_free(&bs);
    mdsrec_close(m);
    *out = metrics_mean(&sums);
    return rc;
}


int cmd_export(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *data = NULL;
    int dtype = MDSREC_F32, compare = 1, no_compare = 0;
    export_neighbours nbo = {1, 0, 4};
    int compact = 1, weights = MDSREC_WEIGHTS_F32;
    export_compact cx = {0, MDSREC_WEIGHTS_F32, 1};
    static const char *const catalog_names[] = {"json", "gzip", NULL};
    uint32_t threads = 0;
    const opt rows[] = {
        {"--model", OPT_STRING, &model, "PATH", .help = "a checkpoint, or the training directory (its model.ckpt)",
         .flags = OPT_REQUIRED},
        {"--out", OPT_STRING, &out, "FILE", .help = "the bundle", .flags = OPT_REQUIRED},
        {"--dtype", OPT_CHOICE, &dtype, .help = "the item matrices' type", .lookup = &opt_dtype_enum},
        {"--pq-m", OPT_U32, &cx.pq_m, "M", .help = "--dtype pq: codes (bytes) per item and channel, dividing d",
         .min = 1, .max = MDSREC_MAX_DIM, .def = "d/4"},
        {"--weights", OPT_CHOICE, &weights, .help = "the encoder, pooling, position and gate weights' type",
         .names = opt_weight_dtype_names},
        {"--data", OPT_STRING, &data, "PATH", .help = "the dataset", .def = "the one the checkpoint names"},
        {"--neighbours", OPT_U32, &nbo.keep, "K",
         .help = "keep at most K neighbours per item and channel, the strongest", .min = 1, .max = UINT32_MAX,
         .def = "all the graph has"},
        {"--neighbours-format", OPT_CHOICE, &compact,
         .help = "compact (NEIGHBOURS_K: 4 bytes a neighbour, 8-bit weights),\n"
                 "csr (NEIGHBOURS: row pointers, f32 weights) or bits\n"
                 "(NEIGHBOURS_B: log2 N index bits + --neighbour-weight-bits)",
         .names = opt_nb_format_names},
        {"--neighbour-weight-bits", OPT_U32, &nbo.weight_bits, "W",
         .help = "--neighbours-format bits: bits per weight, 0 for ranks only", .min = 0, .max = 8},
        {"--catalog-format", OPT_CHOICE, &cx.catalog_gzip,
         .help = "gzip (CATALOG_GZ: the catalogue JSON compressed, inflated by the\n"
                 "browser shim and the tools; about a fifth of the bytes) or json (CATALOG)",
         .names = catalog_names, .def = "gzip"},
        {"--no-compare", OPT_FLAG, &no_compare, .help = "skip the test-metric comparison of the bundle against f32"},
        {"--threads", OPT_U32, &threads, "N", .help = "worker threads", .min = 0, .max = PARALLEL_MAX_THREADS,
         .def = "every core"},
    };
    const opt_cmd cmd = {"export", .opts = rows, .n_opts = OPT_COUNT(rows)};
    int prc = opt_parse(&cmd, argc, argv);
    if (prc != OPT_PROCEED) return prc;
    compare = !no_compare;
    nbo.compact = compact;
    cx.weights = (uint32_t)weights;
    /* the label of the compared bundle: "i8", or "pq/f16" when the weights are compact too */
    char label[24];
    snprintf(label, sizeof label, "%s%s%s", mdsrec_dtype_name(dtype), weights ? "/" : "",
             weights ? mdsrec_weight_dtype_name(weights) : "");
    const char *dt = label, *nbf = opt_nb_format_names[compact];
    threads = (uint32_t)parallel_threads(threads);
    gemm_set_threads(1); /* our workers split every sgemm themselves */
    loaded_model lm;
    if (load_model(model, data, &lm)) return CLI_EXIT_FAIL;
    uint8_t *buf = NULL;
    size_t len = 0;
    export_info info;
    if (dtype == MDSREC_PQ && cx.pq_m && lm.st->spec.cfg.dim % cx.pq_m) {
        cli_error("--pq-m %u does not divide the model's d %u", cx.pq_m, lm.st->spec.cfg.dim);
        loaded_model_free(&lm);
        return CLI_EXIT_USAGE;
    }
    int rc = export_bundle(lm.st, lm.params, &lm.ds, &lm.in, (uint32_t)dtype, 1, &nbo, &cx, &buf, &len, &info);
    if (!rc) rc = cli_write_file(out, buf, len);
    if (!rc) {
        const mdsrec_config *c = &lm.st->spec.cfg;
        char cat[96];
        if (!info.catalog) snprintf(cat, sizeof cat, "no catalog");
        else if (info.catalog_json_bytes)
            snprintf(cat, sizeof cat, "catalog (gzip: %zu bytes, JSON %zu)", info.catalog_bytes, info.catalog_json_bytes);
        else snprintf(cat, sizeof cat, "catalog (JSON: %zu bytes)", info.catalog_bytes);
        printf("%s: %.2f MiB (%zu bytes), %s items, %s weights, %u items x %u channels x d %u, %u neighbour lists (%s), %s\n",
               out, (double)len / 1048576.0, len, mdsrec_dtype_name(dtype), mdsrec_weight_dtype_name(weights), c->n_items, c->n_channels, c->dim, info.neighbours, nbf,
               cat);
        if (info.coclick_beta > 0) printf("co-click term: beta %g, decay %g\n", (double)info.coclick_beta, (double)lm.st->coclick_decay);
        if (info.repeat_weight != 0) printf("repeat term: %g\n", (double)info.repeat_weight);
    }
    if (!rc && compare) {
        metrics mq, m32;
        rc = bundle_metrics(buf, len, &lm.ds, (int)threads, &mq);
        if (!rc && (dtype != MDSREC_F32 || weights != MDSREC_WEIGHTS_F32)) {
            uint8_t *b32;
            size_t l32;
            /* the same neighbour lists (and so the same co-click term) as the bundle compared */
            export_info info32;
            rc = export_bundle(lm.st, lm.params, &lm.ds, &lm.in, MDSREC_F32, 1, &nbo, NULL, &b32, &l32, &info32);
            if (!rc) rc = bundle_metrics(b32, l32, &lm.ds, (int)threads, &m32);
            if (!rc) {
                printf("test NDCG@10: f32 %.5f, %s %.5f (%+.2f%% relative); HR@10: f32 %.5f, %s %.5f\n", m32.ndcg[1], dt,
                       mq.ndcg[1], 100.0 * (mq.ndcg[1] - m32.ndcg[1]) / (m32.ndcg[1] > 0 ? m32.ndcg[1] : 1), m32.hr[1],
                       dt, mq.hr[1]);
                printf("f32 bundle would be %.2f MiB\n", (double)l32 / 1048576.0);
            }
            free(b32);
        } else if (!rc) {
            printf("test through the core: NDCG@10 %.5f, HR@10 %.5f\n", mq.ndcg[1], mq.hr[1]);
        }
    }
    free(buf);
    loaded_model_free(&lm);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
