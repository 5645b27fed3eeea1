/* pool/process_pool.c - the process pool: multiprocessing.Pool in C.
 *
 * Shows: workers fork()ed once and reused by every map; arguments and
 * results copied through one socketpair per worker, as CPython pickles them
 * through pipes; chunks handed out to whichever worker is idle; and a worker
 * that dies in the middle of a map reported, reaped and replaced instead of
 * waited on forever.
 *
 *        parent                                   worker k (forked)
 *     +-----------+   task: fn, first, count, args   +-----------+
 *     | fd[k] ====|=================================>| read task |
 *     |           |<=================================|== reply   |
 *     +-----------+  reply: first, count, ran, err,  +-----------+
 *                           results
 *
 * The parent poll()s the busy workers' channels. A readable channel holds a
 * reply, or end-of-file when the worker died: then the chunk it held is
 * lost, the worker is reaped (its wait status says how it died), a new one
 * is forked in its slot, and the map goes on with the remaining chunks.
 *
 * A small map is mostly waiting: a socket round trip wakes the worker and
 * then the parent, 15-45 us each on a virtual machine, per chunk. So while
 * POOL_SPIN_US > 0 (the default) each worker also has a shared region
 * (shm_channel.h): the parent copies a chunk's arguments in and publishes
 * it, the worker, still watching after its last chunk, runs it and copies
 * the results beside it, and the parent, watching too, copies them out.
 * The data still crosses by copy; the system calls go. A side that has
 * watched for POOL_SPIN_US sleeps on the socket as before, after saying so
 * in the region, and the other side then wakes it with one message. The
 * socket still carries what does not fit, the stop message, and end of
 * file: a death is found exactly as before.
 *
 * Dealt one at a time, each chunk still costs a round trip through the
 * parent, and a wake-up of the parent when it sleeps. CPython's workers
 * take their tasks from one shared queue instead. So a forked pool also
 * has a queue (shm_queue.h), inherited by its workers: a map that fits is
 * posted there whole, and each idle worker takes the next chunk itself;
 * the parent is woken once per worker, when it has nothing left to take.
 *
 * Reading order, from a program's main down to fork() and back (the files
 * are listed in process.h):
 *   1. pool_open (pool.c) calls pool->ops->start, which for processes is
 *      pp_start (at the bottom of this file): one pp_start_slot() per worker.
 *   2. pp_start_slot() makes the channel (pp_make_channel, channel.c) and
 *      forks (or, under spawn and forkserver, has start.c start a fresh
 *      image). The parent keeps one end; a forked child calls
 *      become_worker(), a fresh image reaches pp_worker_main() through
 *      pool_main(); neither returns.
 *   3. become_worker() cuts the child loose from the parent's other
 *      channels; pp_worker_main() (process_worker.c) ties it to the
 *      parent's life and to SIGTERM, then runs worker_main(): read a task,
 *      run it (run_items, pool.c), send the reply, until told to stop. With
 *      a region it runs serve_region(): await_task() watches, then sleeps;
 *      the task is run in place and done_seq published.
 *   4. pool_map (pool.c) calls ops->map = pp_map (process_map.c). A map
 *      the queue holds goes to pq_map (process_queue.c): post() it,
 *      enlist() the workers (SHM_QUEUE in their regions; serve_queue() in
 *      process_worker.c claims chunks), take_in() the done ones, and a
 *      death loses what its worker owned (worker_lost()). Any other map
 *      is dealt: deal(), assign() and give() hand out chunks (publish()
 *      into a region), spin_wait() watches the regions, sleep_wait()
 *      poll()s, receive() and receive_region() take replies in,
 *      worker_died() and channel_broke() deal with a death (pp_reap,
 *      here).
 *   5. pool_close (pool.c) calls ops->stop = pp_stop: a stop message to each
 *      worker; pool_join calls pp_join: waitpid for each.
 *
 * Pitfalls handled here, each a real bug in other pools (docs/pool.md has
 * the whole list, with what goes wrong elsewhere):
 *  - stdio is flushed before fork, workers flush what tasks printed and end
 *    with _exit: output is neither written twice nor lost;
 *  - no channel on fds 0-2, where a program's own output would go into it;
 *  - a new worker closes every other channel end this process holds (of
 *    this pool and of any other), or a closed channel never reads as EOF;
 *  - pool_close sends a stop message: a child the caller forked holds copies
 *    of the channels, and end of file alone would wait for that child;
 *  - writes use MSG_NOSIGNAL, so a dead worker means EPIPE, not SIGPIPE;
 *  - a fork refused half way through pool_open stops and reaps the workers
 *    already started; a worker that dies at once is not forked in a loop;
 *  - every child is reaped: no zombies, no descriptors left open.
 *
 * See also: thread_pool.c, docs/pool.md, python/cpython#66587 (a Pool whose
 * worker is killed hangs forever).
 */
