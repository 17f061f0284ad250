/*
 * test_layers.c - the native tool's include graph points one way. Reads every
 * `#include "..."` in tools/ and fails, naming the file, the line and the include, on:
 *   - an include that points up the layer order, or across to another folder of the same
 *     layer (features/ <-> graph/): with neither, no cycle between folders can form;
 *   - a core-internal header (one in src/) not named through the sanctioned path "src/NAME.h"
 *     (the core's public include path holds only include/mdsrec.h);
 *   - an include that names no file, or a tools/ folder that has no layer in the table below.
 *
 * The layers, lowest first (a file may include its own layer's folder and any lower layer):
 *   core      include/mdsrec.h (public) and src/NAME.h (internal, by that path only)
 *   base      tools/cli.{c,h}, tools/parallel.{c,h}: messages, files, threads
 *   data      tools/data/: importers, the prepared dataset, the split
 *   features  tools/features/, graph  tools/graph/ (side by side: neither includes the other)
 *   eval      tools/eval/: metrics, the leave-one-out loop, scorers that need only data
 *   train     tools/train/: the trainer, its model's scorer, checkpoints
 *   export    tools/export/: the bundle from a trained model
 *   report    tools/report/: the HTML and SVG of `mdsrec report`
 *   site      tools/site/: the pages, images and files of `mdsrec site`
 *   cmd       the other files at tools/ (cmd_*.c, the dispatcher, synth) and the generated
 *             command table
 * A self-test first runs the checker on a small tree with two planted faults.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"

typedef struct {
    const char *folder; /* under tools/; "" for the files at tools/ itself */
    int rank;
} layer;

/* Files at tools/ that are base, not cmd. */
static const char *const BASE_FILES[] = {"cli.c", "cli.h", "parallel.c", "parallel.h", NULL};

static const layer LAYERS[] = {
    {"data", 2}, {"features", 3}, {"graph", 3}, {"eval", 4}, {"train", 5}, {"export", 6}, {"report", 7}, {"site", 8},
};
#define RANK_CORE 0
#define RANK_BASE 1
#define RANK_CMD 9
#define RANK_UNKNOWN -1

/* Generated into the build tree (CMakeLists.txt): the command table, for the dispatcher. */
static const char *const GENERATED[] = {"commands.gen.h", "commands_rows.gen.h", NULL};

static int in_list(const char *const *list, const char *s) {
    for (; *list; list++)
        if (!strcmp(*list, s)) return 1;
    return 0;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A path under tools/ ("train/loop.c", "cli.h") -> its layer's rank and folder name. */
static int rank_of(const char *rel, char *folder, size_t cap) {
    const char *slash = strchr(rel, '/');
    if (!slash) {
        snprintf(folder, cap, "%s", in_list(BASE_FILES, rel) ? "(base)" : "(cmd)");
        return in_list(BASE_FILES, rel) ? RANK_BASE : RANK_CMD;
    }
    snprintf(folder, cap, "%.*s", (int)(slash - rel), rel);
    for (size_t i = 0; i < sizeof LAYERS / sizeof *LAYERS; i++)
        if (!strcmp(LAYERS[i].folder, folder)) return LAYERS[i].rank;
    return RANK_UNKNOWN;
}

static int n_faults;
static int quiet;

static void fault(const char *file, int line, const char *inc, const char *why) {
    n_faults++;
    if (!quiet) fprintf(stderr, "  tools/%s:%d: #include \"%s\": %s\n", file, line, inc, why);
}

/* Collapses "a/b/../c" and "./" in a relative path, in place. */
static void normalise(char *p) {
    char *parts[64];
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", p);
    for (char *t = strtok(buf, "/"); t && n < 64; t = strtok(NULL, "/")) {
        if (!strcmp(t, ".")) continue;
        if (!strcmp(t, "..") && n > 0 && strcmp(parts[n - 1], "..")) {
            n--;
            continue;
        }
        parts[n++] = t;
    }
    p[0] = 0;
    for (int i = 0; i < n; i++) {
        strcat(p, parts[i]);
        if (i + 1 < n) strcat(p, "/");
    }
}

/* Checks one file's includes; rel is its path under root/tools. */
static void check_file(const char *root, const char *rel) {
    char path[2048], src_folder[256], dst_folder[256];
    snprintf(path, sizeof path, "%s/tools/%s", root, rel);
    int src_rank = rank_of(rel, src_folder, sizeof src_folder);
    if (src_rank == RANK_UNKNOWN) {
        fault(rel, 0, "-", "this folder has no layer: add it to the table in tests/c/test_layers.c");
        return;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fault(rel, 0, "-", "cannot open");
        return;
    }
    char line[4096];
    int ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p != '#') continue;
        p++;
        while (*p == ' ' || *p == '\t') p++;
        if (strncmp(p, "include", 7)) continue;
        p += 7;
        while (*p == ' ' || *p == '\t') p++;
        if (*p != '"') continue;
        char *q = strchr(p + 1, '"');
        if (!q) continue;
        char inc[1024];
        snprintf(inc, sizeof inc, "%.*s", (int)(q - p - 1), p + 1);

        if (!strcmp(inc, "mdsrec.h")) continue; /* the public API: every layer may use it */
        char probe[8192];
        if (!strncmp(inc, "src/", 4)) {
            snprintf(probe, sizeof probe, "%s/%s", root, inc);
            if (!exists(probe)) fault(rel, ln, inc, "no such core header");
            continue;
        }
        if (in_list(GENERATED, inc)) {
            if (src_rank != RANK_CMD) fault(rel, ln, inc, "the generated command table is for the cmd layer only");
            continue;
        }
        /* As the compiler looks: beside the including file, then from tools/. */
        char target[2048] = "";
        const char *slash = strrchr(rel, '/');
        char cand[2048];
        snprintf(cand, sizeof cand, "%.*s%s%s", slash ? (int)(slash - rel) : 0, rel, slash ? "/" : "", inc);
        normalise(cand);
        snprintf(probe, sizeof probe, "%s/tools/%s", root, cand);
        if (exists(probe)) {
            snprintf(target, sizeof target, "%s", cand);
        } else {
            snprintf(cand, sizeof cand, "%s", inc);
            normalise(cand);
            snprintf(probe, sizeof probe, "%s/tools/%s", root, cand);
            if (exists(probe)) snprintf(target, sizeof target, "%s", cand);
        }
        if (!target[0]) {
            const char *base = strrchr(inc, '/') ? strrchr(inc, '/') + 1 : inc;
            snprintf(probe, sizeof probe, "%s/src/%s", root, base);
            char why[8192];
            if (exists(probe))
                snprintf(why, sizeof why, "a core-internal header: include it as \"src/%s\"", base);
            else
                snprintf(why, sizeof why, "names no file in tools/ or the core");
            fault(rel, ln, inc, why);
            continue;
        }
        int dst_rank = rank_of(target, dst_folder, sizeof dst_folder);
        char why[8192];
        if (dst_rank == RANK_UNKNOWN) {
            snprintf(why, sizeof why, "tools/%s is in a folder with no layer", target);
            fault(rel, ln, inc, why);
        } else if (dst_rank > src_rank) {
            snprintf(why, sizeof why, "points up: %s (layer %d) includes %s (layer %d)", src_folder, src_rank,
                     dst_folder, dst_rank);
            fault(rel, ln, inc, why);
        } else if (dst_rank == src_rank && strcmp(src_folder, dst_folder)) {
            snprintf(why, sizeof why, "points across: %s and %s share a layer, so neither includes the other",
                     src_folder, dst_folder);
            fault(rel, ln, inc, why);
        }
    }
    fclose(f);
}

