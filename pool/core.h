/* pool/core.h - what pool.c shares with the two kinds of pool, and the
 * spinning hooks of the fast layer (pool/fast/).
 *
 * pool.c owns what both kinds have in common: the checks, the chunking,
 * the lifecycle (RUN -> CLOSE or TERMINATE -> joined) and the words.
 * thread_pool.c and process_map.c each hand it a table of operations that
 * only move work to workers and results back.
 */
#ifndef POOL_CORE_H
#define POOL_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pool.h"

#define POOL_WHY_LEN 160 /* room for the words on how a worker died */
#define POOL_TASK_NONE ((size_t)-1)

/* One call of pool_map. Chunk c holds the items [c * chunksize,
 * min(n, (c + 1) * chunksize)). The outcome is written by job_chunk_done()
 * and job_chunk_lost() only. */
struct pool_job {
    pool_fn *fn;
    size_t task;             /* fn's place in pool_main's table (spawn,
                                forkserver), or POOL_TASK_NONE */
    const char *args;
    char *results;
    size_t arg_size, result_size, n, chunksize, nchunks;
    size_t first_failed;     /* the first failure to arrive; n: none */
    int first_err;
    size_t first_lost_count; /* > 0: the first failure is a lost chunk */
    size_t nfailed, nskipped; /* skipped: never run, their chunk stopped */
    char lost_why[POOL_WHY_LEN];
};

struct pool_ops {
    int (*start)(struct pool *pool);   /* the workers, or undo: an errno */
    int (*map)(struct pool *pool, struct pool_job *job); /* 0, or the errno
                                          of a map that failed as a whole */
    void (*stop)(struct pool *pool, bool terminate);
    int (*join)(struct pool *pool);
    void (*release)(struct pool *pool); /* after join */
    /* In a process that does not own the pool: free this copy's memory
     * only; no signal, no wait, no descriptor, no lock (threads that did
     * not come along may hold them). */
    void (*forget)(struct pool *pool);
};

enum pool_state { POOL_RUN, POOL_CLOSE, POOL_TERMINATE };

struct pool {
    enum pool_kind kind;
    int workers;
    enum pool_start start;
    pid_t owner;             /* the process that opened it: only it may use it */
    atomic_bool busy;        /* a thread is inside a call on it */
    enum pool_state state;
    bool joined;
    const struct pool_ops *ops;
    void *impl;              /* the kind's own state */
    char error[256];
};

extern const struct pool_ops pool_thread_ops, pool_process_ops;

/* Run fn over count items, in order, stopping at the first failure
 * (list(map(f, chunk))); the failed item and those never run get zeros.
 * Returns how many ran, the failed one included; *err is its error. */
size_t run_items(pool_fn *fn, const char *args, size_t arg_size,
                 char *results, size_t result_size, size_t count, int *err);
size_t job_chunk_first(const struct pool_job *job, size_t c);
size_t job_chunk_count(const struct pool_job *job, size_t c);
/* Chunk c is back: `ran` items ran, the last with err (0: all did). Or it
 * was lost with its worker: its items fail with err, zeroed, and why says
 * how the worker died. The first failure to arrive is kept. Not
 * thread-safe. */
void job_chunk_done(struct pool_job *job, size_t c, size_t ran, int err);
void job_chunk_lost(struct pool_job *job, size_t c, int err, const char *why);

/* The words of a failure, kept in the pool; with pool NULL, those of a
 * failed pool_open_start, for pool_error(NULL). */
void pool_set_error(struct pool *pool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The fast layer's spinning (pool/fast/spin.c); NULL without it. watch:
 * look for news(ctx) until it comes (true), the budget (ns, as budget_ns()
 * read it when the pool opened) is spent, or the clock passes `until` (0:
 * no limit), while the `awake` threads or processes of the pool beside
 * the watcher leave it a CPU. */
struct pool_spin_ops {
    bool (*watch)(long long budget, bool (*news)(void *ctx), void *ctx,
                  int awake, long long until);
    long long (*now_ns)(void);
    long long (*budget_ns)(void); /* POOL_SPIN_US now, in ns; 0: never */
};
extern const struct pool_spin_ops *const pool_spin;
#define POOL_WAKE_AFTER_NS 50000 /* sleepers join a map this late, while
                                    another worker is awake */

#endif
