/*
 * html.h - what `mdsrec report` writes its page with: HTML escaping of shop data, base64 for
 * data: URIs, and the two charts it draws itself as inline SVG (100 % stacked horizontal bars,
 * a vertical bar histogram). Every label passed in is plain text and is escaped here; the
 * charts need no script, font or network.
 */
#ifndef MDSREC_REPORT_HTML_H
#define MDSREC_REPORT_HTML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* s[0..len) as HTML text or attribute value: & < > " ' escaped, control bytes other than tab
   and newline dropped. html_text takes a NUL-terminated string (NULL writes nothing). */
void html_text_n(FILE *f, const char *s, size_t len);
void html_text(FILE *f, const char *s);

/* data[0..len) as standard base64 (with padding). */
void html_base64(FILE *f, const uint8_t *data, size_t len);

/* A colour of the report's palette for series i (cycles). */
const char *html_colour(unsigned i);

/* Horizontal bars, one per row, each split into n_series segments of width share[r][s]
   (share is n_rows x n_series, each row summing to 1 or 0 for an empty row), with the row's
   label and count (items behind it) on the left and a legend of series names on top. */
void svg_stacked_bars(FILE *f, const char *const *row_label, const uint64_t *row_count, size_t n_rows,
                      const char *const *series, size_t n_series, const double *share);

/* Vertical bars value[0..n) with labels under them, the value above each (as "%.*f" with
   `decimals`), and a caption for each axis. */
void svg_histogram(FILE *f, const char *const *label, const double *value, size_t n, int decimals,
                   const char *x_caption, const char *y_caption);

#endif
