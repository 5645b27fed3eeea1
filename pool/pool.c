/* pool/pool.c - what both kinds of pool share: argument checks, chunking,
 * the lifecycle, the misuse guards and the words for each failure.
 *
 * The lifecycle is CPython's Pool's (Lib/multiprocessing/pool.py, 3.11:
 * map, close, terminate, join): RUN until close() or terminate(); join()
 * only after one of them; map() only while RUN, with CPython's own words.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"

int pool_cpu_count(void)
{
    cpu_set_t set;
    long n;

    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        n = CPU_COUNT(&set);
    else
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n > POOL_MAX_WORKERS)
        return POOL_MAX_WORKERS;
    return n > 0 ? (int)n : 1;
}

long pool_spin_us(void)
{
    return pool_spin ? (long)(pool_spin->budget_ns() / 1000) : 0;
}

size_t pool_default_chunksize(size_t n, int workers)
{
    size_t d = 4 * (size_t)(workers > 0 ? workers : 1);
    size_t c = n / d + (n % d != 0);

    return c ? c : 1;
}

const char *pool_kind_name(enum pool_kind kind)
{
    return kind == POOL_THREADS ? "threads" : "processes";
}

char *pool_describe_status(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, len, "stopped with wait status %#x", (unsigned)status);
    return buf;
}

/* A failed pool_open has no pool to keep its words in: they stay here, per
 * thread, for pool_error(NULL). */
static _Thread_local char open_error[256];

void pool_set_error(struct pool *pool, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (pool)
        vsnprintf(pool->error, sizeof pool->error, fmt, ap);
    else
        vsnprintf(open_error, sizeof open_error, fmt, ap);
    va_end(ap);
}

struct pool *pool_open(enum pool_kind kind, int workers)
{
    return pool_open_start(kind, workers, POOL_START_FORK);
}

struct pool *pool_open_start(enum pool_kind kind, int workers,
                             enum pool_start start)
{
    struct pool *pool;
    int err;

    if ((kind != POOL_PROCESSES && kind != POOL_THREADS) ||
        workers > POOL_MAX_WORKERS) {
        errno = EINVAL;
        return NULL;
    }
    open_error[0] = '\0';
    if ((unsigned)start > POOL_START_FORKSERVER) {
        pool_set_error(NULL, "unknown start method %d", (int)start);
        errno = EINVAL;
        return NULL;
    }
    if (!(pool = calloc(1, sizeof *pool)))
        return NULL;
    pool->kind = kind;
    pool->owner = getpid();
    pool->workers = workers < 1 ? pool_cpu_count() : workers;
    pool->start = start;
    pool->ops = kind == POOL_THREADS ? &pool_thread_ops : &pool_process_ops;
    if ((err = pool->ops->start(pool))) {
        free(pool);
        errno = err;
        return NULL;
    }
    return pool;
}

size_t job_chunk_first(const struct pool_job *job, size_t c)
{
    return c * job->chunksize;
}

size_t job_chunk_count(const struct pool_job *job, size_t c)
{
    size_t first = c * job->chunksize;

    return job->n - first < job->chunksize ? job->n - first : job->chunksize;
}

/* The first failure to arrive is the one kept (MapResult._set). */
static void job_fail(struct pool_job *job, size_t first, size_t count,
                     int err, const char *why)
{
    job->nfailed += count;
    if (job->first_failed != job->n)
        return;
    job->first_failed = first;
    job->first_err = err;
    job->first_lost_count = why ? count : 0;
    if (why)
        snprintf(job->lost_why, sizeof job->lost_why, "%s", why);
}

void job_chunk_done(struct pool_job *job, size_t c, size_t ran, int err)
{
    if (err) {
        job_fail(job, job_chunk_first(job, c) + ran - 1, 1, err, NULL);
        job->nskipped += job_chunk_count(job, c) - ran;
    }
}

void job_chunk_lost(struct pool_job *job, size_t c, int err, const char *why)
{
    size_t first = job_chunk_first(job, c), count = job_chunk_count(job, c);

    if (job->result_size) /* whatever part of a reply arrived there */
        memset(job->results + first * job->result_size, 0,
               count * job->result_size);
    job_fail(job, first, count, err, why);
}

size_t run_items(pool_fn *fn, const char *args, size_t arg_size,
                 char *results, size_t result_size, size_t count, int *err)
{
    size_t i = 0;

    *err = 0;
    while (i < count && *err == 0) {
        /* No pointer arithmetic on a NULL array (allowed with size 0). */
        const char *arg = arg_size ? args + i * arg_size : NULL;
        char *res = result_size ? results + i * result_size : NULL;
        *err = fn(arg, res);
        i++;
    }
    /* A failed task may have written part of its result: zeros instead,
     * and zeros for the items that never ran. */
    if (*err && result_size)
        memset(results + (i - 1) * result_size, 0,
               (count - i + 1) * result_size);
    return i;
}

/* Put the words for the job's first failure into pool->error. */
static void describe_failure(struct pool *pool, const struct pool_job *job)
{
    size_t first = job->first_failed;
    size_t lost = job->first_lost_count;
    int len;

    if (lost > 1)
        len = snprintf(pool->error, sizeof pool->error,
                       "items %zu-%zu lost: %s", first, first + lost - 1,
                       job->lost_why);
    else if (lost == 1)
        len = snprintf(pool->error, sizeof pool->error, "item %zu lost: %s",
                       first, job->lost_why);
    else
        len = snprintf(pool->error, sizeof pool->error,
                       "item %zu failed: %s", first, strerror(job->first_err));
    if (len <= 0 || (size_t)len >= sizeof pool->error)
        return;
    char *end = pool->error + len;
    size_t room = sizeof pool->error - (size_t)len;
    bool more = job->nfailed > (lost ? lost : 1);
    if (more && job->nskipped)
        snprintf(end, room, " (%zu items failed in all, %zu not run)",
                 job->nfailed, job->nskipped);
    else if (more)
        snprintf(end, room, " (%zu items failed in all)", job->nfailed);
    else if (job->nskipped)
        snprintf(end, room, " (%zu items not run)", job->nskipped);
}

