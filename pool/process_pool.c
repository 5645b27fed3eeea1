/* pool/process_pool.c - the process pool: multiprocessing.Pool in C.
 *
 * Shows: workers forked once and reused by every map, one socketpair each,
 * as CPython pickles tasks and results through pipes; and a worker that
 * dies reaped and replaced, never waited on forever (python/cpython#66587:
 * a Pool whose worker is killed hangs).
 *
 *        parent                                   worker k (forked)
 *     +-----------+   task: fn, first, count, args   +-----------+
 *     | fd[k] ====|=================================>| read task |
 *     |           |<=================================|== reply   |
 *     +-----------+  reply: first, count, ran, err,  +-----------+
 *                           results
 *
 * This file is the pool's life, CPython's Pool.__init__, _maintain_pool
 * and _terminate_pool (Lib/multiprocessing/pool.py, 3.11); a map is
 * process_map.c, the worker's side process_worker.c. The pitfalls of
 * fork-based workers, each a real bug elsewhere, are handled here and
 * listed in docs/pool.md: stdio flushed before fork; every channel end of
 * every pool closed in a new worker; a stop message, not end of file
 * alone; a half-open pool undone; every child reaped.
 */
#define _POSIX_C_SOURCE 200809L /* kill, waitpid */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process.h"

/* Every process pool of this process, so that a new worker of any pool can
 * close the channel ends it inherited. all_lock is held from before a new
 * channel is made until the parent has closed the worker's end, so no other
 * thread's fork copies a channel not yet on the list; every other fork
 * takes it too (the fork handlers), but the pool's own (`forking`). */
static struct process_pool *all_pools;
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool forking;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void lock_for_fork(void)
{
    if (!forking)
        pthread_mutex_lock(&all_lock);
}

static void unlock_after_fork(void)
{
    if (!forking)
        pthread_mutex_unlock(&all_lock);
}

static void unlock_in_child(void) /* held by the thread that forked */
{
    pthread_mutex_unlock(&all_lock);
}

/* The start methods' handlers first: a fork then takes all_lock before
 * their locks, in the order pp_start_slot() does. */
static void register_atfork(void)
{
    pool_spawn_method.atfork();
    pool_forkserver_method.atfork();
    pthread_atfork(lock_for_fork, unlock_after_fork, unlock_in_child);
}

/* The new worker's side of a fork: close every channel end of every pool
 * (our copy of the list is whole: all_lock is held), then serve `fd`. */
static _Noreturn void become_worker(struct process_pool *pp, int k, int fd,
                                    int other_end, pid_t parent)
{
    for (struct process_pool *p = all_pools; p; p = p->next)
        for (int i = 0; i < p->n; i++)
            if (p->w[i].fd >= 0) {
                close(p->w[i].fd);
                p->w[i].fd = -1;
            }
    close(other_end);
    if (pp->fast)
        pool_process_fast->child(pp->fast, k);
    pp_worker_main(fd, parent);
}

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
    forking = true;
    if (pp->method) {
        pid = pp->method->start(sv[1]); /* a fresh image: pool_main */
    } else {
        if (pp->fast) /* this fork, and no other, inherits the region */
            pool_process_fast->inherit(pp->fast, true);
        pid = fork();
        if (pid == 0)
            become_worker(pp, k, sv[1], sv[0], parent);
        if (pp->fast)
            pool_process_fast->inherit(pp->fast, false);
    }
    err = errno;
    forking = false;
    close(sv[1]);
    if (pid > 0)
        pp->w[k] = (struct worker){ .pid = pid, .fd = sv[0] };
    else
        close(sv[0]);
    pthread_mutex_unlock(&all_lock);
    return pid > 0 ? 0 : err;
}

int wait_child(pid_t pid, int *status, int timeout_ms)
{
    struct timespec ms = { 0, 1000000L };

    for (int waited = 0;; waited++) {
        pid_t got = waitpid(pid, status, timeout_ms < 0 ? 0 : WNOHANG);
        if (got > 0)
            return 0;
        if (got < 0 && errno != EINTR)
            return errno;
        if (got == 0 && waited >= timeout_ms)
            return ETIMEDOUT;
        if (got == 0)
            nanosleep(&ms, NULL);
    }
}

static int wait_worker(struct process_pool *pp, pid_t pid, int *status,
                       int timeout_ms)
{
    return pp->method ? pp->method->wait(pid, status, timeout_ms)
                      : wait_child(pid, status, timeout_ms);
}

/* How a worker with this wait status left, in words. */
static void describe_exit(int status, char *how, size_t len)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_LOST_CHANNEL)
        snprintf(how, len, "had its channel closed (by a task?) and left");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_CHANNEL_ERROR)
        snprintf(how, len, "left: the system refused it a read or write on "
                 "its channel");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_TASK_EXIT)
        snprintf(how, len, "left: a task called exit()");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_NO_MEMORY)
        snprintf(how, len, "ran out of memory for a chunk's arguments or "
                 "results");
    else
        pool_describe_status(status, how, len);
}

