/*
 * item_rows.h - the item side (tmodel.h) on only the rows a step reads.
 *
 * Under sampled softmax a step reads H at its windows' items, their targets and the batch's K
 * negatives: a few thousand rows, whatever the catalogue. Computing all N rows every step (and
 * their backward) made the step's cost grow with N, so an epoch grew with events x items
 * (docs/SCALE.md). Here H is computed on a set S only: with K rounds of propagation row i of
 * A^r X needs A^(r-1) X on i's neighbours, so round r is computed on the ball of radius K - r
 * around S, and X on the ball of radius K. The backward runs the same balls outwards.
 *
 * The results are the full computation's rows of S, bit for bit where a channel has no dense
 * features (each ball is walked in item order, so every sum adds the same terms in the same
 * order, the full computation's other terms being exact zeros); the dense projections go
 * through sgemm on the gathered rows, whose blocking may round differently (tests compare
 * within 1e-6). H and dH are the full (|C|, N, d) arrays: rows outside S are left stale.
 */
#ifndef MDSREC_TRAIN_ITEM_ROWS_H
#define MDSREC_TRAIN_ITEM_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "tmodel.h"

#define ITEM_ROWS_GATHER 1024 /* dense feature rows gathered per sgemm */

typedef struct {
    uint32_t n_items;
    uint32_t *stamp;      /* N: the set an item was last marked in (0: never) */
    uint32_t cur;         /* the current set's stamp */
    uint32_t *level;      /* N: the smallest radius whose ball holds the item (valid where stamped) */
    uint32_t *queue;      /* N: the breadth-first order */
    uint32_t *ball[MDSREC_MAX_CHANNELS]; /* per channel (2N): the ball of radius K in item order,
                                            then each one's level from N on */
    size_t ball_n[MDSREC_MAX_CHANNELS];
    uint32_t *seed;       /* N: S, in the order given (duplicates dropped) */
    size_t seed_n;
    float *gather;        /* ITEM_ROWS_GATHER x (max feature width + d) */
    int threads;          /* workers of each propagation round (1 after item_rows_init; the
                             results are the same for every count) */
} item_rows;

/* Allocates for s's catalogue and channels. 0, or -1 when out of memory (r is then freed). */
int item_rows_init(item_rows *r, const tm_spec *s);
void item_rows_free(item_rows *r);

/* Starts a new S. */
void item_rows_clear(item_rows *r);
/* Adds items to S (ids < n_items; duplicates are fine). */
void item_rows_add(item_rows *r, const uint32_t *items, size_t n);

/* H's rows of S for every channel, as tm_items_forward computes them; fixes the balls the
   backward uses. scratch: 2 N d floats, as tm_items_forward. */
void item_rows_forward(item_rows *r, const tm_spec *s, const tm_inputs *in, const float *params, float *H,
                       float *scratch);

/* tm_items_backward for a dH that is zero outside S (only its rows of S are read; dH is used
   as scratch), after item_rows_forward on the same S. */
void item_rows_backward(item_rows *r, const tm_spec *s, const tm_inputs *in, float *dH, float *grads,
                        float *scratch);

#endif
