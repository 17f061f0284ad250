/*
 * loop.h - the training loop: windows of the training parts, shuffled batches, Adam, an
 * evaluation on the validation targets after every epoch, early stopping on validation
 * NDCG@10, checkpoints, the progress line and the SVG plot (docs/TRAINING.md).
 *
 * Files written in the output directory (each atomically):
 *   model.ckpt    the best epoch's parameters          state.ckpt   the last epoch + Adam (resume)
 *   train.svg     loss and valid NDCG@10 per epoch      train.json   the epochs and final metrics
 */
#ifndef MDSREC_TRAIN_LOOP_H
#define MDSREC_TRAIN_LOOP_H

#include "checkpoint.h"
#include "data/prepared.h"
#include "eval/coclick.h"
#include "eval/metrics.h"
#include "graph/csr.h"
#include "step.h"
#include "tmodel.h"

typedef struct {
    const char *out_dir;
    int threads;
    int resume;     /* continue from out_dir/state.ckpt when it exists */
    int quiet;      /* no progress lines */
    int epochs_given, patience_given; /* resuming: st->epochs / st->patience replace the saved ones */
    double time_budget; /* > 0: no epoch starts after this many seconds of this session's training;
                           the best epoch so far is the model (a later --resume goes on) */
    int coclick_off;    /* 1: no co-click term (eval/coclick.h); else its beta is chosen on
                           validation after the last epoch, when the data has a behaviour graph */
    int repeat_off;     /* 1: no repeat term (eval/coclick.h); else its weight is chosen with beta */
} train_opts;

/* The graph directory of st: --graph-dir, else <data>/graph; -1 for a text file without
   --graph-dir (it has none). out gets the path on 0. */
int train_graph_dir(const train_state *st, int text_format, char *out, size_t cap);

/* The behaviour graph the co-click term reads (eval/coclick.h: <graph dir>/behaviour.knn.csr)
   into g: 1 when read, 0 when the data has none, -1 after cli_error. */
int train_coclick_graph(const train_state *st, const dataset *ds, csr *g);

/* st's stored co-click and repeat terms (checkpoint.h) as eval/coclick.h's parameters; the
   repeat weight 0 with no_repeat. */
coclick_params train_terms(const train_state *st, int no_repeat);

/* Wraps the scorer *sc, in place, in st's stored terms (train_terms), as train.json's numbers
   have them: the behaviour graph is read into *cg (csr_free it after) when the co-click term
   has a weight, and the term is left out where the data has no graph; *cs holds the wrapper and
   must live as long as *sc. Nothing to wrap: *sc unchanged. 0, or -1 after cli_error. */
int train_terms_scorer(const train_state *st, const dataset *ds, int no_repeat, eval_scorer *sc, csr *cg,
                       coclick_scorer *cs);

/* Loads st->data (items, sequences, features) and binds the model's inputs (graphs from
   st->graph_dir or <data>/graph). 0, or -1 after cli_error. */
int train_open_data(const train_state *st, dataset *ds, tm_inputs *in);

/* Trains st->spec as st describes (st->epoch epochs already done when resuming), then
   evaluates the best epoch on validation and test into *valid and *test (history not masked,
   MODEL.md 6) and, if masked_test is not NULL, test with the history masked; train.json gets
   both protocols. 0, or -1 after cli_error. */
int train_run(train_state *st, const train_opts *o, metrics *valid, metrics *test, metrics *masked_test);

/* Windows of user u's training part i_1..i_m (m = ds_train_len): inputs i_1..i_{m-1}, targets
   i_2..i_m. With all == 0 only the last window of at most L inputs; with all == 1 the part is
   cut into consecutive windows of L from the end (every target once). Writes up to `cap`
   windows to w and returns how many the sequence yields (may exceed cap). */
size_t train_windows(const dataset *ds, uint32_t u, uint32_t L, int all, step_window *w, size_t cap);

#endif
