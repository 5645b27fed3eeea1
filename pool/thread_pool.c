/* pool/thread_pool.c - the thread pool: multiprocessing.pool.ThreadPool in C.
 *
 * Shows: workers that wait for a job, claim chunks of it under one lock, and
 * write results straight into the caller's array; and how to wait a short
 * while without paying for a wake-up.
 *
 * Waking a thread that sleeps on a condition variable costs 15-45 us on a
 * virtual machine: more than a small map's whole work. So a thread that
 * expects news soon watches for it first (spins), and sleeps only if none
 * comes: an idle worker watches the job number `seq` for POOL_SPIN_US (1 ms
 * by default) after its last chunk, and the caller watches `finished`.
 * Spinning must never keep a CPU from the thread it waits for, so it gives
 * way (docs/latency.md has the measurements):
 *   - workers awake (`running`: working or spinning) plus the caller stay
 *     within the CPUs we may use: a worker spins only if that holds, and so
 *     does the caller, counting the workers it has just woken;
 *   - a spinner yields the CPU every few microseconds; one that finds it
 *     was preempted (another program wants the CPU) turns spinning off in
 *     the whole pool for a while, longer each time it happens again;
 *   - while a worker is awake, the caller does not wake the sleepers for a
 *     job; if chunks are still unclaimed after WAKE_AFTER_NS, it wakes them
 *     and sleeps itself.
 *
 *     pool_map                           worker 0..W-1
 *     --------                           -------------
 *     lock; job = ...; unlock            spin until seq moves, or else
 *     seq++                                sleepers++; wait(work) until it does
 *     no worker awake: signal(work)      lock
 *     spin until `finished`, or else     while a chunk is left: c = next_chunk++
 *       wait(done) until all are done      unlock; run the items of c; lock
 *                                          if ++chunks_done == nchunks:
 *                                              signal(done); finished = 1
 *                                        unlock
 *
 * The job and the chunk counters change under `lock`; `seq`, `finished`,
 * `running`, `sleepers` and the counters are atomic so that a spinner can
 * read them without it. No wake-up is lost: a sleeper counts itself in
 * `sleepers` before it looks at `seq`, and the caller moves `seq` before it
 * looks at `sleepers` (and signals under the lock), so one of the two sees
 * the other. Results need no lock: each item's slot is written by exactly
 * one worker, and the last worker's store to `finished` (or, when the
 * caller slept, the lock) orders those writes before the caller's reads.
 * Chunks are claimed under the lock, not with an atomic add: the job lives
 * on the caller's stack, and a late worker must never claim a chunk of a
 * job that has ended; the lock costs nothing extra, since run_chunk() takes
 * it anyway to count the chunk done.
 *
 * See also: process_pool.c, docs/pool.md, docs/latency.md.
 */
#define _POSIX_C_SOURCE 200809L /* sigset_t, pthread_sigmask, clock_gettime */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "pool_impl.h"
#include "spin.h"

/* Spin this long by default: about a wake-up's cost, many times over. */
/* A gap this long between two looks at the clock means we were preempted;
 * then nobody in the pool spins for a while: the CPUs are wanted. The while
 * starts at BACKOFF_MIN_NS and grows fourfold, up to BACKOFF_MAX_NS, each
 * time a spinner is preempted again soon after the last while ended: a
 * program that keeps the CPUs busy soon stops the spinning for good, a
 * passing one only for a moment. */
#define PREEMPTED_NS 200000
#define BACKOFF_MIN_NS 50000000LL
#define BACKOFF_MAX_NS 1000000000LL
/* While a worker is awake, other workers join a job only this late. */
#define WAKE_AFTER_NS 50000

/* What a spinner watches sits apart from what others write often: a write
 * to a cache line takes it away from every CPU that reads it, and the
 * reader's next look fetches it back. The pads keep these groups on lines
 * of their own (64 bytes on the CPUs we know). */
#define CACHE_LINE 64

