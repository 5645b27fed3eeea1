/* pool/thread_pool.c - the thread pool: multiprocessing.pool.ThreadPool in C.
 *
 * Shows: workers that sleep on a condition variable until a job is posted,
 * claim chunks of it under one lock, and write results straight into the
 * caller's array. The caller sleeps on a second condition variable until the
 * last chunk is done: nobody spins, nobody polls.
 *
 *     pool_map                     worker 0..W-1
 *     --------                     -------------
 *     lock                         lock
 *     job = ...; broadcast(work)   while no chunk left: wait(work)
 *     while chunks_done < nchunks    c = next_chunk++
 *         wait(done)               unlock; run the items of c; lock
 *     job = NULL; unlock           if ++chunks_done == nchunks: signal(done)
 *
 * The only shared state is the job and its two counters, all under `lock`.
 * Results need no lock: each item's slot is written by exactly one worker,
 * and the mutex hand-off at the end orders those writes before the caller
 * reads them.
 *
 * See also: process_pool.c, docs/pool.md.
 */
#define _POSIX_C_SOURCE 200809L /* sigset_t, pthread_sigmask */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pool_impl.h"

struct thread_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;      /* a job was posted, or the pool is stopping */
    pthread_cond_t done;      /* the last chunk of the job is done */
    struct pool_job *job;     /* NULL between maps */
    size_t next_chunk;        /* the next chunk to claim */
    size_t chunks_done;
    bool stop;                /* close or terminate: leave when idle */
    pthread_t *threads;
    int started;
};

/* Run the items of chunk c, stopping at the first failure as CPython's
 * list(map(f, chunk)) does; record it under the lock. The lock is taken
 * when the chunk ends, so failures are recorded in the order they arrive. */
static void run_chunk(struct thread_pool *tp, struct pool_job *job, size_t c)
{
    size_t first = job_chunk_first(job, c);
    size_t count = job_chunk_count(job, c);
    int err;
    size_t ran = run_items(job->fn,
                           job->arg_size ? job->args + first * job->arg_size : NULL,
                           job->arg_size,
                           job->result_size ? job->results + first * job->result_size
                                            : NULL,
                           job->result_size, count, &err);

    pthread_mutex_lock(&tp->lock);
    if (err) {
        job_fail(job, first + ran - 1, 1, err, NULL);
        job->nskipped += count - ran;
    }
    if (++tp->chunks_done == job->nchunks)
        pthread_cond_signal(&tp->done);
}

static void *worker(void *arg)
{
    struct thread_pool *tp = arg;

    pthread_mutex_lock(&tp->lock);
    for (;;) {
        while (!tp->stop && !(tp->job && tp->next_chunk < tp->job->nchunks))
            pthread_cond_wait(&tp->work, &tp->lock);
        if (tp->stop)
            break;
        size_t c = tp->next_chunk++;
        struct pool_job *job = tp->job;
        pthread_mutex_unlock(&tp->lock);
        run_chunk(tp, job, c); /* returns with the lock held */
    }
    pthread_mutex_unlock(&tp->lock);
    return NULL;
}

static void tp_stop(struct pool *pool, bool terminate)
{
    struct thread_pool *tp = pool->impl;

    (void)terminate; /* either way: maps are synchronous, so workers are idle */
    pthread_mutex_lock(&tp->lock);
    tp->stop = true;
    pthread_cond_broadcast(&tp->work);
    pthread_mutex_unlock(&tp->lock);
}

static int tp_join(struct pool *pool)
{
    struct thread_pool *tp = pool->impl;
    int i, err, first = 0;

    for (i = 0; i < tp->started; i++) {
        err = pthread_join(tp->threads[i], NULL);
        if (err && !first)
            first = err;
    }
    tp->started = 0;
    return first;
}

static void tp_release(struct pool *pool)
{
    struct thread_pool *tp = pool->impl;

    pthread_cond_destroy(&tp->done);
    pthread_cond_destroy(&tp->work);
    pthread_mutex_destroy(&tp->lock);
    free(tp->threads);
    free(tp);
    pool->impl = NULL;
}

static void tp_forget(struct pool *pool)
{
    struct thread_pool *tp = pool->impl;

    /* The lock and conditions may be copies of ones held or waited on by
     * threads that did not come along: destroying them could wait forever. */
    free(tp->threads);
    free(tp);
    pool->impl = NULL;
}

static int tp_start(struct pool *pool)
{
    struct thread_pool *tp;
    int err = ENOMEM;

    tp = calloc(1, sizeof *tp);
    if (!tp)
        return ENOMEM;
    tp->threads = calloc((size_t)pool->workers, sizeof *tp->threads);
    if (!tp->threads) {
        free(tp);
        return ENOMEM;
    }
    pthread_mutex_init(&tp->lock, NULL);
    pthread_cond_init(&tp->work, NULL);
    pthread_cond_init(&tp->done, NULL);
    pool->impl = tp;
    /* Workers start with every signal blocked, so a signal sent to the
     * process is handled by the caller's threads, not in the middle of a
     * task. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (; tp->started < pool->workers; tp->started++) {
        err = pthread_create(&tp->threads[tp->started], NULL, worker, tp);
        if (err) {
            /* Undo: the threads already running leave and are joined. */
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            tp_stop(pool, true);
            tp_join(pool);
            tp_release(pool);
            return err;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

static int tp_map(struct pool *pool, struct pool_job *job)
{
    struct thread_pool *tp = pool->impl;

    pthread_mutex_lock(&tp->lock);
    tp->job = job;
    tp->next_chunk = 0;
    tp->chunks_done = 0;
    if (job->nchunks == 1)
        pthread_cond_signal(&tp->work);
    else
        pthread_cond_broadcast(&tp->work);
    while (tp->chunks_done < job->nchunks)
        pthread_cond_wait(&tp->done, &tp->lock);
    tp->job = NULL;
    pthread_mutex_unlock(&tp->lock);
    return 0;
}

const struct pool_ops pool_thread_ops = {
    .start = tp_start,
    .map = tp_map,
    .stop = tp_stop,
    .join = tp_join,
    .release = tp_release,
    .forget = tp_forget,
};
