/*
 * pages.h - the storefront and kiosk pages of a site: the demo's pages (web/index.html,
 * web/kiosk.html) with the store's name and its bundle written in. web/demo/app.js reads
 * them from <body data-model data-title data-image-origins>.
 */
#ifndef MDSREC_SITE_PAGES_H
#define MDSREC_SITE_PAGES_H

/* Writes the page src to dst with: the text of <title> and of <span id="store-name"> set
   to title (HTML-escaped), and data-model="model", data-title="title" and, when origins is
   not NULL or empty, data-image-origins="origins" (space-separated origins the cards may
   load images from) added to <body>. 0, or -1 after cli_error naming src when one of the
   three places is missing (not a page of the demo) or dst cannot be written. */
int site_write_page(const char *src, const char *dst, const char *title, const char *model, const char *origins);

#endif
