/*
 * web.h - where `mdsrec site` finds the browser side it copies (the repository's web/: the
 * shim, the demo pages and the wasm cores built by scripts/build.sh), and which files of it a
 * site needs.
 */
#ifndef MDSREC_SITE_WEB_H
#define MDSREC_SITE_WEB_H

#include <stddef.h>

/* The files a site copies from web/, relative to it, NULL-terminated. SITE_WEB_PAGES are
   parameterised (pages.h), SITE_WEB_FILES copied as they are; SITE_WEB_OPTIONAL are copied
   when present (the relaxed-SIMD core exists only where clang-19 built it). */
extern const char *const SITE_WEB_PAGES[];
extern const char *const SITE_WEB_FILES[];
extern const char *const SITE_WEB_OPTIONAL[];

/* Finds web/: `override` when not NULL (--web), else the first of <exe>/../share/mdsrec/web,
   <exe>/../../web (the build tree's bin/) and the source tree's web/ (compiled in) that holds
   mdsrec.js. Then checks every file of SITE_WEB_PAGES and SITE_WEB_FILES is there. Writes the
   directory to out[0..n). 0, or -1 after cli_error naming the missing directory or file (a
   missing wasm core: build it with scripts/build.sh). */
int site_find_web(const char *override, char *out, size_t n);

#endif
