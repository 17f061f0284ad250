/*
 * csr.h - sparse item x item matrices in compressed sparse rows, and the `.csr` file of
 * docs/DATASET.md: little-endian u32 magic 0x52534344 ("DCSR"), u32 n_rows, u32 nnz,
 * u32 reserved (0), u32 row_ptr[n_rows + 1], u32 col[nnz], f32 weight[nnz].
 */
#ifndef MDSREC_GRAPH_CSR_H
#define MDSREC_GRAPH_CSR_H

#include <stddef.h>
#include <stdint.h>

#define CSR_MAGIC 0x52534344u

typedef struct {
    uint32_t n_rows, nnz;
    uint32_t *row_ptr; /* n_rows + 1 */
    uint32_t *col;     /* nnz */
    float *w;          /* nnz */
} csr;

/* Allocates an empty matrix with room for nnz entries (row_ptr zeroed). -1 when out of memory. */
int csr_alloc(csr *m, uint32_t n_rows, uint32_t nnz);
void csr_free(csr *m);

/* Writes m to path atomically. 0, or -1 after cli_error. */
int csr_write(const char *path, const csr *m);
/* Reads and validates a .csr file (magic, sizes, row_ptr monotone, col < n_rows).
   0, or -1 after cli_error naming the file and byte offset. */
int csr_read(const char *path, csr *m);
/* csr_read, and the matrix must have n_rows rows (the dataset's items). 0, or -1 after
   cli_error naming the file. */
int csr_read_rows(const char *path, uint32_t n_rows, csr *m);

/* out (n_rows, d) = A x (n_rows, d); out must not alias x. */
void csr_spmm(const csr *a, const float *x, float *out, size_t d);

/* Row r of csr_spmm alone: out row r = sum over row r's entries of w x[col], in entry order. */
void csr_spmm_row(const csr *a, uint32_t r, const float *x, float *out, size_t d);

/* adj = D^-1/2 ((K + K^T) / 2) D^-1/2 where K is the (non-negative) top-k matrix knn and D
   the row sums of (K + K^T) / 2. Rows of adj are sorted by column; an item without any
   edge has an empty row. 0, or -1 when out of memory. MODEL.md section 1. */
int csr_symmetric_normalise(const csr *knn, csr *adj);

#endif
