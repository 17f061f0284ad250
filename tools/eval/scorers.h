/*
 * scorers.h - the scorers evaluate() ranks with that need no trained model: an exported
 * bundle through the core's mdsrec_score_all (the code the browser runs), and the two
 * baselines `pop` and `itemknn`, which read only the dataset. A trained model's own scorer
 * is train/model_scorer.h (it needs the trainer's forward).
 */
#ifndef MDSREC_EVAL_SCORERS_H
#define MDSREC_EVAL_SCORERS_H

#include "eval/evaluate.h"
#include "graph/csr.h"
#include "mdsrec.h"
#include "parallel.h"

/* ---- a bundle through the core */
typedef struct {
    const mdsrec_model *model;
    mdsrec_state *state[PARALLEL_MAX_THREADS];
    int threads;
} bundle_scorer;
int bundle_scorer_init(bundle_scorer *b, const mdsrec_model *model, int threads, eval_scorer *out);
void bundle_scorer_free(bundle_scorer *b);

/* ---- pop: the training-part count of each item (ties count against, as every tie) */
typedef struct {
    float *count;
    uint32_t n;
} pop_scorer;
int pop_scorer_init(pop_scorer *p, const dataset *ds, eval_scorer *out);
/* The same with the counts of another dataset's training parts, matched by item key: an item
   of ds that src lacks counts 0 (a cold-start popularity: items added after src's log have
   no click yet). 0, or -1 after cli_error. */
int pop_scorer_init_from(pop_scorer *p, const dataset *ds, const dataset *src, eval_scorer *out);
void pop_scorer_free(pop_scorer *p);

/* ---- itemknn: item-item cosine of co-occurrence in the training parts (sequences as sets
   of users: sim(i,j) = c(i,j) / sqrt(cnt_i cnt_j)), the top k neighbours kept per item;
   score(i) = sum over the last max_len history items h of sim(h, i). */
typedef struct {
    csr sim;
    uint32_t max_len;
} knn_scorer;
int knn_scorer_init(knn_scorer *k, const dataset *ds, uint32_t k_nb, uint32_t max_len, eval_scorer *out);
void knn_scorer_free(knn_scorer *k);

/* ---- contentknn: the same scoring over content neighbours: sim(i,j) = cosine of the items'
   features (every feature matrix of ds, each row unit-length, concatenated: the mean of the
   per-feature cosines), top k_nb per item (knn.h, beta 0). Needs no click on i, so it ranks
   items no visitor has seen (the cold-start baseline). Loads ds's features if not loaded;
   -1 after cli_error when ds has none. */
int content_knn_scorer_init(knn_scorer *k, dataset *ds, uint32_t k_nb, uint32_t max_len, eval_scorer *out);

#endif
