/* test_regress_bundle.c - bundles that once broke the loader or the API, each rebuilt from a
   synth bundle by a small byte patch (checksums rewritten so the patch reaches the check it
   is about). Each case names how it was found and what went wrong. Run under ASan+UBSan
   too, where each patched bundle sits in a block of exactly its length. */
#include <stdlib.h>
#include <string.h>

#include "src/bundle.h"
#include "check.h"
#include "src/checksum.h"
#include "mdsrec.h"
#include "synth.h"

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Every checksum made right again after a patch (the bundle's own table must be sane). */
static void refresh(uint8_t *b) {
    uint32_t n = rd32(b + 20);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = b + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE;
        wr64(e + 24, checksum64(b + rd64(e + 8), (size_t)rd64(e + 16)));
    }
    wr64(b + 40, checksum64(b + BUNDLE_HEADER_SIZE, (size_t)n * BUNDLE_ENTRY_SIZE));
    wr64(b + 56, checksum64(b, 56));
}

/* The payload of section (kind, channel) and its size, or NULL. */
static uint8_t *section(uint8_t *b, uint32_t kind, uint32_t channel, uint64_t *size) {
    uint32_t n = rd32(b + 20);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = b + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE;
        if (rd32(e) == kind && rd32(e + 4) == channel) {
            *size = rd64(e + 16);
            return b + rd64(e + 8);
        }
    }
    return NULL;
}

/* A copy of b[0..len) in a 16-aligned block of len + extra bytes, the extra ones set to
   `fill` (so that a read past the end either trips ASan, with extra 0, or sees known bytes). */
static uint8_t *copy_with_tail(const uint8_t *b, size_t len, size_t extra, uint8_t fill) {
    void *p = NULL;
    if (posix_memalign(&p, 16, len + extra) != 0) return NULL;
    memcpy(p, b, len);
    memset((uint8_t *)p + len, fill, extra);
    return p;
}

/* ---------------------------------------------------------------- NEIGHBOURS row_ptr past nnz */

/* Found by review of read_neighbours (fuzz_bundle_deep did not reach it in its first minute):
   the loop checked each row_ptr[i+1] only against row_ptr[i], so a row_ptr that jumps past nnz
   and comes back down later (0, nnz+1, nnz, ...) made the check of row 0 read index[] and
   weight[] past the section; with NEIGHBOURS last in the file, past the buffer. */
static void neighbours_row_past_nnz(void) {
    synth_options o;
    synth_defaults(&o, 5);
    const char *why;
    synth_parse_channels(&o, "id,text", &why);
    o.dim = 4, o.n_blocks = 1, o.n_heads = 1, o.max_len = 3, o.neighbours = 2, o.seed = 11;
    o.nb_compact = 0; /* the CSR NEIGHBOURS section this bug was in */
    synth_model sm;
    mdsrec_error err;
    CHECK(synth_make(&o, &sm, &err) == MDSREC_OK);
    /* weights 0 and neighbour 0 everywhere: a weight's bits then pass as an index below N */
    for (uint32_t ch = 0; ch < 2; ch++) {
        uint32_t nnz = sm.nb_row[ch][5];
        memset(sm.nb_weight[ch], 0, nnz * sizeof(float));
        memset(sm.nb_index[ch], 0, nnz * sizeof(uint32_t));
    }
    uint8_t *good = NULL;
    size_t len = 0;
    CHECK(bundle_build(&sm.spec, &good, &len, &err) == MDSREC_OK);
    synth_free(&sm);
    if (!good) return;

    uint64_t size = 0;
    uint8_t *nb = section(good, SEC_NEIGHBOURS, 1, &size);
    CHECK(nb != NULL && nb + size == good + len); /* the last section: its end is the buffer's */
    if (!nb) return;
    uint32_t nnz = rd32(nb + 4);
    wr32(nb + 8 + 4, nnz + 1); /* row_ptr[1]; row_ptr[2..5] stay nnz, so it comes back down */
    refresh(good);

    /* exactly len bytes: ASan reports the read past them */
    uint8_t *b = copy_with_tail(good, len, 0, 0);
    mdsrec_model *m = NULL;
    CHECK(mdsrec_open(b, len, &m, &err) == MDSREC_EFORMAT);
    CHECK_MSG(strstr(err.message, "NEIGHBOURS (channel 1)") && strstr(err.message, "row_ptr"), "%s", err.message);
    free(b);
    /* with NaN bytes after the end, the old loop reported them as a weight of this section */
    b = copy_with_tail(good, len, 64, 0xFF);
    CHECK(mdsrec_open(b, len, &m, &err) == MDSREC_EFORMAT);
    CHECK_MSG(strstr(err.message, "row_ptr") != NULL, "%s", err.message);
    free(b);
    free(good);
}

int main(void) {
    neighbours_row_past_nnz();
    return check_done("test_regress_bundle");
}
