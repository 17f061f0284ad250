/*
 * test_input_files.c - what every command does with an input path that is not a plain file
 * (a directory: a clear message, never "out of memory for 9223372036854775807 bytes") and with
 * gzip input (read through: a gzipped log prepares exactly as the plain one; broken gzip is
 * an error that says so). Runs the built `mdsrec` ($MDSREC_BIN).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_data_helpers.h"

static void expect_dir_error(const char *what, int rc) {
    CHECK_MSG(rc == 1, "%s: exit %d", what, rc);
    CHECK_MSG(strstr(td_err, "is a directory, expected a file") != NULL, "%s: %s", what, td_err);
    CHECK_MSG(strstr(td_err, "out of memory") == NULL, "%s: %s", what, td_err);
}

int main(void) {
    const char *base = td_dir("input_files");
    char adir[1100], prep[1100], cmd[4000];
    snprintf(adir, sizeof adir, "%s/adir", base);
    snprintf(prep, sizeof prep, "%s/prep", base);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", adir);
    CHECK(system(cmd) == 0);

    /* a directory where a file is expected */
    expect_dir_error("inspect", td_run("inspect '%s'", adir));
    expect_dir_error("recommend", td_run("recommend '%s' --history 1", adir));
    expect_dir_error("prepare --inter", td_run("prepare --out '%s/p0' --inter '%s'", base, adir));
    CHECK(td_run("prepare --out '%s' --inter " FX "shop.inter", prep) == 0);
    expect_dir_error("featurize text --catalog",
                     td_run("featurize text --dir '%s' --catalog '%s' --text-fields title", prep, adir));

    /* gzip input: the same prepared directory as the plain file */
    snprintf(cmd, sizeof cmd, "gzip -c " FX "shop.csv > '%s/shop.csv.gz'", base);
    CHECK(system(cmd) == 0);
    CHECK(td_run("prepare --out '%s/plain' --inter " FX "shop.csv --user-col visitor --item-col product --time-col when",
                 base) == 0);
    int rc = td_run("prepare --out '%s/gz' --inter '%s/shop.csv.gz' --user-col visitor --item-col product --time-col when",
                    base, base);
    CHECK_MSG(rc == 0, "gzip: %s", td_err);
    char a[1100], b[1100];
    snprintf(a, sizeof a, "%s/plain/sequences.tsv", base);
    snprintf(b, sizeof b, "%s/gz/sequences.tsv", base);
    CHECK(td_same_file(a, b));
    snprintf(a, sizeof a, "%s/plain/items.txt", base);
    snprintf(b, sizeof b, "%s/gz/items.txt", base);
    CHECK(td_same_file(a, b));

    /* a gzip file cut short, and one whose data is damaged: errors naming gzip */
    snprintf(cmd, sizeof cmd, "head -c 40 '%s/shop.csv.gz' > '%s/cut.csv.gz'", base, base);
    CHECK(system(cmd) == 0);
    rc = td_run("prepare --out '%s/cut' --inter '%s/cut.csv.gz' --user-col visitor --item-col product", base, base);
    CHECK_MSG(rc == 1 && strstr(td_err, "gzip") != NULL, "cut: %d %s", rc, td_err);
    snprintf(cmd, sizeof cmd, "printf '\\037\\213\\010\\000garbage-garbage-garbage' > '%s/bad.csv.gz'", base);
    CHECK(system(cmd) == 0);
    rc = td_run("prepare --out '%s/bad' --inter '%s/bad.csv.gz' --user-col visitor --item-col product", base, base);
    CHECK_MSG(rc == 1 && strstr(td_err, "gzip") != NULL, "bad: %d %s", rc, td_err);
    return check_done("test_input_files");
}
