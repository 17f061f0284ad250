/*
 * step.h - one training step's forward and backward over a batch of sequence windows
 * (MODEL.md 2-5): the item matrices, every channel's encoder at every position (the core's
 * channel_forward with pool_all and dropout, padding-free: each window is computed at its
 * own length), the gate, the fused score over ALL items and softmax cross-entropy against
 * the next item, then the backward of all of it into one gradient vector.
 *
 * Threads: windows are split into contiguous blocks, one per thread; each thread keeps its
 * own encoder gradients, summed in thread order afterwards; item-row gradients are scattered
 * in window order by one thread. The scoring is three sgemm calls per chunk of positions.
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
    int gate_fixed;     /* the gate's gradient is zeroed: Wg, bg stay as initialised */
} step_fusion;

/* Sets the fusion options of the batches to come (default: all zero). */
void step_set_fusion(step_ctx *c, const step_fusion *f);

/* Forward and backward of one batch at params: sets grads (n_params floats) to the gradient
   of the mean cross-entropy over all the batch's positions (plus aux_w times each channel's
   own mean cross-entropy when step_fusion.aux_w > 0), and returns that objective (NaN on
   out of memory). */
double step_run(step_ctx *c, const float *params, const step_window *w, size_t count, float *grads);

/* ---------------------------------------------------------------- inference side */

/* Visitor vectors for `count` histories (each its last <= L items), no dropout: v (count,
   |C| d) = the gate-scaled concatenation [g_c u^c], so that score(i) = <v, Hcat[i]>, with
   Hcat (N, |C| d) from step_items(). threads workers. */
void step_visitors(const tm_spec *s, const float *params, const float *H, const uint32_t *const *hist,
                   const uint32_t *len, size_t count, float *v, int threads);

/* H (|C|, N, d) and Hcat (N, |C| d) at params. scratch: 2 N d floats. */
void step_items(const tm_spec *s, const tm_inputs *in, const float *params, float *H, float *Hcat,
                float *scratch);

#endif
