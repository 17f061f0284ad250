/* keymap.c - string -> index map (see keymap.h). */
#include "data/keymap.h"

#include <stdlib.h>
#include <string.h>

uint64_t fnv1a64(const void *s, size_t n, uint64_t h) {
    const uint8_t *p = s;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void keymap_init(keymap *m) { memset(m, 0, sizeof *m); }

void keymap_free(keymap *m) {
    for (uint32_t i = 0; i < m->n; i++) free(m->keys[i]);
    free(m->keys);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static size_t slot_of(const keymap *m, const char *key) {
    size_t mask = m->cap - 1;
    size_t s = (size_t)fnv1a64(key, strlen(key), FNV1A64_INIT) & mask;
    while (m->slots[s] && strcmp(m->keys[m->slots[s] - 1], key) != 0) s = (s + 1) & mask;
    return s;
}

uint32_t keymap_find(const keymap *m, const char *key) {
    if (!m->cap) return UINT32_MAX;
    size_t s = slot_of(m, key);
    return m->slots[s] ? m->slots[s] - 1 : UINT32_MAX;
}

static int grow(keymap *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint32_t *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return -1;
    }
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i]) m->slots[slot_of(m, m->keys[old[i] - 1])] = old[i];
    free(old);
    return 0;
}

uint32_t keymap_add(keymap *m, const char *key, int *added) {
    if (added) *added = 0;
    /* Keep the load factor under 1/2 so probes stay short. */
    if ((size_t)(m->n + 1) * 2 > m->cap && grow(m) != 0) return UINT32_MAX;
    size_t s = slot_of(m, key);
    if (m->slots[s]) return m->slots[s] - 1;
    if (m->n == UINT32_MAX - 1) return UINT32_MAX;
    if (m->n == m->keys_cap) {
        uint32_t nc = m->keys_cap ? m->keys_cap * 2 : 64;
        char **k = realloc(m->keys, nc * sizeof *k);
        if (!k) return UINT32_MAX;
        m->keys = k;
        m->keys_cap = nc;
    }
    char *copy = strdup(key);
    if (!copy) return UINT32_MAX;
    m->keys[m->n] = copy;
    m->slots[s] = ++m->n;
    if (added) *added = 1;
    return m->n - 1;
}
