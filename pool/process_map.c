/* pool/process_map.c - pool_map on a process pool: deal the chunks, take the replies in.
 *
 * Part of the process pool: pool/process.h gives the reading order of its
 * files; process_pool.c's header tells the whole story. A map that a
 * forked pool's queue can hold goes there instead (process_queue.c); the
 * rest are dealt here, a chunk at a time to each idle worker: a fresh
 * image's (spawn, forkserver), items too large for the queue, and every
 * map with POOL_SPIN_US=0.
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
#include "start.h"

int pp_announce(struct worker *w, int op, bool spin_after)
{
    struct shm_ctl *c = w->shm;
    struct task_msg wake;

    c->op = op;
    c->spin_after = spin_after;
    /* seq_cst, before the look at worker_sleeping: see await_task(). */
    atomic_store(&c->task_seq, ++w->seq);
    if (!atomic_load(&c->worker_sleeping) ||
        atomic_exchange(&c->worker_sleeping, 0) == 0)
        return 0; /* awake: it sees the task at its next look */
    memset(&wake, 0, sizeof wake);
    wake.op = MSG_WAKE;
    struct iovec iov = { &wake, sizeof wake };
    return pp_send_all(w->fd, &iov, 1, NULL);
}

/* Put the task into the worker's region (its arguments too, when they
 * fit) and announce it. */
static int publish(struct worker *w, const struct task_msg *t,
                   const char *args, bool fits, bool spin_after)
{
    struct shm_ctl *c = w->shm;

    c->fn = t->fn;
    c->task = t->task;
    c->first = t->first;
    c->count = t->count;
    c->arg_size = t->arg_size;
    c->result_size = t->result_size;
    if (fits && t->arg_size)
        memcpy(shm_args(c), args, t->count * t->arg_size);
    return pp_announce(w, fits ? SHM_TASK : SHM_SOCKET, spin_after);
}

bool pp_cpu_left(const struct process_pool *pp, int k)
{
    int busy = 2; /* this worker and the parent */

    for (int j = 0; j < pp->n; j++)
        busy += j != k && pp->w[j].busy;
    return busy <= pp->cpus;
}

/* Give chunk c to the worker in slot k (alive and idle): through its
 * region when it has one and the chunk fits, else through the socket.
 * Returns 0 or the errno of the send, in which case the worker is
 * unusable; *started tells whether part of the chunk had gone out (so it
 * was alive to take it). */
static int give(struct process_pool *pp, int k, const struct pool_job *job,
                size_t c, bool *started)
{
    struct worker *w = &pp->w[k];
    struct task_msg t;
    struct iovec iov[2];
    const char *args;
    int err = 0;

    memset(&t, 0, sizeof t);
    t.op = MSG_TASK;
    t.fn = job->fn;
    t.task = job->task;
    t.first = job_chunk_first(job, c);
    t.count = job_chunk_count(job, c);
    t.arg_size = job->arg_size;
    t.result_size = job->result_size;
    args = job->arg_size ? job->args + t.first * job->arg_size : NULL;
    *started = false;
    w->in_region = w->shm && shm_fits(t.count, t.arg_size, t.result_size);
    if (w->shm)
        err = publish(w, &t, args, w->in_region, pp_cpu_left(pp, k));
    if (!err && !w->in_region) {
        iov[0].iov_base = &t;
        iov[0].iov_len = sizeof t;
        iov[1].iov_base = (void *)args;
        iov[1].iov_len = t.count * job->arg_size;
        err = pp_send_all(w->fd, iov, job->arg_size ? 2 : 1, started);
    }
    if (!err) {
        w->busy = true;
        w->chunk = c;
    }
    return err;
}

/* Is the reply r one for chunk c? A worker's words are checked, not
 * trusted: a task can scribble on the region, or a worker die mid-write. */
static int check_reply(const struct reply_msg *r, const struct pool_job *job,
                       size_t c)
{
    size_t first = job_chunk_first(job, c), count = job_chunk_count(job, c);

    if (r->first != first || r->count != count || r->ran > count ||
        (r->err ? r->ran == 0 : r->ran != count))
        return EPROTO;
    return 0;
}

