/* checkpoint.c - the trainer's model files (checkpoint.h). */
#include "checkpoint.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "src/checksum.h"
#include "cli.h"
#include "step.h"

static uint64_t payload_checksum(const float *p, const adam *opt, size_t n) {
    uint64_t h = checksum64(p, n * sizeof(float));
    if (opt) h ^= checksum64(opt->m, n * sizeof(float)) * 3u ^ checksum64(opt->v, n * sizeof(float)) * 5u;
    return h;
}

int ckpt_write(const char *path, const train_state *st, const float *params, const adam *opt) {
    const tm_spec *s = &st->spec;
    const mdsrec_config *c = &s->cfg;
    cli_out o;
    if (cli_out_open(&o, path)) return -1;
    FILE *f = o.f;
    long start = ftell(f);
    fprintf(f, "MDSREC-CHECKPOINT 1\n");
    fprintf(f, "model %s\ndata %s\ngraph_dir %s\ncontent_only %u\nknn_k %u\n", tm_kind_name(s->kind), st->data,
            st->graph_dir[0] ? st->graph_dir : "-", st->content_only, st->knn_k);
    fprintf(f, "n_items %u\ndim %u\nn_channels %u\nmax_len %u\nn_blocks %u\nn_heads %u\nffn_dim %u\n", c->n_items,
            c->dim, c->n_channels, c->max_len, c->n_blocks, c->n_heads, c->ffn_dim);
    fprintf(f, "pool_mode %u\nln_eps %.9g\nprop_k %u\nshared_encoder %u\n", c->pool_mode, (double)c->ln_eps, s->prop_k,
            s->shared_encoder);
    for (uint32_t k = 0; k < c->n_channels; k++) {
        const tm_channel *ch = &s->ch[k];
        fprintf(f, "channel %u %s %u %d %u %s", k, c->channels[k].name, c->channels[k].kind, ch->has_emb,
                ch->feat_width, ch->graph[0] ? ch->graph : "-");
        for (uint32_t j = 0; j < ch->n_feat; j++) fprintf(f, " %s", ch->feat[j]);
        fprintf(f, "\nchannel_blocks %u %u\n", k, c->channels[k].n_blocks);
    }
    fprintf(f, "lr %.9g\np_hidden %.9g\np_attn %.9g\nbatch %u\nepochs %u\npatience %u\nwindows_all %u\nseed %" PRIu64 "\n",
            (double)st->lr, (double)st->p_hidden, (double)st->p_attn, st->batch, st->epochs, st->patience,
            st->windows_all, st->seed);
    fprintf(f, "aux_w %.9g\nchannel_drop %.9g\ngate_fixed %u\n", (double)st->aux_w, (double)st->channel_drop,
            st->gate_fixed);
    fprintf(f, "negatives %u\nsampler %u\naux_negatives %u\nlabel_smoothing %.9g\nweight_decay %.9g\n", st->negatives,
            st->sampler, st->aux_negatives, (double)st->label_smoothing, (double)st->weight_decay);
    fprintf(f, "valid_users %u\n", st->valid_users);
    if (st->emb_drop > 0) fprintf(f, "emb_drop %.9g\n", (double)st->emb_drop); /* older readers: absent */
    if (st->modality_first > 0) fprintf(f, "modality_first %u\n", st->modality_first); /* older readers: absent */
    if (st->coclick_beta > 0) /* older readers: absent */
        fprintf(f, "coclick %.9g %.9g\n", (double)st->coclick_beta, (double)st->coclick_decay);
    if (st->repeat_weight != 0) fprintf(f, "repeat %.9g\n", (double)st->repeat_weight); /* older readers: absent */
    fprintf(f, "epoch %u\nbest_epoch %u\nbad_epochs %u\nbest_ndcg %.17g\n", st->epoch, st->best_epoch, st->bad_epochs,
            st->best_ndcg);
    for (uint32_t i = 0; i < st->n_hist; i++)
        fprintf(f, "hist %u %.9g %.9g %.9g %.6g\n", st->hist[i].epoch, st->hist[i].loss, st->hist[i].hr10,
                st->hist[i].ndcg10, st->hist[i].seconds);
    fprintf(f, "n_params %zu\nadam %d\n", s->n_params, opt ? 1 : 0);
    if (opt) fprintf(f, "adam_t %" PRIu64 "\n", opt->t);
    fprintf(f, "payload_checksum %" PRIu64 "\nend\n", payload_checksum(params, opt, s->n_params));
    long pos = ftell(f) - start;
    while (pos % 64) {
        fputc(0, f);
        pos++;
    }
    fwrite(params, sizeof(float), s->n_params, f);
    if (opt) {
        fwrite(opt->m, sizeof(float), s->n_params, f);
        fwrite(opt->v, sizeof(float), s->n_params, f);
    }
    if (ferror(f)) {
        cli_error("%s: write error", o.tmp);
        cli_out_abort(&o);
        return -1;
    }
    return cli_out_commit(&o);
}

