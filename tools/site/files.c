/* files.c - directories, copies and the atomic swap of a site directory (files.h). */
#include "site/files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int site_mkdirs(const char *dir) {
    char *p = strdup(dir);
    if (!p) {
        cli_error("%s: out of memory", dir);
        return -1;
    }
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/') continue;
        char c = *s;
        *s = 0;
        struct stat st;
        if (mkdir(p, 0755) != 0 && (errno != EEXIST || stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) {
            cli_error("%s: cannot create the directory: %s", p, errno == EEXIST ? "a file has that name" : strerror(errno));
            rc = -1;
            break;
        }
        if (!(*s = c)) break;
    }
    free(p);
    return rc;
}

int site_copy_file(const char *src, const char *dst) {
    FILE *in = fopen(src, "rb");
    if (!in) {
        cli_error("%s: cannot read: %s", src, strerror(errno));
        return -1;
    }
    FILE *out = fopen(dst, "wb");
    if (!out) {
        cli_error("%s: cannot write: %s", dst, strerror(errno));
        fclose(in);
        return -1;
    }
    char buf[1 << 16];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n) {
            cli_error("%s: write failed: %s", dst, strerror(errno));
            rc = -1;
            break;
        }
    }
    if (!rc && ferror(in)) {
        cli_error("%s: read failed", src);
        rc = -1;
    }
    fclose(in);
    if (fclose(out) != 0 && !rc) {
        cli_error("%s: write failed: %s", dst, strerror(errno));
        rc = -1;
    }
    return rc;
}

int site_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *child = malloc(n);
        if (!child) {
            rc = -1;
            break;
        }
        snprintf(child, n, "%s/%s", path, e->d_name);
        rc = site_remove_tree(child);
        free(child);
    }
    closedir(d);
    return rc ? rc : rmdir(path);
}

int site_commit_dir(const char *tmp, const char *out, const char *marker) {
    struct stat st;
    if (lstat(out, &st) != 0) {
        if (errno != ENOENT) {
            cli_error("%s: %s", out, strerror(errno));
            return -1;
        }
        if (rename(tmp, out) == 0) return 0;
        cli_error("%s: cannot move the finished site into place: %s", out, strerror(errno));
        return -1;
    }
    size_t n = strlen(out) + strlen(marker) + 32;
    char *mark = malloc(n), *aside = malloc(n);
    int rc = -1;
    if (!mark || !aside) {
        cli_error("%s: out of memory", out);
        goto done;
    }
    snprintf(mark, n, "%s/%s", out, marker);
    struct stat sm;
    if (!S_ISDIR(st.st_mode) || lstat(mark, &sm) != 0 || !S_ISREG(sm.st_mode)) {
        cli_error("%s: exists and is not a site written by mdsrec site (no %s in it): left as it is; "
                  "give another --out or remove it", out, marker);
        goto done;
    }
    snprintf(aside, n, "%s.old.%ld", out, (long)getpid());
    if (rename(out, aside) != 0) {
        cli_error("%s: cannot move the previous site aside: %s", out, strerror(errno));
        goto done;
    }
    if (rename(tmp, out) != 0) {
        cli_error("%s: cannot move the finished site into place: %s", out, strerror(errno));
        if (rename(aside, out) != 0) cli_error("%s: the previous site is left at %s", out, aside);
        goto done;
    }
    if (site_remove_tree(aside) != 0) cli_error("%s: the previous site could not be removed: %s", aside, strerror(errno));
    rc = 0;
done:
    free(mark);
    free(aside);
    return rc;
}
