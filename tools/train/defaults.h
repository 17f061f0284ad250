/*
 * defaults.h - training settings the trainer derives from the data when they are not given
 * (docs/TRAINING.md, "Shipped defaults").
 */
#ifndef MDSREC_TRAIN_DEFAULTS_H
#define MDSREC_TRAIN_DEFAULTS_H

#include <stddef.h>
#include <stdint.h>

#define TRAIN_AUTO_MAX_BATCH 256
#define TRAIN_AUTO_MIN_BATCH 64
#define TRAIN_AUTO_MIN_STEPS 32

/* The batch for n_windows training windows: 256, halved down to 64 while an epoch would have
   fewer than 32 Adam steps. A small store (a few thousand windows) then still gets enough
   updates an epoch, and a big one the cheaper large batches. */
static inline uint32_t train_auto_batch(size_t n_windows) {
    uint32_t b = TRAIN_AUTO_MAX_BATCH;
    while (b > TRAIN_AUTO_MIN_BATCH && n_windows / b < TRAIN_AUTO_MIN_STEPS) b /= 2;
    return b;
}

#endif
