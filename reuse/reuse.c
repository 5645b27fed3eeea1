/* reuse/reuse.c - a pool opened without a `with` block: map, close, join.
 *
 * Shows: the tutorial's advice to reuse a pool. Without `with`, the pool
 * stays open until the program closes it: pool.close() takes no more work,
 * pool.join() waits for the workers to leave. main() does exactly that
 * with the square task (2 to the power i) and prints the results.
 *
 * Usage: reuse [-n N] [-w N] [--start M] [--cost [-m M]] [--rules]
 *
 * Try (from the project root):
 *   reuse/reuse             the pattern: open, map, close, join
 *   reuse/reuse --cost      what reuse saves: M maps on fresh pools against
 *                           the same M maps on one pool, for both kinds
 *   reuse/reuse --cost -w 8 more workers: a fresh pool costs more, a reused
 *                           one hardly changes. Why?
 *   reuse/reuse --rules     map after close, join before close: refused
 *
 * See also: docs/reuse.md, timing/timing.c (a fresh pool per measurement),
 * pool/pool.h.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "clock.h"
#include "err.h"
#include "pool.h"
#include "poolrun.h"
#include "pyfloat.h"
#include "stats.h"
#include "tasks.h"

static const char usage[] =
    "usage: reuse [-n N] [-w N] [--start M] [--cost [-m M]] [--rules]\n"
    "  Open a pool without a with block, map square over range(N), close it,\n"
    "  join it, and print the results.\n"
    "  -n, --items N    items per map (default 10; with --cost 1000, as the\n"
    "                   tutorial; at most 1024, as 2^1024 overflows a double)\n"
    "  -w, --workers N  workers per pool (default: the CPUs we may use)\n"
    "      --start M    how process pools start their workers: fork (default,\n"
    "                   as the tutorial), spawn or forkserver\n"
    "      --cost       instead: M maps on a fresh pool each against M maps on\n"
    "                   one reused pool, for processes and for threads, in 5\n"
    "                   rounds: the median per map, and the range\n"
    "  -m, --maps M     maps for --cost (default 100)\n"
    "      --rules      instead: break the pool's lifecycle rules on purpose\n"
    "  -h, --help       this text\n";

/* pool.map(square, args): the results into `results`, or exit 1. */
static void map_square(struct pool *pool, const long *args, double *results,
                       size_t n)
{
    map_or_die(pool, "pool.map", square_task, args, sizeof *args, results,
               sizeof *results, n, 0);
}

/* ---- whose children ------------------------------------------------------ */

/* The pids of this process's children, read from /proc/self/task/TID/
 * children for every thread (Linux 3.5+). A program may have children it
 * did not make (a shell's `cmd & exec reuse/reuse` leaves its own), so the
 * pool's workers are those that appear while the pool is open. Returns how
 * many fit in pids[0..max), or -1 when /proc cannot tell. */
static int children(long *pids, int max)
{
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *t;
    int n = 0;

    if (!tasks)
        return -1;
    while ((t = readdir(tasks)) != NULL) {
        char path[64];
        FILE *f;
        long pid;

        if (t->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%.20s/children", t->d_name);
        f = fopen(path, "r");
        if (!f) {
            n = -1;
            break;
        }
        while (fscanf(f, "%ld", &pid) == 1)
            if (n < max)
                pids[n++] = pid;
        fclose(f);
    }
    closedir(tasks);
    return n;
}

/* How many of now[0..n) are not among before[0..m). */
static int new_children(const long *before, int m, const long *now_, int n)
{
    int fresh = 0;

    for (int i = 0; i < n; i++) {
        int j = 0;
        while (j < m && before[j] != now_[i])
            j++;
        fresh += j == m;
    }
    return fresh;
}

/* ---- the default: the tutorial's pattern ---------------------------------- */

/* Open a process pool with no scope, map square over the n args, print the
 * results, close, join: one line per call. Exits 1 if a worker outlives
 * the join. */
static void pattern(int workers, size_t n, const long *args, double *results)
{
    enum { MAX_SEEN = 4096 };
    long *before = malloc(2 * MAX_SEEN * sizeof *before), *after;
    int nbefore, nafter, err;

    if (!before)
        die("malloc");
    after = before + MAX_SEEN;
    nbefore = children(before, MAX_SEEN);

    struct pool *pool = open_or_die(POOL_PROCESSES, workers);
    printf("pool = Pool()                 %d worker process%s, no with block\n",
           pool_workers(pool), pool_workers(pool) > 1 ? "es" : "");
    map_square(pool, args, results, n);
    printf("print(pool.map(square, range(%zu)))\n[", n);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", stdout);
        print_pyfloat(stdout, results[i]);
    }
    printf("]\n");
    pool_close(pool);
    printf("pool.close()                  no more tasks; idle workers leave\n");
    err = pool_join(pool);
    if (err)
        pool_fatal(pool, "pool_join: %s", pool_error(pool));
    nafter = children(after, MAX_SEEN);
    if (nbefore >= 0 && nafter >= 0 &&
        new_children(before, nbefore, after, nafter) > 0)
        pool_fatal(pool, "pool.join() returned, but a worker process remains");
    printf("pool.join()                   every worker has left: no worker process remains\n");
    pool_free(pool);
    free(before);
}

