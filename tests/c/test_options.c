/* test_options.c - the table-driven option parser (tools/options.h) on its own: both value
   forms, defaults, flags, choices (local names and the core's name tables), ranges, checks,
   repeatable options, positionals, required options, the messages of each error and the
   help text generated from a table. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "mdsrec.h"
#include "options.h"

static char err[8192], out[16384];

/* Runs fd's output into a temporary file from here to capture_end. */
static int capture_begin(int fd, FILE **tmp) {
    fflush(fd == 1 ? stdout : stderr);
    *tmp = tmpfile();
    int saved = dup(fd);
    dup2(fileno(*tmp), fd);
    return saved;
}

static void capture_end(int fd, FILE *tmp, int saved, char *buf, size_t cap) {
    fflush(fd == 1 ? stdout : stderr);
    dup2(saved, fd);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
}

/* The destinations of the test table, reset before each parse. */
static const char *s_out, *s_name;
static uint32_t s_epochs, s_k;
static uint64_t s_seed;
static float s_rate;
static int s_quiet, s_mode, s_dtype, s_pool, s_given_seed;
static const char *s_models[3], *s_files[2];
static opt_list s_model_list, s_file_list;

static const char *const mode_names[] = {"fixed", "learned", NULL};

static const char *name_check(const char *v) { return strchr(v, ' ') ? "a name without spaces" : NULL; }

static const opt rows[] = {
    {"--out", OPT_STRING, &s_out, "DIR", .help = "where it goes", .flags = OPT_REQUIRED},
    {"--name", OPT_STRING, &s_name, "NAME", .help = "a name", .check = name_check},
    {"--epochs", OPT_U32, &s_epochs, "N", .help = "most epochs", .min = 1, .max = 100000},
    {"-k", OPT_U32, &s_k, "K", .help = "results"},
    {"--seed", OPT_U64, &s_seed, "S", .help = "random seed", .given = &s_given_seed},
    {"--rate", OPT_FLOAT, &s_rate, "P", .help = "a rate\nover two lines", .min = 0, .max = 1, .flags = OPT_MAX_OPEN},
    {"--quiet", OPT_FLAG, &s_quiet, .help = "no progress"},
    {"--mode", OPT_CHOICE, &s_mode, .help = "the gate", .names = mode_names, .alias = "--gate"},
    {"--dtype", OPT_CHOICE, &s_dtype, .help = "item type", .lookup = &opt_dtype_enum},
    {"--centre", OPT_CHOICE, &s_pool, .help = "centre", .lookup = &opt_pool_enum, .def = "the model's"},
    {"--model", OPT_LIST, &s_model_list, "PATH", .help = "repeatable"},
};
static const opt_cmd cmd = {"demo", .opts = rows, .n_opts = OPT_COUNT(rows), .pos_name = "FILE",
                            .pos = &s_file_list, .pos_min = 0};

static void reset(void) {
    s_out = s_name = NULL;
    s_epochs = 200, s_k = 10, s_seed = 1, s_rate = 0.5f;
    s_quiet = 0, s_mode = 0, s_dtype = MDSREC_F32, s_pool = -1, s_given_seed = 0;
    s_model_list = (opt_list){s_models, 0, 3};
    s_file_list = (opt_list){s_files, 0, 2};
}

/* Parses a NULL-terminated argument list (after the command's name), stderr into err[]. */
static int parse_with(const opt_cmd *c, const char *a0, ...) {
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"demo";
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 31; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    reset();
    FILE *te, *to;
    int se = capture_begin(2, &te), so = capture_begin(1, &to);
    int rc = opt_parse(c, argc, argv);
    capture_end(1, to, so, out, sizeof out);
    capture_end(2, te, se, err, sizeof err);
    return rc;
}
#define parse(...) parse_with(&cmd, __VA_ARGS__, (const char *)NULL)

static int has(const char *s) { return strstr(err, s) != NULL; }

