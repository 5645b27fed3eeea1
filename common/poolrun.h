/* common/poolrun.h - the programs' one way to open a pool and to map on it.
 *
 * A program that cannot open its pool, or whose map fails, says so on
 * stderr in the pool's own words and exits 1, after freeing the pool so
 * that no worker outlives it. Every program handles a failed map this way.
 *
 *   basic: Processes pool: item 21 failed: Numerical result out of range
 */
#ifndef COMMON_POOLRUN_H
#define COMMON_POOLRUN_H

#include <stddef.h>

#include "err.h"
#include "pool.h"

/* How this program's process pools start their workers (--start); fork
 * until set. Thread pools have no start method. */
void set_start_method(enum pool_start start);
enum pool_start start_method(void);

/* pool_open_start with the program's start method, or exit 1:
 * "PROG: cannot open a pool of 2 processes (spawn): ...". */
struct pool *open_or_die(enum pool_kind kind, int workers);

/* pool_map, or exit 1: "PROG: WHAT: <pool_error>", the pool freed first.
 * `what` names the map for the reader ("processes_sleep", "Threads pool"). */
void map_or_die(struct pool *pool, const char *what, pool_fn *fn,
                const void *args, size_t arg_size, void *results,
                size_t result_size, size_t n, size_t chunksize);

/* Like fatal(), but the pool is freed first, so its workers are stopped
 * and reaped before the program ends. */
_Noreturn PRINTF_LIKE(2, 3) void pool_fatal(struct pool *pool,
                                            const char *fmt, ...);

#endif