/* ---- the door of every call ---------------------------------------------
 *
 * Misuse fails here, before anything is touched: a NULL pool (EINVAL); a
 * copy made by fork, used in another process (EPERM: it would talk to, or
 * signal, the owner's workers); a call while another thread is inside one
 * (EBUSY at once: the call in progress, and its words, are left alone).
 * Begin a call: 0, and the pool is this thread's until leave(). */
static int enter(struct pool *pool)
{
    if (!pool)
        return EINVAL;
    if (getpid() != pool->owner) {
        pool_set_error(pool, "this pool belongs to process %ld, not to this "
                       "one (%ld): a copy made by fork cannot be used",
                       (long)pool->owner, (long)getpid());
        return EPERM;
    }
    if (atomic_exchange(&pool->busy, true))
        return EBUSY;
    pool->error[0] = '\0';
    return 0;
}

/* End a call begun by enter(); returns err. */
static int leave(struct pool *pool, int err)
{
    atomic_store(&pool->busy, false);
    return err;
}

static int map_job(struct pool *pool, pool_fn *fn,
                   const void *args, size_t arg_size,
                   void *results, size_t result_size,
                   size_t n, size_t chunksize)
{
    struct pool_job job;
    int err;

    if (pool->state != POOL_RUN) {
        pool_set_error(pool, "Pool not running");
        return EINVAL;
    }
    if (!fn || (!args && arg_size) || (!results && result_size)) {
        pool_set_error(pool, "invalid arguments to pool_map");
        return EINVAL;
    }
    /* No array in C holds more than PTRDIFF_MAX bytes. */
    if ((arg_size && n > PTRDIFF_MAX / arg_size) ||
        (result_size && n > PTRDIFF_MAX / result_size)) {
        pool_set_error(pool, "pool_map: sizes too large: %zu items of %zu "
                       "bytes in, %zu bytes out", n, arg_size, result_size);
        return EINVAL;
    }
    if (n == 0)
        return 0;
    if (chunksize == 0)
        chunksize = pool_default_chunksize(n, pool->workers);
    if (chunksize > n)
        chunksize = n; /* one chunk; and no buffer sized for more than n */
    job = (struct pool_job){ .fn = fn, .task = POOL_TASK_NONE, .args = args,
                             .results = results, .arg_size = arg_size,
                             .result_size = result_size, .n = n,
                             .chunksize = chunksize, .first_failed = n,
                             .nchunks = n / chunksize + (n % chunksize != 0) };

    if ((err = pool->ops->map(pool, &job))) {
        if (result_size) /* a map that failed as a whole has no results */
            memset(results, 0, n * result_size);
        return err;
    }
    if (job.first_failed == n)
        return 0;
    describe_failure(pool, &job);
    return job.first_err;
}

static void stop(struct pool *pool, enum pool_state state)
{
    if (pool->state == POOL_RUN ||
        (state == POOL_TERMINATE && pool->state != POOL_TERMINATE)) {
        pool->state = state;
        pool->ops->stop(pool, state == POOL_TERMINATE);
    }
}

static int join(struct pool *pool)
{
    if (pool->state == POOL_RUN) {
        pool_set_error(pool, "Pool is still running");
        return EINVAL;
    }
    if (pool->joined)
        return 0;
    int err = pool->ops->join(pool);
    pool->joined = true;
    if (err)
        pool_set_error(pool, "joining the workers: %s", strerror(err));
    return err;
}

int pool_map(struct pool *pool, pool_fn *fn,
             const void *args, size_t arg_size,
             void *results, size_t result_size,
             size_t n, size_t chunksize)
{
    int err = enter(pool);

    return err ? err : leave(pool, map_job(pool, fn, args, arg_size, results,
                                           result_size, n, chunksize));
}

static int stop_call(struct pool *pool, enum pool_state state)
{
    int err = enter(pool);

    if (!err)
        stop(pool, state);
    return err ? err : leave(pool, 0);
}

int pool_close(struct pool *pool)
{
    return stop_call(pool, POOL_CLOSE);
}

int pool_terminate(struct pool *pool)
{
    return stop_call(pool, POOL_TERMINATE);
}

int pool_join(struct pool *pool)
{
    int err = enter(pool);

    return err ? err : leave(pool, join(pool));
}

void pool_free(struct pool *pool)
{
    if (!pool)
        return;
    if (getpid() != pool->owner) {
        pool->ops->forget(pool); /* a copy: its memory, nothing else */
        free(pool);
        return;
    }
    int err = enter(pool);
    if (err) {
        errno = err; /* EBUSY: another thread is in a call on it */
        return;
    }
    if (pool->state == POOL_RUN) /* after pool_close: a graceful join */
        stop(pool, POOL_TERMINATE);
    join(pool);
    pool->ops->release(pool);
    free(pool);
}

int pool_workers(const struct pool *pool)
{
    if (!pool || getpid() != pool->owner) {
        errno = pool ? EPERM : EINVAL;
        return -1;
    }
    return pool->workers;
}

const char *pool_error(const struct pool *pool)
{
    if (!pool)
        return open_error[0] ? open_error : "no pool (NULL)";
    if (getpid() == pool->owner && atomic_load(&pool->busy))
        return "pool busy: another thread is in a call on it";
    return pool->error;
}
