/*
 * options.h - the one option parser of the `mdsrec` subcommands.
 *
 * A command declares its options as a table of rows (name, type, destination, range or
 * check, help line) and hands it to opt_parse with argv. From that one table it gets
 * "--name value" and "--name=value", positional arguments, --help / -h (usage line and one
 * line per option with its default), and usage errors that name the option and say what
 * was expected:
 *
 *     mdsrec train: --epochs: expected an integer in 1..100000, got 'abc'
 *     mdsrec train: --out: missing value (expected DIR)
 *     mdsrec train: unknown option '--epoch' (did you mean --epochs? see mdsrec train --help)
 *
 * A row, with designated initializers after the first four fields:
 *
 *     uint32_t epochs = 200;   // the destination's value before parsing is the default
 *     const opt rows[] = {
 *         {"--epochs", OPT_U32, &epochs, "N", .help = "most epochs", .min = 1, .max = 100000},
 *         {"--quiet", OPT_FLAG, &quiet, .help = "no progress lines"},
 *     };
 *     const opt_cmd cmd = {"train", .opts = rows, .n_opts = OPT_COUNT(rows)};
 *     int rc = opt_parse(&cmd, argc, argv);
 *     if (rc != OPT_PROCEED) return rc;   // help printed (0) or a usage error (2)
 *
 * The rows point at the command's own variables, so a table is a const array inside the
 * command's function. Rules that tie several options together are checked by the command
 * after opt_parse, each with its own message through opt_usage_error.
 */
#ifndef MDSREC_OPTIONS_H
#define MDSREC_OPTIONS_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    OPT_FLAG,   /* int: set to 1; takes no value */
    OPT_STRING, /* const char *: the value itself (a name, a path, a list) */
    OPT_U32,    /* uint32_t, decimal digits only */
    OPT_U64,    /* uint64_t, decimal digits only */
    OPT_FLOAT,  /* float, finite */
    OPT_CHOICE, /* int: the value of a name, from .names or .lookup */
    OPT_LIST    /* opt_list: each occurrence appended (a repeatable option) */
} opt_type;

/* A name <-> enum pair of functions whose values run 0, 1, ... until name() gives NULL
   (the core's mdsrec_dtype_name / mdsrec_dtype_from_name, say). value() may accept more
   spellings than name() gives; it returns -1 for an unknown name. */
typedef struct {
    const char *(*name)(int value);
    int (*value)(const char *name);
} opt_enum;

/* The values of a repeatable option or the positional arguments: v[0..n), at most max. */
typedef struct {
    const char **v;
    unsigned n, max;
} opt_list;

/* Row flags. */
enum {
    OPT_REQUIRED = 1, /* opt_parse fails, naming it, when the option is absent */
    OPT_MIN_OPEN = 2, /* the range excludes min (a float "> 0") */
    OPT_MAX_OPEN = 4  /* the range excludes max (a float "< 1") */
};

typedef struct {
    const char *name; /* "--epochs", or a short "-k" */
    opt_type type;
    void *dest;       /* by type, see opt_type; its value before opt_parse is the default */
    const char *arg;  /* the value's placeholder in help ("N", "DIR"); NULL: from the type */
    const char *help; /* the help line; a '\n' continues it on the next line */
    double min, max;  /* OPT_U32, OPT_U64, OPT_FLOAT: the accepted range when min < max
                         (max INFINITY: no upper bound) */
    unsigned flags;   /* OPT_REQUIRED, OPT_MIN_OPEN, OPT_MAX_OPEN */
    const char *def;  /* the default as help shows it, where the destination's initial value
                         is a sentinel ("every core"); "" shows none */
    const char *const *names; /* OPT_CHOICE: names of the values 0, 1, ..., NULL-terminated */
    const opt_enum *lookup;   /* OPT_CHOICE without names: the name <-> enum functions */
    /* OPT_STRING, OPT_LIST: NULL when the value is good, else what was expected (the
       message becomes "--NAME: expected <that>, got 'VALUE'") */
    const char *(*check)(const char *value);
    const char *alias; /* another accepted spelling, shown in help only */
    int *given;        /* if not NULL: set to 1 when the option appears */
} opt;

/* A command: its name for usage, help and hints ("train", "featurize image"), its rows and
   its positional arguments. */
typedef struct {
    const char *name;
    const char *usage;    /* what follows "usage: mdsrec NAME "; NULL: built from the rows */
    const char *about;    /* text between the usage line and the options, or NULL */
    const opt *opts;
    size_t n_opts;        /* at most OPT_MAX_ROWS */
    const char *pos_name; /* placeholder of the positional arguments ("FILE"); NULL: none */
    opt_list *pos;        /* where they go; pos->max caps their number */
    unsigned pos_min;     /* at least this many */
    const char *epilog;   /* text after the options, or NULL */
} opt_cmd;

#define OPT_COUNT(rows) (sizeof(rows) / sizeof((rows)[0]))
#define OPT_MAX_ROWS 64

/* opt_parse's "carry on": the options are parsed and checked. */
#define OPT_PROCEED (-1)

/* Parses argv[1..argc) (argv[0] is the command) into the rows' destinations.
   Returns OPT_PROCEED when the command should run; CLI_EXIT_OK after printing help to
   stdout (--help or -h anywhere among the options, before any destination is written);
   CLI_EXIT_USAGE after one message on stderr (cli_error) naming the option: unknown
   option, missing value, a value of the wrong type, out of range or refused by the row's
   check, a flag given a value, a required option absent, too many or too few positional
   arguments. "NAME=VALUE" works for short names too ("-k=3"). A value that starts with
   "--" is taken for a missing value: such a value must be written "--name=--value". "--"
   ends the options; "-" alone is a positional argument. An option given twice keeps the
   last value (OPT_LIST: all of them). */
int opt_parse(const opt_cmd *cmd, int argc, char **argv);

/* The usage line, the about text, one line per option (placeholder, help, default or
   "required") and the exit codes, generated from cmd. */
void opt_help(const opt_cmd *cmd, FILE *to);

/* A rule across options failed: prints the message (cli_error) with the hint
   "(see mdsrec NAME --help)" and returns CLI_EXIT_USAGE. */
int opt_usage_error(const opt_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The enum functions of the core's name tables, for OPT_CHOICE rows. */
extern const opt_enum opt_dtype_enum; /* mdsrec_dtype: f32, f16, i8, pq (also fp32, fp16, int8) */
extern const opt_enum opt_pool_enum;  /* mdsrec_pool_mode: none, last, mean, token */

/* Choices that more than one command takes. */
extern const char *const opt_nb_format_names[]; /* --neighbours-format: 0 csr, 1 compact, 2 bits */
extern const char *const opt_weight_dtype_names[]; /* --weights: mdsrec_weight_dtype f32, f16, q8 */
extern const opt_enum opt_table_format_enum;    /* table_format (data/table.h): auto, atomic, ... */

#endif /* MDSREC_OPTIONS_H */
