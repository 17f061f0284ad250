/* test_train_softmax.c - the trainer's softmax rows against a double-precision reference:
   the polynomial exp, the cross-entropy and its gradient, with and without label smoothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "train/softmax.h"

static double ref_ce(const float *z, size_t n, size_t y, double eps, double scale, double *grad) {
    double mx = z[0], sum = 0, zsum = 0;
    for (size_t j = 1; j < n; j++) mx = z[j] > mx ? z[j] : mx;
    for (size_t j = 0; j < n; j++) sum += exp((double)z[j] - mx), zsum += (double)z[j] - mx;
    double lse = log(sum);
    for (size_t j = 0; j < n; j++) grad[j] = scale * (exp((double)z[j] - mx) / sum - eps / (double)n);
    grad[y] -= scale * (1 - eps);
    return lse - (1 - eps) * ((double)z[y] - mx) - eps * zsum / (double)n;
}

int main(void) {
    /* exp: relative error against libm's double exp over the range it serves */
    double worst = 0;
    for (float x = -87.0f; x <= 0.0f; x += 0.00731f) {
        double r = exp((double)x), e = fabs((double)softmax_exp(x) - r) / r;
        if (e > worst) worst = e;
    }
    printf("softmax_exp: worst relative error %.3g on [-87, 0]\n", worst);
    CHECK_MSG(worst < 3e-7, "%.3g", worst);
    CHECK(softmax_exp(0.0f) == 1.0f);
    CHECK(softmax_exp(-200.0f) < 1e-37f && softmax_exp(-200.0f) >= 0.0f);
    CHECK(softmax_exp(-INFINITY) >= 0.0f && softmax_exp(-INFINITY) < 1e-37f);

    /* rows of odd lengths (the 8-lane loops and their tails), wide logits */
    uint64_t s = 12345;
    size_t lens[] = {1, 7, 8, 9, 33, 1000};
    for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
        size_t n = lens[t], m = 3;
        float *z = malloc(m * n * sizeof(float)), *z2 = malloc(m * n * sizeof(float));
        double *g = malloc(n * sizeof(double));
        uint32_t y[3];
        for (size_t i = 0; i < m * n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            z[i] = (float)((double)(s >> 40) / (double)(1 << 24) * 30.0 - 15.0);
        }
        for (size_t i = 0; i < m; i++) y[i] = (uint32_t)((i * 7 + 3) % n);
        for (int smooth = 0; smooth < 2; smooth++) {
            double eps = smooth ? 0.1 : 0.0, loss_ref = 0, gerr = 0;
            memcpy(z2, z, m * n * sizeof(float));
            double loss = smooth ? softmax_ce_rows_smooth(z2, m, n, y, (float)eps, 0.5f)
                                 : softmax_ce_rows(z2, m, n, y, 0.5f);
            for (size_t i = 0; i < m; i++) {
                loss_ref += ref_ce(z + i * n, n, y[i], eps, 0.5, g);
                for (size_t j = 0; j < n; j++) gerr = fmax(gerr, fabs(g[j] - z2[i * n + j]));
            }
            CHECK_MSG(fabs(loss - loss_ref) <= 1e-5 * fmax(1, fabs(loss_ref)), "n %zu eps %g: %.9g vs %.9g", n, eps,
                      loss, loss_ref);
            CHECK_MSG(gerr <= 2e-6, "n %zu eps %g: gradient off by %.3g", n, eps, gerr);
        }
        float dot = softmax_dot(z, z + n, n);
        double dref = 0;
        for (size_t j = 0; j < n; j++) dref += (double)z[j] * z[n + j];
        CHECK_CLOSE(dot, dref, 1e-5);
        free(z);
        free(z2);
        free(g);
    }
    return check_done("test_train_softmax");
}