/* The chunk in slot k's hands is back: record its failure, if any. */
static void chunk_back(struct process_pool *pp, int k, struct pool_job *job,
                       const struct reply_msg *r)
{
    size_t first = job_chunk_first(job, pp->w[k].chunk);
    size_t count = job_chunk_count(job, pp->w[k].chunk);

    pp->w[k].busy = false;
    pp->w[k].fresh = false;
    if (r->err) {
        job_fail(job, first + r->ran - 1, 1, r->err, NULL);
        job->nskipped += count - r->ran;
    }
}

/* The rest of the socket reply r of the busy worker in slot k: its results,
 * into the caller's arrays. */
static int receive(struct process_pool *pp, int k, struct pool_job *job,
                   const struct reply_msg *r)
{
    size_t c = pp->w[k].chunk;
    size_t first = job_chunk_first(job, c), count = job_chunk_count(job, c);
    int err = check_reply(r, job, c);

    if (!err && job->result_size)
        err = pp_recv_all(pp->w[k].fd, job->results + first * job->result_size,
                       count * job->result_size);
    if (!err)
        chunk_back(pp, k, job, r);
    return err;
}

/* Has the worker in slot k put its chunk's results in the region? Then copy
 * them into the caller's arrays. Returns 1 when a chunk came back, 0 when
 * not yet, -1 when the region holds nonsense. */
static int receive_region(struct process_pool *pp, int k,
                          struct pool_job *job)
{
    struct worker *w = &pp->w[k];
    struct shm_ctl *ctl = w->shm;

    if (atomic_load_explicit(&ctl->done_seq, memory_order_acquire) != w->seq)
        return 0;
    struct reply_msg r = { REPLY_DATA, ctl->r_err, ctl->r_first,
                           ctl->r_count, ctl->r_ran };
    if (check_reply(&r, job, w->chunk))
        return -1;
    if (job->result_size)
        memcpy(job->results + r.first * job->result_size,
               shm_results(ctl, r.count, job->arg_size),
               r.count * job->result_size);
    chunk_back(pp, k, job, &r);
    return 1;
}

/* Chunk c will not come back (its worker died, or none could take it):
 * its items fail with err, and why says so. Their results get zeros, as a
 * failed item's do, whatever part of a reply had arrived there. */
void pp_lose_chunk(struct pool_job *job, size_t c, int err,
                   const char *why)
{
    size_t first = job_chunk_first(job, c), count = job_chunk_count(job, c);

    if (job->result_size)
        memset(job->results + first * job->result_size, 0,
               count * job->result_size);
    job_fail(job, first, count, err, why);
}

/* Put a worker into every empty slot (after a death, or a failed fork).
 * A slot whose fork is refused stays empty until the next try. */
static void refill(struct process_pool *pp)
{
    for (int k = 0; k < pp->n; k++)
        if (pp->w[k].pid == 0)
            pp_start_slot(pp, k);
}

/* A fresh worker that died before finishing anything would most likely
 * die the same way again (out of memory for these items, say): its slot
 * gets no new worker until the map is over. */
int pp_reap_dead(struct process_pool *pp, int k, char *why, size_t len)
{
    bool fresh = pp->w[k].fresh;
    int err = pp_reap(pp, k, why, len);

    if (fresh) {
        pp->w[k].benched = true;
        pp->death_err = err;
        snprintf(pp->death, sizeof pp->death, "%s", why);
    }
    return err;
}

/* The worker in slot k died in the middle of a map, holding chunk c (or
 * none, c == SIZE_MAX): reap it, say how, lose the chunk. */
static void worker_died(struct process_pool *pp, int k, struct pool_job *job,
                        size_t c)
{
    char why[POOL_WHY_LEN];
    int err = pp_reap_dead(pp, k, why, sizeof why);

    if (c != SIZE_MAX)
        pp_lose_chunk(job, c, err, why);
}

/* Hand chunk c to the idle slot k, forking a worker into it if it is empty
 * (and not benched). A worker that cannot take the chunk had died while
 * idle: it is reaped and replaced, once, and nothing is lost. One that dies
 * while taking it loses it. Returns true when chunk c is dealt with (given,
 * or lost), false when it waits for another worker. */
