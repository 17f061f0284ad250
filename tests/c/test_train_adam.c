/* test_train_adam.c - the trainer's Adam against a double-precision reference, and its late
   ranges (adam_late, --modality-first): left alone up to their start, then exactly a fresh
   Adam started there, while the rest of the vector steps as if there were none. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "train/adam.h"

#define N 10

/* the gradient of parameter i at step t (1-based): varied signs and scales */
static float grad_at(size_t i, unsigned t) { return (float)sin(0.7 * (double)(i + 1) * (double)t) * (float)(1 + i % 3); }

int main(void) {
    /* plain Adam and AdamW against the update written out in double precision */
    for (int decay = 0; decay < 2; decay++) {
        adam a;
        CHECK(adam_init(&a, N, 0.01f) == 0);
        a.weight_decay = decay ? 0.1f : 0.0f;
        float p[N];
        double rp[N], rm[N] = {0}, rv[N] = {0};
        for (size_t i = 0; i < N; i++) p[i] = (float)(rp[i] = 0.5 - 0.1 * (double)i);
        double worst = 0;
        for (unsigned t = 1; t <= 20; t++) {
            float g[N];
            for (size_t i = 0; i < N; i++) g[i] = grad_at(i, t);
            adam_step(&a, p, g);
            for (size_t i = 0; i < N; i++) {
                rp[i] *= 1 - 0.01 * a.weight_decay;
                rm[i] = 0.9 * rm[i] + 0.1 * g[i];
                rv[i] = 0.999 * rv[i] + 0.001 * (double)g[i] * g[i];
                double mh = rm[i] / (1 - pow(0.9, t)), vh = rv[i] / (1 - pow(0.999, t));
                rp[i] -= 0.01 * mh / (sqrt(vh) + 1e-8);
                worst = fmax(worst, fabs(p[i] - rp[i]));
            }
        }
        printf("adam%s: worst difference from the reference %.3g\n", decay ? "w" : "", worst);
        CHECK_MSG(worst < 1e-5, "%.3g", worst);
        CHECK(a.t == 20);
        adam_free(&a);
    }

    /* a late range [3, 7) starting at step 4: A has it, B (that range alone, fresh from step 4)
       and C (no late range) give the bits A must have inside and outside it */
    for (int decay = 0; decay < 2; decay++) {
        adam A, B, C;
        CHECK(adam_init(&A, N, 0.02f) == 0 && adam_init(&B, 4, 0.02f) == 0 && adam_init(&C, N, 0.02f) == 0);
        A.weight_decay = B.weight_decay = C.weight_decay = decay ? 0.05f : 0.0f;
        CHECK(adam_late(&A, 3, 7, 4) == 0);
        float pa[N], pb[4], pc[N], p0[N];
        for (size_t i = 0; i < N; i++) pa[i] = pc[i] = p0[i] = 0.3f + 0.01f * (float)i;
        memcpy(pb, pa + 3, sizeof pb);
        for (unsigned t = 1; t <= 12; t++) {
            float ga[N], gc[N];
            for (size_t i = 0; i < N; i++) ga[i] = gc[i] = grad_at(i, t);
            if (t <= 4)
                for (size_t i = 3; i < 7; i++) ga[i] = 0.0f; /* the caller's promise */
            adam_step(&A, pa, ga);
            adam_step(&C, pc, gc);
            if (t > 4) adam_step(&B, pb, ga + 3);
            if (t <= 4) /* not started: not moved, not decayed */
                CHECK_MSG(!memcmp(pa + 3, p0 + 3, 4 * sizeof(float)), "step %u: a late range moved before its start", t);
        }
        CHECK_MSG(!memcmp(pa + 3, pb, sizeof pb), "the late range differs from a fresh Adam started at its step");
        CHECK_MSG(!memcmp(pa, pc, 3 * sizeof(float)) && !memcmp(pa + 7, pc + 7, 3 * sizeof(float)),
                  "the parameters outside the late range differ from an Adam without it");
        adam_free(&A);
        adam_free(&B);
        adam_free(&C);
    }

    /* two late ranges, out of order, around and next to the others */
    {
        adam A, B;
        CHECK(adam_init(&A, N, 0.02f) == 0 && adam_init(&B, N, 0.02f) == 0);
        CHECK(adam_late(&A, 6, 10, 0) == 0 && adam_late(&A, 0, 2, 0) == 0); /* t0 0: from the start */
        float pa[N], pb[N];
        for (size_t i = 0; i < N; i++) pa[i] = pb[i] = 0.1f * (float)i;
        for (unsigned t = 1; t <= 5; t++) {
            float g[N];
            for (size_t i = 0; i < N; i++) g[i] = grad_at(i, t);
            adam_step(&A, pa, g);
            adam_step(&B, pb, g);
        }
        CHECK_MSG(!memcmp(pa, pb, sizeof pa), "late ranges from step 0 differ from none");
        adam_free(&A);
        adam_free(&B);
    }

    /* the ranges it refuses */
    {
        adam a;
        CHECK(adam_init(&a, N, 0.01f) == 0);
        CHECK(adam_late(&a, 4, 4, 1) == -1);  /* empty */
        CHECK(adam_late(&a, 5, 2, 1) == -1);  /* reversed */
        CHECK(adam_late(&a, 8, 11, 1) == -1); /* past n */
        for (int r = 0; r < ADAM_MAX_LATE; r++) CHECK(adam_late(&a, (size_t)r, (size_t)r + 1, 1) == 0);
        CHECK(adam_late(&a, 9, 10, 1) == -1); /* full */
        adam_free(&a);
    }
    return check_done("test_train_adam");
}
