/*
 * interactions.h - reads a store's interaction log into (user, item, time) triples.
 *
 * Sources: a table (table.h: RecBole .inter, CSV, TSV, JSON Lines) with named user, item and
 * optional time columns, or a sequence file with one visitor per line, "user item item ..."
 * separated by spaces or tabs, already in time order (time = position in the line); a first
 * line that is a RecBole header ("user_id:token item_id_list:token_seq item_id:token") is
 * skipped, so RecBole's history + target files read as whole sequences.
 * A time is a number (Unix seconds or any increasing number) or an ISO 8601 date
 * "YYYY-MM-DD", optionally followed by "[T ]HH:MM[:SS[.fff]]" and "Z"; without a time column
 * the row order of the file is the time order.
 *
 * Errors (cli_error, naming file, line and column): those of table_load, an empty user or
 * item key, a key holding a tab or newline (items.txt cannot hold it), a time that is
 * neither a number nor a date.
 */
#ifndef MDSREC_DATA_INTERACTIONS_H
#define MDSREC_DATA_INTERACTIONS_H

#include <stdint.h>

#include "data/keymap.h"
#include "data/table.h"

typedef struct {
    const char *path;
    table_format format;
    int sequences;        /* 1: "user item item ..." lines */
    const char *user_col; /* default "user_id" */
    const char *item_col; /* default "item_id" */
    const char *time_col; /* NULL or "": file order */
} inter_source;

typedef struct {
    keymap users, items; /* raw keys, numbered in order of first appearance */
    uint32_t *user, *item;
    double *time;
    uint64_t n;
} interactions;

int interactions_load(interactions *x, const inter_source *src);
void interactions_free(interactions *x);

/* Parses a number or an ISO 8601 date (seconds since 1970, UTC). 0, or -1 for junk. */
int parse_time(const char *s, double *out);

#endif
