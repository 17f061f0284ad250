/*
 * evaluate.h - leave-one-out, full-ranking evaluation (MODEL.md 6) of any scorer.
 *
 * Split: ds_history_len and ds_target (prepared.h): for a sequence i_1..i_n the validation
 * case reads the history i_1..i_{n-2} and targets i_{n-1}; the test case reads i_1..i_{n-1}
 * and targets i_n. Every item is ranked
 * (no sampled negatives). History items are NOT masked by default (as published full-ranking
 * tables); with mask_history every history item other than the target scores -inf.
 */
#ifndef MDSREC_EVAL_EVALUATE_H
#define MDSREC_EVAL_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "eval/metrics.h"
#include "data/prepared.h"

/* The evaluator's names for the two cases of the split (prepared.h). */
typedef ds_split eval_split;
#define EVAL_VALID DS_VALID
#define EVAL_TEST DS_TEST

/* Histories a scorer takes per call unless it says otherwise: (batch, N) floats of scores. */
#define EVAL_BATCH 256

/* A scorer fills scores (count, N) for `count` histories (oldest first). */
typedef struct {
    void *ctx;
    void (*score)(void *ctx, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores);
    size_t batch;   /* histories per call */
} eval_scorer;

/* Sums (not means) of the metrics over every sequence of ds for that split, and, if
   ranks is not NULL, each visitor's rank in ranks[n_users]. threads rank the scores. 0, or
   -1 on out of memory. */
int evaluate(const dataset *ds, eval_split split, const eval_scorer *sc, int mask_history, int threads,
             metrics *sums, uint32_t *ranks);

#endif
