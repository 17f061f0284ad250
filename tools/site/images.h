/*
 * images.h - product images for `mdsrec site`: an item's file found by its key, and its copy
 * in the site (downscaled when larger than the site shows it).
 */
#ifndef MDSREC_SITE_IMAGES_H
#define MDSREC_SITE_IMAGES_H

#include <stddef.h>
#include <stdint.h>

/* The file of item `key` in dir: pattern with "{}" replaced by the key when pattern is not
   NULL, else the first of KEY.jpg, KEY.jpeg, KEY.png, KEY.webp, KEY.gif that exists. A
   malloc'd path, or NULL when none exists (or out of memory). Keys holding '/' or equal to
   "." or ".." match nothing, so a key cannot name a file outside dir. */
char *site_image_find(const char *dir, const char *pattern, const char *key);

/* The browser's image type of a file by its first bytes: "png", "jpg", "gif", "webp", or NULL
   for anything else (or an unreadable file). */
const char *site_image_type(const char *path);

/* Puts the image file src into out_dir as STEM.EXT and writes "STEM.EXT" to name[0..n).
   A PNG or JPEG whose longer side exceeds max_side (0: no limit) is decoded, resized to
   max_side on that side and re-encoded (JPEG quality 85, or PNG when it has alpha); any
   other PNG, JPEG, GIF or WebP is copied as it is. 0, or -1 after cli_error naming src:
   not an image type browsers show, a PNG or JPEG that does not decode, a write failure. */
int site_image_put(const char *src, const char *out_dir, const char *stem, uint32_t max_side, char *name, size_t n);

#endif
