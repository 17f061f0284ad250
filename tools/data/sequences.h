/*
 * sequences.h - interactions to visitor sequences (docs/DATASET.md, MODEL.md section 6).
 *
 * Per user, a stable sort by time (equal times keep file order); optionally the removal of
 * consecutive repeats (a a b -> a b) and an iterated k-core filter (users and items with
 * fewer than k interactions are removed until none is left); then users with fewer than
 * min_len items are dropped (the leave-one-out split needs 3, prepared.h). Items are the ones
 * left in a sequence, numbered in the order they first appear in the input; users keep input
 * order.
 */
#ifndef MDSREC_DATA_SEQUENCES_H
#define MDSREC_DATA_SEQUENCES_H

#include <stdint.h>

#include "data/interactions.h"
#include "data/prepared.h"

typedef struct {
    uint32_t kcore;   /* 0 or 1: no filter */
    int dedup;        /* remove consecutive repeats */
    uint32_t min_len; /* 3 unless a test says otherwise */
} seq_filters;

/* What the filters removed, for the summary. */
typedef struct {
    uint64_t raw_interactions;
    uint32_t raw_users, raw_items;
    uint64_t removed_repeats, removed_kcore;
    uint32_t dropped_short_users;
} seq_stats;

/* Builds s (a dataset without path or features) from x and fills st. 0, or -1 after
   cli_error (out of memory, or nothing left after filtering). */
int sequences_build(dataset *s, seq_stats *st, const interactions *x, const seq_filters *f);

#endif
