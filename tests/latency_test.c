/* tests/latency_test.c - how long a small map takes on an open thread pool,
 * against OpenMP's parallel for, and what the pool's waiting costs.
 *
 * Shows: where a small map's time goes. The work (x*x over 1000 longs) takes
 * about 2 us on one CPU; everything else is handing it to the workers and
 * learning that they are done. Each row is the median of -r rounds, with the
 * fastest and slowest round beside it; a round repeats its map until it has
 * lasted 20 ms and gives the time per map. The rows are measured in turn
 * within each round, so a burst of noise on a shared machine hits them all.
 * Context switches per map come from getrusage (all threads): a voluntary
 * one is a thread that went to sleep, so each is a wake-up someone paid for.
 *
 *   map    2 workers (-w), a pool opened once, default chunksize: the pool
 *          with its default spin, the pool with POOL_SPIN_US=0 (sleep only),
 *          and OpenMP's `parallel for schedule(dynamic, 125)` when built
 *          with -fopenmp (once inline, once calling the pool's task)
 *   idle   CPU time the process burns while its pool sits idle for 0.5 s
 *          after a burst of maps: in the first 5 ms (which also holds up
 *          to a scheduler tick of the maps' own time, accounted late) and
 *          in the rest
 *   crowd  more workers than CPUs (-w, default 4 per CPU), then 2 workers
 *          beside one busy process per CPU: spin and sleep-only
 *
 * Usage: latency_test [-r ROUNDS] [-w WORKERS] [-q] map|idle|crowd
 *
 * Try:
 *   tests/latency_test map                  the figures of docs/latency.md
 *   POOL_SPIN_US=0 tests/latency_test map   both thread rows sleep only
 *   chrt -f 10 tests/latency_test map       (as root) ahead of every other
 *                                           program: a quiet machine's figures
 *
 * See also: docs/latency.md, pool/thread_pool.c, bench/latency.c.
 */
#define _GNU_SOURCE /* prctl's PR_SET_PDEATHSIG */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "err.h"
#include "pool.h"
#include "poolrun.h"

#define N_ITEMS 1000
#define MAX_ROWS 4

static const char usage[] =
    "usage: latency_test [-r ROUNDS] [-w WORKERS] [-q] map|idle|crowd\n"
    "  -r N   rounds per row, the median is shown (default 31)\n"
    "  -w N   workers (default 2; crowd: 4 per CPU)\n"
    "  -q     quick: 3 rounds of 2 ms (for the tests)\n";

static long args[N_ITEMS], results[N_ITEMS];
static double round_s = 0.020; /* how long one round repeats its map */

static int square_long(const void *arg, void *result)
{
    long x = *(const long *)arg;

    *(long *)result = x * x;
    return 0;
}

/* ---- the rows: one way each to run the map once ------------------------- */

struct row {
    const char *name;
    void (*run)(struct row *r);
    struct pool *pool;
    int threads;
    long reps;                      /* maps per round */
    double per_map[64];             /* seconds, one a round */
    long vcsw, ivcsw, maps;         /* switches over every round */
};

static void run_pool(struct row *r)
{
    map_or_die(r->pool, r->name, square_long, args, sizeof *args, results,
               sizeof *results, N_ITEMS, 0);
}

#ifdef _OPENMP
/* Through a pointer the compiler cannot see through: the pool's own work. */
static pool_fn *volatile omp_task = square_long;

static void run_omp_task(struct row *r)
{
    pool_fn *fn = omp_task;

#pragma omp parallel for schedule(dynamic, 125) num_threads(r->threads)
    for (int i = 0; i < N_ITEMS; i++)
        fn(&args[i], &results[i]);
}

static void run_omp_inline(struct row *r)
{
#pragma omp parallel for schedule(dynamic, 125) num_threads(r->threads)
    for (int i = 0; i < N_ITEMS; i++)
        results[i] = args[i] * args[i];
}
#endif

/* ---- measuring ----------------------------------------------------------- */

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* As many maps as fill a round, found by doubling. */
static void calibrate(struct row *r)
{
    double t;

    for (r->reps = 1;; r->reps *= 2) {
        t = now();
        for (long k = 0; k < r->reps; k++)
            r->run(r);
        if (now() - t >= round_s / 4 || r->reps >= 1L << 22)
            break;
    }
    r->reps = (long)((double)r->reps * round_s / (now() - t + 1e-9)) + 1;
}

