/* cmd_train.c - `mdsrec train`: train MDSRec or a baseline on a prepared dataset (docs/TRAINING.md). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "eval/evaluate.h"
#include "eval/scorers.h"
#include "parallel.h"
#include "train/dist.h"
#include "train/gemm.h"
#include "train/defaults.h"

#define TRAIN_STR_(x) #x
#define TRAIN_STR(x) TRAIN_STR_(x) /* a default macro as the help text shows it */
#include "train/loop.h"

const char cmd_train_summary[] = "train mdsrec, sasrec, sasrecf, pop or itemknn; early stopping on valid NDCG@10";

static int parse_channels(const char *list, char names[][25], int max) {
    int n = 0;
    const char *p = list;
    while (*p && n < max) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == 0 || l > 24) return -1;
        memcpy(names[n], p, l);
        names[n][l] = 0;
        n++;
        if (!c) break;
        p = c + 1;
    }
    return n;
}

static int keep(const char *name, char names[][25], int n) {
    if (n == 0) return 1;
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return 1;
    return 0;
}

/* --channels: a comma list of names of 1..24 bytes. */
static const char *channels_check(const char *v) {
    char names[MDSREC_MAX_CHANNELS][25];
    return parse_channels(v, names, MDSREC_MAX_CHANNELS) < 0 ? "a comma list of channel names (1..24 bytes each)" : NULL;
}

/* path made absolute (realpath; as given when it does not resolve, and the load then names
   it) into dst. -1 after cli_error when it does not fit. */
static int store_path(char *dst, size_t cap, const char *path, const char *opt) {
    char abs[PATH_MAX];
    const char *p = realpath(path, abs) ? abs : path;
    size_t n = strlen(p);
    if (n >= cap) {
        cli_error("%s: %.80s...: a path of %zu bytes (at most %zu)", opt, p, n, cap - 1);
        return -1;
    }
    memcpy(dst, p, n + 1);
    return 0;
}

static const char *kind_name(int k) { return k >= 0 ? tm_kind_name((uint32_t)k) : NULL; }
static const opt_enum kind_enum = {kind_name, tm_kind_parse};
static const char *const gate_names[] = {"fixed", "learned", "global", NULL}; /* gate_mode[] */
static const int gate_mode[] = {STEP_GATE_FIXED, STEP_GATE_LEARNED, STEP_GATE_GLOBAL};
static const char *const id_graph_names[] = {"none", "behaviour", NULL}; /* 1: behaviour */
static const char *const window_names[] = {"last", "all", NULL};     /* 1: all */
static const char *const sampler_names[] = {"uniform", "popular", NULL}; /* STEP_NEG_* */
static const char *const coclick_names[] = {"auto", "off", NULL};        /* 1: off */

/* Every kept feature of ds, concatenated in the dataset's order, into channel ch's item vector
   (sasrecf's id channel, and mdsrec's with --id-features). */
static void add_features(tm_channel *ch, const dataset *ds, char names[][25], int n) {
    for (uint32_t f = 0; f < ds->n_features; f++) {
        if (!keep(ds->feat[f].name, names, n)) continue;
        snprintf(ch->feat[ch->n_feat++], 25, "%s", ds->feat[f].name);
        ch->feat_width += ds->feat[f].width;
    }
}

/* --model pop --out DIR: the popularity order as a model export understands (issue 19 item 9),
   a cold-start bundle for a new shop. One id channel of width 1, no blocks, no pooling, with
   the input LayerNorm's gain 0 and bias 1: every history encodes to u = 1, so an item scores
   <u, E[i]> = E[i] = its training count over the largest, and the ranking is the popularity
   order (exactly in f32; ties by lower index, as the bundle's POPULARITY section). */