int main(void) {
    cli_command = "demo";

    /* the core's name tables: canonical names, the long dtype spellings, and nothing else */
    CHECK(!strcmp(mdsrec_dtype_name(MDSREC_F32), "f32") && !strcmp(mdsrec_dtype_name(MDSREC_F16), "f16") &&
          !strcmp(mdsrec_dtype_name(MDSREC_I8), "i8") && !strcmp(mdsrec_dtype_name(MDSREC_PQ), "pq") &&
          !mdsrec_dtype_name(4) && !mdsrec_dtype_name(-1));
    CHECK(!strcmp(mdsrec_weight_dtype_name(MDSREC_WEIGHTS_Q8), "q8") && !mdsrec_weight_dtype_name(3));
    CHECK(mdsrec_dtype_from_name("i8") == MDSREC_I8 && mdsrec_dtype_from_name("int8") == MDSREC_I8 &&
          mdsrec_dtype_from_name("fp16") == MDSREC_F16 && mdsrec_dtype_from_name("f64") == -1 &&
          mdsrec_dtype_from_name(NULL) == -1 && mdsrec_dtype_from_name("") == -1);
    for (int p = MDSREC_POOL_NONE; p <= MDSREC_POOL_TOKEN; p++)
        CHECK(mdsrec_pool_name(p) && mdsrec_pool_from_name(mdsrec_pool_name(p)) == p);
    CHECK(!strcmp(mdsrec_pool_name(MDSREC_POOL_LAST), "last") && !mdsrec_pool_name(4) &&
          mdsrec_pool_from_name("centre") == -1 && mdsrec_pool_from_name(NULL) == -1);

    /* defaults stay when nothing is given */
    CHECK(parse("--out", "o") == OPT_PROCEED);
    CHECK(!strcmp(s_out, "o") && s_epochs == 200 && s_k == 10 && s_seed == 1 && s_rate == 0.5f && !s_quiet &&
          s_mode == 0 && s_dtype == MDSREC_F32 && s_pool == -1 && !s_given_seed && s_model_list.n == 0 && !s_name);

    /* "--x v" and "--x=v", flags, choices, u64, float, short names, aliases, lists, positionals */
    CHECK(parse("--out=o2", "--epochs", "7", "--seed=18446744073709551615", "--rate", "0.25", "--quiet", "-k", "3",
                "--gate", "learned", "--dtype=int8", "--centre", "token", "--model", "a", "--model=b", "f1", "--",
                "--f2") == OPT_PROCEED);
    CHECK(!strcmp(s_out, "o2") && s_epochs == 7 && s_seed == UINT64_MAX && s_given_seed && s_rate == 0.25f && s_quiet &&
          s_k == 3 && s_mode == 1 && s_dtype == MDSREC_I8 && s_pool == MDSREC_POOL_TOKEN);
    CHECK(s_model_list.n == 2 && !strcmp(s_models[0], "a") && !strcmp(s_models[1], "b"));
    CHECK(s_file_list.n == 2 && !strcmp(s_files[0], "f1") && !strcmp(s_files[1], "--f2"));
    CHECK(parse("--out", "o", "--epochs", "5", "--epochs", "6") == OPT_PROCEED && s_epochs == 6); /* the last wins */
    CHECK(parse("--out", "o", "--name=") == OPT_PROCEED && s_name && !*s_name);                  /* empty is a value */

    /* errors: exit 2, one message naming the option and what was expected */
    CHECK(parse("--out", "o", "--epochs", "abc") == CLI_EXIT_USAGE &&
          has("mdsrec demo: --epochs: expected an integer in 1..100000, got 'abc'"));
    CHECK(parse("--out", "o", "--epochs", "0") == CLI_EXIT_USAGE && has("--epochs: expected an integer in 1..100000"));
    CHECK(parse("--out", "o", "--epochs=100001") == CLI_EXIT_USAGE && has("got '100001'"));
    CHECK(parse("--out", "o", "-k", "-1") == CLI_EXIT_USAGE && has("-k: expected an integer in 0..4294967295, got '-1'"));
    CHECK(parse("--out", "o", "-k", "4294967296") == CLI_EXIT_USAGE && has("-k: expected"));
    CHECK(parse("--out", "o", "--seed", "1e3") == CLI_EXIT_USAGE && has("--seed: expected a non-negative integer"));
    CHECK(parse("--out", "o", "--rate", "1") == CLI_EXIT_USAGE && has("--rate: expected a number in [0, 1), got '1'"));
    CHECK(parse("--out", "o", "--rate", "nan") == CLI_EXIT_USAGE && has("--rate: expected a number"));
    CHECK(parse("--out", "o", "--mode", "auto") == CLI_EXIT_USAGE && has("--mode: expected one of fixed, learned, got 'auto'"));
    CHECK(parse("--out", "o", "--dtype", "f64") == CLI_EXIT_USAGE && has("--dtype: expected one of f32, f16, i8, pq, got 'f64'"));
    CHECK(parse("--out", "o", "--centre", "centre") == CLI_EXIT_USAGE &&
          has("--centre: expected one of none, last, mean, token"));
    CHECK(parse("--out", "o", "--name", "a b") == CLI_EXIT_USAGE && has("--name: expected a name without spaces, got 'a b'"));
    CHECK(parse("--out") == CLI_EXIT_USAGE && has("--out: missing value (expected DIR)"));
    CHECK(parse("--out", "--quiet") == CLI_EXIT_USAGE && has("--out: missing value"));
    CHECK(parse("--out", "o", "--quiet=1") == CLI_EXIT_USAGE && has("--quiet: takes no value"));
    CHECK(parse("--out", "o", "--epoch", "3") == CLI_EXIT_USAGE &&
          has("unknown option '--epoch' (did you mean --epochs? see mdsrec demo --help)"));
    CHECK(parse("--out", "o", "--zzzzzz") == CLI_EXIT_USAGE && has("unknown option '--zzzzzz' (see mdsrec demo --help)"));
    CHECK(parse("--out", "o", "--zzzzzz=4") == CLI_EXIT_USAGE && has("unknown option '--zzzzzz'"));
    CHECK(parse("--quiet") == CLI_EXIT_USAGE && has("--out DIR is required (see mdsrec demo --help)"));
    CHECK(parse("--out", "o", "a", "b", "c") == CLI_EXIT_USAGE && has("unexpected argument 'c': at most 2 FILE"));
    CHECK(parse("--out", "o", "--model", "1", "--model", "2", "--model", "3", "--model", "4") == CLI_EXIT_USAGE &&
          has("--model: at most 3"));
    /* a failed parse says one thing only */
    CHECK(parse("--out", "o", "--epochs", "x") == CLI_EXIT_USAGE && strchr(err, '\n') == err + strlen(err) - 1);

    /* help: before any value is written, from the table */
    CHECK(parse("--epochs", "9", "--help") == CLI_EXIT_OK && s_epochs == 200 && err[0] == 0);
    CHECK(strstr(out, "usage: mdsrec demo --out DIR [FILE...] [options]\n"));
    CHECK(strstr(out, "  --out DIR               where it goes (required)\n"));
    CHECK(strstr(out, "  --epochs N              most epochs (default: 200)\n"));
    CHECK(strstr(out, "  -k K                    results (default: 10)\n"));
    CHECK(strstr(out, "  --rate P                a rate\n                          over two lines (default: 0.5)\n"));
    CHECK(strstr(out, "  --quiet                 no progress\n"));
    CHECK(strstr(out, "  --mode fixed|learned    the gate (default: fixed) (also --gate)\n"));
    CHECK(strstr(out, "  --dtype f32|f16|i8|pq   item type (default: f32)\n"));
    CHECK(strstr(out, "  --centre none|last|mean|token\n                          centre (default: the model's)\n"));
    CHECK(strstr(out, "exit codes: 0 success"));
    CHECK(parse("-h") == CLI_EXIT_OK && strstr(out, "usage: mdsrec demo"));
    /* "-h" as a value is a value, not a request for help */
    CHECK(parse("--out", "-h") == OPT_PROCEED && !strcmp(s_out, "-h") && out[0] == 0);
    /* after "--" nothing is an option */
    CHECK(parse("--out", "o", "--", "--help") == OPT_PROCEED && s_file_list.n == 1);

    /* a command without positionals refuses them; one with a minimum asks for it */
    static const char *one[1];
    static opt_list one_list;
    one_list = (opt_list){one, 0, 1};
    const opt_cmd bare = {"bare", .opts = rows + 6, .n_opts = 1};
    const opt_cmd needs = {"needs", .pos_name = "FILE", .pos = &one_list, .pos_min = 1};
    CHECK(parse_with(&bare, "x", (const char *)NULL) == CLI_EXIT_USAGE &&
          has("unexpected argument 'x' (see mdsrec bare --help)"));
    CHECK(parse_with(&needs, (const char *)NULL) == CLI_EXIT_USAGE && has("FILE is required (see mdsrec needs --help)"));
    one_list.n = 0;
    CHECK(parse_with(&needs, "f", (const char *)NULL) == OPT_PROCEED && one_list.n == 1 && !strcmp(one[0], "f"));
    one_list.n = 0;
    CHECK(parse_with(&needs, "-", (const char *)NULL) == OPT_PROCEED && !strcmp(one[0], "-")); /* stdin's name */

    /* a rule across options: its own message and the hint */
    FILE *te;
    int se = capture_begin(2, &te);
    int rc = opt_usage_error(&cmd, "--heads %u does not divide --dim %u", 3u, 64u);
    capture_end(2, te, se, err, sizeof err);
    CHECK(rc == CLI_EXIT_USAGE && has("mdsrec demo: --heads 3 does not divide --dim 64 (see mdsrec demo --help)"));
    return check_done("test_options");
}