/* Every result right, after a round: a lost or doubled chunk shows here. */
static void check_results(const struct row *r)
{
    for (long i = 0; i < N_ITEMS; i++) {
        if (results[i] != i * i)
            fatal("%s: result %ld is %ld, not %ld", r->name, i, results[i],
                  i * i);
        results[i] = -1;
    }
}

static void measure_round(struct row *r, int round)
{
    struct rusage u0, u1;
    double t;

    getrusage(RUSAGE_SELF, &u0);
    t = now();
    for (long k = 0; k < r->reps; k++)
        r->run(r);
    r->per_map[round] = (now() - t) / (double)r->reps;
    getrusage(RUSAGE_SELF, &u1);
    r->vcsw += u1.ru_nvcsw - u0.ru_nvcsw;
    r->ivcsw += u1.ru_nivcsw - u0.ru_nivcsw;
    r->maps += r->reps;
    check_results(r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Every row, in turn, `rounds` times; a pause between rows lets the
 * threads of the row before fall asleep, so that no row runs beside
 * another's spinning. Then one line a row. */
static void measure(struct row *rows, int nrows, int rounds)
{
    double med[MAX_ROWS];

    for (int i = 0; i < nrows; i++)
        calibrate(&rows[i]);
    for (int k = 0; k < rounds; k++)
        for (int i = 0; i < nrows; i++) {
            sleep_s(0.02);
            measure_round(&rows[i], k);
        }
    printf("  %-26s %7s %17s %6s %7s %7s\n", "us per map", "median",
           "(min - max)", "ratio", "vol/map", "inv/map");
    for (int i = 0; i < nrows; i++) {
        struct row *r = &rows[i];

        med[i] = median_of(r->per_map, rounds); /* sorts: [0] is the min */
        printf("  %-26s %7.2f (%6.2f - %7.2f) %5.1fx %7.3f %7.3f\n",
               r->name, med[i] * 1e6, r->per_map[0] * 1e6,
               r->per_map[rounds - 1] * 1e6, med[i] / med[0],
               (double)r->vcsw / (double)r->maps,
               (double)r->ivcsw / (double)r->maps);
    }
}

/* A pool opened with POOL_SPIN_US set to `spin` (NULL: unset). */
static struct pool *open_with_spin(int workers, const char *spin)
{
    const char *old = getenv("POOL_SPIN_US");
    char *saved = old ? strdup(old) : NULL;
    struct pool *pool;

    if (old && !saved)
        die("strdup");
    if (spin)
        setenv("POOL_SPIN_US", spin, 1);
    pool = open_or_die(POOL_THREADS, workers);
    if (saved)
        setenv("POOL_SPIN_US", saved, 1);
    else
        unsetenv("POOL_SPIN_US");
    free(saved);
    return pool;
}

/* The pool's two rows: its spin as the environment sets it, and none. */
static int pool_rows(struct row *rows, int workers, const char *suffix)
{
    static char names[2][64];

    snprintf(names[0], sizeof names[0], "threads%s", suffix);
    snprintf(names[1], sizeof names[1], "threads%s, POOL_SPIN_US=0", suffix);
    rows[0] = (struct row){ .name = names[0], .run = run_pool,
                            .pool = open_with_spin(workers, NULL) };
    rows[1] = (struct row){ .name = names[1], .run = run_pool,
                            .pool = open_with_spin(workers, "0") };
    return 2;
}

static void free_rows(struct row *rows, int nrows)
{
    for (int i = 0; i < nrows; i++)
        pool_free(rows[i].pool);
}

/* ---- the three modes ----------------------------------------------------- */

static void mode_map(int workers, int rounds)
{
    struct row rows[MAX_ROWS];
    int nrows = 0;

    printf("map: x*x over %d longs, %d workers, pool opened once, default "
           "chunksize\n", N_ITEMS, workers);
#ifdef _OPENMP
    rows[nrows++] = (struct row){ .name = "openmp dynamic,125, inline",
                                  .run = run_omp_inline, .threads = workers };
    rows[nrows++] = (struct row){ .name = "openmp dynamic,125, task",
                                  .run = run_omp_task, .threads = workers };
#else
    printf("  (no OpenMP rows: built without -fopenmp)\n");
#endif
    nrows += pool_rows(rows + nrows, workers, "");
    measure(rows, nrows, rounds);
    free_rows(rows, nrows);
}

/* Process CPU time, all threads, in seconds. */
static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void mode_idle(int workers, int rounds)
{
    struct row r = { .name = "idle", .run = run_pool };
    double early[64] = { 0 }, late[64] = { 0 };

    r.pool = open_with_spin(workers, NULL);
    printf("idle: %d workers left idle for 0.5 s after 20 ms of maps\n",
           workers);
    for (int k = 0; k < rounds; k++) {
        double t0 = now();

        while (now() - t0 < 0.02)
            run_pool(&r);
        check_results(&r);
        double c0 = cpu_now();
        sleep_s(0.005);
        double c1 = cpu_now();
        sleep_s(0.495);
        early[k] = c1 - c0;
        late[k] = cpu_now() - c1;
    }
    double e = median_of(early, rounds), l = median_of(late, rounds);
    printf("  CPU burnt in the first 5 ms:   %7.3f ms (median of %d)\n",
           e * 1e3, rounds);
    printf("  CPU burnt in the next 495 ms:  %7.3f ms\n", l * 1e3);
    printf("  over the 0.5 s: %.2f%% of one CPU\n", (e + l) / 0.5 * 100);
    pool_free(r.pool);
}

/* A child that computes until killed, and dies with us. */
static pid_t start_hog(void)
{
    pid_t pid = fork();

    if (pid == -1)
        die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (volatile unsigned long x = 1;; x = x * 7 + 1)
            ;
    }
    return pid;
}

static void mode_crowd(int workers, int rounds)
{
    struct row rows[MAX_ROWS];
    int ncpu = pool_cpu_count(), nrows;
    pid_t hogs[POOL_MAX_WORKERS];
    char suffix[64];

    if (workers == 0)
        workers = 4 * ncpu;
    printf("crowd: %d workers on %d CPUs\n", workers, ncpu);
    snprintf(suffix, sizeof suffix, " %d", workers);
    nrows = pool_rows(rows, workers, suffix);
    measure(rows, nrows, rounds);
    free_rows(rows, nrows);

    printf("crowd: 2 workers beside %d busy processes\n", ncpu);
    for (int i = 0; i < ncpu; i++)
        hogs[i] = start_hog();
    nrows = pool_rows(rows, 2, "");
    measure(rows, nrows, rounds);
    free_rows(rows, nrows);
    for (int i = 0; i < ncpu; i++) {
        kill(hogs[i], SIGKILL);
        waitpid(hogs[i], NULL, 0);
    }
}

int main(int argc, char *argv[])
{
    int rounds = 31, workers = 0, c;
    bool quick = false;

    prog_init("latency_test", usage);
    opterr = 0;
    while ((c = getopt(argc, argv, ":r:w:qh")) != -1) {
        switch (c) {
        case 'r': rounds = (int)parse_long("-r", optarg, 1, 63); break;
        case 'w': workers = parse_workers(optarg); break;
        case 'q': quick = true; break;
        case 'h': print_usage(stdout); return 0;
        default: getopt_error(c, argv);
        }
    }
    if (optind != argc - 1)
        usage_error("expected one mode: map, idle or crowd");
    if (quick) {
        rounds = 3;
        round_s = 0.002;
    }
    for (int i = 0; i < N_ITEMS; i++)
        args[i] = i;

    const char *mode = argv[optind];
    if (strcmp(mode, "map") == 0)
        mode_map(workers ? workers : 2, rounds);
    else if (strcmp(mode, "idle") == 0)
        mode_idle(workers ? workers : 2, rounds > 5 ? 5 : rounds);
    else if (strcmp(mode, "crowd") == 0)
        mode_crowd(workers, rounds);
    else
        usage_error("unknown mode '%s' (map, idle or crowd)", mode);
    return 0;
}
