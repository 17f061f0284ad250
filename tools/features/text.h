/*
 * text.h - the text featurizer: item descriptions to dense, L2-normalised vectors.
 *
 * 1. Tokens: the text is decoded as UTF-8 and split at every code point that is not a letter
 *    or digit (utf8_is_word); letters are lower-cased (utf8_lower). Invalid bytes split too.
 * 2. Terms: every token (unigram) and every pair of adjacent tokens (bigram), hashed with
 *    FNV-1a into 2^buckets_log2 buckets; a second hash bit gives each term a sign, so that
 *    collisions cancel on average instead of adding up (the "hashing trick").
 * 3. TF-IDF: weight (1 + ln tf) * (ln((1 + N) / (1 + df)) + 1), df over the N documents;
 *    the sparse vector is L2-normalised.
 * 4. A seeded random projection to `width` dimensions: entry (bucket, j) of the projection
 *    is +-1/sqrt(width), drawn from splitmix64(seed, bucket), so the matrix is never stored;
 *    the result is L2-normalised again. A document without a token is an all-zero row.
 */
#ifndef MDSREC_FEATURES_TEXT_H
#define MDSREC_FEATURES_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t width;        /* default 256 */
    uint64_t seed;         /* default 1 */
    uint32_t buckets_log2; /* default 18 */
    int unigrams_only;     /* 1: no bigrams */
} text_params;

/* Calls fn(token, length, ctx) for each lower-cased token of s (NUL-terminated), in order.
   Returns the number of tokens. Tokens longer than 255 bytes are cut to 255. */
size_t text_tokenize(const char *s, void (*fn)(const char *tok, size_t len, void *ctx), void *ctx);

/* Featurizes docs[0..n) (NULL or "" = no text) into out[n * width]. 0, or -1 when out of
   memory (after cli_error). Shows a progress bar. */
int text_featurize(const char *const *docs, uint32_t n, const text_params *p, float *out);

#endif
