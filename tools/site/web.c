/* web.c - finding web/ and the list of its files a site needs (web.h). */
#include "site/web.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

const char *const SITE_WEB_PAGES[] = {"index.html", "kiosk.html", NULL};
const char *const SITE_WEB_FILES[] = {"mdsrec.js",         "worker.js",          "render.js",
                                      "kiosk-sw.js",       "demo/app.js",        "demo/style.css",
                                      "demo/icon.svg",     "demo/lock.svg",      "wasm/mdsrec-simd.wasm",
                                      "wasm/mdsrec-scalar.wasm", NULL};
const char *const SITE_WEB_OPTIONAL[] = {"wasm/mdsrec-relaxed.wasm", NULL};

static int is_file(const char *dir, const char *rel) {
    char p[4096];
    struct stat st;
    return snprintf(p, sizeof p, "%s/%s", dir, rel) < (int)sizeof p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int check_all(const char *dir, const char *const *files) {
    for (; *files; files++) {
        if (is_file(dir, *files)) continue;
        if (!strncmp(*files, "wasm/", 5))
            cli_error("%s/%s is missing: build the wasm cores first (bash scripts/build.sh)", dir, *files);
        else
            cli_error("%s/%s is missing (expected the web/ directory of mdsrec)", dir, *files);
        return -1;
    }
    return 0;
}

int site_find_web(const char *override, char *out, size_t n) {
    char cand[3][4096];
    int nc = 0;
    if (override) {
        snprintf(cand[nc++], sizeof cand[0], "%s", override);
    } else {
        char exe[3000]; /* shorter than cand's rows, so the suffixes below always fit */
        ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (l > 0) {
            exe[l] = 0;
            char *slash = strrchr(exe, '/');
            if (slash) *slash = 0;
            snprintf(cand[nc++], sizeof cand[0], "%s/../share/mdsrec/web", exe);
            snprintf(cand[nc++], sizeof cand[0], "%s/../../web", exe);
        }
#ifdef MDSREC_SOURCE_DIR
        snprintf(cand[nc++], sizeof cand[0], "%s/web", MDSREC_SOURCE_DIR);
#endif
    }
    int found = -1;
    for (int i = 0; i < nc && found < 0; i++)
        if (is_file(cand[i], "mdsrec.js")) found = i;
    if (found < 0) {
        if (override) {
            struct stat st;
            int r = stat(override, &st), e = errno;
            cli_error("--web %s: %s (expected the web/ directory of mdsrec, with mdsrec.js)", override,
                      r ? strerror(e) : !S_ISDIR(st.st_mode) ? "not a directory" : "no mdsrec.js in it");
        } else {
            cli_error("cannot find the web/ directory of mdsrec (looked beside the executable%s): give it with --web DIR",
                      nc > 2 ? " and in the source tree" : "");
        }
        return -1;
    }
    const char *dir = cand[found];
    if (check_all(dir, SITE_WEB_PAGES) || check_all(dir, SITE_WEB_FILES)) return -1;
    if (strlen(dir) >= n) {
        cli_error("%s: path too long", dir);
        return -1;
    }
    memcpy(out, dir, strlen(dir) + 1);
    return 0;
}
