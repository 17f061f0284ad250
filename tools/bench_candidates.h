/*
 * bench_candidates.h - the candidate-mode case of `mdsrec bench` (bench/NOTES.md, "Candidate
 * mode"): the same histories through the full scan and through mdsrec_recommend_candidates,
 * each mode on its own state (so neither meets the other's prefix cache: every call is a
 * fresh forward), timed side by side; with the candidate set's size, the recall of the full
 * scan's top-k and, where the histories come with their next item, both modes' hit rates.
 */
#ifndef MDSREC_BENCH_CANDIDATES_H
#define MDSREC_BENCH_CANDIDATES_H

#include <stdint.h>

#include "data/prepared.h"
#include "mdsrec.h"

/* Histories as bundle item indices: history h is item[off[h] .. off[h+1]), oldest first, and
   target[h] the item that came next (MDSREC_NONE when unknown). */
typedef struct {
    uint32_t n;
    uint64_t *off;
    uint32_t *item;
    uint32_t *target;
} bench_histories;

/* n histories of len items, history j (from 0) item t = gen(first + j, t, n_items); no
   targets. 0, or -1 after cli_error. */
int bench_histories_synthetic(uint32_t n, uint32_t first, uint32_t len, uint32_t n_items,
                              uint32_t (*gen)(uint32_t j, uint32_t t, uint32_t n), bench_histories *h);

/* The test case of each visitor of ds (docs/DATASET.md's split: the history before the last
   item, the last item the target), with ds's item keys looked up in the bundle: items the
   bundle lacks are dropped (a target it lacks: MDSREC_NONE); their count in *dropped.
   0, or -1 after cli_error. */
int bench_histories_data(const dataset *ds, const mdsrec_model *m, bench_histories *h, uint64_t *dropped);

void bench_histories_free(bench_histories *h);

/* qsort's comparator for doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* The q-quantile of sorted t[0..n), n >= 1: nearest rank, as the browser side computes it. */
double bench_quantile(const double *t, uint32_t n, double q);

/* The option rows of candidate mode's settings, shared by `recommend` and `bench`: c is an
   mdsrec_candidates, g an int set when any of them is given. */
#define BENCH_CANDIDATE_OPTS(c, g)                                                                          \
    {"--popular-head", OPT_U32, &(c).popular_head, "P", .help = "--candidates: the P most popular items join", \
     .given = &(g)},                                                                                       \
        {"--hops", OPT_U32, &(c).hops, "H", .help = "--candidates: steps through the neighbour lists", .min = 1, \
         .max = 2, .given = &(g)},                                                                         \
        {"--neighbours", OPT_U32, &(c).neighbours, "K",                                                         \
         .help = "--candidates: the strongest K of each neighbour list at each step (0: all stored)",          \
         .given = &(g)}

/* Runs the first `warmup` histories untimed in both modes, then every history timed in both;
   prints `,"candidates":{...}` (bench's JSON, docs/BENCH.md) to stdout. source names the
   histories there ("synthetic" or the data directory). 0, or -1 after cli_error. */
int bench_candidates(const mdsrec_model *m, const bench_histories *h, uint32_t warmup, uint32_t k,
                     const mdsrec_candidates *c, const char *source);

#endif /* MDSREC_BENCH_CANDIDATES_H */
