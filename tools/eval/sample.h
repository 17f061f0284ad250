/*
 * sample.h - a seeded sample of a dataset's visitors, for evaluating a log too large to
 * rank every visitor against every item (full ranking costs visitors x items; docs/SCALE.md).
 *
 * The sample is a view: a dataset holding copies of the chosen visitors' sequences (in their
 * order in ds), n_items and item_keys shared with ds (not owned), no user keys, no features.
 * It serves evaluate()/evaluate_protocols(), which read only the sequences; free it with
 * eval_sample_free, never dataset_free. Each visitor is chosen with the same probability
 * (selection sampling, exactly n of them), the same for the same seed.
 */
#ifndef MDSREC_EVAL_SAMPLE_H
#define MDSREC_EVAL_SAMPLE_H

#include <stdint.h>

#include "data/prepared.h"

/* n visitors of ds into *view (all of them, copied, when n >= ds->n_users). 0, or -1 after
   cli_error (out of memory). */
int eval_sample_users(const dataset *ds, uint32_t n, uint64_t seed, dataset *view);
void eval_sample_free(dataset *view);

#endif