static int write_pop_run(train_state *st, const dataset *ds, const char *out) {
    tm_spec *s = &st->spec;
    mdsrec_config *c = &s->cfg;
    s->kind = TM_POP;
    c->n_items = ds->n_items;
    c->dim = c->max_len = c->n_heads = 1;
    c->ffn_dim = 4;
    c->n_blocks = 0;
    c->item_dtype = MDSREC_F32;
    c->ln_eps = 1e-12f;
    c->pool_mode = MDSREC_POOL_NONE;
    c->n_channels = 1;
    snprintf(c->channels[0].name, 25, "id");
    c->channels[0].kind = MDSREC_CHANNEL_ID;
    s->ch[0].has_emb = 1;
    tm_layout(s);
    float *p = calloc(s->n_params, sizeof *p);
    uint32_t *counts = malloc((ds->n_items ? ds->n_items : 1) * sizeof *counts);
    char path[1200];
    int rc = -1;
    if (!p || !counts) {
        cli_error("out of memory");
        goto done;
    }
    dataset_train_counts(ds, counts);
    uint32_t top = 1;
    for (uint32_t i = 0; i < ds->n_items; i++) top = counts[i] > top ? counts[i] : top;
    for (uint32_t i = 0; i < ds->n_items; i++) p[s->ch[0].o_emb + i] = (float)counts[i] / (float)top;
    p[s->ch[0].o_enc + 1] = 1; /* ln_in_g 0, ln_in_b 1 (models/FORMAT.md, ENCODER) */
    snprintf(path, sizeof path, "%s/model.ckpt", out);
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        cli_error("%s: cannot create: %s", out, strerror(errno));
        goto done;
    }
    rc = ckpt_write(path, st, p, NULL);
    if (!rc) fprintf(stderr, "mdsrec train: %s: the popularity order as a model (mdsrec export --model %s)\n", path, out);
done:
    free(p);
    free(counts);
    return rc;
}

static void print_table(const char *model, const metrics *v, const metrics *t, const metrics *tm) {
    metrics_print_header(stdout, model);
    metrics_print_row(stdout, "valid", v);
    metrics_print_row(stdout, "test", t);
    if (tm) metrics_print_row(stdout, "test, masked", tm); /* history masked: the S3-Rec tables' protocol */
}

/* Fusion training of mdsrec, chosen on validation NDCG@10 (docs/TRAINING.md, "Fusion" and
   "Shipped defaults"): every channel also trained on its own score; since session 10 one
   learned weight per channel, the same for every visitor (a weak channel is turned down
   instead of counting as much as the others), and the id channel's items add the projected
   features as sasrecf's do (MDSREC_ID_FEATURES_DEFAULT); since session 11 every modality
   channel also learns its own item embedding (MDSREC_CHANNEL_IDS_DEFAULT). */
#define MDSREC_AUX_DEFAULT 2.0f
#define MDSREC_GATE_DEFAULT STEP_GATE_GLOBAL
#define MDSREC_ID_FEATURES_DEFAULT 1
#define MDSREC_CHANNEL_IDS_DEFAULT 1
/* Since session 13 the modality channels run no attention block of their own: each pools its
   item rows (content, its own embedding, smoothed over its graph) around the interest centre,
   while the id channel keeps --blocks for the order of the clicks. Level with 2 blocks on
   validation on every data set here, and 14-44 % less time per epoch (docs/TRAINING.md,
   "Shipped defaults"). */
#define MDSREC_CHANNEL_BLOCKS_DEFAULT 0u

/* Visitors ranked by the per-epoch validation: full ranking costs visitors x items, an hour an
   epoch at 1M x 200k on 2 cores (docs/SCALE.md). 50,000 leaves every benchmark set whole (the
   largest, Beauty, has 22,363) and bounds the rest to a sample that still tells epochs apart. */
#define MDSREC_VALID_USERS_DEFAULT 50000

/* An mdsrec switch given as --NAME (*on) or --no-NAME (off): *on becomes the choice, or def
   when neither was given. 0, or the usage error's exit code when the model is not mdsrec
   (WHY says what the switch is about) or both were given. */
