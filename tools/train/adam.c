/* adam.c - Adam (adam.h). */
#include "adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int adam_init(adam *a, size_t n, float lr) {
    memset(a, 0, sizeof *a);
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    a->n = n;
    a->m = calloc(n ? n : 1, sizeof(float));
    a->v = calloc(n ? n : 1, sizeof(float));
    if (!a->m || !a->v) {
        adam_free(a);
        return -1;
    }
    return 0;
}

void adam_free(adam *a) {
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

void adam_step(adam *a, float *p, const float *g) {
    a->t++;
    float b1 = a->beta1, b2 = a->beta2;
    float c1 = 1.0f - (float)pow(b1, (double)a->t), c2 = 1.0f - (float)pow(b2, (double)a->t);
    float step = a->lr / c1, rc2 = 1.0f / sqrtf(c2);
    if (a->weight_decay > 0) { /* decoupled: shrink before the Adam step, as AdamW */
        float keep = 1.0f - a->lr * a->weight_decay;
        for (size_t i = 0; i < a->n; i++) p[i] *= keep;
    }
    for (size_t i = 0; i < a->n; i++) {
        float m = a->m[i] = b1 * a->m[i] + (1.0f - b1) * g[i];
        float v = a->v[i] = b2 * a->v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= step * m / (sqrtf(v) * rc2 + a->eps);
    }
}
