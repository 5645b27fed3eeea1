/* pool/process_worker.c - the worker's side of the process pool: read a task, run it, reply.
 *
 * Part of the process pool: pool/process.h gives the reading order of its
 * files; process_pool.c's header tells the whole story.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_sigmask, sigset_t */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"
#include "start.h"

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
    memset(t, 0, sizeof *t);
    ssize_t got = pp_recv_fd(fd, t, sizeof *t, passed);

    if (got < 0)
        return errno;
    if (got == 0)
        return EPIPE;
    return pp_recv_all(fd, (char *)t + got, sizeof *t - (size_t)got);
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
    if ((err = pp_recv_all(fd, wb.args, t->count * t->arg_size)))
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
    if ((err = pp_send_all(fd, iov, t->result_size ? 2 : 1, NULL)))
        channel_failed(err);
}

/* ---- the worker side, with a shared region ------------------------------ */

static struct shm_ctl *wshm; /* the region, once the parent sent one */
static long long wspin;      /* how long to watch it before sleeping (ns) */
static struct shm_queue *wqueue; /* the pool's queue: forked workers only */
static int wme;                  /* our name in it: slot + 1 */

void pp_worker_queue(struct shm_queue *queue, int me)
{
    wqueue = queue;
    wme = me;
}

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

/* Say in the region that task seq is done, and ring if the parent sleeps. */
static void task_done(int fd, unsigned seq)
{
    struct shm_ctl *c = wshm;
    int err;

    atomic_store(&c->done_seq, seq);
    /* The look (seq_cst, after the store) decides; the exchange, only when
     * the parent sleeps, decides who takes the flag back. */
    if (atomic_load(&c->parent_sleeping) &&
        atomic_exchange(&c->parent_sleeping, 0)) {
        struct reply_msg bell;
        memset(&bell, 0, sizeof bell);
        bell.op = REPLY_BELL;
        struct iovec iov = { &bell, sizeof bell };
        if ((err = pp_send_all(fd, &iov, 1, NULL)))
            channel_failed(err);
    }
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
    task_done(fd, seq);
}

/* Take chunks from the pool's queue until none is free: run each one's
 * items in place, and record what came of it. A chunk stays ours until it
 * is marked done: if we die running it, the parent loses that one. The
 * map is read once, and checked against the region's end: a task may
 * scribble on it. No more claims than the map has chunks. */
static void serve_queue(int fd, unsigned seq, const struct stat *channel)
{
    struct shm_queue *q = wqueue;
    pool_fn *fn = q ? q->fn : NULL;
    size_t n = q ? q->n : 0, size = q ? q->chunksize : 0;
    size_t nchunks = q ? q->nchunks : 0;
    size_t as = q ? q->arg_size : 0, rs = q ? q->result_size : 0;
    size_t c;

    if (!q || size == 0 || nchunks != n / size + (n % size != 0) ||
        !shm_queue_fits(n, nchunks, as, rs))
        worker_exit(WORKER_LOST_CHANNEL);
    char *args = shm_queue_args(q, nchunks);
    char *results = shm_queue_results(q, n, nchunks, as);
    for (size_t claims = 0;
         claims < nchunks && (c = shm_queue_claim(q, nchunks, wme)) != SIZE_MAX;
         claims++) {
        size_t first = c * size;
        size_t count = n - first < size ? n - first : size;
        int err;
        size_t ran = run_items(fn, as ? args + first * as : NULL, as,
                               rs ? results + first * rs : NULL, rs, count,
                               &err);
        fflush(NULL);
        if (!same_channel(fd, channel))
            worker_exit(WORKER_LOST_CHANNEL);
        shm_queue_finish(q, c, ran, err);
    }
    task_done(fd, seq);
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
        case SHM_QUEUE:
            serve_queue(fd, seen, channel);
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

