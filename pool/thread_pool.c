/* pool/thread_pool.c - the thread pool: multiprocessing.pool.ThreadPool in C.
 *
 * Shows: workers that sleep until a job is posted, claim its chunks under
 * one lock, and write results straight into the caller's array; two
 * condition variables, one each way. CPython's ThreadPool is its Pool with
 * threads (Lib/multiprocessing/pool.py, 3.11: worker(), Pool._handle_tasks):
 * one queue of tasks, each idle worker takes the next. Here the queue is
 * the job's chunk counter.
 *
 *     pool_map                           worker 0..W-1
 *     lock; post the job; seq++          lock; while seq has not moved: wait(work)
 *     broadcast(work); unlock            while a chunk is left:
 *     lock                                   c = next_chunk++; unlock
 *     while chunks_done < nchunks:           run the items of c; lock
 *         wait(done)                         if ++chunks_done == nchunks:
 *     unlock                                     signal(done)
 *
 * Invariant: each item's slot is written by exactly one worker, so results
 * need no lock; the mutex the last worker lets go of orders its writes
 * before the caller's reads.
 *
 * With the fast layer (pool_spin), an idle worker watches seq and the
 * caller watches `finished` for a while before they sleep; `sleepers` says
 * who is awake. A watcher that sees the news takes the lock as a woken
 * sleeper would, so the rules above hold either way.
 */
#define _POSIX_C_SOURCE 200809L /* sigset_t, pthread_sigmask */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core.h"

struct thread_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;        /* seq moved: a job was posted, or stop */
    pthread_cond_t done;        /* the last chunk of the job is done */
    struct pool_job *job;       /* the job; valid while chunks are left */
    size_t nchunks, next_chunk, chunks_done;
    bool stop;                  /* close or terminate: leave when idle */
    atomic_ulong seq;           /* moves for each job, and at stop */
    atomic_bool finished;       /* chunks_done reached nchunks */
    atomic_int sleepers;        /* workers in wait(work) */
    int workers;
    long long spin;             /* how long to watch (fast layer), ns */
    pthread_t *threads;
    int started;
};

/* Run the items of chunk c; record the outcome under the lock, taken when
 * the chunk ends, so failures are recorded in the order they arrive.
 * Returns with the lock held. */
static void run_chunk(struct thread_pool *tp, struct pool_job *job, size_t c)
{
    size_t first = job_chunk_first(job, c);
    int err;
    size_t ran = run_items(job->fn,
                           job->arg_size ? job->args + first * job->arg_size : NULL,
                           job->arg_size,
                           job->result_size ? job->results + first * job->result_size
                                            : NULL,
                           job->result_size, job_chunk_count(job, c), &err);

    pthread_mutex_lock(&tp->lock);
    job_chunk_done(job, c, ran, err);
    if (++tp->chunks_done == tp->nchunks) {
        atomic_store(&tp->finished, true);
        pthread_cond_signal(&tp->done);
    }
}

struct seen { struct thread_pool *tp; unsigned long seq; };

static bool seq_moved(void *ctx)
{
    struct seen *s = ctx;

    return atomic_load(&s->tp->seq) != s->seq;
}

/* Wait until seq moves past *seen: a job, or stop. */
static void await_news(struct thread_pool *tp, unsigned long *seen)
{
    struct seen s = { tp, *seen };
    /* Awake beside us: the other workers not asleep, and the caller. */
    int awake = tp->workers - atomic_load(&tp->sleepers);

    if (!pool_spin || !pool_spin->watch(tp->spin, seq_moved, &s, awake, 0)) {
        pthread_mutex_lock(&tp->lock);
        atomic_fetch_add(&tp->sleepers, 1);
        while (atomic_load(&tp->seq) == *seen)
            pthread_cond_wait(&tp->work, &tp->lock);
        atomic_fetch_sub(&tp->sleepers, 1);
        pthread_mutex_unlock(&tp->lock);
    }
    *seen = atomic_load(&tp->seq);
}

static void *worker(void *arg)
{
    struct thread_pool *tp = arg;
    unsigned long seen = 0;

    for (;;) {
        await_news(tp, &seen);
        pthread_mutex_lock(&tp->lock);
        if (tp->stop)
            break;
        while (tp->next_chunk < tp->nchunks) {
            size_t c = tp->next_chunk++;
            struct pool_job *job = tp->job;
            pthread_mutex_unlock(&tp->lock);
            run_chunk(tp, job, c); /* returns with the lock held */
        }
        pthread_mutex_unlock(&tp->lock);
    }
    pthread_mutex_unlock(&tp->lock);
    return NULL;
}

