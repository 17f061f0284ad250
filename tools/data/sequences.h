/*
 * sequences.h - interactions to visitor sequences (docs/DATASET.md, MODEL.md section 6).
 *
 * Per user, a stable sort by time (equal times keep file order); optionally the removal of
 * consecutive repeats (a a b -> a b) and an iterated k-core filter (users and items with
 * fewer than k interactions are removed until none is left); then users with fewer than
 * min_len items are dropped (the leave-one-out split needs 3). Items are the ones left in a
 * sequence, numbered in the order they first appear in the input; users keep input order.
 */
#ifndef MDSREC_DATA_SEQUENCES_H
#define MDSREC_DATA_SEQUENCES_H

#include <stdint.h>

#include "data/interactions.h"

typedef struct {
    uint32_t kcore;   /* 0 or 1: no filter */
    int dedup;        /* remove consecutive repeats */
    uint32_t min_len; /* 3 unless a test says otherwise */
} seq_filters;

typedef struct {
    uint32_t n_users, n_items;
    char **user_keys, **item_keys; /* owned */
    uint64_t *off;                 /* n_users + 1 */
    uint32_t *seq;                 /* item indices, user u: seq[off[u] .. off[u+1]) */
    /* what the filters removed, for the summary */
    uint64_t raw_interactions;
    uint32_t raw_users, raw_items;
    uint64_t removed_repeats, removed_kcore;
    uint32_t dropped_short_users;
} seqset;

/* 0, or -1 after cli_error (out of memory, or nothing left after filtering). */
int sequences_build(seqset *s, const interactions *x, const seq_filters *f);
void seqset_free(seqset *s);

static inline uint64_t seq_len(const seqset *s, uint32_t u) { return s->off[u + 1] - s->off[u]; }
/* The training part of user u's sequence: its first n-2 items (MODEL.md section 6). */
static inline uint64_t seq_train_len(const seqset *s, uint32_t u) {
    uint64_t n = seq_len(s, u);
    return n > 2 ? n - 2 : 0;
}

#endif
