/* compare/failmap.c - which items of a failing pool_map run, and which
 * error it reports: the C half of compare/failmap.py.
 *
 * Shows: the pool's failure semantics beside CPython's. Two workers map a
 * task over 0..19 in chunks of 5; item 0 sleeps 0.3 s, items 1 and 7 fail
 * at once. CPython runs a chunk as list(map(f, chunk)), so a chunk stops
 * at its first failure, and pool.map raises the first failure to arrive
 * (Lib/multiprocessing/pool.py, mapstar and MapResult._set, 3.11): items
 * 0 1 5 6 7 10..19 run and item 7's error is raised. One line comes out:
 *
 *   ran: 0 1 5 6 7 10 11 12 13 14 15 16 17 18 19; error: item 7
 *
 * Which items ran is kept in memory the workers share: mapped
 * (MAP_SHARED) before pool_open, so that forked workers inherit it. Which
 * item's error came back is read from pool_map's return value, because
 * each failing item returns an errno value of its own.
 *
 * Usage: failmap processes|threads
 *
 * Try: compare/failmap processes, then python3 compare/failmap.py processes
 *
 * See also: compare/failmap.py, docs/compare.md, pool/pool.h (pool_map).
 */
/* MAP_ANONYMOUS is not in POSIX 2008; glibc shows it with _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "args.h"
#include "err.h"
#include "options.h"
#include "poolrun.h"
#include "tasks.h"

static const char usage[] =
    "usage: failmap processes|threads\n"
    "  Map over 0..19 on 2 workers in chunks of 5: item 0 sleeps 0.3 s,\n"
    "  items 1 and 7 fail. Print which items ran and which error the map\n"
    "  reported, as compare/failmap.py does for CPython's pools.\n"
    "  -h, --help   this text\n";

#define ITEMS 20
#define WORKERS 2
#define CHUNKSIZE 5
#define SLOW_ITEM 0
#define SLOW_S 0.3

/* The failing items, each with an errno value no other item returns. */
static const struct {
    long item;
    int err;
} failing[] = { { 1, EDOM }, { 7, ERANGE } };

#define NFAILING (sizeof failing / sizeof *failing)

/* ran[i] != 0: item i started. Shared with the workers; each item's byte
 * is written by the one worker that runs it. */
static unsigned char *ran;

static int task(const void *arg, void *result)
{
    long i = *(const long *)arg;
    double slow = SLOW_S;

    (void)result;
    ran[i] = 1;
    if (i == SLOW_ITEM)
        sleep_task(&slow, NULL);
    for (size_t k = 0; k < NFAILING; k++)
        if (failing[k].item == i)
            return failing[k].err;
    return 0;
}

/* The line compare/failmap.py prints too: the items that ran, then the
 * item whose error the map reported ("none" when it reported none). */
static void report(struct pool *pool, int err)
{
    printf("ran:");
    for (long i = 0; i < ITEMS; i++)
        if (ran[i])
            printf(" %ld", i);
    printf("; error: ");
    for (size_t k = 0; k < NFAILING && err; k++)
        if (failing[k].err == err) {
            printf("item %ld\n", failing[k].item);
            return;
        }
    printf(err ? "other (%s)\n" : "none\n", pool_error(pool));
}

/* The kind named by the one operand. */
static enum pool_kind parse_kind(int argc, char *argv[])
{
    if (optind != argc - 1)
        usage_error("expected one operand, processes or threads");
    if (strcmp(argv[optind], "processes") == 0)
        return POOL_PROCESSES;
    if (strcmp(argv[optind], "threads") == 0)
        return POOL_THREADS;
    usage_error("unknown kind '%s' (processes or threads)", argv[optind]);
}

int main(int argc, char *argv[])
{
    long args[ITEMS];
    enum pool_kind kind;
    struct pool *pool;
    int err;

    prog_init("failmap", usage);
    help_only(argc, argv);
    kind = parse_kind(argc, argv);

    ran = mmap(NULL, ITEMS, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ran == MAP_FAILED)
        die("mmap");
    for (long i = 0; i < ITEMS; i++)
        args[i] = i;
    pool = open_or_die(kind, WORKERS);
    err = pool_map(pool, task, args, sizeof *args, NULL, 0, ITEMS, CHUNKSIZE);
    report(pool, err);
    pool_free(pool);
    munmap(ran, ITEMS);
    if (fflush(stdout) == EOF || ferror(stdout))
        die("cannot write the output");
    return 0;
}