static bool assign(struct process_pool *pp, int k, struct pool_job *job,
                   size_t c)
{
    for (int tries = 0; tries < 2 && !pp->w[k].benched; tries++) {
        if (pp->w[k].pid == 0) {
            int err = pp_start_slot(pp, k);
            if (err) {
                pp->fork_err = err; /* tried again on the next pass */
                return false;
            }
            pp->w[k].fresh = true;
        }
        bool started;
        if (give(pp, k, job, c, &started) == 0)
            return true;
        if (started) {
            worker_died(pp, k, job, c);
            return true;
        }
        if (pp->w[k].fresh)
            worker_died(pp, k, job, SIZE_MAX); /* died before any work */
        else
            pp_reap(pp, k, NULL, 0);
    }
    return false;
}

/* ---- the map: deal chunks, then watch, then sleep ------------------------ */

/* The chunks not handed out yet: those given back (their worker died
 * before it took them) first, then [*next, nchunks). */
static bool chunks_left(const struct process_pool *pp,
                        const struct pool_job *job, size_t next)
{
    return pp->nback > 0 || next < job->nchunks;
}

static size_t peek_chunk(const struct process_pool *pp, size_t next)
{
    return pp->nback ? pp->back[pp->nback - 1] : next;
}

static void take_chunk(struct process_pool *pp, size_t *next)
{
    if (pp->nback)
        pp->nback--;
    else
        (*next)++;
}

int pp_no_worker(const struct process_pool *pp, char *why, size_t len)
{
    if (pp->fork_err) {
        snprintf(why, len, "no worker could be started (fork failed: %s)",
                 strerror(pp->fork_err));
        return pp->fork_err;
    }
    snprintf(why, len, "no worker left: %.*s", (int)(len - 20), pp->death);
    return pp->death_err ? pp->death_err : EPIPE;
}

/* Chunks that no worker could take: forks were refused, or every slot is
 * benched. */
static void lose_rest(struct process_pool *pp, struct pool_job *job,
                      size_t next)
{
    char why[POOL_WHY_LEN];
    int err;

    if (!chunks_left(pp, job, next))
        return;
    err = pp_no_worker(pp, why, sizeof why);
    for (; chunks_left(pp, job, next); take_chunk(pp, &next))
        pp_lose_chunk(job, peek_chunk(pp, next), err, why);
}

/* Does the worker in slot k sleep on its socket (so a chunk costs it a
 * wake-up)? */
bool pp_asleep(const struct worker *w)
{
    return w->shm && atomic_load_explicit(&w->shm->worker_sleeping,
                                          memory_order_relaxed);
}

/* Workers awake: working, or watching their region for the next task. */
int pp_awake_workers(const struct process_pool *pp)
{
    int awake = 0;

    for (int k = 0; k < pp->n; k++)
        awake += pp->w[k].pid && pp->w[k].shm && !pp_asleep(&pp->w[k]);
    return awake;
}

int pp_gather_busy(const struct process_pool *pp, struct pollfd *pfd,
                   int *slot)
{
    int m = 0;

    for (int k = 0; k < pp->n; k++)
        if (pp->w[k].busy) {
            pfd[m].fd = pp->w[k].fd;
            pfd[m].events = POLLIN;
            pfd[m].revents = 0;
            slot[m++] = k;
        }
    return m;
}

/* A preemption found by the parent's spin stops the workers' spinning
 * too, for as long: the CPUs are wanted. */
static void share_calm(struct process_pool *pp)
{
    long long calm = atomic_load(&pp->calm_from);

    for (int k = 0; k < pp->n; k++)
        if (pp->w[k].shm && atomic_load(&pp->w[k].shm->calm_from) < calm)
            atomic_store(&pp->w[k].shm->calm_from, calm);
}

bool pp_spin(struct process_pool *pp, bool (*news)(void *ctx), void *ctx,
             long long wake_at)
{
    bool got = false;

    if (!shm_may_spin(pp->spin_ns, &pp->calm_from) ||
        pp_awake_workers(pp) >= pp->cpus)
        return false;
    struct shm_spin s = shm_spin_start(pp->spin_ns, &pp->calm_from);
    for (;;) {
        if (news(ctx)) {
            shm_spin_end(&s);
            got = true;
            break;
        }
        if (!shm_spin_on(&s))
            break;
        if (s.looks % 64 == 0 &&
            (pp_awake_workers(pp) >= pp->cpus || (wake_at && s.last > wake_at)))
            break;
    }
    share_calm(pp);
    return got;
}

