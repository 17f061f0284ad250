/*
 * bundle_weights.c - the dense weights' storage types of format v2 (models/FORMAT.md,
 * "Weight dtype"): f32, f16, and Q8 blocks (an f32 scale and 32 i8 codes). The reader checks
 * a stored array with bundle_weights_check, mdsrec_open decodes it once to f32 with
 * bundle_weights_decode_all, the writer encodes with bundle_weights_encode.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"
#include "half.h"

#define Q8_BLOCK_BYTES (4 + BUNDLE_Q8_BLOCK)
/* the largest scale whose 127 multiple stays finite */
#define Q8_SCALE_MAX (FLT_MAX / 127.0f)

static float rdf32(const uint8_t *p) {
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void wrf32(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(u >> (8 * i));
}

uint64_t bundle_weights_bytes(uint32_t wd, uint64_t n) {
    switch (wd) {
    case MDSREC_WEIGHTS_F32: return 4 * n;
    case MDSREC_WEIGHTS_F16: return 2 * n;
    case MDSREC_WEIGHTS_Q8: return (n + BUNDLE_Q8_BLOCK - 1) / BUNDLE_Q8_BLOCK * Q8_BLOCK_BYTES;
    default: return 0;
    }
}

uint64_t bundle_weights_check(uint32_t wd, const uint8_t *raw, uint64_t n) {
    if (wd == MDSREC_WEIGHTS_F32) {
        for (uint64_t i = 0; i < n; i++)
            if (!isfinite(rdf32(raw + 4 * i))) return i;
    } else if (wd == MDSREC_WEIGHTS_F16) {
        for (uint64_t i = 0; i < n; i++)
            if ((raw[2 * i + 1] & 0x7C) == 0x7C) return i; /* exponent all ones: Inf or NaN */
    } else {
        for (uint64_t b = 0; b * BUNDLE_Q8_BLOCK < n; b++) {
            const uint8_t *blk = raw + b * Q8_BLOCK_BYTES;
            float s = rdf32(blk);
            /* NaN fails the comparison too */
            if (!(s >= 0.0f && s <= Q8_SCALE_MAX)) return b * BUNDLE_Q8_BLOCK;
            uint64_t used = n - b * BUNDLE_Q8_BLOCK;
            for (uint64_t j = used; j < BUNDLE_Q8_BLOCK; j++)
                if (blk[4 + j]) return b * BUNDLE_Q8_BLOCK;
        }
    }
    return n;
}

void bundle_weights_decode(uint32_t wd, const uint8_t *raw, size_t n, float *out) {
    if (wd == MDSREC_WEIGHTS_F32) {
        for (size_t i = 0; i < n; i++) out[i] = rdf32(raw + 4 * i);
    } else if (wd == MDSREC_WEIGHTS_F16) {
        for (size_t i = 0; i < n; i++) out[i] = half_to_float((uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8));
    } else {
        for (size_t i = 0; i < n; i++) {
            const uint8_t *blk = raw + i / BUNDLE_Q8_BLOCK * Q8_BLOCK_BYTES;
            out[i] = rdf32(blk) * (float)(int8_t)blk[4 + i % BUNDLE_Q8_BLOCK];
        }
    }
}

int bundle_weights_encode(uint32_t wd, const float *x, size_t n, uint8_t *out) {
    if (wd == MDSREC_WEIGHTS_F32) {
        for (size_t i = 0; i < n; i++) wrf32(out + 4 * i, x[i]);
    } else if (wd == MDSREC_WEIGHTS_F16) {
        for (size_t i = 0; i < n; i++) {
            uint16_t h = float_to_half(x[i]);
            if ((h & 0x7C00u) == 0x7C00u) return -1;
            out[2 * i] = (uint8_t)h, out[2 * i + 1] = (uint8_t)(h >> 8);
        }
    } else {
        for (size_t b = 0; b * BUNDLE_Q8_BLOCK < n; b++) {
            size_t lo = b * BUNDLE_Q8_BLOCK, hi = lo + BUNDLE_Q8_BLOCK < n ? lo + BUNDLE_Q8_BLOCK : n;
            float mx = 0.0f;
            for (size_t i = lo; i < hi; i++) mx = fmaxf(mx, fabsf(x[i]));
            float s = mx / 127.0f; /* 0 for an all-zero block: every code is then 0 */
            uint8_t *blk = out + b * Q8_BLOCK_BYTES;
            wrf32(blk, s);
            for (size_t i = lo; i < hi; i++) {
                long q = s > 0.0f ? lrintf(x[i] / s) : 0;
                blk[4 + i - lo] = (uint8_t)(int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
            }
        }
    }
    return 0;
}

float *bundle_weights_decode_all(bundle_view *v) {
    const mdsrec_config *c = &v->cfg;
    uint32_t wd = c->weight_dtype;
    /* the stored arrays fit the buffer, but decoded ones can be 3.6x as large: count in 64 bits */
    uint64_t pos64 = (uint64_t)c->max_len * c->dim, pool64 = bnd_pool_floats64(c);
    uint64_t gate64 = bnd_gate_floats64(c), total64 = gate64;
    for (uint32_t ch = 0; ch < c->n_channels; ch++) total64 += pos64 + bnd_encoder_floats64(c, ch) + pool64;
    if (total64 > SIZE_MAX / sizeof(float)) return NULL;
    size_t pos = (size_t)pos64, pool = (size_t)pool64, gate = (size_t)gate64;
    float *w = malloc((size_t)total64 * sizeof(float));
    if (!w) return NULL;
    float *at = w;
    for (uint32_t ch = 0; ch < c->n_channels; ch++) {
        bundle_channel *bc = &v->ch[ch];
        size_t enc = bundle_encoder_floats(c, ch);
        bundle_weights_decode(wd, bc->pos_raw, pos, at);
        bundle_weights_decode(wd, bc->encoder_raw, enc, at + pos);
        bc->pos = at, bc->encoder = at + pos;
        if (pool) {
            bundle_weights_decode(wd, bc->pool_raw, pool, at + pos + enc);
            bc->pool = at + pos + enc;
        }
        at += pos + enc + pool;
    }
    bundle_weights_decode(wd, v->gate_raw, gate, at);
    v->gate = at;
    return w;
}
