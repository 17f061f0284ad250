/* csr.c - CSR matrices, their file format and the symmetric normalisation (see csr.h). */
#include "graph/csr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int csr_alloc(csr *m, uint32_t n_rows, uint32_t nnz) {
    memset(m, 0, sizeof *m);
    m->n_rows = n_rows;
    m->nnz = nnz;
    m->row_ptr = calloc((size_t)n_rows + 1, sizeof *m->row_ptr);
    m->col = malloc((nnz ? nnz : 1) * sizeof *m->col);
    m->w = malloc((nnz ? nnz : 1) * sizeof *m->w);
    if (!m->row_ptr || !m->col || !m->w) {
        csr_free(m);
        return -1;
    }
    return 0;
}

void csr_free(csr *m) {
    free(m->row_ptr);
    free(m->col);
    free(m->w);
    memset(m, 0, sizeof *m);
}

int csr_write(const char *path, const csr *m) {
    cli_out o;
    if (cli_out_open(&o, path) != 0) return -1;
    uint32_t hdr[4] = {CSR_MAGIC, m->n_rows, m->nnz, 0};
    /* Host order is little-endian on every platform the tool is built for. */
    int ok = fwrite(hdr, sizeof hdr, 1, o.f) == 1 &&
             fwrite(m->row_ptr, sizeof *m->row_ptr, (size_t)m->n_rows + 1, o.f) == (size_t)m->n_rows + 1 &&
             (!m->nnz || (fwrite(m->col, sizeof *m->col, m->nnz, o.f) == m->nnz &&
                          fwrite(m->w, sizeof *m->w, m->nnz, o.f) == m->nnz));
    if (!ok) {
        cli_error("%s: write failed", path);
        cli_out_abort(&o);
        return -1;
    }
    return cli_out_commit(&o);
}

int csr_read(const char *path, csr *m) {
    memset(m, 0, sizeof *m);
    size_t n;
    uint8_t *buf = cli_read_file(path, &n);
    if (!buf) return -1;
    uint32_t hdr[4];
    int rc = -1;
    if (n < sizeof hdr) {
        cli_error("%s: %zu bytes, shorter than the 16-byte header", path, n);
        goto done;
    }
    memcpy(hdr, buf, sizeof hdr);
    if (hdr[0] != CSR_MAGIC) {
        cli_error("%s: byte offset 0: expected the magic \"DCSR\"", path);
        goto done;
    }
    size_t want = 16 + 4 * ((size_t)hdr[1] + 1) + 8 * (size_t)hdr[2];
    if (n != want) {
        cli_error("%s: %zu bytes, expected %zu for %u rows and %u entries", path, n, want, hdr[1], hdr[2]);
        goto done;
    }
    if (csr_alloc(m, hdr[1], hdr[2]) != 0) {
        cli_error("%s: out of memory", path);
        goto done;
    }
    memcpy(m->row_ptr, buf + 16, 4 * ((size_t)m->n_rows + 1));
    memcpy(m->col, buf + 16 + 4 * ((size_t)m->n_rows + 1), 4 * (size_t)m->nnz);
    memcpy(m->w, buf + 16 + 4 * ((size_t)m->n_rows + 1) + 4 * (size_t)m->nnz, 4 * (size_t)m->nnz);
    if (m->row_ptr[0] != 0 || m->row_ptr[m->n_rows] != m->nnz) {
        cli_error("%s: byte offset 16: row_ptr must start at 0 and end at nnz", path);
        goto done;
    }
    for (uint32_t i = 0; i < m->n_rows; i++)
        if (m->row_ptr[i + 1] < m->row_ptr[i]) {
            cli_error("%s: byte offset %zu: row_ptr decreases at row %u", path, 16 + 4 * (size_t)(i + 1), i);
            goto done;
        }
    for (uint32_t k = 0; k < m->nnz; k++)
        if (m->col[k] >= m->n_rows) {
            cli_error("%s: byte offset %zu: column %u out of range", path, 16 + 4 * ((size_t)m->n_rows + 1 + k),
                      m->col[k]);
            goto done;
        }
    rc = 0;
done:
    if (rc != 0) csr_free(m);
    free(buf);
    return rc;
}

typedef struct {
    uint64_t key; /* row << 32 | col */
    float w;
} triple;

static int cmp_triple(const void *a, const void *b) {
    uint64_t x = ((const triple *)a)->key, y = ((const triple *)b)->key;
    return x < y ? -1 : x > y;
}

int csr_symmetric_normalise(const csr *knn, csr *adj) {
    memset(adj, 0, sizeof *adj);
    size_t nt = 2 * (size_t)knn->nnz;
    triple *t = malloc((nt ? nt : 1) * sizeof *t);
    double *deg = calloc((size_t)knn->n_rows + 1, sizeof *deg);
    int rc = -1;
    if (!t || !deg) goto done;
    size_t k = 0;
    for (uint32_t i = 0; i < knn->n_rows; i++)
        for (uint32_t e = knn->row_ptr[i]; e < knn->row_ptr[i + 1]; e++) {
            uint32_t j = knn->col[e];
            float w = knn->w[e] * 0.5f;
            t[k++] = (triple){(uint64_t)i << 32 | j, w};
            t[k++] = (triple){(uint64_t)j << 32 | i, w};
        }
    qsort(t, nt, sizeof *t, cmp_triple);
    /* Merge equal (row, col) pairs: an edge both items chose holds (w_ij + w_ji) / 2. */
    size_t u = 0;
    for (size_t a = 0; a < nt; a++) {
        if (u && t[u - 1].key == t[a].key) {
            t[u - 1].w += t[a].w;
        } else {
            t[u++] = t[a];
        }
    }
    if (csr_alloc(adj, knn->n_rows, (uint32_t)u) != 0) goto done;
    for (size_t a = 0; a < u; a++) {
        uint32_t i = (uint32_t)(t[a].key >> 32);
        deg[i] += t[a].w;
        adj->row_ptr[i + 1]++;
    }
    for (uint32_t i = 0; i < knn->n_rows; i++) adj->row_ptr[i + 1] += adj->row_ptr[i];
    for (size_t a = 0; a < u; a++) {
        uint32_t i = (uint32_t)(t[a].key >> 32), j = (uint32_t)t[a].key;
        adj->col[a] = j;
        adj->w[a] = (float)(t[a].w / sqrt(deg[i] * deg[j]));
    }
    rc = 0;
done:
    free(t);
    free(deg);
    return rc;
}

int csr_read_rows(const char *path, uint32_t n_rows, csr *m) {
    if (csr_read(path, m) != 0) return -1;
    if (m->n_rows != n_rows) {
        cli_error("%s: %u rows, the dataset has %u items", path, m->n_rows, n_rows);
        csr_free(m);
        return -1;
    }
    return 0;
}

void csr_spmm_row(const csr *a, uint32_t r, const float *x, float *out, size_t d) {
    float *o = out + (size_t)r * d;
    memset(o, 0, d * sizeof(float));
    for (uint32_t e = a->row_ptr[r]; e < a->row_ptr[r + 1]; e++) {
        const float *xr = x + (size_t)a->col[e] * d;
        float w = a->w[e];
        for (size_t j = 0; j < d; j++) o[j] += w * xr[j];
    }
}

void csr_spmm(const csr *a, const float *x, float *out, size_t d) {
    for (uint32_t r = 0; r < a->n_rows; r++) csr_spmm_row(a, r, x, out, d);
}