int pp_nap(struct process_pool *pp, struct pollfd *pfd, const int *slot,
           int m)
{
    int got = 0, err = 0;

    for (int i = 0; i < m; i++)
        if (pp->w[slot[i]].in_region)
            atomic_store(&pp->w[slot[i]].shm->parent_sleeping, 1);
    for (int i = 0; i < m && !got; i++) {
        struct worker *w = &pp->w[slot[i]];
        got = w->in_region && atomic_load(&w->shm->done_seq) == w->seq;
    }
    if (!got && poll(pfd, (nfds_t)m, -1) < 0)
        err = errno;
    for (int i = 0; i < m; i++)
        if (pp->w[slot[i]].shm)
            atomic_store(&pp->w[slot[i]].shm->parent_sleeping, 0);
    return err;
}

int pp_take_note(struct process_pool *pp, const struct pollfd *p, int k,
                 struct reply_msg *r)
{
    if (!p->revents || pp->w[k].pid == 0)
        return 0;
    if (pp_recv_all(pp->w[k].fd, r, sizeof *r))
        return -1;
    return r->op == REPLY_BELL ? 0 : 1; /* a bell: the region says it */
}

/* Every idle slot takes the next chunk, except that a sleeping worker is
 * passed over (*skipped) while another is awake, unless `wake_all`: the
 * awake one will likely do the work before a wake-up would have landed.
 * pfd and slot get the busy workers; returns how many. */
static int deal(struct process_pool *pp, struct pool_job *job, size_t *next,
                bool wake_all, struct pollfd *pfd, int *slot, bool *skipped)
{
    bool pass_sleepers = !wake_all && pp_awake_workers(pp) > 0;

    for (int k = 0; k < pp->n; k++) {
        struct worker *w = &pp->w[k];
        if (!w->busy && chunks_left(pp, job, *next) && pass_sleepers &&
            pp_asleep(w))
            *skipped = true;
        else /* again when the worker died taking one */
            while (!w->busy && chunks_left(pp, job, *next) &&
                   assign(pp, k, job, peek_chunk(pp, *next)))
                take_chunk(pp, next);
    }
    return pp_gather_busy(pp, pfd, slot);
}

/* The busy worker in slot k broke its channel: end of file, or a broken
 * reply. A region worker that never took its chunk died idle: the chunk
 * is given to another worker and nothing is lost (as when a send to a dead
 * worker fails); otherwise the chunk is lost with it. */
static void channel_broke(struct process_pool *pp, int k,
                          struct pool_job *job)
{
    struct worker *w = &pp->w[k];

    if (!w->busy) {
        pp_reap(pp, k, NULL, 0); /* died after its last reply */
    } else if (w->in_region &&
               atomic_load(&w->shm->taken_seq) != w->seq) {
        pp->back[pp->nback++] = w->chunk;
        if (w->fresh)
            worker_died(pp, k, job, SIZE_MAX);
        else
            pp_reap(pp, k, NULL, 0);
    } else {
        worker_died(pp, k, job, w->chunk);
    }
}

/* Take in every region reply that is there. Returns how many came. */
static int collect(struct process_pool *pp, struct pool_job *job)
{
    int got = 0;

    for (int k = 0; k < pp->n; k++) {
        if (!pp->w[k].busy || !pp->w[k].in_region)
            continue;
        int r = receive_region(pp, k, job);
        if (r < 0)
            worker_died(pp, k, job, pp->w[k].chunk);
        else
            got += r;
    }
    return got;
}

/* Watch for a busy worker's reply in its region, while the awake workers
 * leave a CPU for us (pp_spin). */
struct dealing {
    struct process_pool *pp;
    struct pool_job *job;
};

static bool collected(void *ctx)
{
    struct dealing *d = ctx;

    return collect(d->pp, d->job) > 0;
}

