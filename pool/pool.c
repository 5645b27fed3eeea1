/* pool/pool.c - what both kinds of pool share: argument checks, chunking,
 * the lifecycle and the words for each failure.
 *
 * The lifecycle follows CPython's Pool: RUN until close() or terminate();
 * join() only after one of them; map() only while RUN. The error texts
 * "Pool not running" and "Pool is still running" are CPython's own.
 *
 * See also: pool.h (the contract), thread_pool.c, process_pool.c,
 * docs/pool.md.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool_impl.h"
#include "start.h"

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

void pool_set_error(struct pool *pool, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(pool->error, sizeof pool->error, fmt, ap);
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
    err = start_check(kind, start);
    if (err) {
        errno = err;
        return NULL;
    }
    pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->kind = kind;
    pool->workers = workers < 1 ? pool_cpu_count() : workers;
    pool->start = start;
    pool->state = POOL_RUN;
    pool->ops = kind == POOL_THREADS ? &pool_thread_ops : &pool_process_ops;
    err = pool->ops->start(pool);
    if (err) {
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

void job_fail(struct pool_job *job, size_t first, size_t count, int err,
              const char *why)
{
    job->nfailed += count;
    if (first >= job->first_failed)
        return;
    job->first_failed = first;
    job->first_err = err;
    job->first_lost_count = why ? count : 0;
    if (why)
        snprintf(job->lost_why, sizeof job->lost_why, "%s", why);
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
    if (len > 0 && (size_t)len < sizeof pool->error &&
        job->nfailed > (lost ? lost : 1))
        snprintf(pool->error + len, sizeof pool->error - (size_t)len,
                 " (%zu items failed in all)", job->nfailed);
}

int pool_map(struct pool *pool, pool_fn *fn,
             const void *args, size_t arg_size,
             void *results, size_t result_size,
             size_t n, size_t chunksize)
{
    struct pool_job job;
    int err;

    pool->error[0] = '\0';
    if (pool->state != POOL_RUN) {
        pool_set_error(pool, "Pool not running");
        return EINVAL;
    }
    if (!fn || (!args && arg_size) || (!results && result_size) ||
        (arg_size && n > SIZE_MAX / arg_size) ||
        (result_size && n > SIZE_MAX / result_size)) {
        pool_set_error(pool, "invalid arguments to pool_map");
        return EINVAL;
    }
    if (n == 0)
        return 0;
    if (chunksize == 0)
        chunksize = pool_default_chunksize(n, pool->workers);
    if (chunksize > n)
        chunksize = n; /* one chunk; and no buffer sized for more than n */
    memset(&job, 0, sizeof job);
    job.fn = fn;
    job.args = args;
    job.arg_size = arg_size;
    job.results = results;
    job.result_size = result_size;
    job.n = n;
    job.chunksize = chunksize;
    job.nchunks = n / chunksize + (n % chunksize != 0);
    job.first_failed = n;

    err = pool->ops->map(pool, &job);
    if (err)
        return err;
    if (job.first_failed == n)
        return 0;
    describe_failure(pool, &job);
    return job.first_err;
}

int pool_close(struct pool *pool)
{
    pool->error[0] = '\0';
    if (pool->state == POOL_RUN) {
        pool->state = POOL_CLOSE;
        pool->ops->stop(pool, false);
    }
    return 0;
}

int pool_terminate(struct pool *pool)
{
    pool->error[0] = '\0';
    if (pool->state != POOL_TERMINATE) {
        pool->state = POOL_TERMINATE;
        pool->ops->stop(pool, true);
    }
    return 0;
}

int pool_join(struct pool *pool)
{
    int err;

    pool->error[0] = '\0';
    if (pool->state == POOL_RUN) {
        pool_set_error(pool, "Pool is still running");
        return EINVAL;
    }
    if (pool->joined)
        return 0;
    err = pool->ops->join(pool);
    pool->joined = true;
    if (err)
        pool_set_error(pool, "joining the workers: %s", strerror(err));
    return err;
}

void pool_free(struct pool *pool)
{
    if (!pool)
        return;
    if (pool->state == POOL_RUN)
        pool_terminate(pool);
    pool_join(pool);
    pool->ops->release(pool);
    free(pool);
}

int pool_workers(const struct pool *pool)
{
    return pool->workers;
}

const char *pool_error(const struct pool *pool)
{
    if (!pool)
        return start_open_error();
    return pool->error;
}
