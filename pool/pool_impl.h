/* pool/pool_impl.h - what pool.c shares with the two kinds of pool.
 *
 * pool.c owns what both kinds have in common: argument checks, the chunking,
 * the lifecycle (RUN -> CLOSE or TERMINATE -> joined) and the error text.
 * thread_pool.c and process_pool.c each supply a table of operations that
 * only move work to workers and results back.
 */
#ifndef POOL_IMPL_H
#define POOL_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pool.h"

/* Room for the words on how a worker died. */
#define POOL_WHY_LEN 160

/* One call of pool_map, as the workers see it. Chunk c holds the items
 * [c * chunksize, min(n, (c + 1) * chunksize)). */
struct pool_job {
    pool_fn *fn;
    const char *args;
    size_t arg_size;
    char *results;
    size_t result_size;
    size_t n;
    size_t chunksize;
    size_t nchunks;
    size_t task;             /* fn's index in pool_main's table, for fresh
                                images (start.h); POOL_TASK_NONE under fork */

    /* The outcome, written through job_fail() only. "First" is the first
     * failure to arrive, as CPython's MapResult._set keeps the first
     * exception; not the lowest-numbered. */
    size_t first_failed;     /* n while nothing failed */
    int first_err;
    size_t first_lost_count; /* > 0 when the first failure is a lost chunk */
    size_t nfailed;
    size_t nskipped;         /* items never run: their chunk stopped early */
    char lost_why[POOL_WHY_LEN]; /* how the worker holding it died */
};

struct pool_ops {
    /* Start pool->workers workers. On failure stop and reap those started,
     * release everything and return the errno value. */
    int (*start)(struct pool *pool);
    /* Run the job to the end; record failures with job_fail(). Returns 0,
     * or an errno value when the map itself could not be carried out
     * (with pool_set_error() called). */
    int (*map)(struct pool *pool, struct pool_job *job);
    /* Tell the workers to leave: once idle (terminate false) or now. */
    void (*stop)(struct pool *pool, bool terminate);
    /* Wait for every worker to leave. */
    int (*join)(struct pool *pool);
    /* Release what start() allocated (after join). */
    void (*release)(struct pool *pool);
    /* In a process that does not own the pool (a fork child, a task): free
     * this copy's memory only. No signal, no wait, no descriptor: they are
     * the owner's. No lock or condition of the pool's own either: the copy
     * may be held or waited on by threads that did not come along. */
    void (*forget)(struct pool *pool);
};

enum pool_state { POOL_RUN, POOL_CLOSE, POOL_TERMINATE };

struct pool {
    enum pool_kind kind;
    int workers;
    enum pool_start start;   /* how process workers are started */
    pid_t owner;             /* the process that opened it: only it may use it */
    atomic_bool busy;        /* a thread is inside a call on it */
    enum pool_state state;
    bool joined;
    const struct pool_ops *ops;
    void *impl;              /* the kind's own state */
    char error[256];
};

extern const struct pool_ops pool_thread_ops;
extern const struct pool_ops pool_process_ops;

/* Items [first, first + count) failed with err. why == NULL: the task
 * returned err; otherwise the items were lost with their worker, and why
 * says how it died. Keeps the first failure recorded (the first to arrive).
 * Not thread-safe: the thread pool calls it under its lock. */
void job_fail(struct pool_job *job, size_t first, size_t count, int err,
              const char *why);

/* Run fn over count items, as CPython's list(map(f, chunk)): in order, and
 * stop at the first item whose task fails. args and results hold the
 * chunk's items (NULL when their size is 0: the task then gets NULL). The
 * failed item and the items never run get zeros in their results.
 * Returns how many items ran, the failed one included; *err is its error,
 * or 0 when every item succeeded. */
size_t run_items(pool_fn *fn, const char *args, size_t arg_size,
                 char *results, size_t result_size, size_t count, int *err);

/* The items of chunk c: its first item and how many. */
size_t job_chunk_first(const struct pool_job *job, size_t c);
size_t job_chunk_count(const struct pool_job *job, size_t c);

/* printf into pool->error. */
void pool_set_error(struct pool *pool, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
