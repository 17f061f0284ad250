/* test_cli.c - the first `mdsrec` commands end to end (synth, inspect, recommend): output,
   exit codes (0 ok, 1 bad input, 2 usage) and messages naming the file and the problem.
   Runs the tool at $MDSREC_BIN in the scratch directory $MDSREC_TMP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"

static const char *bin, *tmp;
static char out[1 << 16];

/* Runs "BIN ARGS 2>&1", keeps the output in out[]; returns the exit status. */
static int run(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int has(const char *s) { return strstr(out, s) != NULL; }

int main(void) {
    bin = getenv("MDSREC_BIN");
    tmp = getenv("MDSREC_TMP");
    if (!bin || !tmp) {
        fprintf(stderr, "test_cli: MDSREC_BIN and MDSREC_TMP must be set (ctest sets them)\n");
        return 1;
    }
    char a[512], args[2048];
    snprintf(a, sizeof a, "%s/cli-a.mdsb", tmp);

    /* synth */
    snprintf(args, sizeof args, "synth --out '%s' --items 300 --dim 16 --dtype i8 --catalog --seed 3", a);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK(run("synth --items 10") == 2 && has("--out FILE is required"));
    snprintf(args, sizeof args, "synth --out '%s.x' --items 10 --dtype fp64", a);
    CHECK(run(args) == 2 && has("--dtype"));
    snprintf(args, sizeof args, "synth --out '%s.x' --items 10 --dim 30 --heads 4", a);
    CHECK(run(args) == 2 && has("heads"));
    CHECK(run("synth --help") == 0 && has("usage: mdsrec synth"));

    /* inspect */
    snprintf(args, sizeof args, "inspect '%s'", a);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK(has("items       300") && has("item dtype  i8\n") && has("SCALES") && has("CATALOG") && !has("BAD"));
    CHECK(run("inspect") == 2);
    snprintf(args, sizeof args, "inspect '%s/does-not-exist.mdsb'", tmp);
    CHECK(run(args) == 1 && has("does-not-exist.mdsb") && has("cannot open"));
    char t[512];
    snprintf(t, sizeof t, "%s/cli-trunc.mdsb", tmp);
    snprintf(args, sizeof args, "head -c 5000 '%s' > '%s'", a, t);
    CHECK(system(args) == 0);
    snprintf(args, sizeof args, "inspect '%s'", t);
    CHECK(run(args) == 1 && has("cli-trunc.mdsb") && has("truncated"));

    /* recommend */
    snprintf(args, sizeof args, "recommend '%s' --history item-000001,item-000002 -k 4", a);
    CHECK_MSG(run(args) == 0, "%s", out);
    /* the table shows the catalogue's titles (synth's "Item N") and why each item is there */
    CHECK_MSG(has("rank  item ") && has("   4  Item ") && has("gate") && !has("   5  Item ") && !has("   1  item-"), "%s",
              out);
    CHECK_MSG(has("  why\n") && (has(", like Item 1\n") || has(", like Item 2\n")), "%s", out);
    snprintf(args, sizeof args, "recommend '%s' -k 2", a);
    CHECK_MSG(run(args) == 0 && has("   2  Item ") && has("  popular\n"), "%s", out);
    snprintf(args, sizeof args, "recommend '%s' --history item-000001 --json -k 2", a);
    CHECK(run(args) == 0 && has("\"items\"") && has("\"gate\"") && has("\"carrier\":\t\"item-000001\"") &&
          !has("Item "));
    snprintf(args, sizeof args, "recommend '%s' --history item-000001,nope", a);
    CHECK(run(args) == 1 && has("unknown item key 'nope'"));
    snprintf(args, sizeof args, "recommend '%s' --allow item-000007 -k 3 --history item-000001", a);
    CHECK(run(args) == 0 && has("Item 7 ") && !has("   2  Item "));
    snprintf(args, sizeof args, "recommend '%s' -k 0", a);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "recommend '%s' --repeat 5 --history item-000003", a);
    CHECK(run(args) == 0 && has("5 calls") && has("median"));
    snprintf(args, sizeof args, "recommend '%s'", t);
    CHECK(run(args) == 1 && has("invalid bundle"));
    CHECK(run("no-such-command") == 2);
    /* a bundle without a catalogue: the keys */
    snprintf(args, sizeof args, "synth --out '%s.nocat' --items 30 --dim 16 && '%s' recommend '%s.nocat' -k 2 --history item-000001", a, bin, a);
    CHECK_MSG(run(args) == 0 && has("rank  key ") && has("   2  item-0000") && has(", like item-000001\n"), "%s", out);
    snprintf(args, sizeof args, "%s.nocat", a);
    remove(args);
    remove(a);
    remove(t);
    return check_done("test_cli");
}
