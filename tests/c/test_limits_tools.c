/* test_limits_tools.c - the tool readers' limits (docs/ERRORS.md, section 2) at and past their
   edge: .npy shapes whose element or byte counts would overflow 32 or 64 bits, and sizes that
   disagree with the file by a little or by 2^64. Each must be refused with a message, never
   wrap into a small allocation. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/matrix.h"
#include "test_data_helpers.h"

/* Writes a v1 .npy with this header dict and `data` bytes of zeros; returns the path. */
static const char *npy(const char *name, const char *dict, size_t data) {
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", td_dir("limits_npy"), name);
    FILE *f = fopen(path, "wb");
    if (!f) return path;
    size_t hlen = strlen(dict);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc((int)(hlen & 0xFF), f), fputc((int)(hlen >> 8), f);
    fwrite(dict, 1, hlen, f);
    for (size_t i = 0; i < data; i++) fputc(0, f);
    fclose(f);
    return path;
}

static void npy_shapes(void) {
    raw_matrix m;
    /* rows past uint32, width past 2^20, and a product that wraps 64 bits */
    CHECK(matrix_read_npy(npy("rows.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 1), }", 4), &m) == -1);
    CHECK(matrix_read_npy(npy("width.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1048577), }", 4), &m) == -1);
    CHECK(matrix_read_npy(npy("huge.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967295, 1048576), }", 16), &m) == -1);
    CHECK(matrix_read_npy(npy("neg.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }", 8), &m) == -1);
    CHECK(matrix_read_npy(npy("over.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 2), }", 8), &m) == -1);
    /* the widest accepted row, and one byte short of it */
    CHECK(matrix_read_npy(npy("wide.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 1048576), }", 2u << 20), &m) == 0 &&
          m.rows == 1 && m.width == 1048576);
    raw_matrix_free(&m);
    CHECK(matrix_read_npy(npy("short.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 1048576), }", (2u << 20) - 1), &m) == -1);
    /* 3 dimensions, 1 dimension, a 0 */
    CHECK(matrix_read_npy(npy("3d.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1), }", 4), &m) == -1);
    CHECK(matrix_read_npy(npy("1d.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 12), &m) == -1);
    CHECK(matrix_read_npy(npy("zero.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 0), &m) == -1);
}

int main(void) {
    npy_shapes();
    return check_done("test_limits_tools");
}
