/*
 * adam.h - the Adam optimiser (Kingma & Ba), dense over the whole parameter vector, with
 * bias correction, as torch.optim.Adam; with weight_decay > 0, decoupled weight decay as
 * torch.optim.AdamW (the decay does not pass through the moments).
 */
#ifndef MDSREC_TRAIN_ADAM_H
#define MDSREC_TRAIN_ADAM_H

#include <stddef.h>
#include <stdint.h>

#define ADAM_MAX_LATE 8

typedef struct {
    float lr, beta1, beta2, eps;
    float weight_decay; /* 0 (adam_init's default): plain Adam */
    uint64_t t;      /* steps taken */
    float *m, *v;    /* first and second moments, n floats each (owned) */
    size_t n;
    int threads;     /* workers of a step (1 after adam_init): each updates its own block, so
                        the result is the same for every count */
    /* ranges of parameters that join the training late (adam_late): up to step t0 they are
       left alone (no update, no decay), then their bias correction counts from t0, as if a
       fresh Adam had started them there */
    struct { size_t lo, hi; uint64_t t0; } late[ADAM_MAX_LATE];
    uint32_t n_late;
} adam;

/* lr, and the defaults beta1 0.9, beta2 0.999, eps 1e-8; moments zero. 0, or -1 (memory). */
int adam_init(adam *a, size_t n, float lr);
void adam_free(adam *a);
/* One step: p -= lr * (mhat / (sqrt(vhat) + eps) + weight_decay * p). */
void adam_step(adam *a, float *p, const float *g);
/* Parameters [lo, hi) join at step t0 (see adam.late): their gradients must be 0 up to it.
   Ranges must not overlap. 0, or -1 when ADAM_MAX_LATE ranges are already set or the range
   is empty, reversed or past n. */
int adam_late(adam *a, size_t lo, size_t hi, uint64_t t0);

#endif