struct thread_pool {
    /* Under the lock: the job and its chunks. */
    pthread_mutex_t lock;
    pthread_cond_t work;        /* seq moved: a job was posted, or stop */
    pthread_cond_t done;        /* the last chunk of the job is done */
    struct pool_job *job;       /* the last job; valid while chunks are left */
    size_t nchunks;             /* its chunks, kept here: it ends with its map */
    atomic_size_t next_chunk;   /* the next chunk to claim */
    atomic_size_t chunks_done;
    bool stop;                  /* close or terminate: leave when idle */
    char pad1[CACHE_LINE];
    /* Written once a map by the caller, watched by spinning workers. */
    atomic_ulong seq;           /* moves for each job, and at stop */
    char pad2[CACHE_LINE];
    /* Written once a map by a worker, watched by the spinning caller. */
    atomic_bool finished;       /* chunks_done reached nchunks */
    char pad3[CACHE_LINE];
    /* Read by every spinner, seldom written. */
    atomic_int running;         /* workers awake: working or spinning */
    atomic_int sleepers;        /* workers in wait(work) */
    atomic_llong calm_from;     /* no spinning before this time (ns) */
    atomic_llong backoff_ns;    /* how long the last such while was */
    atomic_llong woke_at;       /* when the caller last woke workers (ns) */
    long long spin_ns;          /* POOL_SPIN_US in ns; 0: never spin */
    int cpus;                   /* the CPUs we may run on */
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

/* ---- spinning ----------------------------------------------------------- */



struct spin {
    long long start, last; /* ns */
    unsigned looks;
};

static struct spin spin_start(void)
{
    long long t = spin_now_ns();

    return (struct spin){ t, t, 0 };
}

/* Spinning is on (POOL_SPIN_US > 0), and no spinner of this pool has been
 * preempted lately. */
static bool may_spin(const struct thread_pool *tp)
{
    return tp->spin_ns > 0 && spin_now_ns() >= atomic_load(&tp->calm_from);
}

/* Was the spinner preempted since its last look at the clock (at time t)?
 * Then the CPUs are wanted: a spinner on a busy CPU waits a whole time
 * slice for its turn, where a sleeper is let in as soon as it is woken. So
 * nobody in the pool spins for a while (see BACKOFF_MIN_NS). Asked at every
 * end of a spin, also a successful one: the news may well have come while
 * we were out. Two spinners that both find a gap may both set the while:
 * either length will do. */
static bool preempted(struct thread_pool *tp, const struct spin *s,
                      long long t)
{
    long long ended = atomic_load(&tp->calm_from);
    long long len = atomic_load(&tp->backoff_ns);

    if (t - s->last <= PREEMPTED_NS)
        return false;
    /* Workers we just woke may have taken the CPU: give way, but that says
     * nothing of other programs. */
    if (atomic_load(&tp->woke_at) > s->last - PREEMPTED_NS)
        return true;
    if (len && t - ended < len)
        len = len < BACKOFF_MAX_NS / 4 ? 4 * len : BACKOFF_MAX_NS;
    else
        len = BACKOFF_MIN_NS;
    atomic_store(&tp->backoff_ns, len);
    atomic_store(&tp->calm_from, t + len);
    return true;
}

/* Between two looks at what we wait for: a pause (about 20 ns), every 64
 * looks the clock, and every 256 a sched_yield(), which hands the CPU to any
 * thread waiting for it (valgrind runs one thread at a time, and switches
 * at a system call). A yield costs 0.4 us here: more often, and it would
 * delay the look that matters.
 * False when the budget is spent, or when the gap since the last look shows
 * that we were preempted: the CPU is wanted, sleep (and for a while, the
 * whole pool does). */
static bool spin_on(struct thread_pool *tp, struct spin *s)
{
    long long t;

    spin_relax();
    if (++s->looks % 64)
        return true;
    t = spin_now_ns();
    if (preempted(tp, s, t) || t - s->start > tp->spin_ns)
        return false;
    s->last = t;
    if (s->looks % 256 == 0)
        sched_yield();
    return true;
}


/* ---- the workers --------------------------------------------------------- */

/* May this awake worker spin? Only if spinning is on and the awake workers,
 * this one included, leave a CPU for the caller. If not, it stops counting
 * as awake. */
static bool stay_awake(struct thread_pool *tp)
{
    int r = atomic_load(&tp->running);
    bool spin = may_spin(tp);

    while (!spin || r >= tp->cpus)
        if (atomic_compare_exchange_weak(&tp->running, &r, r - 1))
            return false;
    return true;
}

/* Wait until seq moves past *seen (a job, or stop): spin if allowed, then
 * sleep. */
static void await_news(struct thread_pool *tp, unsigned long *seen)
{
    if (stay_awake(tp)) {
        struct spin s = spin_start();

        do {
            unsigned long now = atomic_load_explicit(&tp->seq,
                                                     memory_order_acquire);
            if (now != *seen) {
                *seen = now;
                preempted(tp, &s, spin_now_ns());
                return;
            }
        } while (spin_on(tp, &s));
        atomic_fetch_sub(&tp->running, 1);
    }
    pthread_mutex_lock(&tp->lock);
    atomic_fetch_add(&tp->sleepers, 1);
    while (atomic_load(&tp->seq) == *seen)
        pthread_cond_wait(&tp->work, &tp->lock);
    atomic_fetch_sub(&tp->sleepers, 1);
    atomic_fetch_add(&tp->running, 1);
    *seen = atomic_load(&tp->seq);
    pthread_mutex_unlock(&tp->lock);
}

static void *worker(void *arg)
{
    struct thread_pool *tp = arg;
    unsigned long seen = 0;

    atomic_fetch_add(&tp->running, 1);
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
            /* Only now, when run_chunk() has let go of the job: the caller
             * may return as soon as it sees `finished`. */
            if (tp->chunks_done == tp->nchunks)
                atomic_store_explicit(&tp->finished, true,
                                      memory_order_release);
        }
        pthread_mutex_unlock(&tp->lock);
    }
    pthread_mutex_unlock(&tp->lock);
    atomic_fetch_sub(&tp->running, 1);
    return NULL;
}

