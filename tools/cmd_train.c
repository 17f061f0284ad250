/* cmd_train.c - `mdsrec train`: train MDSRec or a baseline on a prepared dataset (docs/TRAINING.md). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eval/evaluate.h"
#include "eval/scorers.h"
#include "parallel.h"
#include "train/gemm.h"
#include "train/loop.h"

const char cmd_train_summary[] = "train mdsrec, sasrec, sasrecf, pop or itemknn; early stopping on valid NDCG@10";

static void usage(FILE *f) {
    fprintf(f,
            "usage: mdsrec train --data PATH --out DIR [options]\n"
            "  --data PATH        a prepared dataset directory, or a `user item item ...` text file\n"
            "  --out DIR          where model.ckpt, state.ckpt, train.svg and train.json go\n"
            "  --model NAME       mdsrec (default) | sasrec | sasrecf | pop | itemknn\n"
            "  --dim D            hidden size (64)          --max-len L   history read (50)\n"
            "  --blocks B         attention blocks (2)      --heads H     heads (2)\n"
            "  --ffn F            feed-forward width (4d)   --prop-k K    propagation rounds (2)\n"
            "  --centre C         last | mean | token | none (mdsrec: last; sasrec/sasrecf: none)\n"
            "  --channels LIST    comma list of channels to keep (id and feature names)\n"
            "  --no-id            mdsrec without the id channel\n"
            "  --no-graph         no propagation over relation graphs\n"
            "  --shared-encoder   one encoder and pooling for every channel (ablation)\n"
            "  --id-features      mdsrec: the id channel's items also add the projected features,\n"
            "                     as sasrecf's (E[i] + W f_i + b) (a variant)\n"
            "  --no-behaviour     graphs rebuilt from content only (beta = 0)\n"
            "  --graph-dir DIR    graphs (default DATA/graph)   --knn-k K  neighbours (10; itemknn: 100)\n"
            "  --dropout P        hidden dropout (0.5)     --attn-dropout P  (default: --dropout)\n"
            "  --lr X (1e-3)  --batch N (256)  --epochs N (200)  --patience N (10)  --seed N (1)\n"
            "  --aux-loss W       add W x each channel's own cross-entropy (mdsrec: 2; else 0)\n"
            "  --channel-drop P   leave each channel out of a window's gate with probability P (0)\n"
            "  --gate G           fixed (the plain mean of the channels; mdsrec default) | learned\n"
            "  --windows all|last windows of each training part (all: every target, in windows of L;\n"
            "                     last: only the last L inputs)\n"
            "  --threads N        worker threads (default: every core)\n"
            "  --resume           continue from DIR/state.ckpt\n"
            "  --quiet            no progress lines\n");
}

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

/* Every kept feature of ds, concatenated in the dataset's order, into channel ch's item vector
   (sasrecf's id channel, and mdsrec's with --id-features). */
static void add_features(tm_channel *ch, const dataset *ds, char names[][25], int n) {
    for (uint32_t f = 0; f < ds->n_features; f++) {
        if (!keep(ds->feat[f].name, names, n)) continue;
        snprintf(ch->feat[ch->n_feat++], 25, "%s", ds->feat[f].name);
        ch->feat_width += ds->feat[f].width;
    }
}

static void print_table(const char *model, const metrics *v, const metrics *t) {
    metrics_print_header(stdout, model);
    metrics_print_row(stdout, "valid", v);
    metrics_print_row(stdout, "test", t);
}

/* Fusion training of mdsrec, chosen on validation NDCG@10 (docs/TRAINING.md, "Fusion"):
   every channel also trained on its own score, and the gate left at the plain mean. */
#define MDSREC_AUX_DEFAULT 2.0f
#define MDSREC_GATE_FIXED_DEFAULT 1

