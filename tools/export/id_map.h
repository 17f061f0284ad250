/*
 * id_map.h - a linear map from an item's modality rows to its id row, fit on the items the
 * model trained (ridge regression), for items that have no click yet (`mdsrec add-items`).
 *
 * The id row of a trained item is what its clicks taught the model; the modality rows are
 * what its features say, projected and propagated by the same model. On the training items
 * both are known, so   id ~ B^T [h_1; ...; h_M; 1]   is fit there by least squares with a
 * ridge penalty (the intercept not penalised), and a new item's id row is the map applied to
 * its modality rows: its expected id row given what it looks like and says. A mean of its
 * content neighbours' id rows (the other rules of additems.h) uses the raw features only.
 */
#ifndef MDSREC_EXPORT_ID_MAP_H
#define MDSREC_EXPORT_ID_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t n_in, d; /* n_in modality rows of d each in, one id row of d out */
    double *B;        /* (n_in * d + 1) x d, the last row the intercept */
    double ridge;     /* the penalty used (relative, as id_map_fit's) */
} id_map;

/* Fits the map on N items (on every stride-th of them past 20,000): X[m] is modality channel m's rows (N x d, row-major), Y the id
   rows (N x d). ridge is the penalty relative to the mean square of the inputs (scale-free);
   negative: chosen from 1e-4 .. 10 by the squared error on every tenth item of a fit on the
   others (then refit on all). 0, or -1 when out of memory (nothing to free then). */
int id_map_fit(id_map *map, const float *const *X, uint32_t n_in, size_t N, uint32_t d, const float *Y, double ridge);

/* The id rows of n items from their modality rows X[m] (n x d each) into out (n x d). */
void id_map_apply(const id_map *map, const float *const *X, size_t n, float *out);

void id_map_free(id_map *map);

#endif
