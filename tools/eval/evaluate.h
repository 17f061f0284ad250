/*
 * evaluate.h - leave-one-out, full-ranking evaluation (MODEL.md 6) of any scorer.
 *
 * Split: ds_history_len and ds_target (prepared.h): for a sequence i_1..i_n the validation
 * case reads the history i_1..i_{n-2} and targets i_{n-1}; the test case reads i_1..i_{n-1}
 * and targets i_n. Every item is ranked
 * (no sampled negatives). Two protocols from one scoring pass: unmasked (MODEL.md 6: every item
 * competes) and history masked (every history item other than the target scores -inf, as the
 * S3-Rec family of published tables ranks; the target without the scorer's history_weight).
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
    /* what the scores include per click of an item in the history, the repeat term
       (eval/coclick.h; 0: nothing). The masked protocol takes it off a target the visitor had
       clicked before: it ranks as the browser shows recommendations, with the history left
       out, where the core never adds the term (models/FORMAT.md, REPEAT). Left in, a positive
       weight would lift every such target over the unmasked items at no cost. */
    float history_weight;
} eval_scorer;

/* The protocols, as indices of evaluate_protocols' arrays. */
enum { EVAL_UNMASKED = 0, EVAL_MASKED = 1 };

/* Sums (not means) of the metrics over every sequence of ds for that split under both
   protocols: sums[EVAL_UNMASKED] and sums[EVAL_MASKED]; and each visitor's rank in
   ranks[p][n_users] where ranks[p] is not NULL. The scorer runs once; threads rank the scores.
   0, or -1 on out of memory. */
int evaluate_protocols(const dataset *ds, eval_split split, const eval_scorer *sc, int threads, metrics sums[2],
                       uint32_t *const ranks[2]);

/* One protocol: mask_history 0 (unmasked) or 1 (history masked), as evaluate_protocols. */
int evaluate(const dataset *ds, eval_split split, const eval_scorer *sc, int mask_history, int threads,
             metrics *sums, uint32_t *ranks);

#endif
