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
 * Reading order, from a program's main down to fork() and back:
 *   1. pool_open (pool.c) calls pool->ops->start, which for processes is
 *      pp_start (at the bottom of this file): one start_slot() per worker.
 *   2. start_slot() makes the channel (make_channel) and forks (or, under
 *      spawn and forkserver, has start.c start a fresh image). The parent
 *      keeps one end; a forked child calls become_worker(), a fresh image
 *      reaches pp_worker_main() through pool_main(); neither returns.
 *   3. become_worker() cuts the child loose from the parent's other
 *      channels; pp_worker_main() ties it to the parent's life and to
 *      SIGTERM, then runs worker_main(): read a task, run it (run_items,
 *      pool.c), send the reply, until told to stop. With a region it runs
 *      serve_region(): await_task() watches, then sleeps; the task is run
 *      in place and done_seq published.
 *   4. pool_map (pool.c) calls ops->map = pp_map: deal(), assign() and
 *      give() hand out chunks (publish() into a region), spin_wait()
 *      watches the regions, sleep_wait() poll()s, receive() and
 *      receive_region() take replies in, worker_died() and channel_broke()
 *      deal with a death.
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
#define _POSIX_C_SOURCE 200809L /* F_DUPFD_CLOEXEC, MSG_NOSIGNAL, kill, ... */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool_impl.h"
#include "shm_channel.h"
#include "start.h"

/* A worker that leaves on its own says why in its exit status, so that the
 * parent can report the first cause. (A task that calls _exit with one of
 * these is taken at its word.) */
enum {
    WORKER_LOST_CHANNEL = 121, /* a task closed or replaced the channel */
    WORKER_NO_MEMORY = 122,    /* no room for a chunk's arguments or results */
};

/* What the parent sends: a header whose op says what it is.
 *   MSG_TASK  then count * arg_size bytes. The function pointer is valid in
 *             a worker fork copied from the caller; a fresh image (spawn,
 *             forkserver: start.c) looks the task up by its index instead.
 *   MSG_STOP  CPython's sentinel, None: the worker leaves.
 *   MSG_SHM   the first message, when the pool spins: the worker's shared
 *             region rides along (SCM_RIGHTS); count is its size, first the
 *             worker's spin budget in ns (0: it never spins).
 *   MSG_WAKE  a task is in the region: sent only to a worker that said it
 *             sleeps (shm_channel.h), so it is always expected. */
enum { MSG_TASK, MSG_STOP, MSG_SHM, MSG_WAKE };
struct task_msg {
    int op;
    pool_fn *fn;
    size_t task;
    size_t first, count, arg_size, result_size;
};

/* What a worker sends back. REPLY_DATA: a header, then count * result_size
 * bytes of results. The chunk stops at its first failing item, as CPython's
 * list(map(f, chunk)): `ran` items ran, and err is the last one's error
 * (0 when all succeeded). Items that failed or never ran come back zeroed.
 * REPLY_BELL: the results are in the region, and the parent said it sleeps
 * (it may find them before it reads the bell: a bell can be left over). */
enum { REPLY_DATA, REPLY_BELL };
struct reply_msg {
    int op;
    int err;
    size_t first, count, ran;
};

struct worker {
    pid_t pid;      /* 0: the slot is empty (its fork failed) */
    int fd;         /* the parent's end of the channel; -1 when closed */
    bool busy;
    size_t chunk;   /* the chunk in hand, when busy */
    bool fresh;     /* forked during this map, no chunk done yet */
    bool benched;   /* a fresh worker died here: no more forks this map */
    struct shm_ctl *shm; /* its shared region; NULL: all through the socket */
    unsigned seq;   /* the last task published in the region */
    bool in_region; /* the chunk in hand travels through the region */
};

