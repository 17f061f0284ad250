/*
 * plot.h - the training curve as a small standalone SVG: training loss (left axis) and
 * validation NDCG@10 (right axis) per epoch, the best epoch marked.
 */
#ifndef MDSREC_TRAIN_PLOT_H
#define MDSREC_TRAIN_PLOT_H

#include <stdio.h>

#include "checkpoint.h"

/* Writes the plot of st->hist to path atomically. 0, or -1 after cli_error. */
int plot_write(const char *path, const train_state *st, const char *title);

/* The same <svg> element to f (no file of its own): what `mdsrec report` inlines in its page.
   title is plain text; it is escaped here. */
void plot_svg(FILE *f, const train_state *st, const char *title);

#endif
