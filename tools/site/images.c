/* images.c - finding, checking and copying or downscaling product images (images.h). */
#include "site/images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include "cli.h"
#include "site/files.h"

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir + "/" + pattern with "{}" -> key; malloc'd. */
static char *expand(const char *dir, const char *pattern, const char *key) {
    size_t n = strlen(dir) + strlen(pattern) + 2, lk = strlen(key);
    for (const char *p = strstr(pattern, "{}"); p; p = strstr(p + 2, "{}")) n += lk;
    char *out = malloc(n), *o = out;
    if (!out) return NULL;
    o += sprintf(o, "%s/", dir);
    for (const char *p = pattern; *p;) {
        if (p[0] == '{' && p[1] == '}') {
            memcpy(o, key, lk);
            o += lk, p += 2;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

char *site_image_find(const char *dir, const char *pattern, const char *key) {
    if (strchr(key, '/') || !strcmp(key, ".") || !strcmp(key, "..")) return NULL;
    static const char *const tries[] = {"{}.jpg", "{}.jpeg", "{}.png", "{}.webp", "{}.gif", NULL};
    const char *const one[] = {pattern, NULL};
    for (const char *const *t = pattern ? one : tries; *t; t++) {
        char *p = expand(dir, *t, key);
        if (!p || is_file(p)) return p;
        free(p);
    }
    return NULL;
}

const char *site_image_type(const char *path) {
    unsigned char b[12] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return "png";
    if (n >= 3 && !memcmp(b, "\xff\xd8\xff", 3)) return "jpg";
    if (n >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6))) return "gif";
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) return "webp";
    return NULL;
}

/* Decodes src, resizes it to fit max_side and writes it as out_dir/stem.(jpg|png). */
static int downscale(const char *src, int w, int h, const char *out_dir, const char *stem, uint32_t max_side, char *name,
                     size_t n) {
    int c = 0;
    unsigned char *px = stbi_load(src, &w, &h, &c, 0);
    if (!px) {
        cli_error("%s: cannot decode the image: %s", src, stbi_failure_reason());
        return -1;
    }
    int ow = w >= h ? (int)max_side : (int)((double)w * max_side / h + 0.5);
    int oh = w >= h ? (int)((double)h * max_side / w + 0.5) : (int)max_side;
    if (ow < 1) ow = 1;
    if (oh < 1) oh = 1;
    int rc = -1;
    unsigned char *small = malloc((size_t)ow * oh * c);
    if (!small) {
        cli_error("%s: out of memory for a %dx%d thumbnail", src, ow, oh);
        goto done;
    }
    if (!stbir_resize_uint8(px, w, h, 0, small, ow, oh, 0, c)) {
        cli_error("%s: cannot resize the image", src);
        goto done;
    }
    int alpha = c == 2 || c == 4;
    if (snprintf(name, n, "%s.%s", stem, alpha ? "png" : "jpg") >= (int)n) {
        cli_error("%s: output name too long", src);
        goto done;
    }
    size_t lp = strlen(out_dir) + strlen(name) + 2;
    char *dst = malloc(lp);
    if (!dst) goto done;
    snprintf(dst, lp, "%s/%s", out_dir, name);
    int ok = alpha ? stbi_write_png(dst, ow, oh, c, small, ow * c) : stbi_write_jpg(dst, ow, oh, c, small, 85);
    if (!ok) cli_error("%s: cannot write the thumbnail of %s", dst, src);
    free(dst);
    rc = ok ? 0 : -1;
done:
    free(small);
    stbi_image_free(px);
    return rc;
}

int site_image_put(const char *src, const char *out_dir, const char *stem, uint32_t max_side, char *name, size_t n) {
    const char *type = site_image_type(src);
    if (!type) {
        if (is_file(src)) cli_error("%s: not a PNG, JPEG, GIF or WebP image (the types browsers show)", src);
        else cli_error("%s: no such image file", src);
        return -1;
    }
    if (!strcmp(type, "png") || !strcmp(type, "jpg")) {
        int w, h, c;
        if (!stbi_info(src, &w, &h, &c)) {
            cli_error("%s: cannot decode the image: %s", src, stbi_failure_reason());
            return -1;
        }
        if (max_side && (uint32_t)(w > h ? w : h) > max_side)
            return downscale(src, w, h, out_dir, stem, max_side, name, n);
    }
    if (snprintf(name, n, "%s.%s", stem, type) >= (int)n) {
        cli_error("%s: output name too long", src);
        return -1;
    }
    size_t lp = strlen(out_dir) + strlen(name) + 2;
    char *dst = malloc(lp);
    if (!dst) {
        cli_error("%s: out of memory", src);
        return -1;
    }
    snprintf(dst, lp, "%s/%s", out_dir, name);
    int rc = site_copy_file(src, dst);
    free(dst);
    return rc;
}