#define _POSIX_C_SOURCE 200809L /* kill, waitpid, sigset_t */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"
#include "start.h"
/* Every process pool of this process, so that a new worker (of any pool)
 * can close all the channel ends it inherited. all_lock is held across
 * fork(), from before the new channel is made until the parent has closed
 * the worker's end, so no other thread's worker inherits a channel that is
 * not on the list yet; the child only reads the list.
 *
 * A fork of the caller's own (any thread, any time) must not copy all_lock
 * while a pool holds it: the atfork handlers take it around every fork but
 * ours, and the child lets it go. */
static struct process_pool *all_pools;
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool starting; /* this thread forks in pp_start_slot() */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
    if (!starting)
        pthread_mutex_lock(&all_lock);
}

static void atfork_parent(void)
{
    if (!starting)
        pthread_mutex_unlock(&all_lock);
}

/* In the child the lock is held by its only thread, the one that forked
 * (by the prepare handler, or by pp_start_slot() itself): let it go. */
static void atfork_child(void)
{
    pthread_mutex_unlock(&all_lock);
}

static void register_atfork(void)
{
    start_atfork(); /* first, so that every fork locks in pp_start_slot()'s order */
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}


/* ---- the parent side: starting, reaping and stopping workers ------------- */

static void offer_region(struct process_pool *pp, int k)
{
    struct worker *w = &pp->w[k];
    struct task_msg t;
    int mfd;

    w->shm = NULL;
    w->seq = 0;
    if (!pp->spin_ns)
        return;
    struct shm_ctl *ctl = shm_create(&mfd);
    if (!ctl)
        return;
    memset(&t, 0, sizeof t);
    t.op = MSG_SHM;
    t.count = SHM_SIZE;
    t.first = k < pp->cpus - 1 ? (size_t)pp->spin_ns : 0;
    ssize_t sent = pp_send_fd(w->fd, &t, sizeof t, mfd);
    close(mfd);
    if (sent == (ssize_t)sizeof t)
        w->shm = ctl;
    else
        shm_unmap(ctl); /* gone already: the first give finds out */
}

/* The child's side of pp_start_slot(): cut loose from what the parent holds, then
 * be a worker until told to stop. fd is our end of the channel, other_end
 * the parent's. pp_start_slot() held all_lock across the fork, so our copy of the
 * list of pools is whole, and we are its only thread. Never returns. */
static _Noreturn void become_worker(int fd, int other_end, pid_t parent,
                                    struct shm_queue *queue, int me)
{
    /* Every other channel end: a sibling's death must read as end of file
     * in the parent, and no pool may wait on us for it. */
    for (struct process_pool *p = all_pools; p; p = p->next)
        for (int i = 0; i < p->n; i++)
            if (p->w[i].fd >= 0) {
                close(p->w[i].fd);
                p->w[i].fd = -1; /* in our copy: the number may be reused */
            }
    close(other_end);
    if (queue) {
        shm_queue_inherit(queue, false); /* not for a task's own children */
        pp_worker_queue(queue, me);
    }
    pp_worker_main(fd, parent);
}

/* Start a worker into slot k, by the pool's start method. Returns 0 or an
 * errno value. */
