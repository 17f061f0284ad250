/*
 * utf8.h - the little Unicode the importers and the text featurizer need: strict UTF-8
 * decoding (validation with a byte offset), simple lower-casing of the Latin, Greek and
 * Cyrillic letters, and the letter-or-digit test that splits text into tokens.
 */
#ifndef MDSREC_DATA_UTF8_H
#define MDSREC_DATA_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point from s[0..n) (n >= 1). Returns the number of bytes used (1..4) and
   sets *cp, or returns 0 for an invalid sequence (overlong, surrogate, > U+10FFFF, truncated,
   stray continuation byte). */
int utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);

/* Checks s[0..n). Returns n if it is valid UTF-8, else the offset of the first bad byte. */
size_t utf8_check(const uint8_t *s, size_t n);

/* Encodes cp into out (room for 4 bytes); returns the byte count. */
int utf8_encode(uint32_t cp, uint8_t *out);

/* The lower-case form of cp for ASCII, Latin-1, Latin Extended-A, Greek (with tonos) and Cyrillic
   capitals; cp itself otherwise. */
uint32_t utf8_lower(uint32_t cp);

/* 1 if cp belongs inside a token: ASCII letters and digits, and every code point from
   U+00C0 up except the Latin-1 signs x and / (U+00D7, U+00F7), the general punctuation and
   symbol blocks (U+2000-U+2BFF), CJK punctuation (U+3000-U+303F), the fullwidth forms'
   punctuation and the specials. */
int utf8_is_word(uint32_t cp);

#endif
