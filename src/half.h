/* half.h - IEEE binary16 <-> binary32 conversion, exact and branch-light. */
#ifndef MDSREC_HALF_H
#define MDSREC_HALF_H
#include <stdint.h>

/* binary16 bits -> float (exact, subnormals, Inf and NaN included). */
float half_to_float(uint16_t h);
/* float -> binary16 bits, round to nearest even; overflow gives Inf. */
uint16_t float_to_half(float f);

#endif
