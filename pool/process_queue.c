/* pool/process_queue.c - pool_map on a forked pool through its queue: each idle worker takes the next chunk itself.
 *
 * Part of the process pool: pool/process.h gives the reading order of its
 * files, shm_queue.h the queue. The parent posts the map in the queue and
 * announces SHM_QUEUE to the workers it wants, by the rules chunks are
 * dealt by (process_map.c): a sleeping worker is passed over while another
 * is awake, and woken after PP_WAKE_AFTER_NS if chunks are still free, or
 * when the parent is about to sleep. A worker takes chunks until none is
 * free, then says it is done in its own region. The parent then takes the
 * done chunks in, in the order they arrived (CPython keeps the first
 * failure to arrive), and copies their results out. A worker that dies
 * loses the one chunk it owned; its slot gets a fresh worker, which joins
 * while chunks are free, as when chunks are dealt.
 *
 *     parent                            worker k (SHM_QUEUE in its region)
 *     ------                            ---------------------------------
 *     post: arguments in, chunks free   while a chunk c is free:
 *     announce to the workers wanted        claim c (owner: free -> k + 1)
 *     watch, or sleep in poll()             run its items in place
 *     a worker done: take the done          record ran, err, arrival; done
 *       chunks in, by arrival           done_seq = seq; ring if the
 *     end of file: lose what it owned     parent sleeps
 *
 * See also: shm_queue.h, process_worker.c (serve_queue), docs/pool.md.
 */
#define _POSIX_C_SOURCE 200809L /* poll */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process.h"
#include "spin.h"

/* Why a chunk is lost when what workers wrote of it makes no sense. */
#define OVERWRITTEN "its record in the pool's queue was overwritten (by a task?)"

bool pq_usable(const struct process_pool *pp, const struct pool_job *job)
{
    if (!pp->queue || job->nchunks == 0 ||
        !shm_queue_fits(job->n, job->nchunks, job->arg_size,
                        job->result_size))
        return false;
    for (int k = 0; k < pp->n; k++)
        if (pp->w[k].pid && !(pp->w[k].shm && pp->w[k].queue))
            return false;
    return true;
}

/* A chunk done, and when it arrived. */
struct arrival {
    unsigned at;
    size_t c;
};

/* The map, on the parent's side. */
struct qmap {
    struct process_pool *pp;
    struct pool_job *job;
    struct shm_queue *q;
    struct shm_chunk *ch;
    bool *in;               /* chunk c is taken in: done, or lost */
    struct arrival *order;  /* room to sort the done chunks */
    size_t left;            /* chunks not taken in */
};

/* The map into the queue: what it is, its arguments, every chunk free.
 * The workers see it after pp_announce's seq_cst store. */
static void post(struct shm_queue *q, const struct pool_job *job)
{
    struct shm_chunk *ch;

    q->fn = job->fn;
    q->n = job->n;
    q->chunksize = job->chunksize;
    q->nchunks = job->nchunks;
    q->arg_size = job->arg_size;
    q->result_size = job->result_size;
    ch = shm_queue_chunks(q);
    for (size_t c = 0; c < job->nchunks; c++) {
        atomic_store_explicit(&ch[c].owner, QUEUE_FREE, memory_order_relaxed);
        ch[c].ran = 0;
        ch[c].err = 0;
    }
    if (job->arg_size)
        memcpy(shm_queue_args(q, job->nchunks), job->args,
               job->n * job->arg_size);
    atomic_store_explicit(&q->next, 0, memory_order_relaxed);
    atomic_store_explicit(&q->arrivals, 0, memory_order_relaxed);
}

/* May a chunk still be free? (Every chunk below the hint is taken.) */
static bool chunks_free(const struct qmap *m)
{
    return atomic_load(&m->q->next) < m->job->nchunks;
}

/* Chunk c is done: check what its worker wrote (a task may scribble on
 * the region), copy its results out, record its failure. */