/* Close or terminate: the workers are idle either way (maps are
 * synchronous), so they leave at once. The broadcast comes after the
 * unlock, so that a woken sleeper does not wait for the lock at once; none
 * is missed: one counted in `sleepers` before we took the lock was waiting
 * by then, and one that comes later finds seq moved under the lock. */
static void tp_stop(struct pool *pool, bool terminate)
{
    struct thread_pool *tp = pool->impl;

    (void)terminate;
    pthread_mutex_lock(&tp->lock);
    tp->stop = true;
    atomic_fetch_add(&tp->seq, 1);
    pthread_mutex_unlock(&tp->lock);
    if (atomic_load(&tp->sleepers))
        pthread_cond_broadcast(&tp->work);
}

static int tp_join(struct pool *pool)
{
    struct thread_pool *tp = pool->impl;
    int first = 0;

    for (int i = 0; i < tp->started; i++) {
        int err = pthread_join(tp->threads[i], NULL);
        if (err && !first)
            first = err;
    }
    tp->started = 0;
    return first;
}

/* The lock and conditions of a fork's copy may be held or waited on by
 * threads that did not come along: they are destroyed by the owner only. */
static void tp_forget(struct pool *pool)
{
    struct thread_pool *tp = pool->impl;

    free(tp->threads);
    free(tp);
    pool->impl = NULL;
}

static void tp_release(struct pool *pool)
{
    struct thread_pool *tp = pool->impl;

    pthread_cond_destroy(&tp->done);
    pthread_cond_destroy(&tp->work);
    pthread_mutex_destroy(&tp->lock);
    tp_forget(pool);
}

static int tp_start(struct pool *pool)
{
    struct thread_pool *tp = calloc(1, sizeof *tp);
    sigset_t all, old;
    int err = 0;

    if (!tp || !(tp->threads = calloc((size_t)pool->workers,
                                      sizeof *tp->threads))) {
        free(tp);
        return ENOMEM;
    }
    pthread_mutex_init(&tp->lock, NULL);
    pthread_cond_init(&tp->work, NULL);
    pthread_cond_init(&tp->done, NULL);
    tp->workers = pool->workers;
    tp->spin = pool_spin ? pool_spin->budget_ns() : 0;
    pool->impl = tp;
    /* Workers start with every signal blocked, so a signal sent to the
     * process is handled by the caller's threads, not in a task. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (; tp->started < pool->workers && !err; tp->started++)
        err = pthread_create(&tp->threads[tp->started], NULL, worker, tp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) { /* undo: the threads already running leave and are joined */
        tp->started--;
        tp_stop(pool, true);
        tp_join(pool);
        tp_release(pool);
    }
    return err;
}

/* For the fast layer's watch: is the map done? */
static bool map_done(void *ctx)
{
    return atomic_load(&((struct thread_pool *)ctx)->finished);
}

static int tp_map(struct pool *pool, struct pool_job *job)
{
    struct thread_pool *tp = pool->impl;

    pthread_mutex_lock(&tp->lock);
    tp->job = job;
    tp->nchunks = job->nchunks;
    tp->next_chunk = tp->chunks_done = 0;
    atomic_store(&tp->finished, false);
    atomic_fetch_add(&tp->seq, 1);
    int awake = tp->workers - atomic_load(&tp->sleepers);
    /* Every sleeper is woken now; with the fast layer, if a worker is
     * awake, it takes the job at once, and the sleepers only if chunks are
     * still unclaimed after a while: a wake-up costs more than a small map. */
    bool head_start = pool_spin && awake > 0;
    if (!head_start)
        pthread_cond_broadcast(&tp->work);
    pthread_mutex_unlock(&tp->lock);
    if (head_start) {
        long long until = pool_spin->now_ns() + POOL_WAKE_AFTER_NS;
        if (pool_spin->watch(tp->spin, map_done, tp, awake, until))
            return 0;
        pthread_mutex_lock(&tp->lock);
        if (tp->next_chunk < tp->nchunks)
            pthread_cond_broadcast(&tp->work);
        pthread_mutex_unlock(&tp->lock);
    }
    if (pool_spin && pool_spin->watch(tp->spin, map_done, tp, tp->workers, 0))
        return 0; /* every worker is awake now: is a CPU left for us? */
    pthread_mutex_lock(&tp->lock);
    while (tp->chunks_done < tp->nchunks)
        pthread_cond_wait(&tp->done, &tp->lock);
    pthread_mutex_unlock(&tp->lock);
    return 0;
}

const struct pool_ops pool_thread_ops = {
    .start = tp_start, .map = tp_map, .stop = tp_stop, .join = tp_join,
    .release = tp_release, .forget = tp_forget,
};
