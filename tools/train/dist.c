/* dist.c - data-parallel training over MPI, and its one-rank fallback (dist.h). */
#include "dist.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef MDSREC_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1;
static double g_sum_seconds;

double dist_sum_seconds(void) {
    double s = g_sum_seconds;
    g_sum_seconds = 0;
    return s;
}

/* Started by a launcher: Open MPI's mpirun, Hydra (MPICH) or a PMIx launcher such as srun. */
static int launched(void) { return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK"); }

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }

int dist_local_size(void) {
    const char *v = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    int n = v ? atoi(v) : 1;
    return n > 0 ? n : 1;
}

void dist_batch_range(const step_window *w, size_t count, size_t *lo, size_t *hi) {
    size_t total = 0;
    for (size_t i = 0; i < count; i++) total += w[i].n;
    /* rank r starts at the first window whose positions before it reach r / size of the total */
    size_t want_lo = total * (size_t)g_rank / (size_t)g_size, want_hi = total * (size_t)(g_rank + 1) / (size_t)g_size;
    size_t acc = 0, i = 0;
    while (i < count && acc < want_lo) acc += w[i++].n;
    *lo = i;
    while (i < count && acc < want_hi) acc += w[i++].n;
    *hi = g_rank == g_size - 1 ? count : i;
}

#ifdef MDSREC_HAVE_MPI

/* MPI counts are int: larger buffers go in pieces. */
#define DIST_PIECE ((size_t)1 << 28)

static int mpi_failed(const char *what, int err) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", err);
    cli_error("MPI %s failed on rank %d of %d: %s", what, g_rank, g_size, msg);
    return -1;
}

int dist_init(void) {
    if (!launched()) return 0;
    int err = MPI_Init(NULL, NULL);
    if (err != MPI_SUCCESS) return mpi_failed("MPI_Init", err);
    /* errors come back as codes, so that they can be reported with the rank */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    atexit(dist_finish); /* every return from main, error or not, leaves the job cleanly */
    return 0;
}

void dist_finish(void) {
    int up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down) MPI_Finalize();
}

void dist_abort(int code) {
    if (g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

static int sum(void *x, size_t n, MPI_Datatype type, size_t elem) {
    for (size_t i = 0; g_size > 1 && i < n; i += DIST_PIECE) {
        size_t k = n - i < DIST_PIECE ? n - i : DIST_PIECE;
        int err = MPI_Allreduce(MPI_IN_PLACE, (char *)x + i * elem, (int)k, type, MPI_SUM, MPI_COMM_WORLD);
        if (err != MPI_SUCCESS) return mpi_failed("MPI_Allreduce", err);
    }
    return 0;
}

int dist_sum_floats(float *x, size_t n) {
    double t0 = MPI_Wtime();
    int rc = sum(x, n, MPI_FLOAT, sizeof(float));
    g_sum_seconds += MPI_Wtime() - t0;
    return rc;
}
int dist_sum_doubles(double *x, size_t n) { return sum(x, n, MPI_DOUBLE, sizeof(double)); }

int dist_bcast(void *buf, size_t bytes) {
    for (size_t i = 0; g_size > 1 && i < bytes; i += DIST_PIECE) {
        size_t k = bytes - i < DIST_PIECE ? bytes - i : DIST_PIECE;
        int err = MPI_Bcast((char *)buf + i, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (err != MPI_SUCCESS) return mpi_failed("MPI_Bcast", err);
    }
    return 0;
}

int dist_agree(uint64_t v) {
    if (g_size == 1) return 1;
    unsigned long long lo = v, hi = v;
    if (MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return 0;
    return lo == hi;
}

#else /* one rank: nothing to share */

int dist_init(void) {
    if (!launched()) return 0;
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (!n) n = getenv("PMI_SIZE");
    if (n && atoi(n) > 1) {
        cli_error("started as one of %s ranks, but this mdsrec was built without MPI (configure with "
                  "-DMDSREC_MPI=ON and libopenmpi-dev installed)", n);
        return -1;
    }
    return 0;
}

void dist_finish(void) {}
void dist_abort(int code) { (void)code; }
int dist_sum_floats(float *x, size_t n) { (void)x, (void)n; return 0; }
int dist_sum_doubles(double *x, size_t n) { (void)x, (void)n; return 0; }
int dist_bcast(void *buf, size_t bytes) { (void)buf, (void)bytes; return 0; }
int dist_agree(uint64_t v) { (void)v; return 1; }

#endif

int dist_share_resume(int *found, train_state *st, float **params, adam *opt) {
    if (g_size == 1) return 0;
    int lead = g_rank == 0;
    if (dist_bcast(found, sizeof *found)) return -1;
    if (!*found) return 0;
    if (dist_bcast(st, sizeof *st)) return -1;
    size_t n = st->spec.n_params;
    if (!lead && !(*params = malloc((n ? n : 1) * sizeof(float)))) goto oom;
    if (dist_bcast(*params, n * sizeof(float))) return -1;
    /* Adam: its scalars, then the moments when the lead's checkpoint had them */
    adam hdr = *opt;
    int moments = opt->m != NULL;
    if (dist_bcast(&moments, sizeof moments) || dist_bcast(&hdr, sizeof hdr)) return -1;
    if (!moments) return 0;
    if (!lead) {
        if (adam_init(opt, n, hdr.lr)) goto oom;
        float *m = opt->m, *v = opt->v;
        *opt = hdr;
        opt->m = m;
        opt->v = v;
    }
    if (dist_bcast(opt->m, n * sizeof(float)) || dist_bcast(opt->v, n * sizeof(float))) return -1;
    return 0;
oom:
    cli_error("out of memory");
    return -1;
}