static bool spin_wait(struct process_pool *pp, struct pool_job *job,
                      long long wake_at)
{
    struct dealing d = { pp, job };
    bool any = false;

    for (int k = 0; k < pp->n; k++)
        any |= pp->w[k].busy && pp->w[k].in_region;
    return any && pp_spin(pp, collected, &d, wake_at);
}

/* Sleep until a busy worker has news (pp_nap); then take in what came: a
 * reply, a bell, or end of file (the worker died). Returns 0, or the errno
 * of poll. */
static int sleep_wait(struct process_pool *pp, struct pool_job *job,
                      struct pollfd *pfd, const int *slot, int m)
{
    int err = pp_nap(pp, pfd, slot, m);

    if (err)
        return err;
    collect(pp, job);
    for (int i = 0; i < m; i++) {
        int k = slot[i];
        struct reply_msg r;
        int got = pp_take_note(pp, &pfd[i], k, &r);
        if (got == 0)
            continue;
        /* A reply is expected only from a worker whose chunk went by
         * socket; anything else breaks the channel. */
        if (got < 0 || !pp->w[k].busy || pp->w[k].in_region ||
            receive(pp, k, job, &r))
            channel_broke(pp, k, job);
    }
    return 0;
}

/* The map with chunks dealt one at a time to idle workers. Returns 0 or
 * the errno of poll (the busy workers are then reaped). */
static int deal_map(struct pool *pool, struct process_pool *pp,
                    struct pool_job *job, struct pollfd *pfd, int *slot)
{
    size_t next = 0;
    int err;

    /* Without spinning every idle worker gets a chunk at once, as always. */
    bool wake_all = pp->spin_ns == 0;
    long long wake_at = wake_all ? 0 : spin_now_ns() + PP_WAKE_AFTER_NS;
    for (;;) {
        bool skipped = false;
        int m = deal(pp, job, &next, wake_all, pfd, slot, &skipped);
        if (m == 0 && !skipped)
            break; /* all done, or no worker is left */
        if (collect(pp, job))
            continue;
        if (m > 0 && spin_wait(pp, job, skipped ? wake_at : 0))
            continue;
        if (skipped) {
            /* Not done by now, or about to sleep: every chunk left gets a
             * worker, awake or not. */
            wake_all = true;
            continue;
        }
        err = sleep_wait(pp, job, pfd, slot, m);
        if (err == EINTR)
            continue;
        if (err) {
            pool_set_error(pool, "poll: %s", strerror(err));
            /* Replies still on their way would be read against the next
             * map's job: the busy workers go, and fresh ones come. */
            for (int i = 0; i < m; i++)
                pp_reap(pp, slot[i], NULL, 0);
            return err;
        }
    }
    lose_rest(pp, job, next);
    return 0;
}

int pp_map(struct pool *pool, struct pool_job *job)
{
    struct process_pool *pp = pool->impl;
    struct pollfd *pfd;
    int *slot;
    int err = 0;

    /* A fresh image finds the task by name, or the map cannot start. */
    err = start_task_index(pp->start, job->fn, &job->task, pool->error,
                           sizeof pool->error);
    if (err)
        return err;
    pfd = calloc((size_t)pp->n, sizeof *pfd);
    slot = calloc((size_t)pp->n, sizeof *slot);
    pp->back = calloc((size_t)pp->n, sizeof *pp->back);
    if (!pfd || !slot || !pp->back) {
        err = ENOMEM;
        pool_set_error(pool, "pool_map: out of memory");
        goto out;
    }
    pp->nback = 0;
    pp->fork_err = pp->death_err = 0;
    for (int k = 0; k < pp->n; k++)
        pp->w[k].fresh = pp->w[k].benched = pp->w[k].joined = false;

    err = pq_usable(pp, job) ? pq_map(pool, pp, job, pfd, slot)
                             : deal_map(pool, pp, job, pfd, slot);
    /* Fill the slots of workers lost in this map now, so the pool is whole
     * for the next one (a refused fork is tried again then). */
    refill(pp);
out:
    free(pfd);
    free(slot);
    free(pp->back);
    pp->back = NULL;
    return err;
}

/* Close: each worker gets the stop message, as CPython's workers get a
 * None each, and then end of file. Terminate: SIGTERM. */
