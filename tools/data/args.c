/* args.c - option parsing shared by the data commands (see args.h). */
#include "data/args.h"

#include <string.h>

#include "cli.h"

const char *arg_value(int argc, char **argv, int *i, const char *name, int *missing) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, "--", 2) || strncmp(a + 2, name, n)) return NULL;
    if (a[2 + n] == '=') return a + 3 + n;
    if (a[2 + n]) return NULL;
    if (*i + 1 >= argc) {
        cli_error("option --%s needs a value", name);
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int arg_flag(char **argv, int i, const char *name) {
    return !strncmp(argv[i], "--", 2) && !strcmp(argv[i] + 2, name);
}
