/* text.c - hashed TF-IDF + random projection text features (see text.h). */
#include "features/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/keymap.h"
#include "data/utf8.h"
#include "src/rng.h"

size_t text_tokenize(const char *s, void (*fn)(const char *tok, size_t len, void *ctx), void *ctx) {
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), i = 0, count = 0;
    uint8_t tok[256 + 4];
    size_t tl = 0;
    while (i <= n) {
        uint32_t cp = 0;
        int k = 1, word = 0;
        if (i < n) {
            k = utf8_decode(p + i, n - i, &cp);
            if (k == 0) {
                k = 1; /* an invalid byte separates tokens */
            } else {
                word = utf8_is_word(cp);
            }
        }
        if (word) {
            uint8_t enc[4];
            int el = utf8_encode(utf8_lower(cp), enc);
            if (tl + (size_t)el <= 255) {
                memcpy(tok + tl, enc, (size_t)el);
                tl += (size_t)el;
            }
        } else if (tl) {
            tok[tl] = 0;
            fn((const char *)tok, tl, ctx);
            count++;
            tl = 0;
        }
        i += (size_t)k;
    }
    return count;
}

/* ------------------------------------------------------------------ hashing */

typedef struct {
    uint64_t *terms; /* hashes of the document's terms */
    size_t n, cap;
    uint64_t prev; /* hash of the previous token, 0 = none */
    int bigrams;
    int oom;
} term_list;

static void add_term(term_list *t, uint64_t h) {
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        uint64_t *x = realloc(t->terms, nc * sizeof *x);
        if (!x) {
            t->oom = 1;
            return;
        }
        t->terms = x;
        t->cap = nc;
    }
    t->terms[t->n++] = h;
}

static void on_token(const char *tok, size_t len, void *ctx) {
    term_list *t = ctx;
    uint64_t h = fnv1a64(tok, len, FNV1A64_INIT);
    add_term(t, h);
    if (t->bigrams && t->prev) {
        /* A bigram hashes the two tokens' hashes with a separator, unlike any unigram. */
        uint64_t pair[2] = {t->prev, h};
        add_term(t, fnv1a64(pair, sizeof pair, fnv1a64("\x01", 1, FNV1A64_INIT)));
    }
    t->prev = h;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int text_featurize(const char *const *docs, uint32_t n, const text_params *p, float *out) {
    uint32_t width = p->width ? p->width : 256;
    uint32_t lb = p->buckets_log2 ? p->buckets_log2 : 18;
    uint32_t mask = (lb >= 32) ? UINT32_MAX : ((1u << lb) - 1);
    /* The projection's entries are +-1 rather than +-1/sqrt(width): the scale cancels in
       the final normalisation. Per document: sorted signed bucket codes (bucket << 1 | sign). */
    uint32_t **codes = calloc(n ? n : 1, sizeof *codes);
    uint32_t *ncodes = calloc(n ? n : 1, sizeof *ncodes);
    uint32_t *df = calloc((size_t)mask + 1, sizeof *df);
    term_list tl = {.bigrams = !p->unigrams_only};
    double *dense = malloc(width * sizeof *dense);
    int rc = -1;
    if (!codes || !ncodes || !df || !dense) goto oom;
    cli_progress bar;
    cli_progress_start(&bar, "text: terms", n);
    for (uint32_t d = 0; d < n; d++) {
        tl.n = 0;
        tl.prev = 0;
        if (docs[d]) text_tokenize(docs[d], on_token, &tl);
        if (tl.oom) goto oom;
        if (!tl.n) continue;
        uint32_t *c = malloc(tl.n * sizeof *c);
        if (!c) goto oom;
        for (size_t k = 0; k < tl.n; k++) {
            uint64_t h = tl.terms[k];
            c[k] = (uint32_t)((h & mask) << 1 | (h >> 63));
        }
        qsort(c, tl.n, sizeof *c, cmp_u32);
        codes[d] = c;
        ncodes[d] = (uint32_t)tl.n;
        for (size_t k = 0; k < tl.n; k++)
            if (k == 0 || (c[k] >> 1) != (c[k - 1] >> 1)) df[c[k] >> 1]++;
        cli_progress_update(&bar, d);
    }
    cli_progress_end(&bar);

    cli_progress_start(&bar, "text: project", n);
    for (uint32_t d = 0; d < n; d++) {
        float *o = out + (size_t)d * width;
        memset(o, 0, width * sizeof *o);
        const uint32_t *c = codes[d];
        if (!ncodes[d]) continue;
        memset(dense, 0, width * sizeof *dense);
        double norm2 = 0;
        /* Pass 1: the TF-IDF weights' norm; pass 2: project. Runs of equal codes are one
           term (the same bucket with the same sign); opposite signs in one bucket are kept
           as two terms, as the hashing trick does. */
        for (int pass = 0; pass < 2; pass++) {
            double inv = pass ? (norm2 > 0 ? 1.0 / sqrt(norm2) : 0) : 0;
            for (uint32_t k = 0; k < ncodes[d];) {
                uint32_t e = k;
                while (e < ncodes[d] && c[e] == c[k]) e++;
                uint32_t b = c[k] >> 1;
                double w = (1.0 + log((double)(e - k))) * (log((1.0 + n) / (1.0 + df[b])) + 1.0);
                if (c[k] & 1) w = -w;
                if (!pass) {
                    norm2 += w * w;
                } else {
                    uint64_t st = p->seed * 0xD1B54A32D192ED03ULL ^ (uint64_t)b;
                    double v = w * inv;
                    for (uint32_t j = 0; j < width; j += 64) {
                        uint64_t bits = splitmix64(&st);
                        for (uint32_t q = 0; q < 64 && j + q < width; q++) dense[j + q] += (bits >> q & 1) ? v : -v;
                    }
                }
                k = e;
            }
        }
        double ss = 0;
        for (uint32_t j = 0; j < width; j++) ss += dense[j] * dense[j];
        if (ss > 0) {
            double inv = 1.0 / sqrt(ss);
            for (uint32_t j = 0; j < width; j++) o[j] = (float)(dense[j] * inv);
        }
        cli_progress_update(&bar, d);
    }
    cli_progress_end(&bar);
    rc = 0;
    goto done;
oom:
    cli_error("out of memory featurizing text");
done:
    if (codes)
        for (uint32_t d = 0; d < n; d++) free(codes[d]);
    free(codes);
    free(ncodes);
    free(df);
    free(dense);
    free(tl.terms);
    return rc;
}
