/*
 * check.h - the C tests' few macros. Each test file is one executable; CHECK records a
 * failure with file and line and goes on; check_done() prints "N passed, N failed" and
 * returns the exit status for main.
 */
#ifndef MDSREC_CHECK_H
#define MDSREC_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_pass_, check_fail_;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) {                                                                 \
            check_pass_++;                                                          \
        } else {                                                                    \
            check_fail_++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                                        \
    do {                                                                            \
        if (cond) {                                                                 \
            check_pass_++;                                                          \
        } else {                                                                    \
            check_fail_++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
        }                                                                           \
    } while (0)

/* |a - b| <= tol * max(1, |a|, |b|) */
#define CHECK_CLOSE(a, b, tol)                                                      \
    do {                                                                            \
        double ca_ = (double)(a), cb_ = (double)(b);                                \
        double sc_ = fmax(1.0, fmax(fabs(ca_), fabs(cb_)));                         \
        CHECK_MSG(fabs(ca_ - cb_) <= (tol) * sc_, "%.9g vs %.9g (tol %g)", ca_, cb_, (double)(tol)); \
    } while (0)

static inline int check_done(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_pass_, check_fail_);
    return check_fail_ ? 1 : 0;
}

#endif
