/*
 * test_bundle_helpers.h - what the bundle tests share: making the checksums of a bundle that a
 * test has damaged on purpose right again, so that the damage reaches the reader's structural
 * and value checks instead of its checksums (models/FORMAT.md, "Checksum").
 */
#ifndef TEST_BUNDLE_HELPERS_H
#define TEST_BUNDLE_HELPERS_H

#include <stdint.h>
#include <string.h>

#include "src/bundle.h"
#include "src/checksum.h"

/* Rewrites every in-bounds payload checksum, then the table's and the header's. */
__attribute__((unused)) static void refresh(uint8_t *b, size_t len) {
    if (len < 64) return;
    uint32_t n;
    memcpy(&n, b + 20, 4);
    if (n <= BUNDLE_MAX_SECTIONS && 64 + 32ull * n <= len) {
        for (uint32_t i = 0; i < n; i++) {
            uint8_t *e = b + 64 + 32 * (size_t)i;
            uint64_t off, size, sum;
            memcpy(&off, e + 8, 8);
            memcpy(&size, e + 16, 8);
            if (off > len || size > len - off) continue;
            sum = checksum64(b + off, (size_t)size);
            memcpy(e + 24, &sum, 8);
        }
        uint64_t t = checksum64(b + 64, 32 * (size_t)n);
        memcpy(b + 40, &t, 8);
    }
    uint64_t h = checksum64(b, 56);
    memcpy(b + 56, &h, 8);
}

#endif
