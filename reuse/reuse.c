/* reuse/reuse.c - a pool opened without a `with` block: map, close, join.
 *
 * Shows: the tutorial's advice to reuse a pool. Without `with`, the pool
 * stays open until the program closes it: pool.close() takes no more work,
 * pool.join() waits for the workers to leave. main() does exactly that
 * with the square task (2 to the power i) and prints the results.
 *
 * Usage: reuse [-n N] [-w N] [--cost [-m M]] [--rules]
 *
 * Try:
 *   ./reuse                 the pattern: open, map, close, join
 *   ./reuse --cost          what reuse saves: M maps on fresh pools against
 *                           the same M maps on one pool, for both kinds
 *   ./reuse --cost -w 8     more workers: a fresh pool costs more, a reused
 *                           one hardly changes. Why?
 *   ./reuse --rules         map after close, join before close: refused
 *
 * See also: docs/reuse.md, timing/timing.c (a fresh pool per measurement),
 * pool/pool.h.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "args.h"
#include "err.h"
#include "pool.h"
#include "pyfloat.h"

static const char usage[] =
    "usage: reuse [-n N] [-w N] [--cost [-m M]] [--rules]\n"
    "  Open a pool without a with block, map square over range(N), close it,\n"
    "  join it, and print the results.\n"
    "  -n, --items N    items per map (default 10; with --cost 1000, as the\n"
    "                   tutorial; at most 1024, as 2^1024 overflows a double)\n"
    "  -w, --workers N  workers per pool (default: the CPUs we may use)\n"
    "      --cost       instead: M maps on a fresh pool each against M maps on\n"
    "                   one reused pool, for processes and for threads\n"
    "  -m, --maps M     maps for --cost (default 100)\n"
    "      --rules      instead: break the pool's lifecycle rules on purpose\n"
    "  -h, --help       this text\n";

/* square = partial(pow, 2): 2.0 to the power of the argument, a long. */
static int square_task(const void *arg, void *result)
{
    *(double *)result = pow(2, (double)*(const long *)arg);
    return 0;
}

/* Seconds on CLOCK_MONOTONIC. */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "processes" or "threads", for messages. */
static const char *kind_name(enum pool_kind kind)
{
    return kind == POOL_PROCESSES ? "processes" : "threads";
}

/* Like fatal(): the message on stderr, exit 1; but the pool is freed
 * first, so its workers are stopped and reaped before the program ends. */
static _Noreturn PRINTF_LIKE(2, 3) void pool_fatal(struct pool *pool,
                                                 const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s: ", prog_name());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pool_free(pool);
    exit(1);
}

/* The map, or exit 1 with the pool's words. */
static void map_or_die(struct pool *pool, enum pool_kind kind,
                       const long *args, double *results, size_t n)
{
    if (pool_map(pool, square_task, args, sizeof *args, results,
                 sizeof *results, n, 0) != 0)
        pool_fatal(pool, "%s pool: pool_map: %s", kind_name(kind),
                   pool_error(pool));
}

/* pool_open, or exit 1 saying why. */
static struct pool *open_or_die(enum pool_kind kind, int workers)
{
    struct pool *pool = pool_open(kind, workers);

    if (!pool)
        die("cannot open a pool of %d %s", workers, kind_name(kind));
    return pool;
}

/* Whether this process has no child left, exited or not (waitid with
 * WNOWAIT looks without reaping). */
static bool no_children(void)
{
    siginfo_t info;

    return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 &&
           errno == ECHILD;
}

/* ---- the default: the tutorial's pattern ---------------------------------- */

/* Open a process pool with no scope, map square over the n args, print the
 * results, close, join: one line per call. Exits 1 if a worker outlives
 * the join. */
static void pattern(int workers, size_t n, const long *args, double *results)
{
    struct pool *pool = open_or_die(POOL_PROCESSES, workers);
    int err;

    printf("pool = Pool()                 %d worker process%s, no with block\n",
           pool_workers(pool), pool_workers(pool) > 1 ? "es" : "");
    map_or_die(pool, POOL_PROCESSES, args, results, n);
    printf("pool.map(square, range(%zu))  [", n);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", stdout);
        print_pyfloat(stdout, results[i]);
    }
    printf("]\n");
    pool_close(pool);
    printf("pool.close()                  no more tasks; idle workers leave\n");
    err = pool_join(pool);
    if (err)
        pool_fatal(pool, "pool_join: %s", strerror(err));
    if (!no_children())
        pool_fatal(pool, "pool.join() returned, but a child process remains");
    printf("pool.join()                   every worker has left: no child process remains\n");
    pool_free(pool);
}

/* ---- --cost: a fresh pool per map against one pool reused ----------------- */

/* The mean seconds per map of `maps` maps on a fresh pool each (open, map,
 * free: `with Pool() as pool: pool.map(...)` in a loop) into *fresh, and of
 * `maps` maps on one pool into *reused, its open, close and join counted
 * too, spread over the maps. The two alternate, map by map, so a moment
 * when the machine is busy elsewhere slows both alike. Each map's results
 * land in its own array, checked by the caller. */
static void fresh_and_reused(enum pool_kind kind, int workers, int maps,
                             const long *args, double *fresh_results,
                             double *reused_results, size_t n, double *fresh,
                             double *reused)
{
    double t0 = now(), t_fresh = 0, t_reused;
    struct pool *pool = open_or_die(kind, workers);

    t_reused = now() - t0;
    for (int m = 0; m < maps; m++) {
        t0 = now();
        struct pool *once = open_or_die(kind, workers);
        map_or_die(once, kind, args, fresh_results, n);
        pool_free(once);
        t_fresh += now() - t0;

        t0 = now();
        map_or_die(pool, kind, args, reused_results, n);
        t_reused += now() - t0;
    }
    t0 = now();
    pool_close(pool);
    pool_join(pool);
    pool_free(pool);
    t_reused += now() - t0;
    *fresh = t_fresh / maps;
    *reused = t_reused / maps;
}

