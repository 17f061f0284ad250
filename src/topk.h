/*
 * topk.h - top-k selection over a stream of (index, score) pairs, best first.
 *
 * Order: higher score first; equal scores: lower index first (so results are the same on
 * every platform). NaN scores rank below every number. topk_push compares (score, index)
 * in full, so items may come in any order; the scorer offers them in increasing index order,
 * which is why its threshold test (kernels' above()) may reject "score == threshold" outright.
 */
#ifndef MDSREC_TOPK_H
#define MDSREC_TOPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t cap;     /* k */
    uint32_t count;   /* entries held, <= cap */
    uint32_t *index;  /* [cap], a min-heap on (score, -index) while collecting */
    float *score;     /* [cap] */
} topk;

/* Sets up a selector for k entries over caller storage index[cap], score[cap]. */
void topk_init(topk *t, uint32_t k, uint32_t *index, float *score);
/* The score an item must beat to enter (-INFINITY until the heap is full). */
float topk_threshold(const topk *t);
/* Offers one item (any order). */
void topk_push(topk *t, uint32_t index, float score);
/* Sorts the held entries best first, in place; count stays. */
void topk_finish(topk *t);

#endif /* MDSREC_TOPK_H */