static int mdsrec_switch(const opt_cmd *cmd, int kind, const char *name, const char *why, int off, int def, int *on) {
    if ((*on || off) && kind != TM_MDSREC)
        return opt_usage_error(cmd, "--%s%s is for --model mdsrec (%s)", *on ? "" : "no-", name, why);
    if (*on && off) return opt_usage_error(cmd, "--%s and --no-%s: give one of them", name, name);
    if (!*on && !off) *on = def;
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *data = NULL, *out = NULL, *channels = NULL, *graph_dir = NULL;
    int kind = TM_MDSREC, pool = -1; /* pool -1: the model's (mdsrec: last; sasrec, sasrecf: none) */
    int windows = 1; /* all: every training target; on long histories `last` drops most */
    uint32_t dim = 64, max_len = 50, blocks = 2, heads = 2, ffn = 0, prop_k = 2, knn_k = 0, batch = 256, epochs = 200;
    uint32_t patience = 10, threads = 0, modality_first = TRAIN_MODALITY_FIRST_DEFAULT;
    uint32_t channel_blocks = 0;
    int channel_blocks_given = 0;
    uint32_t valid_users = MDSREC_VALID_USERS_DEFAULT;
    float time_budget = 0; /* seconds; 0: none */
    int coclick = 0, repeat = 0;
    uint64_t seed = 1;
    /* fusion training: -1 = the model's default (mdsrec: see MDSREC_AUX_DEFAULT) */
    float dropout = 0.5f, attn_dropout = -1, lr = 1e-3f, aux_w = -1, channel_drop = 0, emb_drop = 0;
    int gate = -1;
    /* the objective (docs/TRAINING.md, "Loss"): 0 negatives = softmax over all items */
    uint32_t negatives = 0, aux_negatives = 0;
    int sampler = STEP_NEG_UNIFORM;
    float smoothing = 0, weight_decay = 0;
    int no_id = 0, no_graph = 0, no_beh = 0, resume = 0, quiet = 0, shared = 0, id_features = 0;
    int no_id_features = 0, channel_ids = 0, no_channel_ids = 0;
    int id_graph = -1; /* -1: behaviour where the data has that graph (TRAIN_ID_GRAPH_DEFAULT) */
    int epochs_given = 0, patience_given = 0, modality_first_given = 0; /* --resume: these two override the saved run's */
    int batch_given = 0;                      /* else train_auto_batch() picks it from the data */
    const opt rows[] = {
        {"--data", OPT_STRING, &data, "PATH", .help = "a prepared dataset directory, or a `user item item ...` text file",
         .flags = OPT_REQUIRED},
        {"--out", OPT_STRING, &out, "DIR", .help = "where model.ckpt, state.ckpt, train.svg and train.json go\n"
                                                   "(required but for pop and itemknn; pop writes only model.ckpt,\n"
                                                   "the popularity order for export; itemknn takes none)"},
        {"--model", OPT_CHOICE, &kind, .help = "the model", .lookup = &kind_enum},
        {"--dim", OPT_U32, &dim, "D", .help = "hidden size", .min = 1, .max = MDSREC_MAX_DIM},
        {"--max-len", OPT_U32, &max_len, "L", .help = "history read", .min = 1, .max = MDSREC_MAX_LEN},
        {"--blocks", OPT_U32, &blocks, "B", .help = "attention blocks", .min = 0, .max = MDSREC_MAX_BLOCKS},
        {"--channel-blocks", OPT_U32, &channel_blocks, "B",
         .help = "mdsrec: attention blocks of each modality channel (the id channel\nruns --blocks)",
         .min = 0, .max = MDSREC_MAX_BLOCKS, .given = &channel_blocks_given, .def = "0"},
        {"--heads", OPT_U32, &heads, "H", .help = "attention heads, dividing --dim", .min = 1, .max = UINT32_MAX},
        {"--ffn", OPT_U32, &ffn, "F", .help = "feed-forward width", .def = "4 x dim"},
        {"--prop-k", OPT_U32, &prop_k, "K", .help = "propagation rounds"},
        {"--centre", OPT_CHOICE, &pool, .help = "interest centre: last state, mean of states, learned token, or none",
         .lookup = &opt_pool_enum, .def = "mdsrec: last; sasrec, sasrecf: none", .alias = "--center"},
        {"--channels", OPT_STRING, &channels, "LIST", .help = "comma list of channels to keep (id and feature names)",
         .check = channels_check},
        {"--no-id", OPT_FLAG, &no_id, .help = "mdsrec without the id channel"},
        {"--no-graph", OPT_FLAG, &no_graph, .help = "no propagation over relation graphs"},
        {"--shared-encoder", OPT_FLAG, &shared, .help = "one encoder and pooling for every channel (ablation)"},
        {"--id-features", OPT_FLAG, &id_features,
         .help = "mdsrec: the id channel's items also add the projected features,\n"
                 "as sasrecf's (E[i] + W f_i + b) (the default)"},
        {"--no-id-features", OPT_FLAG, &no_id_features,
         .help = "mdsrec: the id channel's items are the ids alone (the default\nup to session 9)"},
        {"--channel-ids", OPT_FLAG, &channel_ids,
         .help = "mdsrec: every modality channel also learns its own item embedding,\n"
                 "x = E_m[i] + W f_i + c before propagation (the default)"},
        {"--no-channel-ids", OPT_FLAG, &no_channel_ids,
         .help = "mdsrec: the modality channels' items are their projected\n"
                 "features alone (the default up to session 10)"},
        {"--id-graph", OPT_CHOICE, &id_graph, .names = id_graph_names,
         .help = "the id embeddings smoothed over the behaviour graph,\n"
                 "mean(E, A E, ..., A^K E), or left as they are (none)",
         .def = "behaviour where the graph directory has it, else none"},
        {"--no-behaviour", OPT_FLAG, &no_beh, .help = "graphs rebuilt from content only (beta = 0)",
         .alias = "--no-behavior"},
        {"--graph-dir", OPT_STRING, &graph_dir, "DIR", .help = "the relation graphs", .def = "DATA/graph"},
        {"--knn-k", OPT_U32, &knn_k, "K", .help = "neighbours", .def = "10; itemknn: 100"},
        {"--dropout", OPT_FLOAT, &dropout, "P", .help = "hidden dropout", .min = 0, .max = 1, .flags = OPT_MAX_OPEN},
        {"--attn-dropout", OPT_FLOAT, &attn_dropout, "P", .help = "attention dropout", .min = 0, .max = 1,
         .flags = OPT_MAX_OPEN, .def = "--dropout"},
        {"--lr", OPT_FLOAT, &lr, "X", .help = "learning rate", .min = 0, .max = INFINITY, .flags = OPT_MIN_OPEN},
        {"--batch", OPT_U32, &batch, "N", .help = "sequence windows per step", .min = 1, .max = UINT32_MAX,
         .given = &batch_given, .def = "64, doubled up to 256 while an epoch would have over 1,000 steps"},
        {"--epochs", OPT_U32, &epochs, "N", .help = "most epochs (with --resume: the new cap)", .min = 1, .max = 100000,
         .given = &epochs_given},
        {"--time-budget", OPT_FLOAT, &time_budget, "S",
         .help = "start no epoch after S seconds of training in this run (0: no budget);\n"
                 "the best epoch so far is the model, and --resume continues",
         .min = 0, .max = INFINITY},
        {"--patience", OPT_U32, &patience, "N", .help = "epochs without a better valid NDCG@10 before stopping (a small\nvalidation is noisier: V validation visitors)",
         .given = &patience_given, .def = "10 x sqrt(10,000 / V), from 10 to 40"},
        {"--seed", OPT_U64, &seed, "N", .help = "random seed"},
        {"--aux-loss", OPT_FLOAT, &aux_w, "W", .help = "add W x each channel's own cross-entropy", .min = 0, .max = 100,
         .def = "mdsrec: 2; else 0"},
        {"--channel-drop", OPT_FLOAT, &channel_drop, "P",
         .help = "leave each channel out of a window's gate with probability P", .min = 0, .max = 1,
         .flags = OPT_MAX_OPEN},
        {"--coclick", OPT_CHOICE, &coclick, .names = coclick_names,
         .help = "the co-click term (docs/TRAINING.md): auto adds the behaviour graph's\n"
                 "neighbours of the recent clicks to the scores, its weight chosen on\n"
                 "validation after training (0 where it does not help); off: none",
         .def = "auto"},
        {"--repeat", OPT_CHOICE, &repeat, .names = coclick_names,
         .help = "the repeat term (docs/TRAINING.md): auto adds one weight to the score of\n"
                 "every item the visitor has clicked, chosen on validation with the\n"
                 "co-click term's (negative where visitors do not come back to an item,\n"
                 "0 where it does not help); off: none",
         .def = "auto"},
        {"--modality-first", OPT_U32, &modality_first, "N",
         .help = "mdsrec: train the modality channels alone for the first N epochs (the\n"
                 "id channel left out of the fusion and its own loss), then every channel",
         .min = 0, .max = 100000, .given = &modality_first_given,
         .def = TRAIN_STR(TRAIN_MODALITY_FIRST_DEFAULT) ", at most half of --epochs"},
        {"--emb-drop", OPT_FLOAT, &emb_drop, "P",
         .help = "each batch, leave each item's learned embedding out with probability P\n"
                 "in every channel that also has features (its row: the features alone, as\n"
                 "a new item's from add-items)",
         .min = 0, .max = 1, .flags = OPT_MAX_OPEN},
        {"--gate", OPT_CHOICE, &gate,
         .help = "fixed (the plain mean of the channels), learned (a weight per channel\n"
                 "per visitor, MODEL.md 4) or global (a learned weight per channel,\n"
                 "the same for every visitor)",
         .names = gate_names,
         .def = "mdsrec: global"},
        {"--windows", OPT_CHOICE, &windows,
         .help = "windows of each training part (all: every target, in windows of L;\nlast: only the last L inputs)",
         .names = window_names},
        {"--negatives", OPT_U32, &negatives, "K",
         .help = "sampled softmax: the target against K negatives drawn per batch\n(0: softmax over every item)",
         .min = 0, .max = (1u << 24) - 1},
        {"--aux-negatives", OPT_U32, &aux_negatives, "K",
         .help = "with --negatives 0: each channel's own loss (--aux-loss) over the\n"
                 "target and K sampled negatives, the fused loss over every item",
         .min = 0, .max = (1u << 24) - 1},
        {"--sampler", OPT_CHOICE, &sampler, .names = sampler_names,
         .help = "how negatives are drawn: uniform, or popular (by training count,\nwith the logQ correction)"},
        {"--label-smoothing", OPT_FLOAT, &smoothing, "E", .min = 0, .max = 1, .flags = OPT_MAX_OPEN,
         .help = "spread E of the target's probability over every candidate"},
        {"--weight-decay", OPT_FLOAT, &weight_decay, "W", .help = "decoupled weight decay (AdamW)", .min = 0, .max = 1},
        {"--valid-users", OPT_U32, &valid_users, "N",
         .help = "validate each epoch (and report the best) on a fixed sample of N\nvisitors where the log has more; 0: every visitor"},
        {"--threads", OPT_U32, &threads, "N", .help = "worker threads", .min = 0, .max = PARALLEL_MAX_THREADS,
         .def = "every core"},
        {"--resume", OPT_FLAG, &resume,
         .help = "continue from DIR/state.ckpt with its settings; --epochs and\n--patience, when given, replace its limits"},
        {"--quiet", OPT_FLAG, &quiet, .help = "no progress lines"},
    };
    const opt_cmd cmd = {"train", .usage = "--data PATH --out DIR [options]", .opts = rows, .n_opts = OPT_COUNT(rows)};
    int prc = opt_parse(&cmd, argc, argv);
    if (prc != OPT_PROCEED) return prc;
    const char *model = tm_kind_name((uint32_t)kind);
    if (attn_dropout < 0) attn_dropout = dropout;
    /* the rules across options, each with its own message */
    if (!out && kind != TM_POP && kind != TM_ITEMKNN)
        return opt_usage_error(&cmd, "--out DIR is required for --model %s (only pop and itemknn run without it)", model);
    /* itemknn's scores are sums over the history's neighbours, not one vector per visitor: the
       bundle format cannot hold it, so it writes nothing rather than an --out export cannot read */
    if (out && kind == TM_ITEMKNN)
        return opt_usage_error(&cmd, "--out: itemknn is evaluated only, no model is written (pop writes one)");
    if (dim % heads) return opt_usage_error(&cmd, "--heads %u does not divide --dim %u", heads, dim);
    if (channel_blocks_given && kind != TM_MDSREC)
        return opt_usage_error(&cmd, "--channel-blocks is for mdsrec's modality channels (--model %s has none)", model);
    if (!channel_blocks_given)
        channel_blocks = kind == TM_MDSREC && blocks > MDSREC_CHANNEL_BLOCKS_DEFAULT ? MDSREC_CHANNEL_BLOCKS_DEFAULT : blocks;
    int bad = mdsrec_switch(&cmd, kind, "id-features", "sasrecf is sasrec with features", no_id_features,
                            MDSREC_ID_FEATURES_DEFAULT, &id_features);
    if (!bad)
        bad = mdsrec_switch(&cmd, kind, "channel-ids", "its modality channels", no_channel_ids,
                            MDSREC_CHANNEL_IDS_DEFAULT, &channel_ids);
    if (bad) return bad;
    if (id_graph == 1 && (kind == TM_POP || kind == TM_ITEMKNN))
        return opt_usage_error(&cmd, "--id-graph behaviour is for the models with id embeddings (mdsrec, sasrec, sasrecf)");
    if (id_graph == 1 && (no_graph || no_beh))
        return opt_usage_error(&cmd, "--id-graph behaviour smooths over the behaviour graph: not with %s",
                               no_graph ? "--no-graph" : "--no-behaviour");
    /* under mpirun (docs/DISTRIBUTED.md): the ranks on one machine share its cores */
    if (dist_init()) return CLI_EXIT_FAIL;
    if (!threads && dist_size() > 1) {
        int per = parallel_threads(0) / dist_local_size();
        threads = per > 1 ? (uint32_t)per : 1;
    }
    threads = (uint32_t)parallel_threads(threads);
    char chosen[MDSREC_MAX_CHANNELS][25];
    int n_chosen = 0;
    if (channels) n_chosen = parse_channels(channels, chosen, MDSREC_MAX_CHANNELS); /* checked by its row */

    train_state *st = calloc(1, sizeof *st);
    if (!st) return CLI_EXIT_FAIL;
    /* Absolute paths in the checkpoint, so that eval and export work from any directory. */
    if (store_path(st->data, sizeof st->data, data, "--data") ||
        (graph_dir && store_path(st->graph_dir, sizeof st->graph_dir, graph_dir, "--graph-dir"))) {
        free(st);
        return CLI_EXIT_FAIL;
    }
    st->content_only = (uint32_t)no_beh;
    st->knn_k = knn_k ? knn_k : (kind == TM_ITEMKNN ? 100 : 10);
    st->lr = lr;
    st->p_hidden = dropout;
    st->p_attn = attn_dropout;
    st->batch = batch;
    st->epochs = epochs;
    st->patience = patience ? patience : 1;
    st->windows_all = windows == 1;
    st->seed = seed;
    st->aux_w = aux_w >= 0 ? aux_w : kind == TM_MDSREC ? MDSREC_AUX_DEFAULT : 0;
    st->channel_drop = channel_drop;
    st->emb_drop = emb_drop;
    st->modality_first = kind == TM_MDSREC ? modality_first : 0;
    st->negatives = negatives;
    st->aux_negatives = aux_negatives;
    st->sampler = (uint32_t)sampler;
    st->label_smoothing = smoothing;
    st->weight_decay = weight_decay;
    st->valid_users = valid_users;
    st->gate_fixed = (uint32_t)(gate >= 0 ? gate_mode[gate] : kind == TM_MDSREC ? MDSREC_GATE_DEFAULT : STEP_GATE_LEARNED);

    /* the dataset, to know N and its features */
    dataset ds;
    if (dataset_load(data, &ds) || dataset_load_features(&ds)) {
        free(st);
        return CLI_EXIT_FAIL;
    }
    /* --id-graph unset: the behaviour graph of MODEL.md 1 (`mdsrec graph` writes it beside the
       modality graphs) smooths the ids wherever it exists; a text file has none */
    if (id_graph < 0) {
        id_graph = 0;
        if (TRAIN_ID_GRAPH_DEFAULT && kind != TM_POP && kind != TM_ITEMKNN && !no_graph && !no_beh) {
            char gd[1100], gp[1200] = "";
            struct stat sb;
            if (train_graph_dir(st, ds.text_format, gd, sizeof gd) == 0)
                snprintf(gp, sizeof gp, "%s/%s", gd, TRAIN_ID_GRAPH_FILE);
            id_graph = gp[0] && stat(gp, &sb) == 0;
            if (!id_graph && !quiet && !resume && dist_rank() == 0)
                fprintf(stderr, "mdsrec train: %s%s: the id embeddings are not smoothed (--id-graph none)\n",
                        gp[0] ? gp : "no graph directory for a text file", gp[0] ? " not found" : "");
        }
    }
    gemm_set_threads(1); /* our workers split every sgemm themselves */
    if (!batch_given && !resume) {
        size_t nwin = 0;
        for (uint32_t u = 0; u < ds.n_users; u++) nwin += train_windows(&ds, u, max_len, windows == 1, NULL, 0);
        st->batch = train_auto_batch(nwin);
        if (!quiet)
            fprintf(stderr, "mdsrec train: batch %u for %zu training windows (at most %u steps an epoch; --batch sets it)\n",
                    st->batch, nwin, TRAIN_AUTO_MAX_STEPS);
    }

    if (kind == TM_POP || kind == TM_ITEMKNN) {
        eval_scorer sc;
        pop_scorer ps = {0};
        knn_scorer ks;
        memset(&ks, 0, sizeof ks);
        int rc = kind == TM_POP ? pop_scorer_init(&ps, &ds, &sc) : knn_scorer_init(&ks, &ds, st->knn_k, max_len, &sc);
        if (!rc && out && write_pop_run(st, &ds, out)) {
            pop_scorer_free(&ps);
            dataset_free(&ds);
            free(st);
            return CLI_EXIT_FAIL;
        }
        metrics v, t;
        if (!rc) rc = evaluate(&ds, EVAL_VALID, &sc, 0, (int)threads, &v, NULL);
        if (!rc) rc = evaluate(&ds, EVAL_TEST, &sc, 0, (int)threads, &t, NULL);
        pop_scorer_free(&ps);
        knn_scorer_free(&ks);
        dataset_free(&ds);
        free(st);
        if (rc) {
            cli_error("out of memory");
            return CLI_EXIT_FAIL;
        }
        v = metrics_mean(&v);
        t = metrics_mean(&t);
        print_table(model, &v, &t, NULL);
        return CLI_EXIT_OK;
    }

    /* the channels */
    tm_spec *s = &st->spec;
    mdsrec_config *c = &s->cfg;
    s->kind = (uint32_t)kind;
    c->n_items = ds.n_items;
    c->dim = dim;
    c->max_len = max_len;
    c->n_blocks = blocks > channel_blocks ? blocks : channel_blocks; /* the deepest channel's */
    c->n_heads = heads;
    c->ffn_dim = ffn ? ffn : 4 * dim;
    c->item_dtype = MDSREC_F32;
    c->ln_mode = 0;
    c->ln_eps = 1e-12f;
    s->prop_k = prop_k;
    s->shared_encoder = (uint32_t)shared;
    uint32_t nc = 0;
    if (kind == TM_SASREC || kind == TM_SASRECF) {
        c->pool_mode = MDSREC_POOL_NONE;
        snprintf(c->channels[0].name, 25, "id");
        c->channels[0].kind = MDSREC_CHANNEL_ID;
        c->channels[0].n_blocks = blocks;
        s->ch[0].has_emb = 1;
        if (id_graph == 1) snprintf(s->ch[0].graph, sizeof s->ch[0].graph, "%s", TRAIN_ID_GRAPH_FILE);
        if (kind == TM_SASRECF) add_features(&s->ch[0], &ds, chosen, n_chosen);
        nc = 1;
    } else {
        c->pool_mode = MDSREC_POOL_LAST;
        if (!no_id && keep("id", chosen, n_chosen)) {
            snprintf(c->channels[nc].name, 25, "id");
            c->channels[nc].kind = MDSREC_CHANNEL_ID;
            c->channels[nc].n_blocks = blocks;
            s->ch[nc].has_emb = 1;
            if (id_graph == 1) snprintf(s->ch[nc].graph, sizeof s->ch[nc].graph, "%s", TRAIN_ID_GRAPH_FILE);
            if (id_features) /* early fusion inside the id channel, as sasrecf's item vector */
                add_features(&s->ch[nc], &ds, chosen, n_chosen);
            nc++;
        }
        for (uint32_t f = 0; f < ds.n_features && nc < MDSREC_MAX_CHANNELS; f++) {
            if (!keep(ds.feat[f].name, chosen, n_chosen)) continue;
            snprintf(c->channels[nc].name, 25, "%s", ds.feat[f].name);
            c->channels[nc].kind = feature_channel_kind(&ds.feat[f]);
            c->channels[nc].n_blocks = channel_blocks;
            tm_channel *ch = &s->ch[nc];
            ch->n_feat = 1;
            snprintf(ch->feat[0], 25, "%s", ds.feat[f].name);
            ch->feat_width = ds.feat[f].width;
            ch->has_emb = channel_ids; /* a learned correction of the projected content, per item */
            if (!no_graph) snprintf(ch->graph, sizeof ch->graph, "%s.adj.csr", ds.feat[f].name);
            nc++;
        }
    }
    if (pool >= 0) c->pool_mode = (uint32_t)pool;
    c->n_channels = nc;
    dataset_free(&ds);
    if (nc == 0) {
        cli_error("no channel left (--no-id on a dataset without features, or --channels matched nothing)");
        free(st);
        return CLI_EXIT_USAGE;
    }
    if (nc == 1) { /* one channel: its own loss is the fused loss, and its gate is 1 */
        st->aux_w = 0;
        st->channel_drop = 0;
        st->gate_fixed = 0;
        st->modality_first = 0;
    }
    /* the default warm-up takes at most half of a short run; one asked for is kept, with a word */
    if (!modality_first_given && st->modality_first > st->epochs / 2) st->modality_first = st->epochs / 2;
    if (st->modality_first >= st->epochs && !resume)
        fprintf(stderr, "mdsrec train: --modality-first %u is not below --epochs %u: the id channel will not train\n",
                st->modality_first, st->epochs);
    if (kind == TM_SASRECF && s->ch[0].n_feat == 0)
        fprintf(stderr, "mdsrec train: sasrecf on a dataset without features is sasrec\n");
    if (st->emb_drop > 0) { /* it acts on channels with both a learned embedding and features */
        int acts = 0;
        for (uint32_t k = 0; k < nc; k++) acts |= s->ch[k].has_emb && s->ch[k].n_feat;
        if (!acts) {
            fprintf(stderr, "mdsrec train: --emb-drop does nothing here: no channel has both a learned item embedding "
                            "and features (sasrec, --no-channel-ids with --no-id-features, or a dataset without features)\n");
            st->emb_drop = 0;
        }
    }
    tm_layout(s);

    train_opts o = {out, (int)threads, resume, quiet, epochs_given, patience_given, time_budget, coclick == 1, repeat == 1};
    metrics v, t, tm;
    int rc = train_run(st, &o, &v, &t, &tm);
    if (rc) dist_abort(CLI_EXIT_FAIL); /* the other ranks would wait for this one forever */
    dist_finish();
    if (rc == 0 && dist_rank() == 0) {
        printf("best epoch %u of %u (valid NDCG@10 %.4f)\n", st->best_epoch, st->epoch, st->best_ndcg);
        print_table(model, &v, &t, &tm);
    }
    free(st);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