/* Every .c and .h under root/tools/<rel>, depth first. */
static void walk(const char *root, const char *rel) {
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/tools%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) {
        fault(rel, 0, "-", "cannot open the directory");
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[1024], full[3072];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk(root, sub);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n > 2 && (!strcmp(e->d_name + n - 2, ".c") || !strcmp(e->d_name + n - 2, ".h"))) check_file(root, sub);
    }
    closedir(d);
}

static int check_tree(const char *root) {
    n_faults = 0;
    walk(root, "");
    return n_faults;
}

/* ---------------------------------------------------------------- self-test */

static void put(const char *root, const char *rel, const char *text) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = 0;
        mkdir(path, 0777);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void self_test(void) {
    const char *tmp = getenv("MDSREC_TMP") ? getenv("MDSREC_TMP") : "/tmp";
    char root[1024];
    snprintf(root, sizeof root, "%s/layers_selftest", tmp);
    mkdir(root, 0777);
    put(root, "src/model.h", "\n");
    put(root, "tools/cli.h", "\n");
    put(root, "tools/data/prepared.h", "#include \"cli.h\"\n#include \"mdsrec.h\"\n#include \"src/model.h\"\n");
    put(root, "tools/train/tmodel.h", "#include \"data/prepared.h\"\n#include \"../eval/evaluate.h\"\n");
    put(root, "tools/eval/evaluate.h", "#include \"data/prepared.h\"\n");
    put(root, "tools/cmd_x.c", "#include \"train/tmodel.h\"\n#include \"commands.gen.h\"\n");
    char planted[2][1200];
    snprintf(planted[0], sizeof planted[0], "%s/tools/eval/scorers.c", root);
    snprintf(planted[1], sizeof planted[1], "%s/tools/graph/knn.c", root);
    remove(planted[0]); /* left by an earlier run */
    remove(planted[1]);
    quiet = 1;
    CHECK_MSG(check_tree(root) == 0, "self-test: a clean tree has %d faults", n_faults);
    /* the two planted faults: an arrow up from eval to train, and a bare internal header */
    put(root, "tools/eval/scorers.c", "#include \"evaluate.h\"\n#include \"train/tmodel.h\"\n");
    put(root, "tools/graph/knn.c", "#include \"model.h\"\n");
    CHECK_MSG(check_tree(root) == 2, "self-test: %d faults found, 2 planted", n_faults);
    remove(planted[0]);
    remove(planted[1]);
    quiet = 0;
}

int main(void) {
    self_test();
    /* ctest runs this from the repository root */
    int n = check_tree(".");
    CHECK_MSG(n == 0, "%d include(s) break the layers of tools/ (listed above)", n);
    return check_done("test_layers");
}
