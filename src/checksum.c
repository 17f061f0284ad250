/* checksum.c - checksum64 (models/FORMAT.md): 4 FNV-style lanes over 64-bit words. Every
   step is a bijection of the lane, so a change confined to one word is always caught. */
#include "checksum.h"

#include <string.h>

#define CK_P 0x00000100000001B3ull
#define CK_O 0xCBF29CE484222325ull

static uint64_t load64(const unsigned char *p) {
    /* little-endian regardless of the host, any alignment */
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

uint64_t checksum64(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h[4] = {CK_O ^ 0, CK_O ^ 1, CK_O ^ 2, CK_O ^ 3};
    size_t blocks = len / 32;
    for (size_t b = 0; b < blocks; b++, p += 32) {
        h[0] = (h[0] ^ load64(p)) * CK_P;
        h[1] = (h[1] ^ load64(p + 8)) * CK_P;
        h[2] = (h[2] ^ load64(p + 16)) * CK_P;
        h[3] = (h[3] ^ load64(p + 24)) * CK_P;
    }
    size_t tail = len % 32;
    if (tail) {
        unsigned char last[32] = {0};
        memcpy(last, p, tail);
        for (size_t t = 0; t * 8 < tail; t++) h[t] = (h[t] ^ load64(last + 8 * t)) * CK_P;
    }
    uint64_t r = CK_O;
    for (int j = 0; j < 4; j++) r = (r ^ h[j]) * CK_P;
    r = (r ^ (uint64_t)len) * CK_P;
    return r ^ (r >> 32);
}
