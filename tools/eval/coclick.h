/*
 * coclick.h - the co-click term (docs/TRAINING.md, models/FORMAT.md COCLICK): a trained model's scores
 * plus beta times the behaviour-graph weights of the visitor's recent clicks,
 *
 *     s(i) += beta * sum_{t < n} decay^(n-1-t) * w(h_t -> i)
 *
 * over the last max_hist history items h_t (the last one weighing 1), where w(h -> i) is item
 * h's top-k behaviour neighbour list (graph/behaviour.knn.csr, the id channel's neighbour lists
 * in a bundle). The core computes the same sum from the bundle (src/model.c); here it wraps a
 * trained model's eval_scorer for the trainer, `mdsrec eval` and the choice of beta.
 *
 * Why: the encoders generalise from every visitor, the graph remembers which items were
 * clicked next to which; on the data sets here the two add up (docs/TRAINING.md, "Co-click
 * term"). beta is chosen per model on validation (coclick_tune), never on test.
 *
 * The repeat term rides along (models/FORMAT.md REPEAT): every click of the history adds
 * `repeat` to its item's score, s(h_t) += repeat. A softmax-trained model cannot tell the items
 * a visitor has already seen from the others, and whether a store's visitors come back to them
 * (groceries) or never do (films rated once) is a property of the store: one weight, chosen on
 * validation with beta, says which. It matters wherever the history is ranked in (MODEL.md 6's
 * unmasked protocol, the core's MDSREC_INCLUDE_HISTORY).
 */
#ifndef MDSREC_EVAL_COCLICK_H
#define MDSREC_EVAL_COCLICK_H

#include "eval/evaluate.h"
#include "graph/csr.h"

/* The decay every model uses: chosen on validation across the four data sets (TRAINING.md). */
#define COCLICK_DECAY 0.3f

typedef struct {
    float beta;         /* 0: no co-click term */
    float decay;        /* in [0, 1] */
    uint32_t max_hist;  /* history items read (the model's max_len) */
    float repeat;       /* the repeat term: added once per click to the clicked item; 0: none */
} coclick_params;

/* scores (N) += the co-click term for one history (oldest first). */
void coclick_add(const csr *g, const coclick_params *p, const uint32_t *hist, uint32_t len, float *scores);

/* scores (n_items) += the repeat term for one history: p->repeat once per click, every click
   (not only the last max_hist); items >= n_items are skipped. */
void repeat_add(const coclick_params *p, const uint32_t *hist, uint32_t len, size_t n_items, float *scores);

/* A scorer: inner's scores plus both terms. g may be NULL (no behaviour graph: the repeat term
   alone). ctx lives as long as the returned scorer. */
typedef struct {
    eval_scorer inner;
    const csr *g;
    size_t n_items;
    coclick_params p;
} coclick_scorer;
void coclick_scorer_init(coclick_scorer *c, const eval_scorer *inner, const csr *g, size_t n_items,
                         const coclick_params *p, eval_scorer *out);

/* 1 when p adds anything to a model's scores. */
static inline int coclick_any(const coclick_params *p) { return p->beta > 0 || p->repeat != 0; }

/* The weights with the best validation NDCG@10 on ds, the mean of the two protocols (history
   not masked and masked: evaluate.h):
   - beta from the grid {0, 1/2, 1, 2, ..., 64} at decay COCLICK_DECAY (only where g is not
     NULL; else 0);
   - then, where tune_repeat, the repeat weight from {0, -1/2, -1, ..., -64}, or where none of
     those beats 0, from {1/2, 1, ..., 64}; and beta chosen again at that weight.
   Each grid's first best wins a tie, so a weight stays 0 unless its term helps. *ndcg0 and
   *ndcg get that mean without either term and with the chosen ones. 0, or -1 on out of memory. */
int coclick_tune(const dataset *ds, const eval_scorer *inner, const csr *g, uint32_t max_hist, int tune_repeat,
                 int threads, coclick_params *out, double *ndcg0, double *ndcg);

/* Reads DIR/behaviour.knn.csr into g: 1 when read, 0 when the file does not exist (a model
   without a behaviour graph has no term), -1 after cli_error (a corrupt file). */
int coclick_graph_read(const char *graph_dir, uint32_t n_items, csr *g);

#endif