int pp_start_slot(struct process_pool *pp, int k)
{
    int sv[2], err;
    pid_t pid, parent = getpid();

    fflush(NULL);
    pthread_mutex_lock(&all_lock);
    if ((err = pp_make_channel(sv))) {
        pthread_mutex_unlock(&all_lock);
        return err;
    }
    /* A forked worker inherits the pool's queue: this fork only (all_lock
     * is held, and every fork in this program takes it first). */
    bool queue = pp->queue && shm_queue_inherit(pp->queue, true);
    starting = true;
    /* fork: a copy of us. spawn, forkserver: a fresh image (start.c),
     * which reaches pp_worker_main() through pool_main(). */
    pid = pp->start == POOL_START_FORK ? fork()
                                       : start_worker(pp->start, sv[1]);
    if (pid == 0)
        become_worker(sv[1], sv[0], parent, queue ? pp->queue : NULL, k + 1);
    if (queue)
        shm_queue_inherit(pp->queue, false);
    err = errno;
    starting = false;
    close(sv[1]);
    if (pid > 0) {
        pp->w[k].pid = pid;
        pp->w[k].fd = sv[0];
        pp->w[k].busy = false;
        pp->w[k].queue = queue;
        offer_region(pp, k);
    } else {
        close(sv[0]);
    }
    pthread_mutex_unlock(&all_lock);
    return pid > 0 ? 0 : err;
}

/* How the worker with this wait status left, in words. */
static void describe_exit(int status, char *how, size_t len)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_LOST_CHANNEL)
        snprintf(how, len, "had its channel closed (by a task?) and left");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_NO_MEMORY)
        snprintf(how, len, "ran out of memory for a chunk's arguments or "
                 "results");
    else
        pool_describe_status(status, how, len);
}

/* Reap the worker in slot k and, if why is not NULL, say how it died: its
 * channel broke in the middle of a map. The first cause is what counts: a
 * worker that died has ended, or is ending, when its end of file arrives;
 * one still running after a grace period had its channel closed by a task,
 * and only then does the pool kill it. Without why (the worker is known to
 * be of no more use) it is killed at once. Returns the errno value for the
 * items it held: ENOMEM when it ran out of memory, else EPIPE. */
int pp_reap(struct process_pool *pp, int k, char *why, size_t len)
{
    struct worker *w = &pp->w[k];
    int status = 0;
    pid_t pid = w->pid;
    bool killed = false;

    /* A grace period of 200 ms for one that is dying anyway. */
    int wait_err = why ? wait_worker(pp->start, pid, &status, 200) : ETIMEDOUT;
    if (wait_err == ETIMEDOUT) {
        kill(pid, SIGKILL);
        killed = why != NULL;
        wait_err = wait_worker(pp->start, pid, &status, -1);
    }
    pthread_mutex_lock(&all_lock);
    close(w->fd);
    w->fd = -1;
    w->pid = 0;
    w->busy = false;
    pthread_mutex_unlock(&all_lock);
    shm_unmap(w->shm); /* its replacement gets a region of its own */
    w->shm = NULL;
    if (why) {
        char how[100];
        if (killed)
            snprintf(how, sizeof how, "had its channel closed (by a task?) "
                     "while still running, and was killed by the pool");
        else if (wait_err) /* the caller reaped it, or ignores SIGCHLD */
            snprintf(how, sizeof how, "died (how is unknown: waitpid: %s)",
                     strerror(wait_err));
        else
            describe_exit(status, how, sizeof how);
        snprintf(why, len, "worker %d (pid %ld) %s", k, (long)pid, how);
    }
    bool no_memory = !killed && !wait_err && WIFEXITED(status) &&
                     WEXITSTATUS(status) == WORKER_NO_MEMORY;
    return no_memory ? ENOMEM : EPIPE;
}

/* Put the task into the worker's region (its arguments too, when they
 * fit) and publish it; wake the worker if it said it sleeps. Returns 0 or
 * the errno of the wake-up's send. */
