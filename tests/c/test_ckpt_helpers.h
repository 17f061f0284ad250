/*
 * test_ckpt_helpers.h - what the trainer tests share: whole-file reads and the comparison of
 * two checkpoints' parameters (tools/train/checkpoint.h: a text header, padded to 64 bytes,
 * then the float payload).
 */
#ifndef TEST_CKPT_HELPERS_H
#define TEST_CKPT_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, NUL-terminated (free() it); NULL when it cannot be read; *len if len. */
__attribute__((unused)) static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[n] = 0;
    if (b && len) *len = (size_t)n;
    return b;
}

/* 1 when two checkpoints hold the same parameters (and Adam moments): the text headers hold
   timings, so only the 64-aligned binary payloads are compared. */
__attribute__((unused)) static int same_params(const char *a, const char *b) {
    size_t la = 0, lb = 0;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = 0;
    if (x && y) {
        char *ea = strstr(x, "\nend\n"), *eb = strstr(y, "\nend\n");
        if (ea && eb) {
            size_t oa = ((size_t)(ea + 5 - x) + 63) / 64 * 64, ob = ((size_t)(eb + 5 - y) + 63) / 64 * 64;
            same = oa <= la && ob <= lb && la - oa == lb - ob && memcmp(x + oa, y + ob, la - oa) == 0;
        }
    }
    free(x);
    free(y);
    return same;
}

#endif
