/*
 * cooccur.h - the behaviour signal of MODEL.md section 1, from the TRAINING part of each
 * sequence only (ds_train_len items, prepared.h; the last two are the validation and test
 * targets):
 *   b(i,j)  = the number of pairs of positions p != q with |p - q| <= window holding i and j
 *             (i != j), counted in both directions, so b is symmetric;
 *   b~(i,j) = b(i,j) / sqrt(cnt_i * cnt_j), cnt_i = occurrences of i in training parts.
 */
#ifndef MDSREC_GRAPH_COOCCUR_H
#define MDSREC_GRAPH_COOCCUR_H

#include "data/sequences.h"
#include "graph/csr.h"

/* Builds b~ as a symmetric CSR over s->n_items, rows sorted by column. 0, or -1 after
   cli_error (out of memory). */
int cooccur_build(const dataset *s, uint32_t window, csr *bt);

#endif
