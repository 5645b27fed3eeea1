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
 *     +-----------+  reply: first, count, err[], res  +-----------+
 *
 * The parent poll()s the busy workers' channels. A readable channel holds a
 * reply, or end-of-file when the worker died: then the chunk it held is
 * lost, the worker is reaped (its wait status says how it died), a new one
 * is forked in its slot, and the map goes on with the remaining chunks.
 *
 * Pitfalls handled here, each a real bug in other pools:
 *  - stdio is flushed before fork and workers end with _exit, or buffered
 *    output is written twice when stdout is a pipe or a file;
 *  - a new worker closes every other channel end this process holds (of
 *    this pool and of any other), or a closed channel never reads as EOF;
 *  - writes use MSG_NOSIGNAL, so a dead worker means EPIPE, not SIGPIPE;
 *  - a fork refused half way through pool_open stops and reaps the workers
 *    already started;
 *  - every child is reaped: no zombies, no descriptors left open.
 *
 * See also: thread_pool.c, docs/pool.md, python/cpython#66587 (a Pool whose
 * worker is killed hangs forever).
 */
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool_impl.h"

/* What the parent sends: a header, then count * arg_size bytes. The function
 * pointer is valid in the worker because fork copied the address space. */
struct task_msg {
    pool_fn *fn;
    size_t first, count, arg_size, result_size;
};

/* What a worker sends back: a header, then count * result_size bytes of
 * results. The chunk stops at its first failing item, as CPython's
 * list(map(f, chunk)): `ran` items ran, and err is the last one's error
 * (0 when all succeeded). Items that failed or never ran come back zeroed. */
struct reply_msg {
    size_t first, count, ran;
    int err;
};

struct worker {
    pid_t pid;      /* 0: the slot is empty (its fork failed) */
    int fd;         /* the parent's end of the channel; -1 when closed */
    bool busy;
    size_t chunk;   /* the chunk in hand, when busy */
};

struct process_pool {
    struct worker *w;
    int n;
    struct process_pool *next;   /* in all_pools */
};

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
static _Thread_local bool spawning; /* this thread forks in spawn() */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
    if (!spawning)
        pthread_mutex_lock(&all_lock);
}

static void atfork_parent(void)
{
    if (!spawning)
        pthread_mutex_unlock(&all_lock);
}

/* In the child the lock is held by its only thread, the one that forked
 * (by the prepare handler, or by spawn() itself): let it go. */
static void atfork_child(void)
{
    pthread_mutex_unlock(&all_lock);
}

static void register_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- channel I/O: whole messages, EINTR retried ------------------------ */