/* ---- --cost: a fresh pool per map against one pool reused ----------------- */

/* Rounds of --cost: each gives a figure of its own, so that the output
 * shows how far one measurement strays from the next (a thread pool's
 * saving is tens of microseconds, which one preemption outweighs). */
#define COST_ROUNDS 5

/* The maps of round r of `rounds`, out of `maps` (the rounds differ by one
 * map at most). */
static int round_maps(int maps, int rounds, int r)
{
    return maps * (r + 1) / rounds - maps * r / rounds;
}

/* `maps` maps on a fresh pool each (open, map, free: `with Pool() as
 * pool: pool.map(...)` in a loop) against `maps` maps on one pool opened
 * once, in `rounds` rounds. fresh[r] and reused[r] receive the mean
 * seconds per map of round r; the one pool's open, close and join count
 * too, spread over all its maps. The two alternate, map by map, so a
 * moment when the machine is busy elsewhere slows both alike. Each map's
 * results land in its own array, checked by the caller. */
static void fresh_and_reused(enum pool_kind kind, int workers, int maps,
                             int rounds, const long *args,
                             double *fresh_results, double *reused_results,
                             size_t n, double *fresh, double *reused)
{
    double t0 = now(), t_life;
    struct pool *pool = open_or_die(kind, workers);

    t_life = now() - t0;
    for (int r = 0; r < rounds; r++) {
        int m = round_maps(maps, rounds, r);
        double t_fresh = 0, t_reused = 0;

        for (int k = 0; k < m; k++) {
            t0 = now();
            struct pool *once = open_or_die(kind, workers);
            map_square(once, args, fresh_results, n);
            pool_free(once);
            t_fresh += now() - t0;

            t0 = now();
            map_square(pool, args, reused_results, n);
            t_reused += now() - t0;
        }
        fresh[r] = t_fresh / m;
        reused[r] = t_reused / m;
    }
    t0 = now();
    pool_close(pool);
    pool_join(pool);
    pool_free(pool);
    t_life += now() - t0;
    for (int r = 0; r < rounds; r++)
        reused[r] += t_life / maps;
}

/* Whether results[i] is 2^i for every i: the maps really ran. */
static bool squares_ok(const double *results, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (results[i] != ldexp(1, (int)i))
            return false;
    return true;
}

/* "0.000643s (0.000600-0.000700)": the median of v[0..n) and, when there
 * is more than one, their range (v is sorted). */
static void print_spread(const char *what, double *v, int n, const char *unit,
                         int digits)
{
    double mid = median(v, n);

    printf("%s%.*f%s", what, digits, mid, unit);
    if (n > 1)
        printf(" (%.*f-%.*f)", digits, v[0], digits, v[n - 1]);
    printf("\n");
}

/* --cost: for each kind, `maps` maps on fresh pools against as many on one
 * reused pool, in rounds; print the median time per map of each and of
 * their ratio, with the range over the rounds. */