/* Whether results[i] is 2^i for every i: the maps really ran. */
static bool squares_ok(const double *results, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (results[i] != ldexp(1, (int)i))
            return false;
    return true;
}

/* --cost: for each kind, `maps` maps on fresh pools against as many on one
 * reused pool; print the mean time per map of each and their ratio. */
static void cost(int workers, int maps, size_t n, const long *args,
                 double *results)
{
    static const enum pool_kind kinds[] = { POOL_PROCESSES, POOL_THREADS };
    double *reused_results = malloc(n * sizeof *reused_results);

    if (!reused_results)
        die("malloc");
    printf("Mean time per map, %d map%s of square over range(%zu), %d worker%s:\n",
           maps, maps > 1 ? "s" : "", n, workers, workers > 1 ? "s" : "");
    for (int k = 0; k < 2; k++) {
        const char *name = kind_name(kinds[k]);
        double fresh, reused;

        memset(results, 0, n * sizeof *results);
        memset(reused_results, 0, n * sizeof *reused_results);
        fresh_and_reused(kinds[k], workers, maps, args, results,
                         reused_results, n, &fresh, &reused);
        if (!squares_ok(results, n) || !squares_ok(reused_results, n))
            fatal("%s: a map returned wrong results", name);
        printf("%s, a fresh pool per map: %.6fs\n", name, fresh);
        printf("%s, one pool reused:      %.6fs\n", name, reused);
        printf("%s: the reused pool is %.1fx faster\n", name, fresh / reused);
    }
    printf("(The reused pool's opening and closing are counted, spread over its maps.)\n");
    free(reused_results);
}

/* ---- --rules: the lifecycle, shown by breaking it ------------------------- */

/* Report a call that must fail with EINVAL and `words`; exit 1 if the pool
 * let it through or failed otherwise. */
static void refused(struct pool *pool, enum pool_kind kind, const char *call,
                    int err, const char *words)
{
    if (err != EINVAL || strcmp(pool_error(pool), words) != 0)
        pool_fatal(pool, "%s pool: %s should fail with EINVAL and '%s', got %d"
                   " and '%s'", kind_name(kind), call, words, err,
                   pool_error(pool));
    printf("  %s: %s -> EINVAL, \"%s\"\n", kind_name(kind), call, words);
}

/* --rules: for each kind, join before close and map after close, each
 * refused; then close and join as the rules want. */
static void rules(int workers, const long *args, double *results, size_t n)
{
    static const enum pool_kind kinds[] = { POOL_PROCESSES, POOL_THREADS };

    printf("Breaking the pool's lifecycle rules on purpose: each refusal below\n"
           "is the lesson. CPython raises ValueError with the same words.\n");
    for (int k = 0; k < 2; k++) {
        struct pool *pool = open_or_die(kinds[k], workers);

        printf("%s pool:\n", kind_name(kinds[k]));
        refused(pool, kinds[k], "join before close", pool_join(pool),
                "Pool is still running");
        pool_close(pool);
        refused(pool, kinds[k], "map after close",
                pool_map(pool, square_task, args, sizeof *args, results,
                         sizeof *results, n, 0),
                "Pool not running");
        if (pool_join(pool) != 0)
            pool_fatal(pool, "%s pool: join after close failed: %s",
                       kind_name(kinds[k]), pool_error(pool));
        printf("  %s: close, then join -> fine\n", kind_name(kinds[k]));
        pool_free(pool);
    }
}

int main(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "items", required_argument, NULL, 'n' },
        { "workers", required_argument, NULL, 'w' },
        { "cost", no_argument, NULL, 'C' },
        { "maps", required_argument, NULL, 'm' },
        { "rules", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long n = 0, maps = 100; /* n 0: the mode's default */
    int workers = 0, c;
    bool do_cost = false, do_rules = false, maps_given = false;
    long *args;
    double *results;

    prog_init("reuse", usage);
    setvbuf(stdout, NULL, _IOLBF, 0);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:w:m:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': n = parse_long("--items", optarg, 1, 1024); break;
        case 'w': workers = parse_workers(optarg); break;
        case 'm':
            maps = parse_long("--maps", optarg, 1, 1000000);
            maps_given = true;
            break;
        case 'C': do_cost = true; break;
        case 'R': do_rules = true; break;
        case 'h': print_usage(stdout); return 0;
        default: getopt_error(c, argv);
        }
    }
    no_operands(argc, argv);
    if (maps_given && !do_cost)
        usage_error("--maps: only with --cost");
    if (workers == 0)
        workers = pool_cpu_count();
    if (n == 0)
        n = do_cost ? 1000 : 10;

    args = malloc((size_t)n * sizeof *args);
    results = malloc((size_t)n * sizeof *results);
    if (!args || !results)
        die("malloc");
    for (long i = 0; i < n; i++)
        args[i] = i;

    if (!do_cost && !do_rules)
        pattern(workers, (size_t)n, args, results);
    if (do_rules)
        rules(workers, args, results, (size_t)n);
    if (do_cost)
        cost(workers, (int)maps, (size_t)n, args, results);
    free(results);
    free(args);
    return 0;
}
