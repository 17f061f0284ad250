/*
 * metrics.h - the ranking metrics of MODEL.md 6. Full ranking over all N items:
 *   rank = 1 + #{items scoring strictly higher than the target}
 *            + #{OTHER items scoring exactly the target's score}   (ties count against)
 * HR@k = [rank <= k], NDCG@k = [rank <= k] / log2(rank + 1), MRR = 1 / rank, averaged over
 * the visitors evaluated; k in {5, 10, 20}. A NaN target score ranks last (N); NaN scores of
 * other items never count as higher.
 */
#ifndef MDSREC_EVAL_METRICS_H
#define MDSREC_EVAL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_NK 3
extern const uint32_t metrics_k[METRICS_NK]; /* 5, 10, 20 */

/* The rank of item `target` among scores[0..n). */
uint32_t metrics_rank(const float *scores, size_t n, uint32_t target);

typedef struct {
    double hr[METRICS_NK], ndcg[METRICS_NK], mrr;
    uint64_t count;
} metrics;

/* Accumulates one rank (sums; metrics_mean divides). */
void metrics_add(metrics *m, uint32_t rank);
/* Adds the sums of b to a. */
void metrics_merge(metrics *a, const metrics *b);
/* The means: every field divided by count (count kept). */
metrics metrics_mean(const metrics *sums);

/* "HR@5 ... MRR" header and a row of a table, to f. */
#include <stdio.h>
void metrics_print_header(FILE *f, const char *label_title);
void metrics_print_row(FILE *f, const char *label, const metrics *mean);

/* The metrics as a JSON object {"HR@5", ..., "NDCG@20", "MRR", "users"} (the means as given),
   the form of train.json and `mdsrec eval --json`. NULL when out of memory. */
struct cJSON;
struct cJSON *metrics_to_json(const metrics *m);

#endif
