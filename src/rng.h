/*
 * rng.h - splitmix64, the one pseudo-random stream of the core and the native tool.
 *
 * Internal: the core includes it as "rng.h", the tools as "src/rng.h". A state is any
 * uint64_t (a seed); each call advances it and returns 64 well-mixed bits, the same on
 * every platform, so that dropout masks, initialisations, hashed text projections and
 * synthetic models are reproducible from their seeds.
 */
#ifndef MDSREC_RNG_H
#define MDSREC_RNG_H

#include <stdint.h>

static inline uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif /* MDSREC_RNG_H */
