/*
 * s3rec.h - the importer of the S3-Rec benchmarks' text format: one visitor a line,
 * "user item item ...", numbers separated by spaces or tabs, oldest item first.
 *
 * The importer's rules (an outside format, so it adapts rather than refuses):
 *   - item keys are the file's item ids written in decimal; items are numbered by increasing
 *     id (item 0 is the smallest id that appears);
 *   - a line with fewer than 3 items is skipped (the leave-one-out split needs 3), and the
 *     count of such lines is printed on stderr; empty lines are skipped;
 *   - anything that is not a decimal number up to 4294967280 is an error naming the line and
 *     column.
 * The result is a dataset (prepared.h) with text_format = 1, no user keys and no features.
 */
#ifndef MDSREC_DATA_S3REC_H
#define MDSREC_DATA_S3REC_H

#include "data/prepared.h"

/* Reads the file at path into ds. 0, or -1 after cli_error (ds is then empty). */
int s3rec_load(const char *path, dataset *ds);

#endif
