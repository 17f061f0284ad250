/*
 * model_scorer.h - a trained model's parameters as an eval_scorer (eval/evaluate.h): the
 * trainer's own forward (step_visitors), batched, and sgemm scoring against the item
 * matrices. The trainer validates with it each epoch; eval and export rank with it.
 */
#ifndef MDSREC_TRAIN_MODEL_SCORER_H
#define MDSREC_TRAIN_MODEL_SCORER_H

#include <stdint.h>

#include "eval/evaluate.h"
#include "train/tmodel.h"

typedef struct model_memo_slot model_memo_slot;

/* The most a memo keeps of visitor vectors. */
#define MODEL_MEMO_MAX_BYTES ((size_t)256 << 20)

/* The item matrices at params, computed once, and the visitor vectors of one batch. */
typedef struct {
    const tm_spec *s;
    const float *params;
    float *H, *Hcat;      /* item matrices at params (owned) */
    float *v;             /* (batch, |C| d) */
    tm_packed pk;         /* the encoders' weights packed once (tm_pack; buf NULL: not) */
    int threads;
    /* the memo (model_scorer_memo): visitor vectors kept by history */
    model_memo_slot *slots;
    size_t n_slots, used, cap;
    float *mv;                     /* (cap, |C| d) */
    float *miss_v;                 /* (batch, |C| d) */
    const uint32_t **miss_hist;    /* (batch) */
    uint32_t *miss_len, *miss_at;  /* (batch) */
} model_scorer;

/* Computes the item matrices once. 0, or -1 (memory). */
int model_scorer_init(model_scorer *m, const tm_spec *s, const tm_inputs *in, const float *params, int threads,
                      eval_scorer *out);

/* Keeps the visitor vectors of up to `visitors` histories from now on, so that scoring the same
   histories again (the co-click term's grid on validation, then the final evaluation) runs each
   visitor's forward once. A history is known by its pointer, its length and a hash of the items
   the forward reads: the caller must not change the items behind a pointer it scored before
   (the eval loop passes pointers into its dataset). Histories past the capacity (at most
   MODEL_MEMO_MAX_BYTES of vectors) are computed each time. Scores are bit for bit those
   without the memo. 0, or -1 (memory; the scorer works on without a memo). */
int model_scorer_memo(model_scorer *m, size_t visitors);

void model_scorer_free(model_scorer *m);

#endif
