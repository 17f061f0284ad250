/*
 * fuzz_util.h - what the file-reading harnesses share: the input written to a scratch file
 * (the importers take paths, as the CLI does) and EXPECT, which turns a broken contract into
 * a crash the fuzzer reports. run.sh closes the harnesses' stderr (-close_fd_mask=2: the
 * importers' error messages would flood the log), so EXPECT reports through the sanitizer's
 * own channel.
 */
#ifndef MDSREC_FUZZ_UTIL_H
#define MDSREC_FUZZ_UTIL_H

#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define EXPECT(cond)                                                                          \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            __sanitizer_report_error_summary("contract broken: " #cond " at " __FILE__);     \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* A per-process scratch path ending in ext (".csv"), removed at exit. */
static char fuzz_path_[256];
static void fuzz_remove_(void) { remove(fuzz_path_); }

__attribute__((unused)) static const char *fuzz_file(const uint8_t *data, size_t size, const char *ext) {
    if (!fuzz_path_[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(fuzz_path_, sizeof fuzz_path_, "%s/mdsrec-fuzz.%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(), ext);
        atexit(fuzz_remove_);
    }
    FILE *f = fopen(fuzz_path_, "wb");
    if (!f) abort(); /* the harness cannot run at all: say so loudly */
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f) != 0) abort();
    return fuzz_path_;
}

#endif
