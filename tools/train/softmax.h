/*
 * softmax.h - softmax cross-entropy rows for the trainer, and the exp they run on.
 *
 * A step scores every position against every item, so these loops see C + 1 rows of N logits
 * per position: written so the compiler vectorises them (float partial sums in 8 lanes, an
 * exp of plain arithmetic), where libm's scalar expf and a double accumulator made the
 * softmax a third of an mdsrec step.
 */
#ifndef MDSREC_TRAIN_SOFTMAX_H
#define MDSREC_TRAIN_SOFTMAX_H

#include <stddef.h>
#include <stdint.h>

/* e^x for x <= 0 (the logits less their row's maximum): relative error below 3e-7 against
   exp() down to x = -87, 0 below (where e^x is under FLT_MIN); x > 0 is clamped to 0. */
float softmax_exp(float x);

/* Softmax cross-entropy of m rows z (N logits each, stride N) against targets y (each < N).
   Returns the summed loss and turns z into its gradient times scale: (softmax - onehot) scale. */
double softmax_ce_rows(float *z, size_t m, size_t N, const uint32_t *y, float scale);

/* One row z[0..n) against column y with label smoothing eps in [0, 1): the target distribution
   is (1 - eps) on y and eps spread evenly over the live entries; -INFINITY marks an entry left
   out (of a sampled softmax), whose gradient is 0. Returns the loss; z becomes its gradient
   times scale. */
double softmax_ce_row_smooth(float *z, size_t n, size_t y, float eps, float scale);

/* softmax_ce_rows with label smoothing eps (every entry live). */
double softmax_ce_rows_smooth(float *z, size_t m, size_t N, const uint32_t *y, float eps, float scale);

/* sum_j a[j] b[j] in float, 8 lanes (the gate's gradient in the joint scoring). */
float softmax_dot(const float *a, const float *b, size_t n);

#endif