static void pp_stop(struct pool *pool, bool terminate)
{
    struct process_pool *pp = pool->impl;
    struct task_msg stop;

    memset(&stop, 0, sizeof stop);
    stop.op = MSG_STOP;
    pthread_mutex_lock(&all_lock);
    for (int k = 0; k < pp->n; k++) {
        /* A worker watching its region leaves at once, not after its spin;
         * one asleep reads the stop message. */
        struct shm_ctl *c = pp->w[k].shm;
        if (!terminate && c) {
            c->op = SHM_STOP;
            atomic_store(&c->task_seq, ++pp->w[k].seq);
        }
        if (terminate && pp->w[k].pid) {
            kill(pp->w[k].pid, SIGTERM);
            kill(pp->w[k].pid, SIGCONT); /* a stopped worker gets it too */
        }
        if (pp->w[k].fd >= 0) {
            struct iovec iov = { &stop, sizeof stop };
            if (!terminate)
                pp_send_all(pp->w[k].fd, &iov, 1, NULL); /* a dead one: EPIPE */
            close(pp->w[k].fd);
            pp->w[k].fd = -1;
        }
    }
    pthread_mutex_unlock(&all_lock);
}

static int pp_join(struct pool *pool)
{
    struct process_pool *pp = pool->impl;
    int first = 0;

    for (int k = 0; k < pp->n; k++) {
        if (!pp->w[k].pid)
            continue;
        /* ECHILD: the caller reaped it already (see pool.h): gone. */
        int err = wait_worker(pp->start, pp->w[k].pid, NULL, -1);
        if (!first && err != ECHILD)
            first = err;
        pp->w[k].pid = 0;
    }
    return first;
}

/* Release the pool's memory; unmap the regions only in the owner: a copy
 * made by fork does not have them (MADV_DONTFORK), and their addresses may
 * hold something else there. */
static void release(struct pool *pool, bool unmap)
{
    struct process_pool *pp = pool->impl;
    struct process_pool **p;

    for (int k = 0; unmap && k < pp->n; k++)
        shm_unmap(pp->w[k].shm);
    if (unmap)
        shm_queue_unmap(pp->queue);

    pthread_mutex_lock(&all_lock);
    for (p = &all_pools; *p; p = &(*p)->next)
        if (*p == pp) {
            *p = pp->next;
            break;
        }
    pthread_mutex_unlock(&all_lock);
    free(pp->w);
    free(pp);
    pool->impl = NULL;
}

static void pp_release(struct pool *pool)
{
    release(pool, true);
}

/* A copy's memory is all there is to release: the workers are the owner's,
 * and the descriptors are closed when this process exits or execs. */
static void pp_forget(struct pool *pool)
{
    release(pool, false);
}

static int pp_start(struct pool *pool)
{
    struct process_pool *pp;
    int err;

    pp = calloc(1, sizeof *pp);
    if (!pp)
        return ENOMEM;
    pp->w = calloc((size_t)pool->workers, sizeof *pp->w);
    if (!pp->w) {
        free(pp);
        return ENOMEM;
    }
    pthread_once(&atfork_once, register_atfork);
    pp->n = pool->workers;
    pp->start = pool->start;
    pp->cpus = pool_cpu_count();
    pp->spin_ns = shm_spin_budget_ns();
    for (int k = 0; k < pp->n; k++)
        pp->w[k].fd = -1;
    pool->impl = pp;
    pthread_mutex_lock(&all_lock);
    /* Forked workers share a queue (shm_queue.h); without one (memfd
     * refused) chunks are dealt, as to fresh images. Made under all_lock,
     * so that no fork of another thread comes between its mmap and its
     * DONTFORK. */
    if (pp->start == POOL_START_FORK && pp->spin_ns)
        pp->queue = shm_queue_create();
    pp->next = all_pools;
    all_pools = pp;
    pthread_mutex_unlock(&all_lock);

    for (int k = 0; k < pp->n; k++) {
        err = pp_start_slot(pp, k);
        if (err) {
            /* Undo: the workers already forked see end of file and leave. */
            pp_stop(pool, false);
            pp_join(pool);
            pp_release(pool);
            return err;
        }
    }
    return 0;
}

const struct pool_ops pool_process_ops = {
    .start = pp_start,
    .map = pp_map,
    .stop = pp_stop,
    .join = pp_join,
    .release = pp_release,
    .forget = pp_forget,
};
