/*
 * dist.h - data-parallel training over MPI (docs/DISTRIBUTED.md): every rank holds the whole
 * model, takes its share of each batch's positions, and the gradients are summed across ranks
 * before the (identical, replicated) Adam step. Rank 0 is the lead: it alone reads the resume
 * checkpoint, validates, writes files and talks.
 *
 * Built without MPI (MDSREC_HAVE_MPI undefined) or started without mpirun, there is one rank
 * and every function below is a no-op that succeeds, so the loop reads the same either way.
 * MPI is joined only when the environment says a launcher started this process
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK); a plain `mdsrec train` never touches MPI.
 */
#ifndef MDSREC_TRAIN_DIST_H
#define MDSREC_TRAIN_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "adam.h"
#include "checkpoint.h"
#include "step.h"

/* Joins the MPI job when started by a launcher. 0, or -1 after cli_error: MPI_Init failed, or
   this build has no MPI but a launcher started several copies (each would train alone and
   overwrite the others' files). Call once, before any other dist_ function. */
int dist_init(void);

/* Leaves the MPI job (MPI_Finalize) after a successful run; a no-op with one rank. */
void dist_finish(void);

/* Ends every rank at once with exit code `code`: a rank that fails alone would leave the others
   waiting in a collective forever. Returns (does nothing) with one rank. */
void dist_abort(int code);

/* This process's rank (0 = the lead) and the number of ranks (1 without MPI). */
int dist_rank(void);
int dist_size(void);

/* Ranks started on this machine (OMPI_COMM_WORLD_LOCAL_SIZE; 1 if unknown): the default
   thread count divides the cores among them. */
int dist_local_size(void);

/* In place: x[i] = the sum of x[i] over all ranks, the same bits on every rank. 0, or -1
   after cli_error. */
int dist_sum_floats(float *x, size_t n);
int dist_sum_doubles(double *x, size_t n);

/* Wall seconds this rank has spent in dist_sum_floats (the gradient sum, including the wait
   for the slowest rank) since the last call; 0 with one rank. */
double dist_sum_seconds(void);

/* bytes of buf sent from rank 0 to every other rank. 0, or -1 after cli_error. */
int dist_bcast(void *buf, size_t bytes);

/* 1 when every rank passed the same v, else 0 (1 with one rank). */
int dist_agree(uint64_t v);

/* This rank's windows [*lo, *hi) of a batch of `count` windows: contiguous, in rank order, cut
   where the running count of positions (w[i].n) crosses each rank's equal share. */
void dist_batch_range(const step_window *w, size_t count, size_t *lo, size_t *hi);

/* --resume across ranks: *found says whether rank 0 read a checkpoint into st, *params and opt;
   on return every rank has the lead's *found, and when set, its st, *params (malloc'd here on
   the other ranks) and opt (moments included, when the lead's had them). 0, or -1 after
   cli_error (memory). */
int dist_share_resume(int *found, train_state *st, float **params, adam *opt);

#endif
