/*
 * cli.h - what every `mdsrec` subcommand shares: error reporting, whole-file reads,
 * atomic writes (temp file + rename, so a failed command leaves nothing half-written),
 * number parsing and the progress bar.
 *
 * Exit codes of every subcommand: 0 success, 1 bad input or a failure while running
 * (the message names the file and the line, field or byte offset), 2 usage error.
 */
#ifndef MDSREC_CLI_H
#define MDSREC_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* The running subcommand's name, used as the prefix of messages ("mdsrec graph: ..."). */
extern const char *cli_command;

/* Prints "mdsrec CMD: <message>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads the whole file into a 64-byte aligned buffer with one extra NUL byte after the
   data (free() it). NULL on failure, after cli_error naming the path and the reason. */
uint8_t *cli_read_file(const char *path, size_t *len);

/* Inflates gzip bytes in[0..n_in) (every member, as gunzip does) into a buffer laid out as
   cli_read_file's, its length in *len. NULL after cli_error naming `what` (a path, or
   "FILE: section CATALOG_GZ") and the reason: not gzip, truncated, out of memory. */
uint8_t *cli_gunzip(const char *what, const uint8_t *in, size_t n_in, size_t *len);

/* Atomic output: cli_out_open creates "<path>.tmp.<pid>" next to path; write to o->f;
   cli_out_commit flushes, fsyncs and renames over path (returns 0, or -1 after
   cli_error); cli_out_abort closes and removes the temp file. */
typedef struct {
    FILE *f;
    char *path;
    char *tmp;
} cli_out;
int cli_out_open(cli_out *o, const char *path);
int cli_out_commit(cli_out *o);
void cli_out_abort(cli_out *o);
/* Writes data[0..len) to path atomically. 0 or -1 (after cli_error). */
int cli_write_file(const char *path, const void *data, size_t len);

/* Strict number parsing of a whole string: 0 on success, -1 on junk or overflow. */
int cli_parse_u32(const char *s, uint32_t *out);
int cli_parse_u64(const char *s, uint64_t *out);
int cli_parse_float(const char *s, float *out);

/* Steps through a comma-separated list: returns the next entry (not NUL-terminated; its
   length in *len, 0 for an empty one between two commas) and moves *p past it and its comma,
   or NULL at the end of the string. "a,,b," gives "a", "", "b".
   for (const char *p = list, *item; (item = cli_list_next(&p, &len));) ... */
const char *cli_list_next(const char **p, size_t *len);

/* Monotonic seconds. */
double cli_now(void);

/* A progress bar on stderr when stderr is a terminal; silent otherwise. Redraws at most
   10 times a second. total may be 0 (unknown). */
typedef struct {
    const char *label;
    uint64_t total;
    double t0, last_draw;
    int tty;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *label, uint64_t total);
void cli_progress_update(cli_progress *p, uint64_t done);
void cli_progress_end(cli_progress *p);

#endif /* MDSREC_CLI_H */
