/* main.c - the `mdsrec` tool: dispatch to one tools/cmd_*.c per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.gen.h"
#include "mdsrec.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
#include "commands_rows.gen.h"
};

static void usage(FILE *to) {
    fprintf(to, "usage: mdsrec COMMAND [options]   (mdsrec COMMAND --help for each)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\nexit codes: 0 success, 1 bad input or failure, 2 usage error\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("mdsrec (bundle format %d, kernels %s)\n", MDSREC_FORMAT_VERSION, mdsrec_kernels_name());
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            cli_command = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "mdsrec: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
