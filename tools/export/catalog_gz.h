/*
 * catalog_gz.h - a bundle's catalogue in either of its forms (models/FORMAT.md): CATALOG, the
 * JSON as it is, or CATALOG_GZ, that JSON as one gzip member. The core hands either over
 * without parsing; the tools compress and inflate with zlib here, the browser shim with
 * DecompressionStream. A store's catalogue JSON (titles, categories, image paths) repeats its
 * field names and values on every item, so gzip takes it to a fifth or less of its size.
 */
#ifndef MDSREC_EXPORT_CATALOG_GZ_H
#define MDSREC_EXPORT_CATALOG_GZ_H

#include <stddef.h>
#include <stdint.h>

#include "mdsrec.h"
#include "src/bundle.h"

/* The gzip member of json[0..len) at level 9, deterministic (no name, mtime 0), in a malloc'd
   buffer (*gz, *gz_len; free() it). 0, or -1 after cli_error (out of memory). */
int catalog_gzip(const char *json, size_t len, uint8_t **gz, size_t *gz_len);

/* catalog_gzip in place: the malloc'd JSON *catalog (*len bytes) is freed and replaced by its
   gzip member. 0, or -1 after cli_error (*catalog then still the JSON, the caller's to free). */
int catalog_gzip_owned(char **catalog, size_t *len);

/* The catalogue JSON of a bundle, whichever form it holds, as a malloc'd NUL-terminated copy
   (*json, *len; free() it); *json NULL and *len 0 when the bundle has none. `what` names the
   bundle in messages. 0, or -1 after cli_error (a CATALOG_GZ that does not inflate names the
   section and the reason; out of memory). */
int catalog_of_model(const mdsrec_model *m, const char *what, char **json, size_t *len);
int catalog_of_view(const bundle_view *v, const char *what, char **json, size_t *len);

#endif
