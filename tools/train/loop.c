/* loop.c - epochs, batches, validation, early stopping, checkpoints (loop.h). */
#include "loop.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "adam.h"
#include "cli.h"
#include "dist.h"
#include "eval/coclick.h"
#include "eval/evaluate.h"
#include "eval/sample.h"
#include "defaults.h"
#include "model_scorer.h"
#include "gemm.h"
#include "plot.h"
#include "step.h"
#include "src/checksum.h"

/* CPU seconds of this process, every thread (a loaded machine's wall clock says little) */
static double cpu_now(void) {
    struct timespec ts;
    return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 ? (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec : 0.0;
}

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int train_graph_dir(const train_state *st, int text_format, char *out, size_t cap) {
    if (st->graph_dir[0])
        snprintf(out, cap, "%s", st->graph_dir);
    else if (!text_format)
        snprintf(out, cap, "%s/graph", st->data);
    else
        return -1;
    return 0;
}

int train_coclick_graph(const train_state *st, const dataset *ds, csr *g) {
    char gd[1100];
    memset(g, 0, sizeof *g);
    if (train_graph_dir(st, ds->text_format, gd, sizeof gd)) return 0;
    return coclick_graph_read(gd, (uint32_t)ds->n_items, g);
}

coclick_params train_terms(const train_state *st, int no_repeat) {
    coclick_params p = {st->coclick_beta, st->coclick_decay, st->spec.cfg.max_len, no_repeat ? 0.0f : st->repeat_weight};
    return p;
}

int train_terms_scorer(const train_state *st, const dataset *ds, int no_repeat, eval_scorer *sc, csr *cg,
                       coclick_scorer *cs) {
    coclick_params p = train_terms(st, no_repeat);
    memset(cg, 0, sizeof *cg);
    int have = p.beta > 0 ? train_coclick_graph(st, ds, cg) : 0;
    if (have < 0) return -1;
    if (!have) p.beta = 0;
    if (coclick_any(&p)) coclick_scorer_init(cs, sc, have ? cg : NULL, ds->n_items, &p, sc);
    return 0;
}

int train_open_data(const train_state *st, dataset *ds, tm_inputs *in) {
    if (dataset_load(st->data, ds)) return -1;
    if (dataset_load_features(ds)) {
        dataset_free(ds);
        return -1;
    }
    char gd[1100];
    int has_dir = train_graph_dir(st, ds->text_format, gd, sizeof gd) == 0;
    if (tm_inputs_bind(&st->spec, ds, has_dir ? gd : NULL, (int)st->content_only, st->knn_k, in)) {
        dataset_free(ds);
        return -1;
    }
    return 0;
}

size_t train_windows(const dataset *ds, uint32_t u, uint32_t L, int all, step_window *w, size_t cap) {
    const uint32_t *s = ds_seq(ds, u);
    uint32_t m = ds_train_len(ds, u);
    if (m < 2) return 0;
    size_t count = 0;
    uint32_t end = m - 1; /* inputs are s[start .. end), targets s[start+1 .. end] */
    while (end > 0) {
        uint32_t start = end > L ? end - L : 0;
        if (count < cap) w[count] = (step_window){s + start, end - start, 0};
        count++;
        if (!all) break;
        end = start;
    }
    return count;
}

static int evaluate_params(const train_state *st, const dataset *ds, const tm_inputs *in, const float *params,
                           eval_split split, int threads, metrics *out) {
    model_scorer ms;
    eval_scorer sc;
    if (model_scorer_init(&ms, &st->spec, in, params, threads, &sc)) return -1;
    metrics sums;
    int rc = evaluate(ds, split, &sc, 0, threads, &sums, NULL);
    model_scorer_free(&ms);
    *out = metrics_mean(&sums);
    return rc;
}

/* The best epoch's metrics under both protocols: out[protocol] (EVAL_UNMASKED, EVAL_MASKED),
   scored by the best epoch's scorer *ms, with st's co-click term when cg is not NULL. */
static int evaluate_best_both(const train_state *st, const dataset *ds, const eval_scorer *msc, const csr *cg,
                              eval_split split, int threads, metrics out[2]) {
    eval_scorer sc = *msc;
    coclick_scorer cs;
    coclick_params cp = train_terms(st, 0);
    if (!cg) cp.beta = 0;
    if (coclick_any(&cp)) coclick_scorer_init(&cs, msc, cg, ds->n_items, &cp, &sc);
    metrics sums[2];
    uint32_t *const no_ranks[2] = {NULL, NULL};
    int rc = evaluate_protocols(ds, split, &sc, threads, sums, no_ranks);
    for (int p = 0; p < 2; p++) out[p] = metrics_mean(&sums[p]);
    return rc;
}

static void add_metrics(cJSON *parent, const char *name, const metrics *m) {
    cJSON_AddItemToObject(parent, name, metrics_to_json(m));
}

/* train.json; vt is NULL while training, else [protocol][valid, test] of the best epoch: the
   top-level "valid" and "test" are the unmasked protocol (MODEL.md 6), "protocols" has both. */
static int write_json(const char *path, const train_state *st, const metrics (*vt)[2]) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", tm_kind_name(st->spec.kind));
    cJSON_AddStringToObject(j, "data", st->data);
    cJSON_AddNumberToObject(j, "seed", (double)st->seed);
    if (st->aux_w > 0) cJSON_AddNumberToObject(j, "aux_loss", (double)st->aux_w);
    if (st->channel_drop > 0) cJSON_AddNumberToObject(j, "channel_drop", (double)st->channel_drop);
    if (st->emb_drop > 0) cJSON_AddNumberToObject(j, "emb_drop", (double)st->emb_drop);
    if (st->modality_first > 0) cJSON_AddNumberToObject(j, "modality_first", (double)st->modality_first);
    if (st->coclick_beta > 0) {
        cJSON *cc = cJSON_AddObjectToObject(j, "coclick");
        cJSON_AddNumberToObject(cc, "beta", (double)st->coclick_beta);
        cJSON_AddNumberToObject(cc, "decay", (double)st->coclick_decay);
    }
    if (st->repeat_weight != 0) cJSON_AddNumberToObject(j, "repeat", (double)st->repeat_weight);
    if (st->gate_fixed) cJSON_AddStringToObject(j, "gate", st->gate_fixed == STEP_GATE_GLOBAL ? "global" : "fixed");
    if (st->negatives) {
        cJSON_AddNumberToObject(j, "negatives", st->negatives);
        cJSON_AddStringToObject(j, "sampler", st->sampler == STEP_NEG_POPULAR ? "popular" : "uniform");
    }
    if (st->aux_negatives && !st->negatives) cJSON_AddNumberToObject(j, "aux_negatives", st->aux_negatives);
    if (st->label_smoothing > 0) cJSON_AddNumberToObject(j, "label_smoothing", (double)st->label_smoothing);
    if (st->weight_decay > 0) cJSON_AddNumberToObject(j, "weight_decay", (double)st->weight_decay);
    cJSON_AddNumberToObject(j, "best_epoch", st->best_epoch);
    cJSON_AddNumberToObject(j, "best_valid_ndcg10", st->best_ndcg);
    cJSON *ep = cJSON_AddArrayToObject(j, "epochs");
    for (uint32_t i = 0; i < st->n_hist; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "epoch", st->hist[i].epoch);
        cJSON_AddNumberToObject(e, "loss", st->hist[i].loss);
        cJSON_AddNumberToObject(e, "valid_hr10", st->hist[i].hr10);
        cJSON_AddNumberToObject(e, "valid_ndcg10", st->hist[i].ndcg10);
        cJSON_AddNumberToObject(e, "seconds", st->hist[i].seconds);
        cJSON_AddItemToArray(ep, e);
    }
    if (vt) {
        add_metrics(j, "valid", &vt[EVAL_UNMASKED][0]);
        add_metrics(j, "test", &vt[EVAL_UNMASKED][1]);
        cJSON *po = cJSON_AddObjectToObject(j, "protocols");
        static const char *const key[2] = {"unmasked", "masked"};
        for (int p = 0; p < 2; p++) {
            cJSON *pp = cJSON_AddObjectToObject(po, key[p]);
            add_metrics(pp, "valid", &vt[p][0]);
            add_metrics(pp, "test", &vt[p][1]);
        }
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return -1;
    size_t n = strlen(text);
    text[n] = '\n';
    int rc = cli_write_file(path, text, n + 1);
    free(text);
    return rc;
}

