/* common/poolrun.c - the programs' one way to open a pool and to map on it
 * (see poolrun.h). */
#include <stdarg.h>
#include <stdio.h>

#include "poolrun.h"

struct pool *open_or_die(enum pool_kind kind, int workers)
{
    struct pool *pool = pool_open(kind, workers);

    if (!pool)
        die("cannot open a pool of %d %s", workers, pool_kind_name(kind));
    return pool;
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
