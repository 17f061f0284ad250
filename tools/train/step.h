/*
 * step.h - one training step's forward and backward over a batch of sequence windows
 * (MODEL.md 2-5): the item matrices, every channel's encoder at every position (the core's
 * channel_forward with pool_all and dropout, padding-free: each window is computed at its
 * own length), the gate, the fused score over all items (or the target and K sampled
 * negatives, step_loss) and softmax cross-entropy against the next item, then the backward
 * of all of it into one gradient vector.
 *
 * Threads: windows are split into contiguous blocks, one per thread; each thread keeps its
 * own encoder gradients, summed in thread order afterwards; item-row gradients are scattered
 * in window order by one thread. The scoring is three sgemm calls per chunk of positions (with
 * the auxiliary losses over all items: one forward and two backward per channel, jointly).
 */
#ifndef MDSREC_TRAIN_STEP_H
#define MDSREC_TRAIN_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "tmodel.h"

/* A window of a sequence: inputs items[0..n), the target at position t is items[t+1]. */
typedef struct step_window {
    const uint32_t *items;
    uint32_t n;        /* 1..L inputs (n + 1 items are read) */
    uint64_t seed;     /* this window's dropout stream */
} step_window;

typedef struct step_ctx step_ctx;

/* A context for batches of at most max_windows windows, with dropout p_hidden / p_attn
   (0: none) and `threads` workers. NULL on out of memory. */
step_ctx *step_new(const tm_spec *s, const tm_inputs *in, size_t max_windows, float p_hidden, float p_attn,
                   int threads);
void step_free(step_ctx *c);

/* How the channels are fused in training (docs/TRAINING.md, "Fusion"); all zero = MODEL.md 4
   as written. The inference side (step_visitors, the bundle) is the same for every setting. */
typedef struct step_fusion {
    float aux_w;        /* > 0: add aux_w * CE of each channel scored alone (u^c . H^c) */
    float channel_drop; /* per window, each channel left out of the gate with this probability */
    int gate_fixed;     /* STEP_GATE_*: which of the gate's gradients are kept */
    float emb_drop;     /* per batch, each item's learned embedding left out (tm_inputs.emb_keep)
                           with this probability: the model learns rows of features alone,
                           which is what a new item (mdsrec add-items) has */
    uint32_t force_out; /* bit k set: channel k is left out of every window's gate and its own
                           loss is not added, so none of its weights gets a gradient (the
                           modality channels trained first: train_state.modality_first).
                           At least one channel must stay out of it. */
} step_fusion;

/* step_fusion.gate_fixed: LEARNED trains Wg and bg (a weight per channel per visitor);
   FIXED zeroes both gradients (Wg, bg stay as initialised: the plain mean at 0); GLOBAL zeroes
   Wg's only, so the gate is softmax(bg), one learned weight per channel shared by every visitor,
   which the bundle's GATE section holds unchanged (Wg = 0). */
enum { STEP_GATE_LEARNED = 0, STEP_GATE_FIXED = 1, STEP_GATE_GLOBAL = 2 };

/* Sets the fusion options of the batches to come (default: all zero). */
void step_set_fusion(step_ctx *c, const step_fusion *f);

/* The training objective (docs/TRAINING.md, "Loss"). All zero = MODEL.md 5: softmax
   cross-entropy over all N items. */
enum { STEP_NEG_UNIFORM = 0, STEP_NEG_POPULAR = 1 };
typedef struct step_loss {
    uint32_t negatives;    /* 0: softmax over all N items; K > 0: sampled softmax over each
                              position's target and K negatives drawn once per batch (shared by
                              its positions; a negative equal to a position's target is left
                              out of that position's softmax). Cost per position: K, not N. */
    uint32_t sampler;      /* STEP_NEG_UNIFORM, or STEP_NEG_POPULAR: drawn in proportion to
                              1 + training count; every logit (target and negatives) is then
                              corrected by -log(K q_i), q the sampling distribution (logQ) */
    float label_smoothing; /* eps in [0, 1): the target distribution is (1 - eps) on the target
                              and eps spread evenly over every candidate of the softmax */
    uint32_t aux_negatives; /* with negatives 0: the per-channel auxiliary losses (step_fusion.
                              aux_w) alone are sampled softmax over K = aux_negatives, the fused
                              loss staying over all items (the auxiliary losses are C of the
                              C + 1 full scorings of a step); ignored when negatives > 0 */
} step_loss;

/* Sets the loss of the batches to come. counts (N training counts, dataset_train_counts) is
   read only by STEP_NEG_POPULAR and may be NULL otherwise. 0, or -1 when out of memory or
   when the options are out of range (negatives or aux_negatives >= 2^24, eps outside [0, 1), a popular sampler
   without counts). The negatives of a batch come from a hash of its windows' seeds, so a
   batch draws the same negatives every time it is run (gradient checks, resume). */
int step_set_loss(step_ctx *c, const step_loss *l, const uint32_t *counts);

/* Under sampled softmax (step_loss.negatives > 0) a step computes the item side on the rows
   it reads only (item_rows.h): its cost then no longer grows with the catalogue. on = 0 runs
   it over all N rows instead (the tests compare the two); the default is on. */
void step_set_item_rows(step_ctx *c, int on);

/* Forward and backward of one batch at params: sets grads (n_params floats) to the gradient
   of the mean cross-entropy over all the batch's positions (plus aux_w times each channel's
   own mean cross-entropy when step_fusion.aux_w > 0), each as step_loss sets it, and returns
   that objective (NaN on out of memory). */
double step_run(step_ctx *c, const float *params, const step_window *w, size_t count, float *grads);

/* step_run's share of windows [lo, hi) of a batch of batch_count windows (data-parallel
   training, dist.h): the objective and gradient of those windows' positions only, each
   position's term still divided by the positions of the whole batch, and the negatives the
   whole batch's; so the sums over a partition of [0, batch_count) are step_run's objective and
   gradient up to float rounding. An empty share (lo == hi) gives zeros. NaN as step_run, and
   when lo > hi or hi > batch_count. */
double step_run_part(step_ctx *c, const float *params, const step_window *batch, size_t batch_count, size_t lo,
                     size_t hi, float *grads);

/* ---------------------------------------------------------------- inference side */

/* Visitor vectors for `count` histories (each its last <= L items), no dropout: v (count,
   |C| d) = the gate-scaled concatenation [g_c u^c], so that score(i) = <v, Hcat[i]>, with
   Hcat (N, |C| d) from step_items(). pk: params' linear weights packed by tm_pack (the same
   bits, faster), or NULL. threads workers. */
void step_visitors(const tm_spec *s, const float *params, const tm_packed *pk, const float *H,
                   const uint32_t *const *hist, const uint32_t *len, size_t count, float *v, int threads);

/* H (|C|, N, d) and Hcat (N, |C| d) at params. scratch: 2 N d floats. */
void step_items(const tm_spec *s, const tm_inputs *in, const float *params, float *H, float *Hcat,
                float *scratch);

#endif