static void path_in(char *buf, size_t cap, const char *dir, const char *name) { snprintf(buf, cap, "%s/%s", dir, name); }

int train_run(train_state *st, const train_opts *o, metrics *valid, metrics *test, metrics *masked_test) {
    dataset ds;
    tm_inputs in;
    char p_model[1200], p_state[1200], p_svg[1200], p_json[1200];
    path_in(p_model, sizeof p_model, o->out_dir, "model.ckpt");
    path_in(p_state, sizeof p_state, o->out_dir, "state.ckpt");
    path_in(p_svg, sizeof p_svg, o->out_dir, "train.svg");
    path_in(p_json, sizeof p_json, o->out_dir, "train.json");
    /* with several ranks (dist.h) the lead alone reads the checkpoint, validates and writes */
    const int lead = dist_rank() == 0;
    if (lead && mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
        cli_error("%s: cannot create: %s", o->out_dir, strerror(errno));
        return -1;
    }

    /* resume: the run's own state replaces the options given */
    float *params = NULL, *best = NULL, *grads = NULL;
    int data_open = 0;
    dataset vsample;
    const dataset *vds = NULL; /* &ds, or &vsample (freed apart) */
    adam opt = {0};
    csr cg = {0}; /* the co-click term's behaviour graph, after training */
    struct stat sb;
    int found = 0;
    if (o->resume) {
        train_state *saved = malloc(sizeof *saved);
        found = lead && stat(p_state, &sb) == 0;
        if (!saved || (found && ckpt_read(p_state, saved, &params, &opt)) ||
            dist_share_resume(&found, saved, &params, &opt)) {
            free(saved);
            free(params);
            adam_free(&opt);
            return -1;
        }
        uint32_t epochs = st->epochs, patience = st->patience;
        if (found) *st = *saved;
        free(saved);
        if (found && !opt.m && adam_init(&opt, st->spec.n_params, st->lr)) goto oom;
        if (found && lead) fprintf(stderr, "mdsrec train: resuming %s after epoch %u\n", p_state, st->epoch);
        /* The limits given now win, lower or higher: the only way to cap a resumed run. */
        if (found && o->epochs_given && epochs != st->epochs) {
            if (lead)
                fprintf(stderr, "mdsrec train: --epochs %u replaces the run's %u%s\n", epochs, st->epochs,
                        epochs <= st->epoch ? ": no epoch left to train" : "");
            st->epochs = epochs;
        }
        if (found && o->patience_given && patience != st->patience) {
            if (lead)
                fprintf(stderr, "mdsrec train: --patience %u replaces the run's %u (%u epochs without a gain so far)\n",
                        patience, st->patience, st->bad_epochs);
            st->patience = patience;
        }
    }
    if (train_open_data(st, &ds, &in)) {
        free(params);
        adam_free(&opt);
        return -1;
    }
    data_open = 1;
    tm_spec *s = &st->spec;
    /* the visitors validation ranks: all, or a fixed sample of a large log (--valid-users) */
    vds = &ds;
    if (st->valid_users && st->valid_users < ds.n_users) {
        if (eval_sample_users(&ds, st->valid_users, 1, &vsample)) goto fail0;
        vds = &vsample;
        if (lead && !o->quiet)
            fprintf(stderr, "mdsrec train: validating on a fixed sample of %u of the %u visitors (--valid-users)\n",
                    st->valid_users, ds.n_users);
    }
    if (!params) {
        /* a fresh run's patience from the size of its validation, unless given */
        if (!o->patience_given) {
            st->patience = train_auto_patience(vds->n_users);
            if (lead && !o->quiet && st->patience != TRAIN_PATIENCE_MIN)
                fprintf(stderr, "mdsrec train: patience %u epochs: a validation of %u visitors is noisy (--patience sets it)\n",
                        st->patience, vds->n_users);
        }
        tm_layout(s);
        params = malloc(s->n_params * sizeof(float));
        if (!params || adam_init(&opt, s->n_params, st->lr)) goto oom;
        tm_init(s, params, st->seed);
        /* a fixed gate is the plain mean of the channels: softmax(0) */
        if (st->gate_fixed) memset(params + s->o_gate, 0, (s->n_params - s->o_gate) * sizeof(float));
        /* the lead's start, so that no rank depends on another machine's libm */
        if (dist_bcast(params, s->n_params * sizeof(float))) goto fail0;
    }
    best = malloc(s->n_params * sizeof(float));
    grads = malloc(s->n_params * sizeof(float));
    if (!best || !grads) goto oom;
    memcpy(best, params, s->n_params * sizeof(float));
    if (st->best_epoch && lead) {
        float *bp = NULL;
        train_state *bs = malloc(sizeof *bs);
        if (bs && ckpt_read(p_model, bs, &bp, NULL) == 0 && bs->spec.n_params == s->n_params)
            memcpy(best, bp, s->n_params * sizeof(float));
        free(bp);
        free(bs);
    }

    /* every window of every training part, once */
    size_t nwin = 0, wcap = 0;
    for (uint32_t u = 0; u < ds.n_users; u++) nwin += train_windows(&ds, u, s->cfg.max_len, (int)st->windows_all, NULL, 0);
    step_window *win = malloc((nwin + 1) * sizeof *win), *batch = malloc(((size_t)st->batch + 1) * sizeof *batch);
    step_window *canon = malloc((nwin + 1) * sizeof *canon);
    if (!win || !batch || !canon) {
        free(canon);
        goto oom2;
    }
    for (uint32_t u = 0; u < ds.n_users; u++)
        wcap += train_windows(&ds, u, s->cfg.max_len, (int)st->windows_all, win + wcap, nwin - wcap);
    memcpy(canon, win, nwin * sizeof *win);
    step_ctx *sc = step_new(s, &in, st->batch, st->p_hidden, st->p_attn, o->threads);
    if (!sc) {
        free(canon);
        goto oom2;
    }
    step_fusion fu = {st->aux_w, st->channel_drop, (int)st->gate_fixed, st->emb_drop, 0};
    uint32_t id_channels = 0, modal_channels = 0; /* train_state.modality_first's two sides */
    for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
        if (s->cfg.channels[k].kind == MDSREC_CHANNEL_ID) id_channels |= 1u << k;
        else modal_channels |= 1u << k;
    }
    step_set_fusion(sc, &fu);
    /* the id channels join after modality_first epochs of ceil(windows / batch) steps: Adam
       starts them there, bias correction included (otherwise their first steps would be
       several times the learning rate: moments from zero under a correction already spent) */
    if (st->modality_first && modal_channels && id_channels) {
        uint64_t t0 = (uint64_t)st->modality_first * ((nwin + st->batch - 1) / st->batch);
        for (uint32_t k = 0; k < s->cfg.n_channels; k++) {
            if (!(id_channels >> k & 1)) continue;
            const tm_channel *ch = &s->ch[k];
            /* its own rows and projection; its encoder too unless every channel shares it */
            size_t hi = s->shared_encoder ? ch->o_b + (ch->n_feat ? s->cfg.dim : 0) : ch->o_pool + bundle_pool_floats(&s->cfg);
            if (hi > ch->o_emb && adam_late(&opt, ch->o_emb, hi, t0)) {
                cli_error("more than %d id channels", ADAM_MAX_LATE);
                goto fail;
            }
        }
    }
    opt.weight_decay = st->weight_decay;
    opt.threads = o->threads;
    {
        step_loss lo = {st->negatives, st->sampler, st->label_smoothing, st->aux_negatives};
        uint32_t *counts = st->sampler == STEP_NEG_POPULAR ? malloc(ds.n_items * sizeof(uint32_t)) : NULL;
        if (counts) dataset_train_counts(&ds, counts);
        int bad = step_set_loss(sc, &lo, counts);
        free(counts);
        if (bad) {
            step_free(sc);
            free(canon);
            goto oom2;
        }
    }
    const int talk = lead && !o->quiet;
    if (talk)
        fprintf(stderr, "mdsrec train: %s, %u items, %u sequences, %zu windows, %zu parameters, %d threads%s\n",
                tm_kind_name(s->kind), ds.n_items, ds.n_users, nwin, s->n_params, o->threads,
                dist_size() > 1 ? " per rank" : "");
    if (talk && dist_size() > 1)
        fprintf(stderr, "mdsrec train: %d ranks share each batch; gradients summed across them\n", dist_size());

    int rc = 0;
    double t_total = 0;
    uint32_t session_epochs = 0; /* the ETA uses this session's speed only */
    while (st->epoch < st->epochs && st->bad_epochs < st->patience) {
        double t0 = cli_now();
        uint32_t e = st->epoch + 1;
        /* the modality channels first: the id channels sit out epochs 1..modality_first (where
           there is a modality channel to train without them); a resumed run picks it up by epoch */
        uint32_t out = e <= st->modality_first && modal_channels ? id_channels : 0;
        if (out != fu.force_out) {
            fu.force_out = out;
            step_set_fusion(sc, &fu);
        }
        /* shuffle (Fisher-Yates, a stream per epoch) from the same order every epoch, so that
           epoch e's order depends on (seed, e) only and a resumed run repeats it */
        memcpy(win, canon, nwin * sizeof *win);
        uint64_t r = mix64(st->seed * 0x9E3779B97F4A7C15ull + e);
        for (size_t i = nwin; i > 1; i--) {
            r = mix64(r + 0x9E3779B97F4A7C15ull);
            size_t j = (size_t)(r % i);
            step_window t = win[i - 1];
            win[i - 1] = win[j];
            win[j] = t;
        }
        double loss_sum = 0, t_steps = cli_now(), cpu_steps = cpu_now();
        size_t nb = 0, positions = 0;
        cli_progress pr;
        cli_progress_start(&pr, "epoch", nwin);
        for (size_t b0 = 0; b0 < nwin; b0 += st->batch) {
            size_t cnt = nwin - b0 < st->batch ? nwin - b0 : st->batch;
            for (size_t i = 0; i < cnt; i++) {
                batch[i] = win[b0 + i];
                batch[i].seed = mix64(st->seed ^ mix64(((uint64_t)e << 32) + b0 + i));
            }
            /* this rank's share of the batch; the gradients summed over the ranks are the batch's */
            size_t lo, hi;
            dist_batch_range(batch, cnt, &lo, &hi);
            for (size_t i = 0; i < cnt; i++) positions += batch[i].n;
            double loss = step_run_part(sc, params, batch, cnt, lo, hi, grads);
            if (!isfinite(loss)) {
                cli_error("epoch %u: loss is %g (out of memory, or diverged)", e, loss);
                rc = -1;
                break;
            }
            if (dist_sum_floats(grads, s->n_params)) {
                rc = -1;
                break;
            }
            adam_step(&opt, params, grads);
            loss_sum += loss;
            nb++;
            if (talk) cli_progress_update(&pr, b0 + cnt);
        }
        if (talk) cli_progress_end(&pr);
        if (rc) break;
        t_steps = cli_now() - t_steps;
        /* the ranks' shares of the loss and CPU time; and a check that the replicas have not
           drifted apart */
        double sums[2] = {loss_sum, cpu_now() - cpu_steps};
        if (dist_sum_doubles(sums, 2)) goto fail;
        loss_sum = sums[0];
        if (!dist_agree(checksum64(params, s->n_params * sizeof(float)))) {
            cli_error("epoch %u: the ranks' parameters differ (the gradient sum was not the same on every rank)", e);
            goto fail;
        }
        /* validation on the lead; its metrics and clock decide for every rank */
        struct { metrics v; double secs; } ev;
        memset(&ev, 0, sizeof ev);
        if (lead && evaluate_params(st, vds, &in, params, EVAL_VALID, o->threads, &ev.v)) goto oom3;
        ev.secs = cli_now() - t0;
        if (dist_bcast(&ev, sizeof ev)) goto fail;
        metrics v = ev.v;
        double secs = ev.secs;
        /* the steps alone (no validation): the figure docs/DISTRIBUTED.md compares across ranks */
        if (talk)
            fprintf(stderr, "epoch %3u: %zu positions in %.2f s of steps on %d rank%s x %d thread%s: %.0f per s per core; "
                    "%.0f per CPU second\n", e, positions, t_steps, dist_size(), dist_size() == 1 ? "" : "s", o->threads,
                    o->threads == 1 ? "" : "s", (double)positions / t_steps / (double)(dist_size() * o->threads),
                    (double)positions / sums[1]);
        double in_sum = dist_sum_seconds();
        if (talk && dist_size() > 1)
            fprintf(stderr, "epoch %3u: rank 0 spent %.2f s in the gradient sums (%zu bytes a step, with the wait for "
                    "the slowest rank)\n", e, in_sum, s->n_params * sizeof(float));
        t_total += secs;
        session_epochs++;
        st->epoch = e;
        if (st->n_hist < CKPT_MAX_EPOCHS)
            st->hist[st->n_hist++] = (ckpt_epoch){e, loss_sum / (double)(nb ? nb : 1), v.hr[1], v.ndcg[1], secs};
        int improved = v.ndcg[1] > st->best_ndcg;
        if (improved) {
            st->best_ndcg = v.ndcg[1];
            st->best_epoch = e;
            st->bad_epochs = 0;
            memcpy(best, params, s->n_params * sizeof(float));
            if (lead && ckpt_write(p_model, st, best, NULL)) goto fail;
        } else if (e > st->modality_first) { /* patience counts from the whole model's first epoch */
            st->bad_epochs++;
        }
        /* a time budget ends the warm-up early where it cannot afford as many epochs again:
           the id channel trains for at least about half of the run (at this run's pace) */
        if (o->time_budget > 0 && e < st->modality_first && id_channels && modal_channels) {
            double afford = o->time_budget / (t_total / session_epochs); /* this session's epochs */
            if ((double)e >= ((double)(e - session_epochs) + afford) / 2) {
                st->modality_first = e;
                for (uint32_t r = 0; r < opt.n_late; r++) opt.late[r].t0 = opt.t; /* they join now */
                if (talk)
                    fprintf(stderr, "mdsrec train: the time budget allows about %.0f epochs: the id channel joins after "
                            "epoch %u (--modality-first)\n", (double)(e - session_epochs) + afford, e);
            }
        }
        if (lead && ckpt_write(p_state, st, params, &opt)) goto fail;
        char title[1200];
        snprintf(title, sizeof title, "%s on %.1000s (seed %llu)", tm_kind_name(s->kind), st->data,
                 (unsigned long long)st->seed);
        if (lead && plot_write(p_svg, st, title)) goto fail;
        if (lead) write_json(p_json, st, NULL);
        if (talk) {
            /* An estimate, not a bound: the epochs left if nothing improves (a new best resets
               patience and extends the run, up to the cap), at this session's seconds per epoch. */
            uint32_t left = st->epochs - e;
            uint32_t pat_left = st->patience > st->bad_epochs ? st->patience - st->bad_epochs : 0;
            if (pat_left < left) left = pat_left;
            fprintf(stderr,
                    "epoch %3u/%u  loss %.4f  valid HR@10 %.4f NDCG@10 %.4f%s  %.1f s  best %.4f @%u  ETA ~%.0f s "
                    "(%u epoch%s if no gain)\n",
                    e, st->epochs, loss_sum / (double)(nb ? nb : 1), v.hr[1], v.ndcg[1], improved ? " *" : "  ", secs,
                    st->best_ndcg, st->best_epoch, t_total / session_epochs * left, left, left == 1 ? "" : "s");
        }
        if (o->time_budget > 0 && t_total >= o->time_budget && st->epoch < st->epochs &&
            st->bad_epochs < st->patience) {
            if (talk)
                fprintf(stderr, "mdsrec train: time budget of %.0f s spent after %u epoch%s; the model is the best "
                        "epoch so far (%u); --resume continues\n", o->time_budget, session_epochs,
                        session_epochs == 1 ? "" : "s", st->best_epoch);
            break;
        }
    }
    if (rc) goto fail;
    if (!lead) { /* the lead evaluates and writes the final model */
        memset(valid, 0, sizeof *valid);
        memset(test, 0, sizeof *test);
        if (masked_test) memset(masked_test, 0, sizeof *masked_test);
        goto done;
    }
    if (!st->best_epoch) { /* zero epochs run: the initial parameters are the model */
        if (ckpt_write(p_model, st, best, NULL)) goto fail;
    }

    /* the co-click term's beta and the repeat weight, chosen on validation (eval/coclick.h),
       written with the model */
    st->coclick_beta = st->coclick_decay = st->repeat_weight = 0;
    int have_cg = o->coclick_off ? 0 : train_coclick_graph(st, &ds, &cg);
    if (have_cg < 0) goto fail;
    /* one scorer of the best parameters for the terms' grid and the final evaluation, its
       visitor vectors kept: validation and test histories each run the forward once */
    model_scorer ms;
    eval_scorer msc;
    if (model_scorer_init(&ms, &st->spec, &in, best, o->threads, &msc)) goto oom3;
    (void)model_scorer_memo(&ms, 2 * (size_t)vds->n_users); /* without it, only slower */
    if (have_cg || !o->repeat_off) {
        coclick_params cp;
        double v0 = 0, v1 = 0;
        if (coclick_tune(vds, &msc, have_cg ? &cg : NULL, st->spec.cfg.max_len, !o->repeat_off, o->threads, &cp, &v0,
                         &v1)) {
            model_scorer_free(&ms);
            goto oom3;
        }
        st->coclick_beta = cp.beta;
        st->coclick_decay = cp.beta > 0 ? cp.decay : 0;
        st->repeat_weight = cp.repeat;
        if (talk)
            fprintf(stderr,
                    "co-click term: beta %g (decay %g), repeat term: %g, chosen on validation: NDCG@10 (mean of "
                    "both protocols) %.4f -> %.4f\n",
                    (double)cp.beta, (double)cp.decay, (double)cp.repeat, v0, v1);
        if (ckpt_write(p_model, st, best, NULL)) {
            model_scorer_free(&ms);
            goto fail;
        }
    }

    /* the best epoch on validation and test */
    metrics vt[2][2], two[2]; /* [protocol][valid, test] */
    for (int s = 0; s < 2; s++) {
        if (evaluate_best_both(st, vds, &msc, have_cg ? &cg : NULL, s ? EVAL_TEST : EVAL_VALID, o->threads, two)) {
            model_scorer_free(&ms);
            goto oom3;
        }
        vt[EVAL_UNMASKED][s] = two[EVAL_UNMASKED];
        vt[EVAL_MASKED][s] = two[EVAL_MASKED];
    }
    model_scorer_free(&ms);
    *valid = vt[EVAL_UNMASKED][0];
    *test = vt[EVAL_UNMASKED][1];
    if (masked_test) *masked_test = vt[EVAL_MASKED][1];
    write_json(p_json, st, (const metrics(*)[2])vt);
    rc = 0;
    goto done;
oom3:
    cli_error("out of memory");
fail:
    rc = -1;
done:
    csr_free(&cg);
    step_free(sc);
    free(canon);
    free(win);
    free(batch);
    free(params);
    free(best);
    free(grads);
    adam_free(&opt);
    if (vds == &vsample) eval_sample_free(&vsample);
    tm_inputs_free(&in);
    dataset_free(&ds);
    return rc;
oom2:
    free(win);
    free(batch);
oom:
    cli_error("out of memory");
fail0:
    free(params);
    free(best);
    free(grads);
    adam_free(&opt);
    if (data_open) {
        if (vds == &vsample) eval_sample_free(&vsample);
        tm_inputs_free(&in);
        dataset_free(&ds);
    }
    return -1;
}
