/*
 * checkpoint.h - the trainer's model files. One format for both:
 *   model.ckpt  the best epoch's parameters (what eval and export read);
 *   state.ckpt  the last epoch's parameters and Adam moments (what --resume reads).
 *
 * Layout: a text header of "key value" lines (readable with `head`), ending with "end\n",
 * zero-padded to a multiple of 64 bytes; then the float32 little-endian payload: params
 * [n_params], and when the header says "adam 1", m [n_params] and v [n_params]. The header's
 * "payload_checksum" is checksum64 of the payload. Written atomically (temp file + rename).
 */
#ifndef MDSREC_TRAIN_CHECKPOINT_H
#define MDSREC_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "adam.h"
#include "tmodel.h"

#define CKPT_MAX_EPOCHS 4096

typedef struct {
    uint32_t epoch;
    double loss, hr10, ndcg10, seconds;
} ckpt_epoch;

/* Everything a run is: the model, where its data is, how it trains, how far it got. */
typedef struct {
    tm_spec spec;
    char data[1024];        /* dataset path */
    char graph_dir[1024];   /* "" = <data>/graph */
    uint32_t content_only;  /* graphs rebuilt without the behaviour signal */
    uint32_t knn_k;         /* neighbours per item of a content graph; itemknn's k */
    /* training options */
    float lr, p_hidden, p_attn;
    uint32_t batch, epochs, patience, windows_all;
    uint64_t seed;
    float aux_w, channel_drop; /* fusion in training (step_fusion); 0 in older checkpoints */
    float emb_drop;         /* step_fusion.emb_drop; 0 in older checkpoints */
    uint32_t modality_first; /* epochs 1..this train the modality channels alone: the id
                               channels are left out (step_fusion.force_out); 0 in older ones */
    uint32_t gate_fixed;    /* STEP_GATE_*: 0 learned, 1 fixed (the plain mean), 2 global */
    /* the objective (step_loss) and the decay; all 0 in older checkpoints: full softmax, Adam */
    uint32_t negatives, sampler, aux_negatives;
    float label_smoothing, weight_decay;
    /* visitors the per-epoch validation ranks: 0 every one (and in older checkpoints), else a
       fixed sample of this many (eval_sample_users, seed 1); the final valid/test too */
    uint32_t valid_users;
    /* the co-click term (eval/coclick.h), chosen on validation after training; 0 (none) in
       older checkpoints and with `train --coclick off` */
    float coclick_beta, coclick_decay;
    /* the repeat term (eval/coclick.h), chosen with it; 0 (none) in older checkpoints and with
       `train --repeat off` */
    float repeat_weight;
    /* progress */
    uint32_t epoch;         /* epochs completed */
    uint32_t best_epoch, bad_epochs;
    double best_ndcg;
    uint32_t n_hist;
    ckpt_epoch hist[CKPT_MAX_EPOCHS];
} train_state;

/* Writes st, params (spec.n_params floats) and, if opt is not NULL, Adam's moments. 0, or -1
   after cli_error. */
int ckpt_write(const char *path, const train_state *st, const float *params, const adam *opt);

/* Reads a checkpoint: fills st, mallocs *params (free it), and if opt is not NULL and the
   file has moments, initialises opt with them (else opt is zeroed: opt->m NULL). 0, or -1
   after cli_error naming the file and the problem. */
int ckpt_read(const char *path, train_state *st, float **params, adam *opt);

#endif
