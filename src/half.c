/* half.c - IEEE binary16 conversions (see half.h). */
#include "half.h"

#include <string.h>

static float bits_to_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t float_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    if (exp == 0x1F) return bits_to_float(sign | 0x7F800000u | (man << 13)); /* Inf, NaN */
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24, exact in binary32 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return bits_to_float(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t float_to_half(float f) {
    uint32_t u = float_to_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t abs = u & 0x7FFFFFFFu;
    if (abs >= 0x7F800000u) /* Inf or NaN (keep NaN quiet and non-zero) */
        return (uint16_t)(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u : 0));
    if (abs >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* rounds past 65504: Inf */
    if (abs < 0x38800000u) {
        /* below the smallest normal half: round to a subnormal (or zero), nearest even */
        if (abs < 0x33000000u) return sign; /* below half the smallest subnormal */
        uint32_t exp = abs >> 23, man = (abs & 0x7FFFFFu) | 0x800000u;
        uint32_t shift = 126 - exp; /* 14..24 */
        uint32_t q = man >> shift, rem = man & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    /* normal: rebias the exponent, round the mantissa to 10 bits, nearest even */
    uint32_t v = abs - 0x38000000u; /* exponent 127 -> 15 */
    uint32_t q = v >> 13, rem = v & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++;
    return (uint16_t)(sign | q);
}
