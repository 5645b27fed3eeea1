/* common/poolrun.c - the programs' one way to open a pool and to map on it
 * (see poolrun.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "poolrun.h"

static enum pool_start start = POOL_START_FORK;

void set_start_method(enum pool_start method)
{
    start = method;
}

enum pool_start start_method(void)
{
    return start;
}

struct pool *open_or_die(enum pool_kind kind, int workers)
{
    struct pool *pool = pool_open_start(kind, workers, start);
    int err = errno;

    if (pool)
        return pool;
    if (kind == POOL_THREADS)
        die_en(err, "cannot open a pool of %d threads", workers);
    /* The pool's own words, when it has some, say more than errno can
     * (spawn before pool_main); pool.h names the text it has when not. */
    const char *why = pool_error(NULL);
    if (strcmp(why, "no pool (NULL)") == 0)
        why = strerror(err);
    if (start == POOL_START_FORK)
        fatal_folded("cannot open a pool of %d processes: %s", workers, why);
    fatal_folded("cannot open a pool of %d processes (%s): %s", workers,
                 pool_start_name(start), why);
}

void map_or_die(struct pool *pool, const char *what, pool_fn *fn,
                const void *args, size_t arg_size, void *results,
                size_t result_size, size_t n, size_t chunksize)
{
    if (pool_map(pool, fn, args, arg_size, results, result_size, n,
                 chunksize) != 0)
        pool_fatal(pool, "%s: %s", what, pool_error(pool));
}

void pool_fatal(struct pool *pool, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pool_free(pool);
    fatal_folded("%s", text);
}
