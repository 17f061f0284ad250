/*
 * bundle_internal.h - what the bundle reader (bundle_read.c) and writer (bundle_write.c)
 * share, defined in bundle_common.c: the section names, the u64 size formulas, the message
 * formatter behind every error, and the value checks both sides apply. Not part of any
 * public API; the bnd_ prefix keeps these names out of the way of the core's users.
 */
#ifndef MDSREC_BUNDLE_INTERNAL_H
#define MDSREC_BUNDLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

/* Section names by kind (1..SEC_KIND_MAX; 0 is "unknown"). */
extern const char *const bnd_section_names[SEC_KIND_MAX + 1];

/* Float counts of ENCODER, POOL and GATE in u64: callers bound cfg first, so no overflow. */
uint64_t bnd_encoder_floats64(const mdsrec_config *cfg, uint32_t ch);
uint64_t bnd_pool_floats64(const mdsrec_config *cfg);
uint64_t bnd_gate_floats64(const mdsrec_config *cfg);

/* Appends s (or v in decimal) to out[0..cap) at *n, always NUL-terminated, truncating. */
void bnd_msg_put(char *out, size_t cap, size_t *n, const char *s);
void bnd_msg_put_u64(char *out, size_t cap, size_t *n, unsigned long long v);

/* Fills err (if not NULL) with code and a message formatted from fmt (%s %u %d %llu %zu and
   %%, no stdio), and returns code. */
mdsrec_status bnd_fail(mdsrec_error *err, mdsrec_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Index of the first non-finite float in f[0..n), or n. */
size_t bnd_first_nonfinite(const float *f, size_t n);

/* Length of the valid UTF-8 prefix of s[0..n): shortest forms, no surrogates, <= U+10FFFF. */
size_t bnd_utf8_valid_prefix(const uint8_t *s, size_t n);

/* Why k[0..len) cannot be an item key, or NULL when it can. */
const char *bnd_key_problem(const uint8_t *k, size_t len);

/* The config's limits (FORMAT.md) and its channel names; `what` starts the message. */
mdsrec_status bnd_config_check(const mdsrec_config *c, const char *what, mdsrec_error *err);
mdsrec_status bnd_names_check(const mdsrec_config *c, const char *what, mdsrec_error *err);

/* NEIGHBOURS_B (bundle_nbits.c). Validates a section of `size` bytes at p for n items and
   fills out's bit-packed fields; every entry is checked (index < N or padding at the tail,
   codes non-increasing). */
mdsrec_status bnd_nbits_read(const uint8_t *p, uint64_t size, uint32_t n, uint32_t ch, bundle_channel *out,
                             mdsrec_error *err);
/* Bytes of a NEIGHBOURS_B section. */
uint64_t bnd_nbits_bytes(uint32_t n_items, uint32_t k, uint32_t wbits);
/* Writes a NEIGHBOURS_B section (bnd_nbits_bytes, zeroed) from CSR rows strongest first,
   keeping at most `keep` a row (0: all; every kept row <= k). */
void bnd_nbits_put(uint8_t *p, uint32_t n, uint32_t k, uint32_t wbits, float w_min, float w_max, const uint32_t *row,
                   const uint32_t *index, const float *weight, uint32_t keep);

#endif
