/* pool/process_map.c - pool_map on a process pool: hand the chunks to idle
 * workers, take the replies in, deal with a death.
 *
 * CPython's Pool puts a map's tasks on one queue every idle worker reads
 * (Lib/multiprocessing/pool.py, 3.11: Pool._handle_tasks, worker()), and a
 * thread takes the results in by index (Pool._handle_results). Here the
 * parent deals each chunk to an idle worker's socket and poll()s the busy
 * ones (run(), below). Unlike CPython 3.11, whose map waits forever for
 * what a dead worker held, those items fail with the worker's cause, and
 * the map goes on. How a chunk reaches a worker is the part that varies
 * (struct pp_handoff): dealt here, or, with the fast layer, taken by each
 * worker from a queue they share (pool/fast/procs.c).
 */
#define _POSIX_C_SOURCE 200809L /* poll */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process.h"

/* ---- dealt: a chunk at a time, through the socket ----------------------- */

static bool dealt_more(struct pp_map *m)
{
    return m->next < m->job->nchunks;
}

static int dealt_give(struct pp_map *m, int k, bool force, bool *sent)
{
    struct pool_job *job = m->job;
    struct worker *w = &m->pp->w[k];
    size_t c = m->next;
    struct msg t;

    memset(&t, 0, sizeof t); /* no uninitialised padding on the wire */
    t.op = MSG_TASK;
    t.fn = job->fn;
    t.task = job->task;
    t.first = job_chunk_first(job, c);
    t.count = job_chunk_count(job, c);
    t.arg_size = job->arg_size;
    t.result_size = job->result_size;
    struct iovec iov[2] = {
        { &t, sizeof t },
        { job->arg_size ? (char *)job->args + t.first * job->arg_size : NULL,
          t.count * job->arg_size },
    };

    (void)force;
    int err = pp_send_all(w->fd, iov, job->arg_size ? 2 : 1, sent);
    if (!err || *sent) { /* a worker that took part of it loses it */
        w->busy = true;
        w->chunk = c;
        m->next++;
    }
    return err;
}

static int dealt_wait(struct pp_map *m, struct pollfd *pfd, int n,
                      bool passed)
{
    (void)m;
    (void)passed;
    return poll(pfd, (nfds_t)n, -1) < 0 ? errno : 0;
}

/* A worker's words are checked, not trusted: it may die mid-write. */
static int dealt_reply(struct pp_map *m, int k, const struct msg *r)
{
    struct pool_job *job = m->job;
    struct worker *w = &m->pp->w[k];
    size_t first = job_chunk_first(job, w->chunk);
    size_t count = job_chunk_count(job, w->chunk);

    if (r->op != REPLY_DATA || r->first != first || r->count != count ||
        r->ran > count || (r->err ? r->ran == 0 : r->ran != count))
        return EPROTO;
    if (job->result_size &&
        pp_recv_all(w->fd, job->results + first * job->result_size,
                    count * job->result_size))
        return EPROTO;
    job_chunk_done(job, w->chunk, r->ran, r->err);
    w->busy = w->fresh = false;
    return 0;
}

static void dealt_lost(struct pp_map *m, int k, int err, const char *why)
{
    if (m->pp->w[k].busy)
        job_chunk_lost(m->job, m->pp->w[k].chunk, err, why);
}

static void dealt_rest(struct pp_map *m, int err, const char *why)
{
    for (; m->next < m->job->nchunks; m->next++)
        job_chunk_lost(m->job, m->next, err, why);
}

static const struct pp_handoff dealt = {
    .more = dealt_more, .give = dealt_give, .wait = dealt_wait,
    .reply = dealt_reply, .lost = dealt_lost, .rest = dealt_rest,
};

/* ---- the map -------------------------------------------------------------- */

/* The worker in slot k is gone: reap it, lose what it held. One started
 * during this map that died before finishing anything would likely die
 * the same way again (out of memory, say): its slot stays empty until the
 * map is over, so a death never turns into a loop of forks. */
static void died(struct pp_map *m, int k)
{
    struct process_pool *pp = m->pp;
    struct worker *w = &pp->w[k];
    char why[POOL_WHY_LEN];
    bool fresh = w->fresh;
    int err = pp_reap(pp, k, why, sizeof why);

    m->h->lost(m, k, err, why);
    w->busy = false;
    if (fresh) {
        w->benched = true;
        pp->death_err = err;
        snprintf(pp->death, sizeof pp->death, "%s", why);
    }
}

enum offered { GIVEN, AGAIN, PASSED, NONE };

/* Hand work to the idle slot k, starting a worker into it if empty. One
 * that cannot take it died while idle: reaped and replaced, once, nothing
 * lost. AGAIN: it died taking the work, lost with it; the slot may take more. */
static enum offered offer(struct pp_map *m, int k, bool force)
{
    struct process_pool *pp = m->pp;
    struct worker *w = &pp->w[k];

