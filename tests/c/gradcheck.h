/*
 * gradcheck.h - central finite differences for the trainer's gradient tests.
 *
 * The forwards run in float, so the numerical derivative (f(x+e) - f(x-e)) / 2e with
 * e = 1e-3 (gc_eps) carries a rounding error of about 1e-7 |f| / e; losses are kept O(1) and the
 * comparison is relative: |analytic - numeric| / max(|analytic|, |numeric|, FLOOR) <= TOL.
 * TOL and FLOOR are stated by each test.
 */
#ifndef MDSREC_GRADCHECK_H
#define MDSREC_GRADCHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* the step; a test may raise it (deep float forwards: 1e-2 trades a truncation error of
   order eps^2 for less rounding noise) */
static float gc_eps = 1e-3f;

typedef double (*gc_loss_fn)(void *ctx);

static inline uint64_t gc_rand(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline float gc_uniform(uint64_t *s) { /* [-1, 1) */
    return (float)((double)(gc_rand(s) >> 11) / 4503599627370496.0 - 1.0);
}

/* Numerical derivative of loss(ctx) with respect to *x. */
static inline double gc_numeric(float *x, gc_loss_fn loss, void *ctx) {
    float x0 = *x;
    *x = x0 + gc_eps;
    double lp = loss(ctx);
    *x = x0 - gc_eps;
    double lm = loss(ctx);
    *x = x0;
    return (lp - lm) / (2.0 * (double)gc_eps);
}

static inline double gc_relerr(double a, double n, double floor_) {
    double s = fmax(fmax(fabs(a), fabs(n)), floor_);
    return fabs(a - n) / s;
}

/* Checks `count` random coordinates of x[0..len) against the analytic gradient g; returns
   the largest relative error seen. */
static inline double gc_check(float *x, const float *g, size_t len, size_t count, gc_loss_fn loss,
                              void *ctx, uint64_t *rng, double floor_) {
    double worst = 0;
    for (size_t c = 0; c < count && len; c++) {
        size_t i = (size_t)(gc_rand(rng) % len);
        double num = gc_numeric(x + i, loss, ctx);
        double e = gc_relerr(g[i], num, floor_);
        if (getenv("GC_VERBOSE") && e > 1e-2) fprintf(stderr, "    [%zu] analytic %.6g numeric %.6g\n", i, g[i], num);
        if (e > worst) worst = e;
    }
    return worst;
}

#endif
