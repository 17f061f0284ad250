/*
 * model_scorer.h - a trained model's parameters as an eval_scorer (eval/evaluate.h): the
 * trainer's own forward (step_visitors), batched, and sgemm scoring against the item
 * matrices. The trainer validates with it each epoch; eval and export rank with it.
 */
#ifndef MDSREC_TRAIN_MODEL_SCORER_H
#define MDSREC_TRAIN_MODEL_SCORER_H

#include "eval/evaluate.h"
#include "train/tmodel.h"

/* The item matrices at params, computed once, and the visitor vectors of one batch. */
typedef struct {
    const tm_spec *s;
    const float *params;
    float *H, *Hcat;      /* item matrices at params (owned) */
    float *v;             /* (batch, |C| d) */
    int threads;
} model_scorer;
/* Computes the item matrices once. 0, or -1 (memory). */
int model_scorer_init(model_scorer *m, const tm_spec *s, const tm_inputs *in, const float *params, int threads,
                      eval_scorer *out);
void model_scorer_free(model_scorer *m);

#endif