static void tp_stop(struct pool *pool, bool terminate)
{
    struct thread_pool *tp = pool->impl;

    (void)terminate; /* either way: maps are synchronous, so workers are idle */
    pthread_mutex_lock(&tp->lock);
    tp->stop = true;
    atomic_fetch_add(&tp->seq, 1);
    pthread_mutex_unlock(&tp->lock);
    /* The broadcast after the unlock, and only to sleepers: a spinning
     * worker sees seq move at once and takes the lock to leave, and would
     * otherwise wait for it through the broadcast's system call. None is
     * missed: one that counted itself in `sleepers` before we took the
     * lock was waiting by then (it holds the lock until it waits), and one
     * that comes later finds seq moved under the lock. */
    if (atomic_load(&tp->sleepers))
        pthread_cond_broadcast(&tp->work);
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
    tp->cpus = pool_cpu_count();
    /* On one CPU a spinner only ever keeps it from the thread it waits for. */
    tp->spin_ns = tp->cpus > 1 ? spin_budget_ns() : 0;
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

/* ---- the caller ---------------------------------------------------------- */

/* Wake the sleeping workers, one if one chunk is left: under the lock, so
 * that a worker between its look at seq and its wait cannot miss it.
 * Returns how many may be on their way: they will want CPUs. */
static int wake_sleepers(struct thread_pool *tp, size_t chunks_left)
{
    int n = atomic_load(&tp->sleepers);

    if (n == 0)
        return 0;
    atomic_store(&tp->woke_at, spin_now_ns());
    pthread_mutex_lock(&tp->lock);
    if (chunks_left == 1)
        pthread_cond_signal(&tp->work);
    else
        pthread_cond_broadcast(&tp->work);
    pthread_mutex_unlock(&tp->lock);
    return chunks_left == 1 ? 1 : n;
}

static size_t chunks_left(struct thread_pool *tp, const struct pool_job *job)
{
    size_t next = atomic_load(&tp->next_chunk);

    return next < job->nchunks ? job->nchunks - next : 0;
}

/* Spin until the job is done, while a CPU is left for the caller beside
 * the workers awake and the `woken` on their way. False: the job is not
 * done; sleep, and first wake the sleepers if chunks are still unclaimed
 * (after WAKE_AFTER_NS of spinning, the job is worth their wake-ups). */
static bool spin_until_done(struct thread_pool *tp,
                            const struct pool_job *job, int woken)
{
    struct spin s = spin_start();

    if (!may_spin(tp) || woken + atomic_load(&tp->running) >= tp->cpus)
        return false;
    while (!atomic_load_explicit(&tp->finished, memory_order_acquire)) {
        if (!spin_on(tp, &s) || atomic_load(&tp->running) >= tp->cpus)
            return false;
        if (s.last - s.start > WAKE_AFTER_NS && chunks_left(tp, job))
            return false;
    }
    preempted(tp, &s, spin_now_ns());
    return true;
}

static int tp_map(struct pool *pool, struct pool_job *job)
{
    struct thread_pool *tp = pool->impl;

    pthread_mutex_lock(&tp->lock);
    tp->job = job;
    tp->nchunks = job->nchunks;
    tp->next_chunk = 0;
    tp->chunks_done = 0;
    tp->finished = false;
    pthread_mutex_unlock(&tp->lock);
    atomic_fetch_add(&tp->seq, 1);
    /* An awake worker starts at once; sleepers are woken only if none is
     * (or if spinning is off: an awake worker may then be about to sleep). */
    int woken = 0;

    if (atomic_load(&tp->running) == 0 || !may_spin(tp))
        woken = wake_sleepers(tp, job->nchunks);
    if (spin_until_done(tp, job, woken))
        return 0;
    /* Before sleeping, every chunk left gets a worker awake. */
    if (chunks_left(tp, job))
        wake_sleepers(tp, chunks_left(tp, job));
    pthread_mutex_lock(&tp->lock);
    while (tp->chunks_done < job->nchunks)
        pthread_cond_wait(&tp->done, &tp->lock);
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
