/*
 * test_data_helpers.h - what the data, features and graph tests share: running the built
 * `mdsrec` ($MDSREC_BIN) with its stderr captured, scratch directories under $MDSREC_TMP,
 * whole-file reads and a fingerprint of a directory tree (to prove a failing command
 * changed nothing and left no temp file). Fixtures are in tests/fixtures/data (cwd is the
 * repository root).
 */
#ifndef TEST_DATA_HELPERS_H
#define TEST_DATA_HELPERS_H

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FX "tests/fixtures/data/"

static char td_err[8192]; /* stderr of the last td_run */
static char td_out[8192]; /* stdout of the last td_run */

static const char *td_tmp(void) {
    const char *t = getenv("MDSREC_TMP");
    return t && *t ? t : "/tmp";
}

/* A fresh, empty scratch directory MDSREC_TMP/name (returned in a static buffer). */
__attribute__((unused)) static const char *td_dir(const char *name) {
    static char path[4][1024];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 1024, "%s/%s", td_tmp(), name);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", p, p);
    if (system(cmd) != 0) fprintf(stderr, "cannot make %s\n", p);
    return p;
}

static void td_slurp(const char *path, char *buf, size_t cap) {
    buf[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
}

/* Runs `mdsrec ARGS` (ARGS is shell text); returns the exit status, 128+ for a signal. */
static int td_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((unused)) static int td_run(const char *fmt, ...) {
    const char *bin = getenv("MDSREC_BIN");
    if (!bin) bin = "build/bin/mdsrec";
    char args[4096], cmd[8192], ef[1100], of[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(ef, sizeof ef, "%s/td_stderr.%d", td_tmp(), (int)getpid());
    snprintf(of, sizeof of, "%s/td_stdout.%d", td_tmp(), (int)getpid());
    snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s' >'%s'", bin, args, ef, of);
    int st = system(cmd);
    td_slurp(ef, td_err, sizeof td_err);
    td_slurp(of, td_out, sizeof td_out);
    remove(ef);
    remove(of);
    if (st == -1) return -1;
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* The whole file (free() it), NULL when it cannot be read; *len set. */
static uint8_t *td_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

/* The working directory (ctest runs the tests from the repository root); "." if unknown.
   Not $PWD: that is the shell's directory, not necessarily the test's. */
__attribute__((unused)) static const char *td_cwd(void) {
    static char buf[1024]; /* fixtures' paths are built from it in 4 KiB buffers */
    return getcwd(buf, sizeof buf) ? buf : ".";
}

__attribute__((unused)) static int td_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* 1 when two files have the same bytes. */
__attribute__((unused)) static int td_same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *x = td_read(a, &na), *y = td_read(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

/* FNV-1a over the names, sizes and contents of every file under dir: equal fingerprints mean
   nothing was added, removed or changed. Sets *temps to the number of "*.tmp.*" files. */
static uint64_t td_fingerprint_(const char *dir, uint64_t h, int *temps) {
    DIR *d = opendir(dir);
    if (!d) return h ^ 0x5a5a;
    /* readdir order is not stable: combine the entries' hashes with a commutative sum. */
    uint64_t sum = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (strstr(e->d_name, ".tmp.")) (*temps)++;
        uint64_t eh = 0xcbf29ce484222325ULL;
        for (const char *c = e->d_name; *c; c++) eh = (eh ^ (uint8_t)*c) * 0x100000001b3ULL;
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            eh = td_fingerprint_(p, eh, temps);
        } else {
            size_t n;
            uint8_t *b = td_read(p, &n);
            for (size_t i = 0; b && i < n; i++) eh = (eh ^ b[i]) * 0x100000001b3ULL;
            eh ^= n * 0x9E3779B97F4A7C15ULL;
            free(b);
        }
        sum += eh;
    }
    closedir(d);
    return (h ^ sum) * 0x100000001b3ULL;
}

__attribute__((unused)) static uint64_t td_fingerprint(const char *dir, int *temps) {
    *temps = 0;
    return td_fingerprint_(dir, 0xcbf29ce484222325ULL, temps);
}

#endif
