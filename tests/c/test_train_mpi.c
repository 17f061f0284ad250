/*
 * test_train_mpi.c - data-parallel training (tools/train/dist.h, docs/DISTRIBUTED.md) through
 * `mpiexec -np 2 mdsrec train`, against one process with the same global batch and seed.
 * Built only with MDSREC_MPI (CMake gives the launcher as MDSREC_MPIEXEC).
 *
 * Checks, for sasrec with dropout over the full softmax and with popular-sampled negatives:
 *  - 2 ranks end with the same weights and Adam moments as one process, within TOL: the
 *    ranks sum their halves of each batch's gradient, so the float additions happen in
 *    another order than in one process (bitwise equality is not possible; see DISTRIBUTED.md);
 *  - rank 0 alone writes and prints (one result table);
 *  - a 2-rank run stopped after epoch 1 and resumed on 2 ranks ends bit for bit where an
 *    uninterrupted 2-rank run does (the reduction order is fixed, and the lead shares its
 *    checkpoint with the other rank).
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "test_ckpt_helpers.h"
#include "train/checkpoint.h"

#define N_ITEMS 60
#define N_USERS 300
/* max |w1 - w2| over every weight after 2 epochs (about 20 Adam steps of lr 5e-3): the ranks'
   sums differ from one process's in the last bits only and Adam's steps are normalized, so the
   weights stay within rounding of each other unless a gradient cancels to rounding noise (an
   O(lr) sign change): allow 1e-4, 50x below one step (measured: 1e-6 to 8e-6). */
#define TOL 1e-4

/* Under AddressSanitizer (the ASan ctest of `npm test`) the ranks run without leak detection:
   Open MPI's components leave allocations at exit and are unloaded before LeakSanitizer runs,
   so those leaks can be neither attributed nor suppressed. Memory errors are still caught,
   and the one-process runs keep leak detection (the ranks run the same allocations). */
#define MPI_RUN "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "

static const char *bin, *tmp, *mpiexec;
static char out[1 << 16];