struct process_pool {
    struct worker *w;
    int n;
    enum pool_start start;       /* how its workers are started */
    long long spin_ns;           /* POOL_SPIN_US; 0: no regions, no spin */
    int cpus;
    atomic_llong calm_from;      /* the parent spins not before (ns) */
    size_t *back;                /* chunks to give again: their worker */
    int nback;                   /*   died before it took them */
    struct process_pool *next;   /* in all_pools */
    /* Why the map ran out of workers, if it does: */
    int fork_err;                /* the last fork refused in this map */
    int death_err;               /* the last death that benched a slot */
    char death[POOL_WHY_LEN];    /* ... in words */
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
static _Thread_local bool starting; /* this thread forks in start_slot() */
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
 * (by the prepare handler, or by start_slot() itself): let it go. */
static void atfork_child(void)
{
    pthread_mutex_unlock(&all_lock);
}

static void register_atfork(void)
{
    start_atfork(); /* first, so that every fork locks in start_slot()'s order */
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* While a worker is awake, sleeping workers get a chunk only this late. */
#define WAKE_AFTER_NS 50000

/* ---- channel I/O: whole messages, EINTR retried ------------------------ */

/* Send every byte of iov[0..cnt). Returns 0 or an errno value; *sent
 * (unless NULL) tells whether any byte went out. */
static int send_all(int fd, struct iovec *iov, int cnt, bool *sent)
{
    struct msghdr msg;

    if (sent)
        *sent = false;
    while (cnt > 0) {
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)cnt;
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (sent && n > 0)
            *sent = true;
        size_t left = (size_t)n;
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

static _Noreturn void worker_exit(int status);

/* Grow *buf to at least len bytes. Out of memory, the worker leaves with a
 * status that says so: the parent reports it, and does not fork the same
 * death again and again within one map. */
static void grow(char **buf, size_t *cap, size_t len)
{
    if (len <= *cap)
        return;
    free(*buf);
    *cap = 0;
    *buf = malloc(len);
    if (!*buf)
        worker_exit(WORKER_NO_MEMORY);
    *cap = len;
}

/* Leave: the pool said so, or it is gone. What tasks printed is flushed,
 * as CPython's workers flush stdout and stderr when they leave
 * (Lib/multiprocessing/process.py, BaseProcess._bootstrap, 3.11); _exit
 * would drop it. Every way out that is not a crash comes here. */
static _Noreturn void worker_exit(int status)
{
    fflush(NULL);
    free(wb.args);
    free(wb.res);
    _exit(status);
}

/* Leave after a failed read or write on the channel: at end of file or
 * EPIPE the parent is gone or done with us; anything else (EBADF,
 * ENOTSOCK) means a task closed the channel. */
static _Noreturn void channel_failed(int err)
{
    worker_exit(err == EPIPE ? 0 : WORKER_LOST_CHANNEL);
}

/* Whether fd is still the channel a task may have closed, or closed and
 * reopened as something else: the reply must not go into a task's file. */
static bool same_channel(int fd, const struct stat *was)
{
    struct stat now;

    return fstat(fd, &now) == 0 && now.st_dev == was->st_dev &&
           now.st_ino == was->st_ino;
}

/* Read one header from the parent, and the descriptor it may carry
 * (*passed, -1 if none). Returns 0, EPIPE at end of file, or an errno. */
static int recv_header(int fd, struct task_msg *t, int *passed)
{
    union { /* aligned as a cmsghdr must be */
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { t, sizeof *t };
    struct msghdr msg;
    ssize_t got;

    *passed = -1;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    while ((got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0)
        if (errno != EINTR)
            return errno;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(passed, CMSG_DATA(c), sizeof *passed);
    if (got == 0)
        return EPIPE;
    return recv_all(fd, (char *)t + got, sizeof *t - (size_t)got);
}

/* The next header, which must be one of these ops (a descriptor nobody
 * asked for is closed). End of file or an error on the channel ends the
 * worker, and so does the stop message. */
static void next_header(int fd, struct task_msg *t, int want)
{
    int passed, err = recv_header(fd, t, &passed);

    if (passed >= 0)
        close(passed);
    if (err)
        channel_failed(err);
    if (t->op == MSG_STOP)
        worker_exit(0);
    if (t->op != want)
        worker_exit(WORKER_LOST_CHANNEL); /* not our parent's words */
}

/* A chunk that came on the socket: read its arguments, run it, send the
 * results back the same way. */
static void serve_socket_task(int fd, const struct task_msg *t,
                              const struct stat *channel)
{
    int err;

    grow(&wb.args, &wb.args_cap, t->count * t->arg_size);
    grow(&wb.res, &wb.res_cap, t->count * t->result_size);
    if ((err = recv_all(fd, wb.args, t->count * t->arg_size)))
        channel_failed(err);

    struct reply_msg r;
    memset(&r, 0, sizeof r); /* no uninitialised padding on the wire */
    r.op = REPLY_DATA;
    r.first = t->first;
    r.count = t->count;
    r.ran = run_items(start_task_fn(t->fn, t->task), wb.args, t->arg_size,
                      wb.res, t->result_size, t->count, &r.err);
    /* Also after each chunk, before its reply: by the time the map
     * returns, what its tasks printed is out, and pool_terminate's
     * SIGTERM finds nothing left in a buffer. */
    fflush(NULL);
    if (!same_channel(fd, channel))
        worker_exit(WORKER_LOST_CHANNEL);

    struct iovec iov[2] = { { &r, sizeof r },
                            { wb.res, t->count * t->result_size } };
    if ((err = send_all(fd, iov, t->result_size ? 2 : 1, NULL)))
        channel_failed(err);
}

/* ---- the worker side, with a shared region ------------------------------ */

static struct shm_ctl *wshm; /* the region, once the parent sent one */
static long long wspin;      /* how long to watch it before sleeping (ns) */

/* Wait until the parent publishes a task past *seen: watch the region
 * while spinning is allowed, then say so and sleep in read() on the
 * socket. The parent looks at worker_sleeping after it publishes (both
 * seq_cst), we publish worker_sleeping before our last look: one of us
 * sees the other, so no wake-up is lost; whoever takes the flag back
 * (exchange) decides whether a MSG_WAKE is owed, so none is ever left
 * over. */
static void await_task(int fd, unsigned *seen, bool spin)
{
    struct shm_ctl *c = wshm;
    struct task_msg t = { 0 };

    if (spin && shm_may_spin(wspin, &c->calm_from)) {
        struct shm_spin s = shm_spin_start(wspin, &c->calm_from);
        do {
            if (atomic_load_explicit(&c->task_seq, memory_order_acquire) !=
                *seen) {
                shm_spin_end(&s);
                *seen = atomic_load_explicit(&c->task_seq,
                                             memory_order_acquire);
                return;
            }
        } while (shm_spin_on(&s));
    }
    atomic_store(&c->worker_sleeping, 1);
    if (atomic_load(&c->task_seq) == *seen ||
        atomic_exchange(&c->worker_sleeping, 0) == 0)
        next_header(fd, &t, MSG_WAKE); /* the parent took the flag */
    *seen = atomic_load_explicit(&c->task_seq, memory_order_acquire);
}

/* Run the task in the region and put the results beside it; then publish
 * done_seq and ring if the parent sleeps. The region is the parent's to
 * trust nothing in; we trust the parent, but not past the region's end. */
static void serve_region_task(int fd, unsigned seq,
                              const struct stat *channel)
{
    struct shm_ctl *c = wshm;
    size_t count = c->count, as = c->arg_size, rs = c->result_size;
    int err;

    atomic_store_explicit(&c->taken_seq, seq, memory_order_relaxed);
    if (!shm_fits(count, as, rs))
        worker_exit(WORKER_LOST_CHANNEL);
    c->r_first = c->first;
    c->r_count = count;
    c->r_ran = run_items(start_task_fn(c->fn, c->task),
                         as ? shm_args(c) : NULL, as,
                         rs ? shm_results(c, count, as) : NULL, rs, count,
                         &err);
    c->r_err = err;
    fflush(NULL); /* as after a chunk on the socket */
    /* A task that closed the channel loses its chunk, as on the socket. */
    if (!same_channel(fd, channel))
        worker_exit(WORKER_LOST_CHANNEL);
    atomic_store(&c->done_seq, seq);
    /* The look (seq_cst, after the store) decides; the exchange, only when
     * the parent sleeps, decides who takes the flag back. */
    if (atomic_load(&c->parent_sleeping) &&
        atomic_exchange(&c->parent_sleeping, 0)) {
        struct reply_msg bell;
        memset(&bell, 0, sizeof bell);
        bell.op = REPLY_BELL;
        struct iovec iov = { &bell, sizeof bell };
        if ((err = send_all(fd, &iov, 1, NULL)))
            channel_failed(err);
    }
}

/* The worker's life once it has a region: every task (or stop) is
 * announced there, also a chunk too big for it, which then follows on the
 * socket. */
static _Noreturn void serve_region(int fd, const struct stat *channel)
{
    unsigned seen = 0;
    bool spin = true;
    struct task_msg t = { 0 };

    for (;;) {
        await_task(fd, &seen, spin);
        spin = wshm->spin_after;
        switch (wshm->op) {
        case SHM_TASK:
            serve_region_task(fd, seen, channel);
            break;
        case SHM_SOCKET:
            atomic_store_explicit(&wshm->taken_seq, seen,
                                  memory_order_relaxed);
            next_header(fd, &t, MSG_TASK);
            serve_socket_task(fd, &t, channel);
            break;
        case SHM_STOP:
            worker_exit(0);
        default:
            worker_exit(WORKER_LOST_CHANNEL);
        }
    }
}

/* The worker's whole life: read a task, run it, send the reply. Leave on
 * the stop message that pool_close sends, or at end of file (the parent
 * died, or closed the channel without a word). Not only at end of file: a
 * child the caller forked holds copies of the parent's channel ends, and
 * end of file then comes only when that child exits too. A pool that spins
 * sends a region first: from then on, serve_region. */
static _Noreturn void worker_main(int fd)
{
    struct task_msg t = { 0 };
    struct stat channel;
    int passed;

    if (fstat(fd, &channel) < 0)
        worker_exit(WORKER_LOST_CHANNEL);
    for (;;) {
        int err = recv_header(fd, &t, &passed);
        if (passed >= 0 && t.op != MSG_SHM) {
            close(passed);
            passed = -1;
        }
        if (err)
            channel_failed(err);
        switch (t.op) {
        case MSG_STOP:
            worker_exit(0);
        case MSG_TASK:
            serve_socket_task(fd, &t, &channel);
            break;
        case MSG_SHM:
            wshm = passed >= 0 ? shm_map(passed, t.count) : NULL;
            if (passed >= 0)
                close(passed);
            if (!wshm)
                worker_exit(WORKER_NO_MEMORY);
            wspin = (long long)t.first;
            serve_region(fd, &channel);
        default:
            worker_exit(WORKER_LOST_CHANNEL);
        }
    }
}

/* A worker's start, forked here or from a fresh image (start.c): die with
 * the parent, even in the middle of a long task, and do not start if it is
 * already gone (Linux sends the signal when the thread that started us
 * exits: see pool.h); let pool_terminate's SIGTERM end us, whatever the
 * caller made of SIGTERM for itself; then serve the channel. */
void pp_worker_main(int fd, pid_t parent)
{
    sigset_t term;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(1);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &term, NULL);
    worker_main(fd);
    _exit(1);
}

/* ---- the parent side ---------------------------------------------------- */

/* Move fd to 3 or above (close-on-exec), closing the original. A program
 * started with stdin, stdout or stderr closed would otherwise get a channel
 * there, and then write its own output into a worker. Returns the new
 * descriptor, or -1 with errno set. */
int pp_above_stdio(int fd)
{
    if (fd > STDERR_FILENO)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int err = errno;
    close(fd);
    errno = err;
    return moved;
}

/* A new channel, both ends at 3 or above. Returns 0 or an errno value. */
static int make_channel(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return errno;
    sv[0] = pp_above_stdio(sv[0]);
    sv[1] = pp_above_stdio(sv[1]);
    if (sv[0] < 0 || sv[1] < 0) {
        int err = errno;
        if (sv[0] >= 0)
            close(sv[0]);
        if (sv[1] >= 0)
            close(sv[1]);
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
    return 0;
}

/* Send the worker in slot k its shared region, when the pool spins. The
 * memfd is made after the fork and closed once sent, under all_lock: no
 * other child gets it. Without a region (memfd refused, the worker gone)
 * the worker goes through the socket only, as with POOL_SPIN_US=0. Only
 * workers that leave a CPU for the parent spin (cpus - 1 of them); the
 * others sleep as soon as they are idle. */
static void offer_region(struct process_pool *pp, int k)
{
    struct worker *w = &pp->w[k];
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct task_msg t;
    struct iovec iov = { &t, sizeof t };
    struct msghdr msg;
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
    memset(&msg, 0, sizeof msg);
    memset(&u, 0, sizeof u);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &mfd, sizeof mfd);
    ssize_t sent;
    while ((sent = sendmsg(w->fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    close(mfd);
    if (sent == (ssize_t)sizeof t)
        w->shm = ctl;
    else
        shm_unmap(ctl); /* gone already: the first give finds out */
}

/* The child's side of start_slot(): cut loose from what the parent holds, then
 * be a worker until told to stop. fd is our end of the channel, other_end
 * the parent's. start_slot() held all_lock across the fork, so our copy of the
 * list of pools is whole, and we are its only thread. Never returns. */
static _Noreturn void become_worker(int fd, int other_end, pid_t parent)
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
    pp_worker_main(fd, parent);
}

/* Start a worker into slot k, by the pool's start method. Returns 0 or an
 * errno value. */
static int start_slot(struct process_pool *pp, int k)
{
    int sv[2], err;
    pid_t pid, parent = getpid();

    fflush(NULL);
    pthread_mutex_lock(&all_lock);
    if ((err = make_channel(sv))) {
        pthread_mutex_unlock(&all_lock);
        return err;
    }
    starting = true;
    /* fork: a copy of us. spawn, forkserver: a fresh image (start.c),
     * which reaches pp_worker_main() through pool_main(). */
    pid = pp->start == POOL_START_FORK ? fork()
                                       : start_worker(pp->start, sv[1]);
    if (pid == 0)
        become_worker(sv[1], sv[0], parent);
    err = errno;
    starting = false;
    close(sv[1]);
    if (pid > 0) {
        pp->w[k].pid = pid;
        pp->w[k].fd = sv[0];
        pp->w[k].busy = false;
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
static int reap(struct process_pool *pp, int k, char *why, size_t len)
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
static int publish(struct worker *w, const struct task_msg *t,
                   const char *args, bool fits, bool spin_after)
{
    struct shm_ctl *c = w->shm;
    struct task_msg wake;

    c->op = fits ? SHM_TASK : SHM_SOCKET;
    c->spin_after = spin_after;
    c->fn = t->fn;
    c->task = t->task;
    c->first = t->first;
    c->count = t->count;
    c->arg_size = t->arg_size;
    c->result_size = t->result_size;
    if (fits && t->arg_size)
        memcpy(shm_args(c), args, t->count * t->arg_size);
    /* seq_cst, before the look at worker_sleeping: see await_task(). */
    atomic_store(&c->task_seq, ++w->seq);
    if (!atomic_load(&c->worker_sleeping) ||
        atomic_exchange(&c->worker_sleeping, 0) == 0)
        return 0; /* awake: it sees the task at its next look */
    memset(&wake, 0, sizeof wake);
    wake.op = MSG_WAKE;
    struct iovec iov = { &wake, sizeof wake };
    return send_all(w->fd, &iov, 1, NULL);
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
    if (w->shm) {
        /* The worker may watch for its next task afterwards only if the
         * busy workers and we leave it a CPU (more spinners than CPUs keep
         * the CPUs from the ones they wait for). */
        int busy = 2; /* this worker and the parent */
        for (int j = 0; j < pp->n; j++)
            busy += j != k && pp->w[j].busy;
        err = publish(w, &t, args, w->in_region, busy <= pp->cpus);
    }
    if (!err && !w->in_region) {
        iov[0].iov_base = &t;
        iov[0].iov_len = sizeof t;
        iov[1].iov_base = (void *)args;
        iov[1].iov_len = t.count * job->arg_size;
        err = send_all(w->fd, iov, job->arg_size ? 2 : 1, started);
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
        err = recv_all(pp->w[k].fd, job->results + first * job->result_size,
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
static void lose_chunk(struct pool_job *job, size_t c, int err,
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
            start_slot(pp, k);
}

/* The worker in slot k died in the middle of a map, holding chunk c (or
 * none, c == SIZE_MAX): reap it, say how, lose the chunk. A fresh worker
 * that died before finishing anything would most likely die the same way
 * again (out of memory for these items, say): its slot gets no new worker
 * until the map is over. */
static void worker_died(struct process_pool *pp, int k, struct pool_job *job,
                        size_t c)
{
    char why[POOL_WHY_LEN];
    bool fresh = pp->w[k].fresh;
    int err = reap(pp, k, why, sizeof why);

    if (c != SIZE_MAX)
        lose_chunk(job, c, err, why);
    if (fresh) {
        pp->w[k].benched = true;
        pp->death_err = err;
        snprintf(pp->death, sizeof pp->death, "%s", why);
    }
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
            int err = start_slot(pp, k);
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
            reap(pp, k, NULL, 0);
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

/* Chunks that no worker could take: forks were refused, or every slot is
 * benched. */
static void lose_rest(struct process_pool *pp, struct pool_job *job,
                      size_t next)
{
    char why[POOL_WHY_LEN];
    int err;

    if (!chunks_left(pp, job, next))
        return;
    if (pp->fork_err) {
        err = pp->fork_err;
        snprintf(why, sizeof why, "no worker could be started (fork failed: "
                 "%s)", strerror(err));
    } else {
        err = pp->death_err ? pp->death_err : EPIPE;
        snprintf(why, sizeof why, "no worker left: %.*s",
                 (int)(sizeof why - 20), pp->death);
    }
    for (; chunks_left(pp, job, next); take_chunk(pp, &next))
        lose_chunk(job, peek_chunk(pp, next), err, why);
}

/* Does the worker in slot k sleep on its socket (so a chunk costs it a
 * wake-up)? */
static bool asleep(const struct worker *w)
{
    return w->shm && atomic_load_explicit(&w->shm->worker_sleeping,
                                          memory_order_relaxed);
}

/* Workers awake: working, or watching their region for the next task. */
static int awake_workers(const struct process_pool *pp)
{
    int awake = 0;

    for (int k = 0; k < pp->n; k++)
        awake += pp->w[k].pid && pp->w[k].shm && !asleep(&pp->w[k]);
    return awake;
}

/* Every idle slot takes the next chunk, except that a sleeping worker is
 * passed over (*skipped) while another is awake, unless `wake_all`: the
 * awake one will likely do the work before a wake-up would have landed.
 * pfd and slot get the busy workers; returns how many. */
static int deal(struct process_pool *pp, struct pool_job *job, size_t *next,
                bool wake_all, struct pollfd *pfd, int *slot, bool *skipped)
{
    bool pass_sleepers = !wake_all && awake_workers(pp) > 0;
    int m = 0;

    for (int k = 0; k < pp->n; k++) {
        struct worker *w = &pp->w[k];
        if (!w->busy && chunks_left(pp, job, *next) && pass_sleepers &&
            asleep(w))
            *skipped = true;
        else /* again when the worker died taking one */
            while (!w->busy && chunks_left(pp, job, *next) &&
                   assign(pp, k, job, peek_chunk(pp, *next)))
                take_chunk(pp, next);
        if (w->busy) {
            pfd[m].fd = w->fd;
            pfd[m].events = POLLIN;
            pfd[m].revents = 0;
            slot[m++] = k;
        }
    }
    return m;
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
        reap(pp, k, NULL, 0); /* died after its last reply */
    } else if (w->in_region &&
               atomic_load(&w->shm->taken_seq) != w->seq) {
        pp->back[pp->nback++] = w->chunk;
        if (w->fresh)
            worker_died(pp, k, job, SIZE_MAX);
        else
            reap(pp, k, NULL, 0);
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

/* Watch the busy workers' regions for up to POOL_SPIN_US, while the awake
 * workers leave a CPU for us. `wake_at` (ns, 0: never) is when the
 * sleepers passed over should be woken after all. Returns true when a
 * reply came in; false: stop watching (sleep, or wake the sleepers). */
static bool spin_wait(struct process_pool *pp, struct pool_job *job,
                      long long wake_at)
{
    bool any = false;

    for (int k = 0; k < pp->n; k++)
        any |= pp->w[k].busy && pp->w[k].in_region;
    if (!any || !shm_may_spin(pp->spin_ns, &pp->calm_from) ||
        awake_workers(pp) >= pp->cpus)
        return false;
    struct shm_spin s = shm_spin_start(pp->spin_ns, &pp->calm_from);
    bool got = false;
    for (;;) {
        if (collect(pp, job)) {
            shm_spin_end(&s);
            got = true;
            break;
        }
        if (!shm_spin_on(&s))
            break;
        if (s.looks % 64 == 0 &&
            (awake_workers(pp) >= pp->cpus || (wake_at && s.last > wake_at)))
            break;
    }
    /* A preemption stops the workers' spinning too: the CPUs are wanted. */
    long long calm = atomic_load(&pp->calm_from);
    for (int k = 0; k < pp->n; k++)
        if (pp->w[k].shm && atomic_load(&pp->w[k].shm->calm_from) < calm)
            atomic_store(&pp->w[k].shm->calm_from, calm);
    return got;
}

/* Sleep until a busy worker has news: say so in each region, look once
 * more (a worker that finishes after this look sees the flag and rings),
 * then poll() the channels. A readable channel holds a reply, a bell, or
 * end of file (the worker died). Returns 0, or the errno of poll. */
static int sleep_wait(struct process_pool *pp, struct pool_job *job,
                      struct pollfd *pfd, const int *slot, int m)
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
    if (err)
        return err;
    collect(pp, job);
    for (int i = 0; i < m; i++) {
        int k = slot[i];
        struct reply_msg r;
        if (!pfd[i].revents || pp->w[k].pid == 0)
            continue;
        int e = recv_all(pp->w[k].fd, &r, sizeof r);
        if (!e && r.op == REPLY_BELL)
            continue; /* the region said it already, or will */
        if (!e)
            e = pp->w[k].busy && !pp->w[k].in_region ? receive(pp, k, job, &r)
                                                      : EPROTO;
        if (e)
            channel_broke(pp, k, job);
    }
    return 0;
}

static int pp_map(struct pool *pool, struct pool_job *job)
{
    struct process_pool *pp = pool->impl;
    struct pollfd *pfd;
    int *slot;
    size_t next = 0;
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
        pp->w[k].fresh = pp->w[k].benched = false;

    /* Without spinning every idle worker gets a chunk at once, as always. */
    bool wake_all = pp->spin_ns == 0;
    long long wake_at = wake_all ? 0 : shm_now_ns() + WAKE_AFTER_NS;
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
        if (err == EINTR) {
            err = 0;
            continue;
        }
        if (err) {
            pool_set_error(pool, "poll: %s", strerror(err));
            /* Replies still on their way would be read against the next
             * map's job: the busy workers go, and fresh ones come. */
            for (int i = 0; i < m; i++)
                reap(pp, slot[i], NULL, 0);
            refill(pp);
            goto out;
        }
    }
    lose_rest(pp, job, next);
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
                send_all(pp->w[k].fd, &iov, 1, NULL); /* a dead one: EPIPE */
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
    pp->next = all_pools;
    all_pools = pp;
    pthread_mutex_unlock(&all_lock);

    for (int k = 0; k < pp->n; k++) {
        err = start_slot(pp, k);
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
