/*
 * pq.c - product quantization's training (pq.h): per sub-space, Lloyd's k-means with 256
 * centroids over a sample of the rows, seeded from distinct sampled rows; then every row's
 * nearest centroids. Squared L2 rather than inner product: the scoring's error on <q, x> is
 * at most |q| times the reconstruction error of x, which L2 k-means minimises.
 */
#include "pq.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "rng.h"

/* Index of the centroid nearest to v (ds floats), from the centroids transposed: cbt[t][k] is
   column t of centroid k, so each step runs over 256 adjacent floats (the compiler vectorises
   it; the row-major form's inner loop of ds = 2..8 would not). dist has room for 256 floats. */
static uint32_t nearest(const float *cbt, const float *v, size_t ds, float *dist) {
    for (uint32_t k = 0; k < BUNDLE_PQ_K; k++) dist[k] = 0.0f;
    for (size_t t = 0; t < ds; t++) {
        const float *col = cbt + t * BUNDLE_PQ_K;
        float x = v[t];
        for (uint32_t k = 0; k < BUNDLE_PQ_K; k++) {
            float e = x - col[k];
            dist[k] += e * e;
        }
    }
    uint32_t best = 0;
    for (uint32_t k = 1; k < BUNDLE_PQ_K; k++)
        if (dist[k] < dist[best]) best = k;
    return best;
}

static void transpose(const float *cb, size_t ds, float *cbt) {
    for (uint32_t k = 0; k < BUNDLE_PQ_K; k++)
        for (size_t t = 0; t < ds; t++) cbt[t * BUNDLE_PQ_K + k] = cb[k * ds + t];
}

/* One sub-space: centroids of the ns sample rows (sub-vectors at stride d from sub). */
static void train_sub(const float *x, const uint32_t *sample, size_t ns, size_t d, size_t sub, size_t ds,
                      float *cb, float *cbt, float *dist, double *sum, uint32_t *cnt, uint64_t *rng) {
    /* seeds: sample rows picked at random (with n < 256, some repeat: harmless, never used twice
       as the nearest since ties go to the lowest index) */
    for (uint32_t k = 0; k < BUNDLE_PQ_K; k++) {
        size_t r = ns > BUNDLE_PQ_K ? (size_t)(splitmix64(rng) % ns) : k % ns;
        memcpy(cb + k * ds, x + (size_t)sample[r] * d + sub, ds * sizeof(float));
    }
    for (uint32_t it = 0; it < PQ_ITERS; it++) {
        transpose(cb, ds, cbt);
        memset(sum, 0, BUNDLE_PQ_K * ds * sizeof *sum);
        memset(cnt, 0, BUNDLE_PQ_K * sizeof *cnt);
        for (size_t i = 0; i < ns; i++) {
            const float *v = x + (size_t)sample[i] * d + sub;
            uint32_t k = nearest(cbt, v, ds, dist);
            cnt[k]++;
            for (size_t t = 0; t < ds; t++) sum[k * ds + t] += v[t];
        }
        for (uint32_t k = 0; k < BUNDLE_PQ_K; k++) {
            if (cnt[k]) {
                for (size_t t = 0; t < ds; t++) cb[k * ds + t] = (float)(sum[k * ds + t] / cnt[k]);
            } else { /* an empty cluster restarts at a random sample row */
                size_t r = (size_t)(splitmix64(rng) % ns);
                memcpy(cb + k * ds, x + (size_t)sample[r] * d + sub, ds * sizeof(float));
            }
        }
    }
}

int pq_train(const float *x, size_t n, size_t d, size_t m, float *cb, uint8_t *codes) {
    size_t ds = d / m, ns = n < PQ_TRAIN_ROWS ? n : PQ_TRAIN_ROWS;
    uint32_t *sample = malloc(ns * sizeof *sample);
    float *cbt = malloc(BUNDLE_PQ_K * ds * sizeof *cbt), *dist = malloc(BUNDLE_PQ_K * sizeof *dist);
    double *sum = malloc(BUNDLE_PQ_K * ds * sizeof *sum);
    uint32_t *cnt = malloc(BUNDLE_PQ_K * sizeof *cnt);
    int rc = -1;
    if (!sample || !cbt || !dist || !sum || !cnt) goto out;
    uint64_t rng = 0x5051u; /* "PQ": a fixed seed, so exports are reproducible */
    /* the sample: every row, or the first ns of a partial Fisher-Yates shuffle */
    if (ns == n) {
        for (size_t i = 0; i < n; i++) sample[i] = (uint32_t)i;
    } else {
        uint32_t *perm = malloc(n * sizeof *perm);
        if (!perm) goto out;
        for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
        for (size_t i = 0; i < ns; i++) {
            size_t j = i + (size_t)(splitmix64(&rng) % (n - i));
            uint32_t t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        memcpy(sample, perm, ns * sizeof *sample);
        free(perm);
    }
    for (size_t j = 0; j < m; j++) {
        float *cbj = cb + j * BUNDLE_PQ_K * ds;
        train_sub(x, sample, ns, d, j * ds, ds, cbj, cbt, dist, sum, cnt, &rng);
        transpose(cbj, ds, cbt);
        for (size_t i = 0; i < n; i++) codes[i * m + j] = (uint8_t)nearest(cbt, x + i * d + j * ds, ds, dist);
    }
    rc = 0;
out:
    free(sample);
    free(cbt);
    free(dist);
    free(sum);
    free(cnt);
    return rc;
}
