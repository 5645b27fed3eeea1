/* basic/basic.c - a pool maps factorial over 0..9, with processes and threads.
 *
 * Shows: the section "Pools: simple processing of a list". main() reads
 * like the Python program: open a pool, map, print, once with processes
 * (multiprocessing.Pool) and once with threads (ThreadPool). The pool
 * itself is in ../pool.
 *
 * Usage: basic [-n N] [-w N] [--start M] [--who | --chunks]
 *
 * Try (from the project root):
 *   basic/basic             the tutorial's four lines
 *   basic/basic --who -w 2  which worker computed which item: an idle worker
 *                           takes the next chunk, so the split can differ
 *                           from run to run (each item also sleeps 5 ms
 *                           here, so that both workers are busy)
 *   basic/basic -n 25       21! does not fit in 64 bits: the task fails and
 *                           the map reports it (C's limit: Python's int grows
 *                           as needed, and Python prints all 25 factorials)
 *   basic/basic --chunks -n 20 -w 2
 *                           how the map cuts the items into chunks (runs
 *                           nothing): which items always share a worker
 *
 * See also: docs/basic.md, pool/pool.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "err.h"
#include "pool.h"
#include "poolrun.h"
#include "pylist.h"
#include "tasks.h"

static const char usage[] =
    "usage: basic [-n N] [-w N] [--start M] [--who | --chunks]\n"
    "  Map factorial over 0..N-1 with a pool of processes, then of threads.\n"
    "  -n, --items N    how many factorials (default 10; 21! and up fail)\n"
    "  -w, --workers N  workers per pool (default: the CPUs we may use)\n"
    "      --start M    how the process pool starts its workers: fork\n"
    "                   (default, as the tutorial), spawn or forkserver\n"
    "      --who        also show which worker computed each item (a worker's\n"
    "                   first 20 items then sleep 5 ms each, so that every\n"
    "                   worker gets some)\n"
    "      --chunks     print how the map cuts the items into chunks, and\n"
    "                   run nothing\n"
    "  -h, --help       this text\n";

/* A result: the factorial, and who computed it (for --who). */
struct result {
    uint64_t value;
    long worker;
};

/* Threads have no pid of their own to show: number them as they first work. */
static atomic_long next_thread_number = 1;
static _Thread_local long thread_number;

/* The task: n! into result, or ERANGE when it does not fit in 64 bits
 * (20! is the largest that does). C's limit: Python's int has none. */
static int factorial(const void *arg, void *result)
{
    long n = *(const long *)arg;
    struct result *r = result;
    uint64_t f = 1;

    for (long i = 2; i <= n; i++) {
        if (f > UINT64_MAX / (uint64_t)i)
            return ERANGE;
        f *= (uint64_t)i;
    }
    r->value = f;
    if (!thread_number)
        thread_number = atomic_fetch_add(&next_thread_number, 1);
    r->worker = thread_number;
    return 0;
}

/* In a process each worker is its own process: its pid says who it is. */
static int factorial_in_process(const void *arg, void *result)
{
    int err = factorial(arg, result);

    ((struct result *)result)->worker = (long)getpid();
    return err;
}

/* --who: the same tasks, each item after a short sleep (item_sleep in
 * common/tasks.h: without it the worker that was awake computes the whole
 * map before the other wakes up, and --who would show one worker). */
static int factorial_shown(const void *arg, void *result)
{
    int err = item_sleep();

    return err ? err : factorial(arg, result);
}

static int factorial_shown_in_process(const void *arg, void *result)
{
    int err = item_sleep();

    return err ? err : factorial_in_process(arg, result);
}

/* What a failed map says when the cause is C's 64 bits, not the program. */
static const char overflow_note[] =
    "\n  21! and up do not fit in 64 bits: C's limit, not Python's. Python's"
    "\n  int grows as needed: there the map prints every factorial, exit 0.";

