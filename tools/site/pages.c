/* pages.c - the demo's pages with a store's name and bundle written in (pages.h). */
#include "site/pages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report/html.h"

/* The span [*a, *b) strictly between the first `open` at or after from and the `close` after
   it. 0, or -1 when either is missing. */
static int between(const char *from, const char *open, const char *close, const char **a, const char **b) {
    const char *o = strstr(from, open);
    if (!o) return -1;
    const char *c = strstr(o + strlen(open), close);
    if (!c) return -1;
    *a = o + strlen(open), *b = c;
    return 0;
}

int site_write_page(const char *src, const char *dst, const char *title, const char *model, const char *origins) {
    size_t len;
    char *html = (char *)cli_read_file(src, &len);
    if (!html) return -1;
    const char *t0, *t1, *s0, *s1, *body = strstr(html, "<body");
    const char *missing = between(html, "<title>", "</title>", &t0, &t1) ? "<title>...</title>"
                          : !body ? "<body>"
                          : between(body, "<span id=\"store-name\">", "</span>", &s0, &s1) ? "<span id=\"store-name\">"
                                                                                          : NULL;
    if (missing) {
        cli_error("%s: no %s in it (expected a page of the mdsrec demo)", src, missing);
        free(html);
        return -1;
    }
    FILE *f = fopen(dst, "wb");
    if (!f) {
        cli_error("%s: cannot write: %s", dst, strerror(errno));
        free(html);
        return -1;
    }
    body += strlen("<body");
    fwrite(html, 1, (size_t)(t0 - html), f);
    html_text(f, title);
    fwrite(t1, 1, (size_t)(body - t1), f);
    fputs(" data-model=\"", f);
    html_text(f, model);
    fputs("\" data-title=\"", f);
    html_text(f, title);
    fputc('"', f);
    if (origins && *origins) {
        fputs(" data-image-origins=\"", f);
        html_text(f, origins);
        fputc('"', f);
    }
    fwrite(body, 1, (size_t)(s0 - body), f);
    html_text(f, title);
    fwrite(s1, 1, len - (size_t)(s1 - html), f);
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    free(html);
    if (bad) cli_error("%s: write failed", dst);
    return bad ? -1 : 0;
}
