/* fuzz_npy.c - libFuzzer harness for the .npy reader (matrix_read_npy, tools/data/matrix.c):
   any bytes as a .npy file. On success the shape must match the data and every value must
   be readable (ASan checks the bounds). */
#include <string.h>

#include "data/matrix.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    raw_matrix m;
    memset(&m, 0x55, sizeof m);
    if (matrix_read_npy(fuzz_file(data, size, ".npy"), &m) != 0) {
        EXPECT(m.x == NULL && m.keys == NULL && m.rows == 0);
        return 0;
    }
    EXPECT(m.rows >= 1 && m.width >= 1 && m.x != NULL && m.keys == NULL);
    /* each f32 (4 bytes) or f16 (2 bytes) value came from the file */
    EXPECT((uint64_t)m.rows * m.width * 2 <= size);
    uint32_t bits = 0;
    for (uint64_t i = 0; i < (uint64_t)m.rows * m.width; i++) {
        uint32_t u;
        memcpy(&u, &m.x[i], 4);
        bits ^= u;
    }
    (void)bits;
    raw_matrix_free(&m);
    return 0;
}
