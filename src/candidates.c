/* candidates.c - the candidate set of candidate mode (candidates.h, mdsrec.h). */
#include "candidates.h"

typedef struct {
    uint32_t *set, *front; /* front: NULL when no further step follows */
    uint32_t cap;          /* neighbours read per list (UINT32_MAX: all) */
    uint32_t added;
} marker;

static void mark(marker *k, uint32_t i) {
    uint32_t w = i >> 5, b = 1u << (i & 31);
    if (!(k->set[w] & b)) k->set[w] |= b, k->added++;
    /* every item of this step goes on to the next, also one that was already a candidate */
    if (k->front) k->front[w] |= b;
}

/* Marks the first k->cap neighbours of item in channel c, strongest first. Each encoding is
   read directly: bundle_nb_count followed by bundle_nb_get would walk a row twice and
   dequantize weights that the set does not need. */
static void mark_row(const bundle_channel *c, uint32_t item, marker *k) {
    uint32_t cap = k->cap;
    if (c->nb_kind == SEC_NEIGHBOURS) {
        uint32_t a = c->nb_row[item], n = c->nb_row[item + 1] - a;
        for (uint32_t j = 0; j < n && j < cap; j++) mark(k, c->nb_index[a + j]);
    } else if (c->nb_kind == SEC_NEIGHBOURS_K) {
        const uint32_t *row = c->nb_packed + (size_t)item * c->nb_k;
        for (uint32_t j = 0; j < c->nb_k && j < cap && row[j] != BUNDLE_NB_PAD; j++) mark(k, row[j] & BUNDLE_NB_INDEX_MASK);
    } else if (c->nb_kind == SEC_NEIGHBOURS_B) {
        uint32_t pad = (1u << c->nb_ibits) - 1, q;
        for (uint32_t j = 0; j < c->nb_k && j < cap; j++) {
            uint32_t x = bundle_nbits_get(c, item, j, &q);
            if (x == pad) break; /* padding only at a row's tail */
            mark(k, x);
        }
    }
}

static void mark_neighbours(const bundle_view *v, uint32_t item, marker *k) {
    for (uint32_t c = 0; c < v->cfg.n_channels; c++) mark_row(&v->ch[c], item, k);
}

int candidates_available(const bundle_view *v) {
    for (uint32_t c = 0; c < v->cfg.n_channels; c++)
        if (v->ch[c].nb_kind) return 1;
    return 0;
}

uint32_t candidates_mark(const bundle_view *v, const uint32_t *hist, size_t n, int include_history,
                         const mdsrec_candidates *o, uint32_t *set, uint32_t *front) {
    uint32_t N = v->cfg.n_items;
    marker k = {set, o->hops == 2 ? front : NULL, o->neighbours ? o->neighbours : UINT32_MAX, 0};
    /* step 1: the history's neighbours (collected in front when a second step follows) */
    for (size_t t = 0; t < n; t++) mark_neighbours(v, hist[t], &k);
    /* step 2: their neighbours, front read and cleared word by word */
    if (k.front) {
        k.front = NULL;
        size_t words = candidates_words(N);
        for (size_t w = 0; w < words; w++) {
            uint32_t bits = front[w];
            front[w] = 0;
            while (bits) {
                uint32_t i = (uint32_t)w * 32 + (uint32_t)__builtin_ctz(bits);
                bits &= bits - 1;
                mark_neighbours(v, i, &k);
            }
        }
    }
    uint32_t P = o->popular_head < N ? o->popular_head : N;
    for (uint32_t r = 0; r < P; r++) mark(&k, v->popularity[r]);
    if (include_history)
        for (size_t t = 0; t < n; t++) mark(&k, hist[t]);
    return k.added;
}