/* pool.map(factorial, range(n)) with a pool of the given kind; print it. */
static void run(enum pool_kind kind, int workers, long n, bool who)
{
    const char *name = kind == POOL_PROCESSES ? "Processes" : "Threads";
    pool_fn *fn = kind == POOL_PROCESSES
                      ? (who ? factorial_shown_in_process : factorial_in_process)
                      : (who ? factorial_shown : factorial);
    long *args = malloc((size_t)n * sizeof *args);
    struct result *results = malloc((size_t)n * sizeof *results);
    long long *values = malloc((size_t)n * sizeof *values);
    struct pool *pool;
    int err;

    if (!args || !results || !values)
        die("malloc");
    for (long i = 0; i < n; i++)
        args[i] = i;

    pool = open_or_die(kind, workers);
    err = pool_map(pool, fn, args, sizeof *args, results, sizeof *results,
                   (size_t)n, 0);
    if (err) {
        free(values);
        free(results);
        free(args);
        pool_fatal(pool, "%s pool: %s%s", name, pool_error(pool),
                   err == ERANGE ? overflow_note : "");
    }
    pool_free(pool);

    for (long i = 0; i < n; i++)
        values[i] = (long long)results[i].value;
    printf("%s pool results: ", name);
    pylist_print(stdout, values, (size_t)n);
    putchar('\n');
    if (who)
        for (long i = 0; i < n; i++)
            printf("  factorial(%ld) = %llu  by %s %ld\n", i,
                   (unsigned long long)results[i].value,
                   kind == POOL_PROCESSES ? "worker pid" : "thread",
                   results[i].worker);
    free(values);
    free(results);
    free(args);
}

/* The chunks pool_map makes of n items: the part of the hand-out that is
 * fixed. Which worker takes which chunk is not: an idle worker takes the
 * next one. */
static void print_chunks(long n, int workers)
{
    size_t size = pool_default_chunksize((size_t)n, workers);
    long chunk = 0;

    printf("pool.map(factorial, range(%ld)) on %d worker%s:\n"
           "chunksize %zu = ceil(%ld / (4 * %d)), so the chunks are\n",
           n, workers, workers == 1 ? "" : "s", size, n, workers);
    for (long first = 0; first < n; first += (long)size, chunk++) {
        long last = first + (long)size - 1 < n ? first + (long)size - 1 : n - 1;

        if (first == last)
            printf("  chunk %ld: item %ld\n", chunk, first);
        else
            printf("  chunk %ld: items %ld-%ld\n", chunk, first, last);
    }
    printf("Each chunk goes whole to one worker, the next chunk to whichever\n"
           "worker is idle first: which worker that is varies from run to run.\n");
}

struct options {
    long n;
    int workers;
    bool who;
    bool chunks;
};

static struct options parse_options(int argc, char *argv[])
{
    static const struct option longopts[] = {
        OPT_VALUE("items", 'n'), OPT_FLAG("who", 'W'), OPT_FLAG("chunks", 'C'),
        OPT_POOL, OPT_END,
    };
    struct options o = { .n = 10 };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:w:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o.n = parse_long("--items", optarg, 1, 1000000); break;
        case 'W': o.who = true; break;
        case 'C': o.chunks = true; break;
        default: pool_option(c, argv, &o.workers);
        }
    }
    pool_options_done(argc, argv, &o.workers);
    if (o.who && o.chunks)
        usage_error("--who and --chunks do not go together");
    return o;
}

/* What a spawned worker may be asked to run: it finds each by its name. */
static const struct pool_task tasks[] = {
    POOL_TASK(factorial_in_process), POOL_TASK(factorial_shown_in_process),
};

int main(int argc, char *argv[])
{
    POOL_MAIN(tasks);   /* if __name__ == "__main__": what follows runs here only */
    prog_init("basic", usage);
    struct options o = parse_options(argc, argv);

    if (o.chunks) {
        print_chunks(o.n, o.workers);
        return 0;
    }
    printf("Running a pool of processes...\n");
    run(POOL_PROCESSES, o.workers, o.n, o.who);   /* Pool().map(factorial, ...) */
    printf("Running a pool of threads...\n");
    run(POOL_THREADS, o.workers, o.n, o.who);     /* ThreadPool().map(...) */
    return 0;
}