    for (int tries = 0; tries < 2 && !w->benched; tries++) {
        if (w->pid == 0) {
            int err = pp_start_slot(pp, k);
            if (err) {
                pp->fork_err = err; /* tried again on the next pass */
                return NONE;
            }
            w->fresh = true;
        }
        bool sent = false;
        int err = m->h->give(m, k, force, &sent);
        if (err == 0 || err == EAGAIN)
            return err ? PASSED : GIVEN;
        died(m, k);
        if (sent)
            return AGAIN;
    }
    return NONE;
}

/* Why work found no worker, for what is left when none is busy. */
static int no_worker(const struct process_pool *pp, char *why, size_t len)
{
    if (pp->fork_err) {
        snprintf(why, len, "no worker could be started (fork failed: %s)",
                 strerror(pp->fork_err));
        return pp->fork_err;
    }
    snprintf(why, len, "no worker left: %.*s", (int)(len - 20), pp->death);
    return pp->death_err ? pp->death_err : EPIPE;
}

/* What waits on busy worker k's channel: a reply, a bell (the hand-off's
 * collect() looks), or end of file. */
static void take_note(struct pp_map *m, const struct pollfd *p, int k)
{
    struct worker *w = &m->pp->w[k];
    struct msg r;

    if (!p->revents || !w->busy)
        return;
    if (pp_recv_all(w->fd, &r, sizeof r) == 0 &&
        (r.op == REPLY_BELL || m->h->reply(m, k, &r) == 0))
        return;
    died(m, k);
}

static int run(struct pp_map *m, struct pollfd *pfd, int *slot)
{
    struct process_pool *pp = m->pp;
    bool force = false;

    for (;;) {
        bool passed = false;
        for (int k = 0; k < pp->n; k++) {
            enum offered o = AGAIN;
            while (o == AGAIN && !pp->w[k].busy && m->h->more(m))
                o = offer(m, k, force);
            passed |= o == PASSED;
        }
        int n = 0;
        for (int k = 0; k < pp->n; k++)
            if (pp->w[k].busy) {
                pfd[n] = (struct pollfd){ pp->w[k].fd, POLLIN, 0 };
                slot[n++] = k;
            }
        if (n == 0 && !passed)
            return 0; /* all done, or no worker is left */
        int err = n == 0 ? EAGAIN : m->h->wait(m, pfd, n, passed);
        force |= err == EAGAIN; /* work waited long enough: wake everyone */
        if (err == EAGAIN)
            continue;
        if (err && err != EINTR) {
            pool_set_error(m->pool, "poll: %s", strerror(err));
            /* Replies on their way would be read against the next map: the
             * busy workers go, and fresh ones come. */
            for (int i = 0; i < n; i++) {
                pp_reap(pp, slot[i], NULL, 0);
                pp->w[slot[i]].busy = false;
            }
            return err;
        }
        for (int i = 0; i < n; i++)
            take_note(m, &pfd[i], slot[i]);
        if (m->h->collect)
            m->h->collect(m);
    }
}

static int pp_map(struct pool *pool, struct pool_job *job)
{
    struct process_pool *pp = pool->impl;
    struct pp_map m = { pool, pp, job, &dealt, 0, NULL };
    char why[POOL_WHY_LEN];
    int err = 0;

    if (pp->method && (job->task = pp->method->index_of(job->fn)) ==
                          POOL_TASK_NONE) {
        pool_set_error(pool, "cannot send the task: not in pool_main's table "
                       "(C's PicklingError)");
        return EINVAL;
    }
    const struct pp_handoff *fast =
        pp->fast ? pool_process_fast->handoff(pp->fast, job) : NULL;
    if (fast)
        m.h = fast;
    struct pollfd *pfd = calloc((size_t)pp->n, sizeof *pfd);
    int *slot = calloc((size_t)pp->n, sizeof *slot);
    if (!pfd || !slot || (m.h->begin && (err = m.h->begin(&m)))) {
        free(pfd);
        free(slot);
        pool_set_error(pool, "pool_map: out of memory");
        return ENOMEM;
    }
    pp->fork_err = pp->death_err = 0;
    for (int k = 0; k < pp->n; k++)
        pp->w[k].fresh = pp->w[k].benched = false;
    err = run(&m, pfd, slot);
    if (!err)
        m.h->rest(&m, no_worker(pp, why, sizeof why), why);
    if (m.h->end)
        m.h->end(&m);
    /* Fill the slots emptied in this map, so the pool is whole for the
     * next one (a refused fork is tried again then). */
    for (int k = 0; k < pp->n; k++)
        if (pp->w[k].pid == 0)
            pp_start_slot(pp, k);
    free(pfd);
    free(slot);
    return err;
}

const struct pool_ops pool_process_ops = {
    .start = pp_start, .map = pp_map, .stop = pp_stop, .join = pp_join,
    .release = pp_release, .forget = pp_forget,
};
