/*
 * candidates.h - the candidate set of mdsrec_recommend_candidates (mdsrec.h): the popular
 * head and the items the neighbour lists reach from the history, marked in a bitmap of N
 * bits (32 to a word, item i at bit i % 32 of word i / 32) so that duplicates cost nothing
 * and the scorer reads the set back in increasing index order, the full scan's order.
 */
#ifndef MDSREC_CANDIDATES_H
#define MDSREC_CANDIDATES_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "mdsrec.h"

/* Words of a candidate bitmap for n items. */
static inline size_t candidates_words(uint32_t n_items) { return ((size_t)n_items + 31) / 32; }

/* 1 when some channel of v has neighbour lists (else candidate mode falls back to the full scan). */
int candidates_available(const bundle_view *v);

/* Marks in set the candidates of the n history items hist[] (each < N) under o (hops 0..2:
   the caller checked it), with the history items themselves when include_history. set and
   front hold candidates_words(N) words; set may hold earlier marks, front must be all zero
   and is all zero again on return. Returns how many items were newly marked. Reads the
   neighbour lists only inside their sections (bundle_read proved every row). */
uint32_t candidates_mark(const bundle_view *v, const uint32_t *hist, size_t n, int include_history,
                         const mdsrec_candidates *o, uint32_t *set, uint32_t *front);

#endif /* MDSREC_CANDIDATES_H */