/* The first cause is what counts: a worker that died has ended, or is
 * ending, when its end of file arrives; one still running after a grace
 * period had its channel closed by a task, and only then is it killed. */
int pp_reap(struct process_pool *pp, int k, char *why, size_t len)
{
    struct worker *w = &pp->w[k];
    int status = 0;
    pid_t pid = w->pid;
    bool killed = false;

    int err = why ? wait_worker(pp, pid, &status, 200) : ETIMEDOUT;
    if (err == ETIMEDOUT) {
        kill(pid, SIGKILL);
        killed = why != NULL;
        err = wait_worker(pp, pid, &status, -1);
    }
    pthread_mutex_lock(&all_lock);
    close(w->fd);
    w->fd = -1;
    w->pid = 0;
    pthread_mutex_unlock(&all_lock);
    if (why) {
        char how[100];
        if (killed)
            snprintf(how, sizeof how, "had its channel closed (by a task?) "
                     "while still running, and was killed by the pool");
        else if (err == EOWNERDEAD) /* wait_forkserver_worker */
            snprintf(how, sizeof how, "died with its fork server");
        else if (err) /* the caller reaped it, or ignores SIGCHLD */
            snprintf(how, sizeof how, "died (how is unknown: waitpid: %s)",
                     strerror(err));
        else
            describe_exit(status, how, sizeof how);
        snprintf(why, len, "worker %d (pid %ld) %s", k, (long)pid, how);
    }
    bool no_memory = !killed && !err && WIFEXITED(status) &&
                     WEXITSTATUS(status) == WORKER_NO_MEMORY;
    return no_memory ? ENOMEM : EPIPE;
}

/* Close: each worker gets the stop message, then end of file. Terminate:
 * SIGTERM (and SIGCONT, should one be stopped). */
void pp_stop(struct pool *pool, bool terminate)
{
    struct process_pool *pp = pool->impl;

    if (pp->fast && !terminate)
        pool_process_fast->stop(pp->fast);
    pthread_mutex_lock(&all_lock);
    for (int k = 0; k < pp->n; k++) {
        struct worker *w = &pp->w[k];
        if (terminate && w->pid) {
            kill(w->pid, SIGTERM);
            kill(w->pid, SIGCONT);
        }
        if (w->fd >= 0) {
            if (!terminate)
                pp_send_op(w->fd, MSG_STOP); /* a dead one: EPIPE */
            close(w->fd);
            w->fd = -1;
        }
    }
    pthread_mutex_unlock(&all_lock);
}

int pp_join(struct pool *pool)
{
    struct process_pool *pp = pool->impl;
    int first = 0;

    for (int k = 0; k < pp->n; k++) {
        if (!pp->w[k].pid)
            continue;
        int err = wait_worker(pp, pp->w[k].pid, NULL, -1);
        if (!first && err != ECHILD && err != EOWNERDEAD) /* gone already */
            first = err;
        pp->w[k].pid = 0;
    }
    return first;
}

/* A copy made by fork owns no worker and has no region: its memory is all
 * there is to release. */
static void release(struct pool *pool, bool owner)
{
    struct process_pool *pp = pool->impl;

    if (pp->fast)
        pool_process_fast->close(pp->fast, owner);
    pthread_mutex_lock(&all_lock);
    for (struct process_pool **p = &all_pools; *p; p = &(*p)->next)
        if (*p == pp) {
            *p = pp->next;
            break;
        }
    pthread_mutex_unlock(&all_lock);
    free(pp->w);
    free(pp);
    pool->impl = NULL;
}

void pp_release(struct pool *pool) { release(pool, true); }
void pp_forget(struct pool *pool) { release(pool, false); }

int pp_start(struct pool *pool)
{
    const struct pool_start_method *method =
        pool->start == POOL_START_SPAWN        ? &pool_spawn_method
        : pool->start == POOL_START_FORKSERVER ? &pool_forkserver_method
                                               : NULL;
    struct process_pool *pp;
    int err;

    if (method && (err = method->check()))
        return err;
    pp = calloc(1, sizeof *pp);
    if (!pp || !(pp->w = calloc((size_t)pool->workers, sizeof *pp->w))) {
        free(pp);
        return ENOMEM;
    }
    pthread_once(&atfork_once, register_atfork);
    pp->n = pool->workers;
    pp->method = method;
    for (int k = 0; k < pp->n; k++)
        pp->w[k].fd = -1;
    pool->impl = pp;
    pthread_mutex_lock(&all_lock);
    /* Under all_lock, so that no other thread's fork copies the region
     * before it is marked not to be inherited. */
    if (!method && pool_process_fast)
        pp->fast = pool_process_fast->open(pp->n);
    pp->next = all_pools;
    all_pools = pp;
    pthread_mutex_unlock(&all_lock);
    for (int k = 0; k < pp->n; k++)
        if ((err = pp_start_slot(pp, k))) {
            pp_stop(pool, false); /* undo: those started leave */
            pp_join(pool);
            pp_release(pool);
            return err;
        }
    return 0;
}
