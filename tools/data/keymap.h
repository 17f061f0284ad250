/*
 * keymap.h - a string -> index map (open addressing, FNV-1a). Keys are copied into the map;
 * index i is the i-th distinct key added, so keymap_key(m, i) gives the keys in insertion order.
 */
#ifndef MDSREC_DATA_KEYMAP_H
#define MDSREC_DATA_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t *slots; /* index + 1, 0 = empty */
    size_t cap;      /* power of two */
    char **keys;     /* keys[i], owned */
    uint32_t n, keys_cap;
} keymap;

void keymap_init(keymap *m);
void keymap_free(keymap *m);

/* Index of key, or UINT32_MAX when absent. */
uint32_t keymap_find(const keymap *m, const char *key);

/* Index of key, adding it when absent (*added = 1 then, if added is not NULL).
   UINT32_MAX when out of memory. */
uint32_t keymap_add(keymap *m, const char *key, int *added);

static inline const char *keymap_key(const keymap *m, uint32_t i) { return m->keys[i]; }

/* 64-bit FNV-1a of s[0..n), used by the map and the text featurizer's hashing. */
uint64_t fnv1a64(const void *s, size_t n, uint64_t h);
#define FNV1A64_INIT 0xcbf29ce484222325ULL

#endif
