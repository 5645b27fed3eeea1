/* compare/sleepmap.c - how long a map of sleeps takes on an open pool: the
 * C half of compare/sleepmap.py.
 *
 * Shows: which worker takes the next task, measured. W workers map sleeps
 * of the given lengths, one task a chunk; the map is timed on a pool that
 * is already open, so the figure is the schedule alone. With "the idle
 * worker takes the next task" (CPython's rule and the pool's) sleeps of
 * 4, 3, 2, 1, 0 steps on 2 workers last 5 steps; dealt in rotation (task i
 * to worker i mod W) they would last 6. One line comes out:
 *
 *   elapsed: 1.0012s
 *
 * Usage: sleepmap processes|threads WORKERS SECONDS...
 *
 * Try: compare/sleepmap threads 2 0.4 0.3 0.2 0.1 0, then the same with
 * python3 compare/sleepmap.py.
 *
 * See also: compare/sleepmap.py, compare/compare.py (sleep_order),
 * docs/compare.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "clock.h"
#include "err.h"
#include "options.h"
#include "poolrun.h"
#include "tasks.h"

static const char usage[] =
    "usage: sleepmap processes|threads WORKERS SECONDS...\n"
    "  Open a pool of WORKERS, warm it up, then time one map of sleeps of\n"
    "  the given lengths, one task a chunk, as compare/sleepmap.py does for\n"
    "  CPython's pools.\n"
    "  -h, --help   this text\n";

#define MAX_TASKS 64

/* What a spawned worker may be asked to run (this program forks). */
static const struct pool_task tasks[] = { POOL_TASK(sleep_task) };

int main(int argc, char *argv[])
{
    double warm[MAX_TASKS], secs[MAX_TASKS], t0;
    enum pool_kind kind;
    struct pool *pool;
    int workers;
    size_t n;

    POOL_MAIN(tasks);
    prog_init("sleepmap", usage);
    help_only(argc, argv);
    if (argc - optind < 3)
        usage_error("expected a kind, a number of workers and sleeps");
    if (strcmp(argv[optind], "processes") == 0)
        kind = POOL_PROCESSES;
    else if (strcmp(argv[optind], "threads") == 0)
        kind = POOL_THREADS;
    else
        usage_error("unknown kind '%s' (processes or threads)", argv[optind]);
    workers = (int)parse_long("WORKERS", argv[optind + 1], 1, MAX_TASKS);
    n = (size_t)(argc - optind - 2);
    if (n > MAX_TASKS)
        usage_error("at most %d sleeps", MAX_TASKS);
    for (size_t i = 0; i < n; i++)
        secs[i] = parse_double("SECONDS", argv[optind + 2 + (int)i], 0, 10);

    /* Warm up: every worker sleeps 20 ms once, so that all are running
     * before the timed map (CPython's workers are started the same way). */
    for (int i = 0; i < workers; i++)
        warm[i] = 0.02;
    pool = open_or_die(kind, workers);
    map_or_die(pool, "warm-up", sleep_task, warm, sizeof *warm, NULL, 0,
               (size_t)workers, 1);
    t0 = now();
    map_or_die(pool, "map", sleep_task, secs, sizeof *secs, NULL, 0, n, 1);
    printf("elapsed: %.4fs\n", now() - t0);
    pool_free(pool);
    if (fflush(stdout) == EOF || ferror(stdout))
        die("cannot write the output");
    return 0;
}
