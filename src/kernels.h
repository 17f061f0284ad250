/*
 * kernels.h - the hot loops, behind one table (as XNNPACK does).
 *
 * Four implementations: kernels_scalar.c (the reference, plain C, every build),
 * kernels_simd128.c (WebAssembly SIMD128, only when compiled with -msimd128),
 * kernels_relaxed.c (SIMD128 plus relaxed SIMD's FMA and int8 dot, only with -mrelaxed-simd) and
 * kernels_vec128.c (the SIMD128 algorithms in 16-byte GCC/Clang generic vectors, for native
 * builds; active only with MDSREC_VEC_ACTIVE, which MDSREC_NATIVE_ARCH sets). The rest of
 * the core calls kernels_active() and never sees an #ifdef of an instruction set. Tests run
 * every kernel of every available set against the scalar one.
 *
 * Most of the time of a recommend() call is spent in score_* (one streaming pass over the
 * item matrices); the encoder's matvec is the rest.
 */
#ifndef MDSREC_KERNELS_H
#define MDSREC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "mdsrec.h" /* MDSREC_PANEL */

typedef struct {
    const char *name; /* "scalar", "simd128", "relaxed", "vec128" */

    /* sum_i a[i]*b[i] */
    float (*dot_f32)(const float *a, const float *b, size_t n);
    /* sum_i a[i]*half_to_float(b[i]) */
    float (*dot_f16)(const float *a, const uint16_t *b, size_t n);
    /* sum_i a[i]*b[i], exact in int32 for n <= 2^17 */
    int32_t (*dot_i8)(const int8_t *a, const int8_t *b, size_t n);

    /* out[r] = b[r] + sum_c w[r*cols + c] * x[c] for r < rows (b may be NULL). W is [rows][cols]. */
    void (*matvec)(float *out, const float *w, const float *x, const float *b, size_t rows, size_t cols);
    /* The encoder's linear layers over all n tokens at once: out (n, dout) = x (n, din) W^T + b,
       W (dout, din), b (dout) or NULL. Tiles of tokens x outputs reuse each loaded weight
       across tokens. Every output is summed in the same order whatever tile it falls in, so a
       token's result does not depend on n or on its position in x (model.c's prefix cache
       relies on this: recomputing one token gives the bits a full pass gave). */
    void (*linear)(float *out, const float *x, const float *w, const float *b, size_t n, size_t din,
                   size_t dout);

    /* out[i] = GELU(x[i]) = x/2 (1 + erf(x/sqrt 2)) for i < n; out may alias x. The scalar
       set calls erff; simd128 and vec128 evaluate erf as the rational function of erf_fit.h
       (4e-7 absolute at worst, against erff's 1e-7), four at a time in wasm: erff was a third
       of a fresh forward there. */
    void (*gelu)(float *out, const float *x, size_t n);

    /* Scoring of rows [row0, row0+count) of n_ch item matrices of d columns each:
       out[r] = sum_c <q + c*d, mats[c] + (row0+r)*d>                                (f32, f16)
       out[r] = sum_c scales[c][row0+r] * qscale[c] * <q8 + c*d, mats[c] + (row0+r)*d>  (i8)
       out has room for count floats. A row's f16, i8 (an exact integer dot, then the float
       terms in the order above) and pq score has the same bits whatever rows it is scored
       with; score_f32's has not (its groups of four rows from row0 sum in another order than
       a row alone). Candidate mode (model.c, scan_group) relies on both. */
    void (*score_f32)(float *out, const float *const *mats, const float *q,
                      size_t n_ch, size_t d, size_t row0, size_t count);
    /* score_f32 over matrices in MDSREC_LAYOUT_PANEL16 (mdsrec.h): rows [row0, row0+count),
       row0 and count multiples of 16, every row inside a whole panel. Panel b (rows 16b..16b+15)
       starts at float 16b*d of each matrix and holds column j's 16 values at 16j..16j+15, so
       the pass reads each matrix front to back, 64 bytes a step, and needs no horizontal sum.
       Each row is summed in the scalar score_f32's order (channel by channel, each from
       column 0), so these scores are bit-identical across kernel sets. */
    void (*score_f32_panel)(float *out, const float *const *mats, const float *q,
                            size_t n_ch, size_t d, size_t row0, size_t count);
    void (*score_f16)(float *out, const uint16_t *const *mats, const float *q,
                      size_t n_ch, size_t d, size_t row0, size_t count);
    void (*score_i8)(float *out, const int8_t *const *mats, const float *const *scales,
                     const int8_t *q8, const float *qscale, size_t n_ch, size_t d,
                     size_t row0, size_t count);

    /* Writes to idx[] the positions i < n with s[i] > thr (in increasing order) and returns
       their number: the top-k's threshold test, which rejects most items. NaN never passes. */
    size_t (*above)(const float *s, size_t n, float thr, uint32_t *idx);

    /* Scoring of product-quantized rows (item_dtype pq): rows [row0, row0+count) of n_ch code
       matrices of m u8 codes a row, through per-query lookup tables:
       out[r] = sum_c sum_j luts[c][256 j + codes[c][(row0+r) m + j]],
       one running sum from 0, channel by channel, each channel from j = 0, so the scores are
       bit-identical across kernel sets. luts[c] holds m * 256 floats (entry (j, k): the query's
       sub-vector j against centroid k of sub-space j). */
    void (*score_pq)(float *out, const uint8_t *const *codes, const float *const *luts, size_t n_ch, size_t m,
                     size_t row0, size_t count);
} mdsrec_kernels;

/* The scalar set's linear on weights packed once (the trainer packs its encoders once per step):
   linear_pack writes W (dout, din) as groups of 8 outputs, each din rows of 8 floats (the
   group's weights of input i side by side; outputs past dout 0), linear_packed_floats(din,
   dout) floats at wp, which must be 16-byte aligned. linear_packed(out, x, wp, b, n, din, dout)
   gives the scalar linear's bits for every token (the same sums in the same order), without
   the transposes the scalar linear makes on every call: they were half the work of a short
   sequence. */
size_t linear_packed_floats(size_t din, size_t dout);
void linear_pack(float *wp, const float *w, size_t din, size_t dout);
void linear_packed(float *out, const float *x, const float *wp, const float *b, size_t n, size_t din,
                   size_t dout);

/* The scalar reference set. Never NULL. */
const mdsrec_kernels *kernels_scalar(void);
/* The SIMD128 set, or NULL in a build without -msimd128. */
const mdsrec_kernels *kernels_simd128(void);
/* The SIMD128 set with relaxed SIMD (FMA, the int8 dot; kernels_relaxed.c), or NULL in a
   build without -mrelaxed-simd. */
const mdsrec_kernels *kernels_relaxed(void);
/* The SIMD128 algorithms in 16-byte generic vectors, for native builds; NULL in wasm (and
   with a compiler without vector extensions). Active only with MDSREC_VEC_ACTIVE. */
const mdsrec_kernels *kernels_vec128(void);
/* The best set of this build (relaxed, else simd128 where compiled in; vec128 natively with
   MDSREC_VEC_ACTIVE; else scalar). Never NULL. */
const mdsrec_kernels *kernels_active(void);

#endif /* MDSREC_KERNELS_H */