static void cost(int workers, int maps, size_t n, const long *args,
                 double *results)
{
    static const enum pool_kind kinds[] = { POOL_PROCESSES, POOL_THREADS };
    int rounds = maps < COST_ROUNDS ? maps : COST_ROUNDS;
    double *reused_results = malloc(n * sizeof *reused_results);
    double fresh[COST_ROUNDS], reused[COST_ROUNDS], ratio[COST_ROUNDS];

    if (!reused_results)
        die("malloc");
    printf("Time per map, %d map%s of square over range(%zu), %d worker%s\n",
           maps, maps > 1 ? "s" : "", n, workers, workers > 1 ? "s" : "");
    if (rounds > 1)
        printf("(process workers started by %s), median and range of %d rounds:\n",
               pool_start_name(start_method()), rounds);
    else
        printf("(process workers started by %s), one round:\n",
               pool_start_name(start_method()));
    for (int k = 0; k < 2; k++) {
        const char *name = pool_kind_name(kinds[k]);
        char what[64];

        memset(results, 0, n * sizeof *results);
        memset(reused_results, 0, n * sizeof *reused_results);
        fresh_and_reused(kinds[k], workers, maps, rounds, args, results,
                         reused_results, n, fresh, reused);
        if (!squares_ok(results, n) || !squares_ok(reused_results, n))
            fatal("%s: a map returned wrong results", name);
        for (int r = 0; r < rounds; r++)
            ratio[r] = fresh[r] / reused[r];
        snprintf(what, sizeof what, "%s, a fresh pool per map: ", name);
        print_spread(what, fresh, rounds, "s", 6);
        snprintf(what, sizeof what, "%s, one pool reused:      ", name);
        print_spread(what, reused, rounds, "s", 6);
        snprintf(what, sizeof what, "%s: fresh / reused = ", name);
        print_spread(what, ratio, rounds, "x", 1);
        out_check();
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
                   " and '%s'", pool_kind_name(kind), call, words, err,
                   pool_error(pool));
    printf("  %s: %s -> refused: \"%s\"\n", pool_kind_name(kind), call, words);
}

/* --rules: for each kind, join before close and map after close, each
 * refused; then close and join as the rules want. */
static void rules(int workers, const long *args, double *results, size_t n)
{
    static const enum pool_kind kinds[] = { POOL_PROCESSES, POOL_THREADS };

    printf("Breaking the pool's lifecycle rules on purpose: each refusal below\n"
           "is the lesson. CPython raises ValueError with the same words; the\n"
           "C call returns EINVAL (\"invalid argument\") and pool_error() has\n"
           "the words.\n");
    for (int k = 0; k < 2; k++) {
        struct pool *pool = open_or_die(kinds[k], workers);

        printf("%s pool:\n", pool_kind_name(kinds[k]));
        refused(pool, kinds[k], "join before close", pool_join(pool),
                "Pool is still running");
        pool_close(pool);
        refused(pool, kinds[k], "map after close",
                pool_map(pool, square_task, args, sizeof *args, results,
                         sizeof *results, n, 0),
                "Pool not running");
        if (pool_join(pool) != 0)
            pool_fatal(pool, "%s pool: join after close failed: %s",
                       pool_kind_name(kinds[k]), pool_error(pool));
        printf("  %s: close, then join -> fine\n", pool_kind_name(kinds[k]));
        pool_free(pool);
    }
}

/* ---- the command line ------------------------------------------------------ */

struct options {
    long n;             /* items per map */
    long maps;          /* --cost */
    int workers;
    bool cost, rules;
};

static struct options parse_options(int argc, char *argv[])
{
    static const struct option longopts[] = {
        OPT_VALUE("items", 'n'), OPT_FLAG("cost", 'C'), OPT_VALUE("maps", 'm'),
        OPT_FLAG("rules", 'R'), OPT_POOL, OPT_END,
    };
    struct options o = { .maps = 100 }; /* n 0: the mode's default */
    bool maps_given = false;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:w:m:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o.n = parse_long("--items", optarg, 1, 1024); break;
        case 'm':
            o.maps = parse_long("--maps", optarg, 1, 1000000);
            maps_given = true;
            break;
        case 'C': o.cost = true; break;
        case 'R': o.rules = true; break;
        default: pool_option(c, argv, &o.workers);
        }
    }
    pool_options_done(argc, argv, &o.workers);
    if (maps_given && !o.cost)
        usage_error("--maps: only with --cost");
    if (o.n == 0)
        o.n = o.cost ? 1000 : 10;
    return o;
}

/* ---- main: the tutorial's advice ------------------------------------------- */

/* What a spawned worker may be asked to run: it finds each by its name. */
static const struct pool_task tasks[] = { POOL_TASK(square_task) };

int main(int argc, char *argv[])
{
    POOL_MAIN(tasks);   /* if __name__ == "__main__": what follows runs here only */
    prog_init("reuse", usage);
    struct options o = parse_options(argc, argv);
    size_t n = (size_t)o.n;
    long *args = malloc(n * sizeof *args);        /* range(n) */
    double *results = malloc(n * sizeof *results);

    if (!args || !results)
        die("malloc");
    for (size_t i = 0; i < n; i++)
        args[i] = (long)i;

    if (!o.cost && !o.rules)
        pattern(o.workers, n, args, results);     /* open, map, close, join */
    if (o.rules)
        rules(o.workers, args, results, n);       /* the rules, broken */
    if (o.cost)
        cost(o.workers, (int)o.maps, n, args, results);  /* fresh vs reused */
    free(results);
    free(args);
    return 0;
}
