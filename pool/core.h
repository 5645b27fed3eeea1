/* pool/core.h - what pool.c shares with the two kinds of pool, and the
 * services the layers (pool/fast/, pool/start/) may use.
 *
 * pool.c owns what both kinds have in common: argument checks, chunking,
 * the lifecycle (RUN -> CLOSE or TERMINATE -> joined) and the words for a
 * failure. thread_pool.c and process_pool.c each supply a table of
 * operations that only move work to workers and results back.
 */
#ifndef POOL_CORE_H
#define POOL_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pool.h"

#define POOL_WHY_LEN 160 /* room for the words on how a worker died */

/* One call of pool_map, as the workers see it. Chunk c holds the items
 * [c * chunksize, min(n, (c + 1) * chunksize)). */
struct pool_job {
    pool_fn *fn;
    size_t task;             /* fn's index in pool_main's table, or
                                POOL_TASK_NONE: the pointer travels (fork) */
    const char *args;
    char *results;
    size_t arg_size, result_size, n, chunksize, nchunks;

    /* The outcome, written through job_fail() only. "First" is the first
     * failure to arrive, as CPython's MapResult._set keeps the first
     * exception; not the lowest-numbered. */
    size_t first_failed;     /* n while nothing failed */
    int first_err;
    size_t first_lost_count; /* > 0 when the first failure is a lost chunk */
    size_t nfailed, nskipped; /* skipped: never run, their chunk stopped */
    char lost_why[POOL_WHY_LEN];
};
#define POOL_TASK_NONE ((size_t)-1)

struct pool_ops {
    int (*start)(struct pool *pool); /* start the workers, or undo: errno */
    int (*map)(struct pool *pool, struct pool_job *job); /* 0, or errno when
                                        the map could not be carried out */
    void (*stop)(struct pool *pool, bool terminate);
    int (*join)(struct pool *pool);
    void (*release)(struct pool *pool); /* after join */
    /* In a process that does not own the pool (a fork child, a task): free
     * this copy's memory only. No signal, no wait, no descriptor, no lock:
     * they are the owner's, and may be held by threads that did not come
     * along. */
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

/* Items [first, first + count) failed with err. why == NULL: the task
 * returned err; otherwise they were lost with their worker, and why says
 * how it died. Keeps the first failure to arrive. Not thread-safe. */
void job_fail(struct pool_job *job, size_t first, size_t count, int err,
              const char *why);

/* Run fn over count items, in order, stopping at the first failure as
 * CPython's list(map(f, chunk)). The failed item and those never run get
 * zeros. Returns how many ran, the failed one included; *err is its error. */
size_t run_items(pool_fn *fn, const char *args, size_t arg_size,
                 char *results, size_t result_size, size_t count, int *err);

size_t job_chunk_first(const struct pool_job *job, size_t c);
size_t job_chunk_count(const struct pool_job *job, size_t c);

void pool_set_error(struct pool *pool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for a pool_open that failed (pool_error(NULL) shows them). */
void pool_open_failed(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* ---- the layers, as the core sees them ----------------------------------
 *
 * Spinning (pool/fast/spin.c): a thread that expects news soon may watch
 * for it before it sleeps. NULL in a build without the fast layer
 * (make POOL_FAST=0): every wait sleeps. */
struct pool_spin_ops {
    /* Watch until news(ctx) is true, for at most budget ns (a pool's, as
     * budget_ns() read it when the pool opened) and until `until` (ns, 0:
     * no limit), as long as `awake` threads or processes of the pool
     * beside the watcher leave it a CPU. True when the news came. */
    bool (*watch)(long long budget, bool (*news)(void *ctx), void *ctx,
                  int awake, long long until);
    long long (*now_ns)(void);
    long long (*budget_ns)(void); /* POOL_SPIN_US now, in ns; 0: never */
};
extern const struct pool_spin_ops *const pool_spin;

/* While a worker is awake, sleepers join a map only this late (ns). */
#define POOL_WAKE_AFTER_NS 50000

/* Start methods other than fork (pool/start/): a fresh image of the
 * program per worker, or a fork server. */
struct pool_start_method {
    int (*check)(void);              /* may a pool start now? 0 or errno,
                                        with pool_open_failed's words */
    pid_t (*start)(int child_fd);    /* -1 with errno and words */
    int (*wait)(pid_t pid, int *status, int timeout_ms); /* see wait_child */
    void (*atfork)(void);            /* its fork handlers, registered first */
};
extern const struct pool_start_method pool_spawn_method, pool_forkserver_method;

/* pool_main's table, for tasks that travel by name (pool.c). */
void pool_set_tasks(const struct pool_task *tasks, size_t n);
size_t pool_task_index(pool_fn *fn); /* POOL_TASK_NONE if not there */
pool_fn *pool_task_fn(pool_fn *fn, size_t index);

/* waitpid for a child, at most timeout_ms (< 0: no limit): 0, ETIMEDOUT,
 * or waitpid's errno (ECHILD: reaped by someone else). */
int wait_child(pid_t pid, int *status, int timeout_ms);

/* fd moved to 3 or above (close-on-exec), the original closed; -1 with
 * errno. No channel may sit on stdin, stdout or stderr. */
int pp_above_stdio(int fd);

/* A worker's life, forked or a fresh image: tied to `parent`, then serve
 * the channel on fd until the pool lets it go. */
_Noreturn void pp_worker_main(int fd, pid_t parent);

#endif