/* Runs a shell command, its stdout and stderr kept in out[]; the exit status. */
static int run_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_out(const char *fmt, ...) {
    char cmd[8192], full[8300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *f = popen(full, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int st = pclose(f);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) fprintf(stderr, "command failed: %s\n%s\n", cmd, out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint64_t rng = 77;
static uint32_t rnd(uint32_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* max |a - b| over the parameters and both Adam moments of two state.ckpt; -1 when they cannot
   be read or differ in shape. *epoch_a: the epochs a says it completed. */
static double max_diff(const char *a, const char *b, uint32_t *epoch_a) {
    static train_state sa, sb;
    float *pa = NULL, *pb = NULL;
    adam oa, ob;
    memset(&oa, 0, sizeof oa), memset(&ob, 0, sizeof ob);
    double worst = -1;
    if (ckpt_read(a, &sa, &pa, &oa) == 0 && ckpt_read(b, &sb, &pb, &ob) == 0 && sa.spec.n_params == sb.spec.n_params &&
        oa.m && ob.m && oa.t == ob.t) {
        worst = 0;
        for (size_t i = 0; i < sa.spec.n_params; i++) {
            worst = fmax(worst, fabs((double)pa[i] - pb[i]));
            worst = fmax(worst, fabs((double)oa.m[i] - ob.m[i]) / oa.lr); /* moments in units of a step */
            worst = fmax(worst, fabs(sqrt((double)oa.v[i]) - sqrt((double)ob.v[i])) / oa.lr);
            if (isnan(pa[i]) || isnan(pb[i])) worst = INFINITY;
        }
        *epoch_a = sa.epoch;
    }
    free(pa), free(pb);
    adam_free(&oa), adam_free(&ob);
    return worst;
}

static void one_config(const char *data, const char *name, const char *flags) {
    char a[1200], b[1200], c[1200];
    const char *common = "--model sasrec --dim 16 --max-len 12 --blocks 1 --heads 2 --dropout 0.1 --batch 32 --lr 5e-3 "
                         "--threads 1 --seed 11 --patience 50 --quiet";
    snprintf(a, sizeof a, "%s/%s-one", tmp, name);
    snprintf(b, sizeof b, "%s/%s-two", tmp, name);
    snprintf(c, sizeof c, "%s/%s-resumed", tmp, name);
    CHECK(run_out("rm -rf %s %s %s", a, b, c) == 0);

    CHECK(run_out("%s train --data %s --out %s %s %s --epochs 2", bin, data, a, common, flags) == 0);
    CHECK(run_out(MPI_RUN "%s -np 2 --oversubscribe --bind-to none %s train --data %s --out %s %s %s --epochs 2", mpiexec, bin,
                  data, b, common, flags) == 0);
    /* the lead alone prints the result table */
    CHECK_MSG(count_of(out, "best epoch") == 1 && count_of(out, "\ntest ") + (strncmp(out, "test ", 5) == 0) == 1,
              "%s: output of 2 ranks:\n%s", name, out);

    char sa[1300], sb[1300], sc[1300];
    snprintf(sa, sizeof sa, "%s/state.ckpt", a);
    snprintf(sb, sizeof sb, "%s/state.ckpt", b);
    snprintf(sc, sizeof sc, "%s/state.ckpt", c);
    uint32_t ep = 0;
    double d = max_diff(sa, sb, &ep);
    printf("  %s: 1 process vs 2 ranks after %u epochs: max |difference| %.3g (weights; moments per lr)\n", name, ep, d);
    CHECK_MSG(ep == 2 && d >= 0 && d <= TOL, "%s: 1 vs 2 ranks differ by %g (tolerance %g)", name, d, TOL);

    /* stopped after 1 epoch, resumed on 2 ranks: the same bits as the uninterrupted 2-rank run */
    CHECK(run_out(MPI_RUN "%s -np 2 --oversubscribe --bind-to none %s train --data %s --out %s %s %s --epochs 1", mpiexec, bin,
                  data, c, common, flags) == 0);
    CHECK(run_out(MPI_RUN "%s -np 2 --oversubscribe --bind-to none %s train --data %s --out %s %s %s --epochs 2 --resume",
                  mpiexec, bin, data, c, common, flags) == 0);
    CHECK_MSG(count_of(out, "resuming") == 1, "%s: resume output:\n%s", name, out);
    CHECK_MSG(same_params(sb, sc), "%s: a resumed 2-rank run differs from an uninterrupted one", name);
}

int main(void) {
    bin = getenv("MDSREC_BIN");
    tmp = getenv("MDSREC_TMP");
    mpiexec = getenv("MDSREC_MPIEXEC");
    if (!bin || !tmp || !mpiexec || !*mpiexec) {
        fprintf(stderr, "MDSREC_BIN, MDSREC_TMP and MDSREC_MPIEXEC must be set (ctest sets them)\n");
        return 1;
    }
    /* Open MPI refuses to start as root without these (containers, CI) */
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);

    /* sessions that mostly follow a fixed successor rule, with some noise */
    uint32_t next[N_ITEMS];
    for (uint32_t i = 0; i < N_ITEMS; i++) next[i] = (i * 7 + 3) % N_ITEMS;
    char data[1100];
    snprintf(data, sizeof data, "%s/mpi_planted.txt", tmp);
    FILE *f = fopen(data, "w");
    CHECK(f != NULL);
    if (!f) return check_done("test_train_mpi");
    for (uint32_t u = 0; u < N_USERS; u++) {
        uint32_t len = 4 + rnd(14), it = rnd(N_ITEMS);
        fprintf(f, "%u", u + 1);
        for (uint32_t t = 0; t < len; t++, it = rnd(5) ? next[it] : rnd(N_ITEMS)) fprintf(f, " %u", it + 1);
        fprintf(f, "\n");
    }
    fclose(f);

    one_config(data, "full", "");
    one_config(data, "sampled", "--negatives 16 --sampler popular");
    return check_done("test_train_mpi");
}
