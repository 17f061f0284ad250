/*
 * table.h - reads the tabular files a store brings (RecBole atomic files, CSV, TSV, JSON
 * Lines) and keeps the named columns of every row as UTF-8 strings.
 *
 * Formats:
 *   atomic  tab-separated, header fields "name:type" (RecBole); columns are named without
 *           the ":type" suffix. No quoting.
 *   tsv     tab-separated, header of names, no quoting.
 *   csv     comma-separated, header of names, RFC 4180 quoting ("a, b", "say ""hi""", and
 *           newlines inside quotes).
 *   jsonl   one JSON object per line; a column is a member name. Strings are taken as they
 *           are, numbers and booleans printed, arrays of scalars joined with spaces, null or
 *           an absent member is the empty string.
 * TABLE_AUTO picks by extension: .inter .item .user -> atomic, .csv -> csv, .jsonl .ndjson
 * -> jsonl, anything else -> tsv.
 *
 * Errors (all reported through cli_error, naming the file and the line, and the byte offset
 * or column where that helps): unreadable file, invalid UTF-8, a requested column absent
 * from the header, a row with a different number of fields than the header (ragged), an
 * unterminated quote, a JSON line that is not an object.
 */
#ifndef MDSREC_DATA_TABLE_H
#define MDSREC_DATA_TABLE_H

#include <stdint.h>

typedef enum { TABLE_AUTO, TABLE_ATOMIC, TABLE_TSV, TABLE_CSV, TABLE_JSONL } table_format;

typedef struct {
    uint32_t ncols;  /* number of requested columns */
    uint32_t nrows;  /* data rows (blank lines are skipped) */
    char **cells;    /* cells[r * ncols + c]: the value of requested column c in row r (owned) */
    uint32_t *line;  /* line[r]: the 1-based line on which row r starts */
} table;

/* "auto", "atomic", "tsv", "csv", "jsonl": 0, or -1 for another name. */
int table_format_parse(const char *name, table_format *out);
const char *table_format_name(table_format f);
/* The format TABLE_AUTO resolves to for this path. */
table_format table_format_guess(const char *path);

/* Loads the columns cols[0..ncols) of path. 0, or -1 after cli_error; on failure t is empty. */
int table_load(table *t, const char *path, table_format fmt, const char *const *cols, uint32_t ncols);
void table_free(table *t);

/* The rows of a table one at a time, without keeping them (memory: the file, not the rows):
   fn(ctx, cells, line) gets the requested columns of each data row (cells[0..ncols), and the
   1-based line the row starts on). The strings are lent: fn may keep one by setting its
   pointer to NULL (then it owns it; a column requested twice is the same string twice, keep
   it once), the rest are freed after the call. fn returns 0 to go on, -1 to stop (after
   cli_error). table_scan returns 0, or -1 after cli_error (its own errors are table_load's). */
typedef int (*table_row_fn)(void *ctx, char **cells, uint64_t line);
int table_scan(const char *path, table_format fmt, const char *const *cols, uint32_t ncols, table_row_fn fn,
               void *ctx);

static inline const char *table_cell(const table *t, uint32_t row, uint32_t col) {
    return t->cells[(uint64_t)row * t->ncols + col];
}

/* Reports the first invalid UTF-8 byte of buf[0..n) as "path:line: invalid UTF-8 at byte
   offset N" and returns -1; 0 when the whole buffer is valid. */
int table_check_utf8(const char *path, const uint8_t *buf, uint64_t n);

#endif