int cmd_train(int argc, char **argv) {
    const char *data = NULL, *out = NULL, *model = "mdsrec", *centre = NULL, *channels = NULL, *graph_dir = NULL;
    const char *windows = "all"; /* every training target: on long histories `last` drops most */
    uint32_t dim = 64, max_len = 50, blocks = 2, heads = 2, ffn = 0, prop_k = 2, knn_k = 0, batch = 256, epochs = 200;
    uint32_t patience = 10, threads = 0;
    uint64_t seed = 1;
    /* fusion training: -1 / NULL = the model's default (mdsrec: see MDSREC_AUX_DEFAULT) */
    float dropout = 0.5f, attn_dropout = -1, lr = 1e-3f, aux_w = -1, channel_drop = 0;
    const char *gate = NULL;
    int no_id = 0, no_graph = 0, no_beh = 0, resume = 0, quiet = 0, shared = 0, id_features = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0, used = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--no-id")) {
            no_id = 1, used = 0;
        } else if (!strcmp(a, "--no-graph")) {
            no_graph = 1, used = 0;
        } else if (!strcmp(a, "--no-behaviour") || !strcmp(a, "--no-behavior")) {
            no_beh = 1, used = 0;
        } else if (!strcmp(a, "--shared-encoder")) {
            shared = 1, used = 0;
        } else if (!strcmp(a, "--id-features")) {
            id_features = 1, used = 0;
        } else if (!strcmp(a, "--resume")) {
            resume = 1, used = 0;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1, used = 0;
        } else if (!v) {
            bad = 1;
        } else if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--centre") || !strcmp(a, "--center")) centre = v;
        else if (!strcmp(a, "--channels")) channels = v;
        else if (!strcmp(a, "--graph-dir")) graph_dir = v;
        else if (!strcmp(a, "--windows")) windows = v;
        else if (!strcmp(a, "--dim")) bad = cli_parse_u32(v, &dim);
        else if (!strcmp(a, "--max-len")) bad = cli_parse_u32(v, &max_len);
        else if (!strcmp(a, "--blocks")) bad = cli_parse_u32(v, &blocks);
        else if (!strcmp(a, "--heads")) bad = cli_parse_u32(v, &heads);
        else if (!strcmp(a, "--ffn")) bad = cli_parse_u32(v, &ffn);
        else if (!strcmp(a, "--prop-k")) bad = cli_parse_u32(v, &prop_k);
        else if (!strcmp(a, "--knn-k")) bad = cli_parse_u32(v, &knn_k);
        else if (!strcmp(a, "--batch")) bad = cli_parse_u32(v, &batch);
        else if (!strcmp(a, "--epochs")) bad = cli_parse_u32(v, &epochs);
        else if (!strcmp(a, "--patience")) bad = cli_parse_u32(v, &patience);
        else if (!strcmp(a, "--threads")) bad = cli_parse_u32(v, &threads);
        else if (!strcmp(a, "--seed")) bad = cli_parse_u64(v, &seed);
        else if (!strcmp(a, "--dropout")) bad = cli_parse_float(v, &dropout);
        else if (!strcmp(a, "--attn-dropout")) bad = cli_parse_float(v, &attn_dropout);
        else if (!strcmp(a, "--lr")) bad = cli_parse_float(v, &lr);
        else if (!strcmp(a, "--aux-loss")) bad = cli_parse_float(v, &aux_w);
        else if (!strcmp(a, "--channel-drop")) bad = cli_parse_float(v, &channel_drop);
        else if (!strcmp(a, "--gate")) gate = v;
        else {
            cli_error("unknown option '%s'", a);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        if (bad) {
            cli_error("option %s needs a valid value", a);
            return CLI_EXIT_USAGE;
        }
        i += used;
    }
    if (attn_dropout < 0) attn_dropout = dropout;
    int kind = tm_kind_parse(model);
    if (id_features && kind != TM_MDSREC) {
        cli_error("--id-features is for --model mdsrec (sasrecf is sasrec with features)");
        return CLI_EXIT_USAGE;
    }
    int pool = -1;
    if (centre) {
        pool = !strcmp(centre, "none") ? 0 : !strcmp(centre, "last") ? 1 : !strcmp(centre, "mean") ? 2
             : !strcmp(centre, "token") ? 3 : -1;
        if (pool < 0) {
            cli_error("--centre must be last, mean, token or none");
            return CLI_EXIT_USAGE;
        }
    }
    if (!data || (!out && kind != TM_POP && kind != TM_ITEMKNN) || kind < 0 || dim == 0 || heads == 0 || dim % heads ||
        max_len == 0 || max_len > MDSREC_MAX_LEN || blocks > MDSREC_MAX_BLOCKS || dim > MDSREC_MAX_DIM || batch == 0 ||
        !(dropout >= 0 && dropout < 1) || !(attn_dropout >= 0 && attn_dropout < 1) || !(lr > 0) ||
        !((aux_w >= 0 && aux_w <= 100) || aux_w == -1) || !(channel_drop >= 0 && channel_drop < 1) ||
        (gate && strcmp(gate, "learned") && strcmp(gate, "fixed")) ||
        (strcmp(windows, "last") && strcmp(windows, "all"))) {
        cli_error("need --data and --out, a known --model, heads dividing dim, max-len 1..%d, blocks <= %d, "
                  "dropout and channel-drop in [0,1), aux-loss in [0,100], --gate learned|fixed, --windows last|all",
                  MDSREC_MAX_LEN, MDSREC_MAX_BLOCKS);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    threads = (uint32_t)parallel_threads(threads);
    char chosen[MDSREC_MAX_CHANNELS][25];
    int n_chosen = 0;
    if (channels && (n_chosen = parse_channels(channels, chosen, MDSREC_MAX_CHANNELS)) < 0) {
        cli_error("--channels: a comma list of names");
        return CLI_EXIT_USAGE;
    }

    train_state *st = calloc(1, sizeof *st);
    if (!st) return CLI_EXIT_FAIL;
    snprintf(st->data, sizeof st->data, "%s", data);
    if (graph_dir) snprintf(st->graph_dir, sizeof st->graph_dir, "%s", graph_dir);
    st->content_only = (uint32_t)no_beh;
    st->knn_k = knn_k ? knn_k : (kind == TM_ITEMKNN ? 100 : 10);
    st->lr = lr;
    st->p_hidden = dropout;
    st->p_attn = attn_dropout;
    st->batch = batch;
    st->epochs = epochs;
    st->patience = patience ? patience : 1;
    st->windows_all = !strcmp(windows, "all");
    st->seed = seed;
    st->aux_w = aux_w >= 0 ? aux_w : kind == TM_MDSREC ? MDSREC_AUX_DEFAULT : 0;
    st->channel_drop = channel_drop;
    st->gate_fixed = gate ? !strcmp(gate, "fixed") : kind == TM_MDSREC ? MDSREC_GATE_FIXED_DEFAULT : 0;

    /* the dataset, to know N and its features */
    dataset ds;
    if (dataset_load(data, &ds) || dataset_load_features(&ds)) {
        free(st);
        return CLI_EXIT_FAIL;
    }
    gemm_set_threads(1); /* our workers split every sgemm themselves */

    if (kind == TM_POP || kind == TM_ITEMKNN) {
        eval_scorer sc;
        pop_scorer ps = {0};
        knn_scorer ks;
        memset(&ks, 0, sizeof ks);
        int rc = kind == TM_POP ? pop_scorer_init(&ps, &ds, &sc) : knn_scorer_init(&ks, &ds, st->knn_k, max_len, &sc);
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
        print_table(model, &v, &t);
        return CLI_EXIT_OK;
    }

    /* the channels */
    tm_spec *s = &st->spec;
    mdsrec_config *c = &s->cfg;
    s->kind = (uint32_t)kind;
    c->n_items = ds.n_items;
    c->dim = dim;
    c->max_len = max_len;
    c->n_blocks = blocks;
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
        s->ch[0].has_emb = 1;
        if (kind == TM_SASRECF) add_features(&s->ch[0], &ds, chosen, n_chosen);
        nc = 1;
    } else {
        c->pool_mode = MDSREC_POOL_LAST;
        if (!no_id && keep("id", chosen, n_chosen)) {
            snprintf(c->channels[nc].name, 25, "id");
            c->channels[nc].kind = MDSREC_CHANNEL_ID;
            s->ch[nc].has_emb = 1;
            if (id_features) /* early fusion inside the id channel, as sasrecf's item vector */
                add_features(&s->ch[nc], &ds, chosen, n_chosen);
            nc++;
        }
        for (uint32_t f = 0; f < ds.n_features && nc < MDSREC_MAX_CHANNELS; f++) {
            if (!keep(ds.feat[f].name, chosen, n_chosen)) continue;
            snprintf(c->channels[nc].name, 25, "%s", ds.feat[f].name);
            c->channels[nc].kind = feature_channel_kind(&ds.feat[f]);
            tm_channel *ch = &s->ch[nc];
            ch->n_feat = 1;
            snprintf(ch->feat[0], 25, "%s", ds.feat[f].name);
            ch->feat_width = ds.feat[f].width;
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
    }
    if (kind == TM_SASRECF && s->ch[0].n_feat == 0)
        fprintf(stderr, "mdsrec train: sasrecf on a dataset without features is sasrec\n");
    tm_layout(s);

    train_opts o = {out, (int)threads, resume, quiet};
    metrics v, t;
    int rc = train_run(st, &o, &v, &t);
    if (rc == 0) {
        printf("best epoch %u of %u (valid NDCG@10 %.4f)\n", st->best_epoch, st->epoch, st->best_ndcg);
        print_table(model, &v, &t);
    }
    free(st);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
