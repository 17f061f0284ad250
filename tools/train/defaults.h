/*
 * defaults.h - training settings the trainer derives from the data when they are not given
 * (docs/TRAINING.md, "Shipped defaults").
 */
#ifndef MDSREC_TRAIN_DEFAULTS_H
#define MDSREC_TRAIN_DEFAULTS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define TRAIN_AUTO_MIN_BATCH 64
#define TRAIN_AUTO_MAX_BATCH 256
#define TRAIN_AUTO_MAX_STEPS 1000

/* The batch for n_windows training windows: 64, doubled up to 256 while an epoch would have
   more than 1,000 Adam steps. 64 won on validation on every data set here (as good as 128 and
   256 on Scientific in a third of the time, faster to converge on Beauty, and enough steps an
   epoch on ml-100k); each step also recomputes every item's rows, so a store with hundreds of
   thousands of visitors gets the cheaper large batches. */
static inline uint32_t train_auto_batch(size_t n_windows) {
    uint32_t b = TRAIN_AUTO_MIN_BATCH;
    while (b < TRAIN_AUTO_MAX_BATCH && n_windows / b > TRAIN_AUTO_MAX_STEPS) b *= 2;
    return b;
}

/* The id embeddings of sasrec, sasrecf and mdsrec are smoothed over the behaviour graph
   (`--id-graph behaviour`) whenever the graph directory has it: on validation it raised sasrec
   and sasrecf on every data set measured and mdsrec on two of three, level on the third
   (docs/TRAINING.md, "Shipped defaults"; session 9). */
#define TRAIN_ID_GRAPH_DEFAULT 1
#define TRAIN_ID_GRAPH_FILE "behaviour.adj.csr"

/* mdsrec trains its modality channels alone for this many epochs before the id channel joins
   (`--modality-first`; docs/TRAINING.md, "Shipped defaults"; session 17). */
#define TRAIN_MODALITY_FIRST_DEFAULT 5

/* The patience of early stopping for a validation of n visitors: 10 epochs at 10,000 visitors
   or more, and 10 x sqrt(10,000 / n) below (at most 40): the epoch-to-epoch noise of validation
   NDCG@10 grows as its visitors get fewer, and a small set's curve keeps climbing under that
   noise long after 10 epochs without a new best (ml-100k: 943 visitors, 33 epochs; Scientific:
   2,928, 18; docs/TRAINING.md, "Shipped defaults"; session 18). */
#define TRAIN_PATIENCE_MIN 10
#define TRAIN_PATIENCE_MAX 40
#define TRAIN_PATIENCE_REF_VISITORS 10000.0
static inline uint32_t train_auto_patience(size_t n_valid) {
    if (!n_valid) return TRAIN_PATIENCE_MIN;
    double p = (double)TRAIN_PATIENCE_MIN * sqrt(TRAIN_PATIENCE_REF_VISITORS / (double)n_valid);
    return p <= TRAIN_PATIENCE_MIN ? TRAIN_PATIENCE_MIN : p >= TRAIN_PATIENCE_MAX ? TRAIN_PATIENCE_MAX : (uint32_t)(p + 0.5);
}

#endif