static void take_chunk(struct qmap *m, size_t c)
{
    struct pool_job *job = m->job;
    size_t first = job_chunk_first(job, c), count = job_chunk_count(job, c);
    size_t ran = m->ch[c].ran, rs = job->result_size;
    int err = m->ch[c].err;

    m->in[c] = true;
    m->left--;
    if (ran > count || (err ? ran == 0 : ran != count)) {
        pp_lose_chunk(job, c, EPROTO, OVERWRITTEN);
        return;
    }
    if (rs)
        memcpy(job->results + first * rs,
               shm_queue_results(m->q, job->n, job->nchunks, job->arg_size) +
                   first * rs,
               count * rs);
    if (err) {
        job_fail(job, first + ran - 1, 1, err, NULL);
        job->nskipped += count - ran;
    }
}

static int by_arrival(const void *a, const void *b)
{
    const struct arrival *x = a, *y = b;

    return (x->at > y->at) - (x->at < y->at);
}

/* Take in every chunk done since the last look, in the order they
 * arrived. */
static void take_in(struct qmap *m)
{
    size_t k = 0;

    for (size_t c = 0; c < m->job->nchunks; c++)
        if (!m->in[c] && atomic_load_explicit(&m->ch[c].owner,
                                              memory_order_acquire) ==
                             QUEUE_DONE)
            m->order[k++] = (struct arrival){ m->ch[c].arrival, c };
    qsort(m->order, k, sizeof *m->order, by_arrival);
    for (size_t i = 0; i < k; i++)
        take_chunk(m, m->order[i].c);
}

/* Did busy workers say they are done? They are idle again; what they did
 * is taken in. */
static bool finished(struct qmap *m)
{
    struct process_pool *pp = m->pp;
    bool any = false;

    for (int k = 0; k < pp->n; k++) {
        struct worker *w = &pp->w[k];
        if (w->busy && atomic_load_explicit(&w->shm->done_seq,
                                            memory_order_acquire) == w->seq) {
            w->busy = false;
            w->fresh = false;
            any = true;
        }
    }
    if (any)
        take_in(m);
    return any;
}

/* The worker in slot k died: what arrived before is taken in first, then
 * the chunk it owned is lost, with the words for how it died. */
static void worker_lost(struct qmap *m, int k)
{
    char why[POOL_WHY_LEN];

    take_in(m);
    int err = pp_reap_dead(m->pp, k, why, sizeof why);
    for (size_t c = 0; c < m->job->nchunks; c++)
        if (!m->in[c] &&
            atomic_load(&m->ch[c].owner) == k + 1) {
            pp_lose_chunk(m->job, c, err, why);
            m->in[c] = true;
            m->left--;
        }
    m->pp->w[k].joined = false; /* a fresh worker may join in its slot */
}

/* Announce the queue to slot k, forking a worker into it if it is empty
 * (and not benched). A worker found dead before it took part is reaped
 * and replaced once, losing nothing. True when it takes part. */
static bool involve(struct qmap *m, int k)
{
    struct process_pool *pp = m->pp;
    struct worker *w = &pp->w[k];

    for (int tries = 0; tries < 2 && !w->benched; tries++) {
        if (w->pid == 0) {
            int err = pp_start_slot(pp, k);
            if (err) {
                pp->fork_err = err;
                return false;
            }
            w->fresh = true;
        }
        if (!w->shm || !w->queue)
            return false; /* no way in: its share goes to the others */
        if (pp_announce(w, SHM_QUEUE, pp_cpu_left(pp, k)) == 0) {
            w->busy = w->joined = w->in_region = true;
            return true;
        }
        if (w->fresh) {
            char why[POOL_WHY_LEN];
            pp_reap_dead(pp, k, why, sizeof why); /* died before any work */
        } else {
            pp_reap(pp, k, NULL, 0);
        }
    }
    return false;
}

/* Bring in the workers wanted while chunks may be free: each slot once
 * (again after a death), a sleeper passed over (*skipped) while another
 * is awake, unless wake_all. pfd and slot get the busy workers; returns
 * how many. */
