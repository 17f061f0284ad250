/*
 * graph_content.h - a content-only relation graph (MODEL.md 1 with beta = 0), built here when
 * the dataset has no graph file for a channel or when `--no-behaviour` asks for one without
 * the behaviour signal: cosine similarity of the (L2-normalised) features, top k per item
 * (negative similarities dropped), symmetrised (A + A^T) / 2, normalised D^-1/2 A D^-1/2.
 */
#ifndef MDSREC_TRAIN_GRAPH_CONTENT_H
#define MDSREC_TRAIN_GRAPH_CONTENT_H

#include "data/prepared.h"
#include "graph/csr.h"

/* Builds the graph of the N x width feature rows f. 0, or -1 (out of memory, after cli_error). */
int graph_content(const float *f, uint32_t n, uint32_t width, uint32_t k, csr *out);

#endif