/* Send every byte of iov[0..cnt). Returns 0 or an errno value. */
static int send_all(int fd, struct iovec *iov, int cnt)
{
    struct msghdr msg;

    while (cnt > 0) {
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)cnt;
        ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        size_t left = (size_t)sent;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* Read exactly len bytes. Returns 0, EPIPE at end of file, or an errno. */
static int recv_all(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t got = read(fd, p, len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (got == 0)
            return EPIPE;
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

/* ---- the worker side ---------------------------------------------------- */

/* A worker's buffers, grown to the largest chunk seen. Static, so that a
 * worker ended by SIGTERM (pool_terminate) still holds a pointer to them and
 * leak checkers see them as reachable, not lost. Only workers use them.
 * Results have a buffer of their own, so each is aligned as malloc aligns. */
static struct {
    char *args, *res;
    size_t args_cap, res_cap;
} wb;

/* Grow *buf to at least len bytes; _exit when memory runs out. */
static void grow(char **buf, size_t *cap, size_t len)
{
    if (len <= *cap)
        return;
    free(*buf);
    *buf = malloc(len);
    if (!*buf)
        _exit(3);
    *cap = len;
}

/* The worker's whole life: read a task, run it, send the reply; leave at
 * end of file, which is the parent closing the channel, or dying. */
static void worker_main(int fd)
{
    struct task_msg t;

    for (;;) {
        int err = recv_all(fd, &t, sizeof t);
        if (err) {
            /* End of file: the pool was closed, or the parent died. */
            free(wb.args);
            free(wb.res);
            _exit(err == EPIPE ? 0 : 1);
        }
        grow(&wb.args, &wb.args_cap, t.count * t.arg_size);
        grow(&wb.res, &wb.res_cap, t.count * t.result_size);
        if (recv_all(fd, wb.args, t.count * t.arg_size))
            _exit(1);

        struct reply_msg r;
        memset(&r, 0, sizeof r); /* no uninitialised padding on the wire */
        r.first = t.first;
        r.count = t.count;
        r.ran = run_items(t.fn, wb.args, t.arg_size, wb.res, t.result_size,
                          t.count, &r.err);

        struct iovec iov[2] = { { &r, sizeof r },
                                { wb.res, t.count * t.result_size } };
        if (send_all(fd, iov, t.result_size ? 2 : 1))
            _exit(0); /* the parent is gone: nobody wants the result */
    }
}

/* ---- the parent side ---------------------------------------------------- */

/* Fork a worker into slot k. Returns 0 or an errno value. */
static int spawn(struct process_pool *pp, int k)
{
    int sv[2], err;
    pid_t pid, parent = getpid();

    fflush(NULL);
    pthread_mutex_lock(&all_lock);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        err = errno;
        pthread_mutex_unlock(&all_lock);
        return err;
    }
    /* Room for a whole large chunk: with the default buffers (about 200
     * KiB) each MiB crosses in several block-and-wake rounds. The kernel
     * caps the size at net.core.wmem_max/rmem_max; a refusal only leaves
     * the default, so the return values do not matter. */
    int size = 1 << 20;
    for (int i = 0; i < 2; i++) {
        setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    spawning = true;
    pid = fork();
    if (pid == 0) {
        /* Die with the parent, even in the middle of a long task; and if it
         * is already gone, do not start. (Linux sends the signal when the
         * thread that forked us exits: see pool.h.) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(1);
        /* pool_terminate's SIGTERM must end us, whatever the caller made
         * of SIGTERM for itself. */
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        signal(SIGTERM, SIG_DFL);
        pthread_sigmask(SIG_UNBLOCK, &term, NULL);
        for (struct process_pool *p = all_pools; p; p = p->next)
            for (int i = 0; i < p->n; i++)
                if (p->w[i].fd >= 0) {
                    close(p->w[i].fd);
                    p->w[i].fd = -1; /* in our copy: the number may be reused */
                }
        close(sv[0]);
        worker_main(sv[1]);
    }
    err = errno;
    spawning = false;
    close(sv[1]);
    if (pid > 0) {
        pp->w[k].pid = pid;
        pp->w[k].fd = sv[0];
        pp->w[k].busy = false;
    } else {
        close(sv[0]);
    }
    pthread_mutex_unlock(&all_lock);
    return pid > 0 ? 0 : err;
}

/* Reap the worker in slot k, whose channel broke, and say how it died.
 * SIGKILL first: a worker whose channel broke is of no more use, and a task
 * may have closed the channel and still be running. One that has already
 * exited keeps its own status. */
static void reap(struct process_pool *pp, int k, char *why, size_t len)
{
    struct worker *w = &pp->w[k];
    int status = 0;
    pid_t pid = w->pid;

    kill(pid, SIGKILL);
    pid_t got;
    while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    int wait_err = got < 0 ? errno : 0;
    pthread_mutex_lock(&all_lock);
    close(w->fd);
    w->fd = -1;
    w->pid = 0;
    w->busy = false;
    pthread_mutex_unlock(&all_lock);
    if (why) {
        char how[80];
        if (wait_err) /* the caller reaped it, or ignores SIGCHLD: see pool.h */
            snprintf(how, sizeof how, "died (how is unknown: waitpid: %s)",
                     strerror(wait_err));
        else
            pool_describe_status(status, how, sizeof how);
        snprintf(why, len, "worker %d (pid %ld) %s", k, (long)pid, how);
    }
}

/* Give chunk c to the worker in slot k (alive and idle). Returns 0 or the
 * errno of the send, in which case the worker is unusable. */
static int give(struct process_pool *pp, int k, const struct pool_job *job,
                size_t c)
{
    struct task_msg t;
    struct iovec iov[2];

    memset(&t, 0, sizeof t);
    t.fn = job->fn;
    t.first = job_chunk_first(job, c);
    t.count = job_chunk_count(job, c);
    t.arg_size = job->arg_size;
    t.result_size = job->result_size;
    iov[0].iov_base = &t;
    iov[0].iov_len = sizeof t;
    iov[1].iov_base = job->arg_size ? (char *)job->args + t.first * job->arg_size
                                    : NULL;
    iov[1].iov_len = t.count * job->arg_size;
    int err = send_all(pp->w[k].fd, iov, job->arg_size ? 2 : 1);
    if (!err) {
        pp->w[k].busy = true;
        pp->w[k].chunk = c;
    }
    return err;
}

/* Read the reply of the busy worker in slot k into the caller's arrays. */
static int receive(struct process_pool *pp, int k, struct pool_job *job)
{
    struct reply_msg r;
    size_t c = pp->w[k].chunk;
    size_t first = job_chunk_first(job, c), count = job_chunk_count(job, c);
    int err;

    err = recv_all(pp->w[k].fd, &r, sizeof r);
    if (!err && (r.first != first || r.count != count || r.ran > count ||
                 (r.err ? r.ran == 0 : r.ran != count)))
        err = EPROTO;
    if (!err && job->result_size)
        err = recv_all(pp->w[k].fd, job->results + first * job->result_size,
                       count * job->result_size);
    if (err)
        return err;
    pp->w[k].busy = false;
    if (r.err) {
        job_fail(job, first + r.ran - 1, 1, r.err, NULL);
        job->nskipped += count - r.ran;
    }
    return 0;
}

/* Put a worker into every empty slot (after a death, or a failed fork).
 * A slot whose fork is refused stays empty until the next try. */
static void refill(struct process_pool *pp)
{
    for (int k = 0; k < pp->n; k++)
        if (pp->w[k].pid == 0)
            spawn(pp, k);
}

/* Hand chunk c to the idle slot k, forking a worker into it if it is empty.
 * A worker that cannot take the chunk died while idle: it is reaped and
 * replaced, once. Returns false when the slot cannot take work now (its
 * fork was refused); the chunk then waits for another worker. */
static bool assign(struct process_pool *pp, int k, struct pool_job *job,
                   size_t c)
{
    for (int tries = 0; tries < 2; tries++) {
        if (pp->w[k].pid == 0 && spawn(pp, k) != 0)
            return false;
        if (give(pp, k, job, c) == 0)
            return true;
        reap(pp, k, NULL, 0);
    }
    return false;
}

static int pp_map(struct pool *pool, struct pool_job *job)
{
    struct process_pool *pp = pool->impl;
    struct pollfd *pfd;
    int *slot;
    size_t next = 0;
    int err = 0;

    pfd = calloc((size_t)pp->n, sizeof *pfd);
    slot = calloc((size_t)pp->n, sizeof *slot);
    if (!pfd || !slot) {
        err = ENOMEM;
        pool_set_error(pool, "pool_map: out of memory");
        goto out;
    }

    for (;;) {
        /* Every idle slot takes the next chunk; m counts the busy ones. */
        int m = 0;
        for (int k = 0; k < pp->n; k++) {
            if (!pp->w[k].busy && next < job->nchunks &&
                assign(pp, k, job, next))
                next++;
            if (pp->w[k].busy) {
                pfd[m].fd = pp->w[k].fd;
                pfd[m].events = POLLIN;
                pfd[m].revents = 0;
                slot[m++] = k;
            }
        }
        if (m == 0)
            break; /* all done, or no worker could be started */

        if (poll(pfd, (nfds_t)m, -1) < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            pool_set_error(pool, "poll: %s", strerror(err));
            /* Replies still on their way would be read against the next
             * map's job: the busy workers go, and fresh ones come. */
            for (int i = 0; i < m; i++)
                reap(pp, slot[i], NULL, 0);
            refill(pp);
            goto out;
        }
        for (int i = 0; i < m; i++) {
            int k = slot[i];
            if (!pfd[i].revents || receive(pp, k, job) == 0)
                continue;
            /* End of file, or a broken reply: the worker is lost, and with
             * it the chunk it held. Its slot is refilled on the next pass. */
            char why[sizeof job->lost_why];
            size_t c = pp->w[k].chunk;
            reap(pp, k, why, sizeof why);
            job_fail(job, job_chunk_first(job, c), job_chunk_count(job, c),
                     EPIPE, why);
        }
    }
    /* Chunks that no worker could take: every fork was refused. */
    for (; next < job->nchunks; next++)
        job_fail(job, job_chunk_first(job, next), job_chunk_count(job, next),
                 EAGAIN, "no worker could be started (fork failed)");
    /* Fill the slots of workers lost in this map now, so the pool is whole
     * for the next one (a refused fork is tried again then). */
    refill(pp);
out:
    free(pfd);
    free(slot);
    return err;
}

static void pp_stop(struct pool *pool, bool terminate)
{
    struct process_pool *pp = pool->impl;

    pthread_mutex_lock(&all_lock);
    for (int k = 0; k < pp->n; k++) {
        if (terminate && pp->w[k].pid) {
            kill(pp->w[k].pid, SIGTERM);
            kill(pp->w[k].pid, SIGCONT); /* a stopped worker gets it too */
        }
        if (pp->w[k].fd >= 0) {
            close(pp->w[k].fd); /* end of file: an idle worker leaves */
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
        while (waitpid(pp->w[k].pid, NULL, 0) < 0) {
            /* ECHILD: the caller reaped it already (see pool.h): gone. */
            if (errno != EINTR) {
                if (!first && errno != ECHILD)
                    first = errno;
                break;
            }
        }
        pp->w[k].pid = 0;
    }
    return first;
}

static void pp_release(struct pool *pool)
{
    struct process_pool *pp = pool->impl;
    struct process_pool **p;

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

/* A copy's memory is all there is to release: the workers are the owner's,
 * and the descriptors are closed when this process exits or execs. */
static void pp_forget(struct pool *pool)
{
    pp_release(pool);
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
    for (int k = 0; k < pp->n; k++)
        pp->w[k].fd = -1;
    pool->impl = pp;
    pthread_mutex_lock(&all_lock);
    pp->next = all_pools;
    all_pools = pp;
    pthread_mutex_unlock(&all_lock);

    for (int k = 0; k < pp->n; k++) {
        err = spawn(pp, k);
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
