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
 *   tests/latency_test map                  the figures of docs/spinning.md
 *   POOL_SPIN_US=0 tests/latency_test map   both thread rows sleep only
 *   chrt -f 10 tests/latency_test map       (as root) ahead of every other
 *                                           program: a quiet machine's figures
 *
 * See also: docs/spinning.md, pool/thread_pool.c, pool/fast/spin.c.
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
#include "rounds.h"

#define MAX_ROWS 4

static const char usage[] =
    "usage: latency_test [-r ROUNDS] [-w WORKERS] [-q] map|idle|crowd\n"
    "  -r N   rounds per row, the median is shown (default 31)\n"
    "  -w N   workers (default 2; crowd: 4 per CPU)\n"
    "  -q     quick: 3 rounds of 2 ms (for the tests)\n";

/* ---- the rows: one way each to run the map once ------------------------- */

/* The process's context switches: voluntary ones are threads that went to
 * sleep (and someone later paid to wake them), involuntary ones preemption. */
static void count_switches(long long c[2])
{
    struct rusage u;

    getrusage(RUSAGE_SELF, &u);
    c[0] = u.ru_nvcsw;
    c[1] = u.ru_nivcsw;
}

static const struct counts switches = { 2, { "vol/map", "inv/map" },
                                        count_switches };

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

#endif

/* ---- the three modes ----------------------------------------------------- */

static void mode_map(int workers, int rounds)
{
    struct row rows[MAX_ROWS];
    int nrows = 0;

    printf("map: x*x over %d longs, %d workers, pool opened once, default "
           "chunksize\n", N_ITEMS, workers);
#ifdef _OPENMP
    rows[nrows++] = (struct row){ .name = "openmp dynamic,125, inline",
                                  .run = run_omp, .threads = workers };
    rows[nrows++] = (struct row){ .name = "openmp dynamic,125, task",
                                  .run = run_omp_task, .threads = workers };
#else
    printf("  (no OpenMP rows: built without -fopenmp)\n");
#endif
    measure_with_pool(rows, nrows, POOL_THREADS, workers, rounds, &switches);
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

    r.pool = open_with_spin(POOL_THREADS, workers, NULL);
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
    print_idle(early, late, rounds);
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
    nrows = pool_rows(rows, POOL_THREADS, workers, suffix);
    measure_rows(rows, nrows, rounds, &switches);
    free_rows(rows, nrows);

    printf("crowd: 2 workers beside %d busy processes\n", ncpu);
    for (int i = 0; i < ncpu; i++)
        hogs[i] = start_hog();
    nrows = pool_rows(rows, POOL_THREADS, 2, "");
    measure_rows(rows, nrows, rounds, &switches);
    free_rows(rows, nrows);
    for (int i = 0; i < ncpu; i++) {
        kill(hogs[i], SIGKILL);
        waitpid(hogs[i], NULL, 0);
    }
}

int main(int argc, char *argv[])
{
    int rounds, workers;

    prog_init("latency_test", usage);
    const char *mode = rounds_options(argc, argv, &rounds, &workers,
                                      "map, idle or crowd");
    static const struct mode modes[] = {
        { "map", mode_map }, { "idle", mode_idle }, { "crowd", mode_crowd },
    };
    run_mode(modes, 3, mode, workers, rounds);
    return 0;
}