static int enlist(struct qmap *m, bool wake_all, struct pollfd *pfd,
                  int *slot, bool *skipped)
{
    struct process_pool *pp = m->pp;
    bool pass_sleepers = !wake_all && pp_awake_workers(pp) > 0;

    for (int k = 0; k < pp->n; k++) {
        struct worker *w = &pp->w[k];
        if (!w->busy && !w->joined && chunks_free(m)) {
            if (pass_sleepers && w->pid && pp_asleep(w))
                *skipped = true;
            else
                involve(m, k);
        }
    }
    return pp_gather_busy(pp, pfd, slot);
}

/* For pp_spin: did a busy worker finish? */
static bool news(void *ctx)
{
    return finished(ctx);
}

/* Sleep until a busy worker rings or dies (pp_nap), then take in what
 * came. Returns 0 or the errno of poll. */
static int nap(struct qmap *m, struct pollfd *pfd, const int *slot, int n)
{
    struct process_pool *pp = m->pp;
    int err = pp_nap(pp, pfd, slot, n);

    if (err)
        return err;
    finished(m);
    for (int i = 0; i < n; i++) {
        struct reply_msg r;
        /* End of file, or words it has no reason to send. */
        if (pp_take_note(pp, &pfd[i], slot[i], &r) != 0)
            worker_lost(m, slot[i]);
    }
    return 0;
}

/* Chunks still out when no worker is busy. Free ones found no worker, if
 * none is left; a worker that took part stops only when none is free, and
 * a death frees none, so otherwise the records were written over, as
 * were those of chunks owned by nobody alive. */
static void lose_rest(struct qmap *m)
{
    char why[POOL_WHY_LEN];
    int err = pp_no_worker(m->pp, why, sizeof why);
    bool alive = false;

    take_in(m);
    for (int k = 0; k < m->pp->n; k++)
        alive |= m->pp->w[k].pid && m->pp->w[k].queue;
    for (size_t c = 0; c < m->job->nchunks && m->left; c++) {
        if (m->in[c])
            continue;
        if (!alive && atomic_load(&m->ch[c].owner) == QUEUE_FREE)
            pp_lose_chunk(m->job, c, err, why);
        else
            pp_lose_chunk(m->job, c, EPROTO, OVERWRITTEN);
        m->in[c] = true;
        m->left--;
    }
}

int pq_map(struct pool *pool, struct process_pool *pp, struct pool_job *job,
           struct pollfd *pfd, int *slot)
{
    struct qmap m = { pp, job, pp->queue, shm_queue_chunks(pp->queue), NULL,
                      NULL, job->nchunks };
    int err = 0;

    m.in = calloc(job->nchunks, sizeof *m.in);
    m.order = calloc(job->nchunks, sizeof *m.order);
    if (!m.in || !m.order) {
        free(m.in);
        free(m.order);
        pool_set_error(pool, "pool_map: out of memory");
        return ENOMEM;
    }
    post(pp->queue, job);
    bool wake_all = false;
    long long wake_at = spin_now_ns() + PP_WAKE_AFTER_NS;
    for (;;) {
        bool skipped = false;
        int n = enlist(&m, wake_all, pfd, slot, &skipped);
        if (n == 0 && !skipped)
            break; /* all done, or nobody left to take the rest */
        if (finished(&m))
            continue;
        if (n > 0 && pp_spin(pp, news, &m, skipped ? wake_at : 0))
            continue;
        if (skipped) {
            /* Chunks free by now, or about to sleep: the sleepers too. */
            wake_all = true;
            continue;
        }
        err = nap(&m, pfd, slot, n);
        if (err == EINTR) {
            err = 0;
            continue;
        }
        if (err) {
            pool_set_error(pool, "poll: %s", strerror(err));
            /* They would still be taking chunks of this map: they go, and
             * fresh ones come. */
            for (int i = 0; i < n; i++)
                pp_reap(pp, slot[i], NULL, 0);
            break;
        }
    }
    if (!err)
        lose_rest(&m);
    free(m.in);
    free(m.order);
    return err;
}