int ckpt_read(const char *path, train_state *st, float **params, adam *opt) {
    memset(st, 0, sizeof *st);
    *params = NULL;
    if (opt) memset(opt, 0, sizeof *opt);
    size_t len;
    uint8_t *buf = cli_read_file(path, &len);
    if (!buf) return -1;
    const char *end = strstr((const char *)buf, "\nend\n");
    if (strncmp((const char *)buf, "MDSREC-CHECKPOINT 1\n", 20) || !end) {
        cli_error("%s: not an mdsrec checkpoint (version 1)", path);
        free(buf);
        return -1;
    }
    size_t hdr = (size_t)(end + 5 - (const char *)buf);
    size_t data_off = (hdr + 63) / 64 * 64;
    tm_spec *s = &st->spec;
    mdsrec_config *c = &s->cfg;
    size_t n_params = 0;
    int has_adam = 0;
    uint64_t adam_t = 0, sum = 0;
    char *text = strndup((const char *)buf, hdr);
    int bad = !text;
    int blocks_read[MDSREC_MAX_CHANNELS] = {0}; /* checkpoints before channel_blocks: every channel n_blocks */
    for (char *line = text ? strtok(text, "\n") : NULL; line && !bad; line = strtok(NULL, "\n")) {
        char key[32];
        int off = 0;
        if (sscanf(line, "%31s %n", key, &off) != 1) continue;
        const char *v = line + off;
        if (!strcmp(key, "model")) {
            int k = tm_kind_parse(v);
            bad = k < 0;
            s->kind = (uint32_t)k;
        } else if (!strcmp(key, "data")) {
            snprintf(st->data, sizeof st->data, "%s", v);
        } else if (!strcmp(key, "graph_dir")) {
            snprintf(st->graph_dir, sizeof st->graph_dir, "%s", strcmp(v, "-") ? v : "");
        }
#define U32(name, dst) else if (!strcmp(key, name)) bad = sscanf(v, "%u", &(dst)) != 1;
        U32("content_only", st->content_only) U32("knn_k", st->knn_k) U32("n_items", c->n_items)
        U32("dim", c->dim) U32("n_channels", c->n_channels) U32("max_len", c->max_len) U32("n_blocks", c->n_blocks)
        U32("n_heads", c->n_heads) U32("ffn_dim", c->ffn_dim) U32("pool_mode", c->pool_mode) U32("prop_k", s->prop_k)
        U32("batch", st->batch) U32("epochs", st->epochs) U32("patience", st->patience)
        U32("windows_all", st->windows_all) U32("epoch", st->epoch) U32("best_epoch", st->best_epoch)
        U32("bad_epochs", st->bad_epochs) U32("gate_fixed", st->gate_fixed) U32("shared_encoder", s->shared_encoder)
        U32("negatives", st->negatives) U32("sampler", st->sampler) U32("aux_negatives", st->aux_negatives)
        U32("valid_users", st->valid_users) U32("modality_first", st->modality_first)
#undef U32
        else if (!strcmp(key, "aux_w")) bad = sscanf(v, "%f", &st->aux_w) != 1;
        else if (!strcmp(key, "channel_drop")) bad = sscanf(v, "%f", &st->channel_drop) != 1;
        else if (!strcmp(key, "emb_drop")) bad = sscanf(v, "%f", &st->emb_drop) != 1 || !(st->emb_drop >= 0 && st->emb_drop < 1);
        else if (!strcmp(key, "coclick"))
            bad = sscanf(v, "%f %f", &st->coclick_beta, &st->coclick_decay) != 2 || !(st->coclick_beta >= 0 && st->coclick_beta < 1e6f) ||
                  !(st->coclick_decay >= 0 && st->coclick_decay <= 1);
        else if (!strcmp(key, "repeat"))
            bad = sscanf(v, "%f", &st->repeat_weight) != 1 || !(st->repeat_weight >= -1e6f && st->repeat_weight <= 1e6f);
        else if (!strcmp(key, "label_smoothing")) bad = sscanf(v, "%f", &st->label_smoothing) != 1;
        else if (!strcmp(key, "weight_decay")) bad = sscanf(v, "%f", &st->weight_decay) != 1;
        else if (!strcmp(key, "ln_eps")) bad = sscanf(v, "%f", &c->ln_eps) != 1;
        else if (!strcmp(key, "lr")) bad = sscanf(v, "%f", &st->lr) != 1;
        else if (!strcmp(key, "p_hidden")) bad = sscanf(v, "%f", &st->p_hidden) != 1;
        else if (!strcmp(key, "p_attn")) bad = sscanf(v, "%f", &st->p_attn) != 1;
        else if (!strcmp(key, "seed")) bad = sscanf(v, "%" SCNu64, &st->seed) != 1;
        else if (!strcmp(key, "best_ndcg")) bad = sscanf(v, "%lf", &st->best_ndcg) != 1;
        else if (!strcmp(key, "n_params")) bad = sscanf(v, "%zu", &n_params) != 1;
        else if (!strcmp(key, "adam")) bad = sscanf(v, "%d", &has_adam) != 1;
        else if (!strcmp(key, "adam_t")) bad = sscanf(v, "%" SCNu64, &adam_t) != 1;
        else if (!strcmp(key, "payload_checksum")) bad = sscanf(v, "%" SCNu64, &sum) != 1;
        else if (!strcmp(key, "hist")) {
            if (st->n_hist < CKPT_MAX_EPOCHS) {
                ckpt_epoch *e = &st->hist[st->n_hist++];
                bad = sscanf(v, "%u %lf %lf %lf %lf", &e->epoch, &e->loss, &e->hr10, &e->ndcg10, &e->seconds) != 5;
            }
        } else if (!strcmp(key, "channel_blocks")) {
            uint32_t k, b;
            bad = sscanf(v, "%u %u", &k, &b) != 2 || k >= MDSREC_MAX_CHANNELS || b > MDSREC_MAX_BLOCKS;
            if (!bad) c->channels[k].n_blocks = b, blocks_read[k] = 1;
        } else if (!strcmp(key, "channel")) {
            uint32_t k, kind, width;
            int emb, used = 0;
            char name[25], graph[64];
            bad = sscanf(v, "%u %24s %u %d %u %63s%n", &k, name, &kind, &emb, &width, graph, &used) != 6 ||
                  k >= MDSREC_MAX_CHANNELS;
            if (!bad) {
                tm_channel *ch = &s->ch[k];
                snprintf(c->channels[k].name, sizeof c->channels[k].name, "%s", name);
                c->channels[k].kind = kind;
                ch->has_emb = emb;
                ch->feat_width = width;
                snprintf(ch->graph, sizeof ch->graph, "%s", strcmp(graph, "-") ? graph : "");
                const char *p = v + used;
                char fn[25];
                int adv;
                while (ch->n_feat < DS_MAX_FEATURES && sscanf(p, "%24s%n", fn, &adv) == 1) {
                    snprintf(ch->feat[ch->n_feat++], 25, "%s", fn);
                    p += adv;
                }
            }
        }
    }
    free(text);
    for (uint32_t k = 0; k < MDSREC_MAX_CHANNELS; k++)
        if (!blocks_read[k]) c->channels[k].n_blocks = c->n_blocks;
        else bad |= c->channels[k].n_blocks > c->n_blocks;
    if (bad || c->n_channels == 0 || c->n_channels > MDSREC_MAX_CHANNELS || c->dim == 0 || c->n_heads == 0 ||
        c->dim % c->n_heads || c->max_len == 0 || st->gate_fixed > STEP_GATE_GLOBAL || c->max_len > MDSREC_MAX_LEN || c->n_blocks > MDSREC_MAX_BLOCKS) {
        cli_error("%s: bad or incomplete header", path);
        free(buf);
        return -1;
    }
    tm_layout(s);
    size_t want = data_off + s->n_params * sizeof(float) * (has_adam ? 3 : 1);
    if (s->n_params != n_params || len != want) {
        cli_error("%s: %zu bytes and %zu parameters, the header describes %zu parameters (%zu bytes)", path, len,
                  n_params, s->n_params, want);
        free(buf);
        return -1;
    }
    float *p = malloc(s->n_params * sizeof(float) + 4);
    if (!p) {
        cli_error("%s: out of memory", path);
        free(buf);
        return -1;
    }
    memcpy(p, buf + data_off, s->n_params * sizeof(float));
    adam tmp = {0};
    if (has_adam) {
        if (adam_init(&tmp, s->n_params, st->lr)) {
            cli_error("%s: out of memory", path);
            free(p);
            free(buf);
            return -1;
        }
        memcpy(tmp.m, buf + data_off + s->n_params * sizeof(float), s->n_params * sizeof(float));
        memcpy(tmp.v, buf + data_off + 2 * s->n_params * sizeof(float), s->n_params * sizeof(float));
        tmp.t = adam_t;
    }
    free(buf);
    if (payload_checksum(p, has_adam ? &tmp : NULL, s->n_params) != sum) {
        cli_error("%s: payload checksum mismatch (a damaged file)", path);
        free(p);
        adam_free(&tmp);
        return -1;
    }
    if (opt && has_adam)
        *opt = tmp;
    else
        adam_free(&tmp);
    *params = p;
    return 0;
}
