/*
 * bundle_nbits.c - NEIGHBOURS_B, the bit-packed neighbour lists (models/FORMAT.md): k entries
 * per item of index_bits + weight_bits bits each, the index just wide enough for N. The reader
 * side (bnd_nbits_read: every field and entry checked), the accessors' entry decoding, and the
 * writer side (bnd_nbits_bytes, bnd_nbits_put).
 */
#include <math.h>
#include <string.h>

#include "bundle_internal.h"

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float rdf32(const uint8_t *p) {
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint32_t bundle_nbits_index_bits(uint32_t n_items) {
    uint32_t b = 1;
    while (b < 32 && ((uint64_t)1 << b) <= n_items) b++; /* 2^b > N: 2^b - 1 is no item */
    return b;
}

uint64_t bnd_nbits_bytes(uint32_t n_items, uint32_t k, uint32_t wbits) {
    uint64_t bits = (uint64_t)n_items * k * (bundle_nbits_index_bits(n_items) + wbits);
    return BUNDLE_NBITS_HEAD + (bits + 7) / 8;
}

/* Entry e of a stream of `width`-bit entries, LSB first; reads only the bytes it spans. */
static uint64_t entry_at(const uint8_t *s, uint64_t e, uint32_t width) {
    uint64_t bit = e * width, v = 0;
    const uint8_t *p = s + bit / 8;
    uint32_t shift = (uint32_t)(bit % 8), nbytes = (shift + width + 7) / 8;
    for (uint32_t i = 0; i < nbytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return (v >> shift) & (((uint64_t)1 << width) - 1);
}

float bundle_nbits_dequant(float w_min, float w_max, uint32_t q, uint32_t wbits) {
    if (wbits == 0) return w_max; /* rank only: every neighbour gets the strongest weight */
    double levels = (double)((1u << wbits) - 1);
    return (float)((double)w_min + (double)q * ((double)w_max - (double)w_min) / levels);
}

uint32_t bundle_nbits_get(const bundle_channel *c, uint32_t item, uint32_t j, uint32_t *q) {
    uint64_t v = entry_at(c->nb_bits, (uint64_t)item * c->nb_k + j, c->nb_ibits + c->nb_wbits);
    *q = (uint32_t)(v >> c->nb_ibits);
    return (uint32_t)(v & ((1u << c->nb_ibits) - 1));
}

mdsrec_status bnd_nbits_read(const uint8_t *p, uint64_t size, uint32_t n, uint32_t ch, bundle_channel *out,
                             mdsrec_error *err) {
    if (size < BUNDLE_NBITS_HEAD)
        return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): size %llu, shorter than its 24-byte head", ch,
                    (unsigned long long)size);
    if (rd32(p) != n)
        return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): n is %u, expected n_items %u", ch, rd32(p), n);
    uint32_t k = rd32(p + 4), ib = rd32(p + 8), wb = rd32(p + 12);
    if (k < 1 || k > BUNDLE_NB_K_MAX)
        return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): k %u outside 1..1024", ch, k);
    if (ib != bundle_nbits_index_bits(n))
        return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): index_bits %u, expected %u for %u items", ch,
                    ib, bundle_nbits_index_bits(n), n);
    if (wb > 8) return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): weight_bits %u outside 0..8", ch, wb);
    float w_min = rdf32(p + 16), w_max = rdf32(p + 20);
    if (!isfinite(w_min) || !isfinite(w_max) || !(w_min <= w_max))
        return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): w_min and w_max must be finite, w_min <= w_max", ch);
    uint64_t want = bnd_nbits_bytes(n, k, wb); /* n <= 2^24, k <= 1024, 33 bits: no overflow */
    if (size != want)
        return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): size %llu, expected %llu for n %u, k %u and %u + %u bits",
                    ch, (unsigned long long)size, (unsigned long long)want, n, k, ib, wb);
    bundle_channel c = *out;
    c.nb_kind = SEC_NEIGHBOURS_B, c.nb_bits = p + BUNDLE_NBITS_HEAD, c.nb_k = k, c.nb_ibits = ib, c.nb_wbits = wb;
    c.nb_w_min = w_min, c.nb_w_max = w_max;
    uint32_t pad = (1u << ib) - 1;
    for (uint32_t i = 0; i < n; i++) {
        int padded = 0;
        uint32_t prev_q = 0;
        for (uint32_t j = 0; j < k; j++) {
            uint32_t q, x = bundle_nbits_get(&c, i, j, &q);
            if (x == pad) {
                if (q)
                    return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): item %u has a padding entry with weight code %u (expected 0)",
                                ch, i, q);
                padded = 1;
                continue;
            }
            if (padded)
                return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): item %u has a neighbour at rank %u after padding (padding only at a row's tail)",
                            ch, i, j);
            if (x >= n)
                return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): item %u has neighbour %u, not below n_items %u",
                            ch, i, x, n);
            if (j > 0 && q > prev_q)
                return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): item %u's neighbours are not strongest first", ch, i);
            prev_q = q;
        }
    }
    /* the stream's last byte: bits past the last entry are 0, so one list has one encoding */
    uint64_t bits = (uint64_t)n * k * (ib + wb);
    if (bits % 8 && (p[BUNDLE_NBITS_HEAD + bits / 8] >> (bits % 8)))
        return bnd_fail(err, MDSREC_EFORMAT, "section NEIGHBOURS_B (channel %u): bits past the last entry are not 0", ch);
    *out = c;
    return MDSREC_OK;
}

/* Sets the width bits of entry e to v in a zeroed stream. */
static void entry_put(uint8_t *s, uint64_t e, uint32_t width, uint64_t v) {
    uint64_t bit = e * width;
    for (uint32_t i = 0; i < width; i++, bit++)
        if (v >> i & 1) s[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

void bnd_nbits_put(uint8_t *p, uint32_t n, uint32_t k, uint32_t wbits, float w_min, float w_max, const uint32_t *row,
                   const uint32_t *index, const float *weight, uint32_t keep) {
    uint32_t ib = bundle_nbits_index_bits(n), width = ib + wbits, pad = (1u << ib) - 1;
    double range = (double)w_max - (double)w_min, levels = wbits ? (double)((1u << wbits) - 1) : 0;
    uint8_t *s = p + BUNDLE_NBITS_HEAD;
    uint32_t head[4] = {n, k, ib, wbits};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++) p[4 * i + b] = (uint8_t)(head[i] >> (8 * b));
    uint32_t u;
    memcpy(&u, &w_min, 4);
    for (int b = 0; b < 4; b++) p[16 + b] = (uint8_t)(u >> (8 * b));
    memcpy(&u, &w_max, 4);
    for (int b = 0; b < 4; b++) p[20 + b] = (uint8_t)(u >> (8 * b));
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = row[i + 1] - row[i], m = keep && len > keep ? keep : len;
        for (uint32_t j = 0; j < k; j++) {
            uint64_t v = pad;
            if (j < m) {
                /* the nearest of the 2^wbits levels; monotone, so strongest-first rows keep
                   non-increasing codes */
                double q = range > 0 && levels > 0 ? floor(((double)weight[row[i] + j] - w_min) / range * levels + 0.5) : 0;
                q = q < 0 ? 0 : q > levels ? levels : q;
                v = index[row[i] + j] | (uint64_t)q << ib;
            }
            entry_put(s, (uint64_t)i * k + j, width, v);
        }
    }
}
